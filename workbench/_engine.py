"""The spine: per-row terms -> replicate sums -> statistics.

Almost every number the workbench reports is a smooth function of the *means of a few per-row
terms* (IPS: mean of w r; SNIPS: mean(w r) / mean(w); a model's loss: mean of L). So one engine
serves all pillars:

1. a method builds an (n, k) matrix of per-row terms;
2. :class:`ReplicateAccumulator` turns it into (B, k) replicate sums, one matrix product per
   chunk of rows, with weights from a hash of (row or unit id, replicate) ("poisson", the default:
   streamable, order- and chunk-free) or classic multinomial counts ("multinomial"), or explicit
   resample indices ("indices", for parity with other libraries);
3. the method's ``combine`` maps a vector of means to the statistic, for the full sample and for
   every replicate alike (so self-normalised estimators are re-normalised within each replicate);
4. :mod:`workbench._intervals` turns replicates into intervals; the influence values BCa needs
   are per-row terms too (:func:`influence_values`), so BCa stays O(n).

Accumulators merge by addition, so the same code runs in memory, over chunks and on Dask.
"""
from __future__ import annotations

import contextlib
import copy
import numbers
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ._compiled import poisson_weight_filler
from ._random import seed_key, unit_keys
from ._validation import ValidationError, check_choice, check_int

SCHEMES = ("poisson", "multinomial", "indices")
# Weight blocks of about 1 MiB (float64) stay in the L2 cache: measured 1.8x less CPU per row at
# B = 1000 than 16 MiB blocks. Rows are dispatched to threads in spans of fixed size.
_BLOCK_BYTES = 2**20
_SPAN_ROWS = 1 << 16
# Column sums are kept in units of 2**exp (one exponent per column): 0, i.e. the data's own units
# and bit-identical results, unless a term reaches 2**960 (~1e289). Then the column is divided by
# the power of two that brings it below 2**960 (exact), so weighted sums of up to 2**63 rows cannot
# overflow: values of +-1e307 made every replicate sum inf or NaN where their mean is an ordinary
# number. Means (point and replicate) are converted back, and a mean is no larger than the largest term.
_SAFE_EXP = 960


@dataclass(frozen=True)
class Resampling:
    """How replicate weights are drawn. ``seed`` is the 64-bit key behind every replicate.

    Public functions build it from their ``random_state`` with :meth:`make`; it is public for
    :class:`workbench.scale.TermReducer`, which takes one.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.scale import Resampling
    >>> Resampling.make(200, "poisson", random_state=0)
    Resampling(n_replicates=200, scheme='poisson', seed=0)
    >>> Resampling.make(2, "indices", indices=np.array([[0, 0, 1], [2, 1, 1]]))
    Resampling(n_replicates=2, scheme='indices', seed=0, indices=(2, 3) array)
    """

    n_replicates: int
    scheme: str = "poisson"
    seed: int = 0
    indices: np.ndarray | None = None  # (B, n) resample indices, scheme "indices" only

    def __post_init__(self):
        # The class is public (TermReducer takes one): built directly, seed=1.5 or True silently became seed 1,
        # seed=-1 or 2**64 gave numpy's OverflowError deep in the draws and n_replicates=2.5 a TypeError.
        check_choice(self.scheme, "scheme", SCHEMES)
        if isinstance(self.seed, (bool, np.bool_)) or not isinstance(self.seed, numbers.Integral) \
                or not 0 <= self.seed < 2**64:
            raise ValidationError("seed", f"must be an integer in [0, 2**64), got {self.seed!r}",
                                  hint="build it with Resampling.make(n_replicates, scheme, random_state=...)")
        if self.scheme == "indices":
            if self.indices is None or np.ndim(self.indices) != 2:
                raise ValidationError("indices", "must be given (B, n) when scheme='indices'")
            check_int(self.n_replicates, "n_replicates", low=np.shape(self.indices)[0],
                      high=np.shape(self.indices)[0])
        else:
            check_int(self.n_replicates, "n_replicates", low=2)

    def __repr__(self) -> str:
        # The generated dataclass repr printed the (B, n) index array.
        tail = "" if self.indices is None else f", indices={tuple(np.shape(self.indices))} array"
        return f"Resampling(n_replicates={self.n_replicates}, scheme={self.scheme!r}, seed={self.seed}{tail})"

    @classmethod
    def make(cls, n_replicates: int, scheme: str = "poisson", random_state=0, indices=None) -> "Resampling":
        """Check the arguments and turn ``random_state`` (int, Generator or None) into the integer ``seed``; with
        ``scheme="indices"``, ``indices`` (B, n) are the resamples themselves."""
        check_choice(scheme, "resampling", SCHEMES)
        if scheme == "indices":
            if indices is None:
                raise ValidationError("indices", "must be given (B, n) when resampling='indices'")
            indices = np.asarray(indices)
            if indices.ndim != 2:
                raise ValidationError("indices", f"must be 2-D (B, n), got shape {indices.shape}")
            return cls(int(indices.shape[0]), scheme, 0, indices)
        n_replicates = check_int(n_replicates, "n_replicates", low=2)  # 2.7 must not silently become 2
        return cls(n_replicates, scheme, seed_key(random_state))


class ReplicateAccumulator:
    """Mergeable sufficient statistics of an (n, k) term matrix under B resampling weights.

    Holds the plain column sums and row count (for point estimates) and, per replicate, the
    weighted column sums and the total weight. ``add`` consumes a chunk; ``merge`` adds another
    accumulator built with the same :class:`Resampling`. A column whose terms reach ~1e289 is summed in
    units of a power of two (``sum_exp``, see ``_SAFE_EXP``), so its means stay exact where its sums
    would overflow; read ``means`` and ``replicate_means``.
    """

    def __init__(self, k: int, resampling: Resampling):
        B = resampling.n_replicates
        self.resampling = resampling
        self.k = int(k)
        self.n = 0
        self.sum_exp = np.zeros(self.k, dtype=np.int64)  # sums are in units of 2**exp (see _SAFE_EXP)
        self._total = np.zeros(self.k)
        self._rep_sums = np.zeros((B, self.k))
        self.rep_weight = np.zeros(B)
        # row -> unit numbers of the last chunk added with ids (see ``add``), for influence_values
        self.units: np.ndarray | None = None

    # -- consuming data ------------------------------------------------------------------
    def add(self, terms: np.ndarray, ids: np.ndarray | None = None, n_threads: int | None = None,
            units: tuple[np.ndarray, int] | None = None):
        """Add a chunk of per-row terms. ``ids``: unit ids (default: global row numbers).

        ``units``: the chunk's ``unit_index(ids)`` when the caller already has it (BCa needs it for
        the per-unit influence values): the multinomial cluster bootstrap then does not sort the ids
        again. Otherwise it is computed here, once. Either way ``self.units`` holds the row -> unit
        numbers afterwards (multinomial scheme with ids), ready for :func:`influence_values`.
        """
        terms = np.asarray(terms, dtype=np.float64)
        if terms.ndim == 1:
            terms = terms[:, None]
        if terms.shape[1] != self.k:
            raise ValidationError("terms", f"must have {self.k} columns, got {terms.shape[1]}")
        m = terms.shape[0]
        need = _overflow_exponents(terms)
        if (need > self.sum_exp).any():
            self._rescale(np.maximum(need, self.sum_exp))
        if self.sum_exp.any():  # only for terms near the float limit: ordinary data are summed as they are
            terms = np.ldexp(terms, -self.sum_exp)
        rs = self.resampling
        if rs.scheme == "poisson":
            if ids is None:
                ids = np.arange(self.n, self.n + m, dtype=np.int64)
            elif len(ids) != m:
                raise ValidationError("ids", f"must have one id per row: got {len(ids)}, expected {m}")
            sums, wsum = _poisson_sums(terms, unit_keys(ids, rs.seed), rs.n_replicates, n_threads)
        else:
            if self.n != 0:
                raise ValidationError("resampling", f"scheme {rs.scheme!r} needs all rows at once; "
                                      "use scheme='poisson' for chunked or distributed data")
            if ids is not None:
                if len(ids) != m:
                    raise ValidationError("ids", f"must have one id per row: got {len(ids)}, expected {m}")
                units = unit_index(ids) if units is None else units
                if len(units[0]) != m:
                    raise ValidationError("units", f"must number each row: got {len(units[0])}, expected {m}")
                self.units = units[0]
            sums, wsum = _multinomial_sums(terms, rs, units=units)
        self._rep_sums += sums
        self.rep_weight += wsum
        self._total += column_sums(terms)
        self.n += m
        return self

    def _rescale(self, exp: np.ndarray) -> None:
        """Express the sums in units of 2**exp (exp >= self.sum_exp): an exact division by a power of two
        (a part below 2**-1022 of the new unit would round, far beneath the last bit of the sum)."""
        shift = self.sum_exp - exp
        self._total = np.ldexp(self._total, shift)
        self._rep_sums = np.ldexp(self._rep_sums, shift)
        self.sum_exp = np.asarray(exp, dtype=np.int64)

    def merge(self, other: "ReplicateAccumulator") -> "ReplicateAccumulator":
        if other.resampling != self.resampling and not (
                other.resampling.scheme == self.resampling.scheme == "poisson"
                and other.resampling.seed == self.resampling.seed
                and other.resampling.n_replicates == self.resampling.n_replicates):
            raise ValidationError("resampling", "accumulators built with different resampling cannot merge")
        out = ReplicateAccumulator(self.k, self.resampling)
        out.n = self.n + other.n
        if self.sum_exp.any() or other.sum_exp.any():  # both in the larger unit first (see _SAFE_EXP)
            a, b = copy.copy(self), copy.copy(other)  # (_rescale rebinds the arrays, never writes into them)
            a._rescale(np.maximum(a.sum_exp, b.sum_exp))
            b._rescale(a.sum_exp)
            out.sum_exp = a.sum_exp
        else:
            a, b = self, other
        out._total = a._total + b._total
        out._rep_sums = a._rep_sums + b._rep_sums
        out.rep_weight = self.rep_weight + other.rep_weight
        return out

    def select(self, cols) -> "ReplicateAccumulator":
        """The accumulator of columns ``cols`` (a slice or indices) alone, in the units they are summed in (reading
        ``total`` and ``rep_sums`` into a new accumulator would turn a sum beyond the float range into inf)."""
        out = copy.copy(self)
        # copies, not views: ``add`` sums into these arrays in place
        out.sum_exp, out._total, out._rep_sums = (self.sum_exp[cols].copy(), self._total[cols].copy(),
                                                  self._rep_sums[:, cols].copy())
        out.k = out.sum_exp.size
        return out

    # -- reading results -----------------------------------------------------------------
    # ``total`` and ``rep_sums`` are the sums in the data's units (inf where such a sum overflows although
    # the means do not: read ``means`` / ``replicate_means`` instead, or ``select`` columns).
    @property
    def total(self) -> np.ndarray:
        """Plain column sums, shape (k,)."""
        return np.ldexp(self._total, self.sum_exp) if self.sum_exp.any() else self._total

    @property
    def rep_sums(self) -> np.ndarray:
        """Weighted column sums in each replicate, shape (B, k)."""
        with np.errstate(over="ignore"):
            return np.ldexp(self._rep_sums, self.sum_exp) if self.sum_exp.any() else self._rep_sums

    @property
    def means(self) -> np.ndarray:
        """Column means over the full sample, shape (k,)."""
        means = self._total / self.n
        return np.ldexp(means, self.sum_exp) if self.sum_exp.any() else means

    @property
    def replicate_means(self) -> np.ndarray:
        """Weighted column means in each replicate, shape (B, k). Empty replicates give NaN."""
        with np.errstate(invalid="ignore", divide="ignore"):
            means = self._rep_sums / self.rep_weight[:, None]
        return np.ldexp(means, self.sum_exp) if self.sum_exp.any() else means


def _overflow_exponents(terms: np.ndarray) -> np.ndarray:
    """Per column, the power of two (exponent) to divide the terms by so that their weighted sums cannot
    overflow: 0 unless a finite |term| reaches 2**_SAFE_EXP. The whole-array max and min first (3 ms for
    1e6 x 5 terms, next to seconds for the (n, B) weights); the per-column ones, 10x slower on a narrow
    array, only for data that reach the limit."""
    lim = 2.0**_SAFE_EXP
    with np.errstate(invalid="ignore"):
        hi, lo = np.max(terms, initial=-np.inf), np.min(terms, initial=np.inf)
        if hi < lim and lo > -lim:  # (NaN terms take the per-column way: another column may need scaling)
            return np.zeros(terms.shape[1], dtype=np.int64)
        big = np.maximum(np.max(terms, axis=0, initial=-np.inf), -np.min(terms, axis=0, initial=np.inf))
    e = pow2_exponent(big)  # big < 2**e; 0 for NaN or inf terms, whose sums are NaN or inf whatever the scale
    return np.where(e > _SAFE_EXP, e - _SAFE_EXP, 0)


def _block_rows(B: int) -> int:
    return max(64, _BLOCK_BYTES // (8 * B))


def _poisson_span(terms, keys, B):
    """Replicate sums over one span of rows, in small weight blocks that stay in the CPU cache."""
    step = _block_rows(B)
    k = terms.shape[1]
    rows = min(step, terms.shape[0])
    fill, width = poisson_weight_filler(rows, B)
    W = np.empty((rows, width))
    # A column of ones appended to the terms makes the total weight of each replicate come out
    # of the same matrix product (one pass over W instead of two).
    T1 = np.empty((rows, k + 1))
    T1[:, k] = 1.0
    sums = np.zeros((B, k + 1))
    for s in range(0, terms.shape[0], step):  # blocks of rows, each one vectorised over B replicates
        m = min(step, terms.shape[0] - s)
        fill(keys[s:s + m], W)
        T1[:m, :k] = terms[s:s + m]
        sums += W[:m, :B].T @ T1[:m]
    return sums[:, :k], sums[:, k].copy()


def column_sums(terms: np.ndarray) -> np.ndarray:
    """(k,) column sums of an (m, k) array, each summed pairwise. A 1-D sum is pairwise (error ~log(m) eps),
    while sum(axis=0) of an (m, k >= 2) array adds row after row (~m eps): 3000 equal terms 0.29999999999999993
    averaged to 0.29999999999998495, and a constant's interval then excluded its own estimate. A loop over the
    k columns, not the rows."""
    return np.array([terms[:, j].sum() for j in range(terms.shape[1])], dtype=np.float64)


_BLAS_CONTROLLER = None
# Process-wide state of one_blas_thread: how many contexts are open (in any thread) and the limiter of the
# first, whose original thread counts the last one restores
_BLAS_LOCK = threading.Lock()
_BLAS_USERS = 0
_BLAS_LIMITER = None


def _release_openblas_control():
    """threadpoolctl (3.6+) lets only the thread that last set OpenBLAS's threads set them again until its own
    limiter exits; a restore from another thread is then a no-op. Our contexts open and close in whichever
    thread comes first and last, so control is released after each of our own settings (older versions
    have no such notion: nothing to do)."""
    import threadpoolctl

    clear = getattr(getattr(threadpoolctl, "OpenBLASController", None), "clear_controlling_thread", None)
    if clear is not None:
        clear()


@contextlib.contextmanager
def one_blas_thread():
    """A context in which BLAS runs on one thread. One threadpoolctl controller, made once: threadpool_limits
    inspects the loaded libraries on every entry (0.4-2.5 ms), which made 1,000 small bootstraps 3x slower;
    the controller's limit costs ~10 us.

    Reference-counted across threads: the first context to open sets one thread, the last to close restores
    the count found by the first. Each context saving and restoring on its own left BLAS on one thread for
    the rest of the process after concurrent calls from two threads (B saved A's limit of 1 as its
    "original", A restored 2, then B restored 1; and with threadpoolctl 3.8 a restore from a thread that did
    not set the limit is ignored)."""
    global _BLAS_CONTROLLER, _BLAS_USERS, _BLAS_LIMITER
    with _BLAS_LOCK:
        if _BLAS_CONTROLLER is None:
            from threadpoolctl import ThreadpoolController  # a scikit-learn dependency

            _BLAS_CONTROLLER = ThreadpoolController()
        if _BLAS_USERS == 0:
            limiter = _BLAS_CONTROLLER.limit(limits=1, user_api="blas")  # reads the counts, sets 1
            try:
                _release_openblas_control()
            except BaseException:  # (an interrupt, or a threadpoolctl change): never leave the limit set unowned
                limiter.restore_original_limits()
                raise
            _BLAS_LIMITER = limiter
        _BLAS_USERS += 1
    try:
        yield
    finally:
        with _BLAS_LOCK:
            _BLAS_USERS -= 1
            if _BLAS_USERS == 0:
                _BLAS_LIMITER.restore_original_limits()
                _release_openblas_control()
                _BLAS_LIMITER = None


def _poisson_sums(terms, keys, B, n_threads=None):
    m = terms.shape[0]
    starts = range(0, m, _SPAN_ROWS)
    if n_threads is None:
        n_threads = min(len(starts), os.cpu_count() or 1, 8)
    # Threads, not joblib processes: this is the inner kernel, numpy releases the GIL in the
    # hashing and in BLAS, and shipping (rows x B) blocks between processes would cost more
    # than computing them. Spans have a fixed size and their partial sums are added in span
    # order, so the result does not depend on the number of threads.
    # One BLAS thread, with worker threads or without: nested BLAS threads oversubscribe the cores, and even
    # alone a span's small product (B x rows) @ (rows x k+1) gained nothing from BLAS threads. On a busy
    # 2-core machine a 10,000-row, 20-column, 2,000-replicate call took 0.2-1.4 s with OpenBLAS's two
    # threads (they spin-wait for a core) and 0.1 s with one (benchmarks/bootstrap_speed.py --quick).
    with one_blas_thread():
        if n_threads > 1 and len(starts) > 1:
            with ThreadPoolExecutor(n_threads) as pool:
                parts = list(pool.map(lambda s: _poisson_span(terms[s:s + _SPAN_ROWS], keys[s:s + _SPAN_ROWS], B),
                                      starts))
        else:
            parts = [_poisson_span(terms[s:s + _SPAN_ROWS], keys[s:s + _SPAN_ROWS], B) for s in starts]
    sums = np.zeros((B, terms.shape[1]))
    wsum = np.zeros(B)
    for s, w in parts:
        sums += s
        wsum += w
    return sums, wsum


def unit_index(ids) -> tuple[np.ndarray, int]:
    """(row -> unit number, number of units), units numbered in sorted id order (so row order does
    not change which unit a draw picks)."""
    _, inv = np.unique(np.asarray(ids), return_inverse=True)
    inv = inv.ravel()
    return inv, int(inv.max()) + 1 if inv.size else 0


def unit_totals(terms: np.ndarray, ids) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(G, k + 1) per-unit column totals with the unit's row count last, the sorted unit ids, and per data
    column the exponent e (k,) of the unit 2**e its totals are in: what a cluster bootstrap resamples.

    e is 0, i.e. the data's own units and bit-identical totals, unless a column's terms reach 2**_SAFE_EXP:
    then they are divided by the power of two that brings them below it (exact), the rule by which
    ReplicateAccumulator keeps its sums (:func:`_overflow_exponents`), so a total of up to 2**63 rows
    stays below 2**1023. Values near 1e307 in units of 20 rows summed to inf where their means are
    ordinary numbers. A mean of the totals times 2**e is the mean in the data's units."""
    uniq, inv = np.unique(np.asarray(ids), return_inverse=True)
    inv = inv.ravel()
    terms = np.asarray(terms, dtype=np.float64)
    exp = _overflow_exponents(terms)
    if exp.any():  # only for terms near the float limit: ordinary data are summed as they are
        terms = np.ldexp(terms, -exp)
    return _unit_sums(terms, inv, uniq.size), uniq, exp


def _unit_sums(terms: np.ndarray, inv: np.ndarray, G: int) -> np.ndarray:
    """(G, k + 1) per-unit column totals and row counts from the row -> unit numbers ``inv``."""
    # one bincount per column: a vectorised sum per unit, about 2x faster than np.add.at
    cols = [np.bincount(inv, weights=terms[:, j], minlength=G) for j in range(terms.shape[1])]
    return np.column_stack([*cols, np.bincount(inv, minlength=G).astype(np.float64)])


def multinomial_counts(rs: Resampling, n: int, block: int):
    """Yield (b0, counts) with counts (bb, n): how often each of n units is drawn in replicates
    b0..b0+bb-1. The draws equal ``default_rng(seed).integers(0, n, (B, n))`` whatever the block."""
    rng = np.random.default_rng(rs.seed)
    for b0 in range(0, rs.n_replicates, block):
        bb = min(block, rs.n_replicates - b0)
        yield b0, _counts(rng.integers(0, n, (bb, n)), n)


def _multinomial_sums(terms, rs: Resampling, ids=None, units=None):
    if ids is not None or units is not None:
        # The cluster bootstrap: draw whole units (sorted unit ids) with replacement, as the Poisson
        # scheme weights whole units. Each replicate's sums are then totals over the drawn units and
        # its weight their row count, so a mean becomes a ratio of totals. Resampling rows instead
        # would treat correlated rows of a unit as independent: intervals too narrow.
        # ``units`` (= unit_index(ids), computed once by the caller) spares sorting the ids again.
        if units is None:
            if len(ids) != terms.shape[0]:
                raise ValidationError("ids", f"must have one id per row: got {len(ids)}, expected {terms.shape[0]}")
            units = unit_index(ids)
        unit = _unit_sums(terms, *units)
        sums, _ = _multinomial_sums(unit, rs)
        return sums[:, :-1], sums[:, -1].copy()
    n, k = terms.shape
    B = rs.n_replicates
    sums = np.zeros((B, k))
    if rs.scheme == "indices":
        idx_all = rs.indices
        if idx_all.shape[1] != n or idx_all.min() < 0 or idx_all.max() >= n:
            raise ValidationError("indices", f"must be (B, {n}) with values in [0, {n})")
    # one BLAS thread, as in _poisson_sums: on a busy 2-core machine the count products of 10,000 rows x 20
    # columns x 2,000 replicates took 0.6-1.1 s with two OpenBLAS threads, 0.42-0.45 s with one
    block = max(1, 2**22 // max(n, 1))  # replicates per (block, n) count matrix: ~32 MB
    with one_blas_thread():
        if rs.scheme == "indices":
            for b in range(0, B, block):
                idx = idx_all[b:b + block]
                sums[b:b + len(idx)] = _counts(idx, n) @ terms
        else:
            for b0, counts in multinomial_counts(rs, n, block):
                sums[b0:b0 + counts.shape[0]] = counts @ terms
    return sums, np.full(B, float(n))


def _counts(idx: np.ndarray, n: int) -> np.ndarray:
    bb = idx.shape[0]
    flat = (idx + (np.arange(bb) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=bb * n).reshape(bb, n).astype(np.float64)


def influence_values(terms: np.ndarray, means: np.ndarray, combine: Callable[[np.ndarray], np.ndarray],
                     units: np.ndarray | None = None, normalized: bool = False) -> np.ndarray:
    """Empirical influence values of ``combine(mean of terms)``: U_i = grad(combine) . (t_i - mean).

    For a mean this equals the jackknife values x_i - mean exactly; for a ratio S1/S2 it is
    (t1_i - theta t2_i) / mean(t2). Computing it costs O(n k), where the leave-one-out jackknife
    costs O(n^2). The gradient is taken by central differences on the means (combine is smooth).

    When the bootstrap resamples whole units, pass ``units``, the row -> unit numbers of
    :func:`unit_index` (computed once by the caller, shared by its estimators): the influence of a
    unit is the sum of its rows' values (one value per unit), as BCa's acceleration must skew over
    what is resampled. For a mean of rows, this is the unit's total minus theta times its size.

    ``normalized=True`` returns them divided by a power of two that brings the largest below 1 (exact):
    what BCa's acceleration sum U^3 / (6 (sum U^2)^1.5), which does not depend on the scale, should be
    given, as U^3 overflows beyond ~1e100 (the acceleration then came out 0, silently) and underflows
    below ~1e-100.
    """
    means = np.asarray(means, dtype=np.float64)
    terms = np.asarray(terms, dtype=np.float64)
    grad = combine_gradient(means, combine)
    # Terms (and means) and gradient are divided by powers of two first (exact, so ordinary data give the
    # same values): t - mean overflowed for terms near +-1e308, and the product for large gradients.
    et, eg = _finite_exponent(terms), _finite_exponent(grad)
    # NaN terms or gradient (an undefined statistic) give NaN influence values, which BCa reports
    # as an undefined acceleration with its own warning; numpy's "invalid value" would blame matmul
    with np.errstate(invalid="ignore"):
        infl = (np.ldexp(terms, -et) - np.ldexp(means, -et)) @ np.ldexp(grad, -eg)
    if units is not None:
        infl = np.bincount(units, weights=infl)
    if normalized:
        return np.ldexp(infl, -_finite_exponent(infl))
    with np.errstate(over="ignore"):  # values beyond the float range are inf: ask for normalized ones
        return np.ldexp(infl, et + eg)


def pow2_exponent(big) -> np.ndarray:
    """Elementwise, the integer e with |big| < 2**e (0 where big is 0 or not finite): the power of two by
    which the package scales values before squaring or cubing them (``np.ldexp(x, -e)`` is exact, keeps
    ordinary data bit-identical, and never forms 2**e itself, which overflows beyond 2**1023)."""
    big = np.asarray(big, dtype=np.float64)
    e = np.frexp(big)[1].astype(np.int64)
    return np.where(np.isfinite(big) & (big != 0), e, 0)


def _finite_exponent(*arrays) -> int:
    """The exponent e with every finite |x| < 2**e, x over all the ``arrays`` (0 when they hold no finite
    non-zero value). Several arrays give the exponent of their concatenation without building it (the max
    of their exponents would not: an array without a finite non-zero value has exponent 0, not -inf)."""
    big = 0.0
    for x in arrays:
        x = np.asarray(x, dtype=np.float64)
        big = max(big, float(np.max(np.abs(np.where(np.isfinite(x), x, 0.0)), initial=0.0)))
    return int(pow2_exponent(big))


def replicate_sd(reps, axis=None):
    """Bootstrap standard error: the sd (ddof 1) of the defined (non-NaN) replicates, over ``axis``
    (None: all of them, returned as a float). Fewer than two defined replicates (e.g. snips when the
    target never plays a logged action, or a statistic undefined on the full sample): NaN, without
    numpy's "degrees of freedom" warning (the callers' own warnings say why). An infinite replicate (a
    callable statistic that is +-inf in some resamples) makes the spread infinite: inf, not numpy's NaN
    (inf - inf), which passed for "undefined" without a word."""
    import warnings

    a = np.asarray(reps, dtype=np.float64)
    # Divided by the largest finite |replicate| first: squaring values near 1e-300 underflowed to an
    # sd of 0, and near 1e300 overflowed to inf.
    scale = np.max(np.abs(np.where(np.isfinite(a), a, 0.0)), axis=axis, keepdims=True, initial=0.0)
    scale = np.where(scale > 0, scale, 1.0)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.filterwarnings("ignore", "Degrees of freedom", RuntimeWarning)
        sd = np.nanstd(a / scale, axis=axis, ddof=1, keepdims=True) * scale
    sd = np.where(np.isinf(a).any(axis=axis, keepdims=True), np.inf, sd)
    return float(sd.reshape(())) if axis is None else np.squeeze(sd, axis=axis)


def is_single_unit(n_rows: int, ids=None) -> bool:
    """True when a bootstrap can only redraw the same data: one row, or every row in one unit.
    The callers then report NaN intervals (a width-0 interval would be a false certainty)."""
    if n_rows < 2:
        return True
    if ids is None:
        return False
    ids = np.asarray(ids)
    return bool(np.all(ids == ids[0]))


def combine_gradient(means: np.ndarray, combine: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Gradient of ``combine`` at ``means`` by central differences, all 2k points in one call."""
    means = np.asarray(means, dtype=np.float64)
    k = means.size
    # The step is relative to the mean, with a floor for means near 0 (a step below the rounding of the
    # other inputs, e.g. a small correction term added to a large one, gave a garbage derivative). The
    # floor was a fixed 1e-3, so the step (1e-9) exceeded the denominator of a ratio of means near 1e-10 or
    # 1e-300 (SNIPS with tiny weights), whose gradient, and so BCa's acceleration, came out wrong, silently.
    # It is now the largest |mean| when that is below 1e-3: tiny data get steps at their own scale, and any
    # data with a mean of 1e-3 or more the former steps (bit-identical results).
    big = float(np.max(np.abs(means), initial=0.0))
    floor = min(1e-3, big) if 0 < big < np.inf else 1e-3
    h = 1e-6 * np.maximum(np.abs(means), floor)
    # The floor is shared by all columns, so a column far below the largest mean (a tiny mean weight next to a
    # direct-method term of 0.5, in SNDR) got a step larger than its own mean: the gradient of a ratio by that
    # mean came out +1.3e8 where it is -4.6e8. Such a column also gets a step relative to its own mean, which
    # is used when it resolves the change of the statistic well above rounding (1e8 ulps of its value, so the
    # derivative is good to ~1e-8); a tiny correction added to a large term does not, and keeps the floor.
    h_own = 1e-6 * np.abs(means)
    own = (h_own < h) & (h_own > 0)
    idx = np.arange(k)
    pts = np.repeat(means[None, :], 4 * k, axis=0)
    pts[idx, idx] += h
    pts[k + idx, idx] -= h
    pts[2 * k + idx, idx] += np.where(own, h_own, h)
    pts[3 * k + idx, idx] -= np.where(own, h_own, h)
    vals = np.asarray(combine(pts), dtype=np.float64)
    # (a step that underflows to 0 for subnormal means gives 0 / 0: a NaN gradient, which BCa reports as an
    # undefined acceleration with its own warning)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        grad = (vals[:k] - vals[k:2 * k]) / (2 * h)
        d_own = vals[2 * k:3 * k] - vals[3 * k:]
        scale = np.maximum(np.abs(vals[2 * k:3 * k]), np.abs(vals[3 * k:]))
        resolved = own & np.isfinite(d_own) & (np.abs(d_own) >= 1e8 * np.finfo(float).eps * scale)
        return np.where(resolved, d_own / (2 * np.where(own, h_own, h)), grad)


def bootstrap_statistic(terms: np.ndarray, combine: Callable[[np.ndarray], np.ndarray], resampling: Resampling,
                        ids=None):
    """Point estimate, replicate statistics and influence values for ``combine(mean(terms))``."""
    terms = np.asarray(terms, dtype=np.float64)
    terms = terms[:, None] if terms.ndim == 1 else terms
    acc = ReplicateAccumulator(terms.shape[1], resampling).add(terms, ids)
    theta = float(np.asarray(combine(acc.means[None, :]))[0])
    reps = np.asarray(combine(acc.replicate_means), dtype=np.float64)
    return theta, reps, acc

