"""OOB / .632 / .632+, the bootstrap splitter, CV helpers, the NCV interval and the CD diagram."""
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_regression
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

import workbench as wb
from workbench import ValidationError
from workbench.resample import (BootstrapSplit, bootstrap_error, learning_curve_ci, ncv_interval, nested_cv,
                                point632plus, repeated_cv)


def _logreg():
    return make_pipeline(StandardScaler(), LogisticRegression())


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X[:250], y[:250]


def test_bootstrap_split_protocol_and_groups():
    X = np.zeros((50, 2))
    cv = BootstrapSplit(n_splits=4, random_state=0)
    splits = list(cv.split(X))
    assert cv.get_n_splits() == 4 and len(splits) == 4
    rng = np.random.default_rng(0)
    for tr, te in splits:  # the multinomial stream of bootstrap_ci
        np.testing.assert_array_equal(tr, rng.integers(0, 50, 50))
        assert len(tr) == 50 and np.intersect1d(tr, te).size == 0
        assert np.union1d(tr, te).size == 50
    assert [t.tolist() for t, _ in cv.split(X)] == [t.tolist() for t, _ in splits]  # deterministic
    g = np.repeat(np.arange(10), 5)
    for tr, te in BootstrapSplit(5, random_state=1).split(X, groups=g):
        assert np.intersect1d(g[tr], g[te]).size == 0  # no group on both sides
        assert len(tr) == 50  # equal-size groups: n rows
    Xc, yc = load_breast_cancer(return_X_y=True)
    out = cross_validate(_logreg(), Xc[:200], yc[:200], cv=BootstrapSplit(3, random_state=0))
    assert out["test_score"].shape == (3,)


def test_point632plus_clipping_hand_cases():
    # Ordinary case.
    e632, e632p, R, w = point632plus(0.10, 0.30, 0.50)
    assert e632 == pytest.approx(0.368 * 0.10 + 0.632 * 0.30)
    assert R == pytest.approx(0.5) and w == pytest.approx(0.632 / (1 - 0.368 * 0.5))
    assert e632p == pytest.approx((1 - w) * 0.10 + w * 0.30)
    # OOB error above the no-information rate: Err(1)' = gamma, R = 1, and eq. 32 (ipred's errorest) gives
    # .632 + (gamma - err) * .368 * .632 / .632 = .632 * 0.6 + .368 * 0.5, not gamma (eq. 29 with Err(1)').
    _, e632p, R, w = point632plus(0.0, 0.6, 0.5)
    assert R == 1.0 and w == pytest.approx(1.0) and e632p == pytest.approx(0.632 * 0.6 + 0.368 * 0.5)
    # gamma below the resubstitution error: R = 0, so .632+ is the .632 estimate (uncapped Err(1)).
    e632, e632p, R, _ = point632plus(0.4, 0.45, 0.3)
    assert R == 0.0 and e632p == pytest.approx(e632) == pytest.approx(0.368 * 0.4 + 0.632 * 0.45)
    # OOB below resubstitution: no overfitting, R = 0, .632+ = .632.
    e632, e632p, R, _ = point632plus(0.2, 0.1, 0.5)
    assert R == 0.0 and e632p == pytest.approx(e632)


def test_bootstrap_error_on_pure_noise_reaches_no_information_rate():
    # Labels independent of X: a 1-NN memorises (err = 0) but knows nothing. Its true error is
    # gamma ~ 0.5; .632 is badly optimistic, .632+ lies between gamma and the OOB error (eq. 32 with R = 1:
    # .632 Err(1) + .368 gamma).
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 3)), rng.integers(0, 2, 120)
    r = bootstrap_error(KNeighborsClassifier(1), X, y, n_splits=60, random_state=0)
    assert r.resubstitution == 0.0
    p, q = np.bincount(y) / 120, np.bincount(KNeighborsClassifier(1).fit(X, y).predict(X), minlength=2) / 120
    assert r.no_information == pytest.approx(np.sum(p * (1 - q)))
    assert r.point632 < 0.40 < r.point632plus
    assert r.relative_overfitting == 1.0
    assert r.point632plus == pytest.approx(0.632 * r.oob + 0.368 * r.no_information)


def test_no_information_rate_generic_loss_equals_all_pairs_brute_force(cancer):
    X, y = cancer
    Xr, yr = make_regression(80, 3, noise=5.0, random_state=0)
    r_sq = bootstrap_error(LinearRegression(), Xr, yr, n_splits=5, random_state=0)
    r_fn = bootstrap_error(LinearRegression(), Xr, yr, n_splits=5, random_state=0,
                           loss=lambda t, p: (t - p) ** 2)
    f = LinearRegression().fit(Xr, yr).predict(Xr)
    brute = np.mean((yr[:, None] - f[None, :]) ** 2)
    assert r_sq.no_information == pytest.approx(brute, rel=1e-10)
    assert r_fn.no_information == pytest.approx(brute, rel=1e-10)
    assert r_fn.oob == pytest.approx(r_sq.oob, rel=1e-12)
    ll = bootstrap_error(_logreg(), X, y, loss="log_loss", n_splits=5, random_state=0)
    assert 0 < ll.resubstitution < ll.oob


def test_oob_scoring_parity_with_mlxtend(cancer):
    mlx = pytest.importorskip("mlxtend.evaluate")
    X, y = cancer
    est = DecisionTreeClassifier(max_depth=3, random_state=0)
    ref = mlx.bootstrap_point632_score(est, X, y, n_splits=30, method="oob", random_seed=4)
    ours = bootstrap_error(est, X, y, scoring="accuracy", cv=mlx.BootstrapOutOfBag(n_splits=30, random_seed=4))
    assert ours.oob == pytest.approx(np.mean(ref), rel=1e-12)
    # mlxtend's .632 differs on purpose (its "training error" is the round model's error on all of X,
    # weights per round): ours uses the full-data fit, as Efron (1983) defines it.
    assert ours.point632 == pytest.approx(0.368 * ours.resubstitution + 0.632 * ours.oob)


def test_repeated_cv_intervals(cancer):
    X, y = cancer
    r = repeated_cv(_logreg(), X, y, n_splits=5, n_repeats=3, random_state=0)
    assert r.scores.shape == (3, 5)
    nb, naive = r.intervals.iloc[0], r.intervals.iloc[1]
    s = r.scores.ravel()
    assert nb["value"] == pytest.approx(s.mean())
    assert nb["se"] == pytest.approx(np.sqrt((1 / 15 + r.n_test / r.n_train) * s.var(ddof=1)))
    assert naive["se"] == pytest.approx(np.sqrt(s.var(ddof=1) / 15))
    assert nb["ci_high"] - nb["ci_low"] > 2 * (naive["ci_high"] - naive["ci_low"])


def test_nested_cv_is_honest_on_pure_noise():
    # Random labels: tuning on the whole data reports an optimistic best_score_; the nested outer
    # estimate of the same procedure stays at chance.
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(150, 20)), rng.integers(0, 2, 150)
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 3, 5, 9, 15, 25, 35, 51]}, cv=3)
    res = nested_cv({"knn": search, "dummy": DummyClassifier()}, X, y, outer_cv=5, random_state=0)
    s = res.summary.set_index("algorithm")
    assert abs(s.loc["knn", "value"] - 0.5) < 0.08
    assert search.fit(X, y).best_score_ > s.loc["knn", "value"]
    assert set(res.scores["algorithm"]) == {"knn", "dummy"} and (res.scores["fold"] < 5).all()


def test_ncv_interval_structure_and_bounds():
    X, y = make_regression(100, 5, noise=10.0, random_state=0)
    f = ncv_interval(LinearRegression(), X, y, n_folds=5, n_reps=6, random_state=0)
    ncv, naive = f.iloc[0], f.iloc[1]
    assert 1.0 <= ncv["inflation"] <= 5.0
    assert ncv["se"] >= naive["se"] * 0.8  # errors differ (more held-out errors), but not wildly
    assert ncv["ci_low"] < ncv["value"] < ncv["ci_high"]
    assert ncv["n_fits"] == 6 * (10 + 5) + 2 * 5  # pair fits and outer fits per repetition, then the bias runs
    assert ncv["value"] == pytest.approx(ncv["raw_mean"] - ncv["bias"])
    # Smaller training sets (K - 2 folds) than ordinary CV (K - 1) make the bias correction downward on average,
    # but its sign with two ordinary CV runs is noise here (about 2 points of MSE expected, against a CV mean's
    # sd of about 14): the formula itself is checked in test_ncv_matches_the_authors_algorithm.py
    assert np.isfinite(ncv["bias"]) and ncv["bias"] != 0.0
    with pytest.raises(ValidationError, match="n_folds"):
        ncv_interval(LinearRegression(), X, y, n_folds=2)


def test_learning_curve_ci(cancer):
    X, y = cancer
    lc = learning_curve_ci(_logreg(), X, y, train_sizes=(0.2, 1.0), n_splits=4,
                           n_repeats=2, random_state=0)
    assert lc["train_size"].is_monotonic_increasing and (lc["J"] == 8).all()
    assert (lc["ci_low"] < lc["value"]).all() and (lc["value"] < lc["ci_high"]).all()


def test_critical_difference_diagram_draws_cliques():
    rng = np.random.default_rng(1)
    S = rng.random((20, 5)) * 0.1 + np.array([0, 0.01, 0.05, 0.1, 0.12])
    r = wb.resample.nemenyi_test(S)
    ax = wb.plotting.critical_difference_diagram(r)
    assert any("CD =" in t.get_text() for t in ax.texts)
    from workbench.plotting import _cd_cliques

    names, ranks = list(r.mean_ranks["name"]), r.mean_ranks["mean_rank"].to_numpy()
    for i, j in _cd_cliques(names, ranks, r.critical_difference):
        assert ranks[j] - ranks[i] <= r.critical_difference
    ax2 = wb.plotting.critical_difference_diagram(wb.resample.wilcoxon_holm_test(S))
    assert ax2 is not None


def test_cv_intervals_are_clipped_to_the_score_range():
    # Separable data: outer-fold accuracies 0.93-1.0, so the 3-fold corrected t interval crosses 1
    # unclipped; it is clipped to [0, 1] and flagged. The point estimate is untouched.
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    from workbench.resample.cv import _clip_interval, _score_range, _t_interval

    X, y = make_classification(60, 5, n_informative=3, class_sep=2.5, flip_y=0.03, random_state=1)
    res = nested_cv(LogisticRegression(), X, y, outer_cv=3, random_state=0)
    row = res.summary.iloc[0]
    s = res.scores["score"].to_numpy()
    m, lo, hi, _ = _t_interval(s, 0.05, 1 / 2)
    assert row["value"] == pytest.approx(m) and row["ci_low"] == pytest.approx(max(lo, 0.0))
    assert row["ci_high"] == min(hi, 1.0) and row["clipped"] == (hi > 1.0 or lo < 0.0)
    assert hi > 1.0 and row["clipped"] and row["ci_high"] == 1.0
    # Known ranges; unknown scorers are never clipped.
    assert _score_range(None, LogisticRegression()) == (0.0, 1.0)
    assert _score_range("roc_auc", None) == (0.0, 1.0) and _score_range("f1_macro", None) == (0.0, 1.0)
    assert _score_range("r2", None) == (-np.inf, 1.0) and _score_range("neg_log_loss", None) == (-np.inf, 0.0)
    assert _score_range(lambda est, X, y: 0.0, None) == (-np.inf, np.inf)
    assert _clip_interval(-0.2, 0.5, (0.0, 1.0)) == (0.0, 0.5, True)
    assert _clip_interval(0.2, 0.5, (-np.inf, np.inf)) == (0.2, 0.5, False)
    rc = repeated_cv(LogisticRegression(), X, y, n_splits=3, n_repeats=2, random_state=0)
    assert (rc.intervals["ci_high"] <= 1.0).all() and "clipped" in rc.intervals


def _grouped_memorisation_data(n_groups=30, per_group=8, seed=0):
    # each group has its own random label and a tight cluster of rows: a 1-NN scores ~1 when a group
    # leaks across train and test, ~0.5 (chance) when every group stays within one fold
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_groups), per_group)
    centres = rng.normal(size=(n_groups, 4)) * 5
    X = centres[g] + 0.01 * rng.normal(size=(g.size, 4))
    y = rng.integers(0, 2, n_groups)[g]
    return X, y, g


def test_repeated_cv_with_groups_keeps_each_group_in_one_fold():
    X, y, g = _grouped_memorisation_data()
    leaky = repeated_cv(KNeighborsClassifier(1), X, y, n_splits=5, n_repeats=2, random_state=0)
    grouped = repeated_cv(KNeighborsClassifier(1), X, y, n_splits=5, n_repeats=2, random_state=0, groups=g)
    assert leaky.mean > 0.95
    assert grouped.scores.shape == (2, 5) and grouped.mean < 0.75
    names = np.array([f"user{i}" for i in g], dtype=object)  # string ids as a pandas column would give
    same = repeated_cv(KNeighborsClassifier(1), X, y, n_splits=5, n_repeats=2, random_state=0, groups=names)
    assert same.mean < 0.75


def test_nested_cv_passes_groups_to_the_outer_split_and_the_inner_search():
    from sklearn.model_selection import GroupKFold

    X, y, g = _grouped_memorisation_data()
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 3]}, cv=GroupKFold(3))
    r = nested_cv(search, X, y, outer_cv=5, groups=g, random_state=0)
    assert r.summary["value"].iloc[0] < 0.75


def test_repeated_cv_takes_an_int_cv_as_scikit_learn_does():
    X, y = load_breast_cancer(return_X_y=True)
    r = repeated_cv(DecisionTreeClassifier(max_depth=2, random_state=0), X[:, :5], y, cv=5)
    ref = cross_validate(DecisionTreeClassifier(max_depth=2, random_state=0), X[:, :5], y, cv=5)["test_score"]
    np.testing.assert_allclose(r.scores.ravel(), ref)


class _NeedsRowZero(DummyClassifier):
    """Fails to fit when the sentinel row (X[0, 0] = -999) is not in the training set."""

    def fit(self, X, y, sample_weight=None):
        if not np.any(np.asarray(X)[:, 0] == -999):
            raise ValueError("the sentinel row is missing from the training set")
        return super().fit(X, y, sample_weight)


def _sentinel_data(n=40):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(n, 3)), np.arange(n) % 2
    X[0, 0] = -999.0
    return X, y


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
def test_repeated_cv_counts_failed_fits_and_says_which_failed_first():
    from sklearn.exceptions import FitFailedWarning

    X, y = _sentinel_data()
    # the sentinel row is tested (so missing from training) in exactly one fold per repeat: 2 of 10 fail
    with pytest.warns(RuntimeWarning, match=r"repeated_cv: 2 of 10 fits \(folds\) failed.*NaN.*First failure "
                                            r"\(fold \d\): ValueError: the sentinel row is missing") as rec:
        r = repeated_cv(_NeedsRowZero(), X, y, n_splits=5, n_repeats=2, random_state=0)
    assert any(issubclass(w.category, FitFailedWarning) for w in rec)  # scikit-learn's warning still comes through
    assert r.diagnostics["failed_fits"] == 2 and r.diagnostics["n_fits"] == 10
    assert "sentinel row is missing" in r.diagnostics["first_fit_error"]
    assert np.isnan(r.scores).sum() == 2 and r.intervals["value"].isna().all()  # behaviour otherwise unchanged
    with pytest.raises(ValueError, match="sentinel row is missing"):
        repeated_cv(_NeedsRowZero(), X, y, n_splits=5, n_repeats=2, random_state=0, error_score="raise")
    r0 = repeated_cv(_logreg(), X, y, n_splits=5, n_repeats=2, random_state=0)
    assert r0.diagnostics["failed_fits"] == 0 and r0.diagnostics["first_fit_error"] is None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
def test_nested_cv_counts_failed_outer_fits_per_algorithm():
    X, y = _sentinel_data()
    with pytest.warns(RuntimeWarning, match=r"nested_cv: 1 of 5 fits \(folds\) failed for 'fragile'.*"
                                            r"sentinel row is missing"):
        r = nested_cv({"fragile": _NeedsRowZero(), "dummy": DummyClassifier()}, X, y, outer_cv=5, random_state=0)
    assert r.diagnostics["failed_fits"] == {"fragile": 1, "dummy": 0}
    assert r.diagnostics["n_fits"] == {"fragile": 5, "dummy": 5}
    s = r.summary.set_index("algorithm")
    assert np.isnan(s.loc["fragile", "value"]) and np.isfinite(s.loc["dummy", "value"])
    with pytest.raises(ValueError, match="sentinel row is missing"):
        nested_cv(_NeedsRowZero(), X, y, outer_cv=5, random_state=0, error_score="raise")


def test_bootstrap_error_names_the_bootstrap_sample_that_lacks_a_class():
    X = np.arange(12, dtype=float).reshape(6, 2)
    y = np.array([0, 0, 0, 1, 1, 1])
    good = (np.array([0, 1, 3, 4, 0, 3]), np.array([2, 5]))
    one_class = (np.array([0, 1, 2, 0, 1, 2]), np.array([3, 4, 5]))
    with pytest.raises(ValidationError, match=r"bootstrap sample 1 \(of 2.*lacks class\(es\) \[1\].*"
                                              r"the fit failed: .*class") as info:
        bootstrap_error(LogisticRegression(), X, y, cv=[good, one_class])
    assert type(info.value.__cause__) is ValueError
    with pytest.raises(ValidationError, match=r"bootstrap sample 0 .*training set is empty"):
        bootstrap_error(LogisticRegression(), X, y, cv=[(np.array([], dtype=np.int64), np.arange(6)), good])
    with pytest.raises(ValidationError, match=r"bootstrap sample 1 .*lacks class"):  # aggregate scorer path
        bootstrap_error(LogisticRegression(), X, y, cv=[good, one_class], scoring="accuracy")
