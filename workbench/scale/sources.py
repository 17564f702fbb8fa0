"""Tabular inputs read chunk by chunk: pandas frames, iterables of chunks, Parquet and Dask.

Every source turns its input into pandas chunks and feeds them to a *reducer* (see
:mod:`workbench.scale.reduce`): ``reducer.start()`` makes an empty partial result,
``reducer.consume(partial, chunk, row_ids)`` adds one chunk and ``partial.merge(other)`` adds two
partial results. Rows are numbered globally, in the order of the input (row ``i`` of the whole
table gets id ``i``), whatever the chunking or partitioning, so the hashed Poisson bootstrap
weights (a hash of the seed, the id and the replicate) are the same as for the same rows in
memory. A ``unit_id`` column replaces row numbers when rows are clustered (users, sessions).

Only the columns a reducer asks for are read (Parquet and Dask prune the others).
"""
from __future__ import annotations

import functools
import itertools
import numbers
import os
import re
from pathlib import Path
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._parallel import check_n_jobs
from .._validation import ValidationError, check_columns, check_int, check_unit_ids, raise_if_any

#: Rows per chunk when the caller does not say: large enough that per-chunk overhead is small,
#: small enough that a chunk of a few dozen float64 columns stays far below 1 GiB.
DEFAULT_CHUNK_ROWS = 262_144


def _is_dask_frame(data) -> bool:
    mod = type(data).__module__
    if not (mod.startswith("dask") or mod.startswith("dask_expr")):
        return False
    return hasattr(data, "to_delayed") and hasattr(data, "columns") and hasattr(data, "npartitions")


def _is_arrow_dataset(data) -> bool:
    mod = type(data).__module__
    return mod.startswith("pyarrow") and hasattr(data, "to_batches") and hasattr(data, "count_rows")


def is_tabular(data) -> bool:
    """True for inputs handled by :mod:`workbench.scale` (not numpy arrays or workbench logs).

    Tabular inputs: a ``pandas.DataFrame``, a ``pyarrow.Table``, a Parquet path (``str`` or
    ``pathlib.Path``), a ``pyarrow.dataset.Dataset``, a ``dask.dataframe.DataFrame``, or an
    iterable (list, tuple, generator) of chunks that are DataFrames, Arrow tables/record batches
    or mappings of column arrays.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from workbench.scale import is_tabular
    >>> df = pd.DataFrame({"loss": [0.1, 0.4, 0.2]})
    >>> is_tabular(df), is_tabular([df.iloc[:2], df.iloc[2:]]), is_tabular("logs/day1.parquet")
    (True, True, True)

    Arrays and a single mapping of columns are in-memory data, not tables to stream:

    >>> is_tabular(np.zeros((3, 2))), is_tabular({"loss": [0.1, 0.4]}), is_tabular([])
    (False, False, False)
    """
    if isinstance(data, (pd.DataFrame, str, os.PathLike)):
        return True
    if _is_dask_frame(data) or _is_arrow_dataset(data):
        return True
    mod = type(data).__module__
    if mod.startswith("pyarrow") and hasattr(data, "to_batches"):
        return True
    if isinstance(data, np.ndarray) or isinstance(data, Mapping):
        return False
    if isinstance(data, (list, tuple)):
        return len(data) > 0 and all(_is_chunk(c) for c in data)
    return hasattr(data, "__iter__") and hasattr(data, "__next__")  # a generator / iterator of chunks


def _is_chunk(c) -> bool:
    if isinstance(c, (pd.DataFrame, Mapping)):
        return True
    mod = type(c).__module__
    return mod.startswith("pyarrow") and hasattr(c, "to_pandas")


def _chunk_to_frame(chunk, columns: Sequence[str] | None) -> pd.DataFrame:
    if isinstance(chunk, pd.DataFrame):
        frame = chunk
    elif isinstance(chunk, Mapping):
        lengths = {k: len(np.atleast_1d(np.asarray(v))) for k, v in chunk.items()}
        if len(set(lengths.values())) > 1:  # pandas' own error named no column
            raise ValidationError("data", f"a chunk given as a mapping must hold columns of equal length, got "
                                  f"{lengths}")
        frame = pd.DataFrame({k: np.asarray(v) for k, v in chunk.items()})
    elif type(chunk).__module__.startswith("pyarrow") and hasattr(chunk, "to_pandas"):
        if columns is not None:
            _check_arrow(chunk, columns)
            chunk = chunk.select(list(columns))
        frame = chunk.to_pandas()
    else:
        raise ValidationError("data", f"each chunk must be a pandas DataFrame, a pyarrow Table / RecordBatch "
                              f"or a mapping of column arrays, got {type(chunk).__name__}")
    if columns is not None:
        check_columns(frame, columns)
        _refuse_repeated(frame.columns, columns)
    return frame


def _refuse_repeated(names, columns) -> None:
    """A needed column whose name labels several columns of the data is refused, as
    ``BanditLog.from_frame`` refuses it: ``frame[name]`` is then a frame of several columns, which failed
    deep inside (an AttributeError on its ``dtype``, a numpy broadcast error) or was read as a 2-D block."""
    index = pd.Index(list(names))
    if not index.has_duplicates:  # the usual case: one vectorised test per chunk
        return
    twice = set(index[index.duplicated()])
    repeated = [c for c in dict.fromkeys(columns) if c in twice]
    if repeated:
        raise ValidationError("data", f"column names must be unique; {repeated} name several columns")


def _check_arrow(obj, columns):
    names = list(obj.schema.names)
    missing = [c for c in columns if c not in names]
    if missing:
        shown = ", ".join(map(repr, names[:12])) + (" ..." if len(names) > 12 else "")
        raise ValidationError("columns", f"unknown column name(s) {missing}; the data has {shown}")
    _refuse_repeated(names, columns)


class Source:
    """Base class: a table read in chunks. Subclasses implement :meth:`reduce`.

    ``reduce(reducer, unit_id=None, n_jobs=None, unit_field="unit_id")`` feeds every chunk, with the
    global row numbers (or the ``unit_id`` column's values) as ids, to ``reducer`` and returns the
    merged partial result (``unit_field``: the caller's name for the ids in errors, see
    :func:`unit_ids`). Unit ids are checked chunk by chunk and, at the end of the pass, across chunks
    (integers in one chunk and strings in another are refused as memory refuses the column: same
    field, rule, count, first row and value); :class:`workbench.scale.TermReducer` is the reducer of
    sum-type statistics. Make a
    source with :func:`as_source`, or with one of :class:`FrameSource`, :class:`IterableSource`,
    :class:`ParquetSource` and :class:`DaskSource`.

    Examples
    --------
    Every source numbers rows the same way, whatever its chunks: here :meth:`sample` keeps the
    rows with even global ids in one pass over chunks of 4 rows.

    >>> import pandas as pd
    >>> from workbench.scale import as_source
    >>> df = pd.DataFrame({"user": [1, 1, 2, 3, 3, 3], "loss": [0.1, 0.4, 0.2, 0.0, 0.3, 0.5]})
    >>> src = as_source(df, chunk_size=4)
    >>> src.kind, src.n_rows(), src.column_names(), src.reusable
    ('frame', 6, ['user', 'loss'], True)
    >>> rows = src.sample(["loss"], lambda chunk, ids: ids % 2 == 0)
    >>> rows["loss"].tolist(), rows.attrs["row_ids"].tolist()
    ([0.1, 0.2, 0.3], [0, 2, 4])
    """

    kind = "source"

    def reduce(self, reducer, *, unit_id: str | None = None, n_jobs: int | None = None, unit_field: str = "unit_id"):
        """Feed every chunk, with its global row ids (or ``unit_id`` values), to ``reducer``; return the merge.
        ``unit_field`` names the ids in errors as the caller's in-memory twin does ("groups" for the loss bootstrap)."""
        raise NotImplementedError

    #: False for a one-shot iterator of chunks (it cannot be read twice).
    reusable = True

    def n_rows(self) -> int | None:
        """Number of rows if it is known without reading the data, else None."""
        return None

    def column_names(self) -> list:
        """Names of the columns (without reading the data, or from the first chunk), as the data labels them
        (a frame built from an array has integer labels 0, 1, ...: they are what selects its columns)."""
        raise NotImplementedError

    def _located(self, exc: "_WholeColumn") -> ValidationError:
        """``exc`` (a column refused for its dtype on a chunk of numbers) with the column's first row that
        holds no number, found by reading the column again; or with a hint saying why there is none."""
        if not self.reusable:
            return ValidationError(exc.field, exc.rule, hint=exc.hint + ". A chunk typed it so while holding "
                                   "only numbers; a later chunk may hold the text, but a one-shot iterator "
                                   "cannot be read again to find it")
        found = self.reduce(_NonNumbers(exc.column, exc.allow_bool))
        if found.first is None:
            return ValidationError(exc.field, exc.rule, hint=exc.hint + ". Every value is a number")
        return ValidationError(exc.field, exc.rule, found.n_bad, found.first, found.n, found.value,
                               hint=exc.hint + ". Found by reading the column again (the chunk refused first "
                                               "held only numbers)")

    def sample(self, columns: Sequence[str], take, unit_id: str | None = None,
               unit_field: str = "unit_id") -> pd.DataFrame:
        """Rows selected by ``take(chunk, row_ids) -> boolean mask``, in row-id order (one pass).

        The global row numbers are in ``attrs["row_ids"]``; with ``unit_id`` the rows are still selected by
        row number, and their unit ids, checked chunk by chunk as the main pass checks them (same rule, same
        dtype, so the same hashes), are in ``attrs["unit_ids"]``."""
        from .reduce import RowCollector

        part = self.reduce(RowCollector(list(columns), take), unit_id=unit_id, unit_field=unit_field)
        return part.frame(unit_field)


def _consume_frame(reducer, partial, frame: pd.DataFrame, offset: int, unit_id, unit_field: str = "unit_id",
                   where: str | None = None, whole: bool = False):
    """Feed one chunk (global rows from ``offset``) to ``reducer``; with ``unit_id``, ``reducer`` is the
    :class:`_UnitChecked` wrapper and ``where`` names the chunk for its cross-chunk refusals."""
    try:
        rows = np.arange(offset, offset + len(frame), dtype=np.int64)
        if unit_id is None:
            reducer.consume(partial, frame, rows)
        else:
            reducer.consume_checked(partial, frame, rows, unit_ids(frame[unit_id], unit_id, unit_field), where)
    except ValidationError as exc:
        raise _shift_error(exc, offset, whole) from None
    return partial


_INT, _STR = "integer", "string"


class _IdKinds:
    """Which kinds of unit ids (integer, string) the chunks held: for each, the count of rows and the first
    row (global), its value as the data holds it and its chunk; for integers also the first negative id
    and the first beyond int64. Mergeable in any order (firsts are minima by row).

    Each chunk's ids pass :func:`check_unit_ids` alone, so integers in one chunk and strings in another
    were accepted, and 5 and "5" hashed as two units (two bootstrap weights, two folds), where memory
    refuses the column. Kept to the end of the pass, so the refusal names the rows memory names."""

    __slots__ = ("first",)

    def __init__(self, first=None):
        self.first = first or {}  # key -> (row, value, where, count): key _INT, _STR, "neg", "big"

    def note(self, units: np.ndarray, raw: pd.Series, rows: np.ndarray, where) -> None:
        if not len(units):
            return
        kind = _STR if units.dtype.kind in "US" else _INT
        marks = {kind: 0}
        if units.dtype.kind == "i" and units.min() < 0:
            marks["neg"] = int(np.argmax(units < 0))
        elif units.dtype.kind == "u" and units.max() > np.iinfo(np.int64).max:
            marks["big"] = int(np.argmax(units > np.iinfo(np.int64).max))
        for key, i in marks.items():
            value = raw.iloc[i]
            value = value.item() if isinstance(value, np.generic) else value  # as raise_if_any shows it
            self._add(key, (int(rows[i]), value, where, len(units) if key in (_INT, _STR) else 0))

    def _add(self, key, entry) -> None:
        old = self.first.get(key)
        if old is None:
            self.first[key] = entry
        else:
            keep = old if old[0] <= entry[0] else entry
            self.first[key] = keep[:3] + (old[3] + entry[3],)

    def merge(self, other: "_IdKinds") -> "_IdKinds":
        out = _IdKinds(dict(self.first))
        for key, entry in other.first.items():
            out._add(key, entry)
        return out

    def check(self, field: str, column) -> None:
        """Refuse what memory refuses for the whole column: integer and string ids together (the minority
        kind is the bad one, strings winning a tie, as in :func:`check_unit_ids`), and negative ids beside
        ids beyond int64."""
        read = f"Read from column {column!r}"
        if _INT in self.first and _STR in self.first:
            n_int, n_str = self.first[_INT][3], self.first[_STR][3]
            bad, good = (_INT, _STR) if n_str >= n_int else (_STR, _INT)
            row, value, where, n_bad = self.first[bad]
            grow, _, gwhere, _ = self.first[good]
            raise ValidationError(field, "must be all integers or all strings (no boolean or mixed ids)", n_bad,
                                  row, n_int + n_str, value,
                                  hint=f"{read}. Each chunk alone holds one kind: the first {bad} id is in "
                                       f"{_chunk_name(where)}, the first {good} id at row {grow} in "
                                       f"{_chunk_name(gwhere)}")
        if "neg" in self.first and "big" in self.first:
            (nrow, _, nwhere, _), (brow, _, bwhere, _) = self.first["neg"], self.first["big"]
            raise ValidationError(field, "integer ids must fit in 64 bits (signed or unsigned)",
                                  hint=f"{read}. A negative id at row {nrow} ({_chunk_name(nwhere)}) and one "
                                       f"beyond int64 at row {brow} ({_chunk_name(bwhere)}) fit neither")


def _chunk_name(where) -> str:
    return where if where is not None else "its chunk"


class _Checked:
    """Partial result of :class:`_UnitChecked`: the wrapped reducer's partial and the :class:`_IdKinds`."""

    __slots__ = ("inner", "kinds")

    def __init__(self, inner, kinds=None):
        self.inner, self.kinds = inner, kinds if kinds is not None else _IdKinds()

    def merge(self, other: "_Checked") -> "_Checked":
        return _Checked(self.inner.merge(other.inner), self.kinds.merge(other.kinds))


class _UnitChecked:
    """A reducer read with ``unit_id``: passes each chunk's checked unit ids on (to ``consume``, or with the
    row numbers to ``consume_units``) and notes their kinds, which :meth:`finish` checks across chunks."""

    def __init__(self, inner, unit_id, unit_field):
        self.inner, self.unit_id, self.unit_field = inner, unit_id, unit_field
        self.columns = inner.columns

    def start(self) -> _Checked:
        return _Checked(self.inner.start())

    def consume_checked(self, partial: _Checked, frame, rows, units, where) -> None:
        partial.kinds.note(units, frame[self.unit_id], rows, where)
        if hasattr(self.inner, "consume_units"):  # wants both (RowCollector: sampled by row, folded by unit)
            self.inner.consume_units(partial.inner, frame, rows, units)
        else:
            self.inner.consume(partial.inner, frame, units)

    def finish(self, partial: _Checked):
        partial.kinds.check(self.unit_field, self.unit_id)
        return partial.inner


def _checked(reducer, unit_id, unit_field):
    """The reducer a source feeds: wrapped in :class:`_UnitChecked` when read with ``unit_id``."""
    return reducer if unit_id is None else _UnitChecked(reducer, unit_id, unit_field)


def _finished(reducer, partial):
    """The caller's partial result, after the cross-chunk unit-id check when ``reducer`` is wrapped."""
    return reducer.finish(partial) if isinstance(reducer, _UnitChecked) else partial


def unit_ids(column: pd.Series, name, field: str = "unit_id") -> np.ndarray:
    """The unit ids of a chunk, checked by the rule every container uses
    (:func:`workbench._validation.check_unit_ids`), so streamed and in-memory runs form the same units.

    A refusal carries the in-memory field (``field``: "unit_id" for a BanditLog and evaluate_policy,
    "groups" for the loss bootstrap) and rule, so ``err.field`` and ``err.rule`` are those of the same
    mistake in memory; the column it was read from is added as a hint. (It said "unit ids (column
    'user')", a field no in-memory call uses.)

    >>> import pandas as pd
    >>> from workbench.scale.sources import unit_ids
    >>> try:
    ...     unit_ids(pd.Series([3, None, 4], dtype=object), "user")
    ... except ValueError as err:
    ...     print(err.field, "|", err)
    unit_id | unit_id: must not be missing; 1 of 3 rows breaks the rule, first at row 1. Read from column 'user'
    """
    try:
        return check_unit_ids(column, field)
    except ValidationError as exc:
        hint = (exc.hint + ". " if exc.hint else "") + f"read from column {name!r}"
        raise ValidationError(exc.field, exc.rule, exc.n_bad, exc.first, exc.n_total, exc.value, hint) from None


def _not_numbers(values, allow_bool: bool = True) -> np.ndarray:
    """Mask of the elements that are not real numbers (text, None, pd.NA, other objects; booleans
    too unless ``allow_bool``). Only called once a column was found to be non-numeric, to name its
    bad rows, so the Python loop never runs on valid input."""
    vals = np.asarray(values, dtype=object).ravel()

    def ok(v):
        if isinstance(v, (bool, np.bool_)):
            return allow_bool
        return isinstance(v, numbers.Real) and not pd.isna(v)  # NaN in a text column is a missing value

    return ~np.fromiter((ok(v) for v in vals), bool, vals.size)


def _refuse_column(column: pd.Series, name, field: str, allow_bool: bool = True, hint: str | None = None) -> None:
    """Raise the error for a non-numeric column: its dtype, how many rows do not hold a number and the
    first of them (a chunk-level row, made global by :func:`_shift_error`). ``hint`` replaces the default
    one (convert with pd.to_numeric)."""
    rule = f"must be numeric; column {name!r} has dtype {column.dtype}"
    hint = hint or "Convert it explicitly (e.g. with pd.to_numeric) if it holds numbers"
    values = column.to_numpy(dtype=object)
    bad = _not_numbers(values, allow_bool)
    raise_if_any(bad, field, rule, values, hint=hint)
    # every value of this chunk is a number, but the column's dtype is not numeric (object, categorical):
    # refused as a whole, as the in-memory path refuses an object array. The value that made it text may
    # sit in a later chunk: the source reads the column again to name it (see _locating).
    raise _WholeColumn(field, rule, hint=hint, column=name, allow_bool=allow_bool)


class _WholeColumn(ValidationError):
    """A column refused for its dtype on a chunk whose values are all numbers (no row to name there)."""

    def __init__(self, field, rule, n_bad=None, first=None, n_total=None, value=None, hint=None, *, column=None,
                 allow_bool=True):
        super().__init__(field, rule, n_bad, first, n_total, value, hint)
        self.column, self.allow_bool = column, allow_bool

    def __reduce__(self):  # rebuilt in the parent process from a joblib / Dask worker, with the column
        return (functools.partial(_WholeColumn, column=self.column, allow_bool=self.allow_bool),
                (self.field, self.rule, self.n_bad, self.first, self.n_total, self.value, self.hint))


class _NonNumbers:
    """Reducer of one column: how many rows hold no number (the rule of :func:`_refuse_column`; NaN in a
    text column is a missing value, so NaN counts here too), the first (global row) and its value."""

    def __init__(self, column, allow_bool):
        self.columns = [column]
        self.column, self.allow_bool = column, allow_bool

    def start(self):
        return _NonNumberCount()

    def consume(self, partial, chunk, ids):
        col = chunk[self.column]
        if pd.api.types.is_bool_dtype(col.dtype):
            bad = np.full(len(col), not self.allow_bool)
        elif pd.api.types.is_numeric_dtype(col.dtype):
            bad = np.asarray(col.isna(), bool)  # vectorised: only a number or NaN can be in it
        else:
            bad = _not_numbers(col.to_numpy(dtype=object), self.allow_bool)
        partial.n += len(col)
        hits = np.flatnonzero(bad)
        if hits.size:
            value = col.iloc[hits[0]]
            partial.add(hits.size, int(np.asarray(ids)[hits[0]]),
                        value.item() if isinstance(value, np.generic) else value)


class _NonNumberCount:
    def __init__(self):
        self.n, self.n_bad, self.first, self.value = 0, 0, None, None

    def add(self, n_bad, first, value):
        if self.first is None or first < self.first:
            self.first, self.value = first, value
        self.n_bad += n_bad

    def merge(self, other):
        out = _NonNumberCount()
        out.n = self.n + other.n
        for part in (self, other):
            if part.first is not None:
                out.add(part.n_bad, part.first, part.value)
        return out


def _locating(reduce):
    """A source's ``reduce`` that, when a chunk refuses a column for its dtype alone (its values all
    numbers: an object column whose text sits in a later chunk), reads that column again to name the
    first row holding no number, with the count over the whole table, as a single-chunk read names it.
    Chunk by chunk, the refusal came on the first chunk, with no row, however far on the text was."""

    @functools.wraps(reduce)
    def wrapper(self, reducer, **kw):
        try:
            return reduce(self, reducer, **kw)
        except _WholeColumn as exc:
            raise self._located(exc) from None

    return wrapper


# the hint for an action column of text: ids such as "item_42" are not action indices
TEXT_ACTION_HINT = ("actions are indices 0..n_actions-1: map text ids to them first, e.g. codes, ids = "
                    "pd.factorize(frame[column]) (keep ids to read the results back)")


def column_array(s: pd.Series) -> np.ndarray:
    """A column as numpy, as both the in-memory (``BanditLog.from_frame``) and the streamed path read it.

    pandas' nullable dtypes (Int64, Float64, boolean with a missing value) become float with NaN, which
    the row checks then refuse by their own rule ("must be finite", "must be integers"): a nullable
    boolean column with <NA> came back as an object array and was refused as "not numeric" in the
    streamed path only. A nullable boolean column without a missing value stays boolean (refused where
    numpy booleans are, not read as 0 / 1 floats). Text (str / string dtype, text categories) stays an
    object array: "0.5" is never parsed into 0.5 silently.
    """
    if pd.api.types.is_string_dtype(s.dtype) or (isinstance(s.dtype, pd.CategoricalDtype)
                                                  and not pd.api.types.is_numeric_dtype(s.dtype.categories.dtype)):
        return s.to_numpy(dtype=object)
    if pd.api.types.is_bool_dtype(s.dtype) and not s.isna().any():
        return s.to_numpy(dtype=bool)
    if isinstance(s.dtype, pd.api.extensions.ExtensionDtype) and not isinstance(s.dtype, pd.DatetimeTZDtype):
        try:
            return s.to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            return s.to_numpy()
    return s.to_numpy()


def column_values(frame: pd.DataFrame, column: str, field: str) -> np.ndarray:
    """One numeric field's column as a numpy array (:func:`column_array`), for the row checks of
    :mod:`workbench._validation`.

    A column that is not numbers (text, a dictionary-encoded text column, mixed values, timedeltas,
    datetimes) is refused here, naming the column, how many rows hold no number and the first one; the
    generic check would only say "object array", without a row. Timedeltas and datetimes were read as
    integer counts of nanoseconds (a reward of 1 s became 1e9) by the streamed path.
    """
    values = column_array(frame[column])
    if values.dtype.kind in "OUSmM":
        _refuse_column(frame[column], column, field, hint=TEXT_ACTION_HINT if field == "action" else None)
    return values


def numeric_block(frame: pd.DataFrame, columns: Sequence[str], field: str, allow_bool: bool = True) -> np.ndarray:
    """The columns as a float64 (m, k) array; a column that is not numeric is refused.

    ``to_numpy(dtype=float64)`` alone would parse strings such as "0.1" silently, where the
    in-memory path refuses them. ``allow_bool=False`` where the in-memory check refuses booleans
    (probabilities). The error names the column, how many rows hold no number and the first one.
    """
    for c in columns:
        dt = frame[c].dtype
        if pd.api.types.is_complex_dtype(dt):  # numeric to pandas, but float64 conversion dropped the imaginary part
            raise ValidationError(field, f"must be real numbers; column {c!r} has dtype {dt}")
        if not pd.api.types.is_numeric_dtype(dt) or (not allow_bool and pd.api.types.is_bool_dtype(dt)):
            _refuse_column(frame[c], c, field, allow_bool)
    return frame[list(columns)].to_numpy(dtype=np.float64)


def _shift_error(exc: ValidationError, offset: int, whole: bool = False) -> ValidationError:
    """Re-issue a chunk-level validation error with the row number in the whole table. Its counts cover the
    chunk, so they are said to (also for the first chunk, whose "1 of 100 rows" read as the table's count)
    unless the chunk is the whole table (``whole``)."""
    if exc.first is None or not isinstance(exc.first, (int, np.integer)) or whole:
        return exc
    hint = (exc.hint + ". " if exc.hint else "") + "Row numbers are global; counts cover the chunk where it was found"
    return ValidationError(exc.field, exc.rule, exc.n_bad, int(exc.first) + offset, None, exc.value, hint)


def _needed(reducer, unit_id):
    cols = list(dict.fromkeys(reducer.columns))
    if unit_id is not None and unit_id not in cols:
        cols.append(unit_id)
    return cols


class FrameSource(Source):
    """An in-memory ``pandas.DataFrame`` (or ``pyarrow.Table``) read in slices of ``chunk_size`` rows.

    Examples
    --------
    The chunk size does not change the result, bootstrap replicates included (a row's weight
    is a hash of the seed and its global row number):

    >>> import numpy as np, pandas as pd
    >>> from workbench._engine import Resampling
    >>> from workbench.scale import FrameSource, TermReducer
    >>> df = pd.DataFrame({"user": [1, 1, 2, 3, 3, 3], "loss": [0.1, 0.4, 0.2, 0.0, 0.3, 0.5]})
    >>> reducer = TermReducer(["loss"], lambda chunk, ids: (chunk["loss"].to_numpy(), {}), k=1,
    ...                       resampling=Resampling.make(100, "poisson", random_state=0))
    >>> whole = FrameSource(df).reduce(reducer)
    >>> chunked = FrameSource(df, chunk_size=4).reduce(reducer)
    >>> round(float(chunked.acc.means[0]), 3), bool(np.allclose(whole.acc.replicate_means,
    ...                                                         chunked.acc.replicate_means))
    (0.25, True)

    With ``unit_id`` the rows of a user share their bootstrap weight (a cluster bootstrap):

    >>> by_user = FrameSource(df, chunk_size=2).reduce(reducer, unit_id="user")
    >>> by_user.acc.n, bool(np.allclose(whole.acc.replicate_means, by_user.acc.replicate_means))
    (6, False)
    """

    kind = "frame"

    def __init__(self, frame, chunk_size: int | None = None):
        if not isinstance(frame, pd.DataFrame) and not (type(frame).__module__.startswith("pyarrow")
                                                        and hasattr(frame, "num_rows") and hasattr(frame, "slice")):
            # an array (or anything else) failed on its first use with an AttributeError ('num_rows')
            raise ValidationError("frame", f"must be a pandas DataFrame or a pyarrow Table, got "
                                           f"{type(frame).__name__}",
                                  hint="an array: wrap it with named columns, pd.DataFrame(array, columns=[...]); "
                                       "for other inputs use as_source(data), which picks the source")
        if not isinstance(frame, pd.DataFrame):  # a pyarrow Table: convert lazily per chunk
            self._arrow = frame
            self._n = frame.num_rows
        else:
            self._arrow = None
            self._n = len(frame)
        self.frame = frame
        self.chunk_size = _check_chunk_size(chunk_size)

    def n_rows(self):
        return self._n

    def column_names(self):
        # the labels themselves, not str(): "0" does not select the column 0 of pd.DataFrame(array)
        return list(self.frame.columns if self._arrow is None else self._arrow.schema.names)

    @_locating
    def reduce(self, reducer, *, unit_id=None, n_jobs=None, unit_field="unit_id"):
        cols = _needed(reducer, unit_id)
        if self._arrow is None:
            check_columns(self.frame, cols)
            _refuse_repeated(self.frame.columns, cols)
        else:
            _check_arrow(self._arrow, cols)
        reducer = _checked(reducer, unit_id, unit_field)
        partial = reducer.start()
        step = self.chunk_size or max(self._n, 1)
        for s in range(0, self._n, step):
            if self._arrow is None:
                chunk = self.frame.iloc[s:s + step][cols]
            else:
                chunk = self._arrow.slice(s, step).select(cols).to_pandas()
            _consume_frame(reducer, partial, chunk, s, unit_id, unit_field, f"chunk {s // step} (counting from 0)",
                           whole=step >= self._n)
        return _finished(reducer, partial)


class IterableSource(Source):
    """An iterable of chunks. A list or tuple can be read several times; a generator only once.

    Chunks may be DataFrames, Arrow tables or record batches, or mappings of column arrays.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from workbench._engine import Resampling
    >>> from workbench.scale import FrameSource, IterableSource, TermReducer
    >>> df = pd.DataFrame({"loss": [0.1, 0.4, 0.2, 0.0, 0.3, 0.5]})
    >>> reducer = TermReducer(["loss"], lambda chunk, ids: (chunk["loss"].to_numpy(), {}), k=1,
    ...                       resampling=Resampling.make(100, "poisson", random_state=0))
    >>> chunks = IterableSource([df.iloc[:2], {"loss": [0.2, 0.0]}, df.iloc[4:]])
    >>> chunks.reusable, chunks.n_rows(), chunks.column_names()
    (True, 6, ['loss'])
    >>> part = chunks.reduce(reducer)
    >>> bool(np.allclose(part.acc.replicate_means, FrameSource(df).reduce(reducer).acc.replicate_means))
    True

    A generator is read once; its number of rows is unknown until then:

    >>> once = IterableSource(df.iloc[i:i + 3] for i in (0, 3))
    >>> once.reusable, once.n_rows()
    (False, None)
    >>> round(float(once.reduce(reducer).acc.means[0]), 3)
    0.25
    """

    kind = "chunks"

    def __init__(self, chunks: Iterable):
        # something that is no iterable of chunks (5, a single frame or mapping, an array, text) was accepted and
        # failed when reduced, with a bare TypeError ("'int' object is not iterable") or column names as chunks
        if isinstance(chunks, (str, bytes, os.PathLike, np.ndarray, Mapping, pd.DataFrame, pd.Series)) or \
                not hasattr(chunks, "__iter__"):
            single = isinstance(chunks, (Mapping, pd.DataFrame)) or (type(chunks).__module__.startswith("pyarrow")
                                                                    and hasattr(chunks, "to_pandas"))
            raise ValidationError("chunks", f"must be an iterable (list, tuple, generator) of chunks (DataFrames, "
                                            f"pyarrow tables / record batches or mappings of column arrays), got "
                                            f"{type(chunks).__name__}",
                                  hint="one chunk: pass [chunk], or FrameSource(frame) for a whole frame" if single
                                  else "use as_source(data), which picks the source for a frame, a Parquet path or a "
                                       "Dask frame")
        self.chunks = chunks
        self._reusable = isinstance(chunks, (list, tuple))
        self.reusable = self._reusable
        self._used = False

    def column_names(self):
        if self._reusable:
            return list(_chunk_to_frame(self.chunks[0], None).columns) if self.chunks else []
        it = iter(self.chunks)
        try:
            first = next(it)
        except StopIteration:
            return []
        self.chunks = itertools.chain([first], it)  # peeked, not consumed
        return list(_chunk_to_frame(first, None).columns)

    def n_rows(self):
        if self._reusable:
            return int(sum(_chunk_len(c) for c in self.chunks))
        return None

    @_locating
    def reduce(self, reducer, *, unit_id=None, n_jobs=None, unit_field="unit_id"):
        if self._used and not self._reusable:
            raise ValidationError("data", "is an iterator of chunks that was already consumed; this computation "
                                  "needs a second pass (e.g. to fit a reward model on a sample). Pass a list of "
                                  "chunks, a Parquet path or a Dask frame, or a fitted model / prediction columns")
        self._used = True
        cols = _needed(reducer, unit_id)
        reducer = _checked(reducer, unit_id, unit_field)
        partial = reducer.start()
        offset = 0
        from tqdm.auto import tqdm

        from .._parallel import progress_enabled  # TQDM_DISABLE: tqdm.auto's notebook widget ignores it

        with tqdm(unit="rows", unit_scale=True, desc="streaming chunks", leave=False,
                  disable=not progress_enabled()) as bar:
            for i, chunk in enumerate(self.chunks):
                try:
                    frame = _chunk_to_frame(chunk, cols)[cols]
                except ValidationError as exc:
                    # which chunk: a column missing from chunk 3 only read as if the whole table lacked it
                    hint = (exc.hint + ". " if exc.hint else "") + f"In chunk {i} (counting from 0), from row {offset}"
                    raise ValidationError(exc.field, exc.rule, exc.n_bad, exc.first, exc.n_total, exc.value,
                                          hint) from None
                # a list of one chunk is the whole table (its counts are the table's); a generator's may not be
                whole = self._reusable and len(self.chunks) == 1
                _consume_frame(reducer, partial, frame, offset, unit_id, unit_field, f"chunk {i} (counting from 0)",
                               whole=whole)
                offset += len(frame)
                bar.update(len(frame))
        return _finished(reducer, partial)


def _chunk_len(c) -> int:
    if isinstance(c, Mapping):
        return len(next(iter(c.values())))
    return c.num_rows if hasattr(c, "num_rows") else len(c)


def _check_chunk_size(chunk_size):
    if chunk_size is None:
        return None
    # the package's integer rule: int("a") raised a bare ValueError and True passed as 1
    return check_int(chunk_size, "chunk_size", low=1)


def _file_batches(path, filesystem, cols, batch_size, row_groups=None, keys=None):
    """Record batches of one Parquet file, read row group by row group on demand.

    A plain ``ParquetFile.iter_batches`` with ``pre_buffer=False``: memory stays one row group
    plus one batch. (pyarrow's Dataset scanner reads ahead of a slow consumer and, with
    pre_buffer on, keeps read buffers; on a 1.4 GiB, 20M-row file either made resident memory
    grow to 1.3-2.9 GiB, measured by benchmarks/scale_memory.py.)

    ``keys`` maps partition columns (hive ``user=7/`` directories) to their value as a pyarrow
    scalar: they are not stored in the file, so they are added to every batch, as the dataset
    (and ``dd.read_parquet``) shows them. Any other needed column the file lacks is an error that
    names the file: a dataset's schema comes from one file, so the others may differ.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = keys or {}
    source = filesystem.open_input_file(path) if filesystem is not None else path
    try:
        pf = pq.ParquetFile(source, pre_buffer=False)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise ValidationError("data", f"file {str(path)!r} could not be read as Parquet ({exc})",
                              hint="every file of a directory is read, except hidden and _-prefixed ones") from None
    with pf:
        names = pf.schema_arrow.names
        missing = [c for c in cols if c not in names and c not in keys]
        if missing:
            raise ValidationError("columns", f"file {str(path)!r} lacks column(s) {missing}; it has "
                                  + ", ".join(map(repr, names[:12])) + (" ..." if len(names) > 12 else ""))
        stored = [c for c in cols if c in names]
        for batch in pf.iter_batches(row_groups=row_groups, columns=stored, batch_size=batch_size):
            added = [c for c in cols if c not in names]
            if added:  # from_arrays, not RecordBatch.append_column (pyarrow >= 16 only; our floor is 14)
                extra = [pa.repeat(keys[c], batch.num_rows) for c in added]
                # the schema's metadata (pandas dtypes such as Int64) is kept, as append_column keeps it
                schema = pa.schema([*batch.schema, *(pa.field(c, x.type) for c, x in zip(added, extra))],
                                   metadata=batch.schema.metadata)
                batch = pa.RecordBatch.from_arrays([*batch.columns, *extra], schema=schema)
            yield batch


def _partition_keys(dataset) -> dict:
    """Path -> {partition column: pyarrow scalar} for the files of a partitioned dataset."""
    import pyarrow as pa
    import pyarrow.dataset as pads

    out = {}
    if not hasattr(dataset, "get_fragments"):
        return out
    for frag in dataset.get_fragments():
        keys = pads.get_partition_keys(frag.partition_expression)
        if keys:
            out[frag.path] = {k: pa.scalar(v, dataset.schema.field(k).type) for k, v in keys.items()}
    return out


class _Failed:
    """A task's refusal, returned instead of raised so that the caller raises the first one in row order.

    Tasks run in parallel (joblib, Dask): raising let whichever failing task was seen first win, so with bad
    rows in several partitions the error named a later one (NaN rewards at rows 5, 150 and 390 of a Dask
    frame in 8 partitions: "first at row 150", every time), and the answer depended on the scheduler. The
    price: after a refusal the other tasks still run to the end of the pass.
    """

    def __init__(self, exc: ValidationError):
        self.exc = exc


def _refusal(task, *args):
    """``task(*args)``, or a :class:`_Failed` holding the ValidationError it raised."""
    try:
        return task(*args)
    except ValidationError as exc:
        return _Failed(exc)


def _raise_failed(part):
    """The merged result, or the first refusal (in row order) raised."""
    if isinstance(part, _Failed):
        raise part.exc
    return part


def _parquet_task(path, filesystem, row_groups, cols, offset, reducer, unit_id, batch_size, keys=None,
                  unit_field="unit_id"):
    # One task: a run of row groups of one file. Runs in a joblib worker (or a Dask worker under
    # joblib.parallel_config(backend="dask")), so it opens the file itself: only the path travels.
    partial = reducer.start()
    for batch in _file_batches(path, filesystem, cols, batch_size, row_groups, keys):
        frame = batch.to_pandas()
        _consume_frame(reducer, partial, frame, offset, unit_id, unit_field, f"file {str(path)!r}")
        offset += len(frame)
    return partial


def natural_sort_key(path: str) -> list:
    """Sort key comparing runs of digits as numbers (``part.2`` < ``part.10``): dask's file order."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path)]


def _ignored(rel: Path) -> bool:
    # pyarrow's default selector_ignore_prefixes: hidden files and _-prefixed metadata (_SUCCESS,
    # _metadata, _common_metadata), in any directory below the root
    return any(part.startswith((".", "_")) for part in rel.parts)


class ParquetSource(Source):
    """Parquet file(s) read batch by batch with pyarrow; only the needed columns are read.

    ``data`` is a path (a file, or a directory: every file in it and its subdirectories except
    hidden ones and ``_``-prefixed metadata such as ``_SUCCESS`` or ``_metadata``, as pyarrow
    skips them, whatever their extension; hive ``key=value`` directories give partition columns)
    or a ``pyarrow.dataset.Dataset`` (read in its own file order: ``pads.dataset(directory)`` lists
    files lexicographically, ``part.10`` before ``part.2``, so pass the path itself to get the order
    below; with the Poisson scheme and ``unit_id`` the answer does not depend on order at all). A directory's files are read in
    natural path order (runs of digits compare as numbers: ``part.2`` before ``part.10``), the
    order ``dd.read_parquet`` uses, so a directory written by Dask or pandas is read in the order
    it was written. Row numbers follow file order then row order. Runs of row groups are reduced
    through joblib (``n_jobs`` of them at once; None leaves it to joblib, so
    ``joblib.parallel_config(backend="dask")`` sends them to a cluster); their partial results
    are merged in file order, so the answer does not depend on ``n_jobs`` or the backend.

    Examples
    --------
    >>> import os, shutil, tempfile
    >>> import numpy as np, pandas as pd
    >>> from workbench._engine import Resampling
    >>> from workbench.scale import FrameSource, ParquetSource, TermReducer
    >>> df = pd.DataFrame({"user": [1, 1, 2, 3, 3, 3], "loss": [0.1, 0.4, 0.2, 0.0, 0.3, 0.5]})
    >>> folder = tempfile.mkdtemp()
    >>> path = os.path.join(folder, "log.parquet")
    >>> df.to_parquet(path, row_group_size=4)
    >>> src = ParquetSource(path, chunk_size=2)
    >>> src.n_rows(), src.column_names()
    (6, ['user', 'loss'])

    Only the ``loss`` column is read, and the result is that of the same rows in memory:

    >>> reducer = TermReducer(["loss"], lambda chunk, ids: (chunk["loss"].to_numpy(), {}), k=1,
    ...                       resampling=Resampling.make(100, "poisson", random_state=0))
    >>> part = src.reduce(reducer)
    >>> bool(np.allclose(part.acc.replicate_means, FrameSource(df).reduce(reducer).acc.replicate_means))
    True
    >>> shutil.rmtree(folder)
    """

    kind = "parquet"

    def __init__(self, data, chunk_size: int | None = None):
        import pyarrow.dataset as pads

        if isinstance(data, (str, os.PathLike)):
            p = Path(data)
            if not p.exists():
                raise ValidationError("data", f"no such Parquet file or directory: {str(p)!r}")
            if p.is_dir():
                files = sorted((str(f) for f in p.rglob("*") if f.is_file() and not _ignored(f.relative_to(p))),
                               key=natural_sort_key)
                if not files:
                    raise ValidationError("data", f"directory {str(p)!r} holds no data files")
                for f in files:  # 4 bytes per file: a stray README would otherwise fail deep inside pyarrow
                    with open(f, "rb") as fh:
                        if fh.read(4) != b"PAR1":
                            raise ValidationError("data", f"file {f!r} in directory {str(p)!r} is not a Parquet "
                                                          "file (every file is read, except hidden and _-prefixed "
                                                          "ones)")
                kw = {"partitioning": "hive", "partition_base_dir": str(p)}
            else:
                files, kw = [str(p)], {}
            try:
                self.dataset = pads.dataset(files, format="parquet", **kw)
            except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
                raise ValidationError("data", f"could not be read as Parquet: {exc}") from None
        else:
            self.dataset = data
        self.chunk_size = _check_chunk_size(chunk_size) or DEFAULT_CHUNK_ROWS

    def n_rows(self):
        return int(self.dataset.count_rows())

    def column_names(self):
        return list(self.dataset.schema.names)

    def _files(self):
        return list(getattr(self.dataset, "files", []) or [])

    def _keys(self):
        if getattr(self, "_partition_keys", None) is None:
            self._partition_keys = _partition_keys(self.dataset)
        return self._partition_keys

    @_locating
    def reduce(self, reducer, *, unit_id=None, n_jobs=None, unit_field="unit_id"):
        n_jobs = check_n_jobs(n_jobs)
        cols = _needed(reducer, unit_id)
        _check_arrow(self.dataset, cols)
        files = self._files()
        reducer = _checked(reducer, unit_id, unit_field)
        if files:
            # Always the runs of row groups, through joblib, whatever n_jobs: one job summing every batch into one
            # total grouped the sums differently from the merged runs (answers 1 ulp apart between n_jobs=1 and
            # 2), and n_jobs=None never reached joblib, so a user's parallel_config did not apply.
            return _finished(reducer, self._reduce_runs(reducer, cols, unit_id, n_jobs, files, unit_field))
        partial = reducer.start()
        offset = 0
        # e.g. an in-memory dataset: the scanner keeps dataset order
        batches = ((f"batch {i} (counting from 0)", b) for i, b in enumerate(self.dataset.to_batches(
            columns=cols, batch_size=self.chunk_size, batch_readahead=2, fragment_readahead=1)))
        with _rows_bar(self.n_rows(), "streaming Parquet") as bar:
            for where, batch in batches:
                if batch.num_rows == 0:
                    continue
                frame = batch.to_pandas()
                _consume_frame(reducer, partial, frame, offset, unit_id, unit_field, where)
                offset += len(frame)
                bar.update(len(frame))
        return _finished(reducer, partial)

    def _reduce_runs(self, reducer, cols, unit_id, n_jobs, files, unit_field="unit_id"):
        import pyarrow.parquet as pq
        from joblib import Parallel, delayed

        fs = getattr(self.dataset, "filesystem", None)
        tasks, offset = [], 0
        for path in files:
            md = pq.read_metadata(fs.open_input_file(path) if fs is not None else path)
            groups, rows = [], 0
            for g in range(md.num_row_groups):
                groups.append(g)
                rows += md.row_group(g).num_rows
                if rows >= 4 * self.chunk_size or g == md.num_row_groups - 1:
                    tasks.append((path, groups, offset))
                    offset += rows
                    groups, rows = [], 0
        keys = self._keys()
        from .._parallel import generator_supported

        # a generator where the backend has one: the partials are merged in file order as they arrive, not all
        # held at once (joblib's multiprocessing backend returns a list only: it refused return_as="generator")
        parts = Parallel(n_jobs=n_jobs, return_as="generator" if generator_supported() else "list")(
            delayed(_refusal)(_parquet_task, p, fs, g, cols, o, reducer, unit_id, self.chunk_size, keys.get(p),
                              unit_field) for p, g, o in tasks)
        rows = np.diff([o for _, _, o in tasks] + [self.n_rows()])
        with _rows_bar(self.n_rows(), "streaming Parquet") as bar:
            return _merge_in_order(reducer, _counted(parts, rows, bar))


def _rows_bar(total, desc):
    """A tqdm.auto bar over rows (off with TQDM_DISABLE, which tqdm.auto's notebook widget ignores)."""
    from tqdm.auto import tqdm

    from .._parallel import progress_enabled

    return tqdm(total=total, unit="rows", unit_scale=True, desc=desc, leave=False, disable=not progress_enabled())


def _counted(parts, rows, bar):
    for p, n in zip(parts, rows):
        bar.update(int(n))
        yield p


def _merge_in_order(reducer, parts):
    out = reducer.start()
    for p in parts:
        out = out.merge(_raise_failed(p))  # the first refusal in file order, as a sequential read raises it
    return out


def _dask_partition(frame, offset, reducer, unit_id, cols, unit_field="unit_id", where=None):
    partial = reducer.start()
    return _refusal(_consume_frame, reducer, partial, frame[cols], int(offset), unit_id, unit_field, where)


class DaskSource(Source):
    """A ``dask.dataframe.DataFrame``: each partition reduces to a partial result on its worker,
    and partials are merged by a tree reduce (``split_every`` at a time), in partition order.

    Row numbers need each partition's offset: the sum of the lengths of the partitions before it,
    taken from the very partitions that are reduced (``ddf[cols].to_delayed()``). The graph may
    not count the rows of ``ddf`` instead: after a column selection dask may fuse Parquet
    partitions (8 become 3), so those lengths would misalign the offsets and give different rows
    the same ids (the same bootstrap weights). The offsets come in the same graph, so each
    partition is read once. With ``unit_id`` the offsets only place rows in error messages.

    Examples
    --------
    Needs ``dask[dataframe]`` (the ``scale`` extra).

    >>> import numpy as np, pandas as pd
    >>> import dask.dataframe as dd
    >>> from workbench._engine import Resampling
    >>> from workbench.scale import DaskSource, FrameSource, TermReducer
    >>> df = pd.DataFrame({"user": [1, 1, 2, 3, 3, 3], "loss": [0.1, 0.4, 0.2, 0.0, 0.3, 0.5]})
    >>> src = DaskSource(dd.from_pandas(df, npartitions=3))
    >>> src.n_rows(), src.column_names(), src.lengths().tolist()
    (6, ['user', 'loss'], [2, 2, 2])
    >>> reducer = TermReducer(["loss"], lambda chunk, ids: (chunk["loss"].to_numpy(), {}), k=1,
    ...                       resampling=Resampling.make(100, "poisson", random_state=0))
    >>> part = src.reduce(reducer)
    >>> bool(np.allclose(part.acc.replicate_means, FrameSource(df).reduce(reducer).acc.replicate_means))
    True
    """

    kind = "dask"

    def __init__(self, ddf, split_every: int = 8):
        self.ddf = ddf
        # >= 2: with 1 the tree merge below never shrinks its list of partials (an endless loop)
        self.split_every = check_int(split_every, "split_every", low=2)
        self._lengths = None

    def lengths(self):
        """Rows per partition (computed once, then kept)."""
        if self._lengths is None:
            self._lengths = np.asarray(self.ddf.map_partitions(len).compute(), dtype=np.int64)
        return self._lengths

    def n_rows(self):
        return int(self.lengths().sum())

    def column_names(self):
        return list(self.ddf.columns)

    @_locating
    def reduce(self, reducer, *, unit_id=None, n_jobs=None, unit_field="unit_id"):
        import dask

        cols = _needed(reducer, unit_id)
        check_columns(self.ddf, cols)
        _refuse_repeated(self.ddf.columns, cols)
        reducer = _checked(reducer, unit_id, unit_field)
        frames = self.ddf[cols].to_delayed()
        length, add = dask.delayed(len, pure=True), dask.delayed(_add, pure=True)
        parts, offset = [], 0
        for i, p in enumerate(frames):  # offset of partition i: a chain of sums of the lengths of partitions 0..i-1
            parts.append(dask.delayed(_dask_partition, pure=True)(p, offset, reducer, unit_id, cols, unit_field,
                                                                  f"partition {i} (counting from 0)"))
            offset = add(offset, length(p))
        total = _tree_merge_delayed(parts, self.split_every)
        return _finished(reducer, _raise_failed(total.compute()))


def _add(a, b):
    return int(a) + int(b)


def _tree_merge_delayed(parts, split_every):
    import dask

    merge = dask.delayed(_merge_many, pure=True)
    while len(parts) > 1:
        parts = [merge(*parts[i:i + split_every]) if len(parts[i:i + split_every]) > 1 else parts[i]
                 for i in range(0, len(parts), split_every)]
    return parts[0]


def _merge_many(*parts):
    # parts in partition order: the first refusal among them is the first in row order
    failed = next((p for p in parts if isinstance(p, _Failed)), None)
    if failed is not None:
        return failed
    acc = parts[0]
    for p in parts[1:]:
        acc = acc.merge(p)
    return acc


def as_source(data, *, chunk_size: int | None = None) -> Source:
    """Wrap a tabular input in a :class:`Source` (see :func:`is_tabular` for the accepted kinds).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.scale import as_source
    >>> df = pd.DataFrame({"loss": [0.1, 0.4, 0.2]})
    >>> src = as_source(df, chunk_size=2)
    >>> type(src).__name__, src.n_rows(), src.column_names()
    ('FrameSource', 3, ['loss'])
    >>> type(as_source([df.iloc[:2], df.iloc[2:]])).__name__, as_source(src) is src
    ('IterableSource', True)
    """
    if isinstance(data, Source):
        return data
    if isinstance(data, pd.DataFrame):
        return FrameSource(data, chunk_size)
    if _is_dask_frame(data):
        return DaskSource(data)
    if isinstance(data, (str, os.PathLike)) or _is_arrow_dataset(data):
        return ParquetSource(data, chunk_size)
    mod = type(data).__module__
    if mod.startswith("pyarrow") and hasattr(data, "to_batches") and hasattr(data, "num_rows"):
        return FrameSource(data, chunk_size)
    # a Series iterates over its values (floats), so it was taken as chunks and failed only during the pass
    if isinstance(data, (np.ndarray, Mapping, pd.Series, pd.Index)) or not hasattr(data, "__iter__"):
        raise ValidationError("data", f"must be a BanditLog, a pandas DataFrame, an iterable of chunks, a Parquet "
                              f"path, a pyarrow dataset or a dask DataFrame; got {type(data).__name__}",
                              hint="a single column: pass series.to_frame()" if isinstance(data, pd.Series) else None)
    return IterableSource(data)
