"""Stop 28 walk of the model-comparison tests: each test failed before its fix."""
import itertools
import math

import numpy as np
import pytest
from scipy import stats

from workbench import ValidationError
from workbench.resample import (corrected_resampled_t_test, friedman_test, mcnemar_test, model_confidence_set,
                                wilcoxon_holm_test)


@pytest.mark.parametrize("statistic", ["max", "R"])
def test_mcs_eliminates_a_model_worse_by_a_constant_on_every_row(statistic):
    # model_1 is wrong on every row where model_0 is right: t = d / 0 = inf in Hansen et al., p = 0
    L = np.column_stack([np.zeros(20), np.ones(20)])
    mcs = model_confidence_set(L, statistic=statistic, random_state=0)
    assert mcs.included == ("model_0",)
    assert mcs.frame.loc[1, "p_value"] == 0.0 and mcs.frame.loc[0, "p_value"] == 1.0
    # a constant gap next to an ordinary model (T_R raised "the set cannot be refined")
    rng = np.random.default_rng(0)
    A, B = (rng.random(16) < 0.3) * 1.0, (rng.random(16) < 0.4) * 1.0
    mcs = model_confidence_set(np.column_stack([A, A + 1, B]), statistic=statistic, random_state=0)
    assert "model_1" not in mcs.included and mcs.frame.loc[1, "eliminated_step"] == 1
    # identical models: no evidence, all stay with p = 1
    same = model_confidence_set(np.column_stack([A, A, A]), statistic=statistic, random_state=0)
    assert same.included == ("model_0", "model_1", "model_2") and (same.frame.p_value == 1).all()


def _exact_friedman_p_for_identical_rankings(row, n):
    # brute force: each data set's scores permuted uniformly; P(every data set ranks as the first does)
    arrangements = {p for p in itertools.permutations(row)}
    return len(arrangements) ** (1 - n)


@pytest.mark.parametrize("row, n", [([1, 1, 0], 2), ([1, 1, 0, 0], 3), ([3, 2, 1], 2), ([2, 2, 2, 1], 4)])
def test_iman_davenport_exact_p_for_identical_rankings_counts_ties(row, n):
    S = np.array([row] * n, float)
    p = friedman_test(S).iman_davenport_p_value
    assert p == pytest.approx(_exact_friedman_p_for_identical_rankings(tuple(row), n), rel=1e-12)


def test_wilcoxon_holm_does_not_depend_on_the_units_of_the_scores():
    S = np.array([[0.75, 0.62], [0.95, 0.77], [0.85, 0.78], [0.61, 0.79], [0.62, 0.60]])
    p = wilcoxon_holm_test(S).pairwise.p_value[0]
    assert p == wilcoxon_holm_test(S * 100).pairwise.p_value[0]  # 0.625 against 0.5
    # the exact differences in hundredths: 13, 18, 7, -18, 2 (two |d| tied at 18)
    d = np.array([13, 18, 7, -18, 2])
    assert p == pytest.approx(stats.wilcoxon(d).pvalue, rel=1e-12)


def test_naive_resampled_t_refuses_the_sizes_it_would_ignore():
    a, b = np.random.default_rng(0).random(10), np.zeros(10)
    for kw in ({"test_train_ratio": -5}, {"n_train": 90, "n_test": 10}, {"n_train": 90}):
        with pytest.raises(ValidationError, match="corrected test only"):
            corrected_resampled_t_test(a, b, corrected=False, **kw)
    assert corrected_resampled_t_test(a, b, corrected=False).p_value < 1


def test_mcnemar_refuses_probabilities_passed_as_predictions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 100)
    pa = np.clip(y * 0.8 + rng.normal(0.1, 0.1, 100), 0, 1)
    with pytest.raises(ValidationError, match="probabilities") as err:
        mcnemar_test(y, pa, rng.random(100))
    assert err.value.field == "pred_a" and err.value.first == 0  # the array at fault, by name (stop 30)
    # whole numbers in a float array are labels
    r = mcnemar_test(y, (pa > 0.5).astype(float), y.astype(float))
    assert math.isfinite(r.p_value)


def test_mcnemar_refuses_counts_beyond_exact_float_range():
    with pytest.raises(ValidationError, match="2\\*\\*53"):
        mcnemar_test(table=[[2**62, 2**62], [1, 1]])


@pytest.mark.parametrize("row, n", [([0, 2, 1, 1], 2), ([0, 0, 1, 2, 2], 3), ([5, 1, 1, 1], 2)])
def test_iman_davenport_exact_p_where_rounding_leaves_a_tiny_denominator(row, n):
    # denom = N(k-1) - chi2 came out 1e-15 > 0 for these tie patterns: F = 7e15, p = 3e-24 instead of exact
    S = np.array([row] * n, float)
    p = friedman_test(S).iman_davenport_p_value
    assert p == pytest.approx(_exact_friedman_p_for_identical_rankings(tuple(row), n), rel=1e-12)


def test_wilcoxon_holm_merges_rounding_per_data_set_not_across_magnitudes():
    # MSEs near 1e6 on five data sets and near 1e-9 on three: differences of 1e-9 are real there
    S = np.array([[1.0e6, 1.00005e6], [2.0e6, 1.9997e6], [1.5e6, 1.5007e6], [1.2e6, 1.2009e6], [3e6, 3.0011e6],
                  [1e-9, 2e-9], [3e-9, 1.3e-8], [5e-9, 2e-9]])
    got = wilcoxon_holm_test(S, higher_is_better=False).pairwise.p_value[0]
    assert got == pytest.approx(stats.wilcoxon(S[:, 0], S[:, 1]).pvalue, rel=1e-12)


def test_naive_resampled_t_refuses_ignored_sizes_before_fitting():
    class Boom:  # an "estimator" whose fit would fail loudly if it were reached
        def fit(self, X, y):
            raise AssertionError("fitted before the arguments were checked")

        def get_params(self, deep=True):
            return {}

    X, y = np.zeros((20, 2)), np.r_[np.zeros(10), np.ones(10)]
    with pytest.raises(ValidationError, match="corrected test only"):
        corrected_resampled_t_test(Boom(), Boom(), X, y, corrected=False, n_train=18, n_test=2)


def test_mcnemar_refuses_probabilities_held_as_objects():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    pa = rng.random(50)
    with pytest.raises(ValidationError, match="probabilities"):
        mcnemar_test(y, pa.astype(object), y)


def test_mcnemar_bootstrap_interval_warns_when_it_cannot_vary():
    y = np.r_[np.zeros(10, int), np.ones(10, int)]
    with pytest.warns(RuntimeWarning, match="no discordant pairs"):
        r = mcnemar_test(y, y, y, ci_method="bootstrap", random_state=0)
    assert r.ci_low == r.ci_high == 0.0
    with pytest.warns(RuntimeWarning, match="one direction"):
        mcnemar_test(y, y, 1 - y, ci_method="bootstrap", random_state=0)


def test_mcnemar_checks_random_state_even_when_the_interval_does_not_use_it():
    y = np.r_[np.zeros(10, int), np.ones(10, int)]
    for bad in ("0", 1.5, np.random.RandomState(0), -1, True):
        with pytest.raises(ValidationError, match="random_state"):
            mcnemar_test(y, y, 1 - y, random_state=bad)
