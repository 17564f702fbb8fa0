"""Input checks found missing while writing the docstring examples (each test fails on the code before)."""
from __future__ import annotations

import numpy as np
import pytest

from workbench._validation import ValidationError

PROBS = np.array([[[0.9, 0.1], [0.4, 0.6]], [[0.2, 0.8], [0.5, 0.5]]])


@pytest.mark.parametrize("y, loss, match", [
    (np.array([0, -1]), "cross_entropy", r"y: must be in \[0, 2\).*row 1"),  # an unlabelled marker was scored as class 1
    (np.array([0, 2]), "zero_one", r"y: must be in \[0, 2\)"),
    (np.array([1]), "zero_one", "y: must have one value per point"),  # was broadcast to every point
    (np.array([0.5, 1.0]), "zero_one", "non-integral"),
    (np.array([0.0, np.nan]), "squared", "NaN"),
])
def test_loss_matrix_refuses_bad_labels(y, loss, match):
    from workbench.data import loss_matrix

    with pytest.raises(ValidationError, match=match):
        loss_matrix(PROBS, y, loss)


def test_loss_matrix_accepts_lists_and_integral_floats():
    from workbench.data import loss_matrix

    expected = np.array([[0.0, 0.0], [1.0, 1.0]])
    np.testing.assert_array_equal(loss_matrix(PROBS, [0, 1]), expected)  # was a TypeError
    np.testing.assert_allclose(loss_matrix(PROBS, np.array([0.0, 1.0]), "cross_entropy"),  # was an IndexError
                               -np.log([[0.9, 0.6], [0.2, 0.5]]))
    with pytest.raises(ValidationError, match="y: must be finite"):
        loss_matrix(np.array([[1.0, 2.5]]), [1.0, np.nan], "absolute")


def _stream_with_labels(y_fn):
    from workbench.data import DriftingStream, simulate_drifting_stream

    s = simulate_drifting_stream(n_periods=4, points_per_period=100, random_state=0)
    return DriftingStream(s.X, y_fn(s), s.period, s.concept, s.corrupted)


def test_train_historical_models_names_skipped_periods():
    from workbench.data import train_historical_models

    s = _stream_with_labels(lambda s: np.where(s.period == 0, 1, s.y))
    with pytest.warns(RuntimeWarning, match="1 of 3 periods skipped.*period 0"):
        log, available_from = train_historical_models(s)
    assert log.model_names == ("trained_p1", "trained_p2") and available_from.tolist() == [2, 3]
    with pytest.raises(ValidationError, match="stream: every training window holds a single class"):
        train_historical_models(_stream_with_labels(lambda s: np.ones_like(s.y)))  # was numpy's "need at least one array"


def test_task_suite_takes_one_name(tmp_path):
    from workbench.active import task_suite

    tasks = task_suite("breast_cancer", n_models=2, cache_dir=tmp_path)  # was read letter by letter
    assert [t.name for t in tasks] == ["breast_cancer"]


def test_geometric_consensus_refuses_text_clip():
    from workbench.active import geometric_consensus

    with pytest.raises(ValidationError, match="clip"):
        geometric_consensus(PROBS, clip="0.5")


def test_within_one_point_counts_a_gap_of_exactly_one_point():
    from workbench.active import SelectionTask
    from workbench.data import PredictionLog

    # accuracies 0.13 and 0.12 on 100 points: 0.12 < 0.13 - 0.01 = 0.12000000000000001 in floating point
    y = np.zeros(100, int)
    preds = np.ones((2, 100), int)
    preds[0, :13] = 0
    preds[1, :12] = 0
    zoo = PredictionLog(probs=np.eye(2)[preds], labels=y)
    task = SelectionTask(name="toy", zoo=zoo, dataset="synthetic", shift=None)
    assert task.difficulty()["n_within_1pt"] == 2


def test_learning_curve_ci_takes_an_int_cv():
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    from workbench.resample import learning_curve_ci

    X, y = load_iris(return_X_y=True)
    lc = learning_curve_ci(DecisionTreeClassifier(max_depth=3, random_state=0), X, y, cv=5,  # was an AttributeError
                           train_sizes=(0.5, 1.0), random_state=0)
    assert lc["J"].tolist() == [5, 5] and lc["train_size"].tolist() == [60, 120]


def test_cv_scores_two_sizes_feed_the_corrected_tests():
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    from workbench.resample import bayesian_correlated_t_test, corrected_resampled_t_test, cv_scores_two

    X, y = load_iris(return_X_y=True)
    sa, sb, ntr, nte = cv_scores_two(DecisionTreeClassifier(max_depth=3, random_state=0),
                                     DecisionTreeClassifier(max_depth=1, random_state=0), X, y, cv=4)
    assert (ntr, nte) == (112.5, 37.5)  # mean fold sizes: 150 rows in 4 folds
    by_sizes = corrected_resampled_t_test(sa, sb, n_train=ntr, n_test=nte)  # was "n_train: must be an integer"
    by_ratio = corrected_resampled_t_test(sa, sb, test_train_ratio=nte / ntr)
    assert by_sizes.p_value == by_ratio.p_value
    assert bayesian_correlated_t_test(sa, sb, n_train=ntr, n_test=nte).details is not None
    for bad in (0, -3.0, float("nan"), "120"):
        with pytest.raises(ValidationError, match="n_train"):
            corrected_resampled_t_test(sa, sb, n_train=bad, n_test=nte)


def test_point632plus_relative_overfitting_rate_is_stable_at_gamma_equal_err():
    from workbench.resample import point632plus

    # a constant predictor: gamma and the resubstitution error are one mean computed two ways
    assert point632plus(0.5, 0.6, 0.5)[2:] == point632plus(0.5, 0.6, 0.5 + 5e-16)[2:] == (0.0, 0.632)
    assert point632plus(0.1, 0.3, 0.6)[2] == pytest.approx(0.4)  # unchanged away from the tie


def test_oob_delta_se_takes_a_list_of_units():
    from workbench.resample import oob_delta_se

    rng = np.random.default_rng(0)
    counts = rng.multinomial(20, np.full(20, 1 / 20), size=50)
    oob = [(np.flatnonzero(c == 0), rng.random(int((c == 0).sum()))) for c in counts]
    units = np.repeat(np.arange(10), 2)
    se_array = oob_delta_se(counts[:, ::2] + counts[:, 1::2], oob, row_unit=units)[0]
    assert oob_delta_se(counts[:, ::2] + counts[:, 1::2], oob, row_unit=units.tolist())[0] == se_array


def test_identification_curve_asks_for_a_task_when_curves_hold_several():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from workbench.plotting import identification_curve

    cur = pd.DataFrame({"task": ["t1", "t1", "t2", "t2"], "strategy": "random", "labels": [10, 20, 10, 20],
                        "p_best": [0.2, 0.9, 0.8, 0.3], "p_best_se": 0.0})
    with pytest.raises(ValidationError, match=r"task: is needed when curves hold several tasks.*'t1', 't2'"):
        identification_curve(cur)  # was one zigzag line through both tasks
    ax = identification_curve(cur, task="t2")
    assert list(ax.lines[0].get_ydata()) == [0.8, 0.3]
    plt.close("all")


def test_estimates_to_frame_edge_cases():
    from workbench.results import ESTIMATE_COLUMNS, Estimate, estimates_to_frame

    assert list(estimates_to_frame([]).columns) == ESTIMATE_COLUMNS  # was a frame without columns
    e = Estimate(0.5, 0.4, 0.6, 0.05, name="a", diagnostics={"model": "logreg"})
    with pytest.raises(ValidationError, match="name_column: 'model' is already a column"):
        estimates_to_frame([e], name_column="model")  # was two columns named "model"
    assert list(estimates_to_frame([e], name_column="estimator").columns)[:2] == ["estimator", "value"]


def test_estimate_interval_seeds_the_reward_model_folds():
    from workbench.data import simulate_bandit
    from workbench.ope import DoublyRobust, UniformPolicy, evaluate_policy

    log, _ = simulate_bandit(1000, n_actions=3, random_state=0)
    dr = DoublyRobust()
    point = dr.estimate_policy_value(log, UniformPolicy(), random_state=5)
    frame = evaluate_policy(log, UniformPolicy(), estimators=["dr"], n_bootstrap=50, random_state=5)
    interval = dr.estimate_interval(log, UniformPolicy(), n_bootstrap=50, random_state=5)  # used seed-0 folds
    assert point == frame["value"].iloc[0] == interval.value


def test_summarise_replicates_relative_error_skips_zero_truth():
    import warnings

    import pandas as pd

    from workbench.ope import summarise_replicates

    reps = pd.DataFrame({"estimator": ["ips"] * 4, "value": [0.1, -0.1, 0.0, 0.6], "ci_low": -1.0, "ci_high": 1.0,
                         "truth": [0.0, 0.0, 0.0, 0.5]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = summarise_replicates(reps).iloc[0]
        assert row["relative_error_mean"] == pytest.approx(0.2) and np.isnan(row["relative_error_sd"])  # was inf
        none = summarise_replicates(reps.iloc[:3]).iloc[0]
    assert np.isnan(none["relative_error_mean"]) and np.isnan(none["relative_error_sd"])


def test_bernstein_interval_and_weight_diagnostics_edge_inputs():
    from workbench.ope import bernstein_interval, weight_diagnostics

    with pytest.raises(ValidationError, match="alpha"):
        bernstein_interval([0.1, 0.4, 0.2], 0.0, 1.0, alpha=0)  # was a ZeroDivisionError
    d = weight_diagnostics(np.array([]))  # was max() of an empty array
    assert d["ess"] == 0.0 and np.isnan(d["max_weight"])


def test_check_random_state_does_not_advance_the_callers_seed_sequence():
    from workbench._random import check_random_state

    ss = np.random.SeedSequence(42)
    first = check_random_state(ss)
    first.bit_generator.seed_seq.spawn(3)  # what joblib-style sub-seeding does
    assert ss.n_children_spawned == 0
    a = check_random_state(ss).bit_generator.seed_seq.spawn(1)[0].generate_state(2)
    b = check_random_state(ss).bit_generator.seed_seq.spawn(1)[0].generate_state(2)
    assert np.array_equal(a, b)
    assert np.array_equal(check_random_state(ss).random(3), np.random.default_rng(42).random(3))


def test_error_hints_are_sentences_and_only_where_they_apply():
    import workbench as wb

    log, _ = wb.data.simulate_bandit(200, n_actions=3, random_state=0)
    p = log.propensity.copy()
    p[17] = 1.5
    with pytest.raises(ValidationError) as err:
        wb.data.BanditLog(context=log.context, action=log.action, reward=log.reward, propensity=p)
    assert "first at row 17" in str(err.value) and "propensity of 0" not in str(err.value)
    p[17] = 0.0
    with pytest.raises(ValidationError, match="A propensity of 0 means"):
        wb.data.BanditLog(context=log.context, action=log.action, reward=log.reward, propensity=p)
    hinted = ValidationError("resampling", "must be 'poisson'", hint="the multinomial bootstrap needs all rows")
    assert str(hinted).endswith(". The multinomial bootstrap needs all rows")


def test_spawning_functions_leave_the_callers_seed_sequence_alone():
    from workbench._random import spawn_seeds
    from workbench.active import benchmark_risk

    ss = np.random.SeedSequence(11)
    first = [c.generate_state(1)[0] for c in spawn_seeds(ss, 3)]
    assert ss.n_children_spawned == 0  # spawned from a copy
    assert first == [c.generate_state(1)[0] for c in spawn_seeds(ss, 3)]
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), 200)
    labels = rng.integers(0, 3, 200)
    run = lambda: benchmark_risk(probs, labels, {"lure": {"surrogate": probs}}, budget=10, seeds=5, random_state=ss)
    a, b = run(), run()  # differed: the second call spawned further children
    pd_cols = [c for c in a.columns if c != "seconds"]
    assert a[pd_cols].equals(b[pd_cols])


@pytest.mark.parametrize("scale", [1e-170, 1e170])
def test_normal_intervals_and_comparisons_at_extreme_scales(scale):
    from workbench.resample import bootstrap_ci, compare_models

    rng = np.random.default_rng(0)
    x = 3 + rng.normal(size=200)
    base = bootstrap_ci(x, np.mean, method="normal", random_state=0)
    scaled = bootstrap_ci(x * scale, np.mean, method="normal", random_state=0)  # was zero width at 1e-170
    np.testing.assert_allclose(np.divide(scaled.confidence_interval, scale), base.confidence_interval, rtol=1e-9)
    L = rng.random((200, 2))
    se = compare_models(L, names=["a", "b"], random_state=0).models["se"].to_numpy()
    se_scaled = compare_models(L * scale, names=["a", "b"], random_state=0).models["se"].to_numpy()
    np.testing.assert_allclose(se_scaled / scale, se, rtol=1e-9)
