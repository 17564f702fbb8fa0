"""Statistical validity report: can you trust the intervals and p-values this workbench prints?

Every function here *simulates* data with a known truth, runs the workbench's own code on each
replicate, and reports how often the interval covers the truth (coverage) or how often a test
rejects a true null hypothesis (type-I error), with the Monte Carlo uncertainty of that share.

* :func:`interval_coverage`: the bootstrap intervals of :mod:`workbench.resample` (percentile,
  basic, BCa, studentized, normal) for means, paired differences and ratios of means on normal,
  exponential, lognormal and Bernoulli data (:data:`SCENARIOS`), at several sample sizes. All
  methods of one replicate share ONE bootstrap distribution (as :func:`bootstrap_intervals` does),
  so differences between methods are not resampling noise. A callable interval method can be
  added to the comparison (e.g. a deliberately broken one, to see that the report catches it).
* :func:`ope_interval_coverage`: the intervals of :func:`workbench.ope.evaluate_policy`
  (percentile, BCa, normal, empirical Bernstein) for IPS, SNIPS and DR on logs from
  :func:`workbench.data.simulate_bandit`, against the exact value ``truth.policy_value``.
* :func:`active_interval_coverage`: the intervals of :func:`workbench.active.estimate_risk`
  (LURE, iid, ASE) after 25, 50, 100 ... labels, against the exact risk on the pool.
* :func:`type1_error`: rejection rates under a true null of the two-algorithm tests on CV scores
  (naive 10x10 resampled t, Nadeau-Bengio corrected t, single 10-fold t, 5x2cv t and F, the
  Bayesian correlated t decision rule), the two-model McNemar tests (exact, mid-p, chi-square
  with and without continuity correction) and the many-model rank tests (Friedman, Iman-Davenport,
  Nemenyi and Holm-corrected Wilcoxon: family-wise "any pair" rate).

The pass band (references 2.10): an observed share c_hat over R independent replicates is
consistent with the nominal level c when |c_hat - c| <= 3.5 sqrt(c (1 - c) / R); for c = 0.95 that
is +-0.024 at R = 1000 and +-0.017 at R = 2000; for alpha = 0.05 it is +-0.024 at R = 1000. With
3.5 standard errors a correct method leaves the band with probability about 5e-4 per row, so an
out-of-band row is evidence of a real defect (or of a method that is only asymptotically right at
this n), not bad luck. That figure is a normal approximation to the binomial count: it holds (at
most 1.2e-3, exact binomial) while R c (1 - c) >= 15, i.e. R >= 316 at c = 0.95 or alpha = 0.05
and R >= 1516 at alpha = 0.01. With fewer replicates the band is both wider and leakier: a correct
95% interval leaves it with probability 1.5e-3 at R = 100 and 3.2e-3 at R = 50, a correct test at
alpha = 0.01 with 1.4e-2 at R = 50.

Reproducibility: every replicate gets its own ``numpy.random.SeedSequence``, spawned in the parent
before any work is dispatched to joblib from a key of (random_state, scenario name, n). Results
are therefore identical for any ``n_jobs``, and a cell of the grid (scenario, n) gives the same
numbers whatever else is in the grid.
"""
from __future__ import annotations

import numbers
import warnings
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from ._random import seed_key
from ._parallel import run_tasks
from ._validation import (ValidationError, check_alpha, check_bool, check_choice, check_finite, check_int,
                          check_real, raise_if_any)

__all__ = [
    "Scenario", "SCENARIOS", "bernoulli_mean", "mc_band", "interval_coverage", "coverage_table",
    "ope_interval_coverage",
    "synthetic_pool", "active_interval_coverage", "TESTS", "type1_error",
]

BAND_SE = 3.5  # half-width of the pass band in Monte Carlo standard errors (references 2.10)


# ------------------------------------------------------------------------------------------------
# Monte Carlo band and summaries
# ------------------------------------------------------------------------------------------------
def mc_band(level: float, n_replicates: int, k: float = BAND_SE) -> tuple[float, float]:
    """Pass band for a share estimated from ``n_replicates`` independent replicates.

    Returns ``(level - k * s, level + k * s)``, clipped to [0, 1], with
    ``s = sqrt(level (1 - level) / n_replicates)``, the Monte Carlo standard error of the share if
    the true rate equals ``level``. With the default k = 3.5 a share whose true rate is ``level``
    falls outside with probability about 5e-4 (at most 1.2e-3, exact binomial) when
    ``n_replicates * level * (1 - level) >= 15``; below that the normal approximation is rough
    (3.2e-3 for level 0.95 at R = 50; 1.4e-2 for level 0.01 at R = 50).

    Examples
    --------
    >>> from workbench.validity import mc_band
    >>> [round(v, 3) for v in mc_band(0.95, 2000)]
    [0.933, 0.967]
    """
    R = check_int(n_replicates, "n_replicates", low=1)
    # a level outside [0, 1] (or NaN) would give a NaN width, and max / min below would turn it
    # into the band [0, 1] that every share passes
    level = check_real(level, "level", low=0.0, high=1.0)
    k = check_real(k, "k", low=0.0)
    s = float(np.sqrt(level * (1.0 - level) / R))
    return max(0.0, level - k * s), min(1.0, level + k * s)  # a share lives in [0, 1]


def _check_sizes(n, field="n", minimum=2):
    if isinstance(n, (numbers.Number, str, bytes)):  # one size (an int, or a float such as 100.0 checked as one)
        vals = [n]
    else:
        try:
            vals = list(n)
        except TypeError:
            raise ValidationError(field, f"must be an integer or a sequence of integers, got {n!r}") from None
    if not vals:
        raise ValidationError(field, "needs at least one value")
    out = tuple(check_int(v, field, low=minimum) for v in vals)
    if len(set(out)) < len(out):  # two identical rows, which coverage_table then refused
        raise ValidationError(field, f"values must be unique, got {list(out)}")
    return out


def _coverage_row(lo, hi, truth, level, closed):
    """Coverage summary of R intervals (lo, hi arrays) for one truth."""
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    with np.errstate(invalid="ignore"):  # an inverted interval counted as a miss on both sides (width < 0)
        raise_if_any(lo > hi, "interval", "must have low <= high (replicates in the order run)", lo)
    R = lo.size
    # NaN = no interval. An infinite end point is a real (one-sided or unbounded) interval: the
    # studentized method keeps t* = +-inf, so (-inf, x] covers every truth <= x.
    defined = ~np.isnan(lo) & ~np.isnan(hi)
    if closed:
        below, above = hi < truth, lo > truth  # truth above / below the interval
    else:
        below, above = hi <= truth, lo >= truth
    # An interval that could not be computed (NaN end point) counts as a miss: a report that
    # dropped those replicates would overstate coverage.
    hit = defined & ~below & ~above
    c = hit.mean()
    band_low, band_high = mc_band(level, R)
    width = (hi - lo)[defined]
    return {
        "level": level,
        "coverage": float(c),
        "mc_se": float(np.sqrt(c * (1 - c) / R)),
        "band_low": band_low,
        "band_high": band_high,
        "within_band": bool(band_low <= c <= band_high),
        "verdict": "undercovers" if c < band_low else ("overcovers" if c > band_high else "ok"),
        "miss_low": float((defined & below).mean()),    # interval entirely below the truth
        "miss_high": float((defined & above).mean()),   # interval entirely above the truth
        "mean_width": float(width.mean()) if width.size else float("nan"),
        "n_undefined": int((~defined).sum()),
        # intervals with an infinite end: they "cover" by giving up (a coverage helped by them is no merit)
        "n_unbounded": int((defined & (np.isinf(lo) | np.isinf(hi))).sum()),
        "n_replicates": int(R),
        "truth": float(truth),
    }


def _verdict(rate, low, high):
    return "liberal" if rate > high else ("conservative" if rate < low else "ok")


def _cell_seeds(random_state, tag: str, n_replicates: int, *extra: int) -> list:
    """One SeedSequence per replicate, from (random_state, tag, extra); fixed before dispatch."""
    base = seed_key(random_state)
    root = np.random.SeedSequence([base & 0xFFFFFFFF, base >> 32, zlib.crc32(tag.encode()), *extra])
    return root.spawn(n_replicates)


def _chunks(items, size):
    return [items[i:i + size] for i in range(0, len(items), size)]


def _run(tasks, n_jobs, progress, desc):
    return run_tasks(tasks, n_jobs=n_jobs, progress=progress, desc=desc)


# ------------------------------------------------------------------------------------------------
# Bootstrap scenarios
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scenario:
    """A data-generating process with a known value of the statistic.

    Attributes
    ----------
    name : str
    draw : callable ``(rng, n) -> data``
        One replicate data set of ``n`` rows: an array (statistic "mean") or a pair
        (numerator, denominator) of arrays (statistic "ratio").
    statistic : {"mean", "ratio"}
    truth : float
        The population value the interval should cover.
    description : str

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.validity import Scenario, interval_coverage
    >>> uniform = Scenario("uniform-mean", lambda rng, n: rng.random(n), "mean", truth=0.5)
    >>> cov = interval_coverage([uniform], ["percentile"], n=50, n_replicates=50, n_resamples=200, random_state=0,
    ...                         progress=False)
    >>> cov[["scenario", "n_replicates"]].values.tolist()
    [['uniform-mean', 50]]
    """

    name: str
    draw: Callable
    statistic: str
    truth: float
    description: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:  # 5 or None: an AttributeError when seeds were made
            raise ValidationError("scenario.name", f"must be a non-empty string, got {self.name!r}")
        # A NaN truth compares False with both ends, so every interval "covered" it (coverage 1.0,
        # verdict ok); a string or None failed deep inside the comparison with a TypeError.
        object.__setattr__(self, "truth", check_real(self.truth, "scenario.truth"))
        check_choice(self.statistic, "scenario.statistic", ("mean", "ratio"))
        if not callable(self.draw):
            raise ValidationError("scenario.draw", f"must be a callable (rng, n) -> data, got "
                                                   f"{type(self.draw).__name__}")


# Truths are off the k/n lattice for every n up to 1000 except multiples of 10,000 (references 2.10:
# a truth ON the lattice can coincide with an interval end point, so closed and open intervals then
# give different coverage). Module-level functions so that joblib can pickle them.
P_BERNOULLI = 0.8537


def _normal_mean(rng, n):
    return rng.normal(1.0, 2.0, n)


def _exponential_mean(rng, n):
    return rng.exponential(1.0, n)


def _lognormal_mean(rng, n):
    return rng.lognormal(0.0, 1.0, n)


def _bernoulli_mean(rng, n, p=P_BERNOULLI):
    return (rng.random(n) < p).astype(float)


def _normal_difference(rng, n):
    common = rng.normal(0.0, 1.0, n)  # a shared per-row difficulty: the pairing matters
    return (common + rng.normal(0.3, 1.0, n)) - (common + rng.normal(0.0, 1.0, n))


def _exponential_difference(rng, n):
    common = rng.exponential(1.0, n)
    return (common + rng.exponential(1.0, n)) - (common + rng.exponential(0.8, n))


def _lognormal_difference(rng, n):
    common = rng.lognormal(0.0, 0.5, n)
    return (common + rng.lognormal(0.0, 1.0, n)) - (common + rng.lognormal(0.0, 0.8, n))


# Paired correctness of two classifiers: A right only / B right only / both the same.
P_A_ONLY, P_B_ONLY = 0.1537, 0.1


def _bernoulli_difference(rng, n):
    u = rng.random(n)
    return (u < P_A_ONLY).astype(float) - ((u >= P_A_ONLY) & (u < P_A_ONLY + P_B_ONLY)).astype(float)


def _normal_ratio(rng, n):
    den = rng.normal(2.0, 0.5, n)
    return 0.5 * den + rng.normal(0.4, 1.0, n), den


def _exponential_ratio(rng, n):
    den = rng.exponential(1.0, n) + 0.5
    return den * rng.normal(1.0, 0.5, n) + rng.exponential(0.5, n), den


def _lognormal_ratio(rng, n):
    return rng.lognormal(0.0, 1.0, n), rng.lognormal(0.0, 0.5, n)


P_VIEW, P_CLICK = 0.6537, 0.3137


def _bernoulli_ratio(rng, n):
    view = (rng.random(n) < P_VIEW).astype(float)
    click = view * (rng.random(n) < P_CLICK)
    return click, view  # clicks per view


SCENARIOS: dict[str, Scenario] = {s.name: s for s in [
    Scenario("normal-mean", _normal_mean, "mean", 1.0, "mean of N(1, 2^2)"),
    Scenario("exponential-mean", _exponential_mean, "mean", 1.0, "mean of Exp(1) (skewness 2)"),
    Scenario("lognormal-mean", _lognormal_mean, "mean", float(np.exp(0.5)), "mean of LogN(0, 1) (skewness 6.2)"),
    Scenario("bernoulli-mean", _bernoulli_mean, "mean", P_BERNOULLI,
             f"share of Bernoulli({P_BERNOULLI}) (an accuracy)"),
    Scenario("normal-difference", _normal_difference, "mean", 0.3, "paired difference of correlated normal losses"),
    Scenario("exponential-difference", _exponential_difference, "mean", 0.2,
             "paired difference of correlated exponential losses"),
    Scenario("lognormal-difference", _lognormal_difference, "mean", float(np.exp(0.5) - np.exp(0.32)),
             "paired difference of correlated lognormal losses"),
    Scenario("bernoulli-difference", _bernoulli_difference, "mean", P_A_ONLY - P_B_ONLY,
             "accuracy difference of two classifiers on the same points"),
    Scenario("normal-ratio", _normal_ratio, "ratio", 1.4 / 2.0, "ratio of means, correlated normal pair"),
    Scenario("exponential-ratio", _exponential_ratio, "ratio", 2.0 / 1.5,
             "ratio of means, skewed correlated pair (a self-normalised estimate)"),
    Scenario("lognormal-ratio", _lognormal_ratio, "ratio", float(np.exp(0.5 - 0.125)),
             "ratio of means of two independent lognormals"),
    Scenario("bernoulli-ratio", _bernoulli_ratio, "ratio", P_CLICK, "clicks per view"),
]}


def bernoulli_mean(p: float) -> Scenario:
    """Scenario: the share of ones in Bernoulli(p) data (e.g. an accuracy), truth ``p``.

    Use it to see the lattice pitfall: with ``p = 0.85`` the truth is a possible sample mean at
    n = 20, 100, ..., so interval end points can land exactly on it and "closed" versus "open"
    intervals report different coverage (compare ``closed=True`` and ``closed=False``).

    Examples
    --------
    >>> from workbench.validity import bernoulli_mean
    >>> bernoulli_mean(0.85).name
    'bernoulli(0.85)-mean'
    """
    p = check_real(p, "p")  # not float(): "0.85" was parsed, np.array([0.85]) a bare TypeError
    if not 0.0 < p < 1.0:
        raise ValidationError("p", f"must be in (0, 1), got {p}")
    from functools import partial

    return Scenario(f"bernoulli({p:g})-mean", partial(_bernoulli_mean, p=p), "mean", p, f"share of Bernoulli({p:g})")


def _as_scenarios(scenarios) -> list[Scenario]:
    if scenarios is None:
        return list(SCENARIOS.values())
    if isinstance(scenarios, (str, Scenario)):
        scenarios = [scenarios]
    out = []
    for s in scenarios:
        if isinstance(s, Scenario):
            check_choice(s.statistic, "scenario.statistic", ("mean", "ratio"))
            out.append(s)
        else:
            check_choice(s, "scenarios", tuple(SCENARIOS))
            out.append(SCENARIOS[s])
    if not out:
        raise ValidationError("scenarios", "needs at least one scenario")
    names = [s.name for s in out]
    if len(set(names)) != len(names):
        raise ValidationError("scenarios", f"names must be unique, got {names}")
    return out


def _as_methods(methods):
    """-> list of (name, str method or callable)."""
    from .resample.bootstrap import METHODS

    if isinstance(methods, (str,)) or callable(methods):
        methods = [methods]
    items = list(methods.items()) if isinstance(methods, Mapping) else list(methods)
    out = []
    for m in items:
        if isinstance(m, tuple) and len(m) == 2 and callable(m[1]):
            out.append((str(m[0]), m[1]))
        elif callable(m):
            out.append((getattr(m, "__name__", "custom"), m))
        else:
            check_choice(m, "methods", METHODS)
            out.append((m, m))
    if not out:
        raise ValidationError("methods", "needs at least one interval method")
    names = [n for n, _ in out]
    if len(set(names)) != len(names):
        raise ValidationError("methods", f"names must be unique, got {names}")
    return out


def _draw_replicate(scenario: Scenario, n: int, ss: np.random.SeedSequence):
    """Data of one replicate and the seed of its bootstrap (independent resampling per replicate)."""
    rng = np.random.default_rng(ss)
    data = scenario.draw(rng, n)
    _check_draw(scenario, n, data)
    return data, int(rng.integers(0, 2**63))


def _check_draw(scenario: Scenario, n: int, data) -> None:
    """What a scenario draws must be n rows of finite numbers, in the layout of its statistic.

    Without this check a draw of the wrong shape was bootstrapped as something else (a pair for
    "mean" as a 2 x n matrix, n + 1 rows reported as n, an (n, 2) array for "mean" read by its
    first column) and NaN data or a single array for "ratio" turned into "undefined" intervals on
    every replicate: coverage 0, verdict "undercovers", for a bug in the scenario.
    """
    field = f"scenario {scenario.name!r}: draw"
    if scenario.statistic == "ratio":
        parts = list(data) if isinstance(data, (tuple, list)) else None
        if parts is None:
            arr = np.asarray(data)
            parts = [arr[:, 0], arr[:, 1]] if arr.ndim == 2 and arr.shape[1] == 2 else None
        layout = "a pair (numerator, denominator) of arrays of shape (n,) or one (n, 2) array"
        if parts is None or len(parts) != 2:
            raise ValidationError(field, f"must return {layout} for statistic 'ratio' (n = {n}), got "
                                         f"{type(data).__name__} of shape {np.shape(data)}")
    else:
        parts, layout = [data], "one array of shape (n,)"
    for part in parts:
        arr = np.asarray(part)
        if arr.shape != (n,):
            raise ValidationError(field, f"must return {layout} for statistic {scenario.statistic!r}; with "
                                         f"n = {n} got shape {arr.shape}")
        check_finite(arr, field)


def _bootstrap_chunk(scenario, n, seeds, methods, n_resamples, alpha, resampling):
    """Interval end points (R_chunk, n_methods) for a block of replicates."""
    builtin = tuple(m for _, m in methods if isinstance(m, str))
    lo = np.full((len(seeds), len(methods)), np.nan)
    hi = np.full((len(seeds), len(methods)), np.nan)
    for r, ss in enumerate(seeds):  # one bootstrap per replicate data set: loop over replicates only
        data, boot_seed = _draw_replicate(scenario, n, ss)
        with warnings.catch_warnings():
            # A degenerate replicate data set (e.g. all ones at small n) gives NaN end points, which
            # are counted as misses in n_undefined; numpy's all-NaN warnings would only add noise.
            warnings.simplefilter("ignore", RuntimeWarning)
            lo[r], hi[r] = _replicate_intervals(data, scenario.statistic, boot_seed, methods, builtin, n_resamples,
                                                alpha, resampling)
    return lo, hi


def _replicate_intervals(data, statistic, boot_seed, methods, builtin, n_resamples, alpha, resampling):
    from .resample.bootstrap import _compute, _interval_from_core

    lo, hi = np.full(len(methods), np.nan), np.full(len(methods), np.nan)
    core = None
    if builtin:
        # The very path bootstrap_ci / bootstrap_intervals take: one resampling, every method.
        try:
            core, *_ = _compute(data, statistic, builtin, n_resamples=n_resamples, random_state=boot_seed,
                                resampling=resampling, groups=None, indices=None, vectorized=True)
        except ValidationError:
            # A replicate data set on which the statistic is undefined (e.g. a ratio whose
            # denominator is all zeros at tiny n): no interval, counted in n_undefined as a miss.
            core = None
    for j, (_, m) in enumerate(methods):
        if isinstance(m, str) and core is None:
            continue
        if isinstance(m, str):
            a, b = _interval_from_core(core, m, alpha)
        else:
            a, b = m(data, statistic, alpha, boot_seed)
        lo[j], hi[j] = _endpoint(a, m, "low"), _endpoint(b, m, "high")
    return lo, hi


def _endpoint(v, method, which: str) -> float:
    """One end point of a method's interval: a single real number (NaN: no interval). Only the first of several
    was kept, text or True parsed, and an empty array an IndexError."""
    if isinstance(v, str) or isinstance(v, bytes):
        bad = True
    else:
        arr = np.asarray(v)
        bad = arr.size != 1 or arr.dtype == bool or not np.issubdtype(arr.dtype, np.number) \
            or np.issubdtype(arr.dtype, np.complexfloating)
    if bad:
        name = getattr(method, "__name__", repr(method))
        raise ValidationError("methods", f"{name} must return (low, high), two real numbers; its {which} end was "
                                         f"{v!r:.80}")
    return float(np.asarray(v).ravel()[0])


def interval_coverage(scenarios=None, methods=("percentile", "basic", "bca", "studentized", "normal"),
                      n=(30, 100), n_replicates: int = 1000, n_resamples: int = 999, alpha: float = 0.05,
                      random_state=0, *, resampling: str = "multinomial", closed: bool = True, n_jobs=None,
                      chunk_size: int = 50, progress: bool = True) -> pd.DataFrame:
    """Coverage of bootstrap confidence intervals by simulation against a known truth.

    For every scenario and sample size, ``n_replicates`` independent data sets are drawn; on each,
    ONE bootstrap distribution (``n_resamples`` replicates, fresh independent resampling indices)
    feeds every built-in method, exactly as :func:`workbench.resample.bootstrap_intervals` does.
    Coverage is the share of data sets whose interval contains the truth.

    Parameters
    ----------
    scenarios : sequence of str or :class:`Scenario`, optional
        Names from :data:`SCENARIOS` ("normal-mean", "exponential-mean", "lognormal-mean",
        "bernoulli-mean", "<family>-difference", "<family>-ratio"), or your own scenarios.
        Default: all twelve.
    methods : sequence
        Built-in methods ("percentile", "basic", "bca", "studentized", "normal"), callables
        ``f(data, statistic, alpha, random_state) -> (low, high)`` (named by ``__name__``), or
        ``(name, callable)`` pairs / a ``{name: callable}`` mapping. A callable receives the
        replicate's bootstrap seed, so a wrapper around :func:`~workbench.resample.bootstrap_ci`
        sees the same resamples as the built-in methods.
    n : int or sequence of int
        Sample sizes (rows per data set).
    n_replicates : int
        Independent data sets R per (scenario, n).
    n_resamples : int
        Bootstrap replicates B per data set.
    alpha : float
        The intervals have nominal level 1 - alpha.
    random_state : int, Generator or None
        Seeds every replicate (see the module notes: identical results for any ``n_jobs``).
    resampling : {"multinomial", "poisson"}
        The bootstrap scheme (multinomial is :func:`bootstrap_ci`'s default).
    closed : bool
        Count a truth equal to an end point as covered (closed interval; default) or not.
    n_jobs : int or None
        joblib workers (None or 1: in-process).
    chunk_size : int
        Replicates per joblib task (does not change the result).
    progress : bool
        Show a tqdm progress bar.

    Returns
    -------
    DataFrame
        One row per (scenario, n, method): ``scenario, statistic, n, method, level, coverage,
        mc_se, band_low, band_high, within_band, verdict, miss_low, miss_high, mean_width,
        n_undefined, n_unbounded, n_replicates, truth, n_resamples``. ``coverage`` is the observed share;
        ``mc_se`` its Monte Carlo standard error; the band is level +- 3.5 sqrt(level (1 - level) / R)
        and ``within_band`` says whether the observed coverage lies in it; ``verdict`` is
        "undercovers" (below the band: the interval is too optimistic), "ok" or "overcovers"
        (above: conservative, e.g. a finite-sample bound). ``miss_low`` /
        ``miss_high``: share of intervals lying entirely below / above the truth (lopsided misses
        reveal skewness the method does not handle). ``n_undefined``: intervals that could not be
        computed (a NaN end point; counted as misses). An infinite end point (a studentized
        interval can be (-inf, x]) is a defined interval that covers everything on that side;
        ``n_unbounded`` counts them (a coverage reached through them says the method gave up, not
        that it works) and ``mean_width`` is then inf.

    Notes
    -----
    What a row promises: if the method's true coverage at this n equals the nominal level, the
    observed coverage falls outside the band with probability about 5e-4 (for R >= 316 at 95%;
    see :func:`mc_band` for fewer replicates). Bootstrap intervals are
    asymptotic: on skewed data at small n even good methods sit below the band; this function
    measures how far, it does not excuse it.

    Examples
    --------
    >>> from workbench.validity import interval_coverage
    >>> cov = interval_coverage(["normal-mean"], methods=["percentile", "studentized"], n=50,
    ...                         n_replicates=100, n_resamples=199, progress=False)
    >>> list(cov["method"])
    ['percentile', 'studentized']
    >>> bool(cov["coverage"].between(0.8, 1.0).all())
    True
    """
    # one key per call: a Generator drew a new key for every cell, so a cell's numbers depended on the
    # other cells requested (the promise is that they do not)
    random_state = seed_key(random_state)
    scen = _as_scenarios(scenarios)
    meths = _as_methods(methods)
    sizes = _check_sizes(n)
    R = check_int(n_replicates, "n_replicates", low=2)
    B = check_int(n_resamples, "n_resamples", low=2)
    alpha = check_alpha(alpha)
    closed = check_bool(closed, "closed")  # "no" is truthy
    check_choice(resampling, "resampling", ("multinomial", "poisson"))
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    cells, tasks = [], []
    for s in scen:
        for nn in sizes:
            seeds = _cell_seeds(random_state, s.name, R, nn)
            blocks = _chunks(seeds, chunk_size)
            cells.append((s, nn, len(blocks)))
            tasks += [(_bootstrap_chunk, (s, nn, blk, meths, B, alpha, resampling)) for blk in blocks]
    results = _run(tasks, n_jobs, progress, "interval coverage")
    rows, k = [], 0
    for s, nn, nb in cells:
        lo = np.vstack([r[0] for r in results[k:k + nb]])
        hi = np.vstack([r[1] for r in results[k:k + nb]])
        k += nb
        for j, (name, _) in enumerate(meths):
            rows.append({"scenario": s.name, "statistic": s.statistic, "n": nn, "method": name,
                         **_coverage_row(lo[:, j], hi[:, j], s.truth, 1 - alpha, closed), "n_resamples": B})
    return _order(pd.DataFrame(rows))


def coverage_table(frame: pd.DataFrame, index=("scenario", "n"), columns: str = "method",
                   value: str = "coverage") -> pd.DataFrame:
    """A readable pivot of a coverage frame: 3 decimals, marked when outside the band.

    ``▼`` marks a value below its band (the interval undercovers: too optimistic), ``▲`` above
    (conservative); only shares (``value`` "coverage" or "rejection_rate") are marked. Rows and
    columns keep the order of ``frame``, which must have one row per (``index``, ``columns``) cell.

    Examples
    --------
    >>> from workbench.validity import coverage_table, interval_coverage
    >>> cov = interval_coverage(["normal-mean"], methods=["percentile"], n=40, n_replicates=50,
    ...                         n_resamples=99, progress=False)
    >>> coverage_table(cov).shape
    (1, 1)
    """
    from ._validation import check_columns, raise_if_any

    index = [index] if isinstance(index, str) else list(index)
    # the band is a band for a share: comparing a width (value="mean_width") with it marked nonsense
    shares = value in ("coverage", "rejection_rate")
    check_columns(frame, index + [columns, value] + (["band_low", "band_high"] if shares else []), "frame")
    # pivot_table keeps the first of repeated cells: the others would vanish from the table silently
    raise_if_any(frame.duplicated(index + [columns]).to_numpy(), "frame",
                 f"must have one row per ({', '.join(index + [columns])}); repeated cells would be dropped "
                 f"(pass more index columns)", frame[columns].to_numpy())
    if shares:
        mark = np.where(frame[value] < frame["band_low"], " ▼", np.where(frame[value] > frame["band_high"], " ▲", ""))
    else:
        mark = np.full(len(frame), "")
    cells = frame.assign(_cell=[f"{v:.3f}{m}" for v, m in zip(frame[value], mark)])
    return cells.pivot_table(index=index, columns=columns, values="_cell", aggfunc="first", sort=False)


def _order(frame):
    first = ["scenario", "statistic", "n", "method", "level", "coverage", "mc_se", "band_low", "band_high",
             "within_band", "verdict", "miss_low", "miss_high", "mean_width", "n_undefined", "n_unbounded",
             "n_replicates"]
    cols = [c for c in first if c in frame.columns] + [c for c in frame.columns if c not in first]
    return frame[cols]


# ------------------------------------------------------------------------------------------------
# Off-policy evaluation intervals
# ------------------------------------------------------------------------------------------------
_BERNSTEIN_OK = ("ips", "sg-ips")  # (mips too has one, but is refused here: no embeddings)


def _ope_chunk(seeds, n, estimators, intervals, n_bootstrap, alpha, sim_kw, target_beta, reward_model):
    from scipy.special import logit, softmax

    from .data import simulate_bandit
    from .ope import evaluate_policy

    out = []  # per replicate: (truth, {(estimator, interval): (lo, hi)})
    for ss in seeds:
        rng = np.random.default_rng(ss)
        log, truth = simulate_bandit(n, random_state=rng, **sim_kw)
        q = truth.expected_reward
        # The target leans harder on the true reward than the logger (a "better" policy): weights
        # are bounded because the softmax logger gives every action mass.
        score = logit(np.clip(q, 1e-9, 1 - 1e-9)) if sim_kw["reward_type"] == "binary" else q
        pi = softmax(target_beta * score, axis=1)
        if isinstance(reward_model, str):  # "shrunk": fixed, misspecified, independent of the rewards
            rm = 0.5 * q + 0.5 * q.mean()
        elif callable(reward_model) and not hasattr(reward_model, "fit"):
            rm = reward_model(log, truth)
        else:
            rm = reward_model
        boot_seed = int(rng.integers(0, 2**63))
        res = {}
        for interval in intervals:
            ests = [e for e in estimators if interval != "bernstein" or e in _BERNSTEIN_OK]
            if not ests:
                continue
            frame = evaluate_policy(log, pi, estimators=ests, reward_model=rm, alpha=alpha, n_bootstrap=n_bootstrap,
                                    interval=interval, random_state=boot_seed, warn=False)
            for e, lo, hi in zip(ests, frame["ci_low"], frame["ci_high"]):
                res[(e, interval)] = (float(lo), float(hi))
        out.append((truth.policy_value(pi), res))
    return out


def ope_interval_coverage(estimators=("ips", "snips", "dr"), intervals=("percentile", "bca", "normal", "bernstein"),
                          n=(500, 2000), n_replicates: int = 500, n_bootstrap: int = 500, alpha: float = 0.05,
                          random_state=0, *, n_actions: int = 5, dim_context: int = 3, behavior: str = "softmax",
                          beta: float = 1.0, target_beta: float = 2.0, reward_model="shrunk", n_jobs=None,
                          chunk_size: int = 25, progress: bool = True) -> pd.DataFrame:
    """Coverage of :func:`workbench.ope.evaluate_policy` intervals on simulated bandit logs.

    Each replicate draws a fresh environment and log with :func:`workbench.data.simulate_bandit`
    (binary rewards, ``n`` rounds), a target policy pi = softmax(target_beta * logit q(x, a)) that
    leans harder on the true expected reward than the logger, and evaluates it with every
    estimator and interval type on ONE set of resamples (same seed for every interval type). The
    truth is ``truth.policy_value(pi)``, the exact value of pi on the log's contexts.

    Parameters
    ----------
    estimators : sequence of str
        evaluate_policy estimator names. "bernstein" rows are made only for IPS-type estimators
        (ips, sg-ips), the only ones with a finite-sample bound. "mips" is refused: the simulated
        logs have no action embeddings (with one embedding per action it would be IPS).
    intervals : sequence of {"percentile", "bca", "normal", "bernstein"}
    n : int or sequence of int
        Log sizes.
    n_replicates, n_bootstrap : int
        Independent logs per size; bootstrap resamples per log.
    reward_model : "shrunk", array-producing callable ``f(log, truth)``, or scikit-learn estimator
        For DR. "shrunk" (default): q_hat = (q + mean q) / 2, a fixed misspecified model that does
        not see the rewards, so DR stays unbiased and its interval has something to correct. An
        estimator is cross-fitted by evaluate_policy (slower).
    n_actions, dim_context, behavior, beta : passed to :func:`~workbench.data.simulate_bandit`.
    target_beta : float
        Sharpness of the target policy (larger: heavier importance weights).
    alpha, random_state, n_jobs, chunk_size, progress : as in :func:`interval_coverage`.

    Returns
    -------
    DataFrame
        One row per (n, estimator, interval): ``scenario, n, method`` ("ips percentile", ...),
        ``estimator, interval`` and the coverage columns of :func:`interval_coverage`; ``truth``
        is the mean of the per-log truths.

    Notes
    -----
    The truth is conditional on the logged contexts, while the intervals are built for the value
    over the context distribution; the extra context variability makes coverage of the
    conditional value slightly conservative (a fraction of a point here, because reward and
    weight noise dominate). Bootstrap intervals ignore the reward model's bias (DM) by design.

    Examples
    --------
    >>> from workbench.validity import ope_interval_coverage
    >>> cov = ope_interval_coverage(estimators=["ips"], intervals=["percentile"], n=300,
    ...                             n_replicates=20, n_bootstrap=100, progress=False)
    >>> cov[["method", "n_replicates"]].values.tolist()
    [['ips percentile', 20]]
    """
    # one key per call: a Generator drew a new key for every cell, so a cell's numbers depended on the
    # other cells requested (the promise is that they do not)
    random_state = seed_key(random_state)
    from .ope.evaluate import INTERVALS

    sizes = _check_sizes(n, minimum=10)
    R = check_int(n_replicates, "n_replicates", low=2)
    B = check_int(n_bootstrap, "n_bootstrap", low=2)
    alpha = check_alpha(alpha)
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    estimators = [estimators] if isinstance(estimators, str) else list(estimators)
    intervals = [intervals] if isinstance(intervals, str) else list(intervals)
    if not estimators or not intervals:
        raise ValidationError("estimators", "needs at least one estimator and one interval type")
    for e in estimators:
        if not isinstance(e, str):
            raise ValidationError("estimators", f"must be estimator names (str), got {type(e).__name__}")
    from .ope.estimators import estimator_key

    if "mips" in [estimator_key(e) for e in estimators]:
        # the simulated logs carry no action embeddings (every action its own one: MIPS would be IPS); it failed
        # inside evaluate_policy after the work had started, with no parameter to give embeddings here
        raise ValidationError("estimators", "'mips' needs action embeddings that group actions, which this "
                                            "scenario's simulated logs do not have",
                              hint="measure 'ips' (what MIPS reduces to without shared embeddings), or run "
                                   "evaluate_policy on a log with action_context")
    for iv in intervals:
        check_choice(iv, "intervals", INTERVALS)
    for field, values in (("estimators", estimators), ("intervals", intervals)):
        if len(set(values)) != len(values):  # the same rows twice, and a pivot of them fails
            raise ValidationError(field, f"names must be unique, got {values}")
    if intervals == ["bernstein"] and not set(estimators) & set(_BERNSTEIN_OK):
        # no (estimator, interval) pair is defined: an empty frame without columns came back
        raise ValidationError("intervals", f"'bernstein' is defined only for {list(_BERNSTEIN_OK)}; got the "
                                           f"estimators {estimators}")
    # checked, not int() / float(): n_actions=2.5 simulated 2 actions under a name saying 2, and
    # beta="x" or target_beta=nan failed deep inside the simulator or the policy
    sim_kw = {"n_actions": check_int(n_actions, "n_actions", low=2),
              "dim_context": check_int(dim_context, "dim_context", low=1),
              "behavior": behavior, "beta": check_real(beta, "beta"), "reward_type": "binary"}
    target_beta = check_real(target_beta, "target_beta")
    if isinstance(reward_model, str):
        check_choice(reward_model, "reward_model", ("shrunk",))
    scenario = f"bandit: {behavior} logger, {sim_kw['n_actions']} actions, binary reward"
    cells, tasks = [], []
    for nn in sizes:
        seeds = _cell_seeds(random_state, "ope:" + scenario, R, nn)
        blocks = _chunks(seeds, chunk_size)
        cells.append((nn, len(blocks)))
        tasks += [(_ope_chunk, (blk, nn, estimators, intervals, B, alpha, sim_kw, float(target_beta), reward_model))
                  for blk in blocks]
    results = _run(tasks, n_jobs, progress, "OPE coverage")
    rows, k = [], 0
    for nn, nb in cells:
        reps = [r for chunk in results[k:k + nb] for r in chunk]
        k += nb
        truths = np.array([t for t, _ in reps])
        for iv in intervals:
            for e in estimators:
                if (e, iv) not in reps[0][1]:
                    continue
                lo = np.array([res[(e, iv)][0] for _, res in reps])
                hi = np.array([res[(e, iv)][1] for _, res in reps])
                row = _coverage_row_vec(lo, hi, truths, 1 - alpha)
                rows.append({"scenario": scenario, "n": nn, "method": f"{e} {iv}", "estimator": e, "interval": iv,
                             **row, "n_bootstrap": B})
    return _order(pd.DataFrame(rows))


def _coverage_row_vec(lo, hi, truths, level):
    """_coverage_row with one truth per replicate (closed intervals)."""
    row = _coverage_row(lo - truths, hi - truths, 0.0, level, True)
    row["truth"] = float(np.mean(truths))
    defined = ~np.isnan(lo) & ~np.isnan(hi)  # as in _coverage_row: an infinite width is a width
    row["mean_width"] = float(np.mean((hi - lo)[defined])) if defined.any() else float("nan")
    return row


# ------------------------------------------------------------------------------------------------
# Active testing intervals
# ------------------------------------------------------------------------------------------------
def synthetic_pool(n_points: int = 500, n_classes: int = 3, noise: float = 1.0, random_state=0):
    """A pool with known risk: labels drawn from p_true, a noisy model, and p_true as a calibrated surrogate.

    Returns
    -------
    probs : (n_points, n_classes) the model under test (p_true's logits plus Gaussian noise)
    labels : (n_points,) hidden labels, y_i ~ p_true_i
    p_true : (n_points, n_classes) the label distribution (a perfectly calibrated surrogate)

    Examples
    --------
    >>> from workbench.validity import synthetic_pool
    >>> probs, labels, p_true = synthetic_pool(100, 4, random_state=0)
    >>> probs.shape, labels.shape
    ((100, 4), (100,))
    """
    from ._random import check_random_state

    n_points = check_int(n_points, "n_points", low=2)
    n_classes = check_int(n_classes, "n_classes", low=2)
    noise = check_real(noise, "noise", low=0.0)  # "1" was parsed, NaN gave NaN probabilities, -1 numpy's error
    rng = check_random_state(random_state)
    p_true = rng.dirichlet(np.full(n_classes, 0.6), size=n_points)
    from .data.simulate import _sample_actions  # never a class of probability 0 (clipping gave it the rounding gap)

    labels = _sample_actions(p_true, rng)
    logits = np.log(p_true + 1e-3) + rng.normal(0.0, noise, (n_points, n_classes))
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    return probs / probs.sum(axis=1, keepdims=True), labels, p_true


def _pool_risk(probs, labels, loss):
    if loss == "zero_one":
        return float(np.mean(probs.argmax(axis=1) != labels))
    return float(np.mean(-np.log(np.maximum(probs[np.arange(labels.size), labels], 1e-12))))


def _active_chunk(seeds, probs, labels, surrogate, method, budget, loss, floor, alpha, at):
    from .active import estimate_risk

    lo = np.empty((len(seeds), len(at)))
    hi = np.empty((len(seeds), len(at)))
    for r, ss in enumerate(seeds):
        rs = int(np.random.default_rng(ss).integers(0, 2**63))
        t = estimate_risk(probs, labels, budget, surrogate=surrogate, loss=loss, method=method, random_state=rs,
                          floor=floor, alpha=alpha)
        lo[r], hi[r] = t.ci_low[at], t.ci_high[at]  # one trace gives the interval after every label count
    return lo, hi


def active_interval_coverage(pool=None, methods=("lure", "iid", "ase"), surrogates=None,
                             budgets=(25, 50, 100), n_replicates: int = 1000, alpha: float = 0.05, random_state=0, *,
                             loss: str = "zero_one", floor: float = 0.1, n_jobs=None, chunk_size: int = 100,
                             progress: bool = True) -> pd.DataFrame:
    """Coverage of :func:`workbench.active.estimate_risk` intervals against the exact pool risk.

    The pool is fixed (the risk of the model on it is known exactly); each replicate re-runs the
    label acquisition with a fresh seed, so coverage is over the randomness of acquisition, which
    is what the intervals claim.

    Parameters
    ----------
    pool : None, (probs, labels) or (probs, labels, p_true)
        None: :func:`synthetic_pool` (500 points, 3 classes). A zoo member works too:
        ``(log.probs[m], log.labels)``.
    methods : sequence of {"lure", "iid", "ase", "naive"}
        "iid" does not use a surrogate and is run once (scenario "uniform sampling").
    surrogates : sequence of "self", "calibrated" or (name, array) pairs, optional
        "self": the model's own probabilities; "calibrated": ``p_true`` (needs a 3-tuple pool).
        Default: "self" and "calibrated" when the pool has ``p_true`` (the default pool does),
        "self" alone for a (probs, labels) pool such as a zoo member.
    budgets : sequence of int
        Label counts at which the interval is read (one trace per replicate, read at each).
    n_replicates, alpha, random_state, n_jobs, chunk_size, progress : as in :func:`interval_coverage`.
    loss : {"zero_one", "cross_entropy"}
    floor : float
        Defensive mixture of the acquisition (bounds LURE weights by 1 / floor).

    Returns
    -------
    DataFrame
        One row per (scenario, method, budget): ``scenario`` (the surrogate), ``n`` (labels),
        ``method`` and the coverage columns of :func:`interval_coverage`; ``truth`` is the pool risk.

    Examples
    --------
    >>> from workbench.validity import active_interval_coverage
    >>> cov = active_interval_coverage(methods=["lure"], surrogates=["self"], budgets=[20],
    ...                                n_replicates=30, progress=False)
    >>> cov[["scenario", "n", "method"]].values.tolist()
    [['self surrogate', 20, 'lure']]
    """
    # one key per call: a Generator drew a new key for every cell, so a cell's numbers depended on the
    # other cells requested (the promise is that they do not)
    random_state = seed_key(random_state)
    from .active.risk import LOSSES, METHODS as RISK_METHODS

    check_choice(loss, "loss", LOSSES)
    methods = [methods] if isinstance(methods, str) else list(methods)
    if not methods:  # no rows and no columns came back, and the caller's next step failed with a KeyError
        raise ValidationError("methods", "needs at least one method")
    for m in methods:
        check_choice(m, "methods", RISK_METHODS)
    if len(set(methods)) != len(methods):  # the same rows twice, and a pivot of them fails
        raise ValidationError("methods", f"names must be unique, got {methods}")
    if pool is None:
        probs, labels, p_true = synthetic_pool(random_state=random_state)
    else:
        if not isinstance(pool, (tuple, list)) or len(pool) not in (2, 3):
            raise ValidationError("pool", "must be (probs, labels) or (probs, labels, p_true)")
        # checked as estimate_risk checks them, up front: text probabilities were parsed by np.asarray(float),
        # and integral float labels ran the whole simulation before the truth's indexing failed
        from .active._common import LabelOracle, check_probs_2d

        probs = check_probs_2d(pool[0], "pool")
        labels = LabelOracle(pool[1], probs.shape[0], probs.shape[1], field="pool")._labels
        p_true = check_probs_2d(pool[2], "pool") if len(pool) == 3 else None
    if probs.ndim != 2 or labels.shape != (probs.shape[0],):
        raise ValidationError("pool", f"probs must be (n_points, n_classes) with one label per point, got "
                              f"{probs.shape} and {labels.shape}")
    budgets = _check_sizes(budgets, "budgets", minimum=2)
    if max(budgets) > probs.shape[0]:
        raise ValidationError("budgets", f"must not exceed the pool size {probs.shape[0]}, got {max(budgets)}")
    R = check_int(n_replicates, "n_replicates", low=2)
    alpha = check_alpha(alpha)
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    from .active._common import check_floor

    floor = check_floor(floor)  # estimate_risk's own rule, up front (float("0.1") parsed a string)
    if surrogates is None:
        # "calibrated" needs p_true: the old default ("self", "calibrated") refused the (probs, labels)
        # pool this docstring suggests for a zoo member
        surrogates = ("self", "calibrated") if p_true is not None else ("self",)
    sur_items = []
    for s in ([surrogates] if isinstance(surrogates, str) else list(surrogates)):
        if isinstance(s, tuple) and len(s) == 2:
            # checked by name: np.asarray(..., float) of text was a bare "could not convert string to float"
            sur_items.append((str(s[0]), check_finite(s[1], "surrogates")))
        elif s == "self":
            sur_items.append(("self", None))
        elif s == "calibrated":
            if p_true is None:
                raise ValidationError("surrogates", "'calibrated' needs a pool given as (probs, labels, p_true)")
            sur_items.append(("calibrated", p_true))
        else:
            raise ValidationError("surrogates", f"must be 'self', 'calibrated' or (name, array) pairs, got {s!r}")
    if any(m != "iid" for m in methods):
        if not sur_items:
            raise ValidationError("surrogates", f"needs at least one surrogate for the methods {methods}")
        names = [name for name, _ in sur_items]
        if len(set(names)) != len(names):
            raise ValidationError("surrogates", f"names must be unique, got {names}")
    at = np.array(budgets) - 1
    budget = max(budgets)
    configs = []  # (scenario, method, surrogate array)
    for m in methods:
        if m == "iid":
            configs.append(("uniform sampling", m, None))
        else:
            configs += [(f"{name} surrogate", m, arr) for name, arr in sur_items]
    cells, tasks = [], []
    for scen, m, arr in configs:
        # not keyed by the budget: a trace's first b labels are the same whatever the budget (the running
        # estimate after b labels is the estimate with budget b), so a cell's numbers do not depend on the
        # other budgets asked for (they did, through max(budgets))
        seeds = _cell_seeds(random_state, f"active:{scen}:{m}", R)
        blocks = _chunks(seeds, chunk_size)
        cells.append((scen, m, len(blocks)))
        tasks += [(_active_chunk, (blk, probs, labels, arr, m, budget, loss, floor, alpha, at))
                  for blk in blocks]
    results = _run(tasks, n_jobs, progress, "active coverage")
    # after the run, whose first call checks the labels: a label outside [0, n_classes) made the
    # cross-entropy truth an IndexError, and -1 silently read the last class's probability
    truth = _pool_risk(probs, labels, loss)
    rows, k = [], 0
    for scen, m, nb in cells:
        lo = np.vstack([r[0] for r in results[k:k + nb]])
        hi = np.vstack([r[1] for r in results[k:k + nb]])
        k += nb
        for j, b in enumerate(budgets):
            rows.append({"scenario": scen, "n": b, "method": m, **_coverage_row(lo[:, j], hi[:, j], truth, 1 - alpha,
                                                                              True)})
    return _order(pd.DataFrame(rows))


# ------------------------------------------------------------------------------------------------
# Type-I error of the comparison tests
# ------------------------------------------------------------------------------------------------
TESTS = {
    # name: (group, what it is)
    "naive-resampled-t": ("cv", "paired t on 10x10 CV fold differences, no correction (invalid)"),
    "nadeau-bengio-t": ("cv", "corrected resampled t on 10x10 CV (Nadeau & Bengio 2003)"),
    "single-10fold-t": ("cv", "paired t on the 10 differences of one 10-fold CV"),
    "bayesian-correlated-t": ("cv", "Bayesian correlated t on 10x10 CV, ROPE 0: declares a winner when "
                                    "P(A better) or P(B better) > 1 - alpha/2"),
    "5x2cv-t": ("5x2", "5x2cv paired t (Dietterich 1998)"),
    "5x2cv-f": ("5x2", "5x2cv combined F (Alpaydin 1999)"),
    "mcnemar-exact": ("mcnemar", "McNemar exact binomial"),
    "mcnemar-mid-p": ("mcnemar", "McNemar mid-p"),
    "mcnemar-asymptotic": ("mcnemar", "McNemar chi-square, no continuity correction"),
    "mcnemar-corrected": ("mcnemar", "McNemar chi-square with Edwards' continuity correction"),
    "friedman": ("ranks", "Friedman chi-square"),
    "iman-davenport": ("ranks", "Iman-Davenport F"),
    "nemenyi": ("ranks", "Nemenyi all pairs: any pair significant (family-wise)"),
    "wilcoxon-holm": ("ranks", "Wilcoxon signed-rank per pair + Holm: any pair significant (family-wise)"),
}


def _cv_chunk(seed, n_data, names, alpha, n):
    from .resample import bayesian_correlated_t_test, corrected_resampled_t_test, null_cv_scores

    a, b = null_cv_scores(n_data, n=n, n_splits=10, n_repeats=10, random_state=np.random.default_rng(seed))
    n_test = n // 10
    out = {k: np.zeros(n_data, bool) for k in names}
    for r in range(n_data):  # one test per null data set (each call is O(J))
        if "naive-resampled-t" in out:
            out["naive-resampled-t"][r] = corrected_resampled_t_test(a[r], b[r], corrected=False).p_value < alpha
        if "nadeau-bengio-t" in out:
            out["nadeau-bengio-t"][r] = corrected_resampled_t_test(
                a[r], b[r], n_train=n - n_test, n_test=n_test).p_value < alpha
        if "single-10fold-t" in out:
            out["single-10fold-t"][r] = corrected_resampled_t_test(a[r, :10], b[r, :10],
                                                                   corrected=False).p_value < alpha
        if "bayesian-correlated-t" in out:
            d = bayesian_correlated_t_test(a[r], b[r], rope=0.0, n_train=n - n_test, n_test=n_test).details
            out["bayesian-correlated-t"][r] = max(d["p_left"], d["p_right"]) > 1 - alpha / 2
    return out


def _five_two_chunk(seed, n_data, names, alpha, n):
    from .resample import f_test_5x2cv, null_cv_scores, paired_t_5x2cv

    a, b = null_cv_scores(n_data, n=n, n_splits=2, n_repeats=5, random_state=np.random.default_rng(seed))
    out = {k: np.zeros(n_data, bool) for k in names}
    for r in range(n_data):
        if "5x2cv-t" in out:
            out["5x2cv-t"][r] = paired_t_5x2cv(a[r], b[r]).p_value < alpha
        if "5x2cv-f" in out:
            out["5x2cv-f"][r] = f_test_5x2cv(a[r], b[r]).p_value < alpha
    return out


def _mcnemar_chunk(seed, n_data, names, alpha, n_test, accuracy, discordance):
    from .resample import mcnemar_test

    rng = np.random.default_rng(seed)
    # Two classifiers with EQUAL accuracy on a 3-class task: per point, (A right, B right) is
    # (1,1) w.p. accuracy - d, (1,0) and (0,1) w.p. d each, (0,0) otherwise.
    p = np.array([accuracy - discordance, discordance, discordance, 1 - accuracy - discordance])
    # cumulative sum renormalised and ">=": a cell of probability 0 (accuracy + discordance = 1) is never drawn;
    # clipping to the last cell gave it the cumsum's rounding gap below 1
    cum = np.cumsum(p)
    cell = (rng.random((n_data, n_test))[..., None] >= cum / cum[-1]).sum(-1)
    y = rng.integers(0, 3, (n_data, n_test))
    pred_a = np.where(cell <= 1, y, (y + rng.integers(1, 3, (n_data, n_test))) % 3)  # a wrong class otherwise
    pred_b = np.where((cell == 0) | (cell == 2), y, (y + rng.integers(1, 3, (n_data, n_test))) % 3)
    out = {k: np.zeros(n_data, bool) for k in names}
    for r in range(n_data):
        for name in names:
            out[name][r] = mcnemar_test(y[r], pred_a[r], pred_b[r], method=name[len("mcnemar-"):]).p_value < alpha
    return out


def _ranks_chunk(seed, n_data, names, alpha, n_datasets_per_test, k_algorithms):
    from .resample import friedman_test, nemenyi_test, wilcoxon_holm_test

    rng = np.random.default_rng(seed)
    # Exchangeable algorithms: a data-set effect (some data sets are easy) plus i.i.d. noise.
    S = rng.normal(0.8, 0.05, (n_data, n_datasets_per_test, 1)) + rng.normal(
        0.0, 0.02, (n_data, n_datasets_per_test, k_algorithms))
    out = {k: np.zeros(n_data, bool) for k in names}
    for r in range(n_data):
        if "friedman" in out or "iman-davenport" in out:
            f = friedman_test(S[r], alpha=alpha)
            if "friedman" in out:
                out["friedman"][r] = f.p_value < alpha
            if "iman-davenport" in out:
                out["iman-davenport"][r] = f.iman_davenport_p_value < alpha
        if "nemenyi" in out:
            out["nemenyi"][r] = bool(nemenyi_test(S[r], alpha=alpha).pairwise["significant"].any())
        if "wilcoxon-holm" in out:
            with _no_gc_collect():
                out["wilcoxon-holm"][r] = bool(wilcoxon_holm_test(S[r], alpha=alpha).pairwise["significant"].any())
    return out


@contextmanager
def _no_gc_collect():
    """statsmodels' ``multipletests(method="holm")`` calls ``gc.collect()`` on every call (statsmodels
    0.15: ~0.1 s each with a large heap, 100x the test itself). Collecting garbage changes no
    number, so it is skipped while the simulation calls the test thousands of times."""
    import gc

    collect = gc.collect
    gc.collect = lambda *a, **k: 0
    try:
        yield
    finally:
        gc.collect = collect


def type1_error(tests=None, n_datasets: int = 1000, alpha: float = 0.05, random_state=0, *, cv_n: int = 100,
                mcnemar_n: int = 200, accuracy: float = 0.8, discordance: float = 0.075, rank_datasets: int = 10,
                rank_algorithms: int = 4, n_jobs=None, chunk_size: int = 250, progress: bool = True) -> pd.DataFrame:
    """Type-I error (rejection rate under a true null) of the workbench's comparison tests.

    Null worlds (every test's null hypothesis holds exactly):

    * two learning algorithms: :func:`workbench.resample.null_cv_scores`, least squares on one of
      two equally informative features (``cv_n`` rows per data set); 10x10 CV for the resampled
      t-tests and the Bayesian correlated t (its first repetition for the single 10-fold t), five
      2-fold repetitions for the 5x2cv tests;
    * two classifiers on one test set of ``mcnemar_n`` points with equal accuracy ``accuracy`` and
      ``discordance`` = P(A right, B wrong) = P(A wrong, B right), as label and prediction arrays;
    * k = ``rank_algorithms`` exchangeable algorithms scored on ``rank_datasets`` data sets
      (data-set effect plus i.i.d. noise) for Friedman / Iman-Davenport and the post-hoc tests
      (reported as the family-wise rate of declaring *any* pair different).

    Parameters
    ----------
    tests : sequence of str, optional
        Names from :data:`TESTS` (default: all).
    n_datasets : int
        Null data sets R per test.
    alpha : float
        Significance level; a test is "ok" when its rejection rate lies in
        alpha +- 3.5 sqrt(alpha (1 - alpha) / R), "liberal" above (a real defect: it finds
        differences that are not there), "conservative" below (safe, but loses power).
    random_state, n_jobs, progress : as in :func:`interval_coverage` (``n_jobs`` never changes
        the result).
    chunk_size : int
        Null data sets per joblib task. Each chunk draws its data sets in one vectorised call from
        its own pre-spawned seed, so keep ``chunk_size`` fixed to reproduce a run exactly.

    Returns
    -------
    DataFrame
        One row per test: ``test, group, rejection_rate, mc_se, nominal, band_low, band_high,
        within_band, verdict, n_datasets, setup``.

    Examples
    --------
    >>> from workbench.validity import type1_error
    >>> t1 = type1_error(["naive-resampled-t", "nadeau-bengio-t"], n_datasets=200, progress=False)
    >>> bool(t1.set_index("test").loc["naive-resampled-t", "rejection_rate"] > 0.3)
    True
    """
    # one key per call: a Generator drew a new key for every cell, so a cell's numbers depended on the
    # other cells requested (the promise is that they do not)
    random_state = seed_key(random_state)
    names = list(TESTS) if tests is None else ([tests] if isinstance(tests, str) else list(tests))
    if not names:
        raise ValidationError("tests", "needs at least one test")
    for t in names:
        check_choice(t, "tests", tuple(TESTS))
    if len(set(names)) != len(names):
        raise ValidationError("tests", f"names must be unique, got {names}")
    R = check_int(n_datasets, "n_datasets", low=2)
    alpha = check_alpha(alpha)
    chunk_size = check_int(chunk_size, "chunk_size", low=1)
    cv_n = check_int(cv_n, "cv_n", low=20)
    if cv_n % 10:
        raise ValidationError("cv_n", f"must be a multiple of 10 (10-fold CV), got {cv_n}")
    mcnemar_n = check_int(mcnemar_n, "mcnemar_n", low=2)
    accuracy, discordance = check_real(accuracy, "accuracy"), check_real(discordance, "discordance")
    if not (0 < discordance and discordance <= accuracy and accuracy + discordance <= 1):
        raise ValidationError("discordance", f"needs 0 < discordance <= accuracy <= 1 - discordance, got "
                              f"accuracy={accuracy}, discordance={discordance}")
    rank_datasets = check_int(rank_datasets, "rank_datasets", low=5)
    rank_algorithms = check_int(rank_algorithms, "rank_algorithms", low=2)
    groups = {
        "cv": (_cv_chunk, (alpha, cv_n), f"null_cv_scores, n={cv_n}, 10x10 CV"),
        "5x2": (_five_two_chunk, (alpha, cv_n), f"null_cv_scores, n={cv_n}, 5x2 CV"),
        "mcnemar": (_mcnemar_chunk, (alpha, mcnemar_n, float(accuracy), float(discordance)),
                    f"{mcnemar_n} test points, accuracy {accuracy:g} each, discordance {discordance:g} each way"),
        "ranks": (_ranks_chunk, (alpha, rank_datasets, rank_algorithms),
                  f"{rank_algorithms} exchangeable algorithms on {rank_datasets} data sets"),
    }
    plan, tasks = [], []
    for g, (fn, extra, setup) in groups.items():
        members = [t for t in names if TESTS[t][0] == g]
        if not members:
            continue
        seeds = _cell_seeds(random_state, f"type1:{g}", -(-R // chunk_size))
        sizes = [min(chunk_size, R - i * chunk_size) for i in range(len(seeds))]
        plan.append((g, members, setup, len(seeds)))
        tasks += [(fn, (ss, sz, members, *extra)) for ss, sz in zip(seeds, sizes)]
    results = _run(tasks, n_jobs, progress, "type-I error")
    rows, k = {}, 0
    band_low, band_high = mc_band(alpha, R)
    for g, members, setup, nb in plan:
        for t in members:
            rej = np.concatenate([res[t] for res in results[k:k + nb]])
            rate = float(rej.mean())
            rows[t] = {"test": t, "group": g, "rejection_rate": rate, "mc_se": float(np.sqrt(rate * (1 - rate) / R)),
                       "nominal": alpha, "band_low": band_low, "band_high": band_high,
                       "within_band": bool(band_low <= rate <= band_high),
                       "verdict": _verdict(rate, band_low, band_high),
                       "n_datasets": R, "setup": setup, "description": TESTS[t][1]}
        k += nb
    return pd.DataFrame([rows[t] for t in names])
