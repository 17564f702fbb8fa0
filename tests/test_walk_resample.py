"""Defects found by walking the resampling pillar as a new user would (walk 'resample'); each test failed before its fix."""
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from workbench._validation import ValidationError
from workbench.resample import (bootstrap_ci, bootstrap_error, bootstrap_intervals, compare_models,
                                corrected_resampled_t_test, friedman_test, learning_curve_ci, model_confidence_set,
                                nested_cv, repeated_cv, temporal_backtest, temporal_scores)


# --- pandas frames with nullable or mixed bool / float columns -------------------------------------------
def _frames():
    rng = np.random.default_rng(0)
    a, b = rng.random(40), rng.random(40) > 0.5
    plain = pd.DataFrame({"a": a, "b": b.astype(float)})
    return plain, {
        "bool next to float": pd.DataFrame({"a": a, "b": b}),
        "Float64": pd.DataFrame({"a": a, "b": b.astype(float)}).astype("Float64"),
        "boolean + Float64": pd.DataFrame({"a": pd.array(a, dtype="Float64"), "b": pd.array(b, dtype="boolean")}),
    }


@pytest.mark.parametrize("kind", ["bool next to float", "Float64", "boolean + Float64"])
def test_frames_with_nullable_or_bool_columns_are_numbers(kind):
    # np.asarray made them object arrays, refused as "mixed or missing values?" although every value is a
    # number (the streamed path read the same frame as numbers)
    plain, frames = _frames()
    df = frames[kind]
    ref = bootstrap_ci(plain, method="bca", n_resamples=300, random_state=0)
    got = bootstrap_ci(df, method="bca", n_resamples=300, random_state=0)
    np.testing.assert_array_equal(got.ci_low, ref.ci_low)
    assert got.names == ("a", "b")
    assert bootstrap_intervals(df, methods="normal", n_resamples=100, random_state=0).shape[0] == 2
    cmp = compare_models(df, n_resamples=200, random_state=0)
    assert cmp.models["value"].tolist() == compare_models(plain, n_resamples=200, random_state=0).models["value"].tolist()
    assert len(model_confidence_set(df, n_resamples=200, random_state=0).frame) == 2
    scores = pd.DataFrame(np.random.default_rng(1).random((6, 3)), columns=list("xyz"))
    assert friedman_test(scores.astype("Float64")).p_value == friedman_test(scores).p_value


def test_frame_missing_values_and_text_columns_are_named():
    df = pd.DataFrame({"a": pd.array([1.0, None, 2.0, 3.0], dtype="Float64"), "b": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(ValidationError, match="must be finite") as err:
        bootstrap_ci(df)
    assert err.value.first == 1
    text = pd.DataFrame({"a": np.arange(4.0), "t": ["x", "y", "z", "w"]})
    with pytest.raises(ValidationError, match="column 't'"):
        compare_models(text)


# --- one scorer, refused before any fit ---------------------------------------------------------------------
@pytest.mark.parametrize("scoring", [["accuracy", "f1_macro"], {"acc": "accuracy"}])
def test_multi_metric_scoring_is_refused_by_name(scoring):
    # a KeyError 'test_score' (repeated_cv, nested_cv), a TypeError from float() after the fits (bootstrap_error,
    # the CV tests)
    X, y = load_iris(return_X_y=True)
    tree = DecisionTreeClassifier(max_depth=2, random_state=0)
    calls = [lambda: repeated_cv(tree, X, y, scoring=scoring, n_splits=3, n_repeats=1),
             lambda: nested_cv(tree, X, y, outer_cv=3, scoring=scoring),
             lambda: learning_curve_ci(tree, X, y, n_splits=3, n_repeats=1, scoring=scoring),
             lambda: bootstrap_error(tree, X, y, n_splits=5, scoring=scoring, progress=False),
             lambda: corrected_resampled_t_test(tree, tree, X, y, n_splits=3, n_repeats=1, scoring=scoring,
                                                progress=False)]
    for call in calls:
        with pytest.raises(ValidationError, match="must be one scorer"):
            call()


# --- temporal backtests -----------------------------------------------------------------------------------------
def _temporal():
    from workbench.data import simulate_drifting_stream, train_historical_models

    return train_historical_models(simulate_drifting_stream(n_periods=5, points_per_period=60, random_state=0))


def test_one_strategy_as_a_string():
    log, avail = _temporal()
    a = temporal_backtest(log, avail, strategies="recent_best")  # was: "must be one of [...], got 'r'"
    pd.testing.assert_frame_equal(a, temporal_backtest(log, avail, strategies=["recent_best"]))


def test_newest_is_the_latest_available_model_when_several_share_a_period():
    # models available before the first period (or between two periods) share a period index; "newest" was
    # then the first model listed
    log, avail = _temporal()
    early = np.asarray(avail, float) - 10.0  # all four available before period 0, in order
    bt = temporal_backtest(log, early, strategies="newest")
    assert set(bt["model"]) == {log.model_names[-1]}
    reverse = early[::-1].copy()  # the first model is now the latest
    assert set(temporal_backtest(log, reverse, strategies="newest")["model"]) == {log.model_names[0]}


def test_missing_timestamps_and_availability_are_refused():
    log, avail = _temporal()
    ts = log.timestamp.astype(float)
    ts[7] = np.nan  # was a period "NaN" of its own
    with pytest.raises(ValidationError, match="timestamp") as err:
        temporal_scores(log, avail, timestamp=ts)
    assert err.value.first == 7
    bad = np.asarray(avail, float)
    bad[2] = np.nan  # was a model that is never a candidate
    with pytest.raises(ValidationError, match="available_from") as err:
        temporal_backtest(log, bad)
    assert err.value.first == 2


def test_repeated_cv_int_cv_keeps_groups_in_one_fold():
    # cv=5 with groups made a stratified 5-fold that ignored them (scikit-learn warned): groups in training and
    # test folds, and other splits than the CV tests make from the same arguments
    import warnings

    X, y = load_iris(return_X_y=True)
    g = np.random.default_rng(0).permutation(150) // 10
    tree = DecisionTreeClassifier(max_depth=2, random_state=0)
    stump = DecisionTreeClassifier(max_depth=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "The groups parameter is ignored by StratifiedKFold"
        a, b = repeated_cv(tree, X, y, cv=5, groups=g), repeated_cv(stump, X, y, cv=5, groups=g)
    direct = corrected_resampled_t_test(tree, stump, X, y, cv=5, groups=g, progress=False)
    assert corrected_resampled_t_test(a, b).statistic == direct.statistic


def test_equal_fold_scores_warn_of_a_zero_width_interval():
    # accuracy 1 on every fold gave the interval [1, 1], silently (the corrected t-test refuses such scores)
    X = np.r_[np.zeros((20, 1)), np.ones((20, 1))]
    y = np.r_[np.zeros(20), np.ones(20)]
    with pytest.warns(RuntimeWarning, match="all 10 fold scores are equal"):
        r = repeated_cv(DecisionTreeClassifier(), X, y, n_splits=5, n_repeats=2, random_state=0)
    assert r.intervals["se"].tolist() == [0.0, 0.0]
    with pytest.warns(RuntimeWarning, match="fold scores at train_size"):
        learning_curve_ci(DecisionTreeClassifier(), X, y, train_sizes=(1.0,), n_splits=5, n_repeats=1, random_state=0)


def test_available_from_as_timestamps_is_read_like_the_timestamps():
    # a list of pandas Timestamps was refused as an object array, dates as text failed with a bare TypeError
    # inside np.searchsorted, and a time-zone-aware timestamp= column did not compare with naive times
    log, avail = _temporal()
    base = pd.Timestamp("2024-01-01")
    ts = (base + pd.to_timedelta(log.timestamp, "D")).to_numpy()
    days = [base + pd.Timedelta(days=int(a)) for a in avail]
    ref = temporal_scores(log, pd.DatetimeIndex(days), timestamp=ts)
    pd.testing.assert_frame_equal(temporal_scores(log, days, timestamp=ts), ref)
    aware = temporal_scores(log, pd.DatetimeIndex(days).tz_localize("UTC"),
                            timestamp=pd.Series(ts).dt.tz_localize("UTC"))
    np.testing.assert_array_equal(aware["loss"], ref["loss"])
    with pytest.raises(ValidationError, match="available_from.*kind"):
        temporal_backtest(log, [str(d.date()) for d in days], timestamp=ts)


@pytest.mark.parametrize("cv", [5, "bootstrap"])
def test_bootstrap_error_refuses_a_cv_that_is_no_splitter(cv):
    # cv=5 was "'int' object is not iterable", a string str.split's TypeError
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValidationError, match="cv: must be a splitter"):
        bootstrap_error(DecisionTreeClassifier(), X, y, cv=cv, progress=False)


def test_paired_difference_interval_returns_floats_for_every_method():
    from workbench.resample import paired_difference_interval

    for method in ("newcombe", "tango", "wald", "agresti-min"):  # wald / agresti-min gave numpy float64
        lo, hi = paired_difference_interval([[1, 1], [7, 12]], method=method)
        assert type(lo) is float and type(hi) is float
    # Fagerland, Lydersen & Laake (2014), Bentur et al. data: Tango -0.517 to -0.026, Newcombe -0.507 to -0.026
    assert np.round(paired_difference_interval([[1, 1], [7, 12]], method="tango"), 3).tolist() == [-0.517, -0.026]
    assert np.round(paired_difference_interval([[1, 1], [7, 12]], method="newcombe"), 3).tolist() == [-0.507, -0.026]


def test_groups_names_an_integer_column_label():
    # pd.DataFrame(array) has integer column names; groups=3 was a TypeError "'int' object is not iterable"
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.random((40, 3)))
    df[3] = np.arange(40) // 4
    by_label = compare_models(df, groups=3, n_resamples=200, random_state=0)
    by_ids = compare_models(df.iloc[:, :3], groups=np.arange(40) // 4, n_resamples=200, random_state=0)
    pd.testing.assert_frame_equal(by_label.models, by_ids.models)
    assert bootstrap_ci(df, groups=3, n_resamples=50, random_state=0).n_groups == 10
    with pytest.raises(ValidationError, match="names no column"):
        bootstrap_ci(df, groups=7)


def test_cochrans_q_takes_a_nullable_boolean_frame():
    from workbench.resample import cochrans_q

    C = pd.DataFrame(np.random.default_rng(0).random((40, 3)) > 0.5)
    assert cochrans_q(correct=C.astype("boolean")).statistic == cochrans_q(correct=C).statistic
