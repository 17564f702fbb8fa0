"""Findings of a walk through bootstrap_ci / bootstrap_intervals (stop 30)."""
import inspect
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.resample import bootstrap_ci, bootstrap_intervals


def _recorded(call):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = call()
    return out, [str(x.message) for x in w]


# ---------------------------------------------------------------- 1. studentized: one-value resamples have se 0
def _single_valued_count(x, B, seed):
    """Brute force: resamples of one repeated value that differ from the estimate (t* = +-inf)."""
    xb = x[np.random.default_rng(seed).integers(0, x.size, (B, x.size))]
    return int(((xb == xb[:, :1]).all(axis=1) & (xb.mean(axis=1) != x.mean())).sum())


def test_studentized_resample_of_one_value_has_zero_se_and_mirror_symmetry_holds():
    # [0, 1 x 49]: 36% of resamples are all ones. Their se was ~1e-10 (a rounding residue of E[x^2] - E[x]^2),
    # not 0: t* huge but finite, the lower limit -8.5e6 without a warning, while the mirror 1 - x got +inf
    x = np.r_[0.0, np.ones(49)]
    r, wr = _recorded(lambda: bootstrap_ci(x, method="studentized", n_resamples=2000, random_state=0))
    m, wm = _recorded(lambda: bootstrap_ci(1 - x, method="studentized", n_resamples=2000, random_state=0))
    assert r.ci_low == -np.inf and m.ci_high == np.inf
    assert r.ci_high == pytest.approx(1 - m.ci_low, rel=1e-12) and 1.0 < r.ci_high < 1.01
    count = _single_valued_count(x, 2000, 0)
    assert count > 500
    for w in (wr, wm):
        assert len(w) == 1 and f"studentized interval unbounded: {count} of 2000 replicates" in w[0]


def test_studentized_warning_counts_every_one_value_resample():
    x = np.array([0.0, 1.0, 1.0])
    r, w = _recorded(lambda: bootstrap_ci(x, method="studentized", n_resamples=2000, random_state=0))
    assert r.confidence_interval == (-np.inf, np.inf)  # was (-42180561.8, inf)
    assert len(w) == 1 and f"unbounded: {_single_valued_count(x, 2000, 0)} of 2000" in w[0]


def test_studentized_ratio_resample_of_one_ratio_has_zero_se_as_the_mean():
    # numerator 3 x, denominator 3: the ratio is the mean of x in every resample, with the same se
    x = np.r_[0.0, np.full(19, 1 / 3)]
    mean, wm = _recorded(lambda: bootstrap_ci(x, method="studentized", n_resamples=2000, random_state=0))
    ratio, wr = _recorded(lambda: bootstrap_ci((3 * x, np.full(20, 3.0)), "ratio", method="studentized",
                                               n_resamples=2000, random_state=0))
    assert mean.ci_low == ratio.ci_low == -np.inf
    assert ratio.ci_high == pytest.approx(mean.ci_high, rel=1e-12)
    assert wm == wr and len(wm) == 1 and f"{_single_valued_count(x, 2000, 0)} of 2000" in wm[0]
    # units whose numerator and denominator are both 0 add nothing: all units one ratio -> the point
    a, b = np.array([1.0, 2.0, 3.0, 0.0]), np.array([2.0, 4.0, 6.0, 0.0])
    pt = bootstrap_ci((a, b), "ratio", method="studentized", n_resamples=300, random_state=0)
    assert pt.confidence_interval == (0.5, 0.5)


# ---------------------------------------------------------------- 2. a callable's value must be numbers
@pytest.mark.parametrize("stat, vectorized, rule", [
    (lambda v: "0.5", False, "must return numbers"),
    (lambda v, axis=-1: np.full(v.shape[:-1], "0.5"), True, "must return numbers"),
    (lambda v, axis=-1: v.mean(axis) + 1j, None, "must be real numbers"),
    (lambda v: complex(np.mean(v), 1.0), False, "must be real numbers"),
    (lambda v: None, False, "must return numbers, got None"),
    (lambda v, axis=-1: None, True, "must return numbers, got None"),
])
def test_callable_statistic_output_is_checked_not_coerced(stat, vectorized, rule):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (numpy's ComplexWarning was all a complex value got)
        with pytest.raises(ValidationError, match=f"^statistic: {re.escape(rule)}"):
            bootstrap_ci(np.arange(10.0), stat, vectorized=vectorized, n_resamples=50, random_state=0)


# ---------------------------------------------------------------- 3. infinite replicates are ordered, said
def _sometimes_inf(v, axis=-1):
    return np.where(np.sum(v < 0.003, axis=axis) >= 6, np.inf, np.mean(v, axis=axis))


def test_infinite_replicates_give_infinite_limits_and_se_with_a_warning():
    from scipy import stats

    y = np.random.default_rng(0).exponential(size=20)
    n_inf = None
    for method in ("percentile", "basic", "bca", "normal"):
        r, w = _recorded(lambda: bootstrap_ci(y, _sometimes_inf, method=method, n_resamples=500, random_state=0))
        n_inf = int(np.isinf(r.bootstrap_distribution).sum())
        assert n_inf > 0 and r.diagnostics["infinite_replicates"] == n_inf
        assert r.diagnostics["undefined_replicates"] == 0
        assert r.standard_error == np.inf  # was NaN
        assert not np.isnan([r.ci_low, r.ci_high]).any()
        assert len(w) == 1 and f"infinite in {n_inf} of 500 replicates" in w[0]
        if method == "normal":
            assert r.confidence_interval == (-np.inf, np.inf)
        else:  # the same resamples as scipy, which orders the infinite replicates too (BCa: was [0.86, nan])
            with np.errstate(invalid="ignore"):  # (scipy's standard error: inf - inf)
                ref = stats.bootstrap((y,), _sometimes_inf, method=method, n_resamples=500,
                                      rng=np.random.default_rng(0)).confidence_interval
            assert r.ci_low == pytest.approx(ref.low, rel=1e-12) and r.ci_high == pytest.approx(ref.high, rel=1e-12)
    frame, w = _recorded(lambda: bootstrap_intervals(y, _sometimes_inf, n_resamples=500, random_state=0))
    assert not frame[["ci_low", "ci_high", "se"]].isna().any().any() and (frame["se"] == np.inf).all()
    assert frame.loc[frame.method == "bca", "ci_high"].item() == np.inf
    assert len(w) == 1 and f"infinite in {n_inf} of 500" in w[0]


def test_replicate_sd_of_infinite_replicates_is_inf():
    from workbench._engine import replicate_sd

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert replicate_sd([1.0, 2.0, np.inf]) == np.inf
        np.testing.assert_array_equal(replicate_sd(np.array([[1.0, 1.0], [2.0, -np.inf], [np.nan, 3.0]]), axis=0),
                                      [np.std([1.0, 2.0], ddof=1), np.inf])


# ---------------------------------------------------------------- 4. diagnostics are read-only
def test_bootstrap_result_diagnostics_are_read_only_and_pickle():
    import copy
    import pickle

    r = bootstrap_ci(np.arange(10.0), n_resamples=50, random_state=0)
    with pytest.raises(TypeError, match="read-only"):
        r.diagnostics["undefined_replicates"] = 99
    assert r.diagnostics["undefined_replicates"] == 0
    assert pickle.loads(pickle.dumps(r)).diagnostics == r.diagnostics == copy.deepcopy(r).diagnostics


# ---------------------------------------------------------------- 5. object dtype numbers
def test_object_numbers_in_a_frame_column_are_refused_as_the_streamed_path_refuses_them():
    # a pandas column keeps the frame rule (BanditLog.from_frame and the streamed bootstrap refuse an object
    # column, whose text may sit in a later chunk), named by the field, not "column None"
    with pytest.raises(ValidationError, match=r"^data: must be numeric; column 'data' has dtype object"):
        bootstrap_ci(pd.Series([1.0, 2.0, 3.0], dtype=object), n_resamples=50, random_state=0)
    frame = pd.DataFrame({"a": pd.Series([1, 2, 3, 4], dtype=object)})
    with pytest.raises(ValidationError, match=r"column 'a' has dtype object"):
        bootstrap_ci(frame, n_resamples=50, random_state=0)
    with pytest.raises(ValidationError, match=r"column 'a' has dtype object"):
        bootstrap_ci([frame.iloc[:2], frame.iloc[2:]], resampling="poisson", n_resamples=50, random_state=0)


def test_an_unnamed_series_of_text_is_refused_as_data_not_column_none():
    with pytest.raises(ValidationError, match=r"^data: must be numeric; column 'data' has dtype object; 1 of 3 rows "
                                              r".*first at row 1 \(value 'x'\)") as e:
        bootstrap_ci(pd.Series([1.0, "x", 3.0], dtype=object))
    assert "None" not in str(e.value)
    with pytest.raises(ValidationError, match=r"^data: must be numeric; column 'data' has dtype object; .*row 1"):
        bootstrap_ci(pd.Series([1.0, None, 3.0], dtype=object))
    with pytest.raises(ValidationError, match=r"^data: must be numeric; column 'b' has dtype object"):
        bootstrap_ci(pd.DataFrame({"a": [1.0, 2.0], "b": pd.Series([1.0, "x"], dtype=object)}))


# ---------------------------------------------------------------- 6. a callable without a signature
def test_a_builtin_without_signature_is_called_per_resample():
    x = np.random.default_rng(0).exponential(size=20)
    with pytest.raises(ValueError):
        inspect.signature(max)  # (the case: no signature to read)
    r = bootstrap_ci(x, max, n_resamples=200, random_state=0)
    ref = bootstrap_ci(x, np.max, n_resamples=200, random_state=0)
    np.testing.assert_array_equal(r.bootstrap_distribution, ref.bootstrap_distribution)
    assert r.confidence_interval == ref.confidence_interval and r.estimate == x.max()


# ---------------------------------------------------------------- 7. bootstrap_intervals names `methods`
def test_bootstrap_intervals_refusal_names_methods():
    with pytest.raises(ValidationError, match="^methods: studentized intervals need"):
        bootstrap_intervals(np.arange(10.0), np.median, methods=["studentized"])
    with pytest.raises(ValidationError, match="^method: studentized intervals need"):
        bootstrap_ci(np.arange(10.0), np.median, method="studentized")
