"""Audit 4: the cluster (grouped) bootstrap of data near the float limit.

With ``groups`` the rows are first summed to per-cluster totals. Values near 1e307 in clusters of 20 or 40
rows summed to inf (the means are ordinary numbers), so every interval was inf / NaN; the totals are now
kept in units of a power of two. Scaling data by a power of two is exact in floating point, so the result
must be the ordinary result times that power.
"""
import warnings

import numpy as np
import pytest

from workbench.resample import bootstrap_ci, bootstrap_intervals, compare_models

C = 2.0**1020  # values up to 1.5 * 2**1020 ~ 1.7e307; 20 of them sum past 2**1024


def _values(n=240, seed=0):
    """Positive values in [0.5, 1.5]: cluster totals of 20 such values times C overflow."""
    return np.random.default_rng(seed).uniform(0.5, 1.5, n)


def _mixed(n=240, seed=0):
    """Both signs in +-[0.5, 1.5] (totals of 20 stay finite, but the studentized scale factor overflowed)."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.5, 1.0, -1.0) * rng.uniform(0.5, 1.5, n)


def _scaled(fn, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow / invalid warnings were part of the failure
        return fn(*args, **kw)


def _assert_scaled(big, ref, c, fields=("estimate", "ci_low", "ci_high", "standard_error")):
    for f in fields:
        assert np.all(np.isfinite(getattr(big, f))), f
        np.testing.assert_allclose(getattr(big, f), c * np.asarray(getattr(ref, f)), rtol=1e-13, err_msg=f)
    np.testing.assert_allclose(big.bootstrap_distribution, c * ref.bootstrap_distribution, rtol=1e-13)


@pytest.mark.parametrize("size", [20, 40])
@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
@pytest.mark.parametrize("method", ["percentile", "basic", "bca", "studentized", "normal"])
def test_grouped_bootstrap_ci_near_1e307_is_the_ordinary_result_scaled(size, resampling, method):
    x = _values()
    kw = dict(method=method, n_resamples=200, random_state=1, resampling=resampling, groups=np.arange(x.size) // size)
    ref = bootstrap_ci(x, **kw)
    big = _scaled(bootstrap_ci, x * C, **kw)  # was inf [nan, nan]
    _assert_scaled(big, ref, C)


@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
def test_grouped_studentized_of_mixed_signs_near_1e307_is_the_ordinary_result_scaled(resampling):
    # the totals fit, but the studentized interval's scale factor 2**1024 was inf: ci NaN
    x = _mixed()
    kw = dict(method="studentized", n_resamples=200, random_state=1, resampling=resampling,
              groups=np.arange(x.size) // 20)
    _assert_scaled(_scaled(bootstrap_ci, x * C, **kw), bootstrap_ci(x, **kw), C)


@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
def test_studentized_beyond_2_to_the_1023_is_the_ordinary_result_scaled(resampling):
    # no groups: values past 2**1023 (~9e307) made the same factor inf
    x = _mixed()
    c = 2.0**1023
    kw = dict(method="studentized", n_resamples=200, random_state=1, resampling=resampling)
    _assert_scaled(_scaled(bootstrap_ci, x * c, **kw), bootstrap_ci(x, **kw), c)


@pytest.mark.parametrize("method", ["percentile", "bca", "studentized"])
@pytest.mark.parametrize("num_scale, den_scale", [(C, 1.0), (C, C), (1.0, C)])
def test_grouped_ratio_near_1e307_is_the_ordinary_ratio_scaled(method, num_scale, den_scale):
    num, den = _values(seed=1), _values(seed=2)
    kw = dict(statistic="ratio", method=method, n_resamples=200, random_state=0, groups=np.arange(num.size) // 20)
    ref = bootstrap_ci((num, den), **kw)
    big = _scaled(bootstrap_ci, (num * num_scale, den * den_scale), **kw)
    _assert_scaled(big, ref, num_scale / den_scale)


def test_grouped_bootstrap_intervals_near_1e307_are_the_ordinary_ones_scaled():
    L = np.column_stack([_values(seed=0), _mixed(seed=1)])
    kw = dict(n_resamples=200, random_state=3, groups=np.arange(L.shape[0]) // 40)
    ref = bootstrap_intervals(L, **kw)
    big = _scaled(bootstrap_intervals, L * C, **kw)
    assert big["method"].tolist() == ref["method"].tolist()
    for col in ("value", "ci_low", "ci_high", "se"):
        assert np.isfinite(big[col]).all(), col
        np.testing.assert_allclose(big[col], C * ref[col], rtol=1e-13, err_msg=col)


@pytest.mark.parametrize("size", [20, 40])
@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
@pytest.mark.parametrize("method", ["percentile", "bca", "studentized"])
def test_grouped_compare_models_near_1e307_is_the_ordinary_result_scaled(size, resampling, method):
    # one column of mixed signs (totals that fit) beside two that overflow: their influence values, kept in
    # units of different powers of two, must still be subtracted in one unit for the differences' BCa
    L = np.column_stack([_values(seed=0), _mixed(seed=1), 0.5 * _values(seed=2)])
    kw = dict(method=method, n_resamples=200, random_state=0, resampling=resampling,
              groups=np.arange(L.shape[0]) // size)
    ref = compare_models(L, **kw)
    big = _scaled(compare_models, L * C, **kw)  # was inf / NaN throughout
    for col in ("value", "ci_low", "ci_high", "se"):
        assert np.isfinite(big.models[col]).all(), col
        np.testing.assert_allclose(big.models[col], C * ref.models[col], rtol=1e-13, err_msg=col)
    for col in ("difference", "ci_low", "ci_high", "se"):
        assert np.isfinite(big.differences[col]).all(), col
        np.testing.assert_allclose(big.differences[col], C * ref.differences[col], rtol=1e-13, err_msg=col)
    assert big.best == ref.best
    np.testing.assert_array_equal(big.models["p_best"], ref.models["p_best"])


def _skewed(n=200, seed=0):
    """Both signs in +-[1.5, 1.99], mostly positive: times 2**1023, t - mean passes 2**1024 for the negatives."""
    rng = np.random.default_rng(seed)
    return np.where(rng.random(n) < 0.85, 1.0, -1.0) * rng.uniform(1.5, 1.99, n)


@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
def test_bca_of_both_signs_beyond_2_to_the_1023_is_the_ordinary_interval_scaled(resampling):
    # no groups: the influence values t - mean overflowed and the acceleration came out wrong (ci_low 0.791
    # for 0.788, times the scale), with numpy warnings only
    x, c = _skewed(), 2.0**1023
    kw = dict(method="bca", n_resamples=300, random_state=0, resampling=resampling)
    _assert_scaled(_scaled(bootstrap_ci, x * c, **kw), bootstrap_ci(x, **kw), c)


@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
def test_compare_models_bca_of_both_signs_beyond_2_to_the_1023_is_the_ordinary_result_scaled(resampling):
    L = np.column_stack([_skewed(seed=0), _skewed(seed=1), 0.5 * _skewed(seed=2)])
    c = 2.0**1023
    kw = dict(method="bca", n_resamples=300, random_state=0, resampling=resampling)
    ref = compare_models(L, **kw)
    big = _scaled(compare_models, L * c, **kw)
    for col in ("value", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(big.models[col], c * ref.models[col], rtol=1e-13, err_msg=col)
    for col in ("difference", "ci_low", "ci_high", "se"):
        np.testing.assert_allclose(big.differences[col], c * ref.differences[col], rtol=1e-13, err_msg=col)


@pytest.mark.parametrize("statistic", ["max", "R"])
@pytest.mark.parametrize("k", [520, 1019, -1000])
def test_model_confidence_set_of_huge_or_tiny_losses_is_the_ordinary_one(statistic, k):
    # its t statistics squared the replicate deviations in the data's units: beyond ~3e156 they overflowed,
    # every p-value came out 1 and the elimination order changed (numpy warnings only)
    from workbench.resample import model_confidence_set

    L = np.random.default_rng(0).uniform(0.5, 1.5, (240, 3)) + [0, 0.05, 0.3]
    kw = dict(statistic=statistic, random_state=0, n_resamples=300)
    ref = model_confidence_set(L, **kw).frame
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        big = model_confidence_set(L * 2.0**k, **kw).frame
    assert big.p_value.tolist() == ref.p_value.tolist()
    assert big.eliminated_step.equals(ref.eliminated_step)
    np.testing.assert_allclose(big.mean_loss, ref.mean_loss * 2.0**k, rtol=1e-13)
