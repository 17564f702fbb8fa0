"""Bootstrap confidence intervals for means, ratios and any statistic, one column or many at once.

Everything rides on :mod:`workbench._engine`: the data become an (n, k) matrix of per-row terms,
one set of resampling weights turns it into (B, k) replicate means with one matrix product, and
each statistic is a mean of a term or a ratio of two means. So

* an (n, m) matrix of per-sample values (the losses of m models on the same n points) gets one set
  of weights for all m columns: every comparison between columns is paired for free;
* BCa costs O(n): the acceleration comes from empirical influence values, which for a mean equal
  the leave-one-out jackknife exactly (scipy computes the jackknife, O(n^2));
* the studentized (bootstrap-t) interval needs a standard error inside every replicate; it comes
  from weighted second moments, i.e. a few more term columns (t^2, or a^2, ab, b^2 for a ratio),
  not from a nested bootstrap;
* ``resampling="poisson"`` and ``groups=`` use weights hashed from (unit id, replicate), so the
  result does not depend on how the data were chunked, nor, when ``groups`` names the units, on row
  order (without ``groups`` a row's id is its position); with ``groups`` a whole
  cluster (user, session, query) shares one weight: the cluster bootstrap.

A general callable statistic falls back to resampling indices in blocks (cost O(B n) memory
traffic per column, and O(n^2) for the jackknife that its BCa interval needs).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .. import _intervals
from .._engine import ReplicateAccumulator, Resampling, pow2_exponent, replicate_sd, unit_totals
from .._random import check_random_state, seed_key
from .._validation import (ValidationError, as_array, check_alpha, check_bool, check_choice, check_finite, check_int,
                           check_names, check_same_index, check_unit_ids, numeric_output, raise_if_any)
from ..results import FrozenDict, _fmt, frame_to_html

METHODS = ("percentile", "basic", "bca", "studentized", "normal")
STATISTICS = ("mean", "ratio")
RESAMPLINGS = ("multinomial", "poisson", "indices")

__all__ = ["BootstrapResult", "bootstrap_ci", "bootstrap_intervals", "METHODS"]


def _ro(x):
    if isinstance(x, np.ndarray):
        x = x.copy()
        x.setflags(write=False)
    return x


@dataclass(frozen=True, repr=False, eq=False)  # identity: == of array / frame fields raised
class BootstrapResult:
    """A bootstrap confidence interval for one statistic or for several at once.

    Attributes
    ----------
    estimate, ci_low, ci_high, standard_error : float or ndarray of shape (m,)
        The statistic on the full sample, the (1 - alpha) interval, and the standard deviation of
        the bootstrap distribution. Scalars for 1-D data, arrays for an (n, m) matrix.
    bootstrap_distribution : ndarray of shape (n_resamples,) or (n_resamples, m)
        The statistic in every replicate (NaN where a replicate is undefined, e.g. an empty
        denominator of a ratio; such replicates are ignored by the interval, never replaced).
    method, n_resamples, seed, alpha, n, statistic, resampling, names, n_groups
        How the interval was made. ``seed`` is the 64-bit key behind every replicate: passing it
        back as ``random_state`` reproduces the result exactly.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import bootstrap_ci
    >>> r = bootstrap_ci(np.arange(20.0), n_resamples=500, random_state=0)
    >>> r
    BootstrapResult(mean, method=percentile, 95% CI, n=20, n_resamples=500, resampling=multinomial, seed=0: 9.5 [7.15, 11.7], se 1.2098)
    >>> r.level, r.to_frame().shape[0]
    (0.95, 1)
    """

    estimate: Any
    ci_low: Any
    ci_high: Any
    standard_error: Any
    bootstrap_distribution: np.ndarray
    method: str
    n_resamples: int
    seed: int | None
    alpha: float = 0.05
    n: int = 0
    statistic: str = "mean"
    resampling: str = "multinomial"
    names: tuple = ()
    n_groups: int | None = None
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        # frozen means frozen, as results.Estimate and TestResult: result.diagnostics["undefined_replicates"] = 99
        # was accepted (read-only and picklable: a mappingproxy does not pickle)
        object.__setattr__(self, "diagnostics", FrozenDict(self.diagnostics or {}))

    @property
    def confidence_interval(self):
        """(ci_low, ci_high), as a tuple."""
        return (self.ci_low, self.ci_high)

    @property
    def level(self) -> float:
        """The confidence level 1 - alpha (calls take ``alpha``, the miscoverage)."""
        return 1.0 - self.alpha

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame, one row per statistic: name, value, ci_low, ci_high, se, alpha, method, n, ..."""
        est = np.atleast_1d(self.estimate)
        frame = pd.DataFrame({
            "name": list(self.names) if self.names else [f"x{j}" for j in range(est.size)],
            "value": est,
            "ci_low": np.atleast_1d(self.ci_low),
            "ci_high": np.atleast_1d(self.ci_high),
            "se": np.atleast_1d(self.standard_error),
            "alpha": self.alpha,
            "method": self.method,
            "n": self.n,
            "n_resamples": self.n_resamples,
            "seed": self.seed,
            "statistic": self.statistic,
            "resampling": self.resampling,
        })
        if self.n_groups is not None:
            frame["n_groups"] = self.n_groups
        return frame

    def __repr__(self) -> str:
        lvl = f"{100 * (1 - self.alpha):g}%"
        head = (f"BootstrapResult({self.statistic}, method={self.method}, {lvl} CI, n={self.n}, "
                f"n_resamples={self.n_resamples}, resampling={self.resampling}, seed={self.seed}")
        if np.ndim(self.estimate) == 0:
            return (head + f": {_fmt(float(self.estimate))} [{_fmt(float(self.ci_low))}, "
                    f"{_fmt(float(self.ci_high))}], se {_fmt(float(self.standard_error))})")
        rows = self.to_frame()
        lines = [f"  {r.name}: {_fmt(r.value)} [{_fmt(r.ci_low)}, {_fmt(r.ci_high)}], se {_fmt(r.se)}"
                 for r in rows.head(20).itertuples()]
        more = [f"  ... {len(rows) - 20} more"] if len(rows) > 20 else []
        return head + ")\n" + "\n".join(lines + more)

    def _repr_html_(self) -> str:
        cap = (f"{100 * (1 - self.alpha):g}% {self.method} bootstrap interval of the {self.statistic} "
               f"({self.n_resamples} {self.resampling} resamples, seed {self.seed})")
        return frame_to_html(self.to_frame(), caption=cap)  # frame_to_html escapes it


# --------------------------------------------------------------------------------------------
# Preparing terms: every statistic is mean(t[num]) or mean(t[num]) / mean(t[den]).
# --------------------------------------------------------------------------------------------
def numeric_values(x, field_name):
    """A pandas DataFrame or Series whose columns all have numeric (or boolean) dtypes, as a float64
    array, pandas' missing values as NaN (refused by the finiteness check, with their row); anything
    else unchanged.

    ``np.asarray`` turns a frame with a nullable column (Float64, Int64, boolean: what
    ``read_csv(dtype_backend=...)`` and pyarrow give) or with bool next to float columns into an object
    array, refused as "mixed or missing values?" although every value is a number; the streamed path
    (:func:`workbench.scale.sources.numeric_block`) reads the same frame as numbers. A column of text is
    refused by name, with its first row that holds no number."""
    if not isinstance(x, (pd.DataFrame, pd.Series)):
        return x
    cols = [x] if isinstance(x, pd.Series) else [x.iloc[:, j] for j in range(x.shape[1])]
    for c in cols:  # numeric to pandas, but the float64 conversion below dropped the imaginary part
        if pd.api.types.is_complex_dtype(c.dtype):
            raise ValidationError(field_name, f"must be real numbers; column {c.name!r} has dtype {c.dtype}")
    if all(pd.api.types.is_numeric_dtype(c.dtype) for c in cols):  # (False for categoricals: left as they were)
        return x.to_numpy(dtype=np.float64, na_value=np.nan)
    from ..scale.sources import _refuse_column

    for c in cols:
        if c.dtype.kind in "OUS" or pd.api.types.is_string_dtype(c.dtype):
            # an unnamed Series is the field itself (the message said "column None")
            _refuse_column(c, field_name if c.name is None else c.name, field_name)
    return x


def _as_matrix(x, field_name):
    x = check_finite(as_array(numeric_values(x, field_name), field_name, ndim=(1, 2)), field_name)
    if x.ndim == 2 and x.shape[1] == 0:
        raise ValidationError(field_name, f"has no columns (shape {x.shape})")
    if x.shape[0] < 2:  # one row resamples to itself: a zero-width interval that claims certainty
        raise ValidationError(field_name, f"needs at least 2 rows, got {x.shape[0]}")
    return (x[:, None], True) if x.ndim == 1 else (x, False)


def _mean_terms(data):
    X, one = _as_matrix(data, "data")
    m = X.shape[1]
    return X, np.arange(m), np.full(m, -1), one


def _ratio_terms(data):
    if isinstance(data, (tuple, list)) and len(data) == 2:
        A, one_a = _as_matrix(data[0], "numerator")
        Bm, one_b = _as_matrix(data[1], "denominator")
        if A.shape != Bm.shape:
            raise ValidationError("data", f"numerator and denominator must have the same shape, got "
                                  f"{A.shape} and {Bm.shape}")
        one = one_a
    else:
        X, _ = _as_matrix(data, "data")
        if X.shape[1] != 2:
            raise ValidationError("data", "statistic='ratio' needs a (numerator, denominator) pair of arrays "
                                  f"or an (n, 2) array, got shape {X.shape}")
        A, Bm, one = X[:, :1], X[:, 1:], True
    m = A.shape[1]
    return np.hstack([A, Bm]), np.arange(m), np.arange(m, 2 * m), one


def _group_terms(terms, num, den, groups):
    """Aggregate rows to clusters: cluster totals plus a size column; a mean becomes a ratio. Also, per
    statistic, the exponent f of the unit 2**f that statistics of the totals are in (0 unless a column's
    totals are kept in units of a power of two, see :func:`workbench._engine.unit_totals`)."""
    groups = check_unit_ids(groups, "groups", terms.shape[0], ref="data")
    agg, uniq, exp = unit_totals(terms, groups)
    if uniq.size < 2:
        raise ValidationError("groups", "needs at least 2 distinct groups")
    size_col = terms.shape[1]
    den = np.where(den < 0, size_col, den)
    col_exp = np.append(exp, 0)  # the size column is a count, never scaled
    return agg, num, den, uniq, col_exp[num] - col_exp[den]


def _pow2_scaled(x):
    """(x / 2**e, e) with 2**e the power of two just above max |x| (e = 0 for zero or non-finite data).
    Dividing by a power of two is exact, so data of ordinary size give bit-identical results, and squares of
    the scaled values neither overflow (data near 1e200) nor underflow (near 1e-200). The exponent, not
    2**e: that overflowed to inf for |x| >= 2**1023 (~9e307), and the studentized interval was NaN."""
    e = int(pow2_exponent(np.max(np.abs(x), initial=0.0)))
    return np.ldexp(x, -e), e


def _add_second_moments(terms, num, den):
    """Columns for the studentized interval's standard errors: per statistic, the first moments and the
    squares (means) or a^2, ab, b^2 (ratios) of CENTRED and scaled terms, and the power of two (exponent)
    that converts the standard error back to the data's units.

    The delta-method variance E[(a - theta b)^2] / E[b]^2 (b = 1 for a mean) is unchanged when a is
    replaced by a - c b for any constant c, so with c the full-sample statistic the moments are those of
    values near 0. From the raw moments, E[x^2] - E[x]^2 cancels catastrophically when the spread is small
    next to the level: at 1e8 + N(0, 1) every replicate's standard error came out 0 and the "95%"
    interval had zero width, silently. A mean's terms are centred by the sample's median, not its mean: a
    replicate that leaves out one far outlier (1e10 among N(0, 1)) has its own mean ~1e8 of its standard
    errors away from the sample mean, and its E[x^2] - E[x]^2 about that centre lost every digit (se 0, an
    unbounded interval); the median stays with the bulk, and |mean - median| <= sd keeps the sample's own
    variance exact to rounding. The power-of-two scaling keeps the squares finite for huge or tiny
    data (an overflow to inf made the interval NaN at 1e200).
    """
    cols = []
    m = num.size
    k = terms.shape[1]
    num2, den2 = np.empty(m, np.int64), np.full(m, -1, np.int64)
    idx = np.full((m, 3), -1, np.int64)
    unit = np.empty(m, np.int64)
    single = np.full((m, 3), -1, np.int64)  # columns of the single-value test: (count or -1, rank, rank^2)
    for j, (a, b) in enumerate(zip(num, den)):  # loop over statistics (columns), not rows
        xa, fa = _pow2_scaled(terms[:, a])
        if b < 0:
            ac, f2 = _pow2_scaled(xa - np.median(xa))
            num2[j], idx[j, 0] = k + len(cols), k + len(cols) + 1
            cols += [ac, ac * ac]
            unit[j] = fa + f2
            key, counted = terms[:, a], None
        else:
            xb, fb = _pow2_scaled(terms[:, b])
            with np.errstate(invalid="ignore", divide="ignore"):
                c = xa.mean() / xb.mean()
            c = c if np.isfinite(c) else 0.0  # a zero denominator mean is refused later, with its own message
            ac, f2 = _pow2_scaled(xa - c * xb)
            base = k + len(cols)
            num2[j], den2[j], idx[j] = base, base + 1, (base + 2, base + 3, base + 4)
            cols += [ac, xb, ac * ac, ac * xb, xb * xb]
            unit[j] = fa + f2 - fb
            # a unit's ratio a / b (a correctly rounded quotient: equal ratios give equal keys); a unit with
            # b = 0 and a != 0 is its own key (+-inf); one with a = b = 0 adds nothing to the variance and
            # is left out of the test (``counted``)
            with np.errstate(invalid="ignore", divide="ignore"):
                key = np.where(xb != 0, xa / xb, np.sign(xa) * np.inf)
            neutral = (xa == 0) & (xb == 0)
            key, counted = np.where(neutral, 0.0, key), (~neutral).astype(np.float64) if neutral.any() else None
        r = np.unique(key, return_inverse=True)[1].reshape(-1).astype(np.float64)
        if counted is not None:
            single[j, 0] = k + len(cols)
            cols.append(counted)
            r = r * counted
        single[j, 1:] = k + len(cols), k + len(cols) + 1
        cols += [r, r * r]
    return np.hstack([terms, np.column_stack(cols)]), (num2, den2, idx, unit, single)


def _single_valued(sums, weight, single):
    """(..., m) bool: whether a (re)sample holds one value only (one ratio a / b for a ratio), from the weighted
    sums S0, S1, S2 of the integer ranks r of the values: S0 S2 = S1^2 (equality in Cauchy-Schwarz) exactly when
    all the weight is on one rank. With integer weights these sums are exact integers below 2**53, so the test
    is exact where E_w[x^2] - E_w[x]^2 left a rounding residue (~1e-17): a resample of one repeated value got a
    standard error ~1e-10 instead of 0, t* was huge but finite instead of +-inf, and the studentized interval
    of [0, 1, ..., 1] reached -8.5e6 while that of its mirror image was unbounded, with a warning. ``single``
    (m, 3): per statistic the columns of ``sums`` holding S0 (-1: S0 is ``weight``), S1 and S2."""
    s0 = np.where(single[:, 0] >= 0, sums[..., np.maximum(single[:, 0], 0)], np.asarray(weight)[..., None])
    s1, s2 = sums[..., single[:, 1]], sums[..., single[:, 2]]
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.floor(s1 / s0)  # S1 = q S0 and S2 = q S1 (products exact: at most S2) <=> all the weight on rank q
        return (s0 > 0) & (s2 < 2.0**53) & (s1 == q * s0) & (s2 == q * s1)


def _stat(means, num, den):
    """Statistics from column means; ``means`` has shape (..., k)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        top = means[..., num]
        bot = np.where(den >= 0, means[..., np.maximum(den, 0)], 1.0)
        # A replicate whose denominator sums to zero has no ratio: NaN (ignored by the intervals
        # and counted in diagnostics["undefined_replicates"]), never +-inf.
        return np.where(bot == 0, np.nan, top / bot)


def _plugin_se(mom, se_cols, count):
    """Delta-method SE of each statistic from (weighted) first and second moments ``mom`` (..., K) of the
    columns :func:`_add_second_moments` built (``se_cols``), in the data's units."""
    num, den, sq_idx, unit = se_cols[:4]
    theta = _stat(mom, num, den)
    out = np.empty(theta.shape)
    for j, (a, b) in enumerate(zip(num, den)):
        if b < 0:
            var = mom[..., sq_idx[j, 0]] - mom[..., a] ** 2
        else:
            t = theta[..., j]
            var = (mom[..., sq_idx[j, 0]] - 2 * t * mom[..., sq_idx[j, 1]] + t * t * mom[..., sq_idx[j, 2]]) \
                / mom[..., b] ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            out[..., j] = np.ldexp(np.sqrt(np.maximum(var, 0.0) / count), unit[j])
    return out


def _influence(terms, means, num, den, theta):
    """Empirical influence values of each statistic, shape (n_units, m). O(n m).

    In the data's units unless a numerator reaches 2**1021: then all of them, and the statistics, are divided
    by one power of two first (exact). t - mean overflowed for values of both signs beyond ~9e307 and BCa's
    acceleration came out wrong, with numpy warnings only. One unit for every statistic: the acceleration
    does not depend on it, and compare_models subtracts two columns' values."""
    top, top_mean = terms[:, num], means[num]
    s = max(int(pow2_exponent(np.max(np.abs(top), initial=0.0))) - 1021, 0)
    if s:  # (denominators keep their units: the ratio's U is (a - theta b) / mean(b))
        top, top_mean, theta = np.ldexp(top, -s), np.ldexp(top_mean, -s), np.ldexp(theta, -s)
    U = top - top_mean
    has_den = den >= 0
    if has_den.any():
        d = den[has_den]
        U[:, has_den] = (top[:, has_den] - theta[has_den] * terms[:, d]) / means[d]
    return U


# --------------------------------------------------------------------------------------------
# The core: one resampling, every method.
# --------------------------------------------------------------------------------------------
@dataclass
class _Core:
    theta: np.ndarray        # (m,)
    reps: np.ndarray         # (B, m)
    influence: np.ndarray    # (n_units, m)
    se_hat: np.ndarray | None
    reps_se: np.ndarray | None
    n: int
    n_units: int
    n_groups: int | None
    seed: int | None
    B: int
    scheme: str


DEFAULT_N_RESAMPLES = 2000


def _resampling(resampling, n_resamples, random_state, indices, n_units):
    check_choice(resampling, "resampling", RESAMPLINGS)
    if indices is not None and resampling != "indices":
        raise ValidationError("indices", "only used with resampling='indices'")
    if resampling == "indices":
        # your indices fix the resamples and random_state is unused; still checked, as everywhere (a string, a
        # float or a RandomState passed silently here)
        check_random_state(random_state)
        if indices is None:
            raise ValidationError("indices", "must be given, a (B, n) integer array, with resampling='indices'",
                                  hint="functions without an indices= argument take 'multinomial' or 'poisson'")
        idx = as_array(indices, "indices", ndim=2)
        if not np.issubdtype(idx.dtype, np.integer):
            raise ValidationError("indices", f"must be integers, got dtype {idx.dtype}")
        if idx.shape[1] != n_units:
            raise ValidationError("indices", f"must have shape (B, {n_units}) (one index per resampled unit), "
                                  f"got {idx.shape}")
        raise_if_any((idx < 0).any(axis=1) | (idx >= n_units).any(axis=1), "indices",
                     f"values must lie in [0, {n_units})")
        if idx.shape[0] < 2:  # as n_resamples >= 2: one replicate made a zero-width interval and a NaN se, silently
            raise ValidationError("indices", f"needs at least 2 resamples (rows), got shape {idx.shape}")
        if n_resamples is not None and check_int(n_resamples, "n_resamples", low=2) != idx.shape[0]:
            # the indices' rows were used, and the number asked for ignored, silently
            raise ValidationError("n_resamples", f"is {n_resamples}, but indices has {idx.shape[0]} rows (one per "
                                                 "resample), which fix the resamples",
                                  hint="leave n_resamples unset (None) with resampling='indices'")
        return Resampling.make(idx.shape[0], "indices", indices=idx), None
    if n_resamples is None:  # the documented default
        n_resamples = DEFAULT_N_RESAMPLES
    # the package's one integer rule: 2000.0 is accepted (lossless), 2.5, "2" and True are refused
    n_resamples = check_int(n_resamples, "n_resamples", low=2)
    seed = seed_key(random_state)
    return Resampling.make(n_resamples, resampling, seed), seed


def _core(terms, num, den, *, resampling, n_resamples, random_state, indices, groups, studentize):
    n = terms.shape[0]
    if n < 2:
        raise ValidationError("data", f"needs at least 2 rows, got {n}")
    ids = None
    n_groups = None
    f = None  # statistics of cluster totals are in units of 2**f (see _group_terms), else the data's units
    if groups is not None:
        terms, num, den, uniq, f = _group_terms(terms, num, den, groups)
        n_groups = uniq.size
        if resampling == "poisson":
            ids = uniq  # hashed by the unit id itself: the same cluster gets the same weight anywhere
    n_units = terms.shape[0]
    rs, seed = _resampling(resampling, n_resamples, random_state, indices, n_units)
    se_cols = None
    base = terms
    if studentize:
        terms, se_cols = _add_second_moments(terms, num, den)
    acc = ReplicateAccumulator(terms.shape[1], rs).add(terms, ids)
    means = acc.means
    theta = _stat(means, num, den)
    if np.isnan(theta).any():
        raise ValidationError("denominator", "has mean zero on the full sample: the ratio is undefined")
    rep_means = acc.replicate_means
    reps = _stat(rep_means, num, den)
    U = _influence(base, means, num, den, theta)
    se_hat = reps_se = None
    if studentize:
        # a (re)sample of one value has standard error 0 exactly (see _single_valued), not a rounding residue. The
        # rank columns alone (select): reading every column's sums overflowed for data near 1e308
        single = se_cols[4]
        cols = np.unique(single[single >= 0])
        ranks = acc.select(cols)
        pos = np.where(single >= 0, np.searchsorted(cols, single), -1)
        se_hat = np.where(_single_valued(ranks.total, float(n_units), pos), 0.0,
                          _plugin_se(means, se_cols, float(n_units)))
        reps_se = np.where(_single_valued(ranks.rep_sums, acc.rep_weight, pos), 0.0,
                           _plugin_se(rep_means, se_cols, acc.rep_weight))
    if f is not None and f.any():
        # Back to the data's units (exact: powers of two). The influence values stay scaled, as their
        # totals would overflow, but in one unit for all columns: BCa's acceleration does not depend on
        # their scale, and compare_models subtracts two columns' values.
        theta, reps = np.ldexp(theta, f), np.ldexp(reps, f)
        if studentize:
            se_hat, reps_se = np.ldexp(se_hat, f), np.ldexp(reps_se, f)
        U = np.ldexp(U, f - f.max())
    return _Core(theta, reps, U, se_hat, reps_se, n, n_units, n_groups, seed, rs.n_replicates, rs.scheme)


def _interval_from_core(core: _Core, method, alpha, labels=None, prefix: str = ""):
    """(low, high) of every statistic of ``core``; ``labels`` and ``prefix`` name them in BCa's warnings. A
    statistic whose replicates all equal it (constant data) gets the point as its interval."""
    lo, hi = _interval_of_core(core, method, alpha, labels, prefix)
    return _intervals.point_if_constant(core.theta, core.reps, lo, hi)


def _interval_of_core(core: _Core, method, alpha, labels=None, prefix: str = ""):
    if method == "studentized":
        if core.se_hat is None:
            raise ValidationError("method", "studentized needs second moments (internal)")
        return _intervals.studentized_interval(core.theta, core.se_hat, core.reps, core.reps_se, alpha)
    if method == "bca":  # (scale-free: bca_interval normalises the influence values per column)
        return _intervals.bca_interval(core.theta, core.reps, core.influence, alpha, labels=labels, prefix=prefix,
                                       stacklevel=4)  # the caller of bootstrap_ci / compare_models
    if method == "normal":
        return _intervals.normal_interval(core.theta, replicate_sd(core.reps, axis=0), alpha)
    return _intervals.interval(method, core.theta, core.reps, alpha)


# --------------------------------------------------------------------------------------------
# Callable statistics: index resampling in blocks.
# --------------------------------------------------------------------------------------------
_BLOCK_ELEMENTS = 2**22


def _call_stat(statistic, sample, vectorized):
    """statistic over the last axis of ``sample`` (..., n) -> (...)."""
    # numeric_output: the statistic's value must be numbers. np.asarray(..., float64) and float() read the text
    # "0.5" as 0.5, dropped an imaginary part (numpy's ComplexWarning only) and gave a bare TypeError for None.
    if vectorized:
        out = numeric_output(statistic(sample, axis=-1), "statistic")
        if out.shape != sample.shape[:-1]:
            raise ValidationError("statistic", f"must reduce the last axis: input {sample.shape} gave {out.shape}")
        return out
    flat = sample.reshape(-1, sample.shape[-1])
    vals = []
    for row in flat:  # vectorized=False: one call per resample, as documented
        v = numeric_output(statistic(row), "statistic")
        if v.ndim != 0 and v.size != 1:
            raise ValidationError("statistic", f"must return one number per sample (one column at a time), got "
                                  f"shape {v.shape}; pass an (n, m) array to get m statistics")
        vals.append(float(v.reshape(-1)[0]))
    return np.array(vals).reshape(sample.shape[:-1])


def _takes_axis(statistic) -> bool:
    """Whether ``statistic`` accepts ``axis=`` (as scipy.stats.bootstrap decides ``vectorized=None``)."""
    import inspect

    try:
        params = inspect.signature(statistic).parameters
    except (TypeError, ValueError):
        # no signature to read (builtins such as max and min): call it once per resample, which works for any
        # function of one sample. Assuming axis= made bootstrap_ci(x, max) a bare TypeError from inside max()
        return False
    return "axis" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _callable_core(X, statistic, vectorized, *, resampling, n_resamples, random_state, indices, need_jackknife):
    vectorized = check_bool(vectorized, "vectorized", allow_none=True)  # "no" is truthy
    if vectorized is None:
        vectorized = _takes_axis(statistic)
    n, m = X.shape
    if resampling == "poisson":
        raise ValidationError("resampling", "a callable statistic needs resampling='multinomial' or 'indices' "
                              "(weights cannot be passed to an arbitrary function); use statistic='mean' or "
                              "'ratio' for the Poisson bootstrap")
    rs, seed = _resampling(resampling, n_resamples, random_state, indices, n)
    B = rs.n_replicates
    XT = np.ascontiguousarray(X.T)  # (m, n)
    theta = _call_stat(statistic, XT, vectorized)
    bad = np.flatnonzero(~np.isfinite(theta))
    if bad.size == m:
        raise ValidationError("statistic", f"must be finite on the full sample: it is {theta[bad[0]]} for "
                              f"every data column ({m})")
    # with some columns undefined, the others keep their intervals (_warn_undefined reports these)
    reps = np.empty((B, m))
    block = max(1, _BLOCK_ELEMENTS // (n * m))
    rng = np.random.default_rng(seed) if rs.scheme == "multinomial" else None
    for b in range(0, B, block):  # blocks of resamples, each block vectorised
        bb = min(block, B - b)
        idx = rng.integers(0, n, (bb, n)) if rng is not None else rs.indices[b:b + bb]
        reps[b:b + bb] = _call_stat(statistic, XT[:, idx], vectorized).T
    U = None
    if need_jackknife:
        # Leave-one-out jackknife, O(n^2): the only general route for an arbitrary function.
        # The leave-one-out indices of a block of rows are built directly (row i: 0..n-1 without i),
        # not read from an (n, n) boolean mask: that mask alone took n^2 bytes (2.5 GB at n = 50,000).
        jack = np.empty((n, m))
        jb = max(1, _BLOCK_ELEMENTS // (n * m))
        j = np.arange(n - 1)
        for i in range(0, n, jb):
            rows = np.arange(i, min(n, i + jb))
            loo_idx = j + (j >= rows[:, None])
            jack[rows] = _call_stat(statistic, XT[:, loo_idx], vectorized).T
        U = (n - 1) * (jack.mean(axis=0) - jack)  # jackknife influence values
    return _Core(theta, reps, U, None, None, n, n, None, seed, B, rs.scheme)


# --------------------------------------------------------------------------------------------
# Public functions
# --------------------------------------------------------------------------------------------
def _prepare(data, statistic):
    if callable(statistic):
        return None
    check_choice(statistic, "statistic", STATISTICS + ("callable",))
    return _mean_terms(data) if statistic == "mean" else _ratio_terms(data)


def _names(names, m, one):
    # compare_models' rule (check_names): m distinct labels. Two columns named "a" made two rows "a" in
    # to_frame(), and a lookup by name found only the first, silently. A lone string is one name.
    return tuple(check_names(names, m, ["x"] if one else [f"x{j}" for j in range(m)]))


def _infer_names(data, statistic):
    if callable(statistic) or statistic == "mean":
        cols = getattr(data, "columns", None)
        if cols is not None:
            return [str(c) for c in cols]
        if isinstance(data, pd.Series) and data.name is not None:  # a named column keeps its name
            return [str(data.name)]
    return None


def _frame_groups(data, groups, field: str = "data"):
    """A DataFrame with ``groups`` naming one of its columns: (the other columns, that column), as the
    streamed path (:func:`workbench.scale.bootstrap_loss_matrix`) reads ``groups`` for tables."""
    # A single label (not only a str: pd.DataFrame(array) has integer column names, and groups=3 was a
    # TypeError "'int' object is not iterable") names a column.
    label = groups is not None and np.ndim(groups) == 0
    if isinstance(data, pd.DataFrame) and label:
        if groups not in data.columns:
            raise ValidationError("groups", f"names no column of the DataFrame: {groups!r} not in "
                                  f"{[str(c) for c in data.columns]}")
        return data.drop(columns=[groups]), data[groups]
    if label:  # np.asarray(list("g")) would be one id, then "one row per row" would puzzle
        raise ValidationError("groups", f"a column name ({groups!r}) needs data as a pandas DataFrame; otherwise "
                                        f"pass one group id per row")
    # group ids as a Series are paired with the rows by position: the same index, or refused (a shuffled Series
    # put rows in other clusters, silently). A (numerator, denominator) pair's members and the ids alike.
    pair = field == "data" and isinstance(data, (tuple, list)) and len(data) == 2
    parts = list(data) if pair else [data]
    names = ["numerator", "denominator"] if len(parts) == 2 else [field]
    check_same_index(list(zip(names, parts)) + [("groups", groups)])
    return data, groups


def _compute(data, statistic, methods, *, n_resamples, random_state, resampling, groups, indices, vectorized,
             methods_field: str = "method"):
    """``methods_field``: the caller's argument that named ``methods`` (bootstrap_ci's method, bootstrap_intervals'
    methods), for the error that refuses one of them."""
    if callable(statistic):
        if groups is not None:
            raise ValidationError("groups", "the cluster bootstrap needs statistic='mean' or 'ratio'")
        if "studentized" in methods:
            raise ValidationError(methods_field, "studentized intervals need statistic='mean' or 'ratio' "
                                  "(a standard error inside every replicate)")
        X, one = _as_matrix(data, "data")
        core = _callable_core(X, statistic, vectorized, resampling=resampling, n_resamples=n_resamples,
                              random_state=random_state, indices=indices, need_jackknife="bca" in methods)
        return core, one, X.shape[1], getattr(statistic, "__name__", "statistic")
    terms, num, den, one = _prepare(data, statistic)
    core = _core(terms, num, den, resampling=resampling, n_resamples=n_resamples, random_state=random_state,
                 indices=indices, groups=groups, studentize="studentized" in methods)
    return core, one, num.size, statistic


def bootstrap_ci(data, statistic: str | Callable = "mean", *, method: str = "percentile", n_resamples: int | None = None,
                 alpha: float = 0.05, random_state=None, resampling: str = "multinomial", groups=None,
                 indices=None, names: Sequence[str] | None = None, vectorized: bool | None = None,
                 **tabular) -> BootstrapResult:
    """Bootstrap confidence interval for a mean, a ratio of means or any statistic, per column.

    Parameters
    ----------
    data : array of shape (n,) or (n, m); for ``statistic="ratio"`` a pair (numerator,
        denominator) of such arrays, or an (n, 2) array. A list or tuple of length 2 is always
        read as the pair: ``[[1, 2], [4, 5]]`` is numerator (1, 2) over denominator (4, 5);
        pass ``np.array(rows)`` for two rows of (numerator, denominator).
        Per-sample values. With m columns, one set of resampling weights serves all of them, so
        intervals of differences between columns (see :func:`compare_models`) are paired.
    statistic : "mean", "ratio" or callable
        "mean": the column mean. "ratio": mean(numerator) / mean(denominator), re-normalised in
        every replicate (e.g. a self-normalised estimator, clicks per view). A callable
        ``f(x, axis=-1)`` (like numpy's reductions) is applied to resampled copies of each column;
        with ``vectorized=False`` it is called as ``f(x)`` once per resample (slow). The default
        ``vectorized=None`` decides as scipy.stats.bootstrap does: vectorised when the callable
        takes an ``axis`` argument.
    method : {"percentile", "basic", "bca", "studentized", "normal"}
        "bca" uses O(n) influence values for means and ratios (exactly the jackknife for a mean);
        for a callable it falls back to the O(n^2) jackknife. "studentized" (bootstrap-t) uses the
        delta-method standard error inside every replicate, from weighted second moments; it is
        the method that keeps coverage on skewed data (see the coverage tests).
    n_resamples : int, optional
        Number of bootstrap replicates B; default (None) 2000. With ``resampling="indices"`` the rows of
        ``indices`` are the replicates: leave it unset (a different number is refused, the same accepted).
    alpha : float
        Miscoverage: the interval is a (1 - alpha) two-sided interval.
    random_state : int, numpy Generator or None
        An int is used as the seed key directly: with ``resampling="multinomial"`` the replicates
        use ``numpy.random.default_rng(seed).integers(0, n, (B, n))``, the same indices
        ``scipy.stats.bootstrap(..., rng=numpy.random.default_rng(seed))`` draws.
    resampling : {"multinomial", "poisson", "indices"}
        "multinomial": the classic bootstrap (n draws with replacement). "poisson": independent
        Poisson(1) weight per unit from a hash of (unit id, replicate, seed); chunk-free and
        streamable (Chamandy et al. 2012), and order-free when ``groups`` gives the unit ids
        (otherwise a row's id is its position). "indices": use the given ``indices`` (B, n).
    groups : array of shape (n,), or a column name when ``data`` is a DataFrame, optional
        Cluster ids (user, session, query). Whole clusters are resampled (multinomial over
        clusters, or one hashed Poisson weight per cluster id); the statistic becomes a ratio of
        cluster totals, so a mean is re-weighted by cluster size in every replicate. A column name
        takes the ids from that column and leaves it out of the data, as the streamed path does.
    indices : int array of shape (B, n_units), optional
        Explicit resample indices for ``resampling="indices"`` (units are clusters with groups).
    names : sequence of str, optional
        One name per column (default: the DataFrame's columns, or x0, x1, ...; "x" for 1-D data).

    Returns
    -------
    BootstrapResult
        ``estimate``, ``ci_low``, ``ci_high``, ``standard_error`` (scalars for 1-D data, arrays of
        shape (m,) otherwise), ``bootstrap_distribution`` (B,) or (B, m), ``method``,
        ``n_resamples``, ``seed``; ``to_frame()`` gives a tidy frame.

    Notes
    -----
    What the interval promises: approximately (1 - alpha) coverage of the population value of the
    statistic under i.i.d. sampling of rows (or of clusters with ``groups``). In the coverage tests
    (tests/test_resample_coverage.py) studentized and BCa intervals of means hold 93-97% at
    n >= 100 for normal, exponential and Bernoulli data; percentile and basic undercover on skewed
    data at small n. Nothing here fixes a biased statistic or dependent rows.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import bootstrap_ci
    >>> x = np.random.default_rng(0).exponential(size=200)
    >>> res = bootstrap_ci(x, method="bca", n_resamples=1000, random_state=0)
    >>> bool(res.ci_low < x.mean() < res.ci_high)
    True
    >>> L = np.random.default_rng(1).random((500, 3))      # losses of 3 models
    >>> bootstrap_ci(L, method="studentized", random_state=0).to_frame().shape[0]
    3

    Data larger than memory: ``data`` may also be an iterable of chunks, a Parquet path /
    ``pyarrow.dataset.Dataset`` or a ``dask.dataframe.DataFrame`` (``statistic="mean"``,
    ``resampling="poisson"``, ``groups`` a column name; ``columns=``, ``chunk_size=``, ``n_jobs=``
    keywords): :func:`workbench.scale.bootstrap_loss_matrix` streams it and gives the same result
    as this function in memory with ``resampling="poisson"``.
    """
    streamed = _streamed(data)
    _check_stream_keywords("bootstrap_ci", tabular, streamed, _stream_keywords("bootstrap_ci"))
    if streamed:
        _check_streamed_args(indices)
        return _bootstrap_streamed(data, statistic, method=method, alpha=alpha,
                                   n_resamples=DEFAULT_N_RESAMPLES if n_resamples is None else n_resamples,
                                   random_state=random_state, resampling=resampling, groups=groups, names=names,
                                   **tabular)
    check_choice(method, "method", METHODS)
    alpha = check_alpha(alpha)
    data, groups = _frame_groups(data, groups)
    names = names if names is not None else _infer_names(data, statistic)
    core, one, m, stat_name = _compute(data, statistic, (method,), n_resamples=n_resamples,
                                       random_state=random_state, resampling=resampling, groups=groups,
                                       indices=indices, vectorized=vectorized)
    lo, hi = _interval_from_core(core, method, alpha)
    se = replicate_sd(core.reps, axis=0)
    nan_reps = _warn_undefined(core)
    inf_reps = _warn_infinite(core)

    def out(v):
        v = np.asarray(v, dtype=np.float64)
        return float(v.reshape(-1)[0]) if one else _ro(v.reshape(-1))

    return BootstrapResult(
        estimate=out(core.theta), ci_low=out(lo), ci_high=out(hi), standard_error=out(se),
        bootstrap_distribution=_ro(core.reps[:, 0] if one else core.reps), method=method,
        n_resamples=core.B, seed=core.seed, alpha=alpha, n=core.n, statistic=str(stat_name),
        resampling=core.scheme, names=_names(names, m, one), n_groups=core.n_groups,
        diagnostics={"undefined_replicates": nan_reps, "infinite_replicates": inf_reps})


def _warn_undefined(core: _Core) -> int:
    """Count the replicates where a statistic is undefined (NaN) and say so: they are left out of the
    intervals, which then describe only the defined replicates."""
    import warnings

    nan = np.isnan(core.reps)
    n_bad = int(nan.any(axis=1).sum())
    theta = np.atleast_1d(core.theta)
    undefined = np.flatnonzero(~np.isfinite(theta))
    if undefined.size:  # their replicates say nothing: one warning for the column, not one per replicate
        where = f" for {undefined.size} of {theta.size} data columns (first: column {undefined[0]})" \
            if theta.size > 1 else ""
        warnings.warn(f"bootstrap: the statistic is undefined ({theta[undefined[0]]}) on the full sample{where}; its "
                      "estimate and interval are NaN", RuntimeWarning, stacklevel=3)
    per_col = np.where(np.isfinite(theta), nan.sum(axis=0), 0)
    if per_col.any():
        count, where = _first_column(per_col)
        warnings.warn(f"bootstrap: the statistic is undefined (NaN) in {count} of {core.B} replicates{where} "
                      "(e.g. a ratio whose resampled denominator is 0); the intervals and standard error ignore them "
                      "(diagnostics['undefined_replicates'])", RuntimeWarning, stacklevel=3)
    return n_bad


def _first_column(per_col: np.ndarray) -> tuple[int, str]:
    """(count in the first data column with any, " (data column j and k more)" or "" for one column) for the
    replicate warnings."""
    cols = np.flatnonzero(per_col)
    j = int(cols[0])
    more = f" and {cols.size - 1} more" if cols.size > 1 else ""
    return int(per_col[j]), (f" (data column {j}{more})" if per_col.size > 1 else "")


def _warn_infinite(core: _Core) -> int:
    """Count the replicates where a (callable) statistic is +-inf and say so. They are kept, as the most extreme
    values: an interval limit may be +-inf, and the standard error (so the normal interval) is inf. numpy's
    quantiles and standard deviation turned them into NaN limits and a NaN standard error, without a word."""
    import warnings

    inf = np.isinf(core.reps) & np.isfinite(np.atleast_1d(core.theta))  # (an infinite estimate: _warn_undefined)
    per_col = inf.sum(axis=0)
    if per_col.any():
        count, where = _first_column(per_col)
        warnings.warn(f"bootstrap: the statistic is infinite in {count} of {core.B} replicates{where}; "
                      "they count as the most extreme values, so interval limits may be +-inf and the standard "
                      "error is inf (diagnostics['infinite_replicates'])", RuntimeWarning, stacklevel=3)
    return int(inf.any(axis=1).sum())


def _streamed(data) -> bool:
    """Chunks, Parquet and Dask inputs go to workbench.scale (an in-memory DataFrame stays here)."""
    from ..scale.sources import is_tabular

    return is_tabular(data) and not isinstance(data, pd.DataFrame)


def _stream_keywords(caller: str) -> list:
    """The keywords ``caller`` passes on to workbench.scale for streamed data: those of its streamed twin
    that it does not name itself (columns, chunk_size, n_jobs), read from the signatures so they cannot drift."""
    import inspect

    from ..scale import bootstrap_loss_matrix, compare_models_tabular
    from .compare import compare_models

    own, twin = {"bootstrap_ci": (bootstrap_ci, bootstrap_loss_matrix),
                 "bootstrap_intervals": (bootstrap_ci, bootstrap_loss_matrix),
                 "compare_models": (compare_models, compare_models_tabular)}[caller]
    named = inspect.signature(own).parameters
    return [k for k in inspect.signature(twin).parameters if k != "data" and k not in named]


def _check_stream_keywords(caller: str, tabular: Mapping, streamed: bool, allowed: Sequence[str]) -> None:
    """The extra keywords of a function that streams chunked, Parquet and Dask data: only ``allowed``
    ones (not Python's TypeError from deep inside workbench.scale), and only with such data."""
    unknown = sorted(set(tabular) - set(allowed))
    if unknown:
        raise ValidationError(caller, f"unexpected keyword(s) {unknown}",
                              hint=f"besides its named arguments it takes {list(allowed)}, for chunked, Parquet or "
                                   f"Dask data (streamed by workbench.scale)")
    if tabular and not streamed:
        raise ValidationError(caller, f"keyword(s) {sorted(tabular)} apply to chunked, Parquet or Dask data only, "
                                      "not to in-memory data (an array or a pandas DataFrame)",
                              hint="pass a list or iterator of chunks, a Parquet path or a Dask frame to stream the "
                                   "data, or leave these keywords out")


def _check_streamed_args(indices) -> None:
    """What the streamed path cannot check itself, refused as in memory."""
    if indices is not None:  # refused as in memory, where indices need resampling="indices" (not streamable)
        raise ValidationError("indices", "only used with resampling='indices', which needs all rows in memory; "
                              "chunked, Parquet and Dask data take resampling='poisson'")
    # names are not checked here: bootstrap_loss_matrix checks them before its pass by the in-memory rule
    # (check_names against the number of columns, which only it knows). A check here, against len(names),
    # raised a bare TypeError for names=5 (list(5)) and gave another count than memory for repeated names
    # of the wrong number (["x", "x", "y"] on 2 columns: "must be 3 distinct names").


def _bootstrap_streamed(data, statistic, **kw):
    from ..scale import bootstrap_loss_matrix

    if statistic != "mean":
        raise ValidationError("statistic", f"must be 'mean' for chunked, Parquet or Dask data, got {statistic!r}")
    return bootstrap_loss_matrix(data, **kw)


def bootstrap_intervals(data, statistic: str | Callable = "mean", *, methods: Sequence[str] | None = None,
                        n_resamples: int | None = None, alpha: float = 0.05, random_state=None,
                        resampling: str = "multinomial", groups=None, indices=None,
                        names: Sequence[str] | None = None, vectorized: bool | None = None,
                        **tabular) -> pd.DataFrame:
    """Several interval methods from ONE bootstrap distribution, as a tidy frame.

    Same arguments as :func:`bootstrap_ci`; ``methods`` lists the interval methods, each once (default: every
    method :func:`bootstrap_ci` offers for the statistic, i.e. :data:`METHODS`, without
    "studentized" for a callable statistic). The rows share the replicates, so differences between
    methods are not resampling noise: each row equals :func:`bootstrap_ci` with that ``method``
    and the same arguments.

    Chunked, Parquet and Dask data (``statistic="mean"``, ``resampling="poisson"``, and the
    ``columns=``, ``chunk_size=``, ``n_jobs=`` keywords of :func:`bootstrap_ci`) are streamed by
    :func:`workbench.scale.bootstrap_loss_matrix`: one pass serves percentile, basic, normal and one of
    bca / studentized, a second pass the other (they need different co-moments; hashed Poisson weights
    make it the same replicates), so an iterator of chunks, which can be read once, takes at most
    one of the two. With ``groups`` the default methods leave out bca and studentized, which a stream
    cannot form from clusters that span chunks.

    Returns
    -------
    DataFrame with columns name, value, ci_low, ci_high, se, alpha, method, n, n_resamples, seed,
    statistic, resampling (and n_groups with ``groups``): those of ``bootstrap_ci(...).to_frame()``.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import bootstrap_intervals
    >>> x = np.random.default_rng(0).lognormal(size=100)
    >>> bootstrap_intervals(x, n_resamples=999, random_state=1)["method"].tolist()
    ['percentile', 'basic', 'bca', 'studentized', 'normal']
    """
    streamed = _streamed(data)
    _check_stream_keywords("bootstrap_intervals", tabular, streamed, _stream_keywords("bootstrap_intervals"))
    if methods is None:  # what bootstrap_ci offers for this statistic: a callable has no studentized interval
        methods = [mth for mth in METHODS if not (callable(statistic) and mth == "studentized")
                   and not (streamed and groups is not None and mth in ("bca", "studentized"))]
    if isinstance(methods, str):  # one method: list("bca") would be the methods "b", "c", "a"
        methods = [methods]
    methods = list(methods)
    if not methods:  # pd.concat of no frames was a bare "No objects to concatenate"
        raise ValidationError("methods", f"must name at least one of {list(METHODS)}")
    for mth in methods:
        check_choice(mth, "methods", METHODS)
    if len(set(methods)) != len(methods):  # the same rows twice, and a pivot of them fails (validity's rule)
        repeated = sorted({mth for mth in methods if methods.count(mth) > 1}, key=methods.index)
        raise ValidationError("methods", f"names must be unique, got {methods}; repeated: {repeated}")
    alpha = check_alpha(alpha)
    if streamed:
        _check_streamed_args(indices)
        return _intervals_streamed(data, statistic, methods, alpha=alpha,
                                   n_resamples=DEFAULT_N_RESAMPLES if n_resamples is None else n_resamples,
                                   random_state=random_state, resampling=resampling, groups=groups, names=names,
                                   **tabular)
    data, groups = _frame_groups(data, groups)
    names = names if names is not None else _infer_names(data, statistic)
    core, one, m, stat_name = _compute(data, statistic, methods, n_resamples=n_resamples,
                                       random_state=random_state, resampling=resampling, groups=groups,
                                       indices=indices, vectorized=vectorized, methods_field="methods")
    names = _names(names, m, one)
    se = replicate_sd(core.reps, axis=0)
    _warn_undefined(core)
    _warn_infinite(core)
    frames = []
    for mth in methods:
        lo, hi = _interval_from_core(core, mth, alpha)
        frame = pd.DataFrame({"name": list(names), "value": core.theta, "ci_low": np.atleast_1d(lo),
                              "ci_high": np.atleast_1d(hi), "se": se, "alpha": alpha, "method": mth, "n": core.n,
                              "n_resamples": core.B, "seed": core.seed, "statistic": str(stat_name),
                              "resampling": core.scheme})
        if core.n_groups is not None:
            frame["n_groups"] = core.n_groups
        frames.append(frame)  # the columns of BootstrapResult.to_frame(), one block per method
    return pd.concat(frames, ignore_index=True)


def _intervals_streamed(data, statistic, methods, *, random_state, alpha, **kw) -> pd.DataFrame:
    """bootstrap_intervals for chunked, Parquet and Dask data: as few passes as the methods need.

    Percentile, basic and normal need only the replicate means, which every pass gives; bca needs the
    streamed third co-moments, studentized the squares: one pass each (stream_core gathers one or the
    other). The seed is fixed once, so every pass draws the same hashed Poisson weights and the rows
    share the replicates, as in memory; each equals bootstrap_ci with that method.
    """
    from ..scale.sources import as_source

    passes = [mth for mth in ("bca", "studentized") if mth in methods] or [methods[0]]
    if len(passes) > 1 and not as_source(data).reusable:
        raise ValidationError("methods", "'bca' and 'studentized' each need their own pass over the data (other "
                              "co-moments), and an iterator of chunks can be read only once",
                              hint="pass a list of chunks, a Parquet path or a Dask frame, or ask for one of the two")
    seed = seed_key(random_state)  # a Generator draws once: both passes must use the same weights
    results = {mth: _bootstrap_streamed(data, statistic, method=mth, random_state=seed, alpha=alpha, **kw)
               for mth in passes}
    first = results[passes[0]]
    theta, reps = np.atleast_1d(first.estimate), first.bootstrap_distribution
    frames = []
    for mth in methods:
        if mth in results:
            frame = results[mth].to_frame()
        else:  # from the replicates, as bootstrap_loss_matrix computes these methods
            frame = first.to_frame()
            lo, hi = (_intervals.normal_interval(theta, replicate_sd(reps, axis=0), alpha) if mth == "normal"
                      else _intervals.interval(mth, theta, reps, alpha))
            lo, hi = _intervals.point_if_constant(theta, reps, lo, hi)
            frame["ci_low"], frame["ci_high"], frame["method"] = np.atleast_1d(lo), np.atleast_1d(hi), mth
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
