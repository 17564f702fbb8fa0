"""Paths of the resampling pillar that must agree: the same quantity reached by different routes.

Each test pins one route against another (in memory vs streamed, estimators vs the scores of
repeated_cv, a Generator vs the seed it stands for, one method vs all methods at once).
"""
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.dummy import DummyRegressor
from sklearn.tree import DecisionTreeClassifier

from workbench._validation import ValidationError
from workbench.resample import (BootstrapSplit, bayesian_correlated_t_test, bootstrap_ci, bootstrap_error,
                                bootstrap_intervals, compare_models, corrected_resampled_t_test, f_test_5x2cv,
                                learning_curve_ci, model_confidence_set, paired_t_5x2cv, repeated_cv)
from workbench.scale import bootstrap_loss_matrix, compare_models_tabular


@pytest.fixture(autouse=True)
def _no_progress_bars(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")


@pytest.fixture(scope="module")
def iris():
    X, y = load_iris(return_X_y=True)
    return X, y


def _trees():
    return DecisionTreeClassifier(max_depth=3, random_state=0), DecisionTreeClassifier(max_depth=1, random_state=0)


def _frame_with_groups(n=90, n_groups=12, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame(rng.exponential(size=(n, 2)), columns=["a", "b"])
    df["g"] = rng.integers(0, n_groups, n)
    return df


# ------------------------------------------------------------------ in memory vs streamed
def test_streamed_bootstrap_takes_the_integral_float_n_resamples_memory_takes():
    df = _frame_with_groups(n=60)
    X = df[["a", "b"]].to_numpy()
    mem = bootstrap_ci(X, resampling="poisson", n_resamples=200.0, random_state=3)
    streamed = bootstrap_loss_matrix([df.iloc[:30], df.iloc[30:]], ["a", "b"], n_resamples=200.0, random_state=3)
    assert streamed.n_resamples == mem.n_resamples == 200
    np.testing.assert_allclose(streamed.ci_low, mem.ci_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(streamed.ci_high, mem.ci_high, rtol=0, atol=1e-12)
    cmp = compare_models_tabular([df.iloc[:30], df.iloc[30:]], ["a", "b"], n_resamples=200.0, random_state=3)
    assert cmp.n_resamples == 200
    for bad in (200.5, True, "200"):
        with pytest.raises(ValidationError, match="n_resamples"):
            bootstrap_loss_matrix([df], ["a", "b"], n_resamples=bad, random_state=3)


def test_group_column_of_an_in_memory_frame_as_the_streamed_path_reads_it():
    df = _frame_with_groups()
    for method in ("percentile", "normal"):
        mem = bootstrap_ci(df, groups="g", resampling="poisson", method=method, n_resamples=300, random_state=1)
        streamed = bootstrap_loss_matrix(df, groups="g", method=method, n_resamples=300, random_state=1)
        assert mem.names == streamed.names == ("a", "b")
        assert mem.n_groups == streamed.n_groups == df["g"].nunique()
        np.testing.assert_allclose(mem.ci_low, streamed.ci_low, rtol=0, atol=1e-12)
        np.testing.assert_allclose(mem.ci_high, streamed.ci_high, rtol=0, atol=1e-12)
        # ... and the same as passing the ids as an array
        arr = bootstrap_ci(df[["a", "b"]].to_numpy(), groups=df["g"].to_numpy(), resampling="poisson", method=method,
                           n_resamples=300, random_state=1)
        np.testing.assert_array_equal(mem.ci_low, arr.ci_low)
        c_mem = compare_models(df, groups="g", resampling="poisson", method=method, n_resamples=300, random_state=1)
        c_str = compare_models_tabular(df, groups="g", method=method, n_resamples=300, random_state=1)
        np.testing.assert_allclose(c_mem.differences[["difference", "ci_low", "ci_high"]].to_numpy(float),
                                   c_str.differences[["difference", "ci_low", "ci_high"]].to_numpy(float),
                                   rtol=0, atol=1e-12)
    frame = bootstrap_intervals(df, groups="g", methods=["bca"], n_resamples=200, random_state=1)
    assert frame["name"].tolist() == ["a", "b"]
    mcs = model_confidence_set(df, groups="g", n_resamples=200, random_state=1)
    assert set(mcs.frame["name"]) == {"a", "b"}
    with pytest.raises(ValidationError, match="names no column"):
        bootstrap_ci(df, groups="user", random_state=1)


def _three_clusters():
    # Poisson weights over 3 clusters: some replicates draw no cluster at all (every mean undefined)
    df = _frame_with_groups(n=30, n_groups=3, seed=0)
    df["b"] += 0.3
    return df, df[["a", "b"]].to_numpy(), df["g"].to_numpy()


def test_p_best_leaves_out_replicates_without_rows_as_the_intervals_do():
    df, L, g = _three_clusters()
    mem = compare_models(L, names=["a", "b"], groups=g, resampling="poisson", n_resamples=200, random_state=0)
    streamed = compare_models_tabular(df, ["a", "b"], groups="g", n_resamples=200, random_state=0)
    with pytest.warns(RuntimeWarning, match="undefined"):  # bootstrap_ci says so
        ci = bootstrap_ci(L, groups=g, resampling="poisson", n_resamples=200, random_state=0)
    reps = ci.bootstrap_distribution
    ok = reps[~np.isnan(reps).any(axis=1)]
    assert 0 < ok.shape[0] < reps.shape[0]
    expected = np.bincount(np.argmin(ok, axis=1), minlength=2) / ok.shape[0]  # continuous losses: no ties
    np.testing.assert_allclose(mem.models["p_best"], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(streamed.models["p_best"], expected, rtol=0, atol=1e-12)
    n_bad = ci.diagnostics["undefined_replicates"]
    assert mem.diagnostics["undefined_replicates"] == streamed.diagnostics["undefined_replicates"] == n_bad


def test_model_confidence_set_with_poisson_weights_uses_the_defined_replicates():
    df, L, g = _three_clusters()
    # was: "the remaining models' loss differences are the same on every row" (NaN replicates, not identical models)
    mcs = model_confidence_set(L, names=["a", "b"], groups=g, resampling="poisson", n_resamples=200, random_state=0)
    assert "a" in mcs.included and mcs.n_resamples == 200
    assert np.isfinite(mcs.frame["p_value"]).all()


# ------------------------------------------------------------------ one method vs all methods at once
def test_bootstrap_intervals_offers_what_bootstrap_ci_offers_for_a_callable():
    x = np.random.default_rng(0).exponential(size=40)
    frame = bootstrap_intervals(x, np.median, n_resamples=199, random_state=2)
    assert frame["method"].tolist() == ["percentile", "basic", "bca", "normal"]
    for method, block in frame.groupby("method", sort=False):
        one = bootstrap_ci(x, np.median, method=method, n_resamples=199, random_state=2).to_frame()
        pd.testing.assert_frame_equal(block.reset_index(drop=True), one)


def test_bootstrap_intervals_rows_are_bootstrap_ci_frames():
    df = _frame_with_groups(n=60, n_groups=10, seed=4)
    X, g = df[["a", "b"]].to_numpy(), df["g"].to_numpy()
    frame = bootstrap_intervals(X, groups=g, n_resamples=199, random_state=5)
    for method, block in frame.groupby("method", sort=False):
        one = bootstrap_ci(X, groups=g, method=method, n_resamples=199, random_state=5).to_frame()
        pd.testing.assert_frame_equal(block.reset_index(drop=True), one)


# ------------------------------------------------------------------ repeated_cv scores vs the CV tests
def test_cv_tests_run_the_splits_repeated_cv_runs_for_the_same_seed(iris):
    X, y = iris
    a, b = _trees()
    ra = repeated_cv(a, X, y, n_splits=3, n_repeats=2, random_state=7)
    rb = repeated_cv(b, X, y, n_splits=3, n_repeats=2, random_state=7)
    from_scores = corrected_resampled_t_test(ra.scores, rb.scores, n_train=ra.n_train, n_test=ra.n_test)
    run_here = corrected_resampled_t_test(a, b, X, y, n_splits=3, n_repeats=2, random_state=7)
    assert run_here.statistic == pytest.approx(from_scores.statistic, rel=1e-12)
    np.testing.assert_allclose(run_here.details["differences"], from_scores.details["differences"], atol=1e-15)
    bay_scores = bayesian_correlated_t_test(ra.scores, rb.scores, n_train=ra.n_train, n_test=ra.n_test)
    bay_run = bayesian_correlated_t_test(a, b, X, y, n_splits=3, n_repeats=2, random_state=7)
    assert bay_run.details["p_right"] == pytest.approx(bay_scores.details["p_right"], rel=1e-12)


def test_5x2cv_runs_the_splits_of_repeated_cv_two_by_five(iris):
    X, y = iris
    a, b = _trees()
    ra = repeated_cv(a, X, y, n_splits=2, n_repeats=5, random_state=11)
    rb = repeated_cv(b, X, y, n_splits=2, n_repeats=5, random_state=11)
    assert ra.scores.shape == (5, 2)  # replication x fold: the layout the 5x2cv tests read
    t_run = paired_t_5x2cv(a, b, X, y, random_state=11)
    t_scores = paired_t_5x2cv(ra.scores, rb.scores)
    assert t_run.statistic == pytest.approx(t_scores.statistic, rel=1e-12)
    f_run = f_test_5x2cv(a, b, X, y, random_state=11)
    assert f_run.statistic == pytest.approx(f_test_5x2cv(ra.scores, rb.scores).statistic, rel=1e-12)


def test_cv_results_feed_the_cv_tests(iris):
    X, y = iris
    a, b = _trees()
    ra = repeated_cv(a, X, y, n_splits=3, n_repeats=2, random_state=0)
    rb = repeated_cv(b, X, y, n_splits=3, n_repeats=2, random_state=0)
    ref = corrected_resampled_t_test(ra.scores, rb.scores, n_train=ra.n_train, n_test=ra.n_test)
    got = corrected_resampled_t_test(ra, rb)  # the sizes come with the results
    assert got.statistic == ref.statistic and got.details["test_train_ratio"] == ref.details["test_train_ratio"]
    bay = bayesian_correlated_t_test(ra, rb)
    assert bay.details["rho"] == pytest.approx(ra.n_test / (ra.n_test + ra.n_train))
    r5a = repeated_cv(a, X, y, n_splits=2, n_repeats=5, random_state=0)
    r5b = repeated_cv(b, X, y, n_splits=2, n_repeats=5, random_state=0)
    assert paired_t_5x2cv(r5a, r5b).statistic == paired_t_5x2cv(r5a.scores, r5b.scores).statistic
    with pytest.raises(ValidationError, match="other splits"):
        corrected_resampled_t_test(ra, r5b)
    with pytest.raises(ValidationError, match="two CVResults"):
        corrected_resampled_t_test(ra, rb.scores, n_train=ra.n_train, n_test=ra.n_test)
    with pytest.raises(ValidationError, match="shape"):  # 3 folds x 2 repeats is not 5x2 CV
        paired_t_5x2cv(repeated_cv(a, X, y, n_splits=5, n_repeats=2, random_state=0),
                       repeated_cv(b, X, y, n_splits=5, n_repeats=2, random_state=0))


# ------------------------------------------------------------------ a Generator vs the seed it stands for
def test_bootstrap_split_with_a_generator_draws_what_bootstrap_ci_and_bootstrap_error_draw():
    n, B = 30, 6
    x = np.arange(n, dtype=float)
    splits = list(BootstrapSplit(B, random_state=np.random.default_rng(1)).split(x))
    key = bootstrap_ci(x, n_resamples=B, random_state=np.random.default_rng(1)).seed
    idx = np.random.default_rng(key).integers(0, n, (B, n))  # bootstrap_ci's multinomial indices
    for (train, _), row in zip(splits, idx):
        np.testing.assert_array_equal(train, row)
    y = np.random.default_rng(2).normal(size=n)
    Xz = np.zeros((n, 1))
    own = bootstrap_error(DummyRegressor(), Xz, y, n_splits=20, random_state=np.random.default_rng(3))
    via_split = bootstrap_error(DummyRegressor(), Xz, y, cv=BootstrapSplit(20, random_state=np.random.default_rng(3)))
    assert own.oob == via_split.oob and own.point632plus == via_split.point632plus


def test_learning_curve_uses_one_seed_for_splits_and_shuffle(iris):
    from workbench.resample.cv import _cv_seed

    X, y = iris
    est = DecisionTreeClassifier(max_depth=3, random_state=0)
    kw = dict(train_sizes=(0.1, 0.2, 1.0), n_splits=3, n_repeats=2)
    with_generator = learning_curve_ci(est, X, y, random_state=np.random.default_rng(5), **kw)
    with_seed = learning_curve_ci(est, X, y, random_state=_cv_seed(np.random.default_rng(5)), **kw)
    pd.testing.assert_frame_equal(with_generator, with_seed)
    # at the full training size the row is repeated_cv's Nadeau-Bengio row (iris: equal fold sizes)
    r = repeated_cv(est, X, y, n_splits=3, n_repeats=2, random_state=_cv_seed(np.random.default_rng(5)))
    nb = r.intervals.iloc[0]
    assert with_seed.iloc[-1]["value"] == pytest.approx(nb["value"], rel=1e-12)
    assert with_seed.iloc[-1]["ci_low"] == pytest.approx(nb["ci_low"], rel=1e-12)


def test_streamed_bootstrap_refuses_indices_as_memory_does():
    df = _frame_with_groups(n=40)
    idx = np.random.default_rng(0).integers(0, 40, (50, 40))
    with pytest.raises(ValidationError, match="indices"):
        bootstrap_ci(df[["a", "b"]].to_numpy(), resampling="poisson", indices=idx, random_state=0)
    with pytest.raises(ValidationError, match="indices"):  # was silently ignored: a Poisson bootstrap came back
        bootstrap_ci([df[["a", "b"]]], resampling="poisson", indices=idx, random_state=0)


def test_groups_errors_speak_of_data_rows():
    from workbench._validation import ValidationError
    from workbench.resample import bootstrap_ci

    with pytest.raises(ValidationError, match="a column name .'g'. needs data as a pandas DataFrame"):
        bootstrap_ci(np.zeros((5, 2)), groups="g")  # said "one row per action row: got 1 rows"
    with pytest.raises(ValidationError, match="groups: must have one row per data row: got 3 rows, expected 5"):
        bootstrap_ci(np.zeros((5, 2)), groups=np.arange(3))


def test_streamed_standard_error_is_the_in_memory_one():
    import pandas as pd

    from workbench.resample import bootstrap_ci
    from workbench.scale import bootstrap_loss_matrix

    L = np.random.default_rng(0).random((300, 2)) * 1e-300  # rounding-safe se at any scale, as in memory
    frame = pd.DataFrame(L, columns=["a", "b"])
    streamed = bootstrap_loss_matrix(frame, resampling="poisson", n_resamples=200, random_state=0)
    memory = bootstrap_ci(L, resampling="poisson", n_resamples=200, random_state=0)
    np.testing.assert_allclose(np.asarray(streamed.standard_error, float), np.asarray(memory.standard_error, float),
                               rtol=1e-12)
    assert np.all(np.asarray(streamed.standard_error, float) > 0)


def test_cv_tests_take_groups_on_the_estimator_route():
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

    from workbench.resample import cv_scores_two

    X, y = load_iris(return_X_y=True)
    g = np.arange(150) // 5  # 30 groups of 5 rows
    a, b = DecisionTreeClassifier(random_state=0), DecisionTreeClassifier(max_depth=1, random_state=0)
    # a group splitter as cv: was "The 'groups' parameter should not be None"
    r = corrected_resampled_t_test(a, b, X, y, cv=GroupKFold(3), groups=g)
    assert r.details["J"] == 3
    # the default splits with groups are repeated_cv's with groups, for the same seed
    direct = corrected_resampled_t_test(a, b, X, y, n_splits=5, n_repeats=2, groups=g, random_state=0)
    ra = repeated_cv(a, X, y, n_splits=5, n_repeats=2, groups=g, random_state=0)
    rb = repeated_cv(b, X, y, n_splits=5, n_repeats=2, groups=g, random_state=0)
    assert direct.p_value == corrected_resampled_t_test(ra, rb).p_value
    # an int cv with groups keeps each group in one fold (a plain stratified k-fold would ignore them)
    sa, sb, _, _ = cv_scores_two(a, b, X, y, cv=5, groups=g)
    ea, eb, _, _ = cv_scores_two(a, b, X, y, cv=StratifiedGroupKFold(5), groups=g)
    assert np.array_equal(sa, ea) and np.array_equal(sb, eb)
    with pytest.raises(ValidationError, match="groups: applies when the folds are run here"):
        corrected_resampled_t_test(sa, sb, n_train=120, n_test=30, groups=g)


def test_nested_cv_outer_scores_feed_the_corrected_test():
    from sklearn.model_selection import GridSearchCV

    from workbench.resample import nested_cv

    X, y = load_iris(return_X_y=True)
    procs = {"deep": GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [3, 5]}, cv=3),
             "stump": DecisionTreeClassifier(max_depth=1, random_state=0)}
    r = nested_cv(procs, X, y, outer_cv=5, random_state=0)
    assert (r.n_train, r.n_test) == (120.0, 30.0)  # the sizes come with the result
    s = r.scores.pivot(index="fold", columns="algorithm", values="score")
    t = corrected_resampled_t_test(s["deep"].to_numpy(), s["stump"].to_numpy(), n_train=r.n_train, n_test=r.n_test)
    assert t.details["test_train_ratio"] == pytest.approx(0.25)
