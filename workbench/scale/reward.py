"""Reward models for DM/DR-type estimators on tabular logs, applied chunk by chunk.

Four ways to give q(x, a), the expected reward of action a in context x:

* :class:`ColumnRewardModel` -- columns already holding q(x, a) for each action;
* :class:`CallableRewardModel` -- ``f(chunk) -> (m, n_actions)``, applied per chunk/partition;
* :class:`FittedRewardModel` -- a fitted scikit-learn model on ``context`` columns plus a one-hot
  action, applied per partition;
* :class:`CrossFittedRewardModel` -- an unfitted scikit-learn model, fitted on a hashed sample of
  rows in K folds. A row's fold and whether it is sampled are hashes of its id, so the sample
  and the fits are the same whatever the chunking, and each row is predicted by the model of
  another fold: no row is predicted by a model that saw it (the leakage that biases DR when a
  model is fitted and evaluated on the same rows).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .._random import splitmix64, unit_keys
from .._validation import ValidationError, check_finite

# Offsets mixed into the seed so the sampling / fold hashes are independent of the bootstrap weights.
_SAMPLE_SALT = 0x5CA1AB1E
_FOLD_SALT = 0xF01D5EED


class RewardModel:
    columns: list = []

    def predict(self, chunk: pd.DataFrame, n_actions: int, ids=None) -> np.ndarray:  # (m, n_actions)
        raise NotImplementedError


class ColumnRewardModel(RewardModel):
    def __init__(self, columns: Sequence[str]):
        self.columns = list(columns)

    def predict(self, chunk, n_actions, ids=None):
        if len(self.columns) != n_actions:
            raise ValidationError("reward_model", f"must name one column per action ({n_actions}), got "
                                  f"{len(self.columns)}")
        return check_finite(chunk[self.columns].to_numpy(dtype=np.float64), "reward_model")


class CallableRewardModel(RewardModel):
    def __init__(self, fn: Callable, columns: Sequence[str]):
        self.fn = fn
        self.columns = list(columns)

    def predict(self, chunk, n_actions, ids=None):
        q = np.asarray(self.fn(chunk), dtype=np.float64)
        if q.shape != (len(chunk), n_actions):
            raise ValidationError("reward_model", f"callable must return shape ({len(chunk)}, {n_actions}) for a chunk "
                                  f"of {len(chunk)} rows, got {q.shape}")
        return check_finite(q, "reward_model")


def _design(chunk: pd.DataFrame, context: list, n_actions: int, action_values: np.ndarray) -> np.ndarray:
    """Features [context, one-hot(action)] for the given action of each row."""
    x = chunk[context].to_numpy(dtype=np.float64)
    onehot = np.zeros((len(chunk), n_actions))
    onehot[np.arange(len(chunk)), action_values] = 1.0
    return np.hstack([x, onehot])


def _predict_all(model, chunk, context, n_actions) -> np.ndarray:
    m = len(chunk)
    x = chunk[context].to_numpy(dtype=np.float64)
    # One stacked call over all (row, action) pairs: fewer model calls than a loop over actions.
    big = np.hstack([np.repeat(x, n_actions, axis=0), np.tile(np.eye(n_actions), (m, 1))])
    from sklearn.base import is_classifier

    if is_classifier(model):
        classes = np.asarray(model.classes_)
        proba = model.predict_proba(big)
        if not np.all(np.isin(classes, [0, 1])):
            raise ValidationError("reward_model", f"a classifier reward model needs rewards in {{0, 1}}, its classes "
                                  f"are {classes.tolist()}")
        pos = np.flatnonzero(classes == 1)
        q = proba[:, pos[0]] if pos.size else np.zeros(len(big))
    else:
        q = model.predict(big)
    return np.asarray(q, dtype=np.float64).reshape(m, n_actions)


class FittedRewardModel(RewardModel):
    def __init__(self, model, context: Sequence[str]):
        self.model = model
        self.context = list(context)
        self.columns = list(context)

    def predict(self, chunk, n_actions, ids=None):
        return check_finite(_predict_all(self.model, chunk, self.context, n_actions), "reward_model")


def hash_uniform(ids, seed: int, salt: int) -> np.ndarray:
    """A uniform in [0, 1) per id from a hash of (seed ^ salt, id): chunk- and order-free."""
    keys = unit_keys(np.asarray(ids), (int(seed) ^ salt) & 0xFFFFFFFFFFFFFFFF)
    return (splitmix64(keys) >> np.uint64(11)).astype(np.float64) / float(2**53)


class CrossFittedRewardModel(RewardModel):
    """K models, model f fitted on sampled rows outside fold f; row i is predicted by model fold(i)."""

    def __init__(self, models, context, seed, n_folds, id_column=None):
        self.models = list(models)
        self.context = list(context)
        self.seed = int(seed)
        self.n_folds = int(n_folds)
        self.id_column = id_column
        self.columns = list(context)

    def fold_of(self, ids) -> np.ndarray:
        return np.minimum((hash_uniform(ids, self.seed, _FOLD_SALT) * self.n_folds).astype(np.int64), self.n_folds - 1)

    def predict(self, chunk, n_actions, ids=None):
        if ids is None:
            raise ValidationError("reward_model", "cross-fitted predictions need the row ids of the chunk")
        fold = self.fold_of(ids)
        q = np.empty((len(chunk), n_actions))
        for f in range(self.n_folds):  # a loop over folds, not rows
            rows = np.flatnonzero(fold == f)
            if rows.size:
                q[rows] = _predict_all(self.models[f], chunk.iloc[rows], self.context, n_actions)
        return check_finite(q, "reward_model")


def _is_fitted(model) -> bool:
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
        return True
    except NotFittedError:
        return False
    except TypeError:
        return True


def make_reward_model(reward_model, *, context, action, reward, n_actions, source, unit_id, seed, sample_size,
                      n_folds) -> RewardModel:
    if isinstance(reward_model, RewardModel):
        return reward_model
    if isinstance(reward_model, (list, tuple)) and all(isinstance(c, str) for c in reward_model):
        return ColumnRewardModel(reward_model)
    if hasattr(reward_model, "fit") and hasattr(reward_model, "predict"):
        if not context:
            raise ValidationError("context", "must list the feature columns when reward_model is a scikit-learn model")
        context = list(context)
        if _is_fitted(reward_model):
            return FittedRewardModel(reward_model, context)
        return _cross_fit(reward_model, context, action, reward, n_actions, source, unit_id, seed, sample_size,
                          n_folds)
    if callable(reward_model):
        return CallableRewardModel(reward_model, [])
    raise ValidationError("reward_model", f"must be a list of prediction columns, a callable or a scikit-learn "
                          f"estimator for tabular logs, got {type(reward_model).__name__}")


def _cross_fit(model, context, action, reward, n_actions, source, unit_id, seed, sample_size, n_folds):
    from joblib import Parallel, delayed
    from sklearn.base import clone

    if int(n_folds) != n_folds or n_folds < 2:
        raise ValidationError("reward_model_folds", f"must be an integer >= 2, got {n_folds}")
    n = source.n_rows()
    if n is None:
        raise ValidationError("data", "is a one-pass iterator, but fitting the reward model needs a pass for the "
                              "sample first; pass a list of chunks, a Parquet path or a Dask frame, or a fitted model")
    frac = min(1.0, float(sample_size) / max(n, 1))
    take = _SampleTake(seed, frac, unit_id)
    sample = source.sample(list(dict.fromkeys([*context, action, reward] + ([unit_id] if unit_id else []))), take)
    if len(sample) == 0:
        raise ValidationError("reward_model_sample", "selected no rows; increase it")
    ids = sample.attrs["row_ids"]
    probe = CrossFittedRewardModel([], context, seed, n_folds, unit_id)
    fold = probe.fold_of(ids)
    a = sample[action].to_numpy()
    X = _design(sample, context, n_actions, a.astype(np.int64))
    y = sample[reward].to_numpy(dtype=np.float64)

    # Folds are fitted through joblib (so a Dask backend can take them); the fits are
    # deterministic given the sample, which is itself a hash of the ids.
    models = Parallel(n_jobs=1)(delayed(_fit)(clone(model), X[fold != f], y[fold != f]) for f in range(n_folds))
    return CrossFittedRewardModel(models, context, seed, n_folds, unit_id)


def _fit(model, X, y):
    return model.fit(X, y)


class _SampleTake:
    def __init__(self, seed, frac, unit_id):
        self.seed, self.frac, self.unit_id = seed, frac, unit_id

    def __call__(self, chunk, ids):
        return hash_uniform(ids, self.seed, _SAMPLE_SALT) < self.frac
