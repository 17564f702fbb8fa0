"""Walk findings (stop 30) in the model-comparison tests, each reproduced before the fix."""
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import KFold, RepeatedStratifiedKFold
from sklearn.tree import DecisionTreeClassifier

from workbench._validation import ValidationError
from workbench.resample import cochrans_q, f_test_5x2cv, friedman_test, mcnemar_test, paired_t_5x2cv


def test_iman_davenport_p_keeps_the_order_of_outcomes_near_the_extreme():
    S = np.tile([3.0, 2, 1], (10, 1))  # every data set ranks the three the same way: the most extreme outcome
    S2 = S.copy()
    S2[-1] = [2, 3, 1]  # one ranking swapped: less extreme
    p_max, p_near = friedman_test(S).iman_davenport_p_value, friedman_test(S2).iman_davenport_p_value
    assert p_max == pytest.approx(6.0 ** -9)  # exact: k!^(1 - N)
    assert p_near >= p_max  # was 3.9e-10, below the most extreme outcome's 9.9e-8


def test_iman_davenport_p_is_the_f_approximation_away_from_the_extreme():
    from scipy import stats

    rng = np.random.default_rng(0)
    S = rng.random((12, 4))
    r = friedman_test(S)
    N, k = S.shape
    assert r.iman_davenport_p_value == pytest.approx(stats.f.sf(r.iman_davenport, k - 1, (k - 1) * (N - 1)))


@pytest.mark.parametrize("test", [paired_t_5x2cv, f_test_5x2cv])
@pytest.mark.parametrize("cv", [10, KFold(10)])
def test_5x2cv_refuses_splits_that_are_not_five_pairs_of_halves(test, cv):
    X, y = load_iris(return_X_y=True)
    a, b = DecisionTreeClassifier(max_depth=1, random_state=0), DecisionTreeClassifier(max_depth=3, random_state=0)
    with pytest.raises(ValidationError, match="cv: must give 5 replications of 2-fold CV"):
        test(a, b, X, y, cv=cv, progress=False)  # ran 10-fold CV and reported a "5x2cv" t of -11


def test_5x2cv_with_a_repeated_two_fold_splitter_equals_the_default_route():
    X, y = load_iris(return_X_y=True)
    a, b = DecisionTreeClassifier(max_depth=1, random_state=0), DecisionTreeClassifier(max_depth=3, random_state=0)
    cv = RepeatedStratifiedKFold(n_splits=2, n_repeats=5, random_state=3)
    r = paired_t_5x2cv(a, b, X, y, cv=cv, progress=False)
    # by hand on the same splits
    d = []
    for tr, te in cv.split(X, y):
        d.append(a.fit(X[tr], y[tr]).score(X[te], y[te]) - b.fit(X[tr], y[tr]).score(X[te], y[te]))
    p = np.array(d).reshape(5, 2)
    s2 = ((p - p.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    assert r.statistic == pytest.approx(p[0, 0] / np.sqrt(s2.mean()))


@pytest.mark.parametrize("args, field", [(([0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 1]), "pred_b"),
                                         (([0, 1, 1, 0], [0, 1, 1], [0, 1, 1, 0]), "pred_a")])
def test_mcnemar_names_the_prediction_array_at_fault(args, field):
    with pytest.raises(ValidationError, match=f"^{field}: must have one prediction per label"):
        mcnemar_test(*args)


def test_cochrans_q_names_the_prediction_array_at_fault():
    with pytest.raises(ValidationError, match=r"^predictions\[2\]: must be class labels"):
        cochrans_q([0, 1, 1, 0], [0, 1, 1, 0], [0, 1, 1, 0], [0.5, 1, 1, 0])


def test_mcnemar_counts_booleans_held_as_objects():
    y = pd.Series([True, False, None, True, False]).dropna()  # object dtype
    pa, pb = np.array([True, False, True, True]), np.array([True, True, True, False])
    r = mcnemar_test(y, pa, pb)
    ref = mcnemar_test(y.to_numpy(dtype=bool), pa, pb)
    assert r.p_value == ref.p_value and r.details["b"] == ref.details["b"] == 1


# ---- arguments that only shape folds run here, given with fold scores --------------------------------
def _ab():
    return np.random.default_rng(0).random((2, 10))


@pytest.mark.parametrize("kw, field", [({"scoring": "bogus_metric"}, "scoring"), ({"cv": KFold(3)}, "cv"),
                                       ({"X": np.ones((5, 2)), "y": [0] * 5}, "X"), ({"n_splits": -3}, "n_splits"),
                                       ({"n_repeats": 0}, "n_repeats"), ({"fit_params": {"w": 1}}, "fit_params")])
@pytest.mark.parametrize("name", ["corrected_resampled_t_test", "bayesian_correlated_t_test"])
def test_fold_scores_refuse_arguments_that_would_change_nothing(name, kw, field):
    from workbench import resample

    a, b = _ab()
    with pytest.raises(ValidationError, match=f"^{field}: applies when the folds are run here"):
        getattr(resample, name)(a, b, n_train=9, n_test=1, **kw)


@pytest.mark.parametrize("kw, field", [({"scoring": "accuracy"}, "scoring"), ({"cv": KFold(2)}, "cv")])
def test_5x2cv_fold_scores_refuse_run_arguments(kw, field):
    a, b = _ab()
    with pytest.raises(ValidationError, match=f"^{field}: applies when the folds are run here"):
        paired_t_5x2cv(a, b, **kw)


def test_fold_scores_with_only_their_own_arguments_still_run():
    from workbench.resample import corrected_resampled_t_test

    a, b = _ab()
    r = corrected_resampled_t_test(a, b, n_train=9, n_test=1, n_splits=10, n_repeats=10, random_state=3)
    assert np.isfinite(r.p_value)


# ---- Wilcoxon with ties at n <= 13: scipy's exact permutation p-value, by convolution ----------------
@pytest.mark.parametrize("zero_method", ["wilcox", "pratt", "zsplit"])
def test_tied_signed_rank_p_values_equal_scipy(zero_method):
    from scipy import stats

    from workbench.resample.ranks import _wilcoxon_p

    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(25):
        n = int(rng.integers(4, 11))  # scipy enumerates 2**n sign flips: n <= 10 keeps it fast
        d = np.round(rng.normal(size=n), 1) - np.round(rng.normal(size=n), 1)
        d[rng.random(n) < 0.15] = 0.0
        if np.all(d == 0):
            continue
        ours = _wilcoxon_p(d, zero_method)
        assert ours == pytest.approx(stats.wilcoxon(d, zero_method=zero_method).pvalue, rel=1e-12, abs=1e-15)
        checked += 1
    assert checked >= 20


def test_wilcoxon_holm_on_tied_scores_matches_scipy_per_pair():
    from scipy import stats

    from workbench.resample import wilcoxon_holm_test

    rng = np.random.default_rng(3)
    S = np.round(rng.random((9, 3)), 1)  # one-decimal scores: ties
    r = wilcoxon_holm_test(S)
    from workbench.resample.ranks import _merge_rounding_magnitudes

    # the test's own differences: 0.3 - 0.2 and 0.4 - 0.3 are one magnitude there (rounding ties merged)
    ref = [stats.wilcoxon(_merge_rounding_magnitudes(S[:, i] - S[:, j], np.maximum(np.abs(S[:, i]), np.abs(S[:, j]))))
           .pvalue for i in range(3) for j in range(i + 1, 3)]
    np.testing.assert_allclose(r.pairwise["p_value"].to_numpy(), ref, rtol=1e-12)
