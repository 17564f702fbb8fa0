"""Replicates -> confidence intervals. Shared by every pillar.

All functions work column-wise: ``reps`` has shape (B,) or (B, m) and ``theta`` shape () or (m,).
Replicates that are NaN (an empty resample of a ratio) are ignored, never silently replaced.
"""
from __future__ import annotations

import warnings

import numpy as np
from scipy import special, stats

from ._engine import pow2_exponent, replicate_sd
from ._validation import ValidationError, check_choice

METHODS = ("percentile", "basic", "bca", "normal", "studentized")


# Replicates within this many units in the last place of the estimate are equal to it: the estimate and the
# replicates' sums round differently (a constant 0.3 gave replicates 0.3000000000000001)
_CONSTANT_ULPS = 64


def constant_up_to_rounding(theta, reps) -> np.ndarray:
    """Per column, whether every replicate equals the estimate up to rounding (finite ones only)."""
    t = np.asarray(theta, dtype=np.float64)
    r = np.asarray(reps, dtype=np.float64).reshape((-1,) + t.shape)
    if r.shape[0] == 0:
        return np.zeros(t.shape, bool)
    with np.errstate(invalid="ignore"):
        scale = np.maximum(np.abs(t), np.max(np.abs(r), axis=0))
        close = np.max(np.abs(r - t), axis=0) <= _CONSTANT_ULPS * np.finfo(np.float64).eps * scale
    return np.isfinite(t) & np.isfinite(r).all(axis=0) & close


def point_if_constant(theta, reps, lo, hi):
    """(lo, hi) with the interval of a statistic whose replicates all equal its estimate (constant data) set
    to the estimate itself: the percentile, basic and BCa limits of such replicates missed the estimate by a
    few ulps (0.3 -> [0.3000000000000001, 0.3000000000000002]), an interval excluding its own estimate."""
    const = constant_up_to_rounding(theta, reps)
    if not const.any():
        return lo, hi
    t = np.asarray(theta, dtype=np.float64)
    lo_, hi_ = np.where(const, t, lo), np.where(const, t, hi)
    return (lo_[()], hi_[()]) if lo_.ndim == 0 else (lo_, hi_)


def _nanquantile(reps, q):
    """numpy's default (linear) quantiles over axis 0, NaN ignored, shape (len(q),) + reps.shape[1:]. Infinite
    replicates (a callable statistic that is +-inf in some resamples) are the most extreme values: a limit
    may be +-inf. numpy interpolated inf - inf to NaN, so a BCa or percentile limit came out NaN silently."""
    import warnings

    reps = np.asarray(reps, dtype=np.float64)
    if np.isinf(reps).any():
        return np.array(_quantile_with_inf(reps, list(np.atleast_1d(q))))
    with warnings.catch_warnings():
        # a statistic undefined in every replicate (e.g. a ratio whose denominator is always 0) has NaN
        # quantiles; the caller reports why, numpy's "All-NaN slice" warning would only add noise
        warnings.filterwarnings("ignore", "All-NaN slice", RuntimeWarning)
        return np.nanpercentile(reps, np.asarray(q) * 100, axis=0)


def percentile_interval(reps, alpha):
    lo, hi = _nanquantile(reps, [alpha / 2, 1 - alpha / 2])
    return lo, hi


def basic_interval(theta, reps, alpha):
    lo, hi = _nanquantile(reps, [alpha / 2, 1 - alpha / 2])
    return 2 * theta - hi, 2 * theta - lo


def normal_interval(theta, se, alpha):
    z = special.ndtri(1 - alpha / 2)
    return theta - z * se, theta + z * se


def bca_z0(theta, reps):
    """(replicates below theta, at or below it, z0) per column of ``reps`` (B, k): z0 from the mid-rank
    proportion below theta, NaN replicates left out. The one rule of every BCa route (in memory and
    streamed).

    Replicates within rounding of theta are ties (the mid-rank counts them half below): a constant
    sample's replicate means differ from its mean only in the last bits, all on one side for some
    values (0.3: every replicate 0.30000000000000004 or so), and z0 was then infinite and the interval
    NaN, where 0.1 gave the point. 1e-13 relative is far below any real bootstrap spread.
    """
    reps = np.asarray(reps, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    valid = ~np.isnan(reps)
    tol = 1e-13 * np.abs(theta)
    below = ((reps < theta - tol) & valid).sum(axis=0)
    at_or_below = ((reps <= theta + tol) & valid).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = special.ndtri((below + at_or_below) / (2.0 * valid.sum(axis=0)))
    return below, at_or_below, z0


def bca_interval(theta, reps, influence, alpha, labels=None, prefix: str = "", stacklevel: int = 3):
    """Bias-corrected and accelerated interval (Efron 1987).

    z0 uses the mid-rank proportion of replicates below theta (as scipy does); the acceleration
    a = sum U^3 / (6 (sum U^2)^1.5) uses empirical influence values U (O(n), see
    :func:`workbench._engine.influence_values`), which for a mean equal the jackknife exactly.
    ``labels[j]`` names column j in the "undefined" warning (default "statistic j"), after ``prefix``.
    """
    reps = np.asarray(reps, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    U = np.asarray(influence, dtype=np.float64)
    one = reps.ndim == 1
    if one:
        reps, theta, U = reps[:, None], theta[None], U[:, None]
    # a does not depend on the scale of U, but U^3 overflows beyond ~1e100 and underflows below ~1e-100
    # (both silently gave a = 0, another interval): each column is divided by a power of two first, which
    # is exact, so ordinary data give bit-identical intervals
    with np.errstate(invalid="ignore"):
        big = np.nanmax(np.abs(U), axis=0, initial=0.0) if U.size else np.zeros(U.shape[1:])
    U = np.ldexp(U, -pow2_exponent(big))
    valid = ~np.isnan(reps)
    nb = valid.sum(axis=0)
    # an influence value that is NaN (a statistic undefined on a leave-one-out sample) leaves the
    # acceleration undefined; only 0/0 (every influence value 0: constant data) means a = 0
    bad_u = np.isnan(U).any(axis=0)
    below, at_or_below, z0 = bca_z0(theta, reps)
    with np.errstate(divide="ignore", invalid="ignore"):
        a = (U**3).sum(axis=0) / (6.0 * ((U**2).sum(axis=0)) ** 1.5)
    a = np.where(np.isfinite(a), a, 0.0)
    lo = np.empty(reps.shape[1])
    hi = np.empty(reps.shape[1])
    for j in range(reps.shape[1]):  # a loop over statistics (columns), not rows or resamples
        zs = special.ndtri(np.array([alpha / 2, 1 - alpha / 2]))
        with np.errstate(invalid="ignore"):
            adj = special.ndtr(z0[j] + (z0[j] + zs) / (1 - a[j] * (z0[j] + zs)))
        if bad_u[j] or not np.all(np.isfinite(adj)):
            lo[j] = hi[j] = np.nan
            if bad_u[j]:
                why = "some influence (jackknife) values are NaN, so the acceleration is undefined"
            elif nb[j] == 0:
                why = "every bootstrap replicate is undefined (NaN)"
            else:
                why = (f"{below[j]} of {nb[j]} replicates lie below the estimate and {nb[j] - at_or_below[j]} "
                       "above it, so the bias correction z0 is infinite")
            name = f"statistic {j}" if labels is None else labels[j]
            warnings.warn(f"{prefix}BCa interval undefined (NaN) for {name}: {why}; use another method",
                          RuntimeWarning, stacklevel=stacklevel)
            continue
        lo[j], hi[j] = _nanquantile(reps[:, j], adj)  # (infinite replicates: limits may be +-inf)
    return (lo[0], hi[0]) if one else (lo, hi)


def studentized_interval(theta, se, reps, reps_se, alpha):
    """Bootstrap-t: t*_b = (theta*_b - theta) / se*_b; [theta - t*_(1-a/2) se, theta - t*_(a/2) se]."""
    reps = np.asarray(reps, dtype=np.float64)
    reps_se = np.asarray(reps_se, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (reps - theta) / reps_se
    # A replicate with zero spread that differs from theta (e.g. a resample of one repeated value) has
    # t* = +-inf: the most extreme t, not a missing one. Dropping it would narrow the interval (with
    # n = 2, to the point). Only undefined t* (NaN replicate, or 0/0) are ignored.
    t = np.where(np.isnan(t) | (np.isinf(t) & ~((reps_se == 0) & np.isfinite(reps))), np.nan, t)
    # zero spread (constant data): every t* is 0/0, yet the interval is the point, as for the other methods
    t = np.where(np.asarray(se) == 0, 0.0, t)
    tlo, thi = _nanquantile(t, [alpha / 2, 1 - alpha / 2])  # (+-inf t* count as the most extreme)
    with np.errstate(invalid="ignore"):
        lo, hi = theta - thi * se, theta - tlo * se
    if np.isinf(lo).any() or np.isinf(hi).any():
        n_inf = np.isinf(t).sum(axis=0)
        warnings.warn(f"studentized interval unbounded: {int(np.max(n_inf))} of {t.shape[0]} replicates have a "
                      "zero standard error but differ from the estimate (t* = +-inf), more than alpha/2 of them; "
                      "the data are too few or too discrete for a bootstrap-t interval", RuntimeWarning, stacklevel=3)
    return lo, hi


def _quantile_with_inf(t, q):
    """numpy's default (linear) quantile ignoring NaN, where +-inf values count as the most extreme
    (numpy's interpolation would turn inf - inf into NaN)."""
    t = np.asarray(t, dtype=np.float64)
    one = t.ndim == 1
    T = t[:, None] if one else t
    out = np.full((len(q), T.shape[1]), np.nan)
    for j in range(T.shape[1]):  # a loop over statistics (columns)
        v = np.sort(T[~np.isnan(T[:, j]), j])
        if v.size == 0:
            continue
        for i, qq in enumerate(q):
            h = (v.size - 1) * qq
            k = int(np.floor(h))
            f = h - k
            a, b = v[k], v[min(k + 1, v.size - 1)]
            if f == 0 or a == b:
                out[i, j] = a
            elif np.isinf(a) and np.isinf(b):
                out[i, j] = np.nan  # between -inf and +inf: no finite t* to interpolate
            elif np.isinf(a) or np.isinf(b):
                out[i, j] = a if np.isinf(a) else b
            else:
                out[i, j] = a + (b - a) * f
    return tuple(out[i, 0] if one else out[i] for i in range(len(q)))


def interval(method, theta, reps, alpha, influence=None, se=None, reps_se=None):
    """Dispatch to one interval method; returns (low, high)."""
    check_choice(method, "method", METHODS)
    if method == "percentile":
        return percentile_interval(reps, alpha)
    if method == "basic":
        return basic_interval(theta, reps, alpha)
    if method == "normal":
        se = replicate_sd(reps, axis=0) if se is None else se
        return normal_interval(theta, se, alpha)
    if method == "bca":
        if influence is None:
            raise ValidationError("method", "'bca' needs influence values")
        return bca_interval(theta, reps, influence, alpha)
    if se is None or reps_se is None:
        raise ValidationError("method", "'studentized' needs a standard error per replicate")
    return studentized_interval(theta, se, reps, reps_se, alpha)


def t_quantile(alpha, df):
    return stats.t.ppf(1 - alpha / 2, df)
