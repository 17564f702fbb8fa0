"""Result objects: one frozen dataclass for an estimate with uncertainty, and tidy frames.

Functions that return many estimates return a ``pandas.DataFrame`` whose columns are
:data:`ESTIMATE_COLUMNS` (plus method-specific diagnostics), in that order.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ._validation import ValidationError

__all__ = ["Estimate", "ESTIMATE_COLUMNS", "FrameFieldsCopied", "estimates_to_frame", "frame_to_html"]

ESTIMATE_COLUMNS = ["name", "value", "ci_low", "ci_high", "se", "alpha", "method", "n"]


def _fmt(x) -> str:
    if x is None:
        return "None"
    if isinstance(x, (float, np.floating)):
        if not math.isfinite(x):
            return str(x)
        return f"{x:.6g}"
    return str(x)


class FrozenDict(dict):
    """A dict that refuses edits after construction (a result's diagnostics), and still pickles and deep-copies
    (types.MappingProxyType does neither, and results travel between joblib workers)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a result's diagnostics are read-only; copy them first: dict(result.diagnostics)")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = __ior__ = _refuse

    def __reduce__(self):
        return (FrozenDict, (dict(self),))

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        import copy

        return FrozenDict(copy.deepcopy(dict(self), memo))


class FrameFieldsCopied:
    """Mixin for frozen result dataclasses with pandas fields: reading such a field gives a copy.

    ``frozen=True`` stops rebinding a field, but a DataFrame is mutable in place, so
    ``result.summary.loc[0, "p_value"] = 0.001`` edited the result (its repr, ``to_frame`` and every later
    reader) without a word. A copy per read keeps the result as it was made; the frames are small tables,
    so the copy costs microseconds to milliseconds.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> import pandas as pd
    >>> from workbench.results import FrameFieldsCopied
    >>> @dataclass(frozen=True)
    ... class Table(FrameFieldsCopied):
    ...     frame: pd.DataFrame
    >>> t = Table(pd.DataFrame({"x": [1.0, 2.0]}))
    >>> edited = t.frame
    >>> edited.loc[0, "x"] = 99.0
    >>> t.frame["x"].tolist()
    [1.0, 2.0]
    """

    __slots__ = ()

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        if isinstance(value, (pd.DataFrame, pd.Series)) and not name.startswith("__"):
            return value.copy(deep=True)
        return value


def _as_float(v):
    """A real number as float, None for anything else (NaN compares False, so it passes the order checks)."""
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its uncertainty.

    Attributes
    ----------
    value : float
        The point estimate.
    ci_low, ci_high : float
        The (1 - alpha) confidence interval; what it promises depends on ``method``.
    se : float
        Standard error (bootstrap standard deviation, or the method's analytic one).
    alpha : float
        Miscoverage level of the interval (0.05 for a 95% interval).
    method : str
        How the interval was made ("percentile", "bca", "normal", "empirical-bernstein", ...).
    n : int
        Number of rows (or labels) behind the estimate.
    name : str
        What is estimated ("ips", "mean loss of model A", ...).
    diagnostics : mapping
        Extra, method-specific facts (effective sample size, number of resamples, seed, ...).

    Examples
    --------
    >>> from workbench.results import Estimate
    >>> e = Estimate(0.5, 0.4, 0.6, 0.05, alpha=0.05, method="normal", n=100, name="accuracy")
    >>> e.to_frame()[["name", "value", "ci_low", "ci_high"]]
           name  value  ci_low  ci_high
    0  accuracy    0.5     0.4      0.6
    """

    value: float
    ci_low: float
    ci_high: float
    se: float
    alpha: float = 0.05
    method: str = ""
    n: int = 0
    name: str = ""
    # not compared or hashed: a dict is unhashable (hash() of a frozen Estimate was a TypeError) and array values
    # made == raise numpy's "truth value of an array is ambiguous"; two estimates with the same numbers are equal
    diagnostics: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self):
        if self.diagnostics is None:  # "no diagnostics", as the empty default; iterating None was a TypeError
            object.__setattr__(self, "diagnostics", {})
        # a private copy, made before the check: for (key, value) pairs, set() of the pairs held tuples, not keys,
        # and a "value" diagnostic then overwrote the estimate's own value in to_frame()
        # read-only: an edit after construction (diagnostics["value"] = 99) escaped the clash check below
        object.__setattr__(self, "diagnostics", FrozenDict(self.diagnostics))
        # An interval reversed or a negative standard error is no estimate (a hand-built Estimate(nan, 1, 0, -1) was
        # accepted, and forest plots and tables showed it as given); NaN / inf stay allowed: undefined limits say
        # so themselves
        lo, hi, se = (_as_float(v) for v in (self.ci_low, self.ci_high, self.se))
        if lo is not None and hi is not None and lo > hi:
            raise ValidationError("ci_low", f"must be <= ci_high, got ci_low={lo!r} > ci_high={hi!r}")
        if se is not None and se < 0:
            raise ValidationError("se", f"must be >= 0 (a standard error), got {se!r}")
        # a diagnostic named like a core column would silently replace it in to_dict / to_frame
        clash = sorted(set(self.diagnostics) & set(ESTIMATE_COLUMNS))
        if clash:
            raise ValidationError("diagnostics", f"keys {clash} clash with the estimate's own columns "
                                                 f"{list(ESTIMATE_COLUMNS)}; rename them")

    @property
    def confidence_interval(self) -> tuple[float, float]:
        """(ci_low, ci_high), as a tuple."""
        return (self.ci_low, self.ci_high)

    @property
    def level(self) -> float:
        """The confidence level 1 - alpha (calls take ``alpha``, the miscoverage)."""
        return 1.0 - self.alpha

    def to_dict(self) -> dict:
        """The columns of :func:`estimates_to_frame` and the diagnostics, as one flat dict."""
        out = dict(self.diagnostics)
        out.update({c: getattr(self, c) for c in ESTIMATE_COLUMNS})  # the core columns win, whatever happens
        return {**{c: out[c] for c in ESTIMATE_COLUMNS}, **{k: v for k, v in out.items() if k not in ESTIMATE_COLUMNS}}

    def to_frame(self) -> pd.DataFrame:
        """One-row tidy frame with the stable columns of :data:`ESTIMATE_COLUMNS` then diagnostics."""
        return pd.DataFrame([self.to_dict()])

    def _level_text(self) -> str:
        # a repr must not raise: an alpha that is not a number (None) is shown as given
        try:
            return f"{100 * (1 - self.alpha):g}%"
        except (TypeError, ValueError):
            return f"alpha={self.alpha!r}"

    def __repr__(self) -> str:
        lvl = self._level_text()
        head = f"{self.name}: " if self.name else ""
        s = (f"Estimate({head}{_fmt(self.value)}, {lvl} CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}], "
             f"se {_fmt(self.se)}, method={self.method}, n={self.n}")
        if self.diagnostics:
            s += ", " + ", ".join(f"{k}={_fmt(v)}" for k, v in self.diagnostics.items())
        return s + ")"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), caption=f"{self._level_text()} interval")


def frame_to_html(frame: pd.DataFrame, caption: str | None = None) -> str:
    """A plain, escaped HTML table (no JavaScript), suitable for notebooks and offline reports.

    The index is shown unless it is plain row numbers (unnamed integers): the row labels of a
    pivot table or of a frame indexed by name are data, not to be dropped.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.results import frame_to_html
    >>> df = pd.DataFrame({"model": ["a<b", "c"], "loss": [0.123456789, 0.5]})
    >>> page = frame_to_html(df, caption="Losses & ranks")
    >>> page.startswith("<p><b>Losses &amp; ranks</b></p><table")
    True
    >>> "<td>a&lt;b</td>" in page, "0.123457" in page    # text escaped, floats to 6 digits
    (True, True)
    >>> "<th>0</th>" in page                              # plain row numbers are left out
    False
    >>> "<th>a&lt;b</th>" in frame_to_html(df.set_index("model"))    # a named index is shown
    True
    """
    idx = frame.index
    row_numbers = (idx.nlevels == 1 and idx.name is None and pd.api.types.is_integer_dtype(idx.dtype))
    body = frame.to_html(index=not row_numbers, float_format=lambda v: f"{v:.6g}", escape=True, border=0)
    if caption:
        body = f"<p><b>{html.escape(caption)}</b></p>" + body
    return body


# A repr shows at most this many rows of each frame (the first and last halves): 40 models' 780 pairwise
# differences made an 825-line repr and 194 kB of HTML. The result's frame attributes hold every row.
MAX_REPR_ROWS = 20


def _shown(f: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    if len(f) <= MAX_REPR_ROWS:
        return f, 0
    half = MAX_REPR_ROWS // 2
    return pd.concat([f.head(half), f.tail(half)]), len(f) - MAX_REPR_ROWS


def _frames_repr(title: str, frames: Mapping[str, pd.DataFrame]) -> str:
    parts = [title]
    for name, f in frames.items():
        g, hidden = _shown(f)
        text = g.to_string(index=False, float_format=lambda v: f'{v:.4g}')
        if hidden:
            lines = text.split("\n")
            half = MAX_REPR_ROWS // 2
            text = "\n".join(lines[:half + 1] + [f"... ({hidden} more rows: .{name})"] + lines[half + 1:])
        parts.append(f"{name}:\n{text}")
    return "\n".join(parts)


def _frames_html(title: str, frames: Mapping[str, pd.DataFrame]) -> str:
    out = []
    for name, f in frames.items():
        g, hidden = _shown(f)
        cap = f"{title}: {name}" + (f" (first and last {MAX_REPR_ROWS // 2} of {len(f)} rows)" if hidden else "")
        out.append(frame_to_html(g, caption=cap))
    return "".join(out)


def estimates_to_frame(estimates, name_column: str = "name") -> pd.DataFrame:
    """Stack estimates into one tidy frame (stable columns first).

    Each :class:`Estimate` is a row: the columns of :data:`ESTIMATE_COLUMNS`, then the union of
    the diagnostics (NaN where an estimate lacks one). ``name_column`` renames ``name``.

    Examples
    --------
    >>> from workbench.results import Estimate, estimates_to_frame
    >>> a = Estimate(0.81, 0.78, 0.84, 0.015, method="bca", n=500, name="model A")
    >>> b = Estimate(0.79, 0.75, 0.82, 0.018, method="bca", n=500, name="model B",
    ...              diagnostics={"ess": 480.0})
    >>> frame = estimates_to_frame([a, b], name_column="model")
    >>> list(frame.columns)
    ['model', 'value', 'ci_low', 'ci_high', 'se', 'alpha', 'method', 'n', 'ess']
    >>> frame[["model", "value", "ess"]]
         model  value    ess
    0  model A   0.81    NaN
    1  model B   0.79  480.0
    """
    if isinstance(estimates, Estimate) or not hasattr(estimates, "__iter__"):  # iterating it raised a bare TypeError
        raise ValidationError("estimates", f"must be a list of Estimate objects, got {type(estimates).__name__}",
                              hint="wrap a single estimate in a list: [estimate]" if isinstance(estimates, Estimate)
                              else None)
    items = list(estimates)
    # a float or a dict among them raised a bare AttributeError ('float' object has no attribute 'to_dict')
    bad = np.array([not isinstance(e, Estimate) for e in items], dtype=bool)
    if bad.any():
        first = int(np.argmax(bad))
        raise ValidationError("estimates", "must be Estimate objects, one per row", int(bad.sum()), first, len(items),
                              hint=f"item {first} is a {type(items[first]).__name__}, not an Estimate")
    rows = [e.to_dict() for e in items]
    frame = pd.DataFrame(rows, columns=None if rows else list(ESTIMATE_COLUMNS))  # no estimates: the columns still
    if name_column != "name":
        if name_column in frame.columns:
            raise ValidationError("name_column", f"{name_column!r} is already a column (a diagnostic or a standard "
                                                 f"column): the frame would have two")
        frame = frame.rename(columns={"name": name_column})
    return frame
