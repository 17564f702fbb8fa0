"""The loss-matrix bootstrap in one streaming pass: mean losses of m models and their differences.

The per-row terms are the loss columns (plus their squares, or the squared differences of pairs,
for studentized intervals). All models share each row's hashed-Poisson weight, so differences are
paired, and the replicate sums do not depend on how the rows are chunked. The results are those
of :func:`workbench.resample.bootstrap_ci` and :func:`workbench.resample.compare_models` with
``resampling="poisson"`` on the same rows in memory (same seed: same values and intervals, to
rounding): the same terms, the same plug-in standard errors, and BCa's acceleration from streamed
co-moments instead of an (n, m) matrix of influence values.

With ``groups`` (a column of cluster ids) every row of a cluster gets the cluster's weight. Because
sum_i W_g(i) t_i = sum_g W_g T_g, the row-level sums equal the cluster-total sums of the
in-memory cluster bootstrap, so estimates and percentile / basic / normal intervals agree; BCa and
studentized intervals need per-cluster totals (clusters may span chunks) and are refused there.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special

from .. import _intervals
from .._engine import Resampling, replicate_sd
from .._parallel import check_n_jobs
from .._random import seed_key
from .._validation import ValidationError, check_alpha, check_bool, check_choice, check_finite, check_int, check_names
from .reduce import TermReducer, _acceleration
from .sources import as_source, numeric_block

METHODS = ("percentile", "basic", "bca", "studentized", "normal")


class _LossTerms:
    """Terms of a chunk: the m losses, then (studentized) the squares of the statistics' columns."""

    def __init__(self, columns, pairs, squares: bool):
        self.columns = list(columns)
        self.pairs = pairs  # (ia, ib) arrays of the differences that need their own second moments, or None
        self.squares = squares

    def __call__(self, chunk, ids):
        L = check_finite(numeric_block(chunk, self.columns, "data"), "losses")
        if not self.squares:
            return L, {}
        parts = [L, L * L]
        if self.pairs is not None:
            D = L[:, self.pairs[0]] - L[:, self.pairs[1]]
            parts.append(D * D)
        return np.hstack(parts), {}


class PairMoments:
    """Count, mean, centred co-moments M2 (k, k) and the third co-moments T[i, j] = sum c_i^2 c_j (k, k).

    What BCa's acceleration reads for a statistic whose gradient touches at most two term columns
    (a mean: e_j; a paired difference: e_a - e_b): sum U^3 for U = g_a c_a + g_b c_b needs only
    T[a, a], T[a, b], T[b, a] and T[b, b]. The full (k, k, k) tensor of :class:`CoMoments` cost
    O(n k^3) time (its einsum: 27 s for 100,000 rows of 50 models, over 300 s for 100 models, against
    4 to 8 s for the percentile pass); T costs one (k, n) x (n, k) product per chunk. Merged by the
    same pairwise update (Pebay 2008), restricted to the entries (i, i, j).
    """

    def __init__(self, k: int):
        self.k = int(k)
        self.n = 0
        self.mean = np.zeros(self.k)
        self.m2 = np.zeros((self.k, self.k))
        self.t3 = np.zeros((self.k, self.k))

    @classmethod
    def of(cls, terms: np.ndarray) -> "PairMoments":
        out = cls(terms.shape[1])
        out.n = terms.shape[0]
        if out.n:
            out.mean = terms.mean(axis=0)
            c = terms - out.mean
            out.m2 = c.T @ c
            out.t3 = (c * c).T @ c
        return out

    def merge(self, other: "PairMoments") -> "PairMoments":
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        na, nb = float(self.n), float(other.n)
        n = na + nb
        d = other.mean - self.mean
        out = PairMoments(self.k)
        out.n = self.n + other.n
        out.mean = self.mean + d * (nb / n)
        out.m2 = self.m2 + other.m2 + np.outer(d, d) * (na * nb / n)
        cross = na * other.m2 - nb * self.m2
        # CoMoments.merge's M3 update at the entries (i, i, j): d_i d_i d_j and the three d x cross terms
        out.t3 = (self.t3 + other.t3 + np.outer(d * d, d) * (na * nb * (na - nb) / n**2)
                  + (2.0 * d[:, None] * cross + np.diag(cross)[:, None] * d[None, :]) / n)
        return out

    def acceleration(self, grad: np.ndarray) -> float:
        """BCa acceleration for influence values U_i = grad . (t_i - mean); ``grad`` has at most two nonzeros."""
        g = np.asarray(grad, dtype=np.float64)
        s = np.flatnonzero(g)
        if s.size > 2:
            raise ValueError("PairMoments reads gradients on at most two columns")
        s2 = float(g[s] @ self.m2[np.ix_(s, s)] @ g[s])
        s3 = 0.0
        for i in s:  # sum_{i, j, l in s} g_i g_j g_l M3[i, j, l], each multiset {i, i, j} once with its count
            s3 += g[i] ** 3 * self.t3[i, i]
            for j in s:
                if j != i:
                    s3 += 3.0 * g[i] ** 2 * g[j] * self.t3[i, j]
        return _acceleration(s2, s3)


@dataclass
class StreamCore:
    """What one pass over the loss columns leaves: the pieces every interval method needs."""

    theta: np.ndarray            # (m,) mean losses
    reps: np.ndarray             # (B, m) replicate means
    moments: PairMoments | None  # co-moments of the m loss columns (for BCa)
    mean_sq: np.ndarray | None   # (m,) means of L^2 (studentized)
    rep_mean_sq: np.ndarray | None
    diff_sq: np.ndarray | None   # (p,) means of (L_a - L_b)^2 for the pairs
    rep_diff_sq: np.ndarray | None
    rep_weight: np.ndarray       # (B,)
    n: int
    n_groups: int | None
    seed: int
    B: int


def _columns(source, columns, groups):
    if columns is None:
        cols = _all_columns(source)
        cols = [c for c in cols if c != groups]
    elif isinstance(columns, str) or not all(_is_label(c) for c in columns):
        raise ValidationError("columns", f"must be a list of loss column names, got {columns!r}")
    else:
        cols = list(columns)
    if not cols:
        raise ValidationError("columns", "no loss columns")
    if len(set(cols)) != len(cols):
        raise ValidationError("columns", f"must be distinct, got {cols}")
    return cols


def _is_label(c) -> bool:
    """A column label: a string, or an integer (the labels of ``pd.DataFrame(array)``)."""
    return isinstance(c, str) or (isinstance(c, (int, np.integer)) and not isinstance(c, (bool, np.bool_)))


def _all_columns(source):
    return source.column_names()


class _GroupCount:
    """A reducer's pass that also collects the distinct cluster ids (reported as n_groups).

    Counted in the same pass as the terms, so a one-shot iterator of chunks needs no second pass.
    The ids are those the source validated (missing ids refused, integral floats as integers).
    """

    def __init__(self, reducer):
        self.reducer = reducer
        self.columns = reducer.columns

    def start(self):
        return _WithIds(self.reducer.start(), set())

    def consume(self, partial, chunk, ids):
        self.reducer.consume(partial.part, chunk, ids)
        partial.ids.update(pd.unique(np.asarray(ids)).tolist())


class _WithIds:
    def __init__(self, part, ids):
        self.part, self.ids = part, ids

    def merge(self, other):
        return _WithIds(self.part.merge(other.part), self.ids | other.ids)


def stream_core(data, columns=None, *, n_resamples=2000, random_state=None, groups=None, method="percentile",
                pairs=None, chunk_size=None, n_jobs=None):
    """One pass over the loss columns of a tabular input; see :class:`StreamCore`."""
    n_jobs = check_n_jobs(n_jobs)  # refused for every source, also those that read sequentially
    source = as_source(data, chunk_size=chunk_size)
    if groups is not None and not isinstance(groups, str):
        raise ValidationError("groups", f"must be the name of the cluster-id column for tabular data, got "
                              f"{type(groups).__name__}")
    if groups is not None and method in ("bca", "studentized"):
        raise ValidationError("method", f"{method!r} with groups needs per-cluster totals, which a streaming pass "
                              "cannot form when clusters span chunks", hint="use percentile, basic or normal "
                              "intervals, or aggregate the rows to one row per cluster first")
    cols = _columns(source, columns, groups)
    # the package's one integer rule, as in memory: 2000.0 is accepted (lossless), 2.5, "2" and True are not
    n_resamples = check_int(n_resamples, "n_resamples", low=2)
    seed = seed_key(random_state)
    rs = Resampling.make(n_resamples, "poisson", seed)
    m = len(cols)
    squares = method == "studentized"
    builder = _LossTerms(cols, pairs, squares)
    k = m + (m + (len(pairs[0]) if pairs is not None else 0) if squares else 0)
    reducer = TermReducer(cols, builder, k, rs, moments=PairMoments if method == "bca" else False)
    if groups is None:
        part = source.reduce(reducer, n_jobs=n_jobs)
    else:
        both = source.reduce(_GroupCount(reducer), unit_id=groups, n_jobs=n_jobs)
        part, group_ids = both.part, both.ids
    acc = part.acc
    if acc.n < 2:
        raise ValidationError("data", f"needs at least 2 rows, got {acc.n}")
    means, rep_means = acc.means, acc.replicate_means
    n_groups = None
    if groups is not None:
        n_groups = len(group_ids)
        if n_groups < 2:
            raise ValidationError("groups", "needs at least 2 distinct groups")
    mom = None
    if part.moments is not None:
        mom = part.moments
    sq = rsq = dsq = rdsq = None
    if squares:
        sq, rsq = means[m:2 * m], rep_means[:, m:2 * m]
        if pairs is not None:
            dsq, rdsq = means[2 * m:], rep_means[:, 2 * m:]
    return StreamCore(means[:m], rep_means[:, :m], mom, sq, rsq, dsq, rdsq, acc.rep_weight, int(acc.n), n_groups,
                      seed, rs.n_replicates), cols


def _bca(theta, reps, moments, grads, alpha):
    """BCa per statistic j with influence U = grads[j] . (t - mean): z0 and the acceleration exactly as
    :func:`workbench._intervals.bca_interval` computes them from the influence values."""
    theta = np.atleast_1d(np.asarray(theta, dtype=np.float64))
    reps = np.asarray(reps, dtype=np.float64).reshape(reps.shape[0], -1)
    lo, hi = np.empty(theta.size), np.empty(theta.size)
    zs = special.ndtri(np.array([alpha / 2, 1 - alpha / 2]))
    for j in range(theta.size):  # a loop over statistics, not rows or resamples
        a = moments.acceleration(grads[j])  # 0 for a constant column, as in memory (was ZeroDivisionError)
        r = reps[:, j]
        valid = ~np.isnan(r)
        below = ((r < theta[j]) & valid).sum()
        at_or_below = ((r <= theta[j]) & valid).sum()
        with np.errstate(divide="ignore", invalid="ignore"):
            z0 = special.ndtri((below + at_or_below) / (2.0 * valid.sum()))
            adj = special.ndtr(z0 + (z0 + zs) / (1 - a * (z0 + zs)))
        if not np.all(np.isfinite(adj)):
            lo[j] = hi[j] = np.nan
            continue
        lo[j], hi[j] = np.nanpercentile(r, adj * 100)
    return lo, hi


def _interval(core: StreamCore, method, alpha, theta, reps, grads, var, rep_var):
    if method == "bca":
        return _bca(theta, reps, core.moments, grads, alpha)
    if method == "studentized":
        # The plug-in SE of workbench.resample (sqrt(max(var, 0) / count)), count = n units or the
        # replicate's total weight.
        with np.errstate(invalid="ignore", divide="ignore"):
            se_hat = np.sqrt(np.maximum(var, 0.0) / float(core.n))
            reps_se = np.sqrt(np.maximum(rep_var, 0.0) / core.rep_weight[:, None])
        return _intervals.studentized_interval(theta, se_hat, reps, reps_se, alpha)
    if method == "normal":
        return _intervals.normal_interval(theta, replicate_sd(reps, axis=0), alpha)
    return _intervals.interval(method, theta, reps, alpha)


def bootstrap_loss_matrix(data, columns: Sequence[str] | None = None, *, method: str = "percentile",
                          n_resamples: int = 2000, alpha: float = 0.05, random_state=None,
                          resampling: str = "poisson", groups: str | None = None, names=None,
                          chunk_size: int | None = None, n_jobs: int | None = None):
    """Bootstrap intervals for the mean of each loss column of a tabular input, in one pass.

    What :func:`workbench.resample.bootstrap_ci` runs for DataFrames-too-large-for-memory:
    iterables of chunks, Parquet paths / datasets and Dask frames (``statistic="mean"``).

    Parameters
    ----------
    data : iterable of chunks, Parquet path, pyarrow dataset, dask DataFrame or DataFrame
    columns : list of str, optional
        Loss columns (one per model). Default: every column except ``groups``.
    method : {"percentile", "basic", "bca", "studentized", "normal"}
        As in :func:`workbench.resample.bootstrap_ci` (same formulas; BCa's acceleration from
        streamed co-moments).
    resampling : "poisson"
        The only streamable scheme (hashed weights; same answer as in memory with "poisson").
    groups : str, optional
        Cluster-id column: rows of a cluster share one weight (cluster bootstrap).

    Returns
    -------
    workbench.resample.BootstrapResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from workbench.scale import bootstrap_loss_matrix
    >>> rng = np.random.default_rng(0)
    >>> chunks = [pd.DataFrame({"a": rng.random(500), "b": rng.random(500)}) for _ in range(4)]
    >>> res = bootstrap_loss_matrix(chunks, ["a", "b"], n_resamples=200, random_state=0)
    >>> res.estimate.shape
    (2,)
    """
    from ..resample.bootstrap import BootstrapResult, _ro

    check_choice(method, "method", METHODS)
    alpha = check_alpha(alpha)
    _check_resampling(resampling)
    core, cols = stream_core(data, columns, n_resamples=n_resamples, random_state=random_state, groups=groups,
                             method=method, chunk_size=chunk_size, n_jobs=n_jobs)
    m = len(cols)
    grads = np.eye(m)
    var = rep_var = None
    if method == "studentized":
        var = core.mean_sq - core.theta**2
        rep_var = core.rep_mean_sq - core.reps**2
    lo, hi = _interval(core, method, alpha, core.theta, core.reps, grads, var, rep_var)
    se = replicate_sd(core.reps, axis=0)
    names = tuple(str(c) for c in (cols if names is None else names))  # as in memory: labels 0, 1 are "0", "1"
    if len(names) != m:
        raise ValidationError("names", f"must have {m} entries, got {len(names)}")
    return BootstrapResult(
        estimate=_ro(core.theta), ci_low=_ro(np.asarray(lo)), ci_high=_ro(np.asarray(hi)), standard_error=_ro(se),
        bootstrap_distribution=_ro(core.reps), method=method, n_resamples=core.B, seed=core.seed, alpha=alpha,
        n=core.n, statistic="mean", resampling="poisson", names=names, n_groups=core.n_groups,
        diagnostics={"undefined_replicates": int(np.isnan(core.reps).any(axis=1).sum())})


def _check_resampling(resampling):
    if resampling != "poisson":
        raise ValidationError("resampling", f"must be 'poisson' for chunked, Parquet or Dask data, got {resampling!r}",
                              hint="the multinomial bootstrap needs all rows at once; resampling='poisson' hashes "
                                   "(seed, row or group id, replicate) and gives the same answer as in memory")


def compare_models_tabular(data, columns: Sequence[str] | None = None, baseline=None, *, names=None,
                           method: str = "percentile", n_resamples: int = 2000, alpha: float = 0.05,
                           random_state=None, resampling: str = "poisson", groups: str | None = None,
                           higher_is_better: bool = False, chunk_size: int | None = None, n_jobs: int | None = None):
    """:func:`workbench.resample.compare_models` for tabular inputs, in one streaming pass.

    Same output (a :class:`workbench.resample.ModelComparison`) and, with ``resampling="poisson"``
    and the same seed, the same numbers as the in-memory call on the same rows.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from workbench.scale import compare_models_tabular
    >>> rng = np.random.default_rng(0)
    >>> L = pd.DataFrame((rng.random((2000, 3)) < [0.2, 0.25, 0.3]).astype(float), columns=["a", "b", "c"])
    >>> compare_models_tabular([L.iloc[:1000], L.iloc[1000:]], ["a", "b", "c"], random_state=0).best
    'a'
    """
    from ..resample.compare import ModelComparison

    check_choice(method, "method", METHODS)
    alpha = check_alpha(alpha)
    higher_is_better = check_bool(higher_is_better, "higher_is_better")  # "False" is truthy: ranks upside down
    _check_resampling(resampling)
    source = as_source(data, chunk_size=chunk_size)
    cols = _columns(source, columns, groups)
    m = len(cols)
    if m < 2:
        raise ValidationError("losses", f"needs at least 2 models (columns), got {m}")
    names = check_names(names, m, cols)
    from ..resample.compare import comparison_pairs, models_frame  # lazy: resample dispatches streamed inputs here

    ia, ib = comparison_pairs(names, baseline)
    core, _ = stream_core(source, cols, n_resamples=n_resamples, random_state=random_state, groups=groups,
                          method=method, pairs=(ia, ib), chunk_size=chunk_size, n_jobs=n_jobs)
    var = rep_var = dvar = rep_dvar = None
    dtheta = core.theta[ia] - core.theta[ib]
    dreps = core.reps[:, ia] - core.reps[:, ib]
    if method == "studentized":
        var = core.mean_sq - core.theta**2
        rep_var = core.rep_mean_sq - core.reps**2
        dvar = core.diff_sq - dtheta**2
        rep_dvar = core.rep_diff_sq - dreps**2
    eye = np.eye(m)
    lo, hi = _interval(core, method, alpha, core.theta, core.reps, eye, var, rep_var)
    se = replicate_sd(core.reps, axis=0)
    models = models_frame(names, core.theta, core.reps, lo, hi, se, alpha, method, core.n, higher_is_better)
    dlo, dhi = _interval(core, method, alpha, dtheta, dreps, eye[ia] - eye[ib], dvar, rep_dvar)
    dse = replicate_sd(dreps, axis=0)
    differences = pd.DataFrame({
        "model": [names[a] for a in ia], "versus": [names[b] for b in ib], "difference": dtheta,
        "ci_low": dlo, "ci_high": dhi, "se": dse, "alpha": alpha, "method": method,
        "excludes_zero": (np.asarray(dlo) > 0) | (np.asarray(dhi) < 0)})
    return ModelComparison(models, differences, method, alpha, core.B, core.seed, higher_is_better,
                           {"n_groups": core.n_groups, "resampling": "poisson",
                            "undefined_replicates": int(np.isnan(core.reps).any(axis=1).sum())})
