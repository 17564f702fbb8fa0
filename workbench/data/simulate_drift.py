"""A labelled stream whose concept drifts over time, and a history of models trained along it.

Used to study *selecting among historical models*: at each period you may deploy any model trained
so far; the newest one has seen the most recent data, but under recurring (seasonal) drift or after
an anomalous period an older model can be better.
"""
from __future__ import annotations

import warnings

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._random import check_random_state
from .._random import seed_unseeded
from .._validation import (ValidationError, as_array, check_choice, check_finite, check_int, check_integer_in_range,
                           check_length, check_real)
from ..results import frame_to_html
from .logs import PredictionLog

DRIFTS = ("recurring", "gradual", "abrupt")


@dataclass(frozen=True, eq=False)
class DriftingStream:
    """Features ``X`` (n, d), labels ``y`` (n,), the ``period`` (n,) of each point, and per-period truth.

    ``concept`` (n_periods, d) is the true decision direction in each period; ``corrupted`` flags
    periods whose training labels were corrupted (an anomaly a model can learn from).

    Examples
    --------
    >>> from workbench.data import simulate_drifting_stream
    >>> s = simulate_drifting_stream(n_periods=4, points_per_period=100, anomaly_period=2, random_state=0)
    >>> s
    DriftingStream(400 points, 5 features, 4 periods, 1 corrupted)
    >>> s.concept.shape, s.corrupted.tolist()
    ((4, 5), [False, False, True, False])
    >>> s.summary()["corrupted periods"]
    1
    """

    X: np.ndarray
    y: np.ndarray
    period: np.ndarray
    concept: np.ndarray
    corrupted: np.ndarray

    def __post_init__(self):
        # A stream built by hand was not checked: a y shorter than X, a NaN label or a fractional period
        # surfaced in train_historical_models as a bare IndexError or scikit-learn's NaN error. Checked here,
        # by field; the conversions are lossless (integral float labels and periods become int64).
        X = check_finite(as_array(self.X, "X", ndim=2), "X")
        n, d = X.shape
        y = as_array(self.y, "y", ndim=1)
        # binary labels 0 / 1 (the models' probabilities have 2 class columns); booleans read as 0 / 1
        y = check_integer_in_range(y.astype(np.int64) if y.dtype == bool else y, "y", 0, 2)
        check_length(y, n, "y", ref="X")
        concept = check_finite(as_array(self.concept, "concept", ndim=2), "concept")
        if concept.shape[1] != d:
            raise ValidationError("concept", f"must have one row per period and one column per feature of X "
                                             f"(n_periods, {d}), got shape {concept.shape}")
        n_periods = concept.shape[0]
        period = check_integer_in_range(self.period, "period", 0, n_periods)  # indexes concept's rows
        check_length(period, n, "period", ref="X")
        corrupted = as_array(self.corrupted, "corrupted", ndim=1)
        if corrupted.dtype != bool:
            raise ValidationError("corrupted", f"must be booleans (one per period), got dtype {corrupted.dtype}")
        if corrupted.shape[0] != n_periods:
            raise ValidationError("corrupted", f"must have one flag per period ({n_periods}, the rows of concept), "
                                               f"got {corrupted.shape[0]}")
        for name, arr in (("X", X), ("y", y), ("period", period), ("concept", concept), ("corrupted", corrupted)):
            object.__setattr__(self, name, arr)

    @property
    def n_periods(self) -> int:
        """Number of periods (rows of ``concept``)."""
        return int(self.concept.shape[0])

    def summary(self) -> dict:
        """Points, features, periods, positive share and corrupted periods, as a dict (the HTML repr's row)."""
        return {"points": int(self.X.shape[0]), "features": int(self.X.shape[1]), "periods": self.n_periods,
                "positive share": float(self.y.mean()), "corrupted periods": int(self.corrupted.sum())}

    def to_frame(self) -> pd.DataFrame:
        """A tidy frame, one row per point: ``period``, the features ``x0, x1, ...``, the label ``y``
        and ``corrupted`` (whether the point's period had its training labels corrupted), as the
        four log types give theirs.

        Examples
        --------
        >>> from workbench.data import simulate_drifting_stream
        >>> s = simulate_drifting_stream(n_periods=3, points_per_period=10, n_features=2, random_state=0)
        >>> s.to_frame().columns.tolist(), len(s.to_frame())
        (['period', 'x0', 'x1', 'y', 'corrupted'], 30)
        """
        frame = pd.DataFrame(self.X, columns=[f"x{j}" for j in range(self.X.shape[1])])
        frame.insert(0, "period", self.period)
        frame["y"] = self.y
        frame["corrupted"] = self.corrupted[self.period]
        return frame

    def __repr__(self) -> str:
        # The default dataclass repr would print every array in full.
        return (f"DriftingStream({self.X.shape[0]:,} points, {self.X.shape[1]} features, {self.n_periods} periods, "
                f"{int(self.corrupted.sum())} corrupted)")

    def _repr_html_(self) -> str:
        return frame_to_html(pd.DataFrame([self.summary()]), caption="DriftingStream")


def simulate_drifting_stream(n_periods: int = 12, points_per_period: int = 400, n_features: int = 5,
                             drift: str = "recurring", season: int = 4, angle: float = 0.6,
                             label_noise: float = 0.05, anomaly_period: int | None = None,
                             random_state=None) -> DriftingStream:
    """Simulate a binary classification stream with a drifting concept.

    y = 1{x . theta_t + e > 0}, x ~ N(0, I), with label noise ``label_noise``. The direction theta_t
    drifts: "recurring" swings the direction between -``angle`` and +``angle`` radians with period
    ``season`` (seasonality: the model trained one season ago matches today's concept); "gradual" rotates by ``angle`` radians per period;
    "abrupt" switches to a new direction halfway. ``anomaly_period`` flips 40% of the labels of that
    period (a logging bug), so a model trained on it is poor. ``season`` is an integer >= 3 (it is
    checked whatever the drift), ``label_noise`` is in [0, 0.5] and ``angle`` is finite.

    Examples
    --------
    >>> from workbench.data import simulate_drifting_stream
    >>> s = simulate_drifting_stream(n_periods=6, points_per_period=100, random_state=0)
    >>> s.X.shape, s.n_periods
    ((600, 5), 6)
    """
    check_choice(drift, "drift", DRIFTS)
    # Each parameter by name (even when the chosen drift does not use it): 2.5 periods or 100.5 points
    # would fail deep in numpy, season 0 or a NaN angle would make every concept NaN (all labels 0), and
    # a label noise of 2 would flip every label. A season of 1 or 2 samples sin(2 pi t / season) only
    # at its zeros: the "recurring" concept would never move.
    n_periods = check_int(n_periods, "n_periods", low=2)
    points_per_period = check_int(points_per_period, "points_per_period", low=10)
    n_features = check_int(n_features, "n_features", low=2)
    season = check_int(season, "season", low=3)
    angle = check_real(angle, "angle")
    label_noise = check_real(label_noise, "label_noise", low=0.0, high=0.5)  # 0.5: labels are coin flips
    if anomaly_period is not None:
        anomaly_period = check_int(anomaly_period, "anomaly_period", low=0, high=n_periods - 1)
    rng = check_random_state(random_state)
    base = rng.standard_normal(n_features)
    base /= np.linalg.norm(base)
    other = rng.standard_normal(n_features)
    other -= other @ base * base
    other /= np.linalg.norm(other)
    t = np.arange(n_periods)
    if drift == "recurring":
        phase = angle * np.sin(2 * np.pi * t / season)  # swings between -angle and +angle radians
        concept = np.outer(np.cos(phase), base) + np.outer(np.sin(phase), other)
    elif drift == "gradual":
        concept = np.outer(np.cos(angle * t), base) + np.outer(np.sin(angle * t), other)
    else:
        concept = np.where((t < n_periods // 2)[:, None], base, other)
    n = n_periods * points_per_period
    period = np.repeat(t, points_per_period)
    X = rng.standard_normal((n, n_features))
    score = np.einsum("nd,nd->n", X, concept[period]) + 0.3 * rng.standard_normal(n)
    y = (score > 0).astype(np.int64)
    flip = rng.random(n) < label_noise
    corrupted = np.zeros(n_periods, bool)
    if anomaly_period is not None:
        corrupted[anomaly_period] = True
        flip |= (period == anomaly_period) & (rng.random(n) < 0.4)
    y = np.where(flip, 1 - y, y)
    return DriftingStream(X, y, period, concept, corrupted)


def train_historical_models(stream: DriftingStream, model=None, train_window: int = 1, random_state=None):
    """Train one model at the end of each period on the last ``train_window`` periods, and log all predictions.

    ``model`` is cloned and fitted as given, except that a ``random_state`` parameter it leaves at None (a
    random forest, an MLP; also inside a pipeline) is set from ``random_state``, as the model-fitting
    functions of :mod:`workbench.resample` do: the same ``random_state`` gives the same log, and numpy's
    global state is never drawn from (None: fresh seeds on every call). A model seeded by the user is used
    as given; the default logistic regression is deterministic either way.

    The last period gets no model (it could not be deployed within the stream). A period whose
    training window holds a single class cannot be fitted: it is skipped with a warning naming it,
    and a stream where every window is single-class is a ``ValidationError``.

    Returns
    -------
    log : PredictionLog
        Probabilities of every model on every point, the labels, and ``timestamp`` = period.
        The model trained at the end of period ``k`` is named ``trained_p<k>`` (so with a skipped
        period, model index and period differ).
    available_from : ndarray (n_models,)
        The first period in which each model can be deployed (the period after its training data):
        predictions of a model on earlier points are in-sample or from the past and must not be
        used to judge it (``workbench.resample.temporal_backtest`` respects this).

    Examples
    --------
    >>> from workbench.data import simulate_drifting_stream, train_historical_models
    >>> s = simulate_drifting_stream(n_periods=4, points_per_period=100, random_state=0)
    >>> log, available_from = train_historical_models(s)
    >>> log
    PredictionLog(3 models, 400 points, 2 classes, 400 labelled)
    >>> log.model_names, available_from.tolist()
    (('trained_p0', 'trained_p1', 'trained_p2'), [1, 2, 3])
    """
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression

    train_window = check_int(train_window, "train_window", low=1)  # 1.5 would silently train on 2 periods
    if not isinstance(stream, DriftingStream):
        raise ValidationError("stream", f"must be a DriftingStream (from simulate_drifting_stream), got "
                              f"{type(stream).__name__}")
    est = model if model is not None else LogisticRegression(max_iter=1000)
    if not (hasattr(est, "fit") and hasattr(est, "predict_proba")):
        # a regressor or SVC(probability=False) failed only after the first fit, with an AttributeError
        raise ValidationError("model", f"must be a scikit-learn classifier with predict_proba, got {est!r}")
    # an unseeded randomised model drew from numpy's global state: two calls gave two logs
    check_random_state(random_state)  # checked also when the model needs no seed
    est = seed_unseeded(est, random_state)
    probs, names, avail, skipped = [], [], [], []
    for k in range(stream.n_periods - 1):  # one model per period: a loop over periods, not rows
        rows = (stream.period <= k) & (stream.period > k - train_window)
        if np.unique(stream.y[rows]).size < 2:
            skipped.append(k)
            continue
        fitted = clone(est).fit(stream.X[rows], stream.y[rows])
        p = np.zeros((stream.X.shape[0], 2))
        p[:, fitted.classes_.astype(int)] = fitted.predict_proba(stream.X)
        probs.append(p)
        names.append(f"trained_p{k}")
        avail.append(k + 1)
    if skipped:
        first = f"; first: period {skipped[0]}" if len(skipped) > 1 else f": period {skipped[0]}"
        if not probs:
            raise ValidationError("stream", f"every training window holds a single class ({len(skipped)} periods "
                                            f"checked{first}): no model can be trained")
        warnings.warn(f"train_historical_models: {len(skipped)} of {stream.n_periods - 1} periods skipped, their "
                      f"training window holds a single class{first}", RuntimeWarning, stacklevel=2)
    log = PredictionLog(probs=np.stack(probs), model_names=names, labels=stream.y, timestamp=stream.period,
                        features=stream.X)
    return log, np.asarray(avail)
