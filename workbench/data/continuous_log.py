"""Logged bandit feedback with continuous actions: :class:`ContinuousBanditLog`."""
from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from .._validation import (ValidationError, _refuse_text_or_objects, as_array, check_finite, check_length, check_real,
                           check_same_index, check_unit_ids, raise_if_any, readonly)
from ..results import frame_to_html
from .logs import _index_rows, _mean_no_overflow

# The fields with one row per round, in the documented order (subset slices them; check_same_index compares
# the pandas ones' indexes, the first being the reference).
_PER_ROUND = ("action", "reward", "density", "context", "unit_id")


@dataclass(frozen=True, eq=False, repr=False)
class ContinuousBanditLog:
    """Logged feedback where the action is a number in [a_min, a_max] (a price, a dose, a bid).

    Parameters
    ----------
    action : array of float, shape (n,)
        Logged action, in ``[a_min, a_max]``.
    reward : array of float, shape (n,)
        Observed reward; finite.
    density : array of float, shape (n,)
        The logging policy's probability **density** at the logged action, p_b(a_i | x_i), with
        respect to Lebesgue measure on [a_min, a_max]. It must be finite and > 0. A logger that
        picks actions deterministically (an argmax, a logged UCB) has no density: such logs cannot
        be evaluated by importance weighting and must not be given a made-up density.
    a_min, a_max : float
        The action interval (finite, a_min < a_max).
    context : array, shape (n, d), optional
    unit_id : array, shape (n,), optional
        Unit (user, session) of each row; the hashed bootstrap resamples units.

    Every violated rule raises :class:`workbench.ValidationError` naming the field, the rule, the
    number of bad rows and the first one. Arrays are copied and made read-only. Pandas Series /
    DataFrames given for two or more per-row fields must have equal indexes (the same labels in the
    same order), as in :class:`BanditLog`: fields are read by position, never realigned.

    Examples
    --------
    >>> from workbench.data import ContinuousBanditLog
    >>> ContinuousBanditLog(action=[1.0, 2.5], reward=[0.0, 2.5], density=[0.2, 0.3], a_min=0, a_max=5)
    ContinuousBanditLog(2 rows, actions in [0, 5], reward mean 1.25, density [0.2, 0.3])
    >>> ContinuousBanditLog(action=[1.0, 6.0], reward=[0.0, 1.0], density=[0.2, 0.3], a_min=0, a_max=5)
    Traceback (most recent call last):
    ...
    workbench._validation.ValidationError: action: must be within [a_min, a_max] = [0, 5]; 1 of 2 rows breaks the rule, first at row 1 (value 6.0)
    """

    action: np.ndarray
    reward: np.ndarray
    density: np.ndarray
    a_min: float
    a_max: float
    context: np.ndarray | None = None
    unit_id: np.ndarray | None = None

    def __post_init__(self):
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731  (frozen dataclass)
        # Before any conversion drops the labels: pandas fields whose indexes differ would be paired by
        # position, wrongly (the rule and message of BanditLog).
        check_same_index((name, getattr(self, name)) for name in _PER_ROUND)
        for name in ("a_min", "a_max"):  # check_real, not float(): that would accept "0" and True
            set_(name, check_real(getattr(self, name), name))
        if not self.a_min < self.a_max:
            raise ValidationError("a_max", f"must be greater than a_min, got [{self.a_min:g}, {self.a_max:g}]")
        action = as_array(self.action, "action", ndim=1)
        if action.dtype == bool:  # check_finite reads booleans as 0 / 1: a price of True is no price (as BanditLog)
            raise ValidationError("action", "must be numbers in [a_min, a_max], got dtype bool")
        action = check_finite(action, "action")
        n = action.shape[0]
        if n == 0:
            # No estimator is defined on zero rows; fail here rather than deep inside numpy later.
            raise ValidationError("action", "must have at least one row (the log is empty)")
        raise_if_any((action < self.a_min) | (action > self.a_max), "action",
                     f"must be within [a_min, a_max] = [{self.a_min:g}, {self.a_max:g}]", action)
        set_("action", readonly(action))
        reward = check_finite(as_array(self.reward, "reward", ndim=1), "reward")
        check_length(reward, n, "reward")
        set_("reward", readonly(reward))
        dens = as_array(self.density, "density", ndim=1)
        check_length(dens, n, "density")
        if dens.dtype == bool or not np.issubdtype(dens.dtype, np.number):
            _refuse_text_or_objects(dens, "density", "must be numeric")  # text: its rows, as reward and action
            raise ValidationError("density", f"must be numeric, got dtype {dens.dtype}")
        dens = dens.astype(np.float64)
        # NaN apart: "an infinite density is a point mass" was the rule given for a missing density
        raise_if_any(np.isnan(dens), "density", "must not be missing (NaN)", dens)
        raise_if_any(~np.isfinite(dens), "density", "must be finite (an infinite density is a point mass: "
                     "a deterministic logger cannot be evaluated by importance weighting)", dens)
        raise_if_any(dens <= 0, "density", "must be > 0", dens,
                     hint="A density of 0 means the logged action could not have been taken")
        set_("density", readonly(dens))
        if self.context is not None:
            ctx = as_array(self.context, "context", ndim=(1, 2))
            ctx = ctx[:, None] if ctx.ndim == 1 else ctx
            check_length(ctx, n, "context")
            set_("context", readonly(check_finite(ctx, "context")))
        if self.unit_id is not None:
            set_("unit_id", readonly(check_unit_ids(self.unit_id, "unit_id", n)))

    def __len__(self) -> int:
        return int(self.action.shape[0])

    @property
    def width(self) -> float:
        """a_max - a_min."""
        return self.a_max - self.a_min

    def subset(self, idx) -> "ContinuousBanditLog":
        """The rows selected by an integer array, a slice or a boolean mask."""
        rows = _index_rows(idx, len(self))
        kw = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in _PER_ROUND:
            if kw[name] is not None:
                kw[name] = kw[name][rows]
        return ContinuousBanditLog(**kw)

    def __getitem__(self, idx) -> "ContinuousBanditLog":
        return self.subset(idx)

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: action, reward, density, then unit_id and context columns x0, x1, ..."""
        cols = {"action": self.action, "reward": self.reward, "density": self.density}
        if self.unit_id is not None:
            cols["unit_id"] = self.unit_id
        if self.context is not None:
            cols.update({f"x{j}": self.context[:, j] for j in range(self.context.shape[1])})
        return pd.DataFrame(cols)

    def __repr__(self) -> str:
        s = f"ContinuousBanditLog({len(self):,} rows, actions in [{self.a_min:g}, {self.a_max:g}]"
        if len(self):
            s += (f", reward mean {_mean_no_overflow(self.reward):.4g}, density "
                  f"[{self.density.min():.4g}, {self.density.max():.4g}]")
        if self.context is not None:
            s += f", context {self.context.shape[1]} dims"
        return s + ")"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame().head(10), caption=repr(self))
