"""Off-policy evaluation: how good would another policy have been, from the logs of the one that ran?

Main entry point: :func:`evaluate_policy` (every estimator on one shared set of resamples, with
intervals and weight diagnostics). Estimators are small frozen dataclasses (:mod:`.estimators`);
reward models are cross-fitted by default (:mod:`.reward_models`); :mod:`.policies` turns models
and scores into target distributions; :mod:`.selection` chooses estimators (SLOPE) and policies.
"""
from .estimators import (ESTIMATORS, DirectMethod, DoublyRobust, DoublyRobustWithShrinkage, InverseProbabilityWeighting,
                         MarginalizedIPS, OffPolicyEstimator, OPEInputs, SelfNormalizedDR, SelfNormalizedIPS,
                         SubGaussianIPS, SwitchDR, make_estimator)
from .evaluate import (INTERVALS, OPEDiagnosticWarning, bernstein_interval, estimate_from_inputs, evaluate_policy,
                       prepare_inputs, weight_diagnostics)
from .policies import (DeterministicPolicy, EpsilonGreedyPolicy, GreedyPolicy, GreedyRankingPolicy,
                       ModelProbabilityPolicy, SoftmaxPolicy, UniformPolicy, policy_scores)
from .reward_models import RewardModelScorer, cross_fit_predict, design_matrix, fit_reward_scorer
from .selection import (EstimatorBenchmark, PolicyComparison, SlopeResult, benchmark_estimators, compare_policies,
                        slope_select, summarise_replicates, threshold_family)

# continuous and distributional estimators: see continuous.py / distributional.py
from .continuous import (CONTINUOUS_ESTIMATORS, ContinuousRewardModel, bandwidth_monte_carlo, bandwidth_sweep,
                         evaluate_continuous_policy, kernel_estimate, smoothed_policy_weights)
from .distributional import OffPolicyCDF, importance_weights, off_policy_cdf, off_policy_cdf_from_weights

__all__ = [
    "evaluate_policy", "prepare_inputs", "estimate_from_inputs", "weight_diagnostics", "bernstein_interval",
    "OPEDiagnosticWarning", "INTERVALS",
    "OffPolicyEstimator", "OPEInputs", "ESTIMATORS", "make_estimator", "DirectMethod", "InverseProbabilityWeighting",
    "SelfNormalizedIPS", "DoublyRobust", "SelfNormalizedDR", "SwitchDR", "DoublyRobustWithShrinkage",
    "SubGaussianIPS", "MarginalizedIPS",
    "UniformPolicy", "GreedyPolicy", "EpsilonGreedyPolicy", "SoftmaxPolicy", "ModelProbabilityPolicy",
    "DeterministicPolicy", "GreedyRankingPolicy", "policy_scores",
    "cross_fit_predict", "design_matrix", "fit_reward_scorer", "RewardModelScorer",
    "evaluate_continuous_policy", "kernel_estimate", "bandwidth_sweep", "bandwidth_monte_carlo",
    "smoothed_policy_weights", "ContinuousRewardModel", "CONTINUOUS_ESTIMATORS",
    "off_policy_cdf", "off_policy_cdf_from_weights", "OffPolicyCDF", "importance_weights",
    "slope_select", "SlopeResult", "threshold_family", "compare_policies", "PolicyComparison",
    "benchmark_estimators", "EstimatorBenchmark", "summarise_replicates",
]
