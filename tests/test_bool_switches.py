"""True / False switches refuse strings and numbers: "no" and "False" are truthy, so ``warn="no"`` warned
and ``higher_is_better="False"`` ranked the models upside down, silently (``check_bool``)."""
from __future__ import annotations

import importlib
import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from workbench import ValidationError  # noqa: E402
from workbench._validation import check_bool  # noqa: E402

rng = np.random.default_rng(0)
SCORES = pd.DataFrame(rng.random((8, 3)), columns=["a", "b", "c"])
LOSSES = rng.random((40, 3))


def _two():
    from sklearn.dummy import DummyClassifier
    from sklearn.tree import DecisionTreeClassifier

    return DummyClassifier(), DecisionTreeClassifier(max_depth=1)


_TWO = _two()
_XY = (rng.random((40, 2)), np.r_[np.zeros(20, int), np.ones(20, int)])


def _log():
    from workbench.data import simulate_bandit

    return simulate_bandit(200, n_actions=3, random_state=0)[0]


def _continuous_log():
    from workbench.data import simulate_pricing

    return simulate_pricing(200, random_state=0)[0]


def _calls():
    """(public name, call taking the switch's keyword) for every public switch."""
    from workbench import plotting, validity
    from workbench.active import benchmark_risk, benchmark_selection, load_task, task_suite
    from workbench.data import PredictionLog, make_model_zoo
    from workbench.ope import (MarginalizedIPS, UniformPolicy, bandwidth_monte_carlo, benchmark_estimators,
                               compare_policies, design_matrix, estimate_from_inputs, evaluate_continuous_policy,
                               evaluate_policy, off_policy_cdf, off_policy_cdf_from_weights, prepare_inputs,
                               slope_select)
    from workbench.resample import (bayesian_correlated_t_test, bootstrap_ci, bootstrap_error, bootstrap_intervals,
                                    compare_models, corrected_resampled_t_test, cv_scores_two, f_test_5x2cv,
                                    friedman_test, ncv_interval, nemenyi_test, oob_delta_se, paired_t_5x2cv,
                                    wilcoxon_holm_test)
    from workbench.scale import compare_models_tabular, evaluate_tabular

    zoo = PredictionLog(rng.dirichlet(np.ones(3), size=(3, 30)), labels=rng.integers(0, 3, 30))
    frame = pd.DataFrame({"action": [0, 1, 0, 1], "reward": [1.0, 0.0, 1.0, 0.0], "propensity": [0.5] * 4,
                          "p0": [0.5] * 4, "p1": [0.5] * 4})
    cv = pd.DataFrame({"test": ["t"], "rejection_rate": [0.05], "mc_se": [0.01], "band_low": [0.03],
                       "band_high": [0.07], "nominal": [0.05], "n_datasets": [100]})
    return {
        ("compare_models", "higher_is_better"): lambda v: compare_models(LOSSES, higher_is_better=v, n_resamples=20),
        ("corrected_resampled_t_test", "corrected"): lambda v: corrected_resampled_t_test(
            rng.random(10), rng.random(10), n_train=90, n_test=10, corrected=v),
        ("oob_delta_se", "bias_correct"): lambda v: oob_delta_se(np.ones((2, 3)), [(np.array([0]), np.array([1.0]))] * 2,
                                                                 bias_correct=v),
        ("paired_t_5x2cv", "progress"): lambda v: paired_t_5x2cv(*_TWO, *_XY, progress=v),
        ("f_test_5x2cv", "progress"): lambda v: f_test_5x2cv(*_TWO, *_XY, progress=v),
        ("corrected_resampled_t_test", "progress"): lambda v: corrected_resampled_t_test(*_TWO, *_XY, progress=v),
        ("bayesian_correlated_t_test", "progress"): lambda v: bayesian_correlated_t_test(*_TWO, *_XY, progress=v),
        ("cv_scores_two", "progress"): lambda v: cv_scores_two(*_TWO, *_XY, cv=3, progress=v),
        ("bootstrap_error", "progress"): lambda v: bootstrap_error(_TWO[0], *_XY, n_splits=3, progress=v),
        ("ncv_interval", "progress"): lambda v: ncv_interval(_TWO[0], *_XY, n_folds=3, n_reps=2, progress=v),
        ("friedman_test", "higher_is_better"): lambda v: friedman_test(SCORES, higher_is_better=v),
        ("nemenyi_test", "higher_is_better"): lambda v: nemenyi_test(SCORES, higher_is_better=v),
        ("wilcoxon_holm_test", "higher_is_better"): lambda v: wilcoxon_holm_test(SCORES, higher_is_better=v),
        ("bootstrap_ci", "vectorized"): lambda v: bootstrap_ci(rng.random(20), np.median, vectorized=v, n_resamples=20),
        ("bootstrap_intervals", "vectorized"): lambda v: bootstrap_intervals(rng.random(20), np.median, vectorized=v,
                                                                             n_resamples=20),
        ("evaluate_policy", "warn"): lambda v: evaluate_policy(_log(), UniformPolicy(), ["ips"], n_bootstrap=20, warn=v),
        ("compare_policies", "warn"): lambda v: compare_policies(_log(), {"u": UniformPolicy(), "v": UniformPolicy()},
                                                                 estimator="ips", n_bootstrap=20, warn=v),
        ("estimate_from_inputs", "warn"): lambda v: estimate_from_inputs(
            ["ips"], prepare_inputs(_log(), UniformPolicy(), estimators=["ips"]),
            n_bootstrap=20, warn=v),
        ("estimate_from_inputs", "single_unit_warning"): lambda v: estimate_from_inputs(
            ["ips"], prepare_inputs(_log(), UniformPolicy(), estimators=["ips"]),
            n_bootstrap=20, single_unit_warning=v),
        ("MarginalizedIPS", "self_normalized"): lambda v: MarginalizedIPS(self_normalized=v),
        ("design_matrix", "interactions"): lambda v: design_matrix(np.ones((2, 1)), np.array([0, 1]), None, 2, None,
                                                                   interactions=v),
        ("evaluate_continuous_policy", "warn"): lambda v: evaluate_continuous_policy(
            _continuous_log(), np.full(200, 5.0), bandwidth=1.0, estimators=["ips"], n_bootstrap=20, warn=v),
        ("bandwidth_monte_carlo", "progress"): lambda v: bandwidth_monte_carlo(
            lambda rng: None, lambda log: None, [1.0], n_replicates=2, progress=v),
        ("off_policy_cdf", "self_normalize"): lambda v: off_policy_cdf(_log(), UniformPolicy(), self_normalize=v,
                                                                       n_bootstrap=20),
        ("off_policy_cdf", "warn"): lambda v: off_policy_cdf(_log(), UniformPolicy(), n_bootstrap=20, warn=v),
        ("slope_select", "warn"): lambda v: slope_select(_log(), UniformPolicy(), ["ips", "snips"], n_bootstrap=20,
                                                         warn=v),
        ("load_task", "progress"): lambda v: load_task("breast_cancer", n_models=2, cache_dir=False, progress=v),
        ("task_suite", "progress"): lambda v: task_suite(["breast_cancer"], n_models=2, cache_dir=False, progress=v),
        ("off_policy_cdf_from_weights", "self_normalize"): lambda v: off_policy_cdf_from_weights(
            rng.random(20), np.ones(20), self_normalize=v, n_bootstrap=20),
        ("benchmark_estimators", "progress"): lambda v: benchmark_estimators(
            lambda seed: None, UniformPolicy(), ["ips"], n_replicates=2, progress=v),
        ("benchmark_selection", "progress"): lambda v: benchmark_selection([("z", zoo)], ["random"], budgets=[2], seeds=1,
                                                                          progress=v),
        ("benchmark_risk", "progress"): lambda v: benchmark_risk(zoo.probs[0], zoo.labels, ["iid"], budget=3, seeds=1,
                                                                progress=v),
        ("make_model_zoo", "progress"): lambda v: make_model_zoo(rng.random((60, 2)), np.r_[np.zeros(30, int),
                                                                                           np.ones(30, int)],
                                                                 n_models=2, progress=v),
        ("evaluate_tabular", "warn"): lambda v: evaluate_tabular(frame, ["p0", "p1"], ["ips"], n_bootstrap=20, warn=v),
        ("compare_models_tabular", "higher_is_better"): lambda v: compare_models_tabular(
            pd.DataFrame(LOSSES, columns=["a", "b", "c"]), ["a", "b", "c"], higher_is_better=v, n_resamples=20),
        ("interval_coverage", "closed"): lambda v: validity.interval_coverage(
            ["normal-mean"], ["percentile"], n=10, n_replicates=2, n_resamples=10, closed=v, progress=False),
        ("interval_coverage", "progress"): lambda v: validity.interval_coverage(
            ["normal-mean"], ["percentile"], n=10, n_replicates=2, n_resamples=10, progress=v),
        ("ope_interval_coverage", "progress"): lambda v: validity.ope_interval_coverage(
            ["ips"], ["percentile"], n=20, n_replicates=2, n_bootstrap=10, progress=v),
        ("active_interval_coverage", "progress"): lambda v: validity.active_interval_coverage(
            methods=["iid"], budgets=[2], n_replicates=2, progress=v),
        ("type1_error", "progress"): lambda v: validity.type1_error(["mcnemar-exact"], n_datasets=2, progress=v),
        ("weight_histogram", "log"): lambda v: plotting.weight_histogram(np.ones(5), log=v),
        ("type1_plot", "log"): lambda v: plotting.type1_plot(cv, log=v),
    }


CALLS = _calls()


@pytest.mark.parametrize("key", sorted(CALLS), ids=lambda k: f"{k[0]}-{k[1]}")
@pytest.mark.parametrize("value", ["no", "False", 1, None])
def test_every_public_switch_refuses_what_is_not_true_or_false(key, value):
    name, param = key
    if value is None and param == "vectorized":
        return  # None means "decide for me" there
    with pytest.raises(ValidationError, match=rf"^{param}: must be True or False"):
        CALLS[key](value)
    plt.close("all")


def test_the_table_covers_every_public_switch():
    # a new public parameter with a True / False default must be checked and listed above
    found = set()
    for m in ["workbench.resample", "workbench.ope", "workbench.active", "workbench.data", "workbench.scale",
              "workbench.validity", "workbench.plotting"]:
        mod = importlib.import_module(m)
        for name in getattr(mod, "__all__", [n for n in dir(mod) if not n.startswith("_")]):
            obj = getattr(mod, name, None)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)) or obj.__module__ == "workbench._validation":
                continue
            try:
                sig = inspect.signature(obj)
            except (TypeError, ValueError):
                continue
            for p in sig.parameters.values():
                if isinstance(p.default, bool) or (p.name == "vectorized" and p.default is None):
                    found.add((name, p.name))
    found.discard(("TermReducer", "moments"))  # internal plumbing: True or a moments class
    assert found <= set(CALLS), sorted(found - set(CALLS))


def test_check_bool_passes_true_false_and_numpy_bools_and_none_when_allowed():
    assert check_bool(True, "x") is True and check_bool(np.bool_(False), "x") is False
    assert check_bool(np.array(True), "x") is True
    assert check_bool(None, "x", allow_none=True) is None
    with pytest.raises(ValidationError, match=r"^x: must be True or False or None, got 'yes'"):
        check_bool("yes", "x", allow_none=True)
