"""Frozen result objects shared by the tests and comparisons of :mod:`workbench.resample`."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Mapping

import numpy as np
import pandas as pd

from .._validation import readonly
from ..results import MAX_REPR_ROWS, FrozenDict, _fmt, _frames_html, _frames_repr, _shown, frame_to_html  # noqa: F401


@dataclass(frozen=True, repr=False, eq=False)  # identity: == of array / frame fields raised
class TestResult:
    """A hypothesis test: statistic, p-value, and (when it has one) an interval for the effect.

    Attributes
    ----------
    test : str
        Which test ("mcnemar-exact", "5x2cv paired t", ...).
    statistic, p_value : float
        The test statistic and its p-value under the test's null hypothesis.
    df : float or tuple or None
        Degrees of freedom of the reference distribution.
    effect, ci_low, ci_high : float
        The estimated effect (e.g. an accuracy difference, a mean score difference) and its
        (1 - alpha) confidence interval (NaN when the test has none).
    alpha : float
    details : mapping
        Everything else (counts, per-fold differences, posterior probabilities, ...).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import mcnemar_test
    >>> y = np.random.default_rng(0).integers(0, 2, 100)
    >>> a, b = y.copy(), y.copy()
    >>> a[:10] ^= 1; b[:25] ^= 1   # a errs on 10 rows, b on 25 (the same 10 and 15 more)
    >>> r = mcnemar_test(y, a, b)
    >>> r.test, r.details["b"], r.details["c"], r.p_value < 0.001
    ('mcnemar-mid-p', 15, 0, True)
    >>> r.to_frame().shape[0]
    1
    """

    __test__ = False  # not a pytest test class

    test: str
    statistic: float
    p_value: float
    df: Any = None
    effect: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    alpha: float = 0.05
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        # frozen means frozen: arrays in details (per-fold differences, ...) become read-only copies
        frozen = {k: readonly(v) if isinstance(v, np.ndarray) else v for k, v in dict(self.details).items()}
        # read-only and picklable (a mappingproxy does not pickle): an added key showed up in the repr
        object.__setattr__(self, "details", FrozenDict(frozen))

    @property
    def confidence_interval(self):
        """(ci_low, ci_high) of the effect, as a tuple."""
        return (self.ci_low, self.ci_high)

    def to_dict(self) -> dict:
        """The fields and the scalar entries of ``details``, as one flat dict."""
        out = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "details"}
        for k, v in self.details.items():
            if np.ndim(v) == 0:
                out[k] = v
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row: :meth:`to_dict` as a DataFrame. A test without degrees of freedom (``df`` None: an exact
        McNemar test) has ``df`` NaN here, so the frames of several tests stack into a numeric column."""
        d = self.to_dict()
        if isinstance(d.get("df"), tuple):
            d["df"] = str(d["df"])
        elif d.get("df") is None:
            # None made the column object dtype: stacked with an asymptotic test's 1 it stayed object
            d["df"] = float("nan")
        return pd.DataFrame([d])

    def __repr__(self) -> str:
        s = f"TestResult({self.test}: statistic={_fmt(self.statistic)}, p_value={_fmt(self.p_value)}"
        if self.df is not None:
            s += f", df={self.df}"
        if np.isfinite(self.effect):
            s += f", effect={_fmt(self.effect)}"
        if np.isfinite(self.ci_low) or np.isfinite(self.ci_high):
            s += f", {100 * (1 - self.alpha):g}% CI [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]"
        scalars = {k: v for k, v in self.details.items() if np.ndim(v) == 0}
        if scalars:
            s += ", " + ", ".join(f"{k}={_fmt(v)}" for k, v in scalars.items())
        return s + ")"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), caption=self.test)


