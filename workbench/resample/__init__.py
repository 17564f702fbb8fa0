"""Resampling, cross-validation and statistical comparison of models and learning algorithms.

* :func:`bootstrap_ci`, :func:`bootstrap_intervals`: bootstrap intervals (percentile, basic, BCa
  in O(n), studentized, normal) for means, ratios and any statistic; multinomial, Poisson and
  cluster bootstrap on the shared engine.
* :func:`compare_models`, :func:`model_confidence_set`: many models on one test set.
* :func:`mcnemar_test`, :func:`paired_difference_interval` (Newcombe, Tango, Wald, Agresti-Min),
  :func:`cochrans_q`: classifiers on one test set.
* :func:`paired_t_5x2cv`, :func:`f_test_5x2cv`, :func:`corrected_resampled_t_test`,
  :func:`bayesian_correlated_t_test`: two learning algorithms.
* :func:`friedman_test`, :func:`nemenyi_test`, :func:`wilcoxon_holm_test`: many algorithms over
  many data sets (critical-difference diagram: :func:`workbench.plotting.critical_difference_diagram`).
* :class:`BootstrapSplit`, :func:`bootstrap_error` (OOB, .632, .632+ with delta-method standard
  errors and an interval; :func:`oob_delta_se`).
* :func:`repeated_cv`, :func:`nested_cv`, :func:`ncv_interval`, :func:`learning_curve_ci`.
* :func:`temporal_scores`, :func:`temporal_backtest`, :func:`period_losses`: choosing among historical
  models over time.

Functions that fit models and take ``random_state`` seed a copy of a model whose own ``random_state``
is None (a random forest, also inside a pipeline or search) from it, so the same ``random_state`` gives
the same answer and numpy's global state is never drawn from; a model seeded by the user is used as
given. The seed depends on ``random_state`` and the parameter's name only, so the estimator route of a
two-algorithm test and its ``repeated_cv`` route fit the same models.
"""
from ._result import TestResult
from .bootstrap import METHODS, BootstrapResult, bootstrap_ci, bootstrap_intervals
from .compare import ModelComparison, ModelConfidenceSet, compare_models, model_confidence_set
from .cv import CVResult, NestedCVResult, learning_curve_ci, ncv_interval, nested_cv, repeated_cv
from .cvtests import (bayesian_correlated_t_test, corrected_resampled_t_test, cv_scores_two, f_test_5x2cv,
                      paired_t_5x2cv, scores_from_cv_results)
from .mcnemar import cochrans_q, mcnemar_table, mcnemar_test, paired_difference_interval, tango_score_statistic
from .oob import BootstrapErrorResult, BootstrapSplit, bootstrap_error, oob_delta_se, point632plus
from .simulate import null_cv_scores
from .ranks import RankTestResult, critical_difference, friedman_test, nemenyi_test, wilcoxon_holm_test
from .temporal import period_losses, temporal_backtest, temporal_scores

__all__ = [
    "METHODS", "BootstrapResult", "bootstrap_ci", "bootstrap_intervals",
    "ModelComparison", "ModelConfidenceSet", "compare_models", "model_confidence_set",
    "CVResult", "NestedCVResult", "repeated_cv", "nested_cv", "ncv_interval", "learning_curve_ci",
    "TestResult", "cv_scores_two", "scores_from_cv_results", "paired_t_5x2cv", "f_test_5x2cv",
    "corrected_resampled_t_test", "bayesian_correlated_t_test",
    "mcnemar_table", "mcnemar_test", "paired_difference_interval", "tango_score_statistic", "cochrans_q",
    "BootstrapSplit", "BootstrapErrorResult", "bootstrap_error", "oob_delta_se", "point632plus",
    "null_cv_scores", "RankTestResult", "critical_difference", "friedman_test", "nemenyi_test", "wilcoxon_holm_test",
    "temporal_scores", "temporal_backtest", "period_losses",
]
