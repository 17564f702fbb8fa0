"""Findings of a walk through the data containers, loaders and plots (stop 26)."""
import dataclasses

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from workbench import ValidationError  # noqa: E402
from workbench.data import BanditLog, PredictionLog, load_open_bandit, open_bandit_bts_policy, simulate_routing  # noqa
from workbench.plotting import (budget_curve, coverage_plot, critical_difference_diagram, forest_plot,  # noqa: E402
                                identification_curve, risk_trace_plot, type1_plot)


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_bandit_log_context_names_and_integer_column_names():
    with pytest.raises(ValidationError, match="^context_names: must be a sequence of 1 names"):
        BanditLog(action=[0, 1], reward=[1.0, 0.0], propensity=[0.5, 0.5], n_actions=2, context=[[1.0], [2.0]],
                  context_names=5)
    # a headerless CSV: columns 0..3, the timestamp in column 0 (was dropped silently: `if timestamp:`)
    df = pd.DataFrame({0: pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
                       1: [0, 1, 0, 1], 2: [1.0, 0.0, 1.0, 0.0], 3: [0.5] * 4})
    log = BanditLog.from_frame(df, action=1, reward=2, propensity=3, timestamp=0, n_actions=2)
    assert log.timestamp is not None and len(log.timestamp) == 4


def test_routing_log_values_are_checked_like_a_bandit_log():
    out = simulate_routing(200, random_state=0)
    rl = out[0] if isinstance(out, tuple) else out
    for change, field in [({"action": np.r_[-1, rl.action[1:]]}, "action"),
                          ({"propensity": np.r_[0.0, rl.propensity[1:]]}, "propensity"),
                          ({"quality": np.r_[np.nan, rl.quality[1:]]}, "quality"),
                          ({"model_names": ("x",)}, "model_names")]:
        with pytest.raises(ValidationError, match=f"^{field}:"):
            dataclasses.replace(rl, **change)


def test_open_bandit_arguments_and_prior_file(tmp_path):
    with pytest.raises(ValidationError, match="^campaign: must be one of"):
        open_bandit_bts_policy(["all"])
    with pytest.raises(ValidationError, match="^path: must be a folder path"):
        load_open_bandit(path=5)
    bad = tmp_path / "prior.yaml"
    bad.write_text("all:\n  alpha: ['1', '2']\n  beta: [1, 2]\n")
    with pytest.raises(ValidationError, match="^bts_prior: alpha of 'all'.*must be a list of numbers; it holds '1'"):
        open_bandit_bts_policy("all", n_sim=10, prior_path=bad)
    bad.write_text("all:\n  alpha: [1, 2]\n  beta: [1, true]\n")
    with pytest.raises(ValidationError, match="^bts_prior: beta of 'all'.*it holds True"):
        open_bandit_bts_policy("all", n_sim=10, prior_path=bad)


def test_prediction_log_load_checks_its_path_and_the_labelled_mask(tmp_path):
    with pytest.raises(ValidationError, match="^path: must be a file path"):
        PredictionLog.load(5)
    f = tmp_path / "odd.npz"
    np.savez(f, probs=np.full((1, 2, 2), 0.5), model_names=np.array(["m"]), labelled=np.ones(2, bool))
    with pytest.raises(ValidationError, match="'labelled' mask .*2 marked.* has no labels"):
        PredictionLog.load(f)
    ok = tmp_path / "ok.npz"
    PredictionLog(np.full((1, 2, 2), 0.5)).save(ok)
    assert PredictionLog.load(ok).n_models == 1


def test_plot_reference_lines_and_columns_are_checked():
    fr = pd.DataFrame({"estimator": ["a", "b"], "value": [0.5, 0.4], "ci_low": [0.4, 0.3], "ci_high": [0.6, 0.5]})
    for bad in ("0.5", True):
        with pytest.raises(ValidationError, match="^reference: must be a finite number"):
            forest_plot(fr, reference=bad)
    with pytest.raises(ValidationError, match=r"^frame\['value'\]: must be numeric"):
        forest_plot(fr.assign(value=["0.5", "0.4"]))
    curves = pd.DataFrame({"labels": [50, 100, 200], "value": [0.3, 0.2, 0.1], "strategy": "x"})
    with pytest.raises(ValidationError, match=r"^frame\['labels'\]: must be numeric"):
        budget_curve(curves.assign(labels=["50", "100", "200"]))
    ax = budget_curve(curves, hue=None)  # one line (was pandas' TypeError)
    assert len(ax.lines) == 1
    ic = pd.DataFrame({"labels": [1, 2], "strategy": "x", "p_best": [0.5, 0.9], "p_best_se": [0.1, 0.1]})
    with pytest.raises(ValidationError, match=r"^level: must be in \[0.0, 1.0\]"):
        identification_curve(ic, level=5)


def test_plots_refuse_objects_they_cannot_draw():
    with pytest.raises(ValidationError, match="^traces: must be estimate_risk results"):
        risk_trace_plot(None)
    with pytest.raises(ValidationError, match="^traces: must be estimate_risk results"):
        risk_trace_plot(pd.DataFrame({"estimate": [0.1]}))
    with pytest.raises(ValidationError, match="^result: must be a RankTestResult"):
        critical_difference_diagram({"a": 1.0, "b": 2.0})
    for bad in (20000, 0.5):
        with pytest.raises(ValidationError, match=r"^mean_ranks: must be mean ranks, in \[1, 100\]"):
            critical_difference_diagram(mean_ranks={"a": 1, "b": bad}, cd=1)
    cov = pd.DataFrame({"scenario": ["s"], "n": [10], "method": ["m"], "coverage": [0.9], "band_low": [0.85],
                        "band_high": [0.99], "within_band": ["False"], "level": [0.95]})
    with pytest.raises(ValidationError, match=r"^frame\['within_band'\]: must be booleans"):
        coverage_plot(cov)
    t1 = pd.DataFrame({"test": ["t"], "rejection_rate": [0.05], "mc_se": [0.01], "band_low": [0.03],
                       "band_high": [0.07], "nominal": [0.05], "n_datasets": [np.nan]})
    with pytest.raises(ValidationError, match=r"^frame\['n_datasets'\]: must be finite"):
        type1_plot(t1)


def test_weight_histogram_refuses_negative_weights_and_bad_edges():
    from workbench.plotting import weight_histogram

    with pytest.raises(ValidationError, match=r"^weights: must be >= 0.*first at row 1"):
        weight_histogram([1.0, -0.5, 2.0])
    for edges in ([0.0, np.nan, 2.0], [0.0, 2.0, 1.0], [1.0]):
        with pytest.raises(ValidationError, match="^bins"):
            weight_histogram([1.0, 0.5, 2.0], bins=edges)
    assert weight_histogram([1.0, 0.5, 2.0], bins=[0.0, 1.0, 3.0]) is not None


def test_results_protect_their_contents_and_keep_reprs_short():
    import copy
    import pickle

    from workbench.data import simulate_bandit
    from workbench.ope import UniformPolicy, off_policy_cdf
    from workbench.resample import compare_models
    from workbench.results import Estimate

    e = Estimate(0.5, 0.4, 0.6, 0.05, diagnostics={"a": 1})
    with pytest.raises(TypeError, match="read-only"):
        e.diagnostics["value"] = 99  # escaped the clash check, then overwrote the value column in to_frame
    assert pickle.loads(pickle.dumps(e)).diagnostics == {"a": 1} and copy.deepcopy(e) == e
    log, _ = simulate_bandit(200, n_actions=3, random_state=0)
    res = off_policy_cdf(log, UniformPolicy(), n_bootstrap=20)
    for name in ("cdf", "thresholds", "ci_low", "replicate_cdfs", "_weights"):
        with pytest.raises(ValueError, match="read-only"):
            getattr(res, name)[0] = 99
    out = simulate_routing(60, random_state=0)
    rl = out[0] if isinstance(out, tuple) else out
    p = rl.prompts.copy()
    rl2 = dataclasses.replace(rl, prompts=p)
    p.drop(index=[1, 2], inplace=True)  # the caller's frame: the log keeps its own copy
    assert len(rl2.to_frame()) == len(rl2) == 60
    r = compare_models(np.random.default_rng(0).random((300, 40)), n_resamples=50)
    assert len(repr(r).splitlines()) < 60 and "760 more rows: .differences" in repr(r)
    assert len(r.differences) == 780


def test_results_with_array_fields_compare_by_identity_and_hash():
    import copy

    from workbench.resample import bootstrap_ci, compare_models, repeated_cv
    from sklearn.tree import DecisionTreeClassifier
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    results = [bootstrap_ci(np.arange(20.0), n_resamples=50, random_state=0),
               compare_models(np.random.default_rng(0).random((50, 3)), n_resamples=50),
               repeated_cv(DecisionTreeClassifier(max_depth=2, random_state=0), X, y, n_splits=3, n_repeats=2,
                           random_state=0)]
    for r in results:  # == raised "truth value of an array is ambiguous", hash() a TypeError
        assert r == r and not (r == copy.deepcopy(r))
        assert isinstance(hash(r), int)
