"""Shared pieces of the active pillar: the label oracle, input checks and small numeric helpers."""
from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from .._validation import (ValidationError, as_array, check_class_columns, check_distribution, check_real,
                           check_same_index, raise_if_any, refuse_class_names)


class LabelOracle:
    """Reveals the label of a pool point, one index at a time, and counts the queries.

    ``source`` is an array of hidden labels (every entry must be a class in ``[0, n_classes)``;
    NaN or -1 "unlabelled" markers are an error: an oracle that cannot answer is not an oracle)
    or a callable ``index -> label`` whose every answer is checked the same way.
    """

    def __init__(self, source, n_points: int, n_classes: int, field: str = "oracle"):
        self.field, self.n_points, self.n_classes = field, int(n_points), int(n_classes)
        self.n_queries = 0
        if callable(source):
            self._fn, self._labels = source, None
            return
        refuse_class_names(source, field)
        lab = as_array(source, field, ndim=1)
        if lab.shape[0] != n_points:
            raise ValidationError(field, f"must give one label per pool point: got {lab.shape[0]}, expected {n_points}")
        # integer or real dtypes only (as_array already refused complex numbers): no booleans or strings
        if lab.dtype == bool or not (np.issubdtype(lab.dtype, np.integer) or np.issubdtype(lab.dtype, np.floating)):
            raise ValidationError(field, f"must hold integer class labels, got dtype {lab.dtype}")
        labf = lab.astype(float)
        raise_if_any(np.isnan(labf) | (labf == -1), field, "contains unlabelled markers (NaN or -1)", lab,
                     hint="Every pool point must be answerable; pass a callable oracle to label on demand (a "
                          "-1 can also be a class name missing from the categories of pd.Categorical(...).codes)")
        raise_if_any(labf != np.round(labf), field, "must be integer class labels", lab)
        raise_if_any((labf < 0) | (labf >= n_classes), field, f"must be classes in [0, {n_classes})", lab)
        self._fn, self._labels = None, lab.astype(np.int64)

    def __call__(self, index: int) -> int:
        self.n_queries += 1
        if self._labels is not None:
            return int(self._labels[index])
        y = self._fn(int(index))
        ok = isinstance(y, (numbers.Integral, np.integer)) or (
            # math.isfinite takes any real (a Fraction too, which np.isfinite refuses with a TypeError)
            isinstance(y, (numbers.Real, np.floating)) and math.isfinite(y) and float(y) == round(float(y)))
        if isinstance(y, (bool, np.bool_)) or not ok or not 0 <= int(y) < self.n_classes:
            raise ValidationError(self.field, f"returned {y!r} for point {index}; it must return a class in "
                                              f"[0, {self.n_classes}) (an unlabelled marker is an error)",
                                  hint="return the class's column in probs (e.g. list(classes).index(name)), "
                                       "not its name" if isinstance(y, (str, bytes)) else None)
        return int(y)


def check_pool_pairing(named) -> None:
    """pandas inputs of one pool (probabilities, labels, a surrogate, features) are read by position: they must
    carry the same row index (:func:`check_same_index`), and two frames of class probabilities the same class
    columns in the same order (a surrogate frame with its columns in another order swapped the classes).
    A pandas input beside arrays is read by position, whatever its index: a pool sorted or shuffled as a whole,
    with arrays computed from it in that order, is paired correctly (refusing a permuted 0..n-1 index there
    refused such correct inputs, and its hint, sort_index(), would have mis-paired them)."""
    named = [(f, v) for f, v in named if v is not None and not callable(v)]
    check_same_index(named)
    frames = [(f, v) for f, v in named if isinstance(v, pd.DataFrame) and f in ("probs", "surrogate")]
    if len(frames) == 2 and list(frames[0][1].columns) != list(frames[1][1].columns):
        (f0, a), (f1, b) = frames
        raise ValidationError(f1, f"must have the class columns of {f0} in the same order: {list(b.columns)[:8]} vs "
                                  f"{list(a.columns)[:8]}", hint=f"reorder them, e.g. {f1}[{f0}.columns]")


def check_probs_2d(probs, field: str = "probs") -> np.ndarray:
    from ..data import PredictionLog

    if isinstance(probs, PredictionLog):  # np.asarray of it is an object array: say what is wrong instead
        raise ValidationError(field, f"must be one model's probabilities, an array (n_points, n_classes); got a "
                                     f"PredictionLog of {probs.n_models} model(s)",
                              hint="Pass one model's rows, e.g. log.probs[k], and its labels as the oracle")
    if isinstance(probs, pd.DataFrame):
        # a frame with an id or model column became an object array, refused as "mixed or missing values?"
        # from .dtypes, one per column: probs[c] of a duplicated column name is a frame (no dtype)
        bad = [(c, d) for c, d in probs.dtypes.items()
               if not pd.api.types.is_numeric_dtype(d) or pd.api.types.is_bool_dtype(d)]
        if bad:
            raise ValidationError(field, f"must hold one column of probabilities per class; {len(bad)} of "
                                         f"{probs.shape[1]} columns are not numeric, first {bad[0][0]!r} (dtype "
                                         f"{bad[0][1]})", hint="select the class columns, e.g. frame[classes]")
        # integer column labels that are the classes in another order (frame[[2, 0, 1]]): read by position, the
        # classes were swapped silently (OPE refuses the same for a policy frame)
        check_class_columns(probs, field, probs.shape[1])
    probs = as_array(probs, field)
    if probs.ndim == 3:  # a zoo's (n_models, n_points, n_classes) stack, e.g. PredictionLog.probs: say which slice
        raise ValidationError(field, f"must be one model's probabilities, an array (n_points, n_classes); got shape "
                                     f"{probs.shape}, which looks like {probs.shape[0]} models' stacked probabilities",
                              hint="Pass one model's rows, e.g. probs[k]")
    probs = as_array(probs, field, ndim=2)
    if probs.shape[0] == 0 or probs.shape[1] == 0:
        # an empty pool passed the row-sum check and was refused as "budget: must be in [1, 0]"; no classes failed
        # the sums, not saying why
        what = "one pool point" if probs.shape[0] == 0 else "one class (column)"
        raise ValidationError(field, f"must have at least {what}, got shape {probs.shape}")
    return check_distribution(probs, field, axis=1)


def check_budget(budget, n_points: int) -> int:
    if isinstance(budget, (bool, np.bool_)) or not isinstance(budget, (numbers.Integral, np.integer)):
        raise ValidationError("budget", f"must be an integer number of labels, got {budget!r}")
    budget = int(budget)
    if not 1 <= budget <= n_points:
        raise ValidationError("budget", f"must be in [1, {n_points}] (the pool size), got {budget}")
    return budget


def check_floor(floor) -> float:
    # check_real, not float(): float() would take the string "0.5", True (as 1.0) and one-element arrays
    floor = check_real(floor, "floor")
    if not 0 < floor <= 1:
        raise ValidationError("floor", f"must be in (0, 1] so that no point has acquisition probability 0, "
                                       f"got {floor}")
    return floor


def defensive_q(score: np.ndarray, valid: np.ndarray, floor: float) -> np.ndarray:
    """q = (1 - floor) * score / sum(score) + floor / n_valid over the valid points, 0 elsewhere.

    The uniform "defensive" share keeps q > 0 on every valid point (no score can starve a point),
    and floor = 1 is plain uniform sampling.
    """
    s = np.where(valid, score, 0.0)
    tot = s.sum()
    uniform = valid / valid.sum()
    q = (1 - floor) * s / tot + floor * uniform if tot > 0 else uniform
    return q / q.sum()


def draw_index(q: np.ndarray, rng: np.random.Generator):
    """One index drawn with probabilities ``q``, and its probability."""
    i = int(rng.choice(q.size, p=q))  # inverse-CDF draw from one uniform
    return i, float(q[i])


def defensive_draw(score: np.ndarray, valid: np.ndarray, floor: float, rng: np.random.Generator):
    """Draw one index with :func:`defensive_q`; returns the index and its probability q."""
    return draw_index(defensive_q(score, valid, floor), rng)


def expected_loss(model_probs: np.ndarray, surrogate_probs: np.ndarray, loss: str, eps: float = 1e-12) -> np.ndarray:
    """Expected loss of a model under a surrogate's class probabilities, per point.

    zero_one: 1 - pi(yhat | x); cross_entropy: -sum_c pi(c|x) log f(c|x).
    Works on (..., n, c) arrays.
    """
    if loss == "zero_one":
        yhat = model_probs.argmax(axis=-1)
        return 1.0 - np.take_along_axis(surrogate_probs, yhat[..., None], axis=-1)[..., 0]
    return -(surrogate_probs * np.log(np.clip(model_probs, eps, 1.0))).sum(axis=-1)


def point_loss(model_probs_row: np.ndarray, y: int, loss: str, eps: float = 1e-12) -> float:
    if loss == "zero_one":
        return float(model_probs_row.argmax() != y)
    return float(-np.log(max(model_probs_row[y], eps))) + 0.0  # + 0.0: -log(1.0) is -0.0, printed "-0"


def entropy(p: np.ndarray, axis: int = -1) -> np.ndarray:
    """Shannon entropy in nats; 0 log 0 = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(p > 0, p * np.log(p), 0.0)
    return -t.sum(axis=axis)
