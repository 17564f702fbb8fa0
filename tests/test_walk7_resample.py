"""Walk 7 (resampling): defects met by a user comparing scikit-learn models on pandas data with string labels.

Each test failed on the code before its fix (checked against a git-archive snapshot)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import LeaveOneOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from workbench.resample import learning_curve_ci, ncv_interval, nested_cv, repeated_cv


def _labelled(n=120, seed=0, noise=0.5):
    """Two classes named by strings, in a DataFrame (the persona's data)."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    y = pd.Series(np.where(X["a"] + noise * rng.normal(size=n) > 0, "malignant", "benign"))
    return X, y


def _logreg():
    return make_pipeline(StandardScaler(), LogisticRegression())


def _record(fn):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn()
    return out, [w for w in rec if issubclass(w.category, RuntimeWarning)]


# ---------------------------------------------------------------------------------------------
# A scorer that fails after a successful fit was reported as failed fits ("see the FitFailedWarning",
# which scikit-learn never issued); its real error (pos_label=1 is not a label) was not named.
# ---------------------------------------------------------------------------------------------
def test_repeated_cv_names_a_scorer_failure_as_such_with_its_error():
    X, y = _labelled()
    r, rec = _record(lambda: repeated_cv(_logreg(), X, y, n_splits=3, n_repeats=1, scoring="f1", random_state=0))
    msgs = [str(w.message) for w in rec]
    assert not any("fits (folds) failed" in m for m in msgs), msgs  # the fits succeeded
    assert any("3 of 3 folds have no score" in m and "scorer raised" in m and "pos_label=1 is not a valid label" in m
               for m in msgs), msgs
    assert r.diagnostics["failed_fits"] == 0
    assert r.diagnostics["failed_scores"] == 3
    assert "pos_label=1" in r.diagnostics["first_score_error"]


def test_nested_cv_counts_unscored_outer_folds_per_algorithm():
    X, y = _labelled()
    r, rec = _record(lambda: nested_cv({"lr": _logreg()}, X, y, outer_cv=3, scoring="f1", random_state=0))
    assert r.diagnostics["failed_fits"] == {"lr": 0} and r.diagnostics["failed_scores"] == {"lr": 3}
    assert any("nested_cv: 3 of 3 folds have no score" in str(w.message) for w in rec)


def test_a_nan_score_is_not_called_a_failed_fit():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(8, 2))
    y = X[:, 0] + rng.normal(size=8)
    # R^2 of one test row is NaN (scikit-learn warns UndefinedMetricWarning); every fit succeeded
    r, rec = _record(lambda: repeated_cv(Ridge(), X, y, cv=LeaveOneOut(), scoring="r2"))
    msgs = [str(w.message) for w in rec]
    assert not any("fits (folds) failed" in m for m in msgs), msgs
    assert any("8 of 8 folds have no score" in m and "scorer gave NaN" in m for m in msgs), msgs
    assert r.diagnostics["failed_fits"] == 0 and r.diagnostics["failed_scores"] == 8


# ---------------------------------------------------------------------------------------------
# A NaN interval was flagged clipped=True (NaN != NaN after np.clip).
# ---------------------------------------------------------------------------------------------
def test_a_nan_interval_is_not_flagged_clipped():
    X, y = _labelled()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = repeated_cv(_logreg(), X, y, n_splits=3, n_repeats=1, scoring="f1", random_state=0)
        lc = learning_curve_ci(_logreg(), X, y, train_sizes=(2, 40), n_splits=3, n_repeats=1, random_state=1)
    assert r.intervals["value"].isna().all()
    assert not r.intervals["clipped"].any()
    nan_rows = lc[lc["value"].isna()]
    assert len(nan_rows) == 1 and not nan_rows["clipped"].any()


# ---------------------------------------------------------------------------------------------
# learning_curve_ci: a size whose fits failed became a NaN row; scikit-learn's warning counted the failures
# over all sizes ("1 fits failed out of a total of 6") and nothing said which row.
# ---------------------------------------------------------------------------------------------
def test_learning_curve_names_the_sizes_with_nan_scores():
    X, y = _labelled()
    lc, rec = _record(lambda: learning_curve_ci(_logreg(), X, y, train_sizes=(2, 40), n_splits=3, n_repeats=1,
                                                random_state=1))
    assert np.isnan(lc.loc[0, "value"]) and np.isfinite(lc.loc[1, "value"])
    msgs = [str(w.message) for w in rec if "learning_curve_ci: test scores are NaN" in str(w.message)]
    assert len(msgs) == 1 and "at train_size 2" in msgs[0] and "train_size 40" not in msgs[0], msgs


# ---------------------------------------------------------------------------------------------
# ncv_interval: a normal interval for an error rate crossed 0 ([-0.019, 0.052] for a 1.7% error rate).
# ---------------------------------------------------------------------------------------------
def test_ncv_interval_clips_a_named_loss_to_its_range_and_says_so():
    X, y = _labelled(n=90, seed=1, noise=0.15)  # a 3% error rate
    kw = dict(n_folds=3, n_reps=2, random_state=0, progress=False)
    t = ncv_interval(_logreg(), X, y, **kw).set_index("interval")
    assert (t["ci_low"] >= 0).all() and (t["ci_high"] <= 1).all()
    assert "clipped" in t.columns
    raw = ncv_interval(_logreg(), X, y, loss=lambda a, b: (np.asarray(a) != np.asarray(b)).astype(float),
                       **kw).set_index("interval")  # the same loss as a callable: its range is unknown
    assert not raw["clipped"].any()
    np.testing.assert_allclose(t["value"], raw["value"])
    np.testing.assert_allclose(t["se"], raw["se"])
    lo_raw = raw.loc["ncv", "ci_low"]
    assert lo_raw < 0, lo_raw  # this data set's ncv interval does cross 0, so the clip is exercised
    assert t.loc["ncv", "clipped"] and t.loc["ncv", "ci_low"] == 0.0
    np.testing.assert_allclose(t.loc["ncv", "ci_high"], raw.loc["ncv", "ci_high"])


# ---------------------------------------------------------------------------------------------
# Rank tests: equal mean accuracies averaged from other fold scores differ in the last bits
# (0.8166666666666668 vs 0.8166666666666667) and were ranked 1 and 2, not tied.
# ---------------------------------------------------------------------------------------------
def test_rank_tests_treat_scores_equal_up_to_rounding_as_ties():
    from scipy import stats

    from workbench.resample import friedman_test, nemenyi_test, wilcoxon_holm_test

    folds_a = np.array([24, 22, 24, 25, 26, 27, 23, 25, 26, 23]) / 30  # 245 of 300 rows right
    folds_b = np.array([24, 22, 24, 26, 26, 27, 23, 25, 25, 23]) / 30  # 245 of 300 rows right, other folds
    a, b = folds_a.mean(), folds_b.mean()
    assert a != b and abs(a - b) < 1e-15  # the same accuracy, to rounding
    S = np.array([[a, b, 0.7], [0.9, 0.85, 0.8], [0.7, 0.75, 0.6], [0.66, 0.6, 0.61], [0.9, 0.91, 0.5],
                  [0.8, 0.82, 0.81], [0.7, 0.72, 0.75]])
    exact = S.copy()
    exact[0, 1] = a  # the tie written exactly
    for test in (friedman_test, nemenyi_test, wilcoxon_holm_test):
        r, e = test(S), test(exact)
        assert r.statistic == e.statistic and r.iman_davenport == e.iman_davenport
        pd.testing.assert_frame_equal(r.mean_ranks, e.mean_ranks)
        pd.testing.assert_frame_equal(r.pairwise, e.pairwise)
    assert friedman_test(S).statistic == pytest.approx(stats.friedmanchisquare(*exact.T).statistic, rel=1e-12)
    assert wilcoxon_holm_test(S).pairwise.loc[0, "p_value"] == pytest.approx(
        stats.wilcoxon(exact[:, 0], exact[:, 1]).pvalue, rel=1e-12)
    # real differences, however small next to the scores' spread, are kept
    T = S.copy()
    T[0, 1] = a - 1e-9
    assert friedman_test(T).statistic != friedman_test(exact).statistic


# ---------------------------------------------------------------------------------------------
# scoring=None with a search: its score() is the search's own scoring, not the classifier's accuracy.
# GridSearchCV(scoring="neg_log_loss") scores <= 0, and the [0, 1] clip made the interval [0, 0].
# ---------------------------------------------------------------------------------------------
def test_a_search_with_its_own_scoring_is_clipped_to_that_scorer_s_range():
    from sklearn.model_selection import GridSearchCV

    X, y = _labelled(n=90, seed=2)
    grid = {"logisticregression__C": [0.1, 1.0]}  # 2 candidates: a search, kept small
    for scoring, refit in (("neg_log_loss", True), ({"ll": "neg_log_loss", "acc": "accuracy"}, "ll")):
        search = GridSearchCV(_logreg(), grid, cv=3, scoring=scoring, refit=refit)
        s = nested_cv(search, X, y, outer_cv=3, random_state=0).summary.iloc[0]
        assert s["value"] < 0
        assert s["ci_low"] < s["value"] < s["ci_high"] <= 0 and not s["clipped"], s
        if refit is True:
            r = repeated_cv(search, X, y, n_splits=3, n_repeats=1, random_state=0).intervals.iloc[0]
            assert r["ci_low"] < r["value"] < r["ci_high"] <= 0, r
    # a search scored by accuracy keeps the [0, 1] range
    acc = nested_cv(GridSearchCV(_logreg(), grid, cv=3, scoring="accuracy"), X, y, outer_cv=3,
                    random_state=0).summary.iloc[0]
    assert 0 <= acc["ci_low"] <= acc["value"] <= acc["ci_high"] <= 1


# ---------------------------------------------------------------------------------------------
# _repr_html_ (what a notebook shows) left out what the repr says: the rank tests' statistics and
# p-values, and which score a CVResult holds.
# ---------------------------------------------------------------------------------------------
def test_html_shows_the_rank_test_and_the_cv_score_as_the_repr_does():
    from workbench.resample import friedman_test, nemenyi_test

    S = np.array([[.80, .78, .70], [.90, .85, .84], [.75, .74, .70], [.88, .86, .80], [.70, .71, .65]])
    for r in (friedman_test(S), nemenyi_test(S)):
        page = r._repr_html_()
        assert f"Friedman chi2={r.statistic:.4g} p={r.p_value:.3g}" in page, page[:300]
        assert f"Iman-Davenport F={r.iman_davenport:.4g}" in page
    X, y = _labelled(n=60)
    cv = repeated_cv(_logreg(), X, y, n_splits=3, n_repeats=1, scoring="balanced_accuracy", random_state=0)
    assert "balanced_accuracy: 1 x 3 folds" in cv._repr_html_() and "balanced_accuracy: 1 x 3 folds" in repr(cv)


def test_a_fold_that_truly_scores_error_score_is_not_a_failure():
    from sklearn.dummy import DummyClassifier
    from sklearn.metrics import f1_score, make_scorer

    X, y = _labelled()
    never = DummyClassifier(strategy="constant", constant="benign")  # F1 of "malignant" is 0 on every fold
    f1 = make_scorer(f1_score, pos_label="malignant", zero_division=0)
    r, rec = _record(lambda: repeated_cv(never, X, y, n_splits=3, n_repeats=1, scoring=f1, random_state=0,
                                         error_score=0.0))
    assert (r.scores == 0).all()
    msgs = [str(w.message) for w in rec]
    assert not any("failed" in m or "no score" in m for m in msgs), msgs
    assert r.diagnostics["failed_fits"] == 0 and r.diagnostics["failed_scores"] == 0


# ---------------------------------------------------------------------------------------------
# loss= an aggregate metric (sklearn.metrics.zero_one_loss) failed as "oob_losses: must be 1-D, got shape ()"
# (bootstrap_error) or numpy's "zero-dimensional arrays cannot be concatenated" (ncv_interval).
# ---------------------------------------------------------------------------------------------
def test_an_aggregate_metric_as_loss_is_refused_by_name():
    from sklearn.metrics import zero_one_loss

    from workbench._validation import ValidationError
    from workbench.resample import bootstrap_error

    X, y = _labelled(n=60)
    with pytest.raises(ValidationError, match=r"loss: must return one loss per row, shape \(\d+,\), got shape \(\) "
                                              r"from zero_one_loss"):
        bootstrap_error(_logreg(), X, y, loss=zero_one_loss, n_splits=5, random_state=0, progress=False)
    with pytest.raises(ValidationError, match=r"loss: must return one loss per row.*zero_one_loss"):
        ncv_interval(_logreg(), X, y, loss=zero_one_loss, n_folds=3, n_reps=2, random_state=0, progress=False)
    # a per-row callable is accepted and equals the named loss
    per_row = bootstrap_error(_logreg(), X, y, loss=lambda a, b: (a != b).astype(float), n_splits=5, random_state=0,
                              progress=False)
    named = bootstrap_error(_logreg(), X, y, loss="zero_one", n_splits=5, random_state=0, progress=False)
    assert per_row.oob == named.oob and per_row.point632plus == named.point632plus


# ---------------------------------------------------------------------------------------------
# McNemar / Cochran: a missing label of a nullable pandas column (<NA>) was refused as "mixed" labels.
# ---------------------------------------------------------------------------------------------
def test_a_missing_nullable_label_is_named_as_missing():
    from workbench._validation import ValidationError
    from workbench.resample import cochrans_q, mcnemar_test

    full = pd.Series(["a", "b", "b", "a"], dtype="string")
    gap = pd.Series(["a", "b", None, "a"], dtype="string")
    with pytest.raises(ValidationError, match=r"y_true: must not be missing; 1 of 4 rows .* row 2"):
        mcnemar_test(gap, full, full)
    with pytest.raises(ValidationError, match=r"pred_b: must not be missing; 1 of 4 rows .* row 2"):
        mcnemar_test(full, full, gap)
    with pytest.raises(ValidationError, match=r"predictions\[1\]: must not be missing; 1 of 4 rows .* row 2"):
        cochrans_q(full, full, gap)
    ints = pd.Series([1, 0, 1, 1], dtype="Int64")
    with pytest.raises(ValidationError, match=r"y_true: must not be (missing|NaN); 1 of 4 rows .* row 3"):
        mcnemar_test(pd.Series([1, 0, 1, None], dtype="Int64"), ints, ints)
    assert mcnemar_test(full, full, full).details["n"] == 4  # complete nullable columns still read


# ---------------------------------------------------------------------------------------------
# bootstrap_error(scoring=...): an OOB set on which the scorer is undefined (roc_auc of one class) was
# counted as an empty split and left out of the OOB mean without a word.
# ---------------------------------------------------------------------------------------------
def test_bootstrap_error_counts_undefined_oob_scores_apart_from_empty_splits():
    from workbench.resample import bootstrap_error

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = np.zeros(40, int)
    y[:6] = 1  # 6 positives: some out-of-bag sets hold none
    X[:6] += 1
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        b = bootstrap_error(LogisticRegression(), X, y, scoring="roc_auc", n_splits=50, random_state=0,
                            progress=False)
    assert b.diagnostics["empty_oob_splits"] == 0  # every OOB set has rows
    k = b.diagnostics["undefined_oob_scores"]
    assert k > 0
    assert any(issubclass(w.category, RuntimeWarning) and f"scorer gave NaN on {k} of 50 non-empty" in str(w.message)
               for w in rec)
    assert np.isfinite(b.oob)
