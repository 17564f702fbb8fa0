"""Reward models for DM/DR-type estimators on tabular logs, applied chunk by chunk.

Four ways to give q(x, a), the expected reward of action a in context x:

* :class:`ColumnRewardModel` -- columns already holding q(x, a) for each action;
* :class:`CallableRewardModel` -- ``f(chunk) -> (m, n_actions)``, applied per chunk/partition (the
  chunk holds the ``context`` columns); a :class:`~workbench.ope.RewardModelScorer` (a callable of
  *contexts*) is applied to the ``context`` columns alone (:class:`ScorerRewardModel`);
* :class:`FittedRewardModel` -- a fitted scikit-learn model on ``context`` columns plus a one-hot
  action, applied per partition;
* :class:`CrossFittedRewardModel` -- an unfitted scikit-learn model, fitted on a hashed sample of
  rows in K folds. Whether a row is sampled is a hash of its row number, and its fold a hash of
  its id (the row number, or with ``unit_id`` its unit id, so a unit's rows share one fold, as
  the in-memory GroupKFold keeps them together), so the sample and the fits are the same
  whatever the chunking, and each row is predicted by the model of its own fold, fitted on the
  others: no row is predicted by a model that saw it (the leakage that biases DR when a model
  is fitted and evaluated on the same rows).
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .._random import seed_unseeded, splitmix64, unit_keys
from .._validation import ValidationError, check_finite, check_int, check_integer_in_range, numeric_output
from .sources import column_values, numeric_block

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
        return check_finite(numeric_block(chunk, self.columns, "reward_model"), "reward_model")


class CallableRewardModel(RewardModel):
    def __init__(self, fn: Callable, columns: Sequence[str]):
        self.fn = fn
        self.columns = list(columns)

    def predict(self, chunk, n_actions, ids=None):
        q = numeric_output(self.fn(chunk), "reward_model")  # text "0.5" was parsed, a complex number cut
        if q.shape != (len(chunk), n_actions):
            raise ValidationError("reward_model", f"callable must return shape ({len(chunk)}, {n_actions}) for a chunk "
                                  f"of {len(chunk)} rows, got {q.shape}")
        return check_finite(q, "reward_model")


class ScorerRewardModel(CallableRewardModel):
    """A :class:`~workbench.ope.RewardModelScorer` (``fit_reward_scorer``'s callable of *contexts*) on the
    ``context`` columns, in the order given, as a frame under their names (so a scorer fitted on named
    contexts checks them). Given the whole chunk as a callable it read the log's own columns (action,
    reward, propensity, the policy's) as contexts, by position: wrong q, silently, whenever their count
    equalled the scorer's features."""

    def predict(self, chunk, n_actions, ids=None):
        x = numeric_block(chunk, self.columns, "context")  # text or NaN refused with the (global) row
        return super().predict(pd.DataFrame(x, columns=self.columns, index=chunk.index), n_actions, ids)


def _check_fitted_width(model, context, n_actions) -> None:
    """A fitted model is applied to the design of the ``context`` columns; one fitted on other features (most
    often the raw context columns) failed in the first chunk with scikit-learn's bare "X has 11 features, but
    LogisticRegression is expecting 2 features", which named neither the design nor a remedy."""
    from ..ope.reward_models import design_matrix  # imported here, as in _predict_all

    fitted = getattr(model, "n_features_in_", None)
    # the width of the design FittedRewardModel builds (_predict_all), from design_matrix itself on one row
    width = design_matrix(np.zeros((1, len(context))), np.zeros(1, np.int64), None, n_actions, None).shape[1]
    if fitted is None or int(fitted) == width:
        return
    raw = " (the context columns alone: the design adds the action)" if int(fitted) == len(context) else ""
    raise ValidationError("reward_model", f"is a fitted {type(model).__name__} with {int(fitted)} features{raw}, "
                          f"but a fitted model is applied to the design of the {len(context)} context column(s) and "
                          f"{n_actions} actions: {width} columns (context, one-hot action, context x action, as "
                          "workbench.ope.design_matrix builds them with interactions=True)",
                          hint="pass the unfitted model (it is cross-fitted on a sample), your predictions as "
                               "columns (one per action), or a model fitted on design_matrix(context, action, None, "
                               f"{n_actions}, None); check context= names the columns it was fitted on")


def _predict_all(model, chunk, context, n_actions, action_context=None, interactions: bool = True,
                 x=None) -> np.ndarray:
    """q(x, a) for every action of every row: the in-memory design (:func:`workbench.ope.design_matrix`:
    context, one-hot action, context x action) and expectation (``predict_proba @ classes_`` for
    classifiers), one vectorised predict per action. ``x``: the context block, when already read."""
    from ..ope.reward_models import _expected, design_matrix

    m = len(chunk)
    if x is None and context:
        x = numeric_block(chunk, context, "context")
    q = np.empty((m, n_actions))
    zeros = np.zeros(m, dtype=np.int64)
    for a in range(n_actions):  # a loop over actions, each a vectorised predict over the chunk
        X = design_matrix(x, np.full(m, a), zeros, n_actions, None, interactions=interactions)
        q[:, a] = _expected(model, X)
    return q


class FittedRewardModel(RewardModel):
    def __init__(self, model, context: Sequence[str] | None):
        self.model = model
        self.context = list(context or [])
        self.columns = list(self.context)

    def predict(self, chunk, n_actions, ids=None):
        return check_finite(_predict_all(self.model, chunk, self.context, n_actions), "reward_model")


def hash_uniform(ids, seed: int, salt: int) -> np.ndarray:
    """A uniform in [0, 1) per id from a hash of (seed ^ salt, id): chunk- and order-free."""
    keys = unit_keys(np.asarray(ids), (int(seed) ^ salt) & 0xFFFFFFFFFFFFFFFF)
    return (splitmix64(keys) >> np.uint64(11)).astype(np.float64) / float(2**53)


class CrossFittedRewardModel(RewardModel):
    """K models, model f fitted on sampled rows outside fold f; row i is predicted by model fold(id_i), where
    ``ids`` are what the source passes: the row numbers, or the unit ids with ``unit_id`` (the ids the
    sample's folds were hashed from)."""

    def __init__(self, models, context, seed, n_folds, id_column=None, interactions: bool = True):
        self.models = list(models)
        self.interactions = bool(interactions)
        self.context = list(context or [])
        self.seed = int(seed)
        self.n_folds = int(n_folds)
        self.id_column = id_column
        self.columns = list(self.context)

    def fold_of(self, ids) -> np.ndarray:
        return np.minimum((hash_uniform(ids, self.seed, _FOLD_SALT) * self.n_folds).astype(np.int64), self.n_folds - 1)

    def predict(self, chunk, n_actions, ids=None):
        if ids is None:
            raise ValidationError("reward_model", "cross-fitted predictions need the row ids of the chunk")
        fold = self.fold_of(ids)
        # the context of the whole chunk, checked before it is split by fold: checked per fold, a NaN was
        # named by its place among its fold's rows (row 1260 for row 1500 of a 2-fold split)
        x = check_finite(numeric_block(chunk, self.context, "context"), "context") if self.context else None
        q = np.empty((len(chunk), n_actions))
        for f in range(self.n_folds):  # a loop over folds, not rows
            rows = np.flatnonzero(fold == f)
            if rows.size:
                q[rows] = _predict_all(self.models[f], chunk.iloc[rows], self.context, n_actions,
                                       interactions=self.interactions, x=None if x is None else x[rows])
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
                      n_folds):
    """A :class:`RewardModel` and a short description of it (for the output's ``reward_model`` column)."""
    if isinstance(reward_model, RewardModel):
        return reward_model, type(reward_model).__name__
    if isinstance(reward_model, (list, tuple)) and reward_model and all(isinstance(c, str) for c in reward_model):
        if len(reward_model) != n_actions:
            raise ValidationError("reward_model", f"must name one prediction column per action ({n_actions}), got "
                                  f"{len(reward_model)}")
        return ColumnRewardModel(reward_model), "given predictions"
    context = list(context) if context is not None else []
    if reward_model is None or (hasattr(reward_model, "fit") and hasattr(reward_model, "predict")):
        if reward_model is not None and _is_fitted(reward_model):
            _check_fitted_width(reward_model, context, n_actions)
            return FittedRewardModel(reward_model, context), type(reward_model).__name__ + " (fitted, given)"
        model, name = _cross_fit(reward_model, context, action, reward, n_actions, source, unit_id, seed,
                                 sample_size, n_folds)
        return model, name
    from ..ope.reward_models import RewardModelScorer

    if isinstance(reward_model, RewardModelScorer):
        # a callable of contexts, not of chunks: the whole chunk was read as its contexts (see ScorerRewardModel)
        if not context:
            raise ValidationError("context", "must name the feature columns when reward_model is a RewardModelScorer "
                                  "(fit_reward_scorer's): it scores contexts, and a tabular log's contexts are the "
                                  f"columns named by context= (it was fitted on {reward_model.n_features} of them)")
        return ScorerRewardModel(reward_model, context), "RewardModelScorer (fitted, given)"
    if callable(reward_model):
        # the chunk holds the context columns too: they were never read, so a callable could not use them (KeyError)
        return CallableRewardModel(reward_model, context), "given callable"
    raise ValidationError("reward_model", f"must be prediction columns, a callable or a scikit-learn estimator for "
                          f"tabular logs, got {type(reward_model).__name__}")


def _cross_fit(model, context, action, reward, n_actions, source, unit_id, seed, sample_size, n_folds):
    from joblib import Parallel, delayed
    from sklearn.base import clone

    from ..ope.reward_models import MAX_AUTO_INTERACTIONS, design_matrix

    # the package's integer rule: int("5") parsed the string, and the message showed it as the number 5
    n_folds = check_int(n_folds, "n_folds", low=2)
    n = source.n_rows()
    if n is None:
        raise ValidationError("data", "is a one-pass iterator, but fitting the reward model needs a pass for its "
                              "sample first", hint="pass a list of chunks, a Parquet path or a Dask frame, or "
                              "prediction columns / a fitted model")
    frac = min(1.0, float(sample_size) / max(n, 1))
    cols = list(dict.fromkeys([*context, action, reward]))
    # Rows are sampled by row number; with unit_id their unit ids come along, checked chunk by chunk as
    # the main pass checks them, since a row is predicted by the model of its *unit's* fold there
    # (CrossFittedRewardModel.predict gets the unit ids). Folding the sample by row number instead gave
    # a unit's rows both folds, so half of them were predicted by a model fitted on them (190 of 400
    # rows in a 2-fold probe): the leak cross-fitting is there to prevent.
    # a classifier's rewards are checked on every row of every chunk (not only the sampled ones), before the
    # folds, so the refusal names the data's first row that is not a whole number, as in memory
    sample = source.sample(cols, _SampleTake(seed, frac, action, reward, n_actions, context, classifier=model),
                           unit_id=unit_id)
    if len(sample) < n_folds:
        raise ValidationError("reward_model_sample", f"selected {len(sample)} rows, fewer than n_folds={n_folds}",
                              hint="increase reward_model_sample")
    ids = sample.attrs["unit_ids"] if unit_id is not None else sample.attrs["row_ids"]
    n_units = np.unique(ids).size if unit_id is not None else None  # the sample's units (row ids are distinct)
    if n_units is not None and n_units < n_folds:  # the in-memory rule (GroupKFold in cross_fit_predict)
        raise ValidationError("n_folds", f"must be at most the number of units ({n_units}), got {n_folds}",
                              hint=f"counted in the reward model's sample of {len(sample)} rows; a unit's "
                                   "rows share one fold")
    y = check_finite(numeric_block(sample, [reward], "reward")[:, 0], "reward")
    a = sample[action].to_numpy().astype(np.int64)  # whole numbers in [0, n_actions): _SampleTake checked every chunk
    if model is None:
        from sklearn.linear_model import LogisticRegression, Ridge

        # The in-memory default (workbench.ope.evaluate.default_reward_model), decided on the sample.
        binary = np.isin(y, (0.0, 1.0)).all() and np.unique(y).size == 2
        model = LogisticRegression(C=1.0, max_iter=1000) if binary else Ridge(alpha=1.0)
        label = type(model).__name__ + " (default, cross-fitted on a sample)"
    else:
        label = type(model).__name__ + " (cross-fitted on a sample)"
    model = seed_unseeded(model, seed)  # an unseeded randomised model fitted differently on each call
    fold = CrossFittedRewardModel([], context, seed, n_folds).fold_of(ids)
    full = np.flatnonzero(np.bincount(fold, minlength=n_folds) == len(fold))
    if full.size:
        # every sampled row (or unit) hashed to one fold: its model would have no training rows (sklearn's
        # "0 samples" error). Likely with few units: 3 units in 2 folds share one a quarter of the time.
        what = f"{n_units} units" if n_units is not None else f"{len(fold)} rows"
        raise ValidationError("n_folds", f"left fold {int(full[0])} of {n_folds} holding the whole reward-model "
                              f"sample ({what}), so its model has no training rows",
                              hint="folds are hashes of the ids: use fewer folds, or more rows / units")
    x = None if not context else numeric_block(sample, context, "context")
    # The in-memory rule for the design: context x action interactions only when there are at most
    # MAX_AUTO_INTERACTIONS of them (many actions would otherwise give a huge, poorly conditioned design)
    interactions = len(context) * n_actions <= MAX_AUTO_INTERACTIONS
    X = design_matrix(x, a, np.zeros(len(a), dtype=np.int64), n_actions, None, interactions=interactions)
    # Folds are independent fits, dispatched through joblib (a Dask backend takes them to a cluster);
    # each is deterministic given the sample, which is itself a hash of the row ids.
    # (n_jobs left to joblib: an explicit 1 overrode a user's parallel_config, so the folds never left the process)
    models = Parallel()(delayed(_fit)(clone(model), X[fold != f], y[fold != f], f) for f in range(n_folds))
    return CrossFittedRewardModel(models, context, seed, n_folds, interactions=interactions), label


def _fit(model, X, y, fold):
    from sklearn.base import is_classifier
    from sklearn.dummy import DummyRegressor

    if is_classifier(model) and y.size and (y == y[0]).all():
        # One reward value in the fold's training rows (a rare-click log: every click of the sample in the
        # held-out fold). A classifier that has seen one class gives that value as its expected reward, as
        # the in-memory cross_fit_predict does; LogisticRegression refuses to fit, and no fold count helps.
        return DummyRegressor(strategy="constant", constant=y[0]).fit(X, y)
    try:
        return model.fit(X, y)
    except ValueError as exc:
        raise ValidationError("reward_model", f"could not be fitted on fold {fold} of the sample ({exc})",
                              hint="use a regressor or a larger reward_model_sample") from None


class _SampleTake:
    """Which rows of a chunk go to the reward model's sample. With ``action`` / ``reward`` given, those
    columns of the whole chunk are checked first (the rules of the main pass), so a text, fractional or
    out-of-range value is refused with its global row number rather than cast (``astype(int64)``
    would truncate 1.5 and parse "1") or reported by its position in the sample. So are the ``context``
    columns' types and values: text or a NaN in a context column was named by its position in the sample,
    or (not sampled, text) left the sample's column typed object with no row to name."""

    def __init__(self, seed, frac, action=None, reward=None, n_actions=None, context=None, classifier=None):
        from sklearn.base import is_classifier

        self.seed, self.frac = seed, frac
        self.action, self.reward, self.n_actions = action, reward, n_actions
        self.context = list(context or [])
        # the reward model, kept only when it is a classifier (its classes are the reward values)
        self.classifier = classifier if classifier is not None and is_classifier(classifier) else None

    def __call__(self, chunk, ids):
        if self.action is not None:
            check_integer_in_range(column_values(chunk, self.action, "action"), "action", 0, self.n_actions)
        if self.reward is not None:
            r = check_finite(column_values(chunk, self.reward, "reward"), "reward")
            if self.classifier is not None:
                from ..ope.reward_models import _check_classes

                # the in-memory rule and message (field reward_model); scikit-learn's "Unknown label type:
                # continuous" came from fold 0's fit, with a hint about the sample's size that did not help
                _check_classes(self.classifier, r, "reward_model")
        if self.context:
            # refuses a non-numeric column, and a NaN / inf, naming its global row: checked on the sample, a NaN
            # was named by its place there ("1 of 115 rows ..., first at row 60" for row 1045)
            check_finite(numeric_block(chunk, self.context, "context"), "context")
        return hash_uniform(ids, self.seed, _SAMPLE_SALT) < self.frac
