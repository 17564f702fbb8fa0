"""Target policies that turn a log (or contexts) into an (n, n_actions) action distribution.

Every policy is a frozen dataclass with ``action_dist(data)``, where ``data`` is a
:class:`~workbench.data.BanditLog` (its ``context`` and ``n_actions`` are used) or a 2-D array of
contexts (then the policy must know ``n_actions``, or take it from its scorer's output).
:class:`GreedyRankingPolicy` fills several slots with distinct actions: its ``action_dist`` is
(n, n_actions, n_positions), one distribution per slot.

Scores come from a ``scorer``: a fitted scikit-learn model (``predict_proba`` if it has one,
else ``decision_function``, else ``predict`` for a multi-output regressor of per-action rewards),
or any callable mapping contexts (n, d) to scores (n, n_actions). A classifier whose ``classes_``
are a subset of the actions gives the missing actions score -inf (probability 0 under greedy and
softmax; epsilon-greedy still explores them). A model fitted on a DataFrame (``feature_names_in_``) is
given named contexts (a log's ``context_names``, a frame's columns) as a DataFrame under those names, so a
Pipeline whose ColumnTransformer selects columns by name can score; the names must be the fitted ones, in
the fitted order (else a ValidationError names the first column that differs). Arrays go as arrays.

``GreedyPolicy.from_reward_model`` (and the same on the epsilon-greedy and softmax policies) fits a
reward model on a training log and scores every action by its predicted expected reward
(:func:`workbench.ope.fit_reward_scorer`).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable

import numpy as np
import pandas as pd
from scipy.special import softmax

from .._validation import (ValidationError, as_array, check_distribution, check_finite, check_int, check_real,
                           raise_if_any)
from .reward_models import RewardModelScorer, check_context_names, context_names_of, fit_reward_scorer

__all__ = ["UniformPolicy", "GreedyPolicy", "EpsilonGreedyPolicy", "SoftmaxPolicy", "ModelProbabilityPolicy",
           "DeterministicPolicy", "GreedyRankingPolicy", "policy_scores"]


def _contexts(data):
    if hasattr(data, "reward") and hasattr(data, "n_actions"):
        return data.context, int(data.n_actions), len(data)
    X = check_finite(as_array(data, "contexts", ndim=2), "contexts")
    return X, None, X.shape[0]


def policy_scores(scorer, X, n_actions: int | None) -> np.ndarray:
    """Scores (n, n_actions) from a fitted scikit-learn model or a callable.

    A ``predict_proba`` model gives log-probabilities (-inf for the actions missing from its
    ``classes_``), a ``decision_function`` model its decision values, a regressor its ``predict``
    output and a callable its return value.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from workbench.ope import policy_scores
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> policy_scores(lambda X: np.hstack([X, -X]), X, n_actions=2)[1]
    array([ 1., -1.])
    >>> clf = LogisticRegression().fit(X, [0, 0, 2, 2])  # knows actions 0 and 2 of 3
    >>> s = policy_scores(clf, X, n_actions=3)
    >>> bool(np.isneginf(s[:, 1]).all())
    True
    >>> np.round(np.exp(s[0]), 3)  # exp(score) is the classifier's probability
    array([0.808, 0.   , 0.192])
    """
    return _scores(scorer, X, n_actions, per_slot=False)


def _scores(scorer, X, n_actions: int | None, per_slot: bool) -> np.ndarray:
    """:func:`policy_scores`; with ``per_slot`` a callable may also return (n, n_actions, n_positions)."""
    if X is None:
        raise ValidationError("context", "is needed by a context-dependent policy; the log has none")
    if n_actions is not None:  # int(2.9) made 2 actions silently; "3" gave a self-contradictory message
        n_actions = check_int(n_actions, "n_actions", low=1)
    if hasattr(scorer, "predict_proba") and hasattr(scorer, "classes_"):
        raw = _classifier_output(scorer.predict_proba(X), scorer.classes_, X, "predict_proba")
        return _place_classes(raw, scorer.classes_, n_actions, fill=-np.inf, log_scale=True)
    if hasattr(scorer, "decision_function") and hasattr(scorer, "classes_"):
        raw = np.asarray(scorer.decision_function(X), dtype=np.float64)
        if raw.ndim == 1:  # binary: the score is for classes_[1]
            raw = np.column_stack([np.zeros_like(raw), raw])
        raw = _classifier_output(raw, scorer.classes_, X, "decision_function")
        return _place_classes(raw, scorer.classes_, n_actions, fill=-np.inf, log_scale=False)
    if hasattr(scorer, "predict") and hasattr(scorer, "fit"):  # a regressor of per-action rewards
        raw = scorer.predict(X)
    elif callable(scorer):
        raw = scorer(X)
    else:
        raise ValidationError("scorer", f"must be a fitted scikit-learn model or a callable, got {type(scorer).__name__}")
    # as_array, not np.asarray(..., float): scores of strings were a bare ValueError
    raw = as_array(raw, "scorer")
    if not (raw.dtype == bool or np.issubdtype(raw.dtype, np.number)):
        raise ValidationError("scorer", f"must return numeric scores, got dtype {raw.dtype}")
    raw = raw.astype(np.float64, copy=False)
    if per_slot and raw.ndim not in (2, 3):
        raise ValidationError("scorer", f"must return scores of shape (n, n_actions) or (n, n_actions, n_positions), "
                              f"got {raw.shape}")
    if not per_slot and raw.ndim != 2:
        raise ValidationError("scorer", f"must return scores of shape (n, n_actions), got {raw.shape}",
                              # e.g. a RewardModelScorer fitted with position="all"
                              hint="per-slot scores (n, n_actions, n_positions) are ranked by GreedyRankingPolicy"
                              if raw.ndim == 3 else None)
    n_rows = np.shape(X)[0]
    if raw.shape[0] != n_rows:  # a policy of 5 rows for a log of 300 was returned as is
        raise ValidationError("scorer", f"returned scores for {raw.shape[0]} rows, given {n_rows} rows of contexts")
    if n_actions is not None and raw.shape[1] != n_actions:
        raise ValidationError("scorer", f"returned {raw.shape[1]} scores per row, the log has {n_actions} actions")
    raise_if_any(np.isnan(raw), "scorer", "returned NaN scores", raw)
    return raw


def _classifier_output(raw, classes, X, method: str, field: str = "scorer") -> np.ndarray:
    """A fitted classifier's (n, n_classes) output, checked as a scorer's is: one row per context, one column
    per class in ``classes_``, no NaN. Unchecked, a NaN row became action 0 under argmax (numpy takes NaN as
    the maximum) and n + 1 rows a policy of n + 1 rows."""
    raw = as_array(raw, field, dtype=np.float64)
    n_rows, n_classes = np.shape(X)[0], len(np.atleast_1d(classes))
    if raw.ndim != 2 or raw.shape != (n_rows, n_classes):
        raise ValidationError(field, f"{method} must return (n_rows, n_classes) = ({n_rows}, {n_classes}) values "
                              f"(one row per context, one column per classes_ entry), got shape {raw.shape}")
    raise_if_any(np.isnan(raw), field, f"{method} returned NaN", raw)
    return raw


def _place_classes(raw, classes, n_actions, fill, log_scale):
    classes = np.asarray(classes)
    if not np.issubdtype(classes.dtype, np.integer):
        if np.issubdtype(classes.dtype, np.floating) and np.all(classes == np.round(classes)):
            classes = classes.astype(np.int64)
        else:
            raise ValidationError("scorer", f"classes_ must be action indices (integers), got {classes[:5]}")
    k = int(classes.max()) + 1 if n_actions is None else int(n_actions)
    if classes.min() < 0 or classes.max() >= k:
        raise ValidationError("scorer", f"classes_ must be in [0, {k}), got {classes.min()}..{classes.max()}")
    if log_scale:
        with np.errstate(divide="ignore"):
            raw = np.log(raw)  # softmax(log p) = p: a probabilistic model's own distribution at temperature 1
    out = np.full((raw.shape[0], k), fill)
    out[:, classes] = raw
    return out


def _check_names(scorer, data) -> tuple | None:
    """Named contexts must be named as the scorer's training contexts were: a RewardModelScorer's
    ``context_names`` (its training log's), or a scikit-learn model's ``feature_names_in_`` (fitted on a
    DataFrame). The scores are computed from the columns by position, so a log or frame holding the same
    features in another order was scored with its features swapped, silently.

    Returns the names under which a scikit-learn model fitted on names is to be given the contexts (the
    data's, equal to the fitted ones once checked), or None: the contexts go as an array (unnamed data,
    a model fitted on an array, a callable; a RewardModelScorer reads its array by position)."""
    if isinstance(scorer, RewardModelScorer):
        check_context_names(scorer.context_names, data, f"the scorer ({type(scorer).__name__})")
        return None
    names = getattr(scorer, "feature_names_in_", None) if hasattr(scorer, "fit") else None
    if names is None:
        return None
    check_context_names(tuple(names), data, f"the scorer ({type(scorer).__name__})")
    return context_names_of(data)


def _scorer_contexts(scorer, data):
    """``(X, n_actions, n)`` as :func:`_contexts`, after :func:`_check_names`, with ``X`` as ``scorer``
    reads it.

    A scikit-learn model fitted on a DataFrame is given a DataFrame again when the contexts are named (a
    log's ``context_names``, a frame's text columns): a Pipeline whose ColumnTransformer selects columns
    by name cannot read an array (scikit-learn refuses it), and any other model fitted on names warns on
    one. The frame is built from the checked float64 array, so the model sees the same numbers; with
    unnamed contexts, or a model fitted on an array, the array goes as before."""
    names = _check_names(scorer, data)
    X, k, n = _contexts(data)
    if names is not None and X is not None:
        X = pd.DataFrame(X, columns=list(names))
    return X, k, n


def _check_n(n_actions, k_data, who):
    if n_actions is None and k_data is None:
        raise ValidationError("n_actions", f"is needed by {who} when given contexts instead of a log")
    if n_actions is not None and k_data is not None and n_actions != k_data:
        raise ValidationError("n_actions", f"is {n_actions} but the log has {k_data} actions")
    return int(n_actions if n_actions is not None else k_data)


def _one_hot(idx, k):
    out = np.zeros((idx.shape[0], k))
    out[np.arange(idx.shape[0]), idx] = 1.0
    return out


def _check_some_action(s: np.ndarray) -> None:
    """Refuse a row whose scores are all -inf: the scorer rules out every action there, and no policy that
    plays its best action has one (greedy and epsilon-greedy played action 0, an action the scorer ruled out)."""
    raise_if_any(np.isneginf(s).all(axis=1), "scorer", "scores every action -inf on a row (rules out every "
                 "action): the policy has no action to play there", s[:, 0])


def _one_slot(position):
    """``position`` for a policy that plays one distribution in every slot: "all" is GreedyRankingPolicy's."""
    if isinstance(position, str) and position == "all":
        # refused before the (costly) fit: the scores of every slot would fail later, in action_dist
        raise ValidationError("position", "'all' scores every slot, and this policy plays one distribution in "
                              "every slot", hint="GreedyRankingPolicy.from_reward_model ranks the actions slot by slot")
    return position


@dataclass(frozen=True)
class UniformPolicy:
    """Every action with probability 1 / n_actions.

    Examples
    --------
    >>> from workbench.ope import UniformPolicy
    >>> UniformPolicy(n_actions=4).action_dist([[0.0], [1.0]])[0]
    array([0.25, 0.25, 0.25, 0.25])
    """

    n_actions: int | None = None

    def __post_init__(self):
        if self.n_actions is not None:  # 0 would divide by zero, 2.5 would become 2
            object.__setattr__(self, "n_actions", check_int(self.n_actions, "n_actions", low=1))

    def action_dist(self, data) -> np.ndarray:
        """The policy's (n, n_actions) action probabilities on ``data``: a BanditLog (its contexts and
        ``n_actions``) or an (n, d) array of contexts. Rows sum to 1; this is what ``evaluate_policy``
        reads from a policy object."""
        _, k_data, n = _contexts(data)
        k = _check_n(self.n_actions, k_data, "UniformPolicy")
        return np.full((n, k), 1.0 / k)


@dataclass(frozen=True)
class GreedyPolicy:
    """Deterministic: the highest-scoring action (ties to the lowest index).

    ``scorer``: a fitted scikit-learn model or a callable contexts -> scores (see :func:`policy_scores`).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.ope import GreedyPolicy
    >>> scores = lambda X: X @ np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])  # 2 features -> 3 actions
    >>> GreedyPolicy(scores).action_dist(np.array([[2.0, 0.0], [0.0, 2.0], [1.0, 1.0]]))  # last row: a tie
    array([[1., 0., 0.],
           [0., 1., 0.],
           [1., 0., 0.]])

    On a log the policy reads ``log.context`` (here 3 features and 3 actions):

    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import SelfNormalizedIPS
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> greedy = GreedyPolicy(lambda X: X @ np.array([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 1.0, 0.0]]))
    >>> greedy.action_dist(log).shape
    (2000, 3)
    >>> round(SelfNormalizedIPS().estimate_policy_value(log, greedy), 3)
    0.251
    """

    scorer: Any

    @classmethod
    def from_reward_model(cls, log, model, action_features: str = "onehot", interactions: bool | None = None,
                          position: int | None = None) -> "GreedyPolicy":
        """The action with the highest predicted reward, from a reward model fitted on a *training* log.

        ``model`` (cloned) is fitted on every row of ``log`` with the features of the cross-fitted
        reward models; the policy plays the argmax over actions of its expected reward (see
        :func:`workbench.ope.fit_reward_scorer`).

        Fit on a log *other than* the one you evaluate on, or on a split of it as below. Fitted on
        the evaluation rows, the model has seen their rewards: the policy steers, row by row, to
        the logged actions that happened to be rewarded, and IPS, SNIPS and DR over-rate it (the
        last lines of the example: a tree, evaluated on its own training rows).

        Parameters
        ----------
        log : BanditLog
            The training log (with ``context``).
        model : scikit-learn regressor or classifier
            An instance; a classifier's expected reward is ``predict_proba @ classes_``.
        action_features : {"onehot", "context"}
            Describe actions by indicators, or by their embeddings ``log.action_context``.
        interactions : bool or None, default None
            Context x action columns; None adds them when they are few (see ``cross_fit_predict``).
            Without them a linear (or binary logistic) model's greedy action is the same for
            every context.
        position : int, optional
            The slot to score, in ``[0, log.n_positions)``; required when the log has several
            slots. The policy then plays the same distribution in every slot. (A ranking, one
            action per slot, is :meth:`GreedyRankingPolicy.from_reward_model`.)

        Returns
        -------
        GreedyPolicy
            Whose ``scorer`` is the fitted :class:`workbench.ope.RewardModelScorer`.

        Examples
        --------
        >>> from sklearn.linear_model import LogisticRegression
        >>> from workbench.data import simulate_bandit
        >>> from workbench.ope import GreedyPolicy, evaluate_policy
        >>> log, truth = simulate_bandit(4000, n_actions=4, random_state=0)
        >>> train, test = log[:2000], log[2000:]  # i.i.d. rows: the halves are a random split
        >>> greedy = GreedyPolicy.from_reward_model(train, LogisticRegression())
        >>> out = evaluate_policy(test, greedy, estimators=["ips", "dr"], n_bootstrap=200)
        >>> out["value"].round(2).tolist()
        [0.47, 0.46]

        The simulator knows q(x, a): the greedy policy's true value on the test rows, and the logger's.

        >>> q = truth.expected_reward[2000:]
        >>> true_value = lambda dist: round(float((dist * q).sum(axis=1).mean()), 2)
        >>> true_value(greedy.action_dist(test)), true_value(test.behavior_dist)
        (0.46, 0.38)

        A flexible model fitted on the very rows it is evaluated on: IPS and DR see a value far
        above the true one.

        >>> from sklearn.tree import DecisionTreeRegressor
        >>> leaky = GreedyPolicy.from_reward_model(test, DecisionTreeRegressor(min_samples_leaf=5, random_state=0))
        >>> evaluate_policy(test, leaky, estimators=["ips", "dr"], n_bootstrap=200)["value"].round(2).tolist()
        [0.66, 0.66]
        >>> true_value(leaky.action_dist(test))
        0.37
        """
        return cls(fit_reward_scorer(log, model, action_features=action_features, interactions=interactions,
                                     position=_one_slot(position)))

    def action_dist(self, data) -> np.ndarray:
        """The policy's (n, n_actions) action probabilities on ``data``: a BanditLog (its contexts and
        ``n_actions``) or an (n, d) array of contexts. Rows sum to 1; this is what ``evaluate_policy``
        reads from a policy object."""
        X, k, _ = _scorer_contexts(self.scorer, data)
        s = policy_scores(self.scorer, X, k)
        _check_some_action(s)
        return _one_hot(np.argmax(s, axis=1), s.shape[1])


@dataclass(frozen=True)
class EpsilonGreedyPolicy:
    """(1 - epsilon) on the highest-scoring action plus epsilon / n_actions on every action.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.ope import EpsilonGreedyPolicy
    >>> scores = lambda X: X @ np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5]])  # 2 features -> 3 actions
    >>> policy = EpsilonGreedyPolicy(scores, epsilon=0.3)
    >>> np.round(policy.action_dist(np.array([[2.0, 0.0], [0.0, 2.0]])), 3)
    array([[0.8, 0.1, 0.1],
           [0.1, 0.8, 0.1]])
    """

    scorer: Any
    epsilon: float = 0.1

    def __post_init__(self):
        # check_real, not float(): float("0.1") would accept a string that breaks action_dist later
        object.__setattr__(self, "epsilon", check_real(self.epsilon, "epsilon", low=0.0, high=1.0))

    @classmethod
    def from_reward_model(cls, log, model, epsilon: float = 0.1, action_features: str = "onehot",
                          interactions: bool | None = None, position: int | None = None) -> "EpsilonGreedyPolicy":
        """Epsilon-greedy on the predicted rewards of a reward model fitted on a *training* log.

        As :meth:`GreedyPolicy.from_reward_model` (same parameters, same pitfall: fit on a log
        other than the one you evaluate on, or on a split of it), with exploration ``epsilon``,
        checked before the model is fitted.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import Ridge
        >>> from workbench.data import simulate_bandit
        >>> from workbench.ope import EpsilonGreedyPolicy
        >>> log, truth = simulate_bandit(4000, n_actions=4, random_state=0)
        >>> train, test = log[:2000], log[2000:]  # fit on one half, evaluate on the other
        >>> policy = EpsilonGreedyPolicy.from_reward_model(train, Ridge(), epsilon=0.2)
        >>> dist = policy.action_dist(test)
        >>> dist.shape, round(float(dist.min()), 3), round(float(dist.max()), 3)  # 0.2 / 4 each, + 0.8 on the best
        ((2000, 4), 0.05, 0.85)
        """
        probe = cls(None, epsilon=epsilon)  # a bad epsilon is refused before the (costly) fit
        return replace(probe, scorer=fit_reward_scorer(log, model, action_features=action_features,
                                                       interactions=interactions, position=_one_slot(position)))

    def action_dist(self, data) -> np.ndarray:
        """The policy's (n, n_actions) action probabilities on ``data``: a BanditLog (its contexts and
        ``n_actions``) or an (n, d) array of contexts. Rows sum to 1; this is what ``evaluate_policy``
        reads from a policy object."""
        X, k, _ = _scorer_contexts(self.scorer, data)
        s = policy_scores(self.scorer, X, k)
        _check_some_action(s)  # no greedy action to put 1 - epsilon on
        kk = s.shape[1]
        return (1 - self.epsilon) * _one_hot(np.argmax(s, axis=1), kk) + self.epsilon / kk


@dataclass(frozen=True)
class SoftmaxPolicy:
    """softmax(scores / temperature). For a ``predict_proba`` model, temperature 1 is its own distribution.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.ope import SoftmaxPolicy
    >>> X = np.array([[0.0, 1.0, 2.0]])  # the scorer below uses the contexts as scores
    >>> np.round(SoftmaxPolicy(lambda X: X).action_dist(X), 3)
    array([[0.09 , 0.245, 0.665]])
    >>> np.round(SoftmaxPolicy(lambda X: X, temperature=0.1).action_dist(X), 3)  # colder: greedier
    array([[0., 0., 1.]])
    >>> np.round(SoftmaxPolicy(lambda X: X, temperature=np.inf).action_dist(X), 3)  # uniform
    array([[0.333, 0.333, 0.333]])

    With a fitted classifier over actions, temperature 1 gives its ``predict_proba``:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from workbench.data import simulate_bandit
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> clf = LogisticRegression().fit(log.context, log.action)
    >>> bool(np.allclose(SoftmaxPolicy(clf).action_dist(log), clf.predict_proba(log.context)))
    True
    """

    scorer: Any
    temperature: float = 1.0

    def __post_init__(self):
        # a number (not the string "1"); inf is allowed (the uniform policy over actions not scored -inf)
        t = check_real(self.temperature, "temperature", allow_inf=True)
        if not t > 0:
            raise ValidationError("temperature", f"must be > 0, got {self.temperature}")
        object.__setattr__(self, "temperature", float(t))

    @classmethod
    def from_reward_model(cls, log, model, temperature: float, action_features: str = "onehot",
                          interactions: bool | None = None, position: int | None = None) -> "SoftmaxPolicy":
        """softmax(predicted reward / temperature), from a reward model fitted on a *training* log.

        As :meth:`GreedyPolicy.from_reward_model` (same parameters, same pitfall: fit on a log
        other than the one you evaluate on, or on a split of it). The scores are expected rewards,
        so ``temperature`` is in reward units and has no default: for click rates of a few percent,
        temperature 1 is all but uniform, and 0.01 already sharp. It is checked before the fit.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.linear_model import LogisticRegression
        >>> from workbench.data import simulate_bandit
        >>> from workbench.ope import SoftmaxPolicy
        >>> log, truth = simulate_bandit(4000, n_actions=4, random_state=0)
        >>> train, test = log[:2000], log[2000:]  # fit on one half, evaluate on the other
        >>> q = truth.expected_reward[2000:]  # the simulator's q(x, a) on the test rows
        >>> for t in (1.0, 0.1, 0.01):  # the true value, from near the uniform policy's to near the greedy one's
        ...     dist = SoftmaxPolicy.from_reward_model(train, LogisticRegression(), temperature=t).action_dist(test)
        ...     print(t, round(float((dist * q).sum(axis=1).mean()), 3))
        1.0 0.308
        0.1 0.423
        0.01 0.461
        >>> round(float(q.mean()), 3), round(float(q.max(axis=1).mean()), 3)  # uniform policy, best action
        (0.286, 0.465)
        """
        probe = cls(None, temperature=temperature)  # a bad temperature is refused before the (costly) fit
        return replace(probe, scorer=fit_reward_scorer(log, model, action_features=action_features,
                                                       interactions=interactions, position=_one_slot(position)))

    def action_dist(self, data) -> np.ndarray:
        """The policy's (n, n_actions) action probabilities on ``data``: a BanditLog (its contexts and
        ``n_actions``) or an (n, d) array of contexts. Rows sum to 1; this is what ``evaluate_policy``
        reads from a policy object."""
        X, k, _ = _scorer_contexts(self.scorer, data)
        s = policy_scores(self.scorer, X, k)
        # a row that rules out every action has no distribution (it was a row of NaN)
        _check_some_action(s)
        if np.isinf(self.temperature):  # the limit: uniform over the actions not ruled out (score -inf)
            return softmax(np.where(np.isneginf(s), -np.inf, 0.0), axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            out = softmax(s / self.temperature, axis=1)
        bad = np.isnan(out).any(axis=1)
        if bad.any():
            # s / temperature overflowed (a huge score, a tiny temperature) or a score is +inf: inf - inf
            # is NaN inside the softmax. Shifting by the row's top score first is the same softmax with
            # no overflow; a row topped by +inf gets its limit, uniform over the actions scored +inf.
            sb = s[bad]
            top = sb.max(axis=1, keepdims=True)
            with np.errstate(invalid="ignore", over="ignore"):
                fixed = softmax((sb - np.where(np.isposinf(top), 0.0, top)) / self.temperature, axis=1)
            inf_top = np.isposinf(top[:, 0])
            hit = np.isposinf(sb[inf_top])
            fixed[inf_top] = hit / hit.sum(axis=1, keepdims=True)
            out[bad] = fixed
        return out


@dataclass(frozen=True)
class ModelProbabilityPolicy:
    """A fitted classifier's ``predict_proba`` over actions (classes are action indices), used as is.

    Actions missing from the classifier's ``classes_`` get probability 0.

    Examples
    --------
    A classifier of the logged actions imitates the logging policy, so its value is close to
    the logger's:

    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import ModelProbabilityPolicy, SelfNormalizedIPS
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> cloned = ModelProbabilityPolicy(LogisticRegression().fit(log.context, log.action))
    >>> cloned.action_dist(log).shape
    (2000, 3)
    >>> round(SelfNormalizedIPS().estimate_policy_value(log, cloned), 3), round(truth.behavior_value, 3)
    (0.235, 0.245)
    >>> no_1 = LogisticRegression().fit(log.context, np.where(log.action == 1, 0, log.action))  # classes 0, 2
    >>> float(ModelProbabilityPolicy(no_1).action_dist(log)[:, 1].max())  # action 1 gets probability 0
    0.0
    """

    model: Any

    def action_dist(self, data) -> np.ndarray:
        """The policy's (n, n_actions) action probabilities on ``data``: a BanditLog (its contexts and
        ``n_actions``) or an (n, d) array of contexts. Rows sum to 1; this is what ``evaluate_policy``
        reads from a policy object."""
        X, k, _ = _scorer_contexts(self.model, data)
        if not hasattr(self.model, "predict_proba"):
            raise ValidationError("model", f"{type(self.model).__name__} has no predict_proba")
        if not hasattr(self.model, "classes_"):  # was a bare AttributeError
            raise ValidationError("model", f"{type(self.model).__name__} has no classes_ (the action of each "
                                           "predict_proba column)", hint="fit it first, or set classes_ to the "
                                           "actions its columns stand for")
        raw = _classifier_output(self.model.predict_proba(X), self.model.classes_, X, "predict_proba", "model")
        dist = _place_classes(raw, self.model.classes_, k, fill=0.0, log_scale=False)
        return check_distribution(dist, "policy", axis=1)


@dataclass(frozen=True)
class DeterministicPolicy:
    """A fixed action per row: an array of actions, or a callable mapping contexts to actions.

    A single action means that action on every row.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.ope import DeterministicPolicy
    >>> DeterministicPolicy([2, 0], n_actions=3).action_dist(np.zeros((2, 1)))  # 2 rows of contexts
    array([[0., 0., 1.],
           [1., 0., 0.]])
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import InverseProbabilityWeighting
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> always_1 = DeterministicPolicy(1)  # n_actions comes from the log
    >>> round(InverseProbabilityWeighting().estimate_policy_value(log, always_1), 3)
    0.253
    >>> by_sign = DeterministicPolicy(lambda X: (X[:, 0] > 0).astype(int))  # a rule on the contexts
    >>> by_sign.action_dist(log).sum(axis=0)
    array([ 980., 1020.,    0.])
    >>> DeterministicPolicy(np.zeros(2000, dtype=int), n_actions=3)  # the repr shows an array's shape only
    DeterministicPolicy(actions=<ndarray of shape (2000,)>, n_actions=3)
    """

    actions: Any
    n_actions: int | None = None

    def __post_init__(self):
        if self.n_actions is not None:
            object.__setattr__(self, "n_actions", check_int(self.n_actions, "n_actions", low=1))

    def __repr__(self) -> str:
        # The generated dataclass repr printed the whole action array (a line of thousands of numbers
        # for a real log): an array shows its shape, a scalar its value, a callable its name.
        a = self.actions
        try:
            shape = None if callable(a) else np.shape(a)
        except (ValueError, TypeError):  # a ragged list: a repr must not raise (action_dist names the error)
            shape = None
        if callable(a):
            name = getattr(a, "__qualname__", None) or getattr(a, "__name__", None)
            shown = f"<function {name}>" if name else f"<callable {type(a).__name__}>"
        elif shape == ():
            shown = repr(a.item() if isinstance(a, (np.generic, np.ndarray)) else a)
        elif shape is not None:
            shown = f"<{type(a).__name__} of shape {shape}>"
        else:
            shown = f"<{type(a).__name__} of length {len(a)}>" if hasattr(a, "__len__") else f"<{type(a).__name__}>"
        return f"DeterministicPolicy(actions={shown}, n_actions={self.n_actions!r})"

    def action_dist(self, data) -> np.ndarray:
        """The policy's (n, n_actions) action probabilities on ``data``: a BanditLog (its contexts and
        ``n_actions``) or an (n, d) array of contexts. Rows sum to 1; this is what ``evaluate_policy``
        reads from a policy object."""
        X, k_data, n = _contexts(data)
        k = _check_n(self.n_actions, k_data, "DeterministicPolicy")
        if callable(self.actions):
            if X is None:
                raise ValidationError("context", "is needed by a callable DeterministicPolicy; the log has none")
            acts = np.asarray(self.actions(X))
        else:
            acts = np.asarray(self.actions)
            if acts.ndim == 0:
                acts = np.full(n, acts)
        from .._validation import check_integer_in_range

        acts = check_integer_in_range(acts, "actions", 0, k)
        if acts.shape[0] != n:
            raise ValidationError("actions", f"must have one action per row ({n}), got {acts.shape[0]}")
        return _one_hot(acts, k)


@dataclass(frozen=True)
class GreedyRankingPolicy:
    """A ranking: in slot p, the highest-scoring action not placed in slots 0..p-1 (ties to the lowest index).

    ``action_dist(data)`` is (n, n_actions, n_positions): slot 0 plays the top action, slot 1 the
    next one, and so on, with no action twice in one row's list (as obp's ``action_dist``
    (n, n_items, len_list)). ``evaluate_policy`` reads each row's distribution at its logged slot.

    Parameters
    ----------
    scorer : fitted scikit-learn model or callable
        Scores of every action, (n, n_actions), the same in every slot (see :func:`policy_scores`);
        or, from a callable, per-slot scores (n, n_actions, n_positions): slot p then ranks by its
        own slice (a :class:`~workbench.ope.RewardModelScorer` fitted with ``position="all"``).
        With per-slot scores the list is filled greedily slot by slot, which is the best list only
        when the slots order the actions alike (a slot effect that shifts or scales every action).
    n_positions : int, optional
        Slots to fill; by default the log's (1 when it has no slots) or the scores' axis 2. Needed
        when ``action_dist`` is given contexts and the scores are 2-D. At most ``n_actions``.
    epsilon : float, default 0.0
        Exploration: every slot plays ``(1 - epsilon)`` on its ranked action plus ``epsilon /
        n_actions`` on every action, so the target has full support. With ``epsilon > 0`` the slot
        distributions are the marginals of a mixture of lists (an explored slot may repeat an
        action placed in another slot), as obp's per-slot ``action_dist`` is; the per-slot
        estimators (IPS, DR, ...: each row's weight is the target's probability of the logged
        action at the logged slot) treat the slots separately, as obp's standard estimators do,
        and need nothing more.

    Examples
    --------
    Two rows of scores for 4 actions (a callable of the contexts; here it ignores them), 3 slots:

    >>> import numpy as np
    >>> from workbench.ope import GreedyRankingPolicy
    >>> scores = np.array([[0.1, 0.4, 0.3, 0.2],
    ...                    [0.5, 0.5, 0.0, 0.5]])  # a three-way tie: the lowest index first
    >>> policy = GreedyRankingPolicy(lambda X: scores, n_positions=3)
    >>> dist = policy.action_dist(np.zeros((2, 1)))
    >>> dist.shape
    (2, 4, 3)
    >>> dist.argmax(axis=1)  # each row's list: the action in slots 0, 1, 2
    array([[1, 2, 3],
           [0, 1, 3]])
    >>> GreedyRankingPolicy(lambda X: scores, n_positions=3, epsilon=0.2).action_dist(np.zeros((2, 1)))[0, :, 0]
    array([0.05, 0.85, 0.05, 0.05])

    Built from a reward model, see :meth:`from_reward_model`.
    """

    scorer: Any
    n_positions: int | None = None
    epsilon: float = 0.0

    def __post_init__(self):
        if self.n_positions is not None:  # 2.5 would become 2, 0 an empty list
            object.__setattr__(self, "n_positions", check_int(self.n_positions, "n_positions", low=1))
        # check_real, not float(): float("0.1") would accept a string that breaks action_dist later
        object.__setattr__(self, "epsilon", check_real(self.epsilon, "epsilon", low=0.0, high=1.0))

    @classmethod
    def from_reward_model(cls, log, model, epsilon: float = 0.0, action_features: str = "onehot",
                          interactions: bool | None = None) -> "GreedyRankingPolicy":
        """A ranking by predicted reward, from a reward model fitted on a *training* log with slots.

        ``model`` (cloned) is fitted on every row of ``log`` with the features of the cross-fitted
        reward models (a slot indicator among them) and predicts every action in every slot
        (:func:`workbench.ope.fit_reward_scorer` with ``position="all"``); slot p plays the best
        action by slot p's prediction among those not placed above it. On a log with one slot
        this is :class:`GreedyPolicy` (as an (n, n_actions, 1) distribution).

        Fit on a log *other than* the one you evaluate on, or on a split of it as below (the Open
        Bandit log is in time order: its first half trains, its second half evaluates). Fitted on
        the evaluation rows, the model has seen their rewards: it ranks first, row by row, the
        items that happened to be clicked there, and IPS, SNIPS and DR over-rate the ranking.

        Parameters
        ----------
        log : BanditLog
            The training log (with ``context``; ``position`` when it has slots).
        model : scikit-learn regressor or classifier
            An instance; a classifier's expected reward is ``predict_proba @ classes_``.
        epsilon : float, default 0.0
            Exploration in every slot (see the class); checked before the model is fitted.
        action_features : {"onehot", "context"}
            Describe actions by indicators, or by their embeddings ``log.action_context``.
        interactions : bool or None, default None
            Context x action columns; None adds them when they are few (see ``cross_fit_predict``).
            Without them a linear (or binary logistic) model ranks the actions in the same order
            for every context, and, the slot being an indicator, in every slot: one fixed list.

        Returns
        -------
        GreedyRankingPolicy
            Whose ``scorer`` is the fitted :class:`workbench.ope.RewardModelScorer`; ``n_positions``
            comes from the log it is evaluated on.

        Examples
        --------
        The Open Bandit sample (uniform random logger, 80 items, 3 slots), its first 4,000 rows:
        a model fitted on the first half, the ranking evaluated on the second.

        >>> from sklearn.linear_model import LogisticRegression
        >>> from workbench.data import load_open_bandit
        >>> from workbench.ope import GreedyRankingPolicy, InverseProbabilityWeighting
        >>> log = load_open_bandit("random")[:4000]
        >>> train, test = log[:2000], log[2000:]  # in time order: train on the past, evaluate on the future
        >>> ranking = GreedyRankingPolicy.from_reward_model(train, LogisticRegression(), epsilon=0.1)
        >>> dist = ranking.action_dist(test)
        >>> dist.shape  # rows x items x slots
        (2000, 80, 3)
        >>> dist[0].argmax(axis=0)  # the first row's list: the items in slots 0, 1, 2
        array([ 9, 38, 49])
        >>> ips = InverseProbabilityWeighting()
        >>> round(ips.estimate_policy_value(test, ranking), 4), round(float(test.reward.mean()), 4)  # the logger's
        (0.0004, 0.0045)

        Without interactions (the default here: 1,600 columns) every row gets the same list, and
        5 training clicks are too few to choose it: the estimate is below the random logger's
        click rate (``evaluate_policy`` gives the intervals, and warns that its 9 test clicks say
        little). The pitfall: fitted on the evaluation rows, the model ranks first the items
        clicked there, and IPS sees 16 times the logger's click rate.

        >>> leaky = GreedyRankingPolicy.from_reward_model(test, LogisticRegression(), epsilon=0.1)
        >>> round(ips.estimate_policy_value(test, leaky), 4)
        0.0724
        """
        probe = cls(None, epsilon=epsilon)  # a bad epsilon is refused before the (costly) fit
        return replace(probe, scorer=fit_reward_scorer(log, model, action_features=action_features,
                                                       interactions=interactions, position="all"))

    def action_dist(self, data) -> np.ndarray:
        """The policy's (n, n_actions, n_positions) action probabilities on ``data``: a BanditLog (its
        contexts, ``n_actions`` and ``n_positions``) or an (n, d) array of contexts. Each slot's row sums
        to 1; without exploration each row's slots hold distinct actions. ``evaluate_policy`` reads it."""
        X, k, n = _scorer_contexts(self.scorer, data)
        s = _scores(self.scorer, X, k, per_slot=True)
        n_actions = s.shape[1]
        n_pos = self._slots(data, k is not None, s, n_actions)
        # a row (or a slot of it) with every action ruled out has no best action: refused as GreedyPolicy
        # refuses it (the ranking put the lowest actions there); later slots may still take ruled-out actions
        # once the scored ones are placed, since a ranking fills every slot
        ruled_out = np.isneginf(s).all(axis=1)  # (n,) or (n, slots of the scores)
        raise_if_any(ruled_out if ruled_out.ndim == 1 else ruled_out.any(axis=1), "scorer",
                     "scores every action -inf on a row (rules out every action): the policy has no action to "
                     "play there")
        rows = np.arange(n)
        taken = np.zeros((n, n_actions), dtype=bool)
        out = np.zeros((n, n_actions, n_pos))
        # a loop over the few slots; each step is vectorised over the rows
        for p in range(n_pos):
            sp = s if s.ndim == 2 else s[:, :, p if s.shape[2] > 1 else 0]
            pick = np.where(taken, -np.inf, sp).argmax(axis=1)  # argmax: ties to the lowest index
            # a row whose remaining actions all score -inf (a classifier's unseen actions) ties them with
            # the masked ones: take its lowest remaining action, never one already placed
            clash = taken[rows, pick]
            if clash.any():
                pick[clash] = (~taken[clash]).argmax(axis=1)
            taken[rows, pick] = True
            out[rows, pick, p] = 1.0
        if self.epsilon:
            out = (1 - self.epsilon) * out + self.epsilon / n_actions
        return out

    def _slots(self, data, is_log: bool, s: np.ndarray, n_actions: int) -> int:
        """The number of slots to fill, from the policy, the log or the scores, which must agree."""
        from_log = (getattr(data, "n_positions", None) or 1) if is_log else None
        from_scores = s.shape[2] if s.ndim == 3 else None
        if self.n_positions is not None and from_log is not None and self.n_positions != from_log:
            raise ValidationError("n_positions", f"is {self.n_positions} but the log has {from_log} positions")
        n_pos = self.n_positions or from_log or from_scores
        if n_pos is None:
            raise ValidationError("n_positions", "is needed when the policy is given contexts instead of a log and "
                                  f"the scorer gives one score per action (shape {s.shape}), the same in every slot")
        if from_scores is not None and from_scores not in (1, n_pos):  # 1: the same scores in every slot
            raise ValidationError("scorer", f"returned scores for {from_scores} positions (axis 2), the "
                                  f"{'log has' if from_log is not None else 'policy has'} {n_pos}")
        if n_pos > n_actions:
            raise ValidationError("n_positions", f"is {n_pos} but there are {n_actions} actions: a ranking places each "
                                  "action at most once")
        return n_pos
