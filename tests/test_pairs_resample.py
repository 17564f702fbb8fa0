"""Options of workbench.resample used together (feature-interaction audit): each test pins a property that
must hold when two options meet, and failed on the code before its fix."""
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier

from workbench.resample import (BootstrapSplit, bootstrap_error, corrected_resampled_t_test, f_test_5x2cv,
                                ncv_interval, repeated_cv)


# --------------------------------------------------------------------------------------------
# fit_params with per-row values x the fits run here (CV tests, bootstrap_error, ncv_interval)
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def weighted_iris():
    X, y = load_iris(return_X_y=True)
    w = np.random.default_rng(0).integers(1, 5, y.size).astype(float)
    return X, y, w


def _trees():
    return DecisionTreeClassifier(max_depth=3, random_state=0), DecisionTreeClassifier(max_depth=1, random_state=0)


def test_corrected_t_with_sample_weight_equals_the_repeated_cv_route(weighted_iris):
    # Both routes are documented to give the same result; repeated_cv slices sample_weight per fold
    # (cross_validate), the estimators route passed it whole and every fit failed.
    X, y, w = weighted_iris
    a, b = _trees()
    kw = dict(n_splits=5, n_repeats=2, random_state=0, fit_params={"sample_weight": w})
    direct = corrected_resampled_t_test(a, b, X, y, progress=False, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # equal fold scores of the stump: not the point here
        via = corrected_resampled_t_test(repeated_cv(a, X, y, **kw), repeated_cv(b, X, y, **kw))
    assert direct.statistic == pytest.approx(via.statistic, rel=1e-12)
    # and the weights matter: unweighted fits give other fold scores
    plain = corrected_resampled_t_test(a, b, X, y, n_splits=5, n_repeats=2, random_state=0, progress=False)
    assert not np.array_equal(direct.details["differences"], plain.details["differences"])


def test_5x2cv_with_sample_weight_equals_the_repeated_cv_route(weighted_iris):
    X, y, w = weighted_iris
    a, b = _trees()
    direct = f_test_5x2cv(a, b, X, y, random_state=3, fit_params={"sample_weight": w}, progress=False)
    kw = dict(n_splits=2, n_repeats=5, random_state=3, fit_params={"sample_weight": w})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        via = f_test_5x2cv(repeated_cv(a, X, y, **kw), repeated_cv(b, X, y, **kw))
    assert direct.statistic == pytest.approx(via.statistic, rel=1e-12)


@pytest.mark.parametrize("groups", [False, True])
def test_bootstrap_error_weights_follow_the_drawn_rows(weighted_iris, groups):
    # A weight vector of n entries fits a bootstrap sample of n rows without complaint, but row i's weight
    # went to the i-th drawn row: the OOB error of weighted fits was silently that of other weights (and with
    # groups, whose samples are not n rows long, the fits failed).
    X, y, w = weighted_iris
    est = DecisionTreeClassifier(max_depth=2, random_state=0)
    g = np.arange(y.size) // 3 if groups else None
    splits = list(BootstrapSplit(40, random_state=5).split(X, y, g))
    r = bootstrap_error(est, X, y, cv=splits, groups=g, fit_params={"sample_weight": w}, progress=False)
    tot, cnt = np.zeros(y.size), np.zeros(y.size)
    for tr, te in splits:  # by hand: each sample's model fitted with the weights of the rows it drew
        m = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X[tr], y[tr], sample_weight=w[tr])
        np.add.at(tot, te, (m.predict(X[te]) != y[te]).astype(float))
        np.add.at(cnt, te, 1.0)
    assert r.oob == pytest.approx(float(np.mean(tot[cnt > 0] / cnt[cnt > 0])), rel=1e-12)


def test_ncv_interval_takes_per_row_fit_params(weighted_iris):
    X, y, w = weighted_iris
    est = DecisionTreeClassifier(max_depth=2, random_state=0)
    tab = ncv_interval(est, X, y, n_folds=3, n_reps=2, random_state=1, fit_params={"sample_weight": w},
                       progress=False)
    assert np.isfinite(tab["value"]).all()
    # and the weights reach the fits (dropping them would also give finite values; seed 1: with seed 0 the
    # weighted and plain trees happen to make the same errors on these folds)
    plain = ncv_interval(est, X, y, n_folds=3, n_reps=2, random_state=1, progress=False)
    assert not np.array_equal(tab["value"].to_numpy(), plain["value"].to_numpy())


def test_split_fit_params_slices_per_row_values_and_passes_scalars_through():
    from workbench.resample.oob import split_fit_params

    X = np.zeros((6, 1))
    out = split_fit_params({"sample_weight": np.arange(6.0), "check_input": True}, X, np.array([0, 0, 5]))
    assert out["check_input"] is True
    assert out["sample_weight"].tolist() == [0.0, 0.0, 5.0]  # repeats kept, as a bootstrap sample draws them
    assert split_fit_params(None, X, np.array([0])) == {}


# --------------------------------------------------------------------------------------------
# bootstrap_error: cv= x groups (a whole-group split that is not a cluster bootstrap)
# --------------------------------------------------------------------------------------------
def test_bootstrap_error_group_subsampling_cv_gets_no_delta_method_interval():
    # Documented: the standard error and interval are NaN for a cv that is not a bootstrap. Without groups a
    # GroupShuffleSplit-like cv is caught (train sets must have n rows); with groups every whole-group split
    # has integer cluster counts and passed as a cluster bootstrap: a finite se and interval for a 70%
    # subsample without replacement, which the delta-method formula does not cover.
    from sklearn.datasets import make_classification
    from sklearn.model_selection import GroupShuffleSplit

    X, y = make_classification(300, 5, random_state=0)
    g = np.repeat(np.arange(100), 3)
    est = DecisionTreeClassifier(max_depth=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        sub = bootstrap_error(est, X, y, cv=GroupShuffleSplit(120, test_size=0.3, random_state=0), groups=g,
                              progress=False)
    assert np.isnan(sub.se) and np.isnan(sub.oob_se) and np.isnan(sub.ci_low) and np.isnan(sub.ci_high)
    assert "not a cluster bootstrap" in sub.diagnostics["se"]["reason"]
    assert np.isfinite(sub.oob)  # the point estimates are still given
    # the cluster bootstrap itself keeps its interval
    boot = bootstrap_error(est, X, y, cv=BootstrapSplit(150, random_state=0), groups=g, progress=False)
    assert np.isfinite(boot.se) and boot.ci_low < boot.point632plus < boot.ci_high


def test_bootstrap_error_refuses_loss_with_scoring_before_any_fit():
    # loss= and scoring= together were refused only after the estimator had been fitted on all rows
    class Counting(DecisionTreeClassifier):
        fits = 0

        def fit(self, X, y, **kw):
            type(self).fits += 1
            return super().fit(X, y, **kw)

    X, y = load_iris(return_X_y=True)
    from workbench._validation import ValidationError

    with pytest.raises(ValidationError, match="either loss="):
        bootstrap_error(Counting(max_depth=2), X, y, loss="zero_one", scoring="accuracy", n_splits=5, random_state=0,
                        progress=False)
    assert Counting.fits == 0


# --------------------------------------------------------------------------------------------
# Two CVResults x random_state / groups: the paired CV tests need the same folds
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("other", [{"random_state": 1}, {"random_state": 0, "groups": np.arange(150) % 30}])
def test_cv_tests_refuse_cvresults_from_other_splits(other):
    # Same shape and the same mean sizes, other rows in the folds: the tests paired unrelated folds silently
    # (corrected t 1.565 vs 1.425 for the truly paired folds in the probe).
    from workbench._validation import ValidationError

    X, y = load_iris(return_X_y=True)
    a, b = _trees()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ra = repeated_cv(a, X, y, n_splits=5, n_repeats=2, random_state=0)
        rb = repeated_cv(b, X, y, n_splits=5, n_repeats=2, **other)
        same = repeated_cv(b, X, y, n_splits=5, n_repeats=2, random_state=0)
    assert ra.scores.shape == rb.scores.shape and (ra.n_train, ra.n_test) == (rb.n_train, rb.n_test)
    with pytest.raises(ValidationError, match="other rows"):
        corrected_resampled_t_test(ra, rb)
    corrected_resampled_t_test(ra, same)  # the same arguments and seed: accepted


def test_cv_tests_accept_cvresults_from_equal_generators():
    X, y = load_iris(return_X_y=True)
    a, b = _trees()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ra = repeated_cv(a, X, y, n_splits=2, n_repeats=5, random_state=np.random.default_rng(4))
        rb = repeated_cv(b, X, y, n_splits=2, n_repeats=5, random_state=np.random.default_rng(4))
    direct = f_test_5x2cv(a, b, X, y, random_state=np.random.default_rng(4), progress=False)
    assert f_test_5x2cv(ra, rb).statistic == pytest.approx(direct.statistic, rel=1e-12)


# --------------------------------------------------------------------------------------------
# mcnemar_test: labels x table
# --------------------------------------------------------------------------------------------
def test_mcnemar_refuses_labels_and_table_together():
    # The table won and the labels were ignored silently (b, c = 5, 20 from the table while the labels gave
    # 24, 15); with ci_method='bootstrap' it asked for the labels that had been passed.
    from workbench._validation import ValidationError
    from workbench.resample import mcnemar_table, mcnemar_test

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    a, b = np.where(rng.random(100) < .2, 1 - y, y), np.where(rng.random(100) < .3, 1 - y, y)
    with pytest.raises(ValidationError, match="not both"):
        mcnemar_test(y, a, b, table=[[40, 5], [20, 35]])
    with pytest.raises(ValidationError, match="not both"):
        mcnemar_test(y_true=y, table=mcnemar_table(y, a, b), ci_method="bootstrap")
    # each alone still works, and gives the same test
    assert mcnemar_test(y, a, b).to_dict() == mcnemar_test(table=mcnemar_table(y, a, b)).to_dict()
