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
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GroupKFold, KFold

from .._random import check_random_state, seed_key, seed_unseeded
from .._validation import (ValidationError, as_array, check_bool, check_choice, check_finite, check_int,
                           check_integer_in_range, check_length, raise_if_any, readonly)

__all__ = ["cross_fit_predict", "design_matrix", "predict_all_actions", "fold_seed", "fit_reward_scorer",
           "RewardModelScorer"]

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


def _check_estimator(model, field: str) -> None:
    """A scikit-learn estimator instance (it is cloned and fitted), named ``field`` in the errors."""
    if not hasattr(model, "fit"):
        raise ValidationError(field, f"must be a scikit-learn estimator, got {type(model).__name__}")
    if isinstance(model, type):  # Ridge, not Ridge(): clone() raised a TypeError
        raise ValidationError(field, f"must be an estimator instance, got the class {model.__name__}",
                              hint=f"pass {model.__name__}()")
    if not hasattr(model, "get_params"):
        # clone() needs get_params: a ContinuousRewardModel (continuous actions) given for a discrete log
        # was an AttributeError about __sklearn_tags__ from inside scikit-learn
        inner = getattr(model, "model", None)
        raise ValidationError(field, f"must be a scikit-learn estimator (it is cloned and fitted per fold), got "
                              f"{type(model).__name__}",
                              hint=f"pass the scikit-learn model itself, e.g. {type(inner).__name__}()"
                              if hasattr(inner, "get_params") else None)


def _check_action_features(log, action_features) -> None:
    check_choice(action_features, "action_features", ("onehot", "context"))
    if action_features == "context" and log.action_context is None:
        raise ValidationError("action_features", "'context' needs log.action_context")


def _check_classes(model, y, field: str) -> None:
    """A classifier's classes are the reward values: refused for rewards that are not whole numbers, which
    scikit-learn rejects as "Unknown label type: continuous" (and which the fit error's hint, about folds,
    did not explain)."""
    if is_classifier(model):
        raise_if_any(y != np.round(y), field, f"is a classifier ({type(model).__name__}), whose classes are the "
                     "reward values, but the rewards are not whole numbers", y,
                     hint="use a regressor (e.g. Ridge()) for continuous rewards; a classifier suits 0/1 clicks or "
                          "ratings")


def _training_design(log, action_features, interactions):
    """(X, y): every logged (context, action[, slot]) row of ``log`` and its reward, as the models are fitted."""
    position = np.zeros(len(log), dtype=np.int64) if log.position is None else np.asarray(log.position)
    X = design_matrix(log.context, np.asarray(log.action), position, log.n_actions, _slots(log), log.action_context,
                      action_features, interactions)
    return X, np.asarray(log.reward)


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
    elif position is not None:
        # one slot (or none): the position has no column, but a value outside the slots is still an error in
        # the caller's data (7 and -3 passed with n_positions=1), not something to ignore silently
        position = check_integer_in_range(as_array(position, "position", ndim=1), "position", 0, n_positions or 1)
        check_length(position, m, "position")
    if interactions and x is not None:
        parts.append((x[:, :, None] * a_feat[:, None, :]).reshape(m, -1))
    return np.hstack(parts)


def _expected(model, X) -> np.ndarray:
    if is_classifier(model):
        classes = np.asarray(model.classes_, dtype=np.float64)
        return model.predict_proba(X) @ classes
    return np.asarray(model.predict(X), dtype=np.float64).ravel()


def _slots(log):
    """``n_positions`` as the design reads it: None when the log has one slot (no slot columns)."""
    return log.n_positions if log.n_positions is not None and log.n_positions > 1 else None


def _predict_slots(model, context, m: int, n_actions: int, n_pos, slots, action_context, action_features,
                   interactions) -> np.ndarray:
    """(m, n_actions, len(slots)) predictions of a fitted model for ``m`` rows of ``context`` (or None).

    One design matrix per action over chunks of rows, so memory stays O(rows x features); for each
    further slot only its indicator columns are rewritten (the same matrix design_matrix builds).
    """
    out = np.empty((m, n_actions, len(slots)))
    first = None  # column of slot 0's indicator, read once design_matrix has checked action_context
    for start in range(0, m, _CHUNK):
        mm = min(_CHUNK, m - start)
        c = None if context is None else context[start:start + mm]
        for a in range(n_actions):  # a loop over actions and slots, each a vectorised predict over many rows
            X = design_matrix(c, np.full(mm, a), np.full(mm, slots[0]), n_actions, n_pos, action_context,
                              action_features, interactions)
            for j, p in enumerate(slots):
                if j:  # the next slot: only its indicator columns change, so they are rewritten in place
                    # (building the whole design again for every slot was 2/3 of the time of position="all")
                    if first is None:  # they sit after the context and action columns (design_matrix's layout)
                        first = (0 if c is None else c.shape[1]) + (
                            n_actions if action_features == "onehot" else np.shape(action_context)[1])
                    X[:, first:first + n_pos] = 0.0
                    X[:, first + p] = 1.0
                out[start:start + mm, a, j] = _expected(model, X)
    return out


def predict_all_actions(model, log, rows: np.ndarray, action_features="onehot", interactions=True) -> np.ndarray:
    """Predictions of a fitted model for every action (and slot) of the given rows: (len(rows), K[, P])."""
    n_pos = _slots(log)
    ctx = None if log.context is None else log.context[rows]
    out = _predict_slots(model, ctx, len(rows), log.n_actions, n_pos, list(range(n_pos or 1)), log.action_context,
                         action_features, interactions)
    return out if n_pos else out[:, :, 0]


def call_seed(random_state):
    """``random_state`` fixed once, at the start of a call that both cross-fits a reward model and resamples.

    A Generator gives one key, its next draw (:func:`~workbench._random.seed_key`), and the call then
    runs as with that int seed: the folds take ``key % 2**32`` (:func:`fold_seed`) and the resamples the
    key itself. Drawn "in call order" instead, the folds took a draw only when some estimator fitted a
    model, so adding "dr" to ``["ips"]`` moved ips' resamples and interval; now the Generator advances by
    one draw whatever the estimators, and estimators share one set of resamples across estimator sets.
    An int, a SeedSequence or None is returned as is (its folds and resamples are each derived from it,
    not from a shared stream, so they never depended on each other).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.ope.reward_models import call_seed
    >>> call_seed(5)
    5
    >>> call_seed(np.random.default_rng(0)) == int(np.random.default_rng(0).integers(0, 2**63))
    True
    """
    if isinstance(random_state, np.random.Generator):
        return seed_key(random_state)
    return random_state


def fold_seed(random_state):
    """The seed of the cross-fitting folds for ``random_state``: the same on every path that fits a model.

    ``seed_key(random_state) % 2**32``: an int below 2**32 (numpy's too) is its own seed, a larger one
    is reduced (scikit-learn's folds take seeds below 2**32), a SeedSequence gives the key its
    bootstrap uses, and a Generator its next draw reduced (the key :func:`call_seed` draws, so
    ``cross_fit_predict(log, m, random_state=g)`` has the folds of ``evaluate_policy(..., random_state=g')``
    for a copy ``g'`` of ``g``). :func:`workbench.ope.evaluate_policy`, the estimators' ``estimate_policy_value`` /
    ``estimate_interval``, :func:`workbench.ope.slope_select`, :func:`workbench.ope.compare_policies`
    and :func:`cross_fit_predict` all read ``random_state`` through this, so one seed gives one set of
    folds everywhere.

    Examples
    --------
    >>> from workbench.ope.reward_models import fold_seed
    >>> fold_seed(5), fold_seed(2**32 + 5)
    (5, 5)
    """
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
        Cloned for every fold; never fitted on the rows it predicts. A classifier whose training
        folds hold one reward value only (e.g. every click of a log in the held-out fold) predicts
        that value for the fold's rows, as a classifier that has seen one class does.
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
    _check_estimator(model, "reward_model")
    _check_action_features(log, action_features)
    interactions = _resolve_interactions(interactions, log, action_features)
    n_folds = check_int(n_folds, "n_folds")
    n = len(log)
    if n_folds < 2:
        raise ValidationError("n_folds", f"must be at least 2 (cross-fitting), got {n_folds}",
                              hint="to use in-sample or externally trained predictions, pass them as an array")
    if n_folds > n:
        raise ValidationError("n_folds", f"must be at most the number of rows ({n}), got {n_folds}")
    seed = fold_seed(random_state)
    model = seed_unseeded(model, seed)  # an unseeded random forest gave another q_hat, and estimate, on each call
    n_pos = _slots(log)
    X_all, y = _training_design(log, action_features, interactions)
    _check_classes(model, y, "reward_model")
    if log.unit_id is not None:
        n_groups = np.unique(log.unit_id).size
        if n_groups < n_folds:
            raise ValidationError("n_folds", f"must be at most the number of units ({n_groups}), got {n_folds}")
        splits = GroupKFold(n_splits=n_folds, shuffle=True, random_state=seed).split(X_all, y, groups=log.unit_id)
    else:
        splits = KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(X_all)
    out = np.empty((n, log.n_actions) + ((n_pos,) if n_pos else ()))
    classifier = is_classifier(model)
    for fold, (train, test) in enumerate(splits):  # a loop over folds, each a vectorised fit / predict
        y_train = y[train]
        if classifier and (y_train == y_train[0]).all():
            # One reward value in the training rows (all the clicks of a rare-click log in the held-out
            # fold: one click in 1,000 rows always does it, with the default model too): the expected
            # reward a classifier gives after seeing one class is that value (predict_proba 1 for it, as
            # scikit-learn's trees do, and the limit of the logistic fit), where LogisticRegression
            # refused to fit and no number of folds helped.
            out[test] = y_train[0]
            continue
        fitted = clone(model)
        try:
            fitted.fit(X_all[train], y[train])
        except ValueError as exc:
            # (a classifier's one-class training fold is handled above, and non-integer rewards are refused
            # before the folds: the hint no longer blames the number of folds for them)
            raise ValidationError("reward_model", f"could not be fitted on fold {fold} ({exc})",
                                  hint="fewer folds give larger training folds; or use another model") from None
        try:
            out[test] = predict_all_actions(fitted, log, test, action_features, interactions)
        except ValueError as exc:  # e.g. KNeighborsRegressor with more neighbours than training rows
            raise ValidationError("reward_model", f"could not predict on fold {fold} ({exc})") from None
    return out


def _is_log(data) -> bool:
    """A BanditLog (or anything shaped like one), as the policies tell a log from an array of contexts."""
    return hasattr(data, "reward") and hasattr(data, "n_actions")


def context_names_of(data) -> tuple | None:
    """The names of the context columns of ``data``: a BanditLog's ``context_names``, a DataFrame's
    columns when every one is text; None when the columns are not named (an array)."""
    if _is_log(data):
        names = getattr(data, "context_names", None)
        return None if names is None else tuple(map(str, names))
    cols = getattr(data, "columns", None)
    if cols is not None and len(cols) and all(isinstance(c, str) for c in cols):
        return tuple(cols)
    return None


def check_context_names(fitted_names, data, who: str) -> None:
    """Refuse contexts whose named columns differ from the ones ``who`` was fitted on.

    Contexts are read by position: a log (or frame) holding the same features in another column order
    was scored with its columns swapped, silently (a greedy policy's true value fell from 0.46 to 0.27
    in the probe). Checked only when both sides are named, with scikit-learn's rule for models fitted on
    frames (the names must match, in order)."""
    got = context_names_of(data)
    if fitted_names is None or got is None:
        return
    fitted_names = tuple(map(str, fitted_names))
    if got == fitted_names:
        return
    field = "context" if _is_log(data) else "contexts"

    def shown(names):  # a long list (the Open Bandit logs have 20+ one-hot columns) by its ends
        return repr(list(names)) if len(names) <= 8 else f"[{names[0]!r}, {names[1]!r}, ..., {names[-1]!r}]"

    first = next((j for j, (a, b) in enumerate(zip(got, fitted_names)) if a != b), min(len(got), len(fitted_names)))
    at = (f"column {first} is {got[first]!r}, was {fitted_names[first]!r}" if first < min(len(got), len(fitted_names))
          else f"{len(got)} columns, {len(fitted_names)} fitted")
    if sorted(got) == sorted(fitted_names):
        why = (f"hold the same names in another order ({at}); contexts are read by position, so the features "
               "would be swapped")
    else:
        missing = [c for c in fitted_names if c not in set(got)]
        gone = f"; {len(missing)} fitted name(s) missing, first {missing[0]!r}" if missing else ""
        why = f"are named differently ({at}{gone}); contexts are read by position"
    where = ("the list above" if len(fitted_names) <= 8 else
             "the training names (a RewardModelScorer's context_names, a scikit-learn model's feature_names_in_)")
    raise ValidationError(field, f"{len(got)} columns {shown(got)} {why}: {who} was fitted on {len(fitted_names)} "
                                 f"columns {shown(fitted_names)}",
                          hint="pass the context columns in the fitted order, e.g. frame[fitted_names] (or "
                               f"BanditLog(..., context=frame[fitted_names])), fitted_names being {where}")


@dataclass(frozen=True, eq=False, repr=False)
class RewardModelScorer:
    """A reward model fitted on a whole log, as a callable: contexts -> expected reward of every action.

    Built by :func:`fit_reward_scorer`; a scorer for :class:`~workbench.ope.GreedyPolicy`,
    :class:`~workbench.ope.EpsilonGreedyPolicy` and :class:`~workbench.ope.SoftmaxPolicy`. Calling it
    on an (n, d) array of contexts, or on a BanditLog (its ``context``), gives the (n, n_actions)
    predictions q(x, a) (at slot ``position`` when the training log has several slots), with the
    features of :func:`design_matrix` and the expected-reward rule of the cross-fitted reward
    models (``predict_proba @ classes_`` for a classifier). With ``position="all"`` it gives
    q(x, a, slot) for every slot, (n, n_actions, n_positions) (n_positions 1 when the training log
    has one slot): the scorer of :class:`~workbench.ope.GreedyRankingPolicy`.

    Attributes
    ----------
    model : fitted scikit-learn estimator
    n_actions, n_features : int
        Actions of the training log, and columns of its context (every call must have as many).
    position : int or "all"
        The slot predicted (0 when the training log has one slot), or "all": every slot.
    n_positions : int or None
        Slots of the design (None when the training log has one slot: no slot columns).
    action_context : ndarray or None
        The training log's action embeddings, used with ``action_features="context"``.
    action_features : {"onehot", "context"}
    interactions : bool
        Whether the design has the context x action columns (resolved from None at fitting).
    context_names : tuple of str or None
        The training log's ``context_names``. A log or DataFrame whose context columns are named
        otherwise (e.g. the same features in another order) is refused; unnamed contexts (arrays)
        are read by position.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import fit_reward_scorer
    >>> train, _ = simulate_bandit(1000, n_actions=3, random_state=0)
    >>> scorer = fit_reward_scorer(train, LogisticRegression())
    >>> scorer
    RewardModelScorer(LogisticRegression, 3 actions, 3 features, action_features='onehot', interactions=True)
    >>> scorer(train.context[:2]).shape   # one predicted reward per action
    (2, 3)
    >>> fit_reward_scorer(train, LogisticRegression(), position="all")(train.context[:2]).shape  # every slot (one)
    (2, 3, 1)
    """

    model: Any
    n_actions: int
    n_features: int
    position: int | str
    n_positions: int | None
    action_context: np.ndarray | None
    action_features: str
    interactions: bool
    context_names: tuple | None = None

    def __call__(self, data) -> np.ndarray:
        """The (n, n_actions) predicted expected rewards for a BanditLog or an (n, d) array of contexts;
        (n, n_actions, n_positions), one slice per slot, when ``position="all"``."""
        check_context_names(self.context_names, data, "the reward model")
        if _is_log(data):
            field = "context"
            if int(data.n_actions) != self.n_actions:
                raise ValidationError("n_actions", f"is {data.n_actions} in the log but the reward model was fitted "
                                      f"on {self.n_actions} actions")
            slots = getattr(data, "n_positions", None) or 1
            if self.position == "all" and slots != (self.n_positions or 1):
                # every slot of the training log is scored: a log with other slots would get a ranking
                # for slots it does not have (or none for slots it has)
                raise ValidationError("n_positions", f"is {slots} in the log but the reward model (position='all') "
                                      f"was fitted on {self.n_positions or 1}")
            if data.context is None:
                raise ValidationError("context", "is needed by the reward model; the log has none")
            ac = getattr(data, "action_context", None)
            if self.action_features == "context" and ac is not None and not (
                    np.shape(ac) == self.action_context.shape and np.array_equal(ac, self.action_context)):
                # the model reads the training log's embeddings: other ones would be ignored silently
                raise ValidationError("action_context", "differs from the training log's, whose embeddings the "
                                      "reward model (action_features='context') was fitted on")
            X = check_finite(as_array(data.context, field, ndim=2), field)
        else:
            field = "contexts"
            X = check_finite(as_array(data, field, ndim=2), field)
        if X.shape[1] != self.n_features:
            raise ValidationError(field, f"must have {self.n_features} columns (features), as the training log's "
                                  f"context has; got {X.shape[1]}")
        every = self.position == "all"
        slots = list(range(self.n_positions or 1)) if every else [self.position]
        try:
            out = _predict_slots(self.model, X, X.shape[0], self.n_actions, self.n_positions, slots,
                                 self.action_context, self.action_features, self.interactions)
        except ValueError as exc:  # e.g. scikit-learn refusing zero rows
            raise ValidationError("model", f"could not predict ({exc})") from None
        return out if every else out[:, :, 0]

    def __repr__(self) -> str:
        if self.position == "all":
            n_slots = self.n_positions or 1
            slot = f", position='all' ({n_slots} slot{'s' if n_slots > 1 else ''})"
        else:
            slot = f", slot {self.position} of {self.n_positions}" if self.n_positions else ""
        return (f"RewardModelScorer({type(self.model).__name__}, {self.n_actions} actions, {self.n_features} "
                f"features{slot}, action_features={self.action_features!r}, interactions={self.interactions})")


def fit_reward_scorer(log, model, action_features: str = "onehot", interactions: bool | None = None,
                      position: int | str | None = None, random_state=0) -> RewardModelScorer:
    """Fit a reward model on every row of a *training* log; return it as a scorer of all actions.

    The target policies (:class:`~workbench.ope.GreedyPolicy` and the others) take a ``scorer``
    mapping contexts to one score per action; this one scores every action by its predicted
    expected reward. The features are those of the cross-fitted reward models
    (:func:`design_matrix`), and a classifier's expected reward is ``predict_proba @ classes_`` (for
    0/1 clicks, P(click)). The ``from_reward_model`` constructors of the policies call this.

    Fit on a log *other than* the one you evaluate the policy on (or on a split of it, as below).
    A model fitted on the evaluation rows has seen their rewards: the policy steers, row by row,
    to the logged actions that happened to be rewarded, and IPS, SNIPS and DR then over-rate it
    (with a flexible model by far: see :meth:`workbench.ope.GreedyPolicy.from_reward_model`).

    Parameters
    ----------
    log : BanditLog
        The training log; it needs ``context``. Every row is used (no cross-fitting: the scorer is
        meant for other rows).
    model : scikit-learn regressor or classifier
        An instance (cloned, then fitted; the argument is left untouched).
    action_features : {"onehot", "context"}
        Describe actions by indicators, or by their embeddings ``log.action_context``.
    interactions : bool or None, default None
        Add context x action columns (so linear models can fit action-specific slopes); None adds
        them when there are at most ``MAX_AUTO_INTERACTIONS`` of them. Without them a linear (or
        binary logistic) model ranks the actions in the same order for every context, so its
        greedy policy plays one fixed action: that is what None gives on the Open Bandit sample
        (1,600 interaction columns). Pass True, or use a non-linear model, for a policy that
        depends on the context.
    position : int or "all", optional
        The slot to predict for, in ``[0, log.n_positions)``; required when the log has several
        slots (the model is fitted on all of them, with a slot indicator). A policy built on the
        scorer plays the same distribution in every slot when it is evaluated on a log with slots.
        "all": predict every slot, (n, n_actions, n_positions) (n_positions 1 on a log with one
        slot), as :class:`~workbench.ope.GreedyRankingPolicy` ranks them.
    random_state : int, Generator, SeedSequence or None, default 0
        Seeds a model whose own ``random_state`` is None (a random forest, an MLP; at any depth of a
        pipeline): it is fitted as a copy seeded from ``random_state`` (read through :func:`fold_seed`, so
        it gets the seed :func:`cross_fit_predict` and :func:`workbench.ope.evaluate_policy` give it for the
        same ``random_state``), so the same call gives the same scorer and numpy's global random state is
        not touched. A model you seeded is fitted as given; None gives fresh seeds.

    Returns
    -------
    RewardModelScorer
        Callable on an (n, d) array of contexts or a BanditLog: (n, n_actions) predictions, or
        (n, n_actions, n_positions) with ``position="all"``.

    Examples
    --------
    Fit on the first half of a simulated log, score the second half, and compare the true value
    (from the simulator) of the greedy choice with the logger's:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import fit_reward_scorer
    >>> log, truth = simulate_bandit(4000, n_actions=4, random_state=0)
    >>> train, test = log[:2000], log[2000:]
    >>> scorer = fit_reward_scorer(train, LogisticRegression())
    >>> q_hat = scorer(test)  # or scorer(test.context)
    >>> q_hat.shape
    (2000, 4)
    >>> q = truth.expected_reward[2000:]  # the true q(x, a) of the test rows
    >>> greedy = q[np.arange(2000), q_hat.argmax(axis=1)].mean()
    >>> logger = (test.behavior_dist * q).sum(axis=1).mean()
    >>> bool(greedy > logger)
    True

    On a log with slots, ``position="all"`` scores every action in every slot (here the first
    half of the Open Bandit sample: 80 items, 3 slots):

    >>> from workbench.data import load_open_bandit
    >>> ob = load_open_bandit("random")[:2000]
    >>> fit_reward_scorer(ob, LogisticRegression(), position="all")(ob[:5]).shape
    (5, 80, 3)
    """
    if not all(hasattr(log, a) for a in ("action", "reward", "propensity", "n_actions")):
        raise ValidationError("log", f"must be a workbench.data.BanditLog (the training log), got {type(log).__name__}")
    _check_estimator(model, "model")
    _check_action_features(log, action_features)
    if log.context is None:
        raise ValidationError("context", "is needed: the scorer maps contexts to rewards; the training log has none",
                              hint="without contexts the best action is the same on every row: "
                                   "DeterministicPolicy(action) plays it")
    n_pos = _slots(log)
    if isinstance(position, str):
        if position != "all":  # "0" is refused, not parsed: only "all" is a word here
            raise ValidationError("position", f"must be an integer in [0, {(n_pos or 1) - 1}] or 'all', "
                                  f"got {position!r}")
    elif position is None:
        if n_pos:
            raise ValidationError("position", f"is needed: the training log has {n_pos} positions (slots) and the "
                                  "scorer predicts for one of them", hint="pass position=0 for the first slot, "
                                  "or position='all' for every slot (a ranking: GreedyRankingPolicy)")
        position = 0
    else:
        position = check_int(position, "position", low=0, high=(n_pos or 1) - 1)
    interactions = _resolve_interactions(interactions, log, action_features)
    X, y = _training_design(log, action_features, interactions)
    _check_classes(model, y, "model")
    # an unseeded randomised model drew from numpy's global state: two calls gave two scorers
    fitted = clone(seed_unseeded(model, fold_seed(random_state)))
    try:
        fitted.fit(X, y)
    except ValueError as exc:
        raise ValidationError("model", f"could not be fitted on the training log ({exc})",
                              hint="a classifier needs at least two reward values in the log; or use a regressor"
                              ) from None
    return RewardModelScorer(fitted, int(log.n_actions), int(log.context.shape[1]), position, n_pos,
                             readonly(log.action_context), action_features, interactions,
                             None if log.context_names is None else tuple(map(str, log.context_names)))
