"""Input checks, gathered in one place.

Every rule violation raises :class:`ValidationError`, a ``ValueError`` subclass whose message
names the field, the rule, how many rows break it and the first offending row. Nothing is
dropped, clipped or coerced silently: the only conversions done here are lossless (an
integer-valued float array of actions becomes ``int64``; a boolean reward becomes ``float64``).
"""
from __future__ import annotations

import decimal
import math
import numbers
from typing import Iterable, Sequence

import numpy as np

# Probabilities must sum to 1 within this absolute tolerance (stated in every message).
SUM_TOL = 1e-6


class ValidationError(ValueError):
    """Bad input. Carries the field, the rule, the number of bad rows and the first bad row.

    Examples
    --------
    >>> from workbench.data import BanditLog
    >>> try:
    ...     BanditLog(action=[0, 1, 1], reward=[1.0, 0.0, 1.0], propensity=[0.5, 0.5, 0.0], n_actions=2)
    ... except ValueError as err:
    ...     print(err.field, err.n_bad, err.first)
    ...     print(err.rule)
    propensity 1 2
    must be in (0, 1]
    """

    def __init__(self, field: str, rule: str, n_bad: int | None = None, first: object = None,
                 n_total: int | None = None, value: object = None, hint: str | None = None):
        self.field, self.rule, self.n_bad, self.first = field, rule, n_bad, first
        self.n_total, self.value, self.hint = n_total, value, hint
        msg = f"{field}: {rule}"
        if n_bad is not None:
            of = f" of {n_total}" if n_total is not None else ""
            # "1 row breaks", "1 of 50 rows breaks", "2 of 6 rows break"
            rows = ("row" if n_total is None and n_bad == 1 else "rows") + (" breaks" if n_bad == 1 else " break")
            msg += f"; {n_bad}{of} {rows} the rule, first at row {first}"
            if value is not None:
                msg += f" (value {value!r})"
        if hint:  # a sentence of its own: capitalised, whoever wrote it
            msg += f". {hint[0].upper()}{hint[1:]}"
        super().__init__(msg)

    def __reduce__(self):
        # Exceptions pickle as cls(*args) by default, and args holds only the message: without this,
        # an error raised in a joblib / Dask worker could not be rebuilt in the parent process and
        # the user would see a broken process pool instead of the message.
        return (self.__class__, (self.field, self.rule, self.n_bad, self.first, self.n_total, self.value, self.hint))


def _first_bad(bad: np.ndarray):
    """Count of True entries and the index of the first one (row index for 2-D+ masks)."""
    bad = np.asarray(bad)
    flat = bad.reshape(bad.shape[0], -1).any(axis=1) if bad.ndim > 1 else bad
    idx = np.flatnonzero(flat)
    return int(idx.size), (int(idx[0]) if idx.size else None)


def raise_if_any(bad, field: str, rule: str, values=None, hint: str | None = None) -> None:
    """Raise a ValidationError if ``bad`` (a boolean mask over rows) has any True entry."""
    bad = np.asarray(bad, dtype=bool)
    if bad.size and bad.any():
        n_bad, first = _first_bad(bad)
        val = None
        if values is not None:
            v = np.asarray(values)
            if v.ndim == 1:
                val = v[first]
            elif v.shape == bad.shape:
                # a row of a 2-D+ array (a policy's (n, n_actions) probabilities): its first offending
                # entry, so a rounding residue such as -1e-12 is shown, not only "row 7"
                val = v[first][bad[first]].flat[0]
            if isinstance(val, np.generic):
                val = val.item()
        raise ValidationError(field, rule, n_bad, first, bad.shape[0], val, hint)


def _missing_among_booleans(flat: np.ndarray) -> np.ndarray | None:
    """For an object array of booleans and missing values (None, NaN, pd.NA), its mask of missing entries;
    None for anything else (or when nothing is missing)."""
    import pandas as pd

    if pd.api.types.infer_dtype(flat.ravel(), skipna=True) != "boolean":
        return None
    missing = np.asarray(pd.isna(flat), dtype=bool)
    return missing if missing.any() else None


def _refuse_text_or_objects(arr: np.ndarray, field: str, rule: str) -> None:
    """Refuse a text or object array naming its rows, not only its dtype: how many rows hold a value that is
    not a real number (text, None, a list ...), the first of them and its value, and a recipe when every
    such value is a number written as text ("1.5").

    Returns (the caller then gives its dtype message) when there is no row to name: another dtype, a 0-d
    or empty array, or an object array whose entries are all real numbers."""
    if arr.ndim == 0 or arr.size == 0 or (arr.dtype != object and arr.dtype.kind not in "USV"):
        return
    flat = arr.reshape(arr.shape[0], -1)
    missing = _missing_among_booleans(flat) if arr.dtype == object else None
    if missing is not None:
        # a nullable boolean with <NA> (True / False / missing): the missing entries offend, not the booleans
        # (every row was counted, first at row 0, where the missing value was at row 1)
        bad = missing
    elif arr.dtype == object:  # it may mix real numbers with the offending entries (an error path: a loop is fine)
        bad = np.vectorize(lambda v: not isinstance(v, (numbers.Real, np.number)) or isinstance(v, (bool, np.bool_)),
                           otypes=[bool])(flat)
    else:  # text offends everywhere
        bad = np.ones(flat.shape, bool)
    if not bad.any():
        return
    rows = bad.any(axis=1)
    first = int(np.argmax(rows))
    value = flat[first][bad[first]][0]
    value = value.item() if isinstance(value, np.generic) else value

    def parses(v):
        try:
            float(v)
            return isinstance(v, (str, bytes, np.str_, np.bytes_))
        except (TypeError, ValueError):
            return False

    texts = flat[bad]
    hint = ("the values are numbers written as text: convert them first, e.g. np.asarray(x, dtype=float) or "
            "pandas.to_numeric") if all(parses(v) for v in texts[:1000]) else None
    if hint is None and all(isinstance(v, decimal.Decimal) for v in texts[:1000]):
        # a pyarrow decimal column read into pandas: exact decimals, which float64 may round, so not converted here
        hint = ("the values are decimal.Decimal (e.g. a database or pyarrow decimal column): convert them "
                "explicitly if float64 precision is enough, e.g. np.asarray(x, dtype=float)")
    what = "text" if arr.dtype != object else "not a real number"
    raise ValidationError(field, f"{rule} ({what}, dtype {arr.dtype})", int(rows.sum()), first, arr.shape[0],
                          value, hint)


def _numbers_from_objects(arr: np.ndarray, field: str) -> np.ndarray:
    """An object array whose entries are all real numbers (a pandas object column of numbers, a list mixing
    Python ints and numpy floats, ``Series.to_numpy(dtype=object)``) as the numeric array numpy would have made
    of them: int64 when every entry is an integer that fits, else float64 (bool when every entry is a bool).
    The conversion loses nothing, so it is not a silent coercion: an integer float64 would round (beyond
    2**53, next to non-integers or beyond int64) is refused, and so is anything else (text, None, pd.NA, a
    list, a mix of bools and numbers), with its rows."""
    from pandas.api.types import infer_dtype

    if arr.size == 0:  # nothing to lose: empty as a float array is, and the caller's own rules then apply
        return arr.astype(np.float64)
    # pandas classifies the entries in one pass in C; the Python loops below run only for mixed kinds
    kind = infer_dtype(arr.ravel(), skipna=False)
    if kind == "boolean":
        return arr.astype(bool)
    if kind == "floating":
        return arr.astype(np.float64)
    if kind == "integer":
        try:
            return arr.astype(np.int64)
        except OverflowError:
            pass  # beyond int64: refused below, as float64 would round them
    elif kind not in ("mixed-integer-float", "integer-na"):
        # text, None, pd.NA, Decimal, bools among numbers...: named by row (it returns only when every entry is
        # a real number of a kind pandas calls "mixed", e.g. a Fraction)
        _refuse_text_or_objects(arr, field, "must be numeric")
    # float64 holds every integer up to 2**53 exactly; a larger one would be rounded, silently
    big = np.vectorize(lambda v: isinstance(v, numbers.Integral) and abs(int(v)) > 2 ** 53, otypes=[bool])(arr)
    raise_if_any(big, field, "must be numeric: an integer beyond 2**53 next to non-integers (or beyond int64) "
                             "would be rounded as a float", arr)
    return arr.astype(np.float64)


def as_array(x, field: str, ndim: int | Sequence[int] | None = None, dtype=None) -> np.ndarray:
    """Convert to a numpy array, checking the number of dimensions. Refuses complex arrays and object arrays
    that hold anything but real numbers (those of real numbers become int64 / float64, see
    ``_numbers_from_objects``)."""
    def convert(a, dt=None):
        try:
            return np.asarray(a) if dt is None else np.asarray(a, dtype=dt)
        except (TypeError, ValueError) as exc:
            if isinstance(a, (list, tuple)) and a:
                # a list of arrays (one per model, one per row) of different shapes: numpy's "inhomogeneous
                # shape after 2 dimensions" named neither the entry nor the shapes
                shapes = [np.shape(v) for v in a]
                odd = [k for k, sh in enumerate(shapes) if sh != shapes[0]]
                if odd:
                    raise ValidationError(field, f"must be entries of one shape to stack into an array; {len(odd)} "
                                                 f"of {len(a)} entries differ from entry 0's shape {shapes[0]}, "
                                                 f"first entry {odd[0]} with shape {shapes[odd[0]]}") from None
            raise ValidationError(field, f"must be convertible to a numeric array ({exc})") from None

    if isinstance(x, np.ma.MaskedArray):
        # np.asarray drops the mask: the values under it (often placeholders such as 99 or -999) were used as data
        mask = np.ma.getmaskarray(x)
        if mask.ndim == 0 and mask:
            raise ValidationError(field, "must not be masked (a missing value)")
        rows = mask.reshape(mask.shape[0], -1).any(axis=1) if mask.ndim > 1 else mask
        raise_if_any(rows, field, "must not hold masked (missing) values", hint="fill or drop them first, e.g. "
                     "x.filled(np.nan) to have them refused by row as NaN, or x.compressed()")
        x = np.ma.getdata(x)
    arr = convert(x)
    if arr.dtype.kind == "c":  # refused before any dtype conversion, which would drop the imaginary part
        raise ValidationError(field, f"must be real numbers, got dtype {arr.dtype}")
    if arr.dtype.kind == "m":
        # numpy counts timedelta64 as a signed integer (np.issubdtype(..., np.number) is True), so every numeric
        # check let durations through as counts of their unit: a reward of 1 s became 1e6 (a pandas Series, in
        # microseconds) or 1 (a numpy array in seconds), silently. The streamed reader refuses them too.
        raise ValidationError(field, f"must be numbers, not durations (dtype {arr.dtype})",
                              hint="convert them explicitly in the unit you mean, e.g. x / np.timedelta64(1, 's')")
    if arr.dtype == object and arr.ndim == 0 and x is not None and not isinstance(arr.item(), numbers.Number):
        # a map, generator, set or dict is one opaque object to numpy: float() of it was a bare TypeError
        raise ValidationError(field, f"must be an array or list of numbers, got a {type(x).__name__}",
                              hint="materialise an iterator first, e.g. np.fromiter(...) or list(...); a mapping "
                                   "of index to value as e.g. pd.Series(d).sort_index().to_numpy()"
                              if not isinstance(x, (str, bytes)) else None)
    if dtype is not None:
        arr = convert(arr, dtype)
    if arr.dtype == object:
        arr = _numbers_from_objects(arr, field)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValidationError(field, f"must be {want}, got shape {arr.shape}")
    return arr


def numeric_output(x, field: str) -> np.ndarray:
    """What a user's callable returned, as float64 if it is numbers: text ("0.5") and complex numbers are
    refused, not parsed (np.asarray(..., float) read "0.5" as 0.5 and dropped an imaginary part with a warning).
    NaN and inf pass: the caller's own finiteness check names them by row."""
    if x is None:  # a 0-d object array of None became NaN below: a callable that returned nothing, silently
        raise ValidationError(field, "must return numbers, got None")
    arr = as_array(x, field)  # complex refused here, objects of numbers converted
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        _refuse_text_or_objects(arr, field, "must return numbers")
        raise ValidationError(field, f"must return numbers, got dtype {arr.dtype}")
    return arr.astype(np.float64, copy=False)


def check_length(arr: np.ndarray, n: int, field: str, ref: str = "action") -> None:
    if arr.shape[0] != n:
        raise ValidationError(field, f"must have one row per {ref} row: got {arr.shape[0]} rows, expected {n}")


def check_finite(arr, field: str) -> np.ndarray:
    """Float array with no NaN or inf."""
    arr = as_array(arr, field)
    if arr.dtype == bool:
        arr = arr.astype(np.float64)
    if not np.issubdtype(arr.dtype, np.number):
        _refuse_text_or_objects(arr, field, "must be numeric")
        raise ValidationError(field, f"must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    raise_if_any(~np.isfinite(arr), field, "must be finite (no NaN or inf)", arr)
    return arr


def check_integer_in_range(arr, field: str, low: int, high: int | None) -> np.ndarray:
    """Integer-valued array with values in [low, high). Integral floats are converted losslessly."""
    arr = as_array(arr, field, ndim=1)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.number):
        _refuse_text_or_objects(arr, field, "must be integers")
        raise ValidationError(field, f"must be integers, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise_if_any(~np.isfinite(arr), field, "must be integers (found NaN or inf)", arr)
        raise_if_any(arr != np.round(arr), field, "must be integers (found a non-integral value)", arr)
    # the range is checked on the values as given: casting 1e20 or a uint64 above 2**63 to int64 would
    # wrap, and the error would then report the wrapped value instead of the real one
    if high is None:
        raise_if_any(arr < low, field, f"must be >= {low}", arr)
    else:
        raise_if_any((arr < low) | (arr >= high), field, f"must be in [{low}, {high})", arr)
    if arr.dtype.kind in "uf":
        raise_if_any(arr >= 2.0**63, field, "must be < 2**63 (an int64)", arr)
    return arr.astype(np.int64)


def check_probability(arr, field: str, allow_zero: bool = False) -> np.ndarray:
    """Probabilities in (0, 1] (or [0, 1] with ``allow_zero``), no NaN."""
    arr = as_array(arr, field)
    if not np.issubdtype(arr.dtype, np.number) or arr.dtype == bool:
        _refuse_text_or_objects(arr, field, "must be numeric probabilities")
        raise ValidationError(field, f"must be numeric probabilities, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if arr.size:
        # Fast path for valid input: two reductions instead of four element-wise masks (the masks
        # below, which locate the first offending row, are built only when something is wrong).
        lo, hi = float(arr.min()), float(arr.max())  # NaN propagates through min / max
        if not np.isnan(lo) and not np.isnan(hi) and hi <= 1 and (lo > 0 or (allow_zero and lo == 0)):
            return arr
    raise_if_any(np.isnan(arr), field, "must not be NaN", arr)
    if allow_zero:
        raise_if_any((arr < 0) | (arr > 1), field, "must be in [0, 1]", arr)
    else:
        raise_if_any((arr <= 0) | (arr > 1), field, "must be in (0, 1]", arr,
                     # the hint only when a value is <= 0 (it puzzled on a propensity of 1.5)
                     hint="A propensity of 0 means the logged action could not have been taken"
                     if bool((arr <= 0).any()) else None)
    return arr


def check_distribution(dist, field: str, axis: int = 1, tol: float = SUM_TOL) -> np.ndarray:
    """Probabilities in [0, 1] that sum to 1 along ``axis`` within ``tol``. A boolean array is read as
    0/1 (a one-hot mask is a deterministic distribution); two Trues in a row then fail the sum."""
    dist = as_array(dist, field)
    if dist.dtype == bool:
        dist = dist.astype(np.float64)
    dist = check_probability(dist, field, allow_zero=True)
    if dist.ndim == 2 and axis in (1, -1) and dist.flags.c_contiguous:
        sums = dist @ np.ones(dist.shape[1])  # a BLAS matrix-vector product: 1.6-2.7x faster than sum(axis=1)
        # (1e6 rows, 2 to 80 columns)
    else:
        sums = dist.sum(axis=axis)
    bad = np.abs(sums - 1.0) > tol
    if bad.any():
        values = sums
        if sums.ndim > 1:
            # a row holds several sums (one per position, for 3-D input): report the bad row's worst
            # one, the farthest from 1, not the sum at position 0, which may well be 1.0
            flat = sums.reshape(sums.shape[0], -1)
            values = flat[np.arange(flat.shape[0]), np.abs(flat - 1.0).argmax(axis=1)]
        raise_if_any(bad, field, f"probabilities must sum to 1 over axis {axis} (tolerance {tol:g})", values)
    return dist


def check_columns(frame, names: Iterable[str], field: str = "columns") -> None:
    """Every requested column must exist in the frame."""
    cols = list(frame.columns)
    missing = [c for c in names if c not in cols]
    if missing:
        shown = ", ".join(map(repr, cols[:12])) + (" ..." if len(cols) > 12 else "")
        raise ValidationError(field, f"unknown column name(s) {missing}; the frame has {shown}")


def check_names(names, k: int, default, field: str = "names") -> list[str]:
    """``k`` distinct labels: ``names`` as strings, or ``default`` (column names or generated) when None."""
    if isinstance(names, str):  # one name: list("ab") would silently be two labels "a" and "b"
        names = [names]
    if names is not None and (not hasattr(names, "__iter__") or (isinstance(names, np.ndarray) and names.ndim == 0)):
        raise ValidationError(field, f"must be a sequence of {k} names, got {names!r}")  # was a TypeError (names=5)
    names = [str(s) for s in (default if names is None else names)]
    if len(names) != k or len(set(names)) != k:
        raise ValidationError(field, f"must be {k} distinct names, got {names}")
    return names


def check_alpha(alpha: float) -> float:
    alpha = check_real(alpha, "alpha")  # not float(): it would parse "0.05"
    if not 0 < alpha < 1:
        raise ValidationError("alpha", f"must be in (0, 1), got {alpha}")
    if alpha > 0.5:
        # alpha is the miscoverage: 0.95 (the confidence level typed in its place) silently gave a 5%
        # interval, read as a 95% one. No interval or test here is meant for more than 50% miscoverage.
        raise ValidationError("alpha", f"is the miscoverage (0.05 gives 95% intervals) and must be <= 0.5, got {alpha} "
                                       f"(a {100 * (1 - alpha):.3g}% interval)",
                              hint=f"For a {100 * alpha:.3g}% interval pass alpha={1 - alpha:.3g}")
    return alpha


def check_choice(value, field: str, options: Sequence[str]) -> str:
    # Only a hashable scalar can be an option: ``array in options`` compares elementwise and raised
    # numpy's "truth value of an array is ambiguous", a list a bare TypeError from the hash.
    if isinstance(value, (np.ndarray, list, dict, set)) or value not in options:
        raise ValidationError(field, f"must be one of {list(options)}, got {value!r}")
    return value


def readonly(arr: np.ndarray | None) -> np.ndarray | None:
    """A read-only private copy, so neither the caller nor the container can change the data later.

    Always copied: read-only does not mean unaliased (under pandas 3 a Series' values and
    ``.to_numpy()`` are read-only views of the DataFrame's memory, which the frame can still change).
    """
    if arr is None:
        return None
    arr = np.array(arr, copy=True)
    arr.setflags(write=False)
    return arr


# ``int(2.5)`` is 2 and ``int(float('nan'))`` a bare ValueError: integer parameters must not be converted
# with ``int()`` alone, or a non-integral value silently becomes another one.
def check_int(value, field: str, low: int | None = None, high: int | None = None) -> int:
    """An integer parameter in [low, high] (either bound optional), as a Python int.

    Python and numpy integers are accepted, and so are integral floats (3.0: the conversion is
    lossless). Non-integral or non-finite numbers, booleans and strings raise a ValidationError.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, (bool, np.bool_)):
        raise ValidationError(field, f"must be an integer, got {value!r}")
    if isinstance(value, numbers.Integral):
        v = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        v = int(value)
    else:
        raise ValidationError(field, f"must be an integer, got {value!r}")
    if low is not None and high is not None and not low <= v <= high:
        raise ValidationError(field, f"must be an integer in [{low}, {high}], got {value!r}")
    if low is not None and v < low:
        raise ValidationError(field, f"must be an integer >= {low}, got {value!r}")
    if high is not None and v > high:
        raise ValidationError(field, f"must be an integer <= {high}, got {value!r}")
    return v


def check_real(value, field: str, low: float | None = None, high: float | None = None,
               allow_inf: bool = False) -> float:
    """A finite real parameter in [low, high] (either bound optional), as a Python float.

    Not ``float(value)``, which would parse the string "0.5" and take True as 1.0. ``allow_inf``
    lets +-inf through (then checked against the bounds), for constants where inf has a meaning
    (no clipping, the uniform limit of a temperature); NaN is always refused.
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:  # np.array(0.5), as float() accepts it
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or math.isnan(value) or (
            not allow_inf and math.isinf(value)):
        raise ValidationError(field, f"must be a {'' if allow_inf else 'finite '}number, got {value!r}")
    v = float(value)
    if (low is not None and v < low) or (high is not None and v > high):
        rule = (f"in [{low:g}, {high:g}]" if low is not None and high is not None
                else f">= {low:g}" if low is not None else f"<= {high:g}")
        raise ValidationError(field, f"must be {rule}, got {value!r}")
    return v


def check_bool(value, field: str, allow_none: bool = False):
    """A True / False switch (numpy's bool too), or None when ``allow_none`` ("decide for me").

    Not ``bool(value)``: the strings "no" and "False" are truthy, so ``warn="no"`` would warn and
    ``higher_is_better="False"`` would rank the models upside down, silently. Integers are refused
    too (scikit-learn's "boolean" parameters take bool only).
    """
    if value is None and allow_none:
        return None
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if not isinstance(value, (bool, np.bool_)):
        raise ValidationError(field, f"must be True or False{' or None' if allow_none else ''}, got {value!r}")
    return bool(value)


def check_unit_ids(values, field: str = "unit_id", n: int | None = None, ref: str = "action") -> np.ndarray:
    """Unit (cluster) ids: 1-D, all integers or all strings, none missing. The one rule for every
    container and resampler, so the same ids give the same units (and the same hashed bootstrap
    weights) in memory and when streamed.

    Returns an integer array (int64, or uint64 for ids beyond int64) or a string array. Accepted:
    integer and string dtypes; object arrays (a pandas string / categorical / object column, or a
    list) whose elements are all integers or all strings; floats that are all whole numbers (what an
    integer column with nulls becomes in Parquet or pandas). Refused, with the first offending row:
    missing ids (None, NaN, pd.NA: they would silently form one unit), booleans, mixed integers and
    strings (``np.asarray([1, "1"])`` would make them one unit), non-integral or huge floats.
    """
    import pandas as pd

    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    uid = values if isinstance(values, np.ndarray) else np.asarray(list(values), dtype=object)
    if uid.ndim != 1:
        raise ValidationError(field, f"must be 1-D integers or strings, got shape {uid.shape}")
    if n is not None:
        check_length(uid, n, field, ref)
    if uid.dtype.kind == "O":
        raise_if_any(np.asarray(pd.isna(uid), bool), field, "must not be missing", uid)
        # pandas infers the elements' common type in one C pass; Python loops only to name a bad row
        inferred = pd.api.types.infer_dtype(uid, skipna=False)
        if inferred == "string":
            return uid.astype(str)
        if inferred == "integer":
            for dtype in (np.int64, np.uint64):  # uint64 for ids beyond int64 (64-bit hashes)
                try:
                    return np.asarray(uid.tolist(), dtype=dtype)
                except OverflowError:
                    pass
            raise ValidationError(field, "integer ids must fit in 64 bits (signed or unsigned)")
        if inferred not in ("floating", "mixed-integer-float"):
            is_str = np.fromiter((isinstance(v, str) for v in uid), bool, uid.size)
            is_num = np.fromiter((isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_)) for v in uid),
                                 bool, uid.size)
            ok = is_str if is_str.sum() >= is_num.sum() else is_num
            raise_if_any(~ok, field, "must be all integers or all strings (no boolean or mixed ids)", uid)
        uid = np.asarray(uid.tolist(), dtype=np.float64)  # integral floats are checked below
    kind = uid.dtype.kind
    if kind == "f":
        raise_if_any(np.isnan(uid), field, "must not be missing", uid)
        raise_if_any(~(np.abs(uid) < 2.0**63) | (uid != np.round(uid)), field,
                     "must be integers or strings (found a non-integral or out-of-range float)", uid)
        return uid.astype(np.int64)
    if kind not in "iuUS":
        raise ValidationError(field, f"must be 1-D integers or strings, got dtype {uid.dtype}")
    return uid


def _index_labels_differ(ref, idx) -> np.ndarray:
    """Boolean mask of the positions where two indexes of the same length hold different labels.

    Missing labels (NaN, NaT, None) match each other, as in ``Index.equals``. Numeric labels are
    compared as numbers (0 and 0.0 match); anything else as Python objects, so a string label never
    matches a number and no comparison raises across types."""
    import pandas as pd

    x, y = ref.to_numpy(), idx.to_numpy()
    na_x, na_y = np.asarray(pd.isna(x), bool), np.asarray(pd.isna(y), bool)
    both = ~na_x & ~na_y
    differ = na_x != na_y
    if x.dtype.kind in "iufb" and y.dtype.kind in "iufb" or (x.dtype == y.dtype and x.dtype.kind in "mM"):
        differ |= both & (x != y)
    else:  # object, string, categorical, tuples of a MultiIndex, datetimes of different kinds
        # a Python loop, but only on the error path (equals() said the indexes differ)
        differ[both] = [not _same_label(a, b) for a, b in zip(x.astype(object)[both], y.astype(object)[both])]
    return differ


def _plain_label(v):
    """A label as Python values, for the message: 11, not np.int64(11) (also inside a MultiIndex tuple)."""
    if isinstance(v, tuple):
        return tuple(_plain_label(u) for u in v)
    return v.item() if isinstance(v, np.generic) else v


def _same_label(a, b) -> bool:
    eq = a == b  # an array-like label, or pd.NA inside a tuple, gives no plain truth value: not the same
    return bool(eq) if isinstance(eq, (bool, np.bool_)) else False


def check_row_order(obj, field: str, n: int) -> None:
    """Refuse a pandas Series / DataFrame whose integer index is 0..n-1 in another order (a frame sorted or
    shuffled on its own): its rows are read by position, in the log's order. Other indexes (names, dates,
    other integers) cannot be checked and pass. Used for the OPE inputs read against a log's rows.

    Examples
    --------
    >>> import pandas as pd
    >>> check_row_order(pd.Series([1.0, 0.0, 1.0], index=[2, 0, 1]), "reward", 3)
    Traceback (most recent call last):
    ...
    workbench._validation.ValidationError: reward: is a Series whose index is 0..2 in another order (row 0 has label 2): rows are read by position, in the log's order. Sort it first: reward.sort_index()
    """
    import pandas as pd

    if not isinstance(obj, (pd.Series, pd.DataFrame)):
        return
    idx = obj.index
    if pd.api.types.is_integer_dtype(idx) and len(idx) == n and not idx.is_monotonic_increasing \
            and np.array_equal(np.sort(np.asarray(idx)), np.arange(n)):
        first = int(np.flatnonzero(np.asarray(idx) != np.arange(n))[0])
        kind = "DataFrame whose row index" if isinstance(obj, pd.DataFrame) else "Series whose index"
        raise ValidationError(field, f"is a {kind} is 0..{n - 1} in another order (row {first} has label "
                                     f"{idx[first]}): rows are read by position, in the log's order",
                              hint=f"sort it first: {field}.sort_index()")


def check_class_columns(frame, field: str, k: int, what: str = "class") -> None:
    """Refuse a DataFrame of per-class (per-action) values whose integer column labels are 0..k-1 in another
    order (``frame[[2, 0, 1]]``): its columns are read by position as classes 0..k-1, so the labels say that
    reading is wrong. Other column labels (names) cannot be checked and pass. ``what="action"`` gives the
    message of :func:`workbench.ope.evaluate` 's ``check_frame_layout``.

    Examples
    --------
    >>> import pandas as pd
    >>> check_class_columns(pd.DataFrame([[0.2, 0.5, 0.3]], columns=[2, 0, 1]), "probs", 3)
    Traceback (most recent call last):
    ...
    workbench._validation.ValidationError: probs: is a DataFrame whose columns are the classes 0..2 in another order (column 0 is class 2): columns are read by position as classes 0..2. Reorder them first: probs[list(range(3))]
    """
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        return
    cols = frame.columns
    if pd.api.types.is_integer_dtype(cols) and len(cols) == k and set(cols) == set(range(k)) \
            and list(cols) != list(range(k)):
        first = int(np.flatnonzero(np.asarray(cols) != np.arange(k))[0])
        whats = what + ("es" if what.endswith("s") else "s")
        raise ValidationError(field, f"is a DataFrame whose columns are the {whats} 0..{k - 1} in another order "
                                     f"(column {first} is {what} {cols[first]}): columns are read by position as "
                                     f"{whats} 0..{k - 1}", hint=f"reorder them first: {field}[list(range({k}))]")


def check_frame_layout(frame, field: str, n: int, k: int) -> None:
    """:func:`check_class_columns` then :func:`check_row_order`: a DataFrame of per-action (per-class) values
    read by position, its columns as actions 0..k-1 and its rows as the log's rows (OPE's targets and reward
    model predictions)."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        return
    check_class_columns(frame, field, k, "action")
    check_row_order(frame, field, n)


def check_same_index(named: Iterable[tuple[str, object]]) -> None:
    """Pandas Series / DataFrames given as separate per-row fields must carry the same index: the same
    labels in the same order.

    The containers read every field by position (``np.asarray``). A Series filtered or re-sorted on its
    own keeps its labels, not its positions, and its rows would be paired with other fields' rows,
    silently. Nothing is realigned (a reindex invents NaN rows or drops rows, and which field is the
    "right" order is the user's call): the first mismatch is refused, naming both fields, the number of
    positions whose labels differ, the first one and its two labels.

    ``named`` is ``(field, value)`` pairs, in the order the fields are documented; the first pandas
    value is the reference. Only pandas-vs-pandas pairs are compared: a numpy array or list has no
    labels and is read by position, as ever (so one Series among arrays is too). Labels are compared,
    not index types: ``RangeIndex(3)`` equals ``Index([0, 1, 2])``. Fields of different lengths are
    skipped: the containers' length checks refuse them with the row counts.

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.Series([0, 1, 1], index=[10, 11, 12])
    >>> check_same_index([("action", a), ("reward", pd.Series([1.0, 0.0, 1.0], index=[10, 12, 11]))])
    Traceback (most recent call last):
    ...
    workbench._validation.ValidationError: reward: index must equal the index of action (the same labels in the same order): pandas inputs are read by position, never realigned; 2 of 3 rows break the rule, first at row 1. At row 1 action has label 11 and reward label 12: align them first (e.g. reward.reindex(action.index)), or pass .to_numpy() to pair the rows by position
    >>> check_same_index([("action", a), ("reward", [1.0, 0.0, 1.0]), ("propensity", a.reset_index(drop=True) * 0 + 0.5)])
    Traceback (most recent call last):
    ...
    workbench._validation.ValidationError: propensity: index must equal the index of action (the same labels in the same order): pandas inputs are read by position, never realigned; 3 of 3 rows break the rule, first at row 0. At row 0 action has label 10 and propensity label 0: align them first (e.g. propensity.reindex(action.index)), or pass .to_numpy() to pair the rows by position
    """
    import pandas as pd

    ref_name = ref_idx = None
    for name, value in named:
        if not isinstance(value, (pd.Series, pd.DataFrame)):
            continue
        if ref_idx is None:
            ref_name, ref_idx = name, value.index
            continue
        idx = value.index
        # equals() is the vectorised fast path; the mask below decides (it also counts and locates)
        if len(idx) != len(ref_idx) or idx.equals(ref_idx):
            continue
        differ = _index_labels_differ(ref_idx, idx)
        if not differ.any():
            continue
        n_bad, first = _first_bad(differ)
        la, lb = _plain_label(ref_idx[first]), _plain_label(idx[first])
        raise ValidationError(name, f"index must equal the index of {ref_name} (the same labels in the same "
                              f"order): pandas inputs are read by position, never realigned", n_bad, first,
                              len(idx), hint=f"at row {first} {ref_name} has label {la!r} and {name} label {lb!r}: "
                              f"align them first (e.g. {name}.reindex({ref_name}.index)), or pass .to_numpy() "
                              f"to pair the rows by position")


def check_frame_columns(models, field: str, what: str = "a PredictionLog or an array") -> None:
    """Refuses a DataFrame given as the zoo, and per-model frames whose columns are in different orders.

    A table is 2-D: the zoo has a model axis. The likeliest one is a wide frame (a model column, a point
    column, one column per class), refused as "must be numeric, got an object array (mixed or missing
    values?)" for its model column, or as "must be 3-D" without saying how to get there.

    A list of per-model DataFrames (one column per class) is stacked by position, so every frame must
    hold the same classes in the same column order. Frames built from each model's own output (a service's
    JSON records, whose key order is the service's) can list the classes in different orders; stacked,
    a model's probability of one class was read as another's, silently. Refused, naming the first model
    that differs and its first column; nothing is reordered (which frame is "right" is the caller's call).
    A frame whose integer column labels are the classes 0..k-1 in another order (``f[[2, 0, 1]]``) is
    refused too (:func:`check_class_columns`), also when every frame has that order."""
    import pandas as pd

    if isinstance(models, pd.DataFrame):
        raise ValidationError(field, f"must be {what} (n_models, n_points, n_classes), got a "
                                     f"DataFrame of shape {models.shape}",
                              hint="stack one (n_points, n_classes) block per model, e.g. from a wide frame: "
                                   "np.stack([g[classes].to_numpy() for _, g in frame.groupby('model', "
                                   "sort=False)]), each model's rows in the same point order")
    if not isinstance(models, (list, tuple)):
        return
    frames = [(j, f) for j, f in enumerate(models) if isinstance(f, pd.DataFrame)]
    # each frame's columns are read by position as classes 0..k-1: integer labels that are those classes in
    # another order (f[[2, 0, 1]]) say the reading is wrong, also when every frame has the same order
    for j, f in frames:
        check_class_columns(f, f"{field}[{j}]", f.shape[1])
    if len(frames) < 2:
        return
    j0, ref = frames[0]
    for j, f in frames[1:]:
        if f.columns.equals(ref.columns):
            continue
        if len(f.columns) != len(ref.columns):
            continue  # the shape check of the stacked array refuses it, with both shapes
        differ = np.asarray(f.columns != ref.columns)
        k = int(np.flatnonzero(differ)[0])
        # counted in columns, not rows (ValidationError's count / first speak of rows)
        raise ValidationError(field, f"DataFrame {j} must have the columns (classes) of DataFrame {j0} in the same "
                                     f"order: they are stacked by position, never realigned; {int(differ.sum())} of "
                                     f"{len(differ)} columns differ, first column {k}: {f.columns[k]!r} in DataFrame "
                                     f"{j}, {ref.columns[k]!r} in DataFrame {j0}",
                              hint="reorder each frame first, e.g. [f[classes] for f in frames]")
    # and the same points in the same row order: rows are stacked by position too (a frame sorted on its own
    # paired one model's point with another model's, silently)
    check_same_index([(f"{field}[{j}]", f) for j, f in frames])


def first_frame(models, field: str):
    """``(name, frame)`` of the first pandas object in a list / tuple of per-model frames (its row index stands
    for the points', as :func:`check_frame_columns` holds the frames to one index), or None. Per-point fields
    given as pandas objects (labels, features) are checked against it with :func:`check_same_index`: the
    stacked frames are read by position, so a label Series sorted on its own was paired with other points."""
    import pandas as pd

    if isinstance(models, (list, tuple)):
        for j, f in enumerate(models):
            if isinstance(f, (pd.DataFrame, pd.Series)):
                return f"{field}[{j}]", f
    return None


# What to do with labels given as class names: the columns of probs are classes 0 .. n_classes - 1.
NAMES_HINT = ("map each name to its column of probs, e.g. pd.Categorical(labels, categories=<the probability "
              "columns' class names>).codes (sklearn's classes_ order for predict_proba); a name that is not "
              "among the categories becomes -1 and is refused as unlabelled")


def refuse_class_names(source, field: str) -> None:
    """Refuse class labels given as class names (strings) where class indices (columns of probs) are meant.

    Names are the likeliest wrong labels: a pandas Series of them became an object array, refused as "mixed
    or missing values?", and a numpy one only by its dtype. Says what is wrong and how to map names to the
    probability columns, with the count and the first name. Anything else passes (checked by the caller)."""
    import pandas as pd

    # a list as objects: np.asarray([1, "a"]) would make the 1 a string too
    raw = (np.asarray(source, dtype=object) if isinstance(source, (list, tuple)) else np.asarray(source)
           if isinstance(source, (np.ndarray, pd.Series, pd.Index, pd.api.extensions.ExtensionArray)) else None)
    if raw is not None and raw.ndim == 1 and raw.dtype.kind in "OUS":
        names = np.array([isinstance(v, (str, bytes)) for v in raw.tolist()], bool)
        raise_if_any(names, field, "must hold class indices (positions of the probability columns), not "
                                   "class names", raw, hint=NAMES_HINT)
