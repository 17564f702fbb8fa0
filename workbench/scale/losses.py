"""The loss-matrix bootstrap in one streaming pass: mean losses of m models and their differences.

The per-row terms are the loss columns (for studentized intervals also the centred, scaled deviations
of the losses and of the pairs' differences and their squares, see :class:`_Shifted`). All models
share each row's hashed-Poisson weight, so differences are paired, and the replicate sums do not
depend on how the rows are chunked. The results are those of :func:`workbench.resample.bootstrap_ci`
and :func:`workbench.resample.compare_models` with ``resampling="poisson"`` on the same rows in
memory (same seed: same values and intervals, to rounding): the same terms, the same plug-in
standard errors, and BCa's acceleration from streamed co-moments instead of an (n, m) matrix of
influence values.

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
from .._engine import ReplicateAccumulator, Resampling, pow2_exponent, replicate_sd
from .._parallel import check_n_jobs
from .._random import seed_key
from .._validation import ValidationError, check_alpha, check_bool, check_choice, check_finite, check_int, check_names
from .reduce import CoMoments, TermReducer, _guarded_acceleration, warn_acceleration_rounding
from .sources import as_source, numeric_block

METHODS = ("percentile", "basic", "bca", "studentized", "normal")


class _LossTerms:
    """Terms of a chunk: the m loss columns (every method but the studentized one, see :class:`_StudentReducer`).

    ``field`` names the input in errors as the in-memory twin does ("data" for bootstrap_ci, "losses" for
    compare_models): a text column was refused as "data" and a NaN as "losses" by both streamed functions."""

    def __init__(self, columns, field="data"):
        self.columns = list(columns)
        self.field = field

    def __call__(self, chunk, ids):
        return _loss_block(chunk, self.columns, self.field), {}


def _loss_block(chunk, columns, field):
    return check_finite(numeric_block(chunk, columns, field), field)


class _Shifted:
    """Means and centred second moments of q columns x, for the studentized standard errors, mergeable.

    Per column: a shift ``c`` (data units), an exponent ``e`` and a bound ``b`` >= max |y| of the scaled
    deviations y = (x - c) / 2**e; the count n, the mean ``mu`` of y and the centred sum of squares
    ``m2``; per replicate the total weight W (B,), the weighted mean ``rmu`` and ``rm2`` (B, q).

    Why: the plug-in variance E_w[x^2] - E_w[x]^2 from raw moments cancels catastrophically when the
    spread is small next to the level (1e8 + N(0, 1): every standard error came out 0 and the "95%"
    interval had zero width), and x^2 overflows near 1e200 and underflows near 1e-200. In memory the
    terms are centred by the full-sample mean and scaled by a power of two (``_add_second_moments`` of
    :mod:`workbench.resample.bootstrap`); a stream does not know the mean before the pass. So each chunk
    is centred by its own median and scaled by powers of two, as in memory, and pieces merge by
    the pairwise update of Chan et al. (M2 = M2a + M2b + delta^2 Wa Wb / W, per replicate: a sum of
    non-negative terms, with no cancellation whatever the chunking, even one row per chunk) after moving
    both to a common shift (the count-weighted mean) and power of two (exact). The result does not
    depend on the chunking beyond rounding.
    """

    def __init__(self, c, e, b, n, mu, m2, w, rmu, rm2, one):
        self.c, self.e, self.b, self.n, self.mu, self.m2 = c, e, b, n, mu, m2
        self.w, self.rmu, self.rm2 = w, rmu, rm2
        # Exact single-value test (see _OneValue): the sample's and each replicate's m2 may keep a rounding residue
        # (~1e-17 of the squares) where all the weight sits on one value, whose standard error is 0 exactly
        self.one = one

    @classmethod
    def of_with(cls, x: np.ndarray, extra: np.ndarray, rs: Resampling, ids):
        """(piece of the chunk's x (n, q), accumulator of its ``extra`` columns): one weighted pass for both."""
        q, n = x.shape[1], x.shape[0]
        ef = pow2_exponent(np.max(np.abs(x), axis=0))
        xs = np.ldexp(x, -ef)                       # |xs| < 1, exact
        # The median, not the mean: a replicate's variance from raw sums about a shift loses
        # (shift - replicate mean)^2 / variance of precision, and one outlier drags a chunk's mean (1e6
        # among N(0, 1) in 7 rows: 1e-8 relative error) but not its median.
        cs = np.median(xs, axis=0)
        dev = xs - cs
        eg = pow2_exponent(np.max(np.abs(dev), axis=0))
        y = np.ldexp(dev, -eg)                      # |y| < 1: the squares neither overflow nor underflow
        k = extra.shape[1]
        # each column's values numbered within the chunk (distinct values only: ties share a number); the rank sums
        # only for the columns where a replicate can rest on one value (see _OneValue.NEAR_CONSTANT)
        values, ranks, counts = zip(*(np.unique(x[:, j], return_inverse=True, return_counts=True) for j in range(q)))
        near = [j for j in range(q) if n - counts[j].max() < _OneValue.NEAR_CONSTANT]
        r = np.column_stack([np.reshape(ranks[j], -1) for j in near]).astype(np.float64) if near else \
            np.zeros((n, 0))
        acc = ReplicateAccumulator(k + 2 * q + 2 * len(near), rs).add(np.hstack([extra, y, y * y, r, r * r]), ids)
        ys = acc.select(slice(k, k + 2 * q))        # |y| < 1: summed in the data's units
        one = _OneValue.of_chunk(values, near, acc.select(slice(k + 2 * q, None)) if near else None,
                                 acc.rep_weight)
        total, sums, w = ys.total, ys.rep_sums, acc.rep_weight
        mu = total[:q] / n
        with np.errstate(invalid="ignore", divide="ignore"):
            rmu = np.where(w[:, None] > 0, sums[:, :q] / w[:, None], 0.0)
        # the raw form within a chunk: accurate, as y is centred by the chunk's median (see above)
        m2 = np.maximum(total[q:] - mu * total[:q], 0.0)
        rm2 = np.maximum(sums[:, q:] - rmu * sums[:, :q], 0.0)
        piece = cls(np.ldexp(cs, ef), ef + eg, np.max(np.abs(y), axis=0), n, mu, m2, w, rmu, rm2, one)
        # the losses' sums stay in their own units: losses near 1e307 have sums beyond the float range
        return piece, acc.select(slice(0, k))

    def _moved(self, c, e):
        """mu, m2, rmu, rm2 about the shift ``c`` in units of 2**e (the moments are shift-free; scaling exact)."""
        r = self.e - e
        d = np.ldexp(self.c - c, -e)                # (old shift - new shift) in the new units
        return (np.ldexp(self.mu, r) + d, np.ldexp(self.m2, 2 * r),
                np.ldexp(self.rmu, r) + d, np.ldexp(self.rm2, 2 * r))

    def merge(self, other: "_Shifted") -> "_Shifted":
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        n = self.n + other.n
        # count-weighted mean of the shifts, written so that it cannot overflow near 1e308
        c = self.c * (self.n / n) + other.c * (other.n / n)
        e0 = np.maximum(self.e, other.e)
        # bound of |x - c| in units of 2**e0 for both pieces; the new exponent keeps the deviations below 1
        bound = np.maximum(np.ldexp(self.b, self.e - e0) + np.abs(np.ldexp(self.c - c, -e0)),
                           np.ldexp(other.b, other.e - e0) + np.abs(np.ldexp(other.c - c, -e0)))
        e = e0 + pow2_exponent(bound)
        mu_a, m2_a, rmu_a, rm2_a = self._moved(c, e)
        mu_b, m2_b, rmu_b, rm2_b = other._moved(c, e)
        delta = mu_b - mu_a
        mu = mu_a + delta * (other.n / n)
        m2 = m2_a + m2_b + delta * delta * (self.n * other.n / n)
        wa, wb = self.w[:, None], other.w[:, None]
        w = self.w + other.w
        # per replicate; a replicate without weight on one side takes the other side as it is
        wsum = np.where(w > 0, w, 1.0)[:, None]
        rdelta = rmu_b - rmu_a
        rmu = np.where(wa == 0, rmu_b, np.where(wb == 0, rmu_a, rmu_a + rdelta * (wb / wsum)))
        rm2 = rm2_a + rm2_b + np.where((wa > 0) & (wb > 0), rdelta * rdelta * (wa * wb / wsum), 0.0)
        return _Shifted(c, e, np.ldexp(bound, e0 - e), n, mu, m2, w, rmu, rm2,
                        self.one.merge(other.one, self.w == 0, other.w == 0))

    def means(self):
        """Full-sample and replicate means of x, (q,) and (B, q) (NaN for a replicate without weight)."""
        rep = np.where(self.w[:, None] > 0, self.c + np.ldexp(self.rmu, self.e), np.nan)
        return self.c + np.ldexp(self.mu, self.e), rep

    def standard_errors(self):
        """Plug-in standard errors sqrt(var / count), count = n or the replicate's weight, as ``_plugin_se``
        of :mod:`workbench.resample.bootstrap` computes them: (q,) and (B, q)."""
        se = np.where(self.one.whole, 0.0, np.ldexp(np.sqrt(self.m2 / self.n / self.n), self.e))
        with np.errstate(invalid="ignore", divide="ignore"):
            w = self.w[:, None]
            rep = np.ldexp(np.sqrt(self.rm2 / w / w), self.e)  # 0 / 0 = NaN without weight, as in memory
        return se, np.where(self.one.reps & (w > 0), 0.0, rep)


class _OneValue:
    """Which of the sample and its replicates hold a single value per column, exactly, mergeable over chunks.

    Why: the streamed second moments keep a rounding residue (~1e-17 relative) where every weighted row of
    a replicate holds the same value unless it is the chunk's median (a replicate of [0.7, 0.1 x 4, 0.7]
    resting on the 0.7s got a standard error ~1e-10 instead of 0, so a finite, huge t* where memory has an
    infinite one and a warning), and the sums cannot tell one value from two close ones. In memory the values
    are ranked over the whole sample (``_single_valued`` of :mod:`workbench.resample.bootstrap`); a stream
    ranks them within each chunk: a replicate is single-valued in a chunk when its weighted rank sums satisfy
    S0 S2 = S1^2 (exact integers), and that value is then known. Across chunks it is single-valued when every
    chunk where it has weight is, at the same value. A replicate whose rank sums reach 2**53 (chunks of
    ~200,000 distinct values) is counted as many-valued, as in memory.

    The rank sums cost two accumulator columns per column (1.7x the time of a 5-column studentized pass), so a
    chunk's column gets them only when fewer than :attr:`NEAR_CONSTANT` (64) of its rows differ from its most
    common value. Otherwise every value v has at least 64 rows holding another value, all of which a replicate
    resting on v must weigh 0: probability e^-64 ~ 1.6e-28 per replicate under Poisson(1) weights, so such a
    chunk's column is counted as many-valued wherever it has weight.
    """

    NEAR_CONSTANT = 64

    def __init__(self, value, many, whole_value, whole_many):
        self.value, self.many = value, many                      # (B, q): the value, and "more than one"
        self.whole_value, self.whole_many = whole_value, whole_many  # (q,): the same for the sample

    @classmethod
    def of_chunk(cls, values, near, rank_acc, rep_weight):
        """``values``: each column's distinct values in the chunk; ``near``: the columns with rank sums, held by
        ``rank_acc`` (S1 then S2 columns, in ``near``'s order); the others are many-valued where weighted."""
        from ..resample.bootstrap import _single_valued

        q, B = len(values), rep_weight.shape[0]
        value, many = np.zeros((B, q)), np.ones((B, q), bool)
        if near:
            p = len(near)
            single = np.column_stack([np.full(p, -1), np.arange(p), np.arange(p, 2 * p)])
            s1 = rank_acc.rep_sums[:, :p]
            rep_one = _single_valued(rank_acc.rep_sums, rep_weight, single)
            with np.errstate(invalid="ignore", divide="ignore"):
                at = np.where(rep_one, s1 / np.where(rep_weight > 0, rep_weight, 1.0)[:, None], 0)
            for i, j in enumerate(near):  # a loop over columns, not rows
                value[:, j] = values[j][at[:, i].astype(np.int64)]
                many[:, j] = ~rep_one[:, i]
        counts = np.array([v.size for v in values])
        return cls(value, many, np.array([v[0] for v in values]), counts > 1)

    def merge(self, other: "_OneValue", a_empty, b_empty) -> "_OneValue":
        """``a_empty`` / ``b_empty`` (B,): replicates without weight on this / the other side, which take the
        other side as it is (the caller merges non-empty pieces only, so the sample never is)."""
        a0, b0 = a_empty[:, None], b_empty[:, None]
        many = np.where(a0, other.many, np.where(b0, self.many,
                                                 self.many | other.many | (self.value != other.value)))
        return _OneValue(np.where(a0, other.value, self.value), many, self.whole_value,
                         self.whole_many | other.whole_many | (self.whole_value != other.whole_value))

    @property
    def whole(self):
        return ~self.whole_many

    @property
    def reps(self):
        return ~self.many


class _StudentPartial:
    def __init__(self, acc, shifted):
        self.acc, self.shifted, self.moments = acc, shifted, None

    def merge(self, other: "_StudentPartial") -> "_StudentPartial":
        if other.shifted is None:
            return self
        if self.shifted is None:
            return other
        return _StudentPartial(self.acc.merge(other.acc), self.shifted.merge(other.shifted))


class _StudentReducer:
    """The pass of studentized intervals: replicate sums of the m losses, and the shifted second
    moments (:class:`_Shifted`) of the losses and of the pairs' differences, all with each row's weights."""

    def __init__(self, columns, pairs, rs: Resampling, field="data"):
        self.columns = list(columns)
        self.pairs = pairs
        self.rs = rs
        self.field = field

    def start(self):
        return _StudentPartial(ReplicateAccumulator(len(self.columns), self.rs), None)

    def consume(self, partial, chunk, ids):
        if len(chunk) == 0:
            return
        L = _loss_block(chunk, self.columns, self.field)
        # the differences' own moments: their spread is not a function of the models' spreads
        X = L if self.pairs is None else np.hstack([L, L[:, self.pairs[0]] - L[:, self.pairs[1]]])
        piece, acc = _Shifted.of_with(X, L, self.rs, ids)
        partial.acc = partial.acc.merge(acc)
        partial.shifted = piece if partial.shifted is None else partial.shifted.merge(piece)


class PairMoments(CoMoments):
    """Count, mean, centred co-moments M2 (k, k) and the third co-moments T[i, j] = sum c_i^2 c_j (k, k).

    What BCa's acceleration reads for a statistic whose gradient touches at most two term columns
    (a mean: e_j; a paired difference: e_a - e_b): sum U^3 for U = g_a c_a + g_b c_b needs only
    T[a, a], T[a, b], T[b, a] and T[b, b]. The full (k, k, k) tensor of :class:`CoMoments` cost
    O(n k^3) time (its einsum: 27 s for 100,000 rows of 50 models, over 300 s for 100 models, against
    4 to 8 s for the percentile pass); T costs one (k, n) x (n, k) product per chunk. Merged by the
    same pairwise update (Pebay 2008), restricted to the entries (i, i, j).
    """

    @property
    def t3(self) -> np.ndarray:
        """T[i, j] = sum c_i^2 c_j, (k, k), in the data's units."""
        with np.errstate(over="ignore"):
            return np.ldexp(self._t3, 2 * self.e[:, None] + self.e[None, :])

    def _zero_third(self):
        self._t3 = np.zeros((self.k, self.k))

    def _set_third(self, c: np.ndarray):
        self._t3 = (c * c).T @ c

    def _rescale_third(self, shift: np.ndarray):
        self._t3 = np.ldexp(self._t3, -(2 * shift[:, None] + shift[None, :]))

    def _merge_third(self, a, b, na, nb, n, d, cross):
        # CoMoments' M3 update at the entries (i, i, j): d_i d_i d_j and the three d x cross terms
        self._t3 = (a._t3 + b._t3 + np.outer(d * d, d) * (na * nb * (na - nb) / n**2)
                    + (2.0 * d[:, None] * cross + np.diag(cross)[:, None] * d[None, :]) / n)

    def acceleration(self, grad: np.ndarray) -> float:
        """BCa acceleration for influence values U_i = grad . (t_i - mean); ``grad`` has at most two nonzeros."""
        g = self._scaled_gradient(grad)
        s = np.flatnonzero(np.asarray(grad))
        if s.size > 2:
            raise ValueError("PairMoments reads gradients on at most two columns")
        s2 = float(g[s] @ self._m2[np.ix_(s, s)] @ g[s])
        s3 = 0.0
        for i in s:  # sum_{i, j, l in s} g_i g_j g_l M3[i, j, l], each multiset {i, i, j} once with its count
            s3 += g[i] ** 3 * self._t3[i, i]
            for j in s:
                if j != i:
                    s3 += 3.0 * g[i] ** 2 * g[j] * self._t3[i, j]
        return _guarded_acceleration(s2, s3, g[s], self._m2[np.ix_(s, s)], self.n)


@dataclass
class StreamCore:
    """What one pass over the loss columns leaves: the pieces every interval method needs."""

    theta: np.ndarray            # (m,) mean losses
    reps: np.ndarray             # (B, m) replicate means
    moments: PairMoments | None  # co-moments of the m loss columns (for BCa)
    # studentized only, for the m losses then the p pairs' differences (columns of :class:`_Shifted`):
    se_hat: np.ndarray | None    # (m + p,) plug-in standard errors
    reps_se: np.ndarray | None   # (B, m + p) the replicates' plug-in standard errors
    diff: np.ndarray | None      # (p,) mean differences, from their centred sums (as in memory: their own means)
    rep_diff: np.ndarray | None  # (B, p)
    rep_weight: np.ndarray       # (B,)
    n: int
    n_groups: int | None
    seed: int
    B: int


def _check_groups(groups):
    """``groups`` is a column label or None. A label, as for the loss columns (:func:`_is_label`):
    pd.DataFrame(array) labels its columns 0, 1, ..., and the in-memory bootstrap (bootstrap._frame_groups)
    takes groups=2 for such a frame. Checked before the columns are listed: an array of ids reached
    ``c != groups`` there (compare_models_tabular) and failed with numpy's "truth value ... is ambiguous"."""
    if groups is not None and not _is_label(groups):
        raise ValidationError("groups", f"must be the name of the cluster-id column for tabular data, got "
                              f"{type(groups).__name__}")


def _columns(source, columns, groups):
    _check_groups(groups)
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
    if groups is not None and groups in cols:
        # the cluster ids bootstrapped as a model's losses (the default columns leave them out, and in memory
        # groups= takes the column out of the frame): accepted, it gave a "model" whose mean loss was the mean id
        raise ValidationError("columns", f"must not include the groups column {groups!r}: it holds cluster ids, "
                                         f"not losses", hint="leave it out of columns= (or pass columns=None)")
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
                pairs=None, chunk_size=None, n_jobs=None, field="data"):
    """One pass over the loss columns of a tabular input; see :class:`StreamCore`. ``field`` names the loss
    columns in errors, as the in-memory twin does ("data" for bootstrap_ci, "losses" for compare_models)."""
    n_jobs = check_n_jobs(n_jobs)  # refused for every source, also those that read sequentially
    source = as_source(data, chunk_size=chunk_size)
    _check_groups(groups)
    if groups is not None and method in ("bca", "studentized"):
        raise ValidationError("method", f"{method!r} with groups needs per-cluster totals, which a streaming pass "
                              "cannot form when clusters span chunks", hint="use percentile, basic or normal "
                              "intervals, or aggregate the rows to one row per cluster first")
    names = _all_columns(source) if groups is not None else []
    if names and groups not in names:  # (no names: an empty iterator, refused below for having no rows)
        # the in-memory field and rule (bootstrap._frame_groups, "data" for "DataFrame": this may be Parquet or
        # chunks); the source's own check called it an unknown name among "columns", a field in memory does not use
        shown = [str(c) for c in names[:12]] + (["..."] if len(names) > 12 else [])
        raise ValidationError("groups", f"names no column of the data: {groups!r} not in {shown}")
    cols = _columns(source, columns, groups)
    # the package's one integer rule, as in memory: 2000.0 is accepted (lossless), 2.5, "2" and True are not
    n_resamples = check_int(n_resamples, "n_resamples", low=2)
    seed = seed_key(random_state)
    rs = Resampling.make(n_resamples, "poisson", seed)
    m = len(cols)
    studentized = method == "studentized"
    if studentized:
        reducer = _StudentReducer(cols, pairs, rs, field)
    else:
        reducer = TermReducer(cols, _LossTerms(cols, field), m, rs, moments=PairMoments if method == "bca" else False)
    if groups is None:
        part = source.reduce(reducer, n_jobs=n_jobs)
    else:
        # errors call the ids "groups", as bootstrap_ci / compare_models do in memory (not "unit_id")
        both = source.reduce(_GroupCount(reducer), unit_id=groups, n_jobs=n_jobs, unit_field="groups")
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
    se_hat = reps_se = diff = rep_diff = None
    if studentized:
        se_hat, reps_se = part.shifted.standard_errors()
        if pairs is not None:
            x_means, x_reps = part.shifted.means()
            diff, rep_diff = x_means[m:], x_reps[:, m:]
    return StreamCore(means[:m], rep_means[:, :m], mom, se_hat, reps_se, diff, rep_diff, acc.rep_weight, int(acc.n),
                      n_groups, seed, rs.n_replicates), cols


def _bca(theta, reps, moments, grads, alpha):
    """BCa per statistic j with influence U = grads[j] . (t - mean): z0 and the acceleration exactly as
    :func:`workbench._intervals.bca_interval` computes them from the influence values."""
    theta = np.atleast_1d(np.asarray(theta, dtype=np.float64))
    reps = np.asarray(reps, dtype=np.float64).reshape(reps.shape[0], -1)
    lo, hi = np.empty(theta.size), np.empty(theta.size)
    zs = special.ndtri(np.array([alpha / 2, 1 - alpha / 2]))
    for j in range(theta.size):  # a loop over statistics, not rows or resamples
        a = moments.acceleration(grads[j])  # 0 for a constant column, as in memory (was ZeroDivisionError)
        if np.isnan(a):
            warn_acceleration_rounding()
            lo[j] = hi[j] = np.nan
            continue
        r = reps[:, j]
        _, _, z0 = _intervals.bca_z0(theta[j], r)  # the in-memory rule (ties within rounding of theta)
        with np.errstate(divide="ignore", invalid="ignore"):
            adj = special.ndtr(z0 + (z0 + zs) / (1 - a * (z0 + zs)))
        if not np.all(np.isfinite(adj)):
            lo[j] = hi[j] = np.nan
            continue
        lo[j], hi[j] = np.nanpercentile(r, adj * 100)
    return lo, hi


def _interval(core: StreamCore, method, alpha, theta, reps, grads, cols=slice(None)):
    """(low, high) per statistic; a statistic whose replicates all equal it (constant data) gets the point,
    as in memory (a streamed constant 0.3 had [0.30000000000000027, 0.3000000000000006] around 0.2999...93)."""
    return _intervals.point_if_constant(theta, reps, *_interval_of(core, method, alpha, theta, reps, grads, cols))


def _interval_of(core: StreamCore, method, alpha, theta, reps, grads, cols=slice(None)):
    if method == "bca":
        return _bca(theta, reps, core.moments, grads, alpha)
    if method == "studentized":  # cols: the statistics' columns of the standard errors
        return _intervals.studentized_interval(theta, core.se_hat[cols], reps, core.reps_se[:, cols], alpha)
    if method == "normal":
        return _intervals.normal_interval(theta, replicate_sd(reps, axis=0), alpha)
    return _intervals.interval(method, theta, reps, alpha)


def bootstrap_loss_matrix(data, columns: Sequence[str] | None = None, *, method: str = "percentile",
                          n_resamples: int = 2000, alpha: float = 0.05, random_state=None,
                          resampling: str = "poisson", groups: str | None = None, names=None,
                          chunk_size: int | None = None, n_jobs: int | None = None, statistic: str = "mean"):
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
    statistic : "mean"
        The only streamed statistic (as :func:`workbench.resample.bootstrap_ci` says for such data);
        any other is a ValidationError naming ``statistic``.

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
    from ..resample.bootstrap import BootstrapResult, _ro, _warn_undefined

    if not (isinstance(statistic, str) and statistic == "mean"):  # bootstrap_ci's rule for such data, word for word
        # (it was a TypeError, "unexpected keyword argument 'statistic'")
        raise ValidationError("statistic", f"must be 'mean' for chunked, Parquet or Dask data, got {statistic!r}")
    check_choice(method, "method", METHODS)
    alpha = check_alpha(alpha)
    _check_resampling(resampling)
    source = as_source(data, chunk_size=chunk_size)
    # the names checked before the pass, by the in-memory rule (bootstrap_ci's _names: check_names, m distinct
    # labels, labels 0, 1 as "0", "1"): they were checked after it, by a rule of their own ("must have 2
    # entries, got 1"; names=5 a TypeError)
    cols = _columns(source, columns, groups)
    names = tuple(check_names(names, len(cols), cols))
    core, cols = stream_core(source, cols, n_resamples=n_resamples, random_state=random_state, groups=groups,
                             method=method, n_jobs=n_jobs)
    m = len(cols)
    _warn_undefined(core)  # as bootstrap_ci in memory: replicates of zero total weight are left out, said
    grads = np.eye(m)
    lo, hi = _interval(core, method, alpha, core.theta, core.reps, grads)
    se = replicate_sd(core.reps, axis=0)
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
                          method=method, pairs=(ia, ib), chunk_size=chunk_size, n_jobs=n_jobs, field="losses")
    if method == "studentized":
        # the differences' own means, as in memory: at a level of 1e8 the difference of two rounded means
        # is off by ~1e-7, a visible part of a difference of 0.03
        dtheta, dreps = core.diff, core.rep_diff
    else:
        dtheta = core.theta[ia] - core.theta[ib]
        dreps = core.reps[:, ia] - core.reps[:, ib]
    eye = np.eye(m)
    lo, hi = _interval(core, method, alpha, core.theta, core.reps, eye, slice(0, m))
    se = replicate_sd(core.reps, axis=0)
    models = models_frame(names, core.theta, core.reps, lo, hi, se, alpha, method, core.n, higher_is_better)
    dlo, dhi = _interval(core, method, alpha, dtheta, dreps, eye[ia] - eye[ib], slice(m, None))
    dse = replicate_sd(dreps, axis=0)
    differences = pd.DataFrame({
        "model": [names[a] for a in ia], "versus": [names[b] for b in ib], "difference": dtheta,
        "ci_low": dlo, "ci_high": dhi, "se": dse, "alpha": alpha, "method": method,
        "excludes_zero": (np.asarray(dlo) > 0) | (np.asarray(dhi) < 0)})
    return ModelComparison(models, differences, method, alpha, core.B, core.seed, higher_is_better,
                           {"n_groups": core.n_groups, "resampling": "poisson",
                            "undefined_replicates": int(np.isnan(core.reps).any(axis=1).sum())})
