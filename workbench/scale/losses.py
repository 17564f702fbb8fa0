"""The loss-matrix bootstrap in one streaming pass: mean losses of m models and their differences.

The per-row terms are the loss columns themselves (and their squares, for studentized
intervals); all models share each row's hashed-Poisson weight, so differences between models
are paired for free, and the result does not depend on how the rows are chunked.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from .._engine import Resampling
from .._intervals import interval
from .._validation import ValidationError, check_alpha, check_choice, check_finite
from .ope import _bca_streamed
from .reduce import TermReducer
from .sources import as_source

METHODS = ("percentile", "basic", "bca", "normal", "studentized")


class _LossBuilder:
    """Terms: the m losses; for studentized intervals also their squares and the squared
    differences to the baseline (the second moments the per-replicate standard errors need)."""

    def __init__(self, columns, squares: bool, baseline_index: int | None):
        self.columns = list(columns)
        self.squares = squares
        self.b = baseline_index

    def __call__(self, chunk, ids):
        L = check_finite(chunk[self.columns].to_numpy(dtype=np.float64), "losses")
        if self.squares:
            parts = [L, L * L]
            if self.b is not None:
                D = np.delete(L, self.b, axis=1) - L[:, [self.b]]
                parts.append(D * D)
            L = np.hstack(parts)
        return L, {}


def _loss_columns(source, columns):
    if columns is not None:
        if isinstance(columns, str) or not all(isinstance(c, str) for c in columns) or len(columns) == 0:
            raise ValidationError("columns", f"must be a non-empty list of loss column names, got {columns!r}")
        return list(columns)
    raise ValidationError("columns", "must name the loss columns (one per model) for tabular inputs")


def bootstrap_loss_matrix(data, columns: Sequence[str] | None = None, *, method: str = "percentile",
                          n_resamples: int = 2000, alpha: float = 0.05, random_state=0, baseline: str | None = None,
                          unit_id: str | None = None, chunk_size: int | None = None,
                          n_jobs: int | None = None) -> pd.DataFrame:
    """Intervals for the mean loss of each model (column), and differences to a baseline, in one pass.

    Parameters
    ----------
    data : DataFrame, iterable of chunks, Parquet path, pyarrow dataset or dask DataFrame
        One row per test point, one column per model's loss (or score).
    columns : list of str
        The loss columns.
    method : {"percentile", "basic", "bca", "normal", "studentized"}
        Bootstrap interval method; all are asymptotically valid (1 - alpha) intervals; the
        studentized one keeps coverage best on skewed losses.
    n_resamples : int
        Number of hashed-Poisson replicates (one set shared by all columns: paired).
    baseline : str, optional
        A loss column; adds rows "<col> - <baseline>" with paired intervals for each other column.
    unit_id : str, optional
        Cluster id column (rows of a unit share weights).

    Returns
    -------
    DataFrame with columns ``name, value, ci_low, ci_high, se, alpha, method, n, n_resamples``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"a": rng.random(500), "b": rng.random(500) + 0.1})
    >>> out = bootstrap_loss_matrix(df, ["a", "b"], baseline="a", n_resamples=200, random_state=0)
    >>> list(out["name"])
    ['a', 'b', 'b - a']
    """
    alpha = check_alpha(alpha)
    check_choice(method, "method", METHODS)
    source = as_source(data, chunk_size=chunk_size)
    cols = _loss_columns(source, columns)
    if baseline is not None and baseline not in cols:
        raise ValidationError("baseline", f"must be one of the loss columns {cols}, got {baseline!r}")
    resampling = Resampling.make(n_resamples, "poisson", random_state)
    m = len(cols)
    squares = method == "studentized"
    b = None if baseline is None else cols.index(baseline)
    k = (2 * m + (m - 1 if b is not None else 0)) if squares else m
    reducer = TermReducer(cols, _LossBuilder(cols, squares, b), k, resampling, moments=(method == "bca"))
    part = source.reduce(reducer, unit_id=unit_id, n_jobs=n_jobs)
    return loss_table(part, cols, method, alpha, baseline, resampling)


def _combine_mean(j):
    return lambda mm: mm[..., j]


def _combine_diff(j, b):
    return lambda mm: mm[..., j] - mm[..., b]


def loss_table(part, cols, method, alpha, baseline, resampling) -> pd.DataFrame:
    acc = part.acc
    if acc.n == 0:
        raise ValidationError("data", "has no rows")
    m = len(cols)
    means, reps_all = acc.means, acc.replicate_means
    n = acc.n
    stats = [(c, _combine_mean(j), [j]) for j, c in enumerate(cols)]
    if baseline is not None:
        b = cols.index(baseline)
        stats += [(f"{c} - {baseline}", _combine_diff(j, b), [j, b]) for j, c in enumerate(cols) if j != b]
    rows = []
    for name, comb, used in stats:
        theta = float(comb(means[None, :])[0])
        reps = np.asarray(comb(reps_all), dtype=np.float64)
        se = float(np.nanstd(reps, ddof=1))
        if method == "bca":
            sub = sorted(set(used))
            loc = {c: i for i, c in enumerate(sub)}
            comb_sub = (lambda mm, u=used, l=loc: mm[..., l[u[0]]] if len(u) == 1
                        else mm[..., l[u[0]]] - mm[..., l[u[1]]])
            lo, hi = _bca_streamed(theta, reps, part.moments, sub, means, comb_sub, alpha)
        elif method == "studentized":
            # se of a mean of (differences of) losses from the first two moments, per replicate
            var_full = _var(means, used, m)
            se_full = np.sqrt(var_full / (n - 1))
            with np.errstate(invalid="ignore", divide="ignore"):
                var_rep = _var(reps_all, used, m)
                se_rep = np.sqrt(var_rep / (acc.rep_weight - 1))
            lo, hi = interval("studentized", theta, reps, alpha, se=se_full, reps_se=se_rep)
        elif method == "normal":
            lo, hi = interval("normal", theta, reps, alpha, se=se)
        else:
            lo, hi = interval(method, theta, reps, alpha)
        rows.append({"name": name, "value": theta, "ci_low": float(lo), "ci_high": float(hi), "se": se,
                     "alpha": alpha, "method": method, "n": int(n), "n_resamples": resampling.n_replicates})
    return pd.DataFrame(rows)


def _var(mm, used, m):
    """Plug-in variance of a loss column, or of the difference of column j and the baseline b,
    from the means of the terms (..., k) built by :class:`_LossBuilder`."""
    if len(used) == 1:
        j = used[0]
        return mm[..., m + j] - mm[..., j] ** 2
    j, b = used
    slot = 2 * m + (j if j < b else j - 1)
    return mm[..., slot] - (mm[..., j] - mm[..., b]) ** 2
