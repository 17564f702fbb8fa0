"""Mergeable partial results: what one chunk of rows reduces to, and how two of them add.

A :class:`TermReducer` turns each chunk into an (m, k) matrix of per-row terms (the spine of
:mod:`workbench._engine`) and adds it to a :class:`Partial`, which holds

* a :class:`workbench._engine.ReplicateAccumulator` (plain sums and the B hashed-Poisson
  replicate sums),
* optional side statistics (sums, maxima, minima: e.g. the sum of squared importance weights
  for the effective sample size, the largest weight; or objects with their own ``merge``),
* optional centred co-moments of the terms up to order 3 (:class:`CoMoments`), from which the
  BCa acceleration of any smooth function of the means follows in one pass.

Every piece merges by addition (co-moments by the pairwise update of Chan et al. 1979 and
Pébay 2008, which is stable where raw power sums are not), so a partial can be computed on any
worker and merged in any tree.
"""
from __future__ import annotations

import copy
import warnings
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._engine import ReplicateAccumulator, Resampling, pow2_exponent
from .._validation import ValidationError

_SIDE_INIT = {"sum": 0.0, "max": -np.inf, "min": np.inf, "merge": None}
_SIDE_OP = {"sum": np.add, "max": np.maximum, "min": np.minimum}


def _side_merge(op: str, a, b):
    """Two values of one side statistic merged: floats by sum / max / min; "merge": objects with their own
    ``a.merge(b)`` (a statistic a float cannot hold exactly), None standing for no rows."""
    if op == "merge":
        return b if a is None else a if b is None else a.merge(b)
    return float(_SIDE_OP[op](a, b))


class CoMoments:
    """Count, mean and centred co-moment tensors M2 (k, k) and M3 (k, k, k) of k columns.

    Examples
    --------
    Co-moments of two halves merge into those of the whole table, and give the BCa acceleration
    of a mean (``skewness / (6 sqrt(n))``) without keeping the rows:

    >>> import numpy as np
    >>> from scipy import stats
    >>> from workbench.scale import CoMoments
    >>> x = np.random.default_rng(0).exponential(size=(1000, 2))
    >>> cm = CoMoments.of(x[:600]).merge(CoMoments.of(x[600:]))
    >>> full = CoMoments.of(x)
    >>> cm.n, bool(np.allclose(cm.m2, full.m2)), bool(np.allclose(cm.m3, full.m3))
    (1000, True, True)
    >>> a = cm.acceleration(np.array([1.0, 0.0]))    # gradient of "mean of column 0"
    >>> bool(np.isclose(a, stats.skew(x[:, 0]) / (6 * np.sqrt(1000))))
    True
    """

    # Every moment is kept in units of 2**e[i] per column i (e the exponent just above the column's
    # largest |term| so far), because squares and cubes of terms beyond ~1e103 overflowed: a streamed
    # BCa interval of losses near 1e307 was off in the third digit, with overflow warnings. Scaling by
    # a power of two is exact, so ordinary data give the same moments bit for bit; ``mean``, ``m2`` and
    # ``m3`` give them in the data's units (inf where they exceed the float range) and
    # :meth:`acceleration`, a ratio that does not depend on the units, reads the scaled ones.

    def __init__(self, k: int):
        self.k = int(k)
        self.n = 0
        self.e = np.zeros(self.k, dtype=np.int64)
        self._mean = np.zeros(self.k)
        self._m2 = np.zeros((self.k, self.k))
        self._zero_third()

    @property
    def mean(self) -> np.ndarray:
        """Column means (k,)."""
        return np.ldexp(self._mean, self.e)

    @property
    def m2(self) -> np.ndarray:
        """Centred second co-moments sum (t_i - mean_i)(t_j - mean_j), (k, k)."""
        with np.errstate(over="ignore"):
            return np.ldexp(self._m2, self.e[:, None] + self.e[None, :])

    @property
    def m3(self) -> np.ndarray:
        """Centred third co-moments, (k, k, k)."""
        e = self.e
        with np.errstate(over="ignore"):
            return np.ldexp(self._m3, e[:, None, None] + e[None, :, None] + e[None, None, :])

    def _zero_third(self):
        self._m3 = np.zeros((self.k, self.k, self.k))

    def _set_third(self, c: np.ndarray):
        """Third co-moments from centred (scaled) terms ``c`` (n, k)."""
        self._m3 = np.einsum("ni,nj,nk->ijk", c, c, c, optimize=True)

    def _rescale_third(self, shift: np.ndarray):
        """Divide the third co-moments by 2**(shift_i + shift_j + shift_k) (a larger unit per column)."""
        s = shift
        self._m3 = np.ldexp(self._m3, -(s[:, None, None] + s[None, :, None] + s[None, None, :]))

    def _merge_third(self, a, b, na, nb, n, d, cross):
        """Third co-moments of the union of ``a`` and ``b`` (Pebay 2008); d, cross from merge_first_two."""
        sym = (np.einsum("i,jk->ijk", d, cross) + np.einsum("j,ik->ijk", d, cross)
               + np.einsum("k,ij->ijk", d, cross))
        self._m3 = a._m3 + b._m3 + np.einsum("i,j,k->ijk", d, d, d) * (na * nb * (na - nb) / n**2) + sym / n

    @classmethod
    def of(cls, terms: np.ndarray) -> "CoMoments":
        """Co-moments of one (n, k) block of terms."""
        out = cls(terms.shape[1])
        out.n = terms.shape[0]
        if out.n:
            out.e = pow2_exponent(np.max(np.abs(terms), axis=0))
            t = np.ldexp(terms, -out.e)
            out._mean = t.mean(axis=0)
            c = t - out._mean
            out._m2 = c.T @ c
            out._set_third(c)
        return out

    def _in_units(self, e: np.ndarray) -> "CoMoments":
        """This block with its moments expressed in units 2**e (e >= self.e elementwise)."""
        shift = e - self.e
        if not shift.any():
            return self
        out = copy.copy(self)
        out.e = e
        out._mean = np.ldexp(self._mean, -shift)
        out._m2 = np.ldexp(self._m2, -(shift[:, None] + shift[None, :]))
        out._rescale_third(shift)
        return out

    def merge(self, other: "CoMoments") -> "CoMoments":
        """Co-moments of the union of two blocks (Pebay 2008's pairwise update); either may be empty."""
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        e = np.maximum(self.e, other.e)
        a, b = self._in_units(e), other._in_units(e)
        out = type(self)(self.k)
        out.e = e
        out._merge_third(a, b, *merge_first_two(a, b, out))
        return out

    def _scaled_gradient(self, grad: np.ndarray) -> np.ndarray:
        """``grad`` times 2**e (the gradient in the moments' units), divided by a common power of two so
        that its largest entry lies in [0.5, 1): the acceleration does not depend on that factor."""
        g = np.asarray(grad, dtype=np.float64)
        ge = pow2_exponent(g) + self.e
        top = int(np.max(np.where(g != 0, ge, np.iinfo(np.int64).min), initial=np.iinfo(np.int64).min))
        if top == np.iinfo(np.int64).min:
            return np.zeros_like(g)
        return np.ldexp(g, self.e - top)

    def acceleration(self, grad: np.ndarray) -> float:
        """BCa acceleration sum(U^3) / (6 sum(U^2)^1.5) for influence values U_i = grad . (t_i - mean);
        NaN where rounding would dominate it (see :func:`acceleration_rounding`)."""
        g = self._scaled_gradient(grad)
        s2 = float(g @ self._m2 @ g)
        s3 = float(np.einsum("ijk,i,j,k->", self._m3, g, g, g))
        return _guarded_acceleration(s2, s3, g, self._m2, self.n)


def merge_first_two(a, b, out):
    """Set ``out``'s count, mean and centred co-moments M2 from two non-empty pieces ``a`` and ``b`` in the
    same units (the pairwise update of Pebay 2008), the part every co-moment kind shares
    (:class:`CoMoments`, and the reduced third moments of :class:`workbench.scale.losses.PairMoments`).
    Returns (na, nb, n, d, cross) for the third-order update: d = mean_b - mean_a, cross = na M2_b - nb M2_a."""
    na, nb = float(a.n), float(b.n)
    n = na + nb
    d = b._mean - a._mean
    out.n = a.n + b.n
    out._mean = a._mean + d * (nb / n)
    out._m2 = a._m2 + b._m2 + np.outer(d, d) * (na * nb / n)
    return na, nb, n, d, na * b._m2 - nb * a._m2


# Largest rounding error of a streamed acceleration that is accepted: an error da moves BCa's adjusted
# quantiles by about (z0 + z)^2 da ~ 4 da on the z scale, so 1e-3 moves a 95% endpoint by < 0.05 percentiles.
ACCELERATION_TOL = 1e-3


def _columns_scale(g: np.ndarray, m2: np.ndarray) -> float:
    """(sum_i |g_i| sqrt(M2_ii))^2: what g' M2 g would be if the columns did not cancel (its rounding scale)."""
    return float(np.abs(g) @ np.sqrt(np.maximum(np.diag(m2), 0.0))) ** 2


def acceleration_rounding(s2: float, g: np.ndarray, m2: np.ndarray, n: int) -> float:
    """Rounding error bound of an acceleration formed from co-moments, g' M2 g and M3[g, g, g].

    The influence U = g . c is never formed: its moments are combinations of the columns' co-moments,
    which cancel when the columns nearly cancel (snips with rewards of 1e5 +- 1: w r and w; two loss columns
    that share a level of 1e6). With kappa = (sum_i |g_i| sd_i)^2 / var(U) the loss of digits, the error of
    the acceleration is about 4 eps kappa^1.5 / sqrt(n) (measured: snips, 10,000 rows, chunks of 7 to
    10,000, kappa 2e7 to 2e13, the bound held with factors 1 to 4). In memory U is formed row by row and
    has no such error."""
    scale = _columns_scale(g, m2)
    if not (s2 > 0 and scale > 0 and n > 0):
        return 0.0
    return 4.0 * np.finfo(np.float64).eps * (scale / s2) ** 1.5 / np.sqrt(n)


def warn_acceleration_rounding() -> None:
    """Say why a streamed BCa interval is NaN: its acceleration would be mostly rounding."""
    warnings.warn("BCa: the acceleration from streamed co-moments would be dominated by rounding (the term "
                  "columns nearly cancel in the influence values, e.g. rewards or losses with a level far above "
                  "their spread); the interval is NaN. Use a percentile, basic or studentized interval, subtract "
                  "a constant from the rewards or losses first, or the in-memory function (it forms the "
                  "influence values row by row)", RuntimeWarning, stacklevel=4)


def _guarded_acceleration(s2: float, s3: float, g: np.ndarray, m2: np.ndarray, n: int) -> float:
    """:func:`_acceleration`, NaN when :func:`acceleration_rounding` exceeds ``ACCELERATION_TOL``. Influence
    values that are 0 up to rounding (s2 within 64 eps of the columns' scale: snips of a constant reward) are 0,
    as in memory (acceleration 0)."""
    if s2 <= 64.0 * np.finfo(np.float64).eps * _columns_scale(g, m2):
        return 0.0
    if acceleration_rounding(s2, g, m2, n) > ACCELERATION_TOL:
        return float("nan")
    return _acceleration(s2, s3)


def _acceleration(s2: float, s3: float) -> float:
    """sum(U^3) / (6 sum(U^2)^1.5), and 0 where that is undefined (constant terms: 0 / 0), as
    :func:`workbench._intervals.bca_interval` takes it. numpy floats: with Python floats 0 / 0 raised
    ZeroDivisionError, which ``np.errstate`` does not catch."""
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.float64(s3) / (6.0 * np.float64(s2) ** 1.5)
    return float(a) if np.isfinite(a) else 0.0


class Partial:
    """The partial result of some rows: replicate sums, side statistics and optional co-moments.

    Made by :meth:`TermReducer.start` and filled by :meth:`TermReducer.consume`; ``merge`` adds
    two partials. ``acc`` holds the sums (``acc.n``, ``acc.means``, ``acc.replicate_means``),
    ``side`` the side statistics and ``moments`` the :class:`CoMoments` (or None).

    Examples
    --------
    Two workers reduce the two halves of a table (rows keep their global ids), and the merged
    partial equals the one of the whole table, bootstrap replicates included:

    >>> import numpy as np, pandas as pd
    >>> from workbench.scale import Resampling
    >>> from workbench.scale import FrameSource, TermReducer
    >>> df = pd.DataFrame({"loss": np.random.default_rng(0).random(1000)})
    >>> reducer = TermReducer(["loss"], lambda chunk, ids: (chunk["loss"].to_numpy(), {}), k=1,
    ...                       resampling=Resampling.make(200, "poisson", random_state=0))
    >>> first, second = reducer.start(), reducer.start()
    >>> reducer.consume(first, df.iloc[:400], np.arange(400))
    >>> reducer.consume(second, df.iloc[400:], np.arange(400, 1000))
    >>> merged = first.merge(second)
    >>> whole = FrameSource(df).reduce(reducer)
    >>> merged.acc.n, bool(np.allclose(merged.acc.replicate_means, whole.acc.replicate_means))
    (1000, True)
    >>> merged.single_unit    # two or more distinct ids: the bootstrap can measure variability
    False
    """

    def __init__(self, k: int, resampling: Resampling, side_ops: Mapping[str, str], moments: bool | type):
        self.acc = ReplicateAccumulator(k, resampling)
        self.side_ops = dict(side_ops)
        self.side = {name: _SIDE_INIT[op] for name, op in self.side_ops.items()}
        self.moments = _moments_class(moments)(k) if moments else None
        # Up to two distinct row / unit ids seen: with fewer than two, every resample holds the same
        # data and the bootstrap cannot measure variability (the caller reports NaN, as in memory).
        self.ids_seen = ()

    @property
    def single_unit(self) -> bool:
        """True while fewer than two distinct row or unit ids were seen (the bootstrap cannot measure variability)."""
        return len(self.ids_seen) < 2

    def merge(self, other: "Partial") -> "Partial":
        """A new partial holding this one's rows and ``other``'s."""
        out = Partial.__new__(Partial)
        out.acc = self.acc.merge(other.acc)
        out.ids_seen = _two_distinct(self.ids_seen, other.ids_seen)
        out.side_ops = self.side_ops
        with np.errstate(over="ignore"):
            out.side = {k: _side_merge(op, self.side[k], other.side[k]) for k, op in self.side_ops.items()}
        out.moments = None if self.moments is None else self.moments.merge(other.moments)
        return out


class TermReducer:
    """Reduce chunks with ``build(chunk, ids) -> (terms (m, k), side dict)`` into a :class:`Partial`.

    Parameters
    ----------
    columns : list of str
        Columns the builder reads (only these are loaded from Parquet / Dask).
    build : callable
        Maps a pandas chunk to its term matrix and a dict of side statistics for that chunk
        (each reduced with the operation named in ``side_ops``). Must validate its chunk and raise
        :class:`workbench.ValidationError` on bad rows (row numbers are made global by the source).
    k : int
        Number of term columns.
    resampling : Resampling
        Must use the "poisson" scheme (the only one whose weights do not depend on the chunking).
    side_ops : mapping name -> "sum" | "max" | "min" | "merge"
        "merge": the chunk's value is an object merged by its own ``merge`` method (or None for none).
    moments : bool or class
        Also keep co-moments up to order 3 (for BCa): True keeps a :class:`CoMoments`; a class with
        the same interface (``cls(k)``, ``cls.of(terms)``, ``merge``) keeps its own kind (e.g. only
        the moments the statistics' gradients read, when the full (k, k, k) tensor is too costly).

    Examples
    --------
    The mean losses of two models and a bootstrap interval for their difference, in one pass
    over chunks of 300 rows; a side statistic counts the rows where model a does worse:

    >>> import numpy as np, pandas as pd
    >>> from workbench.scale import Resampling
    >>> from workbench.scale import FrameSource, TermReducer
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"loss_a": rng.random(1000), "loss_b": 0.9 * rng.random(1000)})
    >>> def build(chunk, ids):
    ...     terms = chunk[["loss_a", "loss_b"]].to_numpy()
    ...     return terms, {"a_worse": float((terms[:, 0] > terms[:, 1]).sum())}
    >>> reducer = TermReducer(["loss_a", "loss_b"], build, k=2,
    ...                       resampling=Resampling.make(200, "poisson", random_state=0),
    ...                       side_ops={"a_worse": "sum"})
    >>> part = FrameSource(df, chunk_size=300).reduce(reducer)
    >>> part.acc.n, part.acc.means.round(3).tolist(), part.side["a_worse"]
    (1000, [0.517, 0.433], 571.0)
    >>> diff = part.acc.replicate_means @ np.array([1.0, -1.0])    # replicates of mean(a) - mean(b)
    >>> bool(0 < np.percentile(diff, 2.5) < np.percentile(diff, 97.5))
    True
    """

    def __init__(self, columns: Sequence[str], build: Callable, k: int, resampling: Resampling,
                 side_ops: Mapping[str, str] | None = None, moments: bool = False):
        if resampling.scheme != "poisson":
            from .._validation import ValidationError

            raise ValidationError("resampling", f"must be 'poisson' for chunked or distributed data (its weights are a "
                                  f"hash of the row id, so they do not depend on the chunking); got "
                                  f"{resampling.scheme!r}")
        self.columns = list(columns)
        self.build = build
        self.k = int(k)
        self.resampling = resampling
        self.side_ops = dict(side_ops or {})
        self.moments = moments if isinstance(moments, type) else bool(moments)

    def start(self) -> Partial:
        """An empty :class:`Partial` for this reducer (one per worker or chunk stream)."""
        return Partial(self.k, self.resampling, self.side_ops, self.moments)

    def consume(self, partial: Partial, chunk: pd.DataFrame, ids: np.ndarray) -> None:
        """Add a chunk's terms (``build(chunk, ids)``), replicate sums, side statistics and moments to ``partial``."""
        if len(chunk) == 0:
            return
        terms, side = self.build(chunk, ids)
        terms = np.asarray(terms, dtype=np.float64)
        terms = terms[:, None] if terms.ndim == 1 else terms
        partial.acc.add(terms, ids)
        if len(partial.ids_seen) < 2:  # two distinct ids settle it; later chunks need no comparison
            ids = np.asarray(ids)
            differ = np.flatnonzero(ids != ids[0])
            partial.ids_seen = _two_distinct(partial.ids_seen,
                                             (ids[0],) if differ.size == 0 else (ids[0], ids[differ[0]]))
        with np.errstate(over="ignore"):  # a side sum beyond the float range is inf; its reader says so
            for name, op in partial.side_ops.items():
                partial.side[name] = _side_merge(op, partial.side[name], side[name])
        if partial.moments is not None:
            partial.moments = partial.moments.merge(type(partial.moments).of(terms))


def _moments_class(moments) -> type:
    return moments if isinstance(moments, type) else CoMoments


def _two_distinct(a: tuple, b: tuple) -> tuple:
    out = a
    for v in b:
        if len(out) < 2 and not any(v == u for u in out):
            out = out + (v,)
    return out


class _Rows:
    """Partial result of :class:`RowCollector`: selected rows with their ids (and unit ids, read with a unit_id)."""

    def __init__(self, frames=None, ids=None, units=None):
        self.frames = frames or []
        self.ids = ids or []
        self.units = units or []  # one array per chunk, each checked by sources.unit_ids: kept apart until frame()

    def merge(self, other: "_Rows") -> "_Rows":
        return _Rows(self.frames + other.frames, self.ids + other.ids, self.units + other.units)

    def frame(self, unit_field: str = "unit_id") -> pd.DataFrame:
        if not self.frames:
            return pd.DataFrame()
        out = pd.concat(self.frames, ignore_index=True)
        ids = np.concatenate(self.ids)
        order = np.argsort(ids, kind="stable")  # row-id order, whatever the chunking
        out = out.iloc[order].reset_index(drop=True)
        out.attrs["row_ids"] = ids[order]
        if self.units:
            out.attrs["unit_ids"] = concat_unit_ids(self.units, unit_field)[order]
        return out


def concat_unit_ids(parts, field: str = "unit_id") -> np.ndarray:
    """Checked unit ids of several chunks as one array that hashes (``workbench._random.unit_keys``) as each
    part did alone.

    ``np.concatenate`` alone would not: int64 and uint64 parts (ids beyond 2**63 in one chunk) became float64,
    rounding ids apart from 2**53 on, and integer and string parts became strings (5 hashed as "5", another
    unit). Integer parts share int64, or uint64 when one needs it (the same bits for ids >= 0, so the same
    hashes); a negative id beside one beyond int64 is refused by the in-memory rule. Strings (str or bytes)
    become str, which is what the hash reads. Integer and string parts together are refused by the in-memory
    rule (each chunk alone passed it).
    """
    parts = [np.asarray(p) for p in parts]
    kinds = {p.dtype.kind for p in parts}
    if kinds <= set("US"):
        return np.concatenate([p.astype(str) if p.dtype.kind == "S" else p for p in parts])
    if kinds <= set("iu"):
        if kinds == {"i", "u"}:
            if any(p.dtype.kind == "i" and p.size and p.min() < 0 for p in parts):
                raise ValidationError(field, "integer ids must fit in 64 bits (signed or unsigned)",
                                      hint="some chunks hold negative ids, others ids beyond int64")
            parts = [p.astype(np.uint64) for p in parts]
        return np.concatenate(parts)
    raise ValidationError(field, "must be all integers or all strings (no boolean or mixed ids)",
                          hint="some chunks hold integer ids, others strings")


class RowCollector:
    """Collect the rows for which ``take(chunk, ids)`` is True (used to sample rows in one pass).

    ``ids`` are the global row numbers. Read with a ``unit_id`` (``source.reduce(collector, unit_id=...)``),
    the selection is still by row number, and the chunks' checked unit ids of the selected rows are kept
    beside them (``attrs["unit_ids"]`` of :meth:`frame`): what a reward model's folds are hashed from.
    """

    def __init__(self, columns, take):
        self.columns = list(columns)
        self.take = take

    def start(self):
        return _Rows()

    def consume(self, partial, chunk, ids):
        self.consume_units(partial, chunk, ids, None)

    def consume_units(self, partial, chunk, rows, units):
        """A chunk read with a unit_id: ``rows`` its global row numbers, ``units`` its checked unit ids
        (None when read without one: :meth:`consume`)."""
        mask = np.asarray(self.take(chunk, rows), dtype=bool)
        if mask.any():
            partial.frames.append(chunk.loc[mask].reset_index(drop=True))
            partial.ids.append(np.asarray(rows)[mask])
            if units is not None:
                partial.units.append(np.asarray(units)[mask])
