"""Replicates -> confidence intervals. Shared by every pillar.

All functions work column-wise: ``reps`` has shape (B,) or (B, m) and ``theta`` shape () or (m,).
Replicates that are NaN (an empty resample of a ratio) are ignored, never silently replaced.
"""
from __future__ import annotations

import numpy as np
from scipy import special, stats

from ._validation import ValidationError, check_choice

METHODS = ("percentile", "basic", "bca", "normal", "studentized")


def _nanquantile(reps, q):
    import warnings

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


def bca_interval(theta, reps, influence, alpha):
    """Bias-corrected and accelerated interval (Efron 1987).

    z0 uses the mid-rank proportion of replicates below theta (as scipy does); the acceleration
    a = sum U^3 / (6 (sum U^2)^1.5) uses empirical influence values U (O(n), see
    :func:`workbench._engine.influence_values`), which for a mean equal the jackknife exactly.
    """
    reps = np.asarray(reps, dtype=np.float64)
    theta = np.asarray(theta, dtype=np.float64)
    U = np.asarray(influence, dtype=np.float64)
    one = reps.ndim == 1
    if one:
        reps, theta, U = reps[:, None], theta[None], U[:, None]
    valid = ~np.isnan(reps)
    nb = valid.sum(axis=0)
    below = ((reps < theta) & valid).sum(axis=0)
    at_or_below = ((reps <= theta) & valid).sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = special.ndtri((below + at_or_below) / (2.0 * nb))
        a = (U**3).sum(axis=0) / (6.0 * ((U**2).sum(axis=0)) ** 1.5)
    a = np.where(np.isfinite(a), a, 0.0)
    lo = np.empty(reps.shape[1])
    hi = np.empty(reps.shape[1])
    for j in range(reps.shape[1]):  # a loop over statistics (columns), not rows or resamples
        zs = special.ndtri(np.array([alpha / 2, 1 - alpha / 2]))
        adj = special.ndtr(z0[j] + (z0[j] + zs) / (1 - a[j] * (z0[j] + zs)))
        if not np.all(np.isfinite(adj)):
            lo[j] = hi[j] = np.nan
            continue
        lo[j], hi[j] = np.nanpercentile(reps[:, j], adj * 100)
    return (lo[0], hi[0]) if one else (lo, hi)


def studentized_interval(theta, se, reps, reps_se, alpha):
    """Bootstrap-t: t*_b = (theta*_b - theta) / se*_b; [theta - t*_(1-a/2) se, theta - t*_(a/2) se]."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (np.asarray(reps) - theta) / np.asarray(reps_se)
    t = np.where(np.isfinite(t), t, np.nan)
    # zero spread (constant data): every t* is 0/0, yet the interval is the point, as for the other methods
    t = np.where(np.asarray(se) == 0, 0.0, t)
    tlo, thi = _nanquantile(t, [alpha / 2, 1 - alpha / 2])
    return theta - thi * se, theta - tlo * se


def interval(method, theta, reps, alpha, influence=None, se=None, reps_se=None):
    """Dispatch to one interval method; returns (low, high)."""
    check_choice(method, "method", METHODS)
    if method == "percentile":
        return percentile_interval(reps, alpha)
    if method == "basic":
        return basic_interval(theta, reps, alpha)
    if method == "normal":
        se = np.nanstd(reps, axis=0, ddof=1) if se is None else se
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
