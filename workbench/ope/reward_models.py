"""Reward models q(x, a[, slot]) for DM and the doubly robust family, cross-fitted by default.

Design (one model over all actions and slots):

* Features of a (context, action, slot) triple are ``[x, onehot(a), onehot(slot), x * onehot(a)]``:
  the context, an indicator per action (its own intercept), an indicator per slot and -- when
  ``interactions=True`` -- the context interacted with each action, so a linear model can give
  every action its own slope while rare actions still borrow strength through the shared ``x``
  columns. With ``action_features="context"`` the action is described by its embedding
  (``log.action_context``) instead of one-hot columns (and interactions are x outer embedding),
  which generalises across actions. Tree ensembles do not need the interactions but are not
  harmed by them. ``interactions=None`` (default) adds them only when they are at most
  ``MAX_AUTO_INTERACTIONS`` columns (e.g. 5 context dims x 10 actions), because with many actions
  (the Open Bandit sample: 20 x 80 = 1,600 columns) they cost more than they add.
* Any scikit-learn regressor works (q = ``predict``); a classifier's expected reward is
  ``predict_proba(X) @ classes_`` (for 0/1 clicks that is P(click)), so rewards with several
  levels (ratings) work too.
* Cross-fitting: rows are split into ``n_folds`` shuffled folds (grouped by ``log.unit_id`` when
  present, so one user's rows never sit on both sides); the model fitted on the other folds
  predicts every action (and slot) for the rows of the held-out fold. No row is ever predicted by
  a model that saw its reward. obp's ``RegressionModel.fit_predict`` defaults to one fold, i.e.
  in-sample predictions, which makes DR lean on over-fitted residuals (obp issues #53, #202).

Predictions for all actions are made one action (and slot) at a time over the held-out rows in
chunks, so memory stays O(rows x features), not O(rows x actions x features).
"""
from __future__ import annotations

import numbers

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GroupKFold, KFold

from .._random import check_random_state, seed_key
from .._validation import (ValidationError, as_array, check_bool, check_choice, check_finite, check_int,
                           check_integer_in_range, check_length)

__all__ = ["cross_fit_predict", "design_matrix", "predict_all_actions", "fold_seed"]

_CHUNK = 200_000
MAX_AUTO_INTERACTIONS = 256


def _resolve_interactions(interactions, log, action_features):
    interactions = check_bool(interactions, "interactions", allow_none=True)  # "no" is truthy
    if interactions is not None:
        return interactions
    if log.context is None:
        return False
    k_feat = log.n_actions if action_features == "onehot" else log.action_context.shape[1]
    return log.context.shape[1] * k_feat <= MAX_AUTO_INTERACTIONS


def design_matrix(context, action, position, n_actions: int, n_positions: int | None, action_context=None,
                  action_features: str = "onehot", interactions: bool = True) -> np.ndarray:
    """Feature matrix of (context, action, slot) rows; see the module docstring for the layout.

    Examples
    --------
    One context feature, 3 actions: columns ``[x, onehot(a), x * onehot(a)]``.

    >>> import numpy as np
    >>> from workbench.ope import design_matrix
    >>> x, a = np.array([[0.5], [2.0]]), np.array([0, 2])
    >>> design_matrix(x, a, None, n_actions=3, n_positions=None)
    array([[0.5, 1. , 0. , 0. , 0.5, 0. , 0. ],
           [2. , 0. , 0. , 1. , 0. , 0. , 2. ]])

    With 2 slots and no interactions: ``[x, onehot(a), onehot(slot)]``.

    >>> design_matrix(x, a, np.array([1, 0]), n_actions=3, n_positions=2, interactions=False)
    array([[0.5, 1. , 0. , 0. , 0. , 1. ],
           [2. , 0. , 0. , 1. , 1. , 0. ]])
    """
    # Checked (O(rows), small next to the design itself): a negative action indexed the last column and
    # a missing position set every slot column, silently; other mistakes were bare IndexErrors.
    check_choice(action_features, "action_features", ("onehot", "context"))
    interactions = check_bool(interactions, "interactions")  # "no" is truthy
    n_actions = check_int(n_actions, "n_actions", low=1)
    action = check_integer_in_range(as_array(action, "action", ndim=1), "action", 0, n_actions)
    m = len(action)
    parts = []
    x = None
    if context is not None:
        x = check_finite(as_array(context, "context", ndim=2), "context")
        check_length(x, m, "context")
        parts.append(x)
    if action_features == "onehot":
        a_feat = np.zeros((m, n_actions))
        a_feat[np.arange(m), action] = 1.0
    else:
        if action_context is None:
            raise ValidationError("action_context", "is needed by action_features='context'")
        ac = check_finite(as_array(action_context, "action_context", ndim=2), "action_context")
        if ac.shape[0] != n_actions:
            raise ValidationError("action_context", f"must have one row per action ({n_actions}), got {ac.shape[0]}")
        a_feat = ac[action]
    parts.append(a_feat)
    if n_positions is not None:
        n_positions = check_int(n_positions, "n_positions", low=1)
    if n_positions is not None and n_positions > 1:
        if position is None:
            raise ValidationError("position", f"is needed when n_positions={n_positions}")
        position = check_integer_in_range(as_array(position, "position", ndim=1), "position", 0, n_positions)
        check_length(position, m, "position")
        p_feat = np.zeros((m, n_positions))
        p_feat[np.arange(m), position] = 1.0
        parts.append(p_feat)
    if interactions and x is not None:
        parts.append((x[:, :, None] * a_feat[:, None, :]).reshape(m, -1))
    return np.hstack(parts)


def _expected(model, X) -> np.ndarray:
    if is_classifier(model):
        classes = np.asarray(model.classes_, dtype=np.float64)
        return model.predict_proba(X) @ classes
    return np.asarray(model.predict(X), dtype=np.float64).ravel()


def predict_all_actions(model, log, rows: np.ndarray, action_features="onehot", interactions=True) -> np.ndarray:
    """Predictions of a fitted model for every action (and slot) of the given rows: (len(rows), K[, P])."""
    k = log.n_actions
    n_pos = log.n_positions if log.n_positions is not None and log.n_positions > 1 else None
    P = n_pos or 1
    out = np.empty((len(rows), k, P))
    ctx = log.context
    for start in range(0, len(rows), _CHUNK):
        r = rows[start:start + _CHUNK]
        m = len(r)
        c = None if ctx is None else ctx[r]
        for a in range(k):  # a loop over actions and slots, each a vectorised predict over many rows
            for p in range(P):
                X = design_matrix(c, np.full(m, a), np.full(m, p), k, n_pos, log.action_context, action_features,
                                  interactions)
                out[start:start + m, a, p] = _expected(model, X)
    return out if n_pos else out[:, :, 0]


def fold_seed(random_state):
    """The seed of the cross-fitting folds for ``random_state``: the same on every path that fits a model.

    A Generator is returned as is (the folds take its next draw, in call order). Anything else becomes
    ``seed_key(random_state) % 2**32``: an int below 2**32 (numpy's too) is its own seed, a larger one
    is reduced (scikit-learn's folds take seeds below 2**32) and a SeedSequence gives the key its
    bootstrap uses. :func:`workbench.ope.evaluate_policy`, the estimators' ``estimate_policy_value`` /
    ``estimate_interval``, :func:`workbench.ope.slope_select`, :func:`workbench.ope.compare_policies`
    and :func:`cross_fit_predict` all read ``random_state`` through this, so one seed gives one set of
    folds everywhere.

    Examples
    --------
    >>> from workbench.ope.reward_models import fold_seed
    >>> fold_seed(5), fold_seed(2**32 + 5)
    (5, 5)
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)):
        check_random_state(random_state)  # rejects negative seeds by name
    return seed_key(random_state) % (2**32)


def cross_fit_predict(log, model, n_folds: int = 5, action_features: str = "onehot", interactions: bool | None = None,
                      random_state=0) -> np.ndarray:
    """Out-of-fold reward predictions for every action (and slot): shape (n, K) or (n, K, n_positions).

    Parameters
    ----------
    log : BanditLog
    model : scikit-learn regressor or classifier
        Cloned for every fold; never fitted on the rows it predicts.
    n_folds : int, default 5
        Number of folds (>= 2). Grouped by ``log.unit_id`` when present.
    action_features : {"onehot", "context"}
        Describe actions by indicators, or by their embeddings ``log.action_context``.
    interactions : bool or None, default None
        Add context x action columns (so linear models can fit action-specific slopes); None adds
        them when there are at most ``MAX_AUTO_INTERACTIONS`` of them.
    random_state : int, Generator, SeedSequence or None
        Shuffles the folds, read through :func:`fold_seed`: the folds are those that
        :func:`workbench.ope.evaluate_policy` uses with the same ``random_state`` (an int of 2**32 or
        more is taken modulo 2**32).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import cross_fit_predict
    >>> log, truth = simulate_bandit(1000, n_actions=3, random_state=0)
    >>> cross_fit_predict(log, LogisticRegression(), n_folds=3).shape
    (1000, 3)
    """
    if not hasattr(model, "fit"):
        raise ValidationError("reward_model", f"must be a scikit-learn estimator, got {type(model).__name__}")
    if isinstance(model, type):  # Ridge, not Ridge(): clone() raised a TypeError
        raise ValidationError("reward_model", f"must be an estimator instance, got the class {model.__name__}",
                              hint=f"pass {model.__name__}()")
    check_choice(action_features, "action_features", ("onehot", "context"))
    if action_features == "context" and log.action_context is None:
        raise ValidationError("action_features", "'context' needs log.action_context")
    interactions = _resolve_interactions(interactions, log, action_features)
    n_folds = check_int(n_folds, "n_folds")
    n = len(log)
    if n_folds < 2:
        raise ValidationError("n_folds", f"must be at least 2 (cross-fitting), got {n_folds}",
                              hint="to use in-sample or externally trained predictions, pass them as an array")
    if n_folds > n:
        raise ValidationError("n_folds", f"must be at most the number of rows ({n}), got {n_folds}")
    seed = fold_seed(random_state)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(0, 2**31 - 1))
    n_pos = log.n_positions if log.n_positions is not None and log.n_positions > 1 else None
    position = np.zeros(n, dtype=np.int64) if log.position is None else np.asarray(log.position)
    X_all = design_matrix(log.context, np.asarray(log.action), position, log.n_actions, n_pos, log.action_context,
                          action_features, interactions)
    y = np.asarray(log.reward)
    if log.unit_id is not None:
        n_groups = np.unique(log.unit_id).size
        if n_groups < n_folds:
            raise ValidationError("n_folds", f"must be at most the number of units ({n_groups}), got {n_folds}")
        splits = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(X_all, y, groups=log.unit_id)
    else:
        splits = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(X_all)
    out = np.empty((n, log.n_actions) + ((n_pos,) if n_pos else ()))
    for fold, (train, test) in enumerate(splits):  # a loop over folds, each a vectorised fit / predict
        fitted = clone(model)
        try:
            fitted.fit(X_all[train], y[train])
        except ValueError as exc:
            raise ValidationError("reward_model", f"could not be fitted on fold {fold} ({exc})",
                                  hint="a classifier needs both reward values in every training fold; use fewer "
                                       "folds or a regressor") from None
        try:
            out[test] = predict_all_actions(fitted, log, test, action_features, interactions)
        except ValueError as exc:  # e.g. KNeighborsRegressor with more neighbours than training rows
            raise ValidationError("reward_model", f"could not predict on fold {fold} ({exc})") from None
    return out
