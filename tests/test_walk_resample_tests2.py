"""Findings of a walk through the comparison tests (stop 26): fold scores of other shapes, size arguments that
were silently dropped, pandas indexes of paired inputs, an empty out-of-bag set, zero-width log intervals."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeClassifier

from workbench import ValidationError
from workbench.resample import (bayesian_correlated_t_test, bootstrap_error, cochrans_q, corrected_resampled_t_test,
                                mcnemar_table, mcnemar_test, repeated_cv)
from workbench.resample.oob import oob_delta_se

RNG = np.random.default_rng(0)
SA = RNG.normal(0.8, 0.02, 30)
SB = RNG.normal(0.78, 0.02, 30)


def test_fold_scores_of_other_2d_shapes_are_refused():
    with pytest.raises(ValidationError, match=r"scores_b.*shape \(3, 10\) vs \(10, 3\)"):
        corrected_resampled_t_test(SA.reshape(10, 3), SB.reshape(3, 10), n_train=9, n_test=1)
    with pytest.raises(ValidationError, match="scores_b"):
        bayesian_correlated_t_test(SA.reshape(10, 3), SB.reshape(3, 10), rho=0.1)
    # same shape, or one flat array in the same row-major order: paired as before
    r2 = corrected_resampled_t_test(SA.reshape(10, 3), SB.reshape(10, 3), n_train=9, n_test=1)
    r1 = corrected_resampled_t_test(SA, SB.reshape(10, 3), n_train=9, n_test=1)
    assert r1.statistic == r2.statistic == corrected_resampled_t_test(SA, SB, n_train=9, n_test=1).statistic


def test_size_arguments_are_never_silently_dropped():
    with pytest.raises(ValidationError, match="test_train_ratio.*not both"):
        corrected_resampled_t_test(SA, SB, test_train_ratio=0.5, n_train=90, n_test=10)
    with pytest.raises(ValidationError, match="rho.*not both"):
        bayesian_correlated_t_test(SA, SB, rho=0.5, n_train=90, n_test=10)
    with pytest.raises(ValidationError, match="n_test.*together"):
        corrected_resampled_t_test(SA, SB, n_train=90)
    # with two CVResults the sizes are known: other ones are refused, the same ones accepted
    X = RNG.normal(size=(150, 3))
    y = (X[:, 0] + RNG.normal(size=150) > 0).astype(int)
    ra = repeated_cv(DecisionTreeClassifier(max_depth=1, random_state=0), X, y, n_splits=2, n_repeats=3, random_state=1)
    rb = repeated_cv(DecisionTreeClassifier(max_depth=3, random_state=0), X, y, n_splits=2, n_repeats=3, random_state=1)
    base = corrected_resampled_t_test(ra, rb)
    with pytest.raises(ValidationError, match="n_train 10, n_test 140 disagree with the folds' own sizes"):
        corrected_resampled_t_test(ra, rb, n_train=10, n_test=140)
    with pytest.raises(ValidationError, match="test_train_ratio"):
        corrected_resampled_t_test(ra, rb, test_train_ratio=0.1)
    with pytest.raises(ValidationError, match="rho"):
        bayesian_correlated_t_test(ra, rb, rho=0.2)
    same = corrected_resampled_t_test(ra, rb, n_train=ra.n_train, n_test=ra.n_test)
    assert same.p_value == base.p_value
    assert bayesian_correlated_t_test(ra, rb, rho=0.5).details["rho"] == 0.5  # 2-fold: n_test / n = 1/2


def test_paired_pandas_inputs_must_share_their_index():
    y = pd.Series([0, 1] * 5)
    pa = pd.Series([0, 1, 1, 1, 0, 1, 0, 0, 0, 1])
    pb_shuffled = pd.Series(pa.to_numpy(), index=range(9, -1, -1))
    for call in (lambda: mcnemar_table(y, pa, pb_shuffled), lambda: mcnemar_test(y, pa, pb_shuffled),
                 lambda: cochrans_q(y, pa, pb_shuffled)):
        with pytest.raises(ValidationError, match="index must equal the index of y_true"):
            call()
    with pytest.raises(ValidationError, match="scores_b: index must equal"):
        corrected_resampled_t_test(pd.Series(SA), pd.Series(SB, index=np.arange(30)[::-1]), n_train=9, n_test=1)
    # the same Series by position, or arrays: accepted
    assert mcnemar_table(y, pa, pa.to_numpy()).sum() == 10


def test_cochrans_q_refuses_predictions_and_correct_together():
    y = np.array([0, 1] * 5)
    with pytest.raises(ValidationError, match="correct.*not both"):
        cochrans_q(y, y, 1 - y, correct=np.ones((10, 2)))


def test_bootstrap_error_survives_a_sample_that_draws_every_row():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(6, 1))
    y = X[:, 0] + rng.normal(size=6)
    with pytest.warns(RuntimeWarning, match="Monte Carlo noise"):  # n = 6: B would have to be far larger
        r = bootstrap_error(LinearRegression(), X, y, n_splits=200, random_state=0, progress=False)
    assert r.diagnostics["empty_oob_splits"] >= 1  # (6/6)^... : 6!/6^6 = 1.5% of samples draw every row
    assert np.isfinite(r.oob)


def test_log_interval_is_nan_not_zero_width_where_undefined():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    f = bootstrap_error(DecisionTreeClassifier(random_state=0), X, y, n_splits=50, random_state=0,
                        progress=False).to_frame()
    resub = f[f.estimator == "resubstitution"].iloc[0]
    assert resub.value == 0 and np.isnan(resub.se)
    assert np.isnan(resub.ci_low) and np.isnan(resub.ci_high)  # was [0, 0]
    # a loss that goes negative: no log-scale interval, and the reason is given
    rng = np.random.default_rng(1)
    Xr = rng.normal(size=(40, 2))
    yr = Xr[:, 0] + rng.normal(size=40)
    r = bootstrap_error(LinearRegression(), Xr, yr, n_splits=800, random_state=0, progress=False,
                        loss=lambda t, p: (t - p) ** 2 - 5)
    assert r.point632plus < 0 and np.isfinite(r.oob_se) and np.isnan(r.ci_low) and np.isnan(r.ci_high)
    assert "no CI (the .632+ interval needs a positive error" in repr(r)


def test_oob_delta_se_refuses_negative_counts():
    counts = np.array([[2.0, 0.0, 1.0], [0.0, 1.0, 2.0], [1.0, 1.0, 1.0]])
    ol = [(np.array([1]), np.array([0.5])), (np.array([0]), np.array([0.2])), (np.array([], int), np.array([]))]
    oob_delta_se(counts, ol)
    with pytest.raises(ValidationError, match=r"counts: must be >= 0.*first at row 0"):
        oob_delta_se(-counts, ol)


def test_oob_delta_se_refuses_a_single_sample():
    with pytest.raises(ValidationError, match="at least 2 bootstrap samples"):
        oob_delta_se(np.array([[2.0, 0.0, 1.0]]), [(np.array([1]), np.array([0.5]))])


def test_iman_davenport_p_at_perfect_agreement_is_the_exact_probability():
    from workbench.resample import friedman_test

    # every data set ranks the algorithms the same way: F is infinite; P(that | H0) = (k!)^(1 - N)
    r = friedman_test(np.array([[0.9, 0.8], [0.7, 0.6]]))  # N = 2, k = 2: 1/2 (was 0)
    assert np.isinf(r.iman_davenport) and r.iman_davenport_p_value == pytest.approx(0.5)
    S = np.tile([0.9, 0.8, 0.7], (4, 1)) - np.arange(4)[:, None] * 0.01  # N = 4, k = 3: 6^-3
    assert friedman_test(S).iman_davenport_p_value == pytest.approx(6.0 ** -3)


def test_test_result_details_are_read_only_and_pickle():
    import pickle

    r = corrected_resampled_t_test(SA, SB, n_train=9, n_test=1)
    with pytest.raises(TypeError, match="read-only"):
        r.details["b"] = 12345  # showed up in the repr
    assert pickle.loads(pickle.dumps(r)).p_value == r.p_value
