"""Temporal validation of historical models on logged predictions: which model to deploy next period?

A model may only be judged on points *after* its training data (``available_from``): scoring it on
the periods it was trained on is leakage, and scoring it on the past says little about the future
under drift. :func:`temporal_backtest` replays the decision period by period, so strategies such
as "deploy the newest model" and "deploy the model that did best on the recent window" are
compared by their realised loss and regret against the best model of each period.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._validation import ValidationError, as_array, check_choice, check_int, raise_if_any
from ..data.logs import PredictionLog, _utc_naive

STRATEGIES = ("newest", "recent_best", "history_best")


def _periods(log: PredictionLog, timestamp):
    # a time-zone-aware column or a list of Timestamps is read as PredictionLog reads them (naive UTC); text
    # is never parsed
    ts = log.timestamp if timestamp is None else _utc_naive(timestamp)
    if ts is None:
        raise ValidationError("timestamp", "is needed: give PredictionLog(timestamp=...) or timestamp=")
    if ts.shape[0] != log.n_points:
        raise ValidationError("timestamp", f"must have {log.n_points} entries, got {ts.shape[0]}")
    # a NaN or NaT timestamp was a period of its own ("NaN", after every other), scored silently
    raise_if_any(pd.isna(ts), "timestamp", "must not be missing (NaN or NaT)", ts)
    values, codes = np.unique(ts, return_inverse=True)
    return values, codes


def _available_from(available_from, periods: np.ndarray, field: str = "available_from") -> np.ndarray:
    """One availability time per model, comparable with the timestamps' ``periods``; missing values are
    refused (NaN sorted after every period: the model was silently never a candidate). A list of pandas
    Timestamps (or a time-zone-aware index) is read as the timestamps are; it was refused as an object
    array, and dates as text failed with a TypeError inside the search."""
    avail = as_array(_utc_naive(available_from), field, ndim=1)
    if avail.dtype == bool:  # True / False read as periods 1 / 0 scored models on their own training periods
        raise ValidationError(field, "must be times (numbers or datetimes), got booleans")
    kinds = {"i": "n", "u": "n", "f": "n", "M": "M", "m": "m"}
    if kinds.get(avail.dtype.kind, avail.dtype.kind) != kinds.get(periods.dtype.kind, periods.dtype.kind):
        raise ValidationError(field, f"must be times of the timestamps' kind ({periods.dtype}) to be "
                                     f"compared with them, got dtype {avail.dtype}",
                              hint="pass numbers for numeric periods, datetimes (not text) for datetime timestamps")
    raise_if_any(pd.isna(avail), field, "must not be missing (NaN or NaT)", avail)
    return avail


def temporal_scores(log: PredictionLog, available_from, timestamp=None, loss: str = "zero_one") -> pd.DataFrame:
    """Mean loss of each model in each period, out of sample only (NaN before ``available_from``).

    Returns a tidy frame with columns ``model, period, loss, n`` (one row per model and period).

    Examples
    --------
    >>> from workbench.data import simulate_drifting_stream, train_historical_models
    >>> from workbench.resample import temporal_scores
    >>> stream = simulate_drifting_stream(n_periods=5, points_per_period=100, random_state=0)
    >>> log, avail = train_historical_models(stream)     # model k is trained on period k
    >>> avail.tolist()
    [1, 2, 3, 4]
    >>> scores = temporal_scores(log, avail)
    >>> scores.columns.tolist(), scores.shape             # 4 models x 5 periods
    (['model', 'period', 'loss', 'n'], (20, 4))
    >>> table = scores.pivot(index="model", columns="period", values="loss")
    >>> table.notna().sum(axis=1).tolist()                # periods after each model's training data
    [4, 3, 2, 1]
    """
    values, codes = _periods(log, timestamp)
    avail = np.searchsorted(values, _available_from(available_from, values))
    if avail.shape[0] != log.n_models:
        raise ValidationError("available_from", f"must have one entry per model ({log.n_models})")
    L = log.losses(loss, labels=None) if log.n_labelled == log.n_points else None
    if L is None:
        raise ValidationError("labels", "temporal scores need every point labelled")
    P = values.size
    # Per-period sums by bincount, one pass over the points per model; an (n_points, P) one-hot matrix
    # (1.6 GB and 19 s for 10^6 points in 200 periods) is not needed. Every period has a point (the
    # periods are the distinct timestamps), so no count is 0.
    counts = np.bincount(codes, minlength=P).astype(np.float64)
    sums = np.stack([np.bincount(codes, weights=row, minlength=P) for row in L])  # loop over models, not points
    means = sums / counts  # (m, P) per-period mean loss
    means[np.arange(P)[None, :] < avail[:, None]] = np.nan
    return pd.DataFrame({"model": np.repeat(log.model_names, P), "period": np.tile(values, log.n_models),
                         "loss": means.ravel(), "n": np.tile(counts.astype(int), log.n_models)})


def temporal_backtest(log: PredictionLog, available_from, timestamp=None, window: int = 1,
                      strategies=STRATEGIES, loss: str = "zero_one") -> pd.DataFrame:
    """Replay model choice period by period and score each strategy's pick on the next period.

    At each decision period t, the candidates are the models with ``available_from <= t``, and the
    labels of periods before t are known. Strategies:

    - ``"newest"``: the most recently available model, the largest ``available_from`` (it may have no
      out-of-sample record yet);
    - ``"recent_best"``: the lowest mean out-of-sample loss over the last ``window`` periods; a model
      with no out-of-sample points in the window is not eligible (fallback: newest, flagged);
    - ``"history_best"``: the lowest mean out-of-sample loss over all past periods.

    Returns
    -------
    DataFrame with columns ``period, strategy, model, loss, best_model, best_loss, regret, fallback``.
    ``regret`` is the chosen model's loss minus the best available model's loss in that period
    (known only in hindsight).

    Examples
    --------
    >>> from workbench.data import simulate_drifting_stream, train_historical_models
    >>> from workbench.resample import temporal_backtest
    >>> log, avail = train_historical_models(simulate_drifting_stream(n_periods=8, random_state=0))
    >>> bt = temporal_backtest(log, avail, window=1)
    >>> sorted(bt["strategy"].unique())
    ['history_best', 'newest', 'recent_best']
    """
    if isinstance(strategies, str):  # one strategy: iterating "newest" checked "n" and refused it as unknown
        strategies = [strategies]
    strategies = list(strategies)
    if not strategies:  # an empty frame without its columns, silently
        raise ValidationError("strategies", f"must name at least one of {list(STRATEGIES)}")
    for s in strategies:
        check_choice(s, "strategies", STRATEGIES)
    window = check_int(window, "window", low=1)  # 1.5 was a TypeError deep in the slicing
    scores = temporal_scores(log, available_from, timestamp, loss)
    values = np.unique(scores["period"])
    table = scores.pivot(index="model", columns="period", values="loss").loc[list(log.model_names), values]
    counts = scores.pivot(index="model", columns="period", values="n").loc[list(log.model_names), values]
    L = table.to_numpy()  # (m, P), NaN where not yet available
    N = counts.to_numpy(float)
    avail_raw = _available_from(available_from, values)
    avail_idx = np.searchsorted(values, avail_raw)
    names = np.asarray(log.model_names)
    rows = []
    for t in range(1, values.size):  # a loop over periods (decisions), each step vectorised over models
        cand = avail_idx <= t
        if not cand.any():
            continue
        # index over all models (non-candidates masked to inf), not over the candidates only
        best = int(np.nanargmin(np.where(cand, L[:, t], np.inf)))
        for s in strategies:
            fallback = False
            # by the availability times themselves: models available before the first period (or between
            # two periods) share a period index, and "newest" was then the first listed, not the latest
            newest = np.flatnonzero(cand)[np.argmax(avail_raw[cand])]
            if s == "newest":
                pick = newest
            else:
                lo = max(0, t - window) if s == "recent_best" else 0
                past_L, past_N = L[:, lo:t], np.where(np.isnan(L[:, lo:t]), 0.0, N[:, lo:t])
                tot = np.nansum(past_L * past_N, axis=1)
                cnt = past_N.sum(axis=1)
                with np.errstate(invalid="ignore", divide="ignore"):
                    mean = np.where(cand & (cnt > 0), tot / cnt, np.inf)
                if np.isfinite(mean).any():
                    pick = int(np.argmin(mean))
                else:
                    pick, fallback = newest, True
            rows.append({"period": values[t], "strategy": s, "model": names[pick], "loss": L[pick, t],
                         "best_model": names[best], "best_loss": L[best, t], "regret": L[pick, t] - L[best, t],
                         "fallback": fallback})
    if not rows:  # it was an empty frame without its columns, silently
        if values.size < 2:
            raise ValidationError("timestamp", f"the labelled points span one period ({values[0]}); a backtest "
                                               "decides at each period from the ones before it, so it needs two")
        raise ValidationError("available_from", f"no model is available by any decision period (periods "
                                                f"{values[1]} to {values[-1]}; the earliest availability is "
                                                f"{np.min(avail_raw)})")
    return pd.DataFrame(rows)


def period_losses(log: PredictionLog, available_from, period=None, timestamp=None,
                  loss: str = "zero_one") -> pd.DataFrame:
    """Per-point losses of the models available by one period, on that period's labelled points.

    The input :func:`~workbench.resample.compare_models` and
    :func:`~workbench.resample.model_confidence_set` need to compare the candidates on one period
    (typically the latest): only the models with ``available_from <= period`` are kept, so no model
    is scored on the data it was trained on.

    Parameters
    ----------
    log : PredictionLog
        With ``timestamp`` (or pass ``timestamp=``) and labels on the period's points.
    available_from : array of shape (n_models,)
        When each model may first be scored (as in :func:`temporal_scores`).
    period : scalar, optional
        One of the log's timestamps; default: the last one.
    timestamp : array of shape (n_points,), optional
        Period of each point, if not the log's own.
    loss : str
        As in :meth:`PredictionLog.losses`.

    Returns
    -------
    DataFrame of shape (labelled points in the period, available models)
        One column per available model (named, in the log's order), indexed by the point's position
        in the log. Unlabelled points of the period are left out, as :meth:`PredictionLog.losses`
        leaves them out.

    Examples
    --------
    >>> from workbench.data import simulate_drifting_stream, train_historical_models
    >>> from workbench.resample import compare_models, period_losses
    >>> log, avail = train_historical_models(simulate_drifting_stream(n_periods=5, random_state=0))
    >>> L = period_losses(log, avail)                  # the last period, models trained before it
    >>> L.shape, list(L.columns) == list(log.model_names)
    ((400, 4), True)
    >>> period_losses(log, avail, period=2).shape      # only model 0 and 1 are available by period 2
    (400, 2)
    >>> cmp = compare_models(L, baseline=L.columns[-1], n_resamples=200, random_state=0)
    """
    values, codes = _periods(log, timestamp)
    avail = _available_from(available_from, values)
    if avail.shape[0] != log.n_models:
        raise ValidationError("available_from", f"must have one entry per model ({log.n_models}), "
                                                f"got {avail.shape[0]}")
    if period is None:
        p = values.size - 1
    else:
        if np.ndim(period) != 0:
            # an array of periods (the points' periods, passed for the log's timestamps) was read as its first
            # element, silently
            raise ValidationError("period", f"must be a scalar (one of the log's periods), got shape "
                                            f"{np.shape(period)}",
                                  hint="the points' periods go to timestamp=; call once per period to compare "
                                       "several")
        # read as the availability times are read (same kind as the timestamps, not missing): a date as
        # text or a NaN period is refused, not matched against nothing
        at = np.flatnonzero(values == _available_from(np.atleast_1d(period), values, "period")[0])
        if at.size == 0:
            shown = ", ".join(map(str, values[:5])) + (", ..." if values.size > 5 else "")
            raise ValidationError("period", f"must be one of the log's {values.size} periods ({shown}), got {period!r}")
        p = int(at[0])
    eligible = np.flatnonzero(avail <= values[p])
    if eligible.size == 0:
        raise ValidationError("available_from", f"no model is available by period {values[p]} "
                                                f"(earliest availability {avail.min()})")
    rows = np.flatnonzero(codes == p)
    sub = log.subset_points(rows).subset_models(eligible)
    lab = np.ones(rows.size, bool) if sub.labelled is None else np.asarray(sub.labelled, bool)
    # losses() scores the labelled points, in order: rows[lab] are their positions in the whole log
    return pd.DataFrame(sub.losses(loss).T, columns=list(sub.model_names), index=pd.Index(rows[lab], name="point"))
