"""Validated, immutable containers: :class:`BanditLog` and :class:`PredictionLog`."""
from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from .._random import check_random_state
from .._validation import (SUM_TOL, ValidationError, as_array, check_bool, check_choice, check_class_columns,
                           check_columns, check_distribution, check_finite, check_frame_columns, check_int, check_integer_in_range,
                           check_length, check_probability, check_real, check_same_index, check_unit_ids,
                           first_frame, raise_if_any, readonly, refuse_class_names)
from ..results import frame_to_html

# Relative tolerance of propensity against behavior_dist at the logged action.
_PROPENSITY_RTOL = 1e-5
# Column names to_frame gives the log's own fields: a context column of the same name would overwrite one.
RESERVED_NAMES = ("action", "reward", "propensity", "position", "timestamp", "unit_id")
# BanditLog's fields with one row per round, in the documented order (the first pandas one is the
# reference index of check_same_index).
_PER_ROUND = ("action", "reward", "propensity", "context", "position", "behavior_dist", "timestamp", "unit_id")


def _mean_no_overflow(x) -> float:
    """The mean of a finite array for a summary, computed on values divided by a power of two.

    A plain mean of rewards near 1e308 sums to inf (with numpy's overflow warning) although the mean
    itself is representable: reprs showed "reward mean inf". Dividing and multiplying by 2**e is exact,
    so ordinary data give the plain mean bit for bit.
    """
    from .._engine import pow2_exponent  # here, not at import: only summaries and reprs need it

    x = np.asarray(x, dtype=np.float64)
    if not x.size:
        return float("nan")
    e = int(pow2_exponent(np.max(np.abs(x))))  # 0 for all zeros or a non-finite value: the plain mean
    return float(np.ldexp(np.mean(np.ldexp(x, -e)), e))


def _check_row_counts(lengths: dict) -> None:
    """Every per-round field has the rows of ``action`` (the first entry), and when they do not, the field that
    is out of line is named: ``action`` itself when more of the other fields agree on another count (an action
    column one row short blamed the reward, "got 4 rows, expected 3"), else the first field that differs from
    it, as :func:`check_length` words it."""
    n = lengths["action"]
    if all(v == n for v in lengths.values()):
        return
    counts = pd.Series(list(lengths.values())).value_counts(sort=False)
    top = int(counts.idxmax())  # the most common count; on a tie, the first met (action's, if tied)
    if top != n and counts[top] > counts.get(n, 0):
        agree = [k for k, v in lengths.items() if v == top]
        raise ValidationError("action", f"must have one row per round like {' and '.join(agree[:3])}"
                                        f"{' ...' if len(agree) > 3 else ''}: got {n} rows, they have {top}")
    for name, m in lengths.items():
        if m != n:
            raise ValidationError(name, f"must have one row per action row: got {m} rows, expected {n}")


def _check_index(x, field: str, low: int, high: int | None) -> np.ndarray:
    """check_integer_in_range on a numeric (not complex, not string) array."""
    return check_integer_in_range(as_array(x, field, ndim=1), field, low, high)


def _series_values(frame: pd.DataFrame, name: str, field: str | None = None) -> np.ndarray:
    """Column values as numpy, read as the streamed path reads them (:func:`workbench.scale.sources.column_array`:
    pandas' nullable dtypes become float with NaN, then rejected by the checks).

    With ``field`` (a numeric field of the log), a column that holds text (or other non-numbers) is refused
    here with the streamed path's rule: the column, its dtype, how many rows hold no number and the first.
    The container's generic check said only "got an object array (mixed or missing values?)", no row."""
    from ..scale.sources import _WholeColumn, column_array, column_values  # here, not at import: scale.ope imports data.logs

    if field is None:
        return column_array(frame[name])
    try:
        return column_values(frame, name, field)
    except _WholeColumn as exc:  # every value a number, the dtype not (object): the streamed type is internal
        raise ValidationError(exc.field, exc.rule, hint=exc.hint) from None


def _unmasked(x, field: str):
    """``x`` without its mask, for a field that is not read with :func:`as_array` (timestamps, unit ids, the
    ``labelled`` flags are not all numbers): a masked entry is refused by as_array's rule, by row.

    np.asarray drops the mask, and the placeholder under it was used as a time, a unit or a flag, silently."""
    if not isinstance(x, np.ma.MaskedArray):
        return x
    if np.ma.getmaskarray(x).any():
        as_array(x, field)  # raises: how many rows are masked, the first one
    return np.ma.getdata(x)  # not as_array's result: it would refuse an object array of datetimes


def _nullable_bool(x):
    """A pandas nullable boolean field (Series, Index or array) as ``from_frame`` reads the same column
    (:func:`workbench.scale.sources.column_array`): bool when nothing is missing, else float with NaN at the
    missing rows, which the field's own check then names by row ("must be finite ... first at row 1").

    np.asarray made it an object array of True / False / <NA>, refused as "not a real number" at every row
    (the booleans counted too), first at row 0. Other dtypes are returned as given."""
    dtype = getattr(x, "dtype", None)
    if not (isinstance(x, (pd.Series, pd.Index, pd.api.extensions.ExtensionArray))
            and isinstance(dtype, pd.api.extensions.ExtensionDtype) and pd.api.types.is_bool_dtype(dtype)):
        return x
    from ..scale.sources import column_array  # here, not at import: scale.ope imports data.logs

    return column_array(pd.Series(x, copy=False))


def _utc_naive(ts) -> np.ndarray:
    """Timestamps as numpy; time-zone-aware pandas values become naive UTC (the same instants), as
    ``from_frame`` stores them (numpy has no time-zone-aware datetime64).

    An object array (or list) of datetime objects (what ``Series.to_numpy()`` gives for a
    time-zone-aware column) is read as the Series itself would be; text is never parsed."""
    ts = _unmasked(ts, "timestamp")
    dtype = getattr(ts, "dtype", None)
    if isinstance(dtype, pd.DatetimeTZDtype):
        return pd.DatetimeIndex(ts).tz_convert(None).to_numpy()
    arr = np.asarray(ts)
    if arr.dtype == object and arr.ndim == 1 and arr.size and pd.api.types.infer_dtype(arr, skipna=True) in (
            "datetime", "datetime64"):
        try:
            idx = pd.DatetimeIndex(arr)
        except (TypeError, ValueError) as exc:  # several time zones, or aware and naive values mixed
            aware = [getattr(v, "tzinfo", None) is not None for v in arr if not pd.isna(v)]
            if not all(aware):
                raise ValidationError("timestamp", f"must be datetimes of one kind (all naive or all "
                                      f"time-zone-aware) ({exc})") from None
            idx = pd.to_datetime(arr, utc=True)  # every value is an instant: several zones are fine
        return (idx.tz_convert(None) if idx.tz is not None else idx).to_numpy()
    return arr


def _index_rows(idx, n: int, empty: str | None = None) -> np.ndarray:
    """Normalise an int, slice, integer array or boolean mask to an array of row numbers.

    ``empty``, when given, is the rule (field ``index``) that refuses a selection of no row: a container
    whose values are means over its rows (a truth, a routing log) would otherwise be returned empty with
    NaN values, silently."""
    rows = _selected_rows(idx, n)
    if empty is not None and rows.size == 0:
        raise ValidationError("index", empty)
    return rows


def _selected_rows(idx, n: int) -> np.ndarray:
    if isinstance(idx, slice):
        return np.arange(n)[idx]
    arr = np.asarray(idx)
    if arr.size == 0 and arr.dtype.kind in "fO":  # [] is a float array: it selects no rows, say so downstream
        return np.zeros(0, dtype=np.int64)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise ValidationError("index", f"a boolean mask must have shape ({n},), got {arr.shape}")
        return np.flatnonzero(arr)
    if arr.ndim == 0:
        arr = arr[None]
    if not np.issubdtype(arr.dtype, np.integer):
        raise ValidationError("index", f"must be integers, a slice or a boolean mask, got dtype {arr.dtype}")
    if arr.ndim != 1:  # a 2-D index gave the truth containers 3-D arrays, refused later under another name
        raise ValidationError("index", f"must be 1-D row numbers, got shape {arr.shape}")
    raise_if_any((arr < -n) | (arr >= n), "index", f"must be in [-{n}, {n})", arr)
    return np.where(arr < 0, arr + n, arr)


@dataclass(frozen=True, eq=False, repr=False)
class BanditLog:
    """Logged bandit feedback: one row per round (context, action, reward, propensity).

    Parameters
    ----------
    action : array of int, shape (n,)
        Logged action, in ``[0, n_actions)``.
    reward : array of float, shape (n,)
        Observed reward; must be finite.
    propensity : array of float, shape (n,)
        Probability with which the logging (behaviour) policy chose the logged action (at the logged
        position when there are slots); must be in (0, 1].
    n_actions : int, optional
        Number of actions. Default: ``action_context.shape[0]`` if given, else ``max(action) + 1``.
    context : array, shape (n, d), optional
        Context (features) of each round.
    position : array of int, shape (n,), optional
        Slot in which the action was shown, in ``[0, n_positions)``.
    n_positions : int, optional
        Number of slots. Default: ``behavior_dist.shape[2]`` if 3-D, else ``max(position) + 1``.
    action_context : array, shape (n_actions, d_a), optional
        Features (embeddings) of each action.
    behavior_dist : array, shape (n, n_actions) or (n, n_actions, n_positions), optional
        The logging policy's full action distribution per row (summing to 1 over actions, per
        position). When given, ``propensity`` must equal it at the logged action (and position),
        within a relative tolerance of 1e-5 (and it must not be 0 there).
    timestamp : array, shape (n,), optional
        Time of each round (datetime64 or numbers); used by ``split(by="time")``. Time-zone-aware
        values (a pandas column, or its ``to_numpy()`` of datetime objects) are stored as naive UTC.
    unit_id : array, shape (n,), optional
        Unit (user, session) of each row; the hashed bootstrap resamples units, not rows.
    context_names : sequence of str, optional
        Names of the context columns (kept by ``from_frame`` and ``to_frame``); distinct, and none
        of ``RESERVED_NAMES`` (the columns ``to_frame`` gives the log's own fields).

    Every rule violation raises :class:`workbench.ValidationError` (a ``ValueError``) naming the field,
    the rule, the number of rows that break it and the first one. A log has at least one row.
    Arrays are copied and made read-only: a log cannot change after validation. Fields are read by
    position, never aligned on labels: pandas Series / DataFrames given for two or more of the per-row
    fields must have equal indexes (the same labels in the same order; a RangeIndex equals the same
    integers), or a ``ValidationError`` names both fields and the first row where the labels differ.
    An array or list among them is read by position, as always (and so is a pandas field beside it,
    whatever its index: a frame sorted as a whole with arrays computed from it is paired correctly). When
    the row counts differ, the field out of line is named (``action`` itself when more of the other fields
    agree on another count).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import BanditLog
    >>> log = BanditLog(action=[0, 1, 1], reward=[1.0, 0.0, 1.0], propensity=[0.5, 0.5, 0.5], n_actions=2)
    >>> log
    BanditLog(3 rows, 2 actions, reward mean 0.6667, propensity [0.5, 0.5])
    >>> BanditLog(action=[0, 1], reward=[1.0, 0.0], propensity=[0.5, 0.0], n_actions=2)
    Traceback (most recent call last):
    ...
    workbench._validation.ValidationError: propensity: must be in (0, 1]; 1 of 2 rows breaks the rule, first at row 1 (value 0.0). A propensity of 0 means the logged action could not have been taken
    """

    action: np.ndarray
    reward: np.ndarray
    propensity: np.ndarray
    n_actions: int | None = None
    context: np.ndarray | None = None
    position: np.ndarray | None = None
    n_positions: int | None = None
    action_context: np.ndarray | None = None
    behavior_dist: np.ndarray | None = None
    timestamp: np.ndarray | None = None
    unit_id: np.ndarray | None = None
    context_names: tuple | None = None

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        # Before any conversion drops the labels: pandas fields whose indexes differ would be paired by
        # position, wrongly (action_context has one row per action, not per round: not compared).
        check_same_index((name, getattr(self, name)) for name in _PER_ROUND)
        for name in ("action", "reward", "propensity", "position"):  # (not context: a Series' name is its name)
            set_(name, _nullable_bool(getattr(self, name)))  # a missing value named by row, as from_frame does
        action = as_array(self.action, "action", ndim=1)
        n = action.shape[0]
        if n == 0:
            # No estimator is defined on zero rows; fail here rather than deep inside numpy later.
            raise ValidationError("action", "must have at least one row (the log is empty)")
        lengths = {"action": n}
        for name in ("reward", "propensity", "position", "timestamp", "unit_id", "context", "behavior_dist"):
            val = getattr(self, name)
            if val is not None:
                arr = np.asarray(val)
                if arr.ndim == 0:
                    raise ValidationError(name, f"must be an array with one row per round, got a scalar")
                lengths[name] = arr.shape[0]
        _check_row_counts(lengths)
        action_context = None
        if self.action_context is not None:
            action_context = check_finite(as_array(self.action_context, "action_context", ndim=2), "action_context")
        behavior_dist = None
        if self.behavior_dist is not None:
            behavior_dist = as_array(self.behavior_dist, "behavior_dist", ndim=(2, 3))
        n_actions = self.n_actions
        if n_actions is None:
            if action_context is not None:
                n_actions = action_context.shape[0]
            elif behavior_dist is not None:
                n_actions = behavior_dist.shape[1]
            else:
                n_actions = int(_check_index(action, "action", 0, None).max()) + 1
        n_actions = check_int(n_actions, "n_actions", low=1)
        set_("n_actions", n_actions)
        # a behavior_dist frame's integer columns that are the actions in another order: read by position, swapped
        check_class_columns(self.behavior_dist, "behavior_dist", n_actions, what="action")
        set_("action", readonly(_check_index(action, "action", 0, n_actions)))
        set_("reward", readonly(check_finite(as_array(self.reward, "reward", ndim=1), "reward")))
        set_("propensity", readonly(check_probability(as_array(self.propensity, "propensity", ndim=1), "propensity")))
        if action_context is not None and action_context.shape[0] != n_actions:
            raise ValidationError("action_context", f"must have one row per action ({n_actions}), "
                                  f"got {action_context.shape[0]}")
        set_("action_context", readonly(action_context))

        n_positions = None if self.n_positions is None else check_int(self.n_positions, "n_positions", low=1)
        if behavior_dist is not None and behavior_dist.ndim == 3:
            if n_positions is not None and n_positions != behavior_dist.shape[2]:
                raise ValidationError("n_positions", f"is {n_positions} but behavior_dist has "
                                      f"{behavior_dist.shape[2]} positions")
            n_positions = behavior_dist.shape[2]
        if self.position is not None:
            pos = self.position
            if n_positions is None:
                n_positions = int(_check_index(pos, "position", 0, None).max()) + 1
            set_("position", readonly(_check_index(pos, "position", 0, int(n_positions))))
            set_("n_positions", int(n_positions))
        elif n_positions is not None and n_positions != 1:
            raise ValidationError("position", f"must be given when n_positions={n_positions}")
        else:
            set_("n_positions", None)

        if self.context is not None:
            if self.context_names is None and isinstance(self.context, (pd.DataFrame, pd.Series)):
                # a frame's column names (a Series': its name) are the context names, as in from_frame;
                # they were dropped and the columns came back as x0, x1, ... in to_frame
                cols = [self.context.name] if isinstance(self.context, pd.Series) else list(self.context.columns)
                if all(c is not None for c in cols):
                    set_("context_names", tuple(map(str, cols)))
            ctx = as_array(self.context, "context", ndim=(1, 2))
            ctx = ctx[:, None] if ctx.ndim == 1 else ctx
            set_("context", readonly(check_finite(ctx, "context")))
            if self.context_names is not None:
                # A string is one name (tuple("ab") would silently be two columns "a" and "b").
                if not isinstance(self.context_names, str) and not hasattr(self.context_names, "__iter__"):
                    # context_names=5 was "TypeError: 'int' object is not iterable"
                    raise ValidationError("context_names", f"must be a sequence of {ctx.shape[1]} names, got "
                                                           f"{self.context_names!r}")
                names = (self.context_names,) if isinstance(self.context_names, str) else tuple(self.context_names)
                if len(names) != ctx.shape[1]:
                    raise ValidationError("context_names", f"must name {ctx.shape[1]} columns, got {len(names)}")
                # to_frame puts the context next to the log's own columns, keyed by name: a repeated or
                # reserved name would silently overwrite a column.
                seen = set()
                for name in map(str, names):
                    if name in RESERVED_NAMES:
                        raise ValidationError("context_names", f"must not use the reserved column names "
                                              f"{list(RESERVED_NAMES)}, got {name!r}")
                    if name in seen:
                        raise ValidationError("context_names", f"must be distinct; {name!r} appears more than once")
                    seen.add(name)
                set_("context_names", names)
        elif self.context_names is not None:
            raise ValidationError("context_names", "given without a context")

        if behavior_dist is not None:
            if behavior_dist.shape[1] != n_actions:
                raise ValidationError("behavior_dist", f"must have {n_actions} actions on axis 1, got "
                                      f"{behavior_dist.shape[1]}")
            if behavior_dist.ndim == 3 and self.position is None:
                raise ValidationError("behavior_dist", "is 3-D (with positions) but no position was given")
            behavior_dist = check_distribution(behavior_dist, "behavior_dist", axis=1)
            rows = np.arange(n)
            at = (behavior_dist[rows, self.action] if behavior_dist.ndim == 2
                  else behavior_dist[rows, self.action, self.position])
            raise_if_any(at <= 0, "propensity", "must match behavior_dist, which gives the logged action (and "
                         "position) probability 0: the logger could not have taken it", self.propensity)
            # Relative tolerance only: with many actions every probability is tiny (1e-5 at 100,000 actions)
            # and an absolute one would accept a propensity that is off by a factor of 2 (an absolute slack of
            # 1e-12 accepted 5e-13 for 1e-13). ``at`` is > 0 here (checked above), so the bound is never 0.
            raise_if_any(np.abs(at - self.propensity) > _PROPENSITY_RTOL * at, "propensity",
                         f"must equal behavior_dist at the logged action (and position) within relative "
                         f"tolerance {_PROPENSITY_RTOL:g}", self.propensity)
            set_("behavior_dist", readonly(behavior_dist))
        if self.timestamp is not None:
            ts = _utc_naive(self.timestamp)
            if ts.ndim != 1:
                raise ValidationError("timestamp", f"must be 1-D, got shape {ts.shape}")
            if ts.dtype.kind not in "iufM":
                raise ValidationError("timestamp", f"must be datetime64 or numeric, got dtype {ts.dtype}")
            raise_if_any(np.isnat(ts) if ts.dtype.kind == "M" else ~np.isfinite(ts.astype(float)),
                         "timestamp", "must not be missing", ts)
            set_("timestamp", readonly(ts))
        if self.unit_id is not None:
            # check_unit_ids reads the ids with np.asarray, which drops a mask: refused here, by row
            set_("unit_id", readonly(check_unit_ids(_unmasked(self.unit_id, "unit_id"), "unit_id", len(self.action))))

    # -- shape -----------------------------------------------------------------------------
    def __len__(self) -> int:
        """Number of logged rounds (rows)."""
        return int(self.action.shape[0])

    @property
    def n_rounds(self) -> int:
        """Number of logged rounds (rows), the same as ``len(log)``."""
        return len(self)

    @property
    def dim_context(self) -> int:
        """Number of context columns (0 when the log has no context)."""
        return 0 if self.context is None else int(self.context.shape[1])

    # -- construction from and to tables ----------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, action: str = "action", reward: str = "reward",
                   propensity: str = "propensity", context: Sequence[str] | None = None, position: str | None = None,
                   timestamp: str | None = None, unit_id: str | None = None, n_actions: int | None = None,
                   n_positions: int | None = None, action_context=None, behavior_dist=None) -> "BanditLog":
        """Build a log from a DataFrame, naming the columns that hold each field.

        Examples
        --------
        >>> import pandas as pd
        >>> from workbench.data import BanditLog
        >>> df = pd.DataFrame({"a": [0, 1], "r": [1.0, 0.0], "p": [0.5, 0.5], "x": [0.1, 0.2]})
        >>> BanditLog.from_frame(df, action="a", reward="r", propensity="p", context=["x"], n_actions=2)
        BanditLog(2 rows, 2 actions, reward mean 0.5, propensity [0.5, 0.5], context 1 dims)
        """
        if not isinstance(frame, pd.DataFrame):
            raise ValidationError("frame", f"must be a pandas DataFrame, got {type(frame).__name__}")
        if isinstance(context, str):
            context = [context]
        elif context is not None:  # a pandas Index or an array of names: ``context or []`` would raise
            context = [c.item() if isinstance(c, np.generic) else c for c in context]  # np.str_ -> str
        # "is not None", not truthiness: a column named 0 (a headerless CSV) was skipped silently
        names = [action, reward, propensity] + list(context or []) + [c for c in (position, timestamp, unit_id)
                                                                       if c is not None]
        check_columns(frame, names)
        repeated = sorted({str(c) for c in names if np.count_nonzero(frame.columns == c) > 1})
        if repeated:  # frame[name] would be a frame of several columns, not one column
            raise ValidationError("frame", f"column names must be unique; {repeated} name several columns")
        ctx = None
        if context:
            bad = [c for c in context if not pd.api.types.is_numeric_dtype(frame[c])]
            if bad:
                raise ValidationError("context", f"columns must be numeric; encode {bad} first (e.g. pandas.get_dummies)")
            # complex is "numeric" to pandas: the float conversion below dropped the imaginary part with
            # only numpy's ComplexWarning (BanditLog refuses a complex context array by name)
            bad = [c for c in context if pd.api.types.is_complex_dtype(frame[c])]
            if bad:
                raise ValidationError("context", f"columns must be real numbers; {bad} are complex")
            ctx = np.column_stack([_series_values(frame, c) for c in context]).astype(float)
        ts = None
        if timestamp is not None:
            ts = _utc_naive(frame[timestamp])
        return cls(action=_series_values(frame, action, "action"), reward=_series_values(frame, reward, "reward"),
                   propensity=_series_values(frame, propensity, "propensity"), n_actions=n_actions, context=ctx,
                   position=None if position is None else _series_values(frame, position, "position"),
                   n_positions=n_positions,
                   action_context=action_context, behavior_dist=behavior_dist, timestamp=ts,
                   unit_id=None if unit_id is None else frame[unit_id].to_numpy(),
                   context_names=tuple(context) if context else None)

    def to_frame(self) -> pd.DataFrame:
        """A tidy frame: action, reward, propensity, then position / timestamp / unit_id / context columns.

        The context columns are named by ``context_names`` (default ``x0, x1, ...``). ``n_actions``,
        ``n_positions``, ``action_context`` and ``behavior_dist`` are not columns: to rebuild the same
        log, pass them to :meth:`from_frame` with the column names (otherwise ``from_frame`` takes
        ``max(action) + 1`` actions and ``max(position) + 1`` positions).

        Examples
        --------
        >>> from workbench.data import BanditLog, simulate_bandit
        >>> log, _ = simulate_bandit(50, n_actions=4, dim_context=2, random_state=0)
        >>> frame = log.to_frame()
        >>> list(frame.columns)
        ['action', 'reward', 'propensity', 'x0', 'x1']
        >>> again = BanditLog.from_frame(frame, context=["x0", "x1"], n_actions=log.n_actions,
        ...                              behavior_dist=log.behavior_dist)
        >>> bool((again.context == log.context).all() and (again.action == log.action).all())
        True
        """
        cols = {"action": self.action, "reward": self.reward, "propensity": self.propensity}
        for name in ("position", "timestamp", "unit_id"):
            if getattr(self, name) is not None:
                cols[name] = getattr(self, name)
        if self.context is not None:
            names = self.context_names or tuple(f"x{j}" for j in range(self.dim_context))
            cols.update({c: self.context[:, j] for j, c in enumerate(names)})
        return pd.DataFrame(cols)

    # -- subsetting ------------------------------------------------------------------------
    def subset(self, idx) -> "BanditLog":
        """The rows selected by an integer array, a slice or a boolean mask (in that order)."""
        rows = _index_rows(idx, len(self))
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _PER_ROUND:
            if kw[name] is not None:
                kw[name] = kw[name][rows]
        return BanditLog(**kw)

    def __getitem__(self, idx) -> "BanditLog":
        return self.subset(idx)

    def split(self, test_size: float = 0.5, by: str = "random", random_state=None, return_indices: bool = False):
        """Split into (first, second) logs.

        ``by="random"`` shuffles rows with ``random_state``; ``by="time"`` puts the earliest
        ``1 - test_size`` share of rows (by ``timestamp``) first, the latest second. Rows of a random
        split keep the log's order; rows of a time split are in time order (ties in the log's order).

        A log with ``unit_id`` is split at random **by unit**: all rows of a unit go to the same side,
        so a model fitted on one side never meets the other side's users (a row split put one user's
        rows on both sides: train on one half, evaluate on the other, and the user leaks). The
        units are shuffled with ``random_state`` and the second side takes units from the end of the
        shuffled order while that brings its row count closer to ``round(n * test_size)``; the row
        share is then off by at most half the rows of the unit at the cut (more only when one unit
        holds over half the rows: each side keeps at least one unit). Which units go where depends on
        the set of ids, not on the rows' order. A log of one unit cannot be split this way. A time
        split ignores ``unit_id``: a unit seen early and late is on both sides, as time orders them.
        A log without ``unit_id`` is split by rows, as before.

        ``return_indices=True`` also returns the row numbers of each side, ``(first, second,
        first_rows, second_rows)`` (``first == log.subset(first_rows)``), so that a simulator's truth
        can follow the split: ``truth.subset(second_rows)``.

        Examples
        --------
        >>> import numpy as np
        >>> from workbench.data import BanditLog, simulate_bandit
        >>> log, truth = simulate_bandit(1000, n_actions=3, random_state=0)
        >>> users = np.repeat(np.arange(100), 10)   # 100 users of 10 rows each
        >>> log = BanditLog(action=log.action, reward=log.reward, propensity=log.propensity,
        ...                 n_actions=3, behavior_dist=log.behavior_dist, unit_id=users)
        >>> train, test, train_rows, test_rows = log.split(0.3, random_state=0, return_indices=True)
        >>> len(train), len(test), bool(np.intersect1d(train.unit_id, test.unit_id).size == 0)
        (700, 300, True)
        >>> len(truth.subset(test_rows)) == len(test)
        True
        """
        check_choice(by, "by", ("random", "time"))
        test_size = check_real(test_size, "test_size")
        return_indices = check_bool(return_indices, "return_indices")
        if not 0 < test_size < 1:
            raise ValidationError("test_size", f"must be in (0, 1), got {test_size}")
        n = len(self)
        n_test = int(round(n * test_size))
        if n_test == 0 or n_test == n:
            raise ValidationError("test_size", f"{test_size} of {n} rows leaves one side empty")
        if by == "random" and self.unit_id is not None:
            first, second = self._unit_split(n_test, check_random_state(random_state))
        elif by == "random":
            order = check_random_state(random_state).permutation(n)
            first, second = np.sort(order[: n - n_test]), np.sort(order[n - n_test:])
        else:
            if self.timestamp is None:
                raise ValidationError("timestamp", "is needed to split by time")
            order = np.argsort(self.timestamp, kind="stable")
            first, second = order[: n - n_test], order[n - n_test:]
        if return_indices:
            return self.subset(first), self.subset(second), first, second
        return self.subset(first), self.subset(second)

    def _unit_split(self, n_test: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Row numbers (sorted) of the two sides of a random split that keeps each unit on one side."""
        # np.unique sorts the ids: the assignment depends on the set of ids and the seed, not on row order
        _, inverse, counts = np.unique(self.unit_id, return_inverse=True, return_counts=True)
        n_units = counts.size
        if n_units < 2:
            raise ValidationError("unit_id", f"a random split keeps each unit on one side and needs at least 2 "
                                  f"units; the {len(self)} rows are all one unit",
                                  hint="split by time, or build the log without unit_id to split its rows")
        perm = rng.permutation(n_units)
        # rows on the second side when it takes the last k units of the shuffled order, k = 1 .. n_units - 1
        # (k = n_units would leave the first side empty); the cut nearest the asked row count wins
        taken = np.cumsum(counts[perm[::-1]])[: n_units - 1]
        k = 1 + int(np.argmin(np.abs(taken - n_test)))
        in_second = np.zeros(n_units, dtype=bool)
        in_second[perm[n_units - k:]] = True
        side = in_second[inverse.ravel()]  # ravel: numpy 2.0 gave inverse the ids' shape, 2.1 1-D again
        return np.flatnonzero(~side), np.flatnonzero(side)

    # -- display ---------------------------------------------------------------------------
    def summary(self) -> dict:
        """A dict of the log's headline facts: rows, actions, positions (if any), the reward's mean, the
        propensity range and the context's width (if any)."""
        out = {"rows": len(self), "actions": self.n_actions}
        if self.n_positions is not None:
            out["positions"] = self.n_positions
        if len(self):
            out["reward mean"] = _mean_no_overflow(self.reward)
            out["propensity min"] = float(self.propensity.min())
            out["propensity max"] = float(self.propensity.max())
        if self.context is not None:
            out["context dims"] = self.dim_context
        return out

    def __repr__(self) -> str:
        s = f"BanditLog({len(self):,} rows, {self.n_actions} actions"
        if self.n_positions is not None:
            s += f", {self.n_positions} positions"
        if len(self):
            s += (f", reward mean {_mean_no_overflow(self.reward):.4g}, propensity "
                  f"[{self.propensity.min():.4g}, {self.propensity.max():.4g}]")
        if self.context is not None:
            s += f", context {self.dim_context} dims"
        return s + ")"

    def _repr_html_(self) -> str:
        return frame_to_html(pd.DataFrame([self.summary()]), caption="BanditLog")


_LOSSES = ("zero_one", "cross_entropy", "squared", "absolute")
# The arrays PredictionLog.save writes.
_SAVED_FIELDS = {"model_names", "labelled", "probs", "predictions", "labels", "features", "timestamp"}


@dataclass(frozen=True, eq=False, repr=False)
class PredictionLog:
    """Logged outputs of several candidate models on one shared pool of points.

    Parameters
    ----------
    probs : array, shape (n_models, n_points, n_classes), optional
        Predicted class probabilities (classification); each row sums to 1 within 1e-6.
    predictions : array, shape (n_models, n_points), optional
        Point predictions (regression). Exactly one of ``probs`` and ``predictions`` is given.
    model_names : sequence of str, optional
        Unique names, default ``model_0 ...``.
    labels : array, shape (n_points,), optional
        True labels; only entries where ``labelled`` is True are read.
    labelled : bool array, shape (n_points,), optional
        Which points are labelled. Default: all when ``labels`` is given. Passing labels with
        missing markers (NaN, or -1 for classes) and no mask is an error, never a silent guess.
    features : array, shape (n_points, d), optional
        Features of the pool points (for surrogates that are refitted on acquired labels).
    timestamp : array, shape (n_points,), optional
        When each point was observed (datetime64 or numbers), for temporal validation.

    For classification, ``labels[~labelled]`` is stored as -1. The per-point fields are read by position:
    pandas ones among ``labels``, ``labelled``, ``features`` and ``timestamp`` must have equal indexes
    (the same labels in the same order), as in :class:`BanditLog`.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import PredictionLog
    >>> probs = np.random.default_rng(0).dirichlet(np.ones(3), size=(4, 20))
    >>> PredictionLog(probs)
    PredictionLog(4 models, 20 points, 3 classes, 0 labelled)
    """

    probs: np.ndarray | None = None
    predictions: np.ndarray | None = None
    model_names: tuple | None = None
    labels: np.ndarray | None = None
    labelled: np.ndarray | None = None
    features: np.ndarray | None = None
    timestamp: np.ndarray | None = None

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731
        # The per-point fields, before conversion drops their labels (probs / predictions have the models
        # on their first axis: a frame of predictions has a model index, not a point index).
        # per-model frames' rows are the points too: the first one's index is the reference (check_frame_columns
        # below holds the frames to one index)
        frame = first_frame(self.probs, "probs") or first_frame(self.predictions, "predictions")
        check_same_index(([frame] if frame else [])
                         + [(name, getattr(self, name)) for name in ("labels", "labelled", "features", "timestamp")])
        if (self.probs is None) == (self.predictions is None):
            raise ValidationError("probs", "give exactly one of probs (classification) or predictions (regression)")
        # per-model frames are stacked by position: their class columns must be in one order (as select_model)
        check_frame_columns(self.probs, "probs", what="an array")
        # one model's outputs, (n_points, n_classes) or (n_points,), are the likeliest wrong shape: say how to
        # add the model axis rather than only "must be 3-D"
        for name, want, shape in (("probs", 3, "(n_models, n_points, n_classes)"), ("predictions", 2,
                                                                                     "(n_models, n_points)")):
            value = getattr(self, name)
            if value is not None and as_array(value, name).ndim == want - 1:
                raise ValidationError(name, f"must be {want}-D {shape}, got shape {np.shape(value)}",
                                      hint=f"for the outputs of one model pass {name}[None] (or np.stack of "
                                           f"several models' outputs)")
        if self.probs is not None:
            probs = _finite_outputs(self.probs, "probs", ndim=3)
            bad = (probs < 0) | (probs > 1)
            _raise_model_point(bad.any(axis=2), "probs", "must be in [0, 1]")
            sums = probs.sum(axis=2)
            _raise_model_point(np.abs(sums - 1) > SUM_TOL, "probs",
                               f"must sum to 1 over classes (tolerance {SUM_TOL:g})")
            set_("probs", readonly(probs))
            m, n = probs.shape[:2]
        else:
            preds = as_array(self.predictions, "predictions", ndim=2)
            if not (np.issubdtype(preds.dtype, np.number) or preds.dtype == bool):  # no parsing of "0.5"
                raise ValidationError("predictions", f"must be numeric, got dtype {preds.dtype}")
            _raise_model_point(~np.isfinite(preds.astype(float)), "predictions", "must be finite (no NaN or inf)")
            set_("predictions", readonly(preds.astype(float)))
            m, n = preds.shape
        # A log with no model or no point cannot be evaluated, and nothing needs one (subsets are taken by
        # the caller, never internally): accepted, it failed later far from the cause (select_model with
        # an IndexError, temporal_scores with numpy's "need at least one array to stack", estimate_risk
        # with "budget must be in [1, 0]"). Refused here, where the empty selection can still be seen.
        if m == 0 or n == 0:
            field = "probs" if self.probs is not None else "predictions"
            shape = self.probs.shape if self.probs is not None else self.predictions.shape
            raise ValidationError(field, f"needs at least one model and one point, got shape {shape} "
                                  f"({m} models, {n} points)")
        if isinstance(self.model_names, str):  # one name: tuple("ab") would silently be two models "a" and "b"
            names = (self.model_names,)
        elif self.model_names is not None and (not hasattr(self.model_names, "__iter__") or (
                isinstance(self.model_names, np.ndarray) and self.model_names.ndim == 0)):
            # model_names=5 was "TypeError: 'int' object is not iterable" (check_names' rule)
            raise ValidationError("model_names", f"must be a sequence of {m} names, got {self.model_names!r}")
        else:
            names = tuple(self.model_names) if self.model_names is not None else tuple(f"model_{j}" for j in range(m))
        # compared as stored (strings): 1 and "1" would otherwise pass as distinct and then collide
        names = tuple(str(x) for x in names)
        if len(names) != m:
            raise ValidationError("model_names", f"must name {m} models, got {len(names)}")
        if len(set(names)) != m:
            dup = pd.Series(names)[pd.Series(names).duplicated()].iloc[0]
            raise ValidationError("model_names", f"must be unique; {dup!r} appears more than once")
        set_("model_names", tuple(str(x) for x in names))

        labelled = None
        if self.labelled is not None:
            labelled = np.asarray(_unmasked(self.labelled, "labelled"))
            if labelled.dtype.kind in "fO" and labelled.ndim == 1:
                # a missing flag (a nullable boolean's <NA>, None, NaN) is neither labelled nor not: named by row
                # (the dtype message below gave no row)
                raise_if_any(pd.isna(labelled), "labelled", "must not be missing (True or False for every pool "
                             "point)", labelled)
            if labelled.dtype != bool:
                raise ValidationError("labelled", f"must be a boolean mask, got dtype {labelled.dtype}")
            if labelled.ndim != 1:  # an (n, 1) mask failed later with an IndexError
                raise ValidationError("labelled", f"must be 1-D, one flag per pool point, got shape {labelled.shape}")
            check_length(labelled, n, "labelled", ref="pool point")
            if self.labels is None and labelled.any():
                raise ValidationError("labels", "must be given when some points are marked labelled")
        if self.labels is not None:
            if self.probs is not None:  # class indices; names refused with how to map them (as select_model does)
                refuse_class_names(self.labels, "labels")
            lab = as_array(self.labels, "labels", ndim=1)
            check_length(lab, n, "labels", ref="pool point")
            if labelled is None:
                missing = np.isnan(lab.astype(float)) if np.issubdtype(lab.dtype, np.number) else np.zeros(n, bool)
                if self.probs is not None:
                    missing |= lab.astype(float) == -1 if np.issubdtype(lab.dtype, np.number) else False
                raise_if_any(missing, "labels", "contain unlabelled markers (NaN or -1)", lab,
                             hint="Pass labelled=<boolean mask> to say which points carry labels")
                labelled = np.ones(n, bool)
            if self.probs is not None:
                c = self.probs.shape[2]
                sel = check_integer_in_range(lab[labelled], "labels", 0, c) if labelled.any() else np.zeros(0, int)
                full = np.full(n, -1, dtype=np.int64)
                full[labelled] = sel
            else:
                if not (np.issubdtype(lab.dtype, np.number) or lab.dtype == bool):  # no parsing of "0.5"
                    raise ValidationError("labels", f"must be numeric, got dtype {lab.dtype}")
                full = lab.astype(float).copy()
                raise_if_any(~np.isfinite(full) & labelled, "labels", "labelled points must be finite", full)
            set_("labels", readonly(full))
        else:
            labelled = np.zeros(n, bool) if labelled is None else labelled
        set_("labelled", readonly(labelled))
        if self.features is not None:
            feats = check_finite(as_array(self.features, "features", ndim=2), "features")
            check_length(feats, n, "features", ref="pool point")
            set_("features", readonly(feats))
        if self.timestamp is not None:
            ts = _utc_naive(self.timestamp)
            if ts.ndim != 1 or ts.dtype.kind not in "iufM":
                raise ValidationError("timestamp", f"must be 1-D datetime64 or numeric, got {ts.dtype} {ts.shape}")
            check_length(ts, n, "timestamp", ref="pool point")
            raise_if_any(np.isnat(ts) if ts.dtype.kind == "M" else ~np.isfinite(ts.astype(float)),
                         "timestamp", "must not be missing", ts)
            set_("timestamp", readonly(ts))

    # -- shape -----------------------------------------------------------------------------
    @property
    def task(self) -> str:
        """"classification" when the log holds class probabilities, else "regression"."""
        return "classification" if self.probs is not None else "regression"

    @property
    def n_models(self) -> int:
        """Number of models (the first axis of ``probs`` / ``predictions``)."""
        return len(self.model_names)

    @property
    def n_points(self) -> int:
        """Number of pool points, labelled or not."""
        return int(self.labelled.shape[0])

    @property
    def n_classes(self) -> int | None:
        """Number of classes (None for regression predictions)."""
        return None if self.probs is None else int(self.probs.shape[2])

    @property
    def n_labelled(self) -> int:
        """Number of points whose label is known."""
        return int(self.labelled.sum())

    def __len__(self) -> int:
        """Number of pool points."""
        return self.n_points

    @property
    def predicted(self) -> np.ndarray:
        """Hard predictions, shape (n_models, n_points): argmax class, or the regression prediction."""
        return self.probs.argmax(axis=2) if self.probs is not None else self.predictions

    # -- losses ----------------------------------------------------------------------------
    def losses(self, loss: str = "zero_one", labels=None) -> np.ndarray:
        """Per-model, per-point loss, shape (n_models, n_labelled), on the labelled points in order.

        ``labels`` (all n_points) may be passed to score against labels not stored in the log; the
        result then has shape (n_models, n_points). Either way it equals :func:`loss_matrix` on the
        same points, and ``accuracy()`` is one minus the mean zero-one loss.
        """
        check_choice(loss, "loss", _LOSSES)
        if labels is None:
            if self.n_labelled == 0:
                raise ValidationError("labels", "no labelled points to score against")
            idx = np.flatnonzero(self.labelled)
            y = self.labels[idx]
        else:
            idx = np.arange(self.n_points)
            y = PredictionLog(probs=self.probs, predictions=self.predictions, labels=labels).labels
        return loss_matrix(self.probs[:, idx] if self.probs is not None else self.predictions[:, idx], y, loss)

    def accuracy(self) -> pd.Series:
        """Accuracy of each model on the labelled points."""
        return pd.Series(1 - self.losses("zero_one").mean(axis=1), index=list(self.model_names), name="accuracy")

    # -- subsetting and labels -------------------------------------------------------------
    def with_labels(self, labels, labelled=None) -> "PredictionLog":
        """A copy with these ``labels``; ``labelled`` (a boolean mask) says which are known (default: all)."""
        return replace(self, labels=labels, labelled=labelled)

    def subset_points(self, idx) -> "PredictionLog":
        """The log of the points ``idx`` selects (int, slice, integer array or boolean mask), every model kept."""
        # said here, naming the selection, rather than as an empty probs array
        rows = _index_rows(idx, self.n_points, empty="selects no point; a PredictionLog needs at least one")
        labels = None if self.labels is None else self.labels[rows]
        return PredictionLog(probs=None if self.probs is None else self.probs[:, rows],
                             predictions=None if self.predictions is None else self.predictions[:, rows],
                             model_names=self.model_names, labels=labels,
                             labelled=self.labelled[rows] if labels is not None else None,
                             features=None if self.features is None else self.features[rows],
                             timestamp=None if self.timestamp is None else self.timestamp[rows])

    def subset_models(self, idx) -> "PredictionLog":
        """The log of the models ``idx`` selects (int, slice, integer array or boolean mask), every point kept."""
        rows = _index_rows(idx, self.n_models, empty="selects no model; a PredictionLog needs at least one")
        return replace(self, probs=None if self.probs is None else self.probs[rows],
                       predictions=None if self.predictions is None else self.predictions[rows],
                       model_names=tuple(np.asarray(self.model_names)[rows]),
                       labelled=self.labelled if self.labels is not None else None)

    # -- storage (npz, never pickle) -------------------------------------------------------
    def save(self, path) -> Path:
        """Write the log to ``path`` as a compressed ``.npz`` archive (no pickle); :meth:`load` reads it back."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {"model_names": np.asarray(self.model_names, dtype=str), "labelled": self.labelled}
        for name in ("probs", "predictions", "labels", "features", "timestamp"):
            if getattr(self, name) is not None:
                arrays[name] = getattr(self, name)
        with open(path, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        return path

    @classmethod
    def load(cls, path) -> "PredictionLog":
        """Read a file written by :meth:`save` (an ``.npz`` archive; never unpickles anything)."""
        import zipfile
        import zlib

        # A truncated or damaged archive (an interrupted copy, a full disk) raised zipfile's BadZipFile
        # (not a ValueError), from np.load or, for a bad checksum, from reading a member; the file
        # is opened here so that it is closed on every path (np.load left it open on BadZipFile).
        damaged = (zipfile.BadZipFile, zlib.error, EOFError)
        if not isinstance(path, (str, os.PathLike)):  # load(5) or load(None): pathlib's TypeError
            raise ValidationError("path", f"must be a file path (str or os.PathLike), got {type(path).__name__}")
        try:
            fh = open(Path(path), "rb")
        except OSError as exc:
            raise ValidationError("path", f"{str(path)!r} could not be read as a saved PredictionLog ({exc})") from None
        with fh:
            try:
                z = np.load(fh, allow_pickle=False)
            except (OSError, ValueError, *damaged) as exc:
                raise ValidationError("path", f"{str(path)!r} could not be read as a saved PredictionLog "
                                      f"({exc})") from None
            if not isinstance(z, np.lib.npyio.NpzFile):
                raise ValidationError("path", f"{str(path)!r} is a single .npy array, not a PredictionLog saved by "
                                      f"save()")
            with z:
                unknown = sorted(set(z.files) - _SAVED_FIELDS)
                if unknown or "model_names" not in z.files or "labelled" not in z.files:
                    raise ValidationError("path", f"{str(path)!r} is not a PredictionLog saved by save(): it holds "
                                          f"{sorted(z.files)}")
                try:
                    kw = {k: z[k] for k in z.files}
                except damaged as exc:
                    raise ValidationError("path", f"{str(path)!r} is damaged and could not be read ({exc})") from None
                except ValueError as exc:  # e.g. an object array, which only unpickling could read
                    raise ValidationError("path", f"{str(path)!r} could not be read without unpickling "
                                          f"({exc})") from None
        kw["model_names"] = tuple(kw["model_names"].tolist())
        if "labels" not in kw:
            # save() writes an all-False mask when there are no labels; a mask that marks points labelled (or is
            # not boolean) with no labels beside it is not its file, and was dropped as "0 labelled"
            lab = kw.pop("labelled")
            if lab.dtype != bool or lab.any():
                raise ValidationError("path", f"{str(path)!r} is not a PredictionLog saved by save(): its 'labelled' "
                                      f"mask (dtype {lab.dtype}, {int(np.count_nonzero(lab))} marked) has no labels")
        return cls(**kw)

    def to_frame(self) -> pd.DataFrame:
        """Long format: one row per (model, point): ``model``, ``point``, ``prediction``, then ``confidence``
        (the largest class probability; classification only), ``timestamp`` (when the log has one), and
        ``label`` and ``labelled`` (when it has labels)."""
        m, n = self.n_models, self.n_points
        frame = pd.DataFrame({"model": np.repeat(self.model_names, n), "point": np.tile(np.arange(n), m),
                              "prediction": self.predicted.ravel()})
        if self.probs is not None:
            frame["confidence"] = self.probs.max(axis=2).ravel()
        if self.timestamp is not None:
            frame["timestamp"] = np.tile(self.timestamp, m)
        if self.labels is not None:
            frame["label"] = np.tile(self.labels, m)
            frame["labelled"] = np.tile(self.labelled, m)
        return frame

    def __repr__(self) -> str:
        kind = f"{self.n_classes} classes" if self.probs is not None else "regression"
        return (f"PredictionLog({self.n_models} models, {self.n_points:,} points, {kind}, "
                f"{self.n_labelled:,} labelled)")

    def _repr_html_(self) -> str:
        info = {"models": self.n_models, "points": self.n_points, "task": self.task, "labelled": self.n_labelled}
        if self.probs is not None:
            info["classes"] = self.n_classes
        return frame_to_html(pd.DataFrame([info]), caption="PredictionLog")


def _raise_model_point(bad: np.ndarray, field: str, rule: str) -> None:
    """Like raise_if_any for an (n_models, n_points) mask, naming model and point."""
    if bad.any():
        m, i = np.argwhere(bad)[0]
        raise ValidationError(field, f"{rule}; {int(bad.sum())} of {bad.size} (model, point) entries break "
                              f"the rule, first at model {int(m)}, point {int(i)}")


def _finite_outputs(x, field: str, ndim) -> np.ndarray:
    """check_finite for model outputs, shape (n_models, n_points[, n_classes]): a NaN or inf is reported
    by model and point. check_finite's rows are the first axis, the models: one NaN probability read
    "1 of 2 rows breaks the rule, first at row 1" for point 3 of model 1 in a pool of thousands."""
    arr = as_array(x, field, ndim=ndim)
    if arr.dtype == bool:  # a one-hot mask is 0 / 1, as check_finite reads it
        arr = arr.astype(np.float64)
    if not np.issubdtype(arr.dtype, np.number):
        raise ValidationError(field, f"must be numeric, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(arr)
    _raise_model_point(bad.any(axis=2) if arr.ndim == 3 else bad, field, "must be finite (no NaN or inf)")
    return arr


def loss_matrix(outputs: np.ndarray, y: np.ndarray, loss: str = "zero_one", eps: float = 1e-12) -> np.ndarray:
    """Loss of each model on each point: outputs (m, n, c) probabilities or (m, n) predictions.

    Examples
    --------
    Two classifiers on two points (the rows are models, the columns points):

    >>> import numpy as np
    >>> from workbench.data import loss_matrix
    >>> probs = np.array([[[0.9, 0.1], [0.4, 0.6]],
    ...                   [[0.2, 0.8], [0.5, 0.5]]])
    >>> y = np.array([0, 1])
    >>> loss_matrix(probs, y)
    array([[0., 0.],
           [1., 1.]])
    >>> loss_matrix(probs, y, "cross_entropy").round(3)
    array([[0.105, 0.511],
           [1.609, 0.693]])

    Point predictions of one regression model:

    >>> loss_matrix(np.array([[1.0, 2.5]]), np.array([1.0, 2.0]), "absolute")
    array([[0. , 0.5]])
    """
    check_choice(loss, "loss", _LOSSES)
    # eps > 1 clipped every probability to 1 (every loss 0), eps <= 0 let log(0) through
    eps = check_real(eps, "eps", low=0.0, high=1.0)
    if not 0 < eps < 1:
        raise ValidationError("eps", f"must be in (0, 1), got {eps!r}")
    outputs = _finite_outputs(outputs, "outputs", ndim=(2, 3))
    if loss in ("zero_one", "cross_entropy") and outputs.ndim == 2:
        # one model's (n_points, n_classes) probabilities were read as (n_models, n_points) predictions, and the
        # error blamed y ("must have one value per point of outputs: got 40, expected 3")
        raise ValidationError("outputs", f"must be 3-D (n_models, n_points, n_classes) class probabilities for loss "
                                         f"{loss!r}, got shape {outputs.shape}",
                              hint="for one model's probabilities pass outputs[None] (or np.stack of several models')")
    n = outputs.shape[1]
    if outputs.ndim == 3:  # class labels: integers in [0, n_classes), one per point (-1 / NaN markers refused)
        # probabilities, by PredictionLog's rule: scores or logits gave a negative cross-entropy and a
        # meaningless Brier score, silently
        _raise_model_point((outputs < 0).any(axis=2) | (outputs > 1).any(axis=2), "outputs", "must be in [0, 1]")
        _raise_model_point(np.abs(outputs.sum(axis=2) - 1) > SUM_TOL, "outputs",
                           f"must sum to 1 over classes (tolerance {SUM_TOL:g})")
        y = check_integer_in_range(y, "y", 0, outputs.shape[2])
    else:
        y = check_finite(as_array(y, "y", ndim=1), "y")
    if y.shape[0] != n:
        if outputs.ndim == 2 and y.shape[0] == outputs.shape[0]:
            # y matches the first axis: (n_points, ...) outputs of one model, not (n_models, n_points)
            raise ValidationError("outputs", f"must be (n_models, n_points) predictions or (n_models, n_points, "
                                             f"n_classes) probabilities: got shape {outputs.shape}, and y has "
                                             f"{y.shape[0]} values, the length of its first axis",
                                  hint="for one model's outputs pass outputs[None]")
        raise ValidationError("y", f"must have one value per point of outputs: got {y.shape[0]}, expected {n}")
    if outputs.ndim == 3:
        if loss == "zero_one":
            return (outputs.argmax(axis=2) != y[None, :]).astype(float)
        if loss == "cross_entropy":
            return -np.log(np.clip(outputs[:, np.arange(n), y], eps, 1.0))
        # (n, c) one-hot by indexing, not np.eye(c)[y]: the (c, c) identity took 3.2 GB at 20,000 classes
        onehot = np.zeros((n, outputs.shape[2]))
        onehot[np.arange(n), y] = 1.0
        if loss == "squared":  # Brier score
            return ((outputs - onehot[None]) ** 2).sum(axis=2)
        raise ValidationError("loss", f"{loss!r} is for regression")
    if loss == "squared":
        return (outputs - y[None, :]) ** 2
    if loss == "absolute":
        return np.abs(outputs - y[None, :])
    raise ValidationError("loss", f"{loss!r} needs class probabilities")
