"""Plots with one consistent style. Every function takes ``ax=`` (a new figure when None) and returns it."""
from __future__ import annotations

import numpy as np
import pandas as pd

PALETTE = ["#1f5a96", "#c8553d", "#2a9d8f", "#e9c46a", "#6d597a", "#8d99ae", "#f4a261", "#264653"]


def _ax(ax, figsize=(6, 4)):
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def forest_plot(frame: pd.DataFrame, label: str = "estimator", value: str = "value", low: str = "ci_low",
                high: str = "ci_high", reference: float | None = None, reference_label: str = "truth", ax=None,
                title: str | None = None):
    """Point estimates with interval bars, one row per entry of ``frame`` (e.g. ``evaluate_policy`` output).

    ``reference`` draws a vertical line (a known truth or an on-policy value).
    """
    ax = _ax(ax, figsize=(6, 0.45 * len(frame) + 1.2))
    y = np.arange(len(frame))[::-1]
    v = frame[value].to_numpy(float)
    err = np.vstack([v - frame[low].to_numpy(float), frame[high].to_numpy(float) - v])
    ax.errorbar(v, y, xerr=err, fmt="o", color=PALETTE[0], ecolor=PALETTE[0], capsize=3)
    ax.set_yticks(y, frame[label].astype(str))
    if reference is not None:
        ax.axvline(reference, color=PALETTE[1], ls="--", lw=1, label=reference_label)
        ax.legend(loc="best", frameon=False)
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title)
    return ax


def weight_histogram(weights, bins: int = 50, ax=None, log: bool = True, title: str | None = None):
    """Histogram of importance weights, with their mean (should be near 1) and max marked."""
    w = np.asarray(weights, dtype=float).ravel()
    ax = _ax(ax)
    ax.hist(w, bins=bins, color=PALETTE[0], alpha=0.8, log=log)
    ax.axvline(w.mean(), color=PALETTE[1], ls="--", lw=1, label=f"mean {w.mean():.3g}")
    ax.axvline(w.max(), color=PALETTE[2], ls=":", lw=1, label=f"max {w.max():.3g}")
    ax.set_xlabel("importance weight")
    ax.set_ylabel("rows")
    ax.legend(frameon=False)
    if title:
        ax.set_title(title)
    return ax


def budget_curve(frame: pd.DataFrame, x: str = "labels", y: str = "value", hue: str = "strategy",
                 low: str | None = None, high: str | None = None, reference: float | None = None, ax=None,
                 ylabel: str | None = None, title: str | None = None):
    """Label-budget curves: one line per ``hue`` group, with an optional band between ``low`` and ``high``."""
    ax = _ax(ax)
    for i, (name, g) in enumerate(frame.groupby(hue, sort=False)):
        g = g.sort_values(x)
        color = PALETTE[i % len(PALETTE)]
        ax.plot(g[x], g[y], color=color, label=str(name))
        if low and high:
            ax.fill_between(g[x], g[low], g[high], color=color, alpha=0.15, lw=0)
    if reference is not None:
        ax.axhline(reference, color="k", ls="--", lw=1)
    ax.set_xlabel(x)
    ax.set_ylabel(ylabel or y)
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    return ax
