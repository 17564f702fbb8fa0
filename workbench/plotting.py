"""Plots with one consistent style. Every function takes ``ax=`` (a new figure when None) and returns it."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ._validation import ValidationError, check_bool, check_columns, check_finite, check_int, check_real, raise_if_any
from .data.logs import _mean_no_overflow

__all__ = ["PALETTE", "forest_plot", "weight_histogram", "budget_curve", "critical_difference_diagram",
           "identification_curve", "risk_trace_plot", "coverage_plot", "type1_plot"]

PALETTE = ["#1f5a96", "#c8553d", "#2a9d8f", "#e9c46a", "#6d597a", "#8d99ae", "#f4a261", "#264653"]


def _ax(ax, figsize=(6, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _frame(frame, columns, field: str = "frame", what: str = "to plot") -> None:
    """A DataFrame with rows and every needed column (checked before a figure is opened)."""
    if not isinstance(frame, pd.DataFrame):
        raise ValidationError(field, f"must be a pandas DataFrame, got {type(frame).__name__}")
    check_columns(frame, [c for c in dict.fromkeys(columns) if c is not None], field)
    if len(frame) == 0:
        raise ValidationError(field, f"has no rows {what}")


def _line(value, field: str, low: float | None = None, high: float | None = None) -> float | None:
    """A reference line's position: a finite number (None: no line). "0.5" was drawn as a category tick at 0,
    True at 1; a level outside [low, high] off the chart."""
    if value is None:
        return None
    v = check_real(value, field)
    if (low is not None and v < low) or (high is not None and v > high):
        raise ValidationError(field, f"must be in [{low}, {high}], got {v:g}")
    return v


def _numbers(frame: pd.DataFrame, columns, field: str = "frame") -> None:
    """The columns hold numbers: text was plotted as categories in order of appearance, or parsed ("0.5")."""
    for c in dict.fromkeys(columns):
        if c is None:
            continue
        dt = frame[c].dtype
        if pd.api.types.is_bool_dtype(dt) or not pd.api.types.is_numeric_dtype(dt):
            col = frame[c]
            bad = np.asarray([not isinstance(v, (int, float, np.number)) or isinstance(v, (bool, np.bool_))
                              for v in col], dtype=bool)
            raise_if_any(bad, f"{field}[{c!r}]", f"must be numeric (dtype {dt})", col.to_numpy())
            raise ValidationError(f"{field}[{c!r}]", f"must be numeric, got dtype {dt}")


def _label(text, field: str) -> str | None:
    """An axis label: text or None (matplotlib would print str() of anything, e.g. a column Series)."""
    if text is not None and not isinstance(text, str):
        raise ValidationError(field, f"must be text (or None for the default), got {type(text).__name__}: {text!r}")
    return text


def _view(*arrays, pad: float = 0.05):
    """(low, high) of the finite values with a margin; None when there is none."""
    vals = np.concatenate([np.asarray(a, float).ravel() for a in arrays])
    vals = vals[np.isfinite(vals)]
    if not vals.size:
        return None
    a, b = float(vals.min()), float(vals.max())
    m = pad * (b - a) if b > a else pad * max(abs(a), 1.0)
    return a - m, b + m


def _clip_band(low, high, value, reference=None, pad: float = 0.08):
    """Interval ends with +-inf replaced by the edge of the finite view (None when nothing is infinite).

    Returns ``(low, high, (edge_low, edge_high))``; NaN stays NaN (nothing is drawn for it).
    """
    low, high = np.asarray(low, float), np.asarray(high, float)
    if not (np.isinf(low).any() or np.isinf(high).any()):
        return low, high, None
    view = _view(low, high, value, [] if reference is None else [reference], pad=pad) or (0.0, 1.0)
    return np.clip(low, *view), np.clip(high, *view), view


def forest_plot(frame: pd.DataFrame, label: str = "estimator", value: str = "value", low: str = "ci_low",
                high: str = "ci_high", reference: float | None = None, reference_label: str = "truth", ax=None,
                title: str | None = None, xlabel: str | None = None):
    """Point estimates with interval bars, one row per entry of ``frame`` (e.g. ``evaluate_policy`` output).

    ``reference`` draws a vertical line (a known truth or an on-policy value). ``xlabel`` names the
    x-axis, e.g. "click rate" (None: the ``value`` column's name; "" for no label).

    Undefined and unbounded intervals are drawn, not dropped: an infinite end (a studentized
    interval can be (-inf, x]) runs to the edge of the plot and ends in an arrow (``<`` or ``>``);
    a row whose estimate is NaN is labelled "(undefined)", one whose interval has a NaN end
    "(no interval)". Rows with a NaN estimate are also named in a RuntimeWarning (no point is drawn for
    them; a defined interval still is). An interval whose lower end lies above its upper end is refused,
    naming the row.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np, pandas as pd
    >>> from workbench.ope import evaluate_policy
    >>> from workbench.plotting import forest_plot
    >>> rng = np.random.default_rng(0)
    >>> log = pd.DataFrame({"action": rng.integers(0, 2, 500), "reward": rng.random(500),
    ...                     "propensity": 0.5, "pi_0": 0.8, "pi_1": 0.2})
    >>> res = evaluate_policy(log, ["pi_0", "pi_1"], ["ips", "snips"], n_bootstrap=200, random_state=0)
    >>> ax = forest_plot(res, reference=0.5, reference_label="on-policy value", xlabel="mean reward")
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_legend_handles_labels()[1], ax.get_xlabel()
    (['ips', 'snips'], ['on-policy value'], 'mean reward')
    >>> plt.close("all")

    An infinite interval end becomes an arrow at the edge of the plot; a NaN end is labelled:

    >>> frame = pd.DataFrame({"estimator": ["a", "b", "c"], "value": [0.52, 0.49, 0.50],
    ...                       "ci_low": [0.41, np.nan, 0.46], "ci_high": [0.63, 0.55, np.inf]})
    >>> ax = forest_plot(frame)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['a', 'b (no interval)', 'c']
    >>> sum(len(line.get_xdata()) for line in ax.lines if line.get_marker() == ">")
    1
    >>> plt.close("all")
    """
    _frame(frame, [label, value, low, high])
    _numbers(frame, [value, low, high])
    reference = _line(reference, "reference")
    xlabel = _label(xlabel, "xlabel")
    v = frame[value].to_numpy(float)
    lo, hi = frame[low].to_numpy(float), frame[high].to_numpy(float)
    names = frame[label].astype(str).to_numpy(object)
    # before any figure is opened: a reversed interval was drawn as if it were one, silently
    crossed = lo > hi  # (NaN ends compare False: those are "(no interval)")
    if crossed.any():
        j = int(np.argmax(crossed))
        raise_if_any(crossed, f"frame[{low!r}]", f"must be <= frame[{high!r}] (an interval's lower end above its "
                                                 "upper end)", lo,
                     hint=f"row {j} ({label} {names[j]!r}) has {low}={lo[j]:g} > {high}={hi[j]:g}")
    undefined = np.isnan(v)
    if undefined.any():
        import warnings

        shown = ", ".join(map(repr, names[undefined][:5])) + (", ..." if undefined.sum() > 5 else "")
        warnings.warn(f"forest_plot: {int(undefined.sum())} of {v.size} rows have a NaN {value} ({shown}); no "
                      "point is drawn for them and they are labelled '(undefined)'", RuntimeWarning, stacklevel=2)
    ax = _ax(ax, figsize=(6, 0.45 * len(frame) + 1.2))
    y = np.arange(len(frame))[::-1]
    # matplotlib silently leaves out a segment with an infinite end: clip it to the view and mark it
    lo_d, hi_d, view = _clip_band(lo, hi, v, reference)
    if view is None and np.isinf(v).any():  # matplotlib silently drops an infinite point: clip it too
        view = _view(lo, hi, v, [] if reference is None else [reference], pad=0.08) or (0.0, 1.0)
    # the interval from its own ends, not as error bars around the point: an interval may exclude its
    # point estimate (BCa, or by rounding), and matplotlib refuses negative error bars
    ax.hlines(y, lo_d, hi_d, color=PALETTE[0], lw=1.5)
    if view is not None:
        left, right = np.isneginf(lo) | np.isneginf(hi), np.isposinf(hi) | np.isposinf(lo)
        ax.plot(np.full(left.sum(), view[0]), y[left], "<", color=PALETTE[0], ms=7)
        ax.plot(np.full(right.sum(), view[1]), y[right], ">", color=PALETTE[0], ms=7)
        v = np.clip(v, *view)
        w = view[1] - view[0]
        ax.set_xlim(view[0] - 0.03 * w, view[1] + 0.03 * w)
    ax.plot(v, y, "o", color=PALETTE[0])
    raw = frame[value].to_numpy(float)
    note = np.where(np.isnan(v), " (undefined)", np.where(np.isnan(lo) | np.isnan(hi), " (no interval)", ""))
    note = np.where(np.isposinf(raw), " (estimate +inf)", np.where(np.isneginf(raw), " (estimate -inf)", note))
    ax.set_yticks(y, [f"{n}{m}" for n, m in zip(names, note)])
    if reference is not None:
        ax.axvline(reference, color=PALETTE[1], ls="--", lw=1, label=reference_label)
        ax.legend(loc="best", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_xlabel(value if xlabel is None else xlabel)
    if title:
        ax.set_title(title)
    return ax


def weight_histogram(weights, bins: int = 50, ax=None, log: bool = True, title: str | None = None):
    """Histogram of importance weights, with their mean (should be near 1) and max marked.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from workbench.plotting import weight_histogram
    >>> w = np.random.default_rng(0).lognormal(-0.125, 0.5, size=2000)    # weights with mean ~1
    >>> ax = weight_histogram(w, bins=30)
    >>> len(ax.patches), ax.get_xlabel()
    (30, 'importance weight')
    >>> ax.get_legend_handles_labels()[1]
    ['mean 0.985', 'max 4.09']
    >>> plt.close("all")
    """
    # check_finite first: np.asarray(dtype=float) of text raised numpy's bare "could not convert string to float"
    w = check_finite(weights, "weights").ravel()
    if w.size == 0:
        raise ValidationError("weights", "is empty: nothing to plot")
    # (NaN was left out of the bars but made the marked mean NaN; inf broke matplotlib's bin range)
    raise_if_any(w < 0, "weights", "must be >= 0 (importance weights)", w)
    if not isinstance(bins, str) and np.ndim(bins) == 0:  # an edge sequence or a rule name goes to matplotlib
        bins = check_int(bins, "bins", low=1)  # 2.5 was matplotlib's TypeError, 0 its ValueError
    elif not isinstance(bins, str):  # bin edges: finite and increasing (NaN edges drew an empty plot)
        edges = check_finite(bins, "bins").ravel()
        if edges.size < 2 or (np.diff(edges) <= 0).any():
            raise ValidationError("bins", f"bin edges must be at least 2 increasing numbers, got {edges.tolist()[:6]}")
        bins = edges
    log = check_bool(log, "log")
    ax = _ax(ax)
    ax.hist(w, bins=bins, color=PALETTE[0], alpha=0.8, log=log)
    # the mean without overflow: a plain mean of weights near 1e308 was "mean inf" (and numpy's overflow warning)
    mean = _mean_no_overflow(w)
    ax.axvline(mean, color=PALETTE[1], ls="--", lw=1, label=f"mean {mean:.3g}")
    ax.axvline(w.max(), color=PALETTE[2], ls=":", lw=1, label=f"max {w.max():.3g}")
    ax.set_xlabel("importance weight")
    ax.set_ylabel("rows")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


def budget_curve(frame: pd.DataFrame, x: str = "labels", y: str = "value", hue: str = "strategy",
                 low: str | None = None, high: str | None = None, reference: float | None = None, ax=None,
                 ylabel: str | None = None, title: str | None = None, xlabel: str | None = None):
    """Label-budget curves: one line per ``hue`` group, with an optional band between ``low`` and ``high``.

    ``xlabel`` and ``ylabel`` name the axes (None: the ``x`` and ``y`` column names; "" for no label).

    A NaN band end leaves a gap in the band; an infinite one runs to the edge of the plot (whose
    y-range is then that of the finite values).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import pandas as pd
    >>> from workbench.plotting import budget_curve
    >>> curves = pd.DataFrame({"strategy": ["random"] * 3 + ["active"] * 3,
    ...                        "labels": [50, 100, 200] * 2,
    ...                        "value": [0.30, 0.21, 0.15, 0.20, 0.14, 0.10]})
    >>> curves = curves.assign(low=curves["value"] - 0.03, high=curves["value"] + 0.03)
    >>> ax = budget_curve(curves, low="low", high="high", reference=0.1, ylabel="error")
    >>> ax.get_legend_handles_labels()[1], ax.get_xlabel(), ax.get_ylabel()
    (['random', 'active'], 'labels', 'error')
    >>> len(ax.collections)    # one band per strategy
    2
    >>> plt.close("all")
    """
    if (low is None) != (high is None):
        raise ValidationError("low" if low is None else "high", "a band needs both low= and high=")
    if hue is None:  # one line: groupby(None) was pandas' TypeError
        frame = frame.assign(_one_line="") if isinstance(frame, pd.DataFrame) else frame
        hue = "_one_line"
    _frame(frame, [x, y, hue, low, high])
    _numbers(frame, [x, y, low, high])
    reference = _line(reference, "reference")
    xlabel, ylabel = _label(xlabel, "xlabel"), _label(ylabel, "ylabel")
    ax = _ax(ax)
    f, view = frame.reset_index(drop=True), None
    if low is not None:
        band_lo, band_hi, view = _clip_band(f[low], f[high], f[y], reference)
        f = f.assign(_band_lo=band_lo, _band_hi=band_hi)
    # dropna=False: rows whose hue is missing are a line of their own ("nan"), not silently dropped
    for i, (name, g) in enumerate(f.groupby(hue, sort=False, dropna=False)):
        g = g.sort_values(x, kind="stable")
        color = PALETTE[i % len(PALETTE)]
        ax.plot(g[x], g[y], color=color, label=str(name))
        if low is not None:
            ax.fill_between(g[x], g["_band_lo"], g["_band_hi"], color=color, alpha=0.15, lw=0)
    if view is not None:
        ax.set_ylim(*view)
    if reference is not None:
        ax.axhline(reference, color="k", ls="--", lw=1)
    ax.set_xlabel(x if xlabel is None else xlabel)
    ax.set_ylabel(y if ylabel is None else ylabel)
    if hue != "_one_line":  # one line (hue=None) needs no legend
        ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Resampling pillar: critical-difference diagram (Demsar 2006)
# ---------------------------------------------------------------------------------------------
def _cd_cliques(names, ranks, cd=None, pairwise=None):
    """Maximal runs of consecutive (by rank) models with no significant difference among them."""
    k = len(names)
    sig = np.zeros((k, k), dtype=bool)
    if pairwise is not None and len(pairwise):
        pos = {n: i for i, n in enumerate(names)}
        for a, b, s in zip(pairwise["a"], pairwise["b"], pairwise["significant"]):
            if a in pos and b in pos:
                sig[pos[a], pos[b]] = sig[pos[b], pos[a]] = bool(s)
    elif cd is not None and np.isfinite(cd):
        sig = np.abs(ranks[:, None] - ranks[None, :]) > cd
    elif cd is None or np.isnan(cd):
        return []  # no test given: joining every model would claim "not significantly different"
    cliques = []
    for i in range(k):
        j = i
        while j + 1 < k and not sig[i:j + 2, i:j + 2].any():
            j += 1
        if j > i and not any(c0 <= i and j <= c1 for c0, c1 in cliques):
            cliques.append((i, j))
    return cliques


def critical_difference_diagram(result=None, *, mean_ranks=None, cd: float | None = None, pairwise=None,
                                ax=None, title: str | None = None):
    """Critical-difference diagram: mean ranks on an axis (1 = best, left), thick bars joining
    algorithms that are NOT significantly different, and the Nemenyi CD as a scale bar.

    ``result`` is a :class:`workbench.resample.RankTestResult` (from ``nemenyi_test``: cliques from
    the CD; from ``wilcoxon_holm_test``: cliques from the Holm-adjusted pairwise tests). Or pass
    ``mean_ranks`` (Series or mapping name -> mean rank) with ``cd`` and/or a ``pairwise`` frame
    (columns a, b, significant). Drawn by hand with matplotlib: scikit-posthocs' version needs a
    significance matrix, does not draw the CD bar and would add seaborn to our dependencies.
    With ``mean_ranks`` but neither ``cd`` nor ``pairwise`` no bar is drawn (there is no test to
    say which models are indistinguishable); ``cd=inf`` joins them all.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from workbench.plotting import critical_difference_diagram
    >>> from workbench.resample import nemenyi_test
    >>> scores = np.random.default_rng(0).random((12, 4)) + [0.3, 0.2, 0.0, 0.0]    # 12 data sets
    >>> res = nemenyi_test(scores, names=["a", "b", "c", "d"])
    >>> ax = critical_difference_diagram(res)
    >>> [t.get_text() for t in ax.texts if "(" in t.get_text() or "CD" in t.get_text()]
    ['a (1.83)', 'b (2.17)', 'c (2.58)', 'd (3.42)', 'CD = 1.35']
    >>> plt.close("all")

    Or from mean ranks and a critical difference of your own:

    >>> ax = critical_difference_diagram(mean_ranks={"x": 1.4, "y": 2.1, "z": 2.5}, cd=0.9)
    >>> ax.texts[-1].get_text()
    'CD = 0.90'
    >>> plt.close("all")
    """
    if result is not None:
        if not (hasattr(result, "mean_ranks") and hasattr(result, "critical_difference")):
            raise ValidationError("result", f"must be a RankTestResult (friedman_test / nemenyi_test), got "
                                            f"{type(result).__name__}", hint="or pass mean_ranks= (and cd= or "
                                                                             "pairwise=) by keyword")
        mr = result.mean_ranks
        names = list(mr["name"])
        ranks = mr["mean_rank"].to_numpy(float)
        cd = result.critical_difference if cd is None else cd
        pairwise = result.pairwise if (pairwise is None and len(result.pairwise)
                                       and not np.isfinite(result.critical_difference)) else pairwise
    elif mean_ranks is not None:
        s = pd.Series(mean_ranks, dtype=float).sort_values(kind="stable")
        names, ranks = [str(i) for i in s.index], s.to_numpy(float)
    else:
        raise ValidationError("mean_ranks", "pass a RankTestResult or mean_ranks=")
    if len(names) == 0:
        raise ValidationError("mean_ranks", "is empty: no algorithm to plot")
    if pairwise is not None:
        if hasattr(pairwise, "pairwise") and hasattr(pairwise, "mean_ranks"):
            pairwise = pairwise.pairwise  # a RankTestResult (e.g. wilcoxon_holm_test) passed whole
        if not isinstance(pairwise, pd.DataFrame):
            raise ValidationError("pairwise", f"must be a pandas DataFrame or a RankTestResult, got "
                                              f"{type(pairwise).__name__}")
        check_columns(pairwise, ["a", "b", "significant"], "pairwise")  # no rows: no pair is significant
        # A pair naming no plotted model would be skipped, and an unlisted pair counts as "not
        # significant": names spelt differently (1 vs "1") would silently join every model.
        unknown = sorted({str(v) for v in pd.concat([pairwise["a"], pairwise["b"]])} - set(names))
        if unknown:
            raise ValidationError("pairwise", f"names models not in the diagram: {unknown}; the diagram has {names}")
        pairwise = pairwise.assign(a=pairwise["a"].astype(str), b=pairwise["b"].astype(str))
    from ._validation import raise_if_any

    raise_if_any(~np.isfinite(ranks), "mean_ranks", "must be finite (no NaN or inf)", ranks)
    # ranks start at 1; the top is k for k algorithms, or more when a few of a larger comparison are drawn, so it
    # is bounded loosely: the axis has a tick per rank, and scores passed as ranks (20000) drew 20000 ticks
    top = max(len(ranks), 100)
    raise_if_any((ranks < 1 - 1e-9) | (ranks > top), "mean_ranks", f"must be mean ranks, in [1, {top}] (ranks "
                 "start at 1; were scores passed?)", ranks)
    if cd is not None and (isinstance(cd, (bool, np.bool_)) or not isinstance(cd, (int, float, np.integer,
                                                                                  np.floating))):
        raise ValidationError("cd", f"must be a number (or None), got {cd!r}")  # "1" was a bare TypeError
    if cd is not None and not (cd >= 0):  # NaN is allowed: "no CD" (Holm-Wilcoxon results carry one)
        if not np.isnan(cd):
            raise ValidationError("cd", f"must be >= 0, got {cd}")
    order = np.argsort(ranks, kind="stable")
    names = [names[i] for i in order]
    ranks = ranks[order]
    k = len(names)
    half = (k + 1) // 2
    ax = _ax(ax, figsize=(7, 1.2 + 0.32 * half))
    lo, hi = 1, max(k, int(np.ceil(ranks.max())))
    y_axis = 0.0
    ax.hlines(y_axis, lo, hi, color="k", lw=1)
    for t in range(lo, hi + 1):
        ax.vlines(t, y_axis, y_axis + 0.08, color="k", lw=1)
        ax.text(t, y_axis + 0.14, str(t), ha="center", va="bottom", fontsize=9)
    step = 0.32
    for i, (name, r) in enumerate(zip(names, ranks)):
        left = i < half
        row = (i if left else k - 1 - i) + 1
        y = -row * step - 0.25
        x_text = lo - 0.1 if left else hi + 0.1
        ax.plot([r, r, x_text], [y_axis, y, y], color=PALETTE[0], lw=1)
        ax.text(x_text - 0.05 if left else x_text + 0.05, y, f"{name} ({r:.2f})", ha="right" if left else "left",
                va="center", fontsize=9)
    for c, (i, j) in enumerate(_cd_cliques(names, ranks, cd, pairwise)):
        y = -0.12 - 0.08 * c
        ax.hlines(y, ranks[i] - 0.03, ranks[j] + 0.03, color=PALETTE[1], lw=4, alpha=0.9)
    if cd is not None and np.isfinite(cd):
        ax.hlines(y_axis + 0.5, lo, lo + cd, color="k", lw=2)
        ax.vlines([lo, lo + cd], y_axis + 0.45, y_axis + 0.55, color="k", lw=1)
        ax.text(lo + cd / 2, y_axis + 0.58, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    ax.set_xlim(lo - 2.2, hi + 2.2)
    ax.set_ylim(-(half + 1) * step - 0.3, 0.95)
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Active pillar: identification curves and risk traces
# ---------------------------------------------------------------------------------------------
def identification_curve(curves: pd.DataFrame, y: str = "p_best", task: str | None = None, level: float = 0.9,
                         ax=None, title: str | None = None):
    """P(holding the best model) against labels, one line per strategy, with +-2 s.e. bands.

    ``curves`` is ``benchmark_selection(...).curves``; ``y`` is "p_best" or "p_within_1pt"; ``task``
    picks one task (required when ``curves`` holds several).
    A dotted line marks ``level`` (90%).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from workbench.active import benchmark_selection
    >>> from workbench.data import PredictionLog
    >>> from workbench.plotting import identification_curve
    >>> rng = np.random.default_rng(0)
    >>> zoo = PredictionLog(rng.dirichlet(np.ones(3), size=(4, 100)), labels=rng.integers(0, 3, 100))
    >>> res = benchmark_selection([("toy", zoo)], ["random", "auto"], budgets=[5, 10, 20], seeds=3)
    >>> ax = identification_curve(res.curves, task="toy")
    >>> ax.get_ylabel(), ax.get_legend_handles_labels()[1]
    ('P(pick is the best model)', ['random', 'auto'])
    >>> plt.close("all")
    """
    level = _line(level, "level", 0.0, 1.0)  # a probability: 5 was drawn off the chart
    if hasattr(curves, "curves") and not isinstance(curves, pd.DataFrame):  # a SelectionBenchmark: its curves
        curves = curves.curves
    _frame(curves, ["labels", "strategy", y, f"{y}_se", None if task is None else "task"], "curves")
    if task is None and "task" in curves.columns and curves["task"].nunique() > 1:
        # one line per strategy would zigzag through every task's rows at each budget
        raise ValidationError("task", f"is needed when curves hold several tasks: pick one of "
                                      f"{list(dict.fromkeys(curves['task']))}")
    f = curves if task is None else curves[curves["task"] == task]
    if len(f) == 0:  # an empty plot would look like a strategy that never finds the best model
        raise ValidationError("task", f"has no rows in curves: got {task!r}, the tasks are "
                                      f"{list(dict.fromkeys(curves['task']))}")
    se = f[f"{y}_se"]
    f = f.assign(_lo=(f[y] - 2 * se).clip(0, 1), _hi=(f[y] + 2 * se).clip(0, 1))
    ax = budget_curve(f, x="labels", y=y, hue="strategy", low="_lo", high="_hi", ax=ax,
                      ylabel="P(pick is the best model)" if y == "p_best" else "P(pick within 1 point)", title=title)
    ax.axhline(level, color="k", ls=":", lw=1)  # (checked above)
    ax.set_ylim(-0.02, 1.02)
    return ax


def _trace_names(traces) -> list[str]:
    """Legend labels: the methods, with the surrogate where two traces share a method (two "lure" lines, with
    and without a surrogate, were both labelled "lure"), numbered if that still repeats."""
    from collections import Counter

    names = [str(t.method) for t in traces]
    shared = {k for k, c in Counter(names).items() if c > 1}
    names = [f"{n} ({t.diagnostics.get('surrogate')})" if n in shared and t.diagnostics.get("surrogate") else n
             for n, t in zip(names, traces)]
    seen, count = Counter(), Counter(names)
    out = []
    for n in names:
        seen[n] += 1
        out.append(f"{n} #{seen[n]}" if count[n] > 1 else n)
    return out


def risk_trace_plot(traces, truth: float | None = None, ax=None, title: str | None = None):
    """Running risk estimates with their intervals, one line per trace (``estimate_risk`` results:
    one trace, a sequence of them, or a dict ``{label: trace}``).

    Each line is labelled by its dict key, else by the trace's method; traces sharing a method are told
    apart by their surrogate ("lure (self)", "lure (GaussianNB)"), then by number.

    A NaN interval end leaves a gap in the band; an infinite one runs to the edge of the plot.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from workbench.active import estimate_risk
    >>> from workbench.plotting import risk_trace_plot
    >>> rng = np.random.default_rng(0)
    >>> probs = rng.dirichlet(np.ones(3), size=500)
    >>> labels = rng.integers(0, 3, 500)
    >>> traces = [estimate_risk(probs, labels, 50, method=m, random_state=0) for m in ("lure", "iid")]
    >>> ax = risk_trace_plot(traces, truth=float(np.mean(probs.argmax(axis=1) != labels)))
    >>> ax.get_legend_handles_labels()[1], ax.get_ylabel()
    (['lure', 'iid', 'true risk'], 'estimated risk')
    >>> plt.close("all")
    """
    if isinstance(traces, dict):
        names = [str(k) for k in traces]
        traces = list(traces.values())
    else:
        if hasattr(traces, "estimates"):  # one RiskTrace
            traces = [traces]
        elif isinstance(traces, (list, tuple)):
            traces = list(traces)
        else:  # None or a frame: TypeError / AttributeError from deep inside
            raise ValidationError("traces", f"must be estimate_risk results (a RiskTrace, a list of them or a dict "
                                            f"of them), got {type(traces).__name__}")
        bad = next((t for t in traces if not hasattr(t, "method")), None)
        if bad is not None:
            raise ValidationError("traces", f"must be estimate_risk results (RiskTrace), got {type(bad).__name__}")
        names = _trace_names(traces)
    if not traces:
        raise ValidationError("traces", "is empty: nothing to plot")
    bad = next((t for t in traces if not all(hasattr(t, a) for a in ("estimates", "ci_low", "ci_high", "method"))),
               None)
    if bad is not None:  # a frame, a list of numbers or None: AttributeError / TypeError from deep inside
        raise ValidationError("traces", f"must be estimate_risk results (RiskTrace), got {type(bad).__name__}")
    truth = _line(truth, "truth")
    lows = [np.asarray(t.ci_low, float) for t in traces]
    highs = [np.asarray(t.ci_high, float) for t in traces]
    ests = [np.asarray(t.estimates, float) for t in traces]
    _, _, view = _clip_band(np.concatenate(lows), np.concatenate(highs), np.concatenate(ests), truth)
    ax = _ax(ax)
    for i, t in enumerate(traces):
        color = PALETTE[i % len(PALETTE)]
        m = np.arange(1, t.budget + 1)
        ax.plot(m, ests[i], color=color, label=names[i])
        lo, hi = (lows[i], highs[i]) if view is None else (np.clip(lows[i], *view), np.clip(highs[i], *view))
        ax.fill_between(m, lo, hi, color=color, alpha=0.15, lw=0)
    if view is not None:
        ax.set_ylim(*view)
    if truth is not None:
        ax.axhline(truth, color="k", ls="--", lw=1, label="true risk")
    ax.set_xlabel("labels")
    ax.set_ylabel("estimated risk")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Validity report: interval coverage and type-I error (workbench.validity)
# ---------------------------------------------------------------------------------------------
def coverage_plot(frame: pd.DataFrame, ax=None, by: str = "method", label=("scenario", "n"), title: str | None = None):
    """Observed coverage per method, with the Monte Carlo pass band and the nominal level.

    ``frame`` is the output of :func:`workbench.validity.interval_coverage` (or the OPE / active
    variants): one row per (``label`` columns, ``by``). Each group of rows (e.g. a scenario at one
    n) is a line of the plot; its grey bar is the band ``[band_low, band_high]`` around the
    nominal level (dashed). Filled markers lie inside the band, hollow ones outside.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from workbench.plotting import coverage_plot
    >>> from workbench.validity import interval_coverage
    >>> cov = interval_coverage(["normal-mean"], methods=["percentile", "studentized"], n=[20, 50],
    ...                         n_replicates=100, n_resamples=199, progress=False)
    >>> ax = coverage_plot(cov)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['normal-mean · n=20', 'normal-mean · n=50']
    >>> ax.get_legend_handles_labels()[1]
    ['percentile', 'studentized']
    >>> plt.close("all")
    """
    label = [label] if isinstance(label, str) else list(label)
    _frame(frame, [*label, by, "coverage", "band_low", "band_high", "within_band", "level"])
    _numbers(frame, ["coverage", "band_low", "band_high", "level"])
    if not pd.api.types.is_bool_dtype(frame["within_band"].dtype):  # the text "False" read as True
        raise ValidationError("frame['within_band']", f"must be booleans, got dtype {frame['within_band'].dtype}")
    frame = frame.reset_index(drop=True)  # frames joined with pd.concat repeat index labels
    groups = list(dict.fromkeys(map(tuple, frame[label].astype(str).to_numpy())))
    keys = list(dict.fromkeys(frame[by].astype(str)))
    glab = frame[label].astype(str).agg(tuple, axis=1)
    # One line has one band and one nominal level: rows of different levels on a line (frames of
    # two alphas concatenated) would merge two bands into one grey bar.
    n_levels = frame.groupby(glab, sort=False)["level"].nunique()
    if (n_levels > 1).any():
        line = " · ".join(n_levels.index[n_levels > 1][0])
        raise ValidationError("frame", f"rows of one line ({', '.join(label)} = {line}) have different levels "
                                       f"{sorted(frame['level'].unique())}: add 'level' to label=")
    ax = _ax(ax, figsize=(7, 0.38 * len(groups) + 1.4))
    ypos = {g: len(groups) - 1 - i for i, g in enumerate(groups)}
    span = 0.6
    off = {k: (i - (len(keys) - 1) / 2) * span / max(len(keys), 1) for i, k in enumerate(keys)}
    for g in groups:
        rows = frame[glab == g]
        ax.plot([rows["band_low"].min(), rows["band_high"].max()], [ypos[g]] * 2, color="0.85", lw=9,
                solid_capstyle="butt", zorder=1)
    for i, k in enumerate(keys):
        rows = frame[frame[by].astype(str) == k]
        y = np.array([ypos[g] for g in glab[rows.index]]) + off[k]
        inside = rows["within_band"].to_numpy(bool)
        color = PALETTE[i % len(PALETTE)]
        ax.scatter(rows["coverage"][inside], y[inside], color=color, s=28, zorder=3, label=k)
        ax.scatter(rows["coverage"][~inside], y[~inside], facecolor="white", edgecolor=color, s=28, zorder=3,
                   linewidths=1.5, label=None if inside.any() else k)
    levels = frame.groupby(glab, sort=False)["level"].first()
    if levels.nunique() == 1:
        level = float(levels.iloc[0])
        ax.axvline(level, color="k", ls="--", lw=1)
        nominal = f"nominal {100 * level:g}%"
    else:  # lines of different levels (e.g. 90% and 95% intervals): each line gets its own mark
        ax.vlines(levels.to_numpy(float), [ypos[g] - 0.45 for g in levels.index],
                  [ypos[g] + 0.45 for g in levels.index], color="k", ls="--", lw=1)
        nominal = "nominal: dashed, per line"
    ax.set_yticks([ypos[g] for g in groups], [" · n=".join(g) if label == ["scenario", "n"] else " · ".join(g)
                                              for g in groups])
    lo = min(float(frame["coverage"].min()), float(frame["band_low"].min()))
    ax.set_xlim(max(0.0, lo - 0.02), min(1.0, max(float(frame["coverage"].max()), float(frame["band_high"].max()))
                                         + 0.01))
    ax.set_xlabel(f"coverage ({nominal}; grey: ±3.5 MC s.e. band; hollow: outside)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1 - 0.5 / max(len(groups), 1)), frameon=False,
              fontsize="small", ncol=min(len(keys), 5))
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


def type1_plot(frame: pd.DataFrame, ax=None, log: bool = False, title: str | None = None):
    """Rejection rate under a true null per test (``workbench.validity.type1_error`` output).

    Bars with +-2 Monte Carlo standard errors; the grey span is the pass band around the nominal
    alpha (dashed). Red bars are liberal (above the band: false discoveries), grey ones
    conservative (below: safe but less power), blue ones within the band.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from workbench.plotting import type1_plot
    >>> from workbench.validity import type1_error
    >>> t1 = type1_error(["naive-resampled-t", "nadeau-bengio-t"], n_datasets=200, progress=False)
    >>> ax = type1_plot(t1)
    >>> [t.get_text() for t in ax.get_yticklabels()]
    ['naive-resampled-t', 'nadeau-bengio-t']
    >>> ax.get_xlabel()
    'share of 200 null data sets rejected (nominal 0.05; grey: pass band)'
    >>> plt.close("all")
    """
    _frame(frame, ["test", "rejection_rate", "mc_se", "band_low", "band_high", "nominal", "n_datasets"])
    _numbers(frame, ["rejection_rate", "mc_se", "band_low", "band_high", "nominal", "n_datasets"])
    check_finite(frame["n_datasets"].to_numpy(), "frame['n_datasets']")  # NaN: int() of it failed below
    log = check_bool(log, "log")
    ax = _ax(ax, figsize=(7, 0.36 * len(frame) + 1.2))
    y = np.arange(len(frame))[::-1]
    colors = {"liberal": PALETTE[1], "ok": PALETTE[0], "conservative": PALETTE[5]}
    verdict = frame["verdict"] if "verdict" in frame else pd.Series("ok", index=frame.index)
    rate = frame["rejection_rate"].to_numpy(float)
    ax.barh(y, rate, color=[colors.get(v, PALETTE[0]) for v in verdict], height=0.7,
            xerr=2 * frame["mc_se"].to_numpy(float), error_kw={"lw": 1, "capsize": 2})
    band_lo, band_hi = frame["band_low"].to_numpy(float), frame["band_high"].to_numpy(float)
    nominal = frame["nominal"].to_numpy(float)
    if np.ptp(band_lo) == 0 and np.ptp(band_hi) == 0 and np.ptp(nominal) == 0:
        ax.axvspan(band_lo[0], band_hi[0], color="0.85", zorder=0)
        ax.axvline(nominal[0], color="k", ls="--", lw=1)
    else:
        # frames of different R or alpha concatenated (e.g. a rerun with more data sets): the first
        # row's band drawn for every row showed other rows' rates against a band that is not theirs
        ax.barh(y, band_hi - band_lo, left=band_lo, height=0.9, color="0.85", zorder=0)
        ax.vlines(nominal, y - 0.45, y + 0.45, color="k", ls="--", lw=1)
    ax.set_yticks(y, frame["test"].astype(str))
    if log:
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        positive = rate[rate > 0]
        left = max(1e-3, 0.5 * min(float(band_lo.min()), positive.min() if positive.size else 1.0))
        right = min(1.0, 1.3 * max(float(band_hi.max()), float(rate.max())))
        ticks = [t for t in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0) if left <= t <= right]
        ax.set_xlim(left, right)
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    r_min, r_max = int(frame["n_datasets"].min()), int(frame["n_datasets"].max())
    counts = f"{r_min}" if r_min == r_max else f"{r_min}-{r_max}"
    nom = f"nominal {nominal[0]:g}" if np.ptp(nominal) == 0 else "nominal: dashed, per row"
    ax.set_xlabel(f"share of {counts} null data sets rejected ({nom}; grey: pass band)")
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    return ax
