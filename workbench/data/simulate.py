"""Simulators with known ground truth, for testing estimators and for teaching.

Every simulator returns a log and a truth object. The truth knows the expected reward q(x, a) of
every (context, action) pair of the log, so the value of any policy on the log's contexts is
exact: V(pi) = (1/n) sum_i sum_a pi(a | x_i) q(x_i, a). IPS and DR are unbiased for this value
conditionally on the contexts (and for the population value E_x[...] unconditionally).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, softmax

from .._random import check_random_state
from .._validation import (ValidationError, as_array, check_choice, check_distribution, check_finite, check_int,
                           check_real, check_same_index, raise_if_any)
from .logs import BanditLog, _check_index, _index_rows, _mean_no_overflow


@dataclass(frozen=True, eq=False)
class BanditTruth:
    """Ground truth of a simulated log.

    Attributes
    ----------
    expected_reward : ndarray, shape (n, n_actions)
        q(x_i, a) for every logged context and every action.
    behavior_dist : ndarray, shape (n, n_actions)
        The logging policy's action distribution per row.
    reward_type : str
        "binary" (Bernoulli rewards with mean q) or "continuous" (q plus Gaussian noise).
    noise_sd : float
        Standard deviation of the reward noise for continuous rewards.
    context : ndarray, shape (n, d), optional
        The log's contexts, so that policy objects (``action_dist``) can be evaluated.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import UniformPolicy
    >>> log, truth = simulate_bandit(500, n_actions=3, random_state=0)
    >>> truth
    BanditTruth(500 rows, 3 actions, binary rewards, behavior value 0.2737)
    >>> round(truth.policy_value(UniformPolicy()), 3)   # exact, on the log's contexts
    0.237
    """

    expected_reward: np.ndarray
    behavior_dist: np.ndarray
    reward_type: str = "binary"
    noise_sd: float = 0.0
    context: np.ndarray | None = None

    def __post_init__(self):
        # Checked here, by field: a NaN expected reward, a binary one of 1.5 or behavior rows that do not sum
        # to 1 were accepted, and surfaced later as "policy: ..." (the wrong field) from behavior_value, or
        # made the repr raise. The conversions are lossless (as_array); the arrays are kept as given otherwise.
        check_choice(self.reward_type, "reward_type", ("binary", "continuous"))
        q = as_array(self.expected_reward, "expected_reward", ndim=2)
        qf = check_finite(q, "expected_reward")
        if self.reward_type == "binary":
            raise_if_any((qf < 0) | (qf > 1), "expected_reward", "must be in [0, 1] for binary rewards (the "
                                                                 "probability of a reward of 1)", qf,
                         hint="pass reward_type='continuous' for rewards on another scale")
        dist = as_array(self.behavior_dist, "behavior_dist", ndim=2)
        if dist.shape != q.shape:
            raise ValidationError("behavior_dist", f"must have the shape of expected_reward {q.shape} (rows x "
                                                   f"actions), got {dist.shape}")
        check_distribution(dist, "behavior_dist", axis=1)
        if self.context is not None and np.shape(self.context)[:1] != q.shape[:1]:
            raise ValidationError("context", f"must have one row per row of expected_reward ({q.shape[0]}), got "
                                             f"shape {np.shape(self.context)}")
        object.__setattr__(self, "expected_reward", q)
        object.__setattr__(self, "behavior_dist", dist)

    @property
    def n_actions(self) -> int:
        """Number of actions (columns of ``expected_reward``)."""
        return int(self.expected_reward.shape[1])

    def __len__(self) -> int:
        return int(self.expected_reward.shape[0])

    def __repr__(self) -> str:
        # The default dataclass repr would print every array in full.
        return (f"BanditTruth({len(self):,} rows, {self.n_actions} actions, {self.reward_type} rewards, "
                f"behavior value {self.behavior_value:.4g})")

    def _dist(self, policy) -> np.ndarray:
        n = len(self)
        if hasattr(policy, "action_dist") and callable(policy.action_dist):
            # Policy objects read ``context``, ``n_actions``, ``reward`` and len() of a log (see
            # workbench.ope.policies); the truth has all but the rewards, which they do not use.
            policy = policy.action_dist(_PolicyData(self.context, self.n_actions, n))
        dist = as_array(policy, "policy", ndim=(1, 2))
        if dist.ndim == 1:  # a deterministic policy given as one action per row
            if dist.shape[0] != n:
                raise ValidationError("policy", f"must have {n} rows, got {dist.shape[0]}")
            # Validated, never cast: int(-1) would pick the last action and int(0.9) the first.
            acts = _check_index(dist, "policy", 0, self.n_actions)
            out = np.zeros_like(self.expected_reward, dtype=float)
            out[np.arange(n), acts] = 1.0
            return out
        if dist.shape != self.expected_reward.shape:
            raise ValidationError("policy", f"must have shape {self.expected_reward.shape}, got {dist.shape}")
        return check_distribution(dist, "policy", axis=1)

    def policy_value(self, policy) -> float:
        """Exact value of a policy on the log's contexts.

        ``policy``: an (n, n_actions) action distribution (a boolean one-hot mask is read as 0 / 1),
        one action per row, or a policy object with ``action_dist``.
        """
        # the mean without overflow: expected rewards near 1e308 made the value (and the repr) inf
        return _mean_no_overflow(np.sum(self._dist(policy) * self.expected_reward, axis=1))

    @property
    def behavior_value(self) -> float:
        """Exact value of the logging policy (:meth:`policy_value` of ``behavior_dist``)."""
        return self.policy_value(self.behavior_dist)

    # per-row fields: what :meth:`subset` selects rows of (subclasses with more per-row arrays extend it)
    _row_fields = ("expected_reward", "behavior_dist", "context")

    def subset(self, idx) -> "BanditTruth":
        """The truth of the rows selected by an integer array, a slice or a boolean mask: the same rows
        as ``BanditLog.subset(idx)``, so a split log keeps its exact values (an int selects one row,
        kept as a 1-row truth).

        Examples
        --------
        >>> from workbench.data import simulate_bandit
        >>> log, truth = simulate_bandit(500, n_actions=3, random_state=0)
        >>> half = truth.subset(slice(250, None))
        >>> len(half), round(half.behavior_value, 4) == round(float((truth.behavior_dist[250:]
        ...                                                       * truth.expected_reward[250:]).sum(1).mean()), 4)
        (250, True)
        """
        import dataclasses

        # refused, as BanditLog.subset refuses the same selection: an empty truth's every value was a silent NaN
        rows = _index_rows(idx, len(self), empty="selects no row; a BanditTruth needs at least one (as a BanditLog "
                                                 "does)")
        return dataclasses.replace(self, **{f: None if getattr(self, f) is None else getattr(self, f)[rows]
                                            for f in self._row_fields})

    def sample_rewards(self, policy, random_state=None) -> np.ndarray:
        """Roll the policy out on the log's contexts: one reward per row (for on-policy checks)."""
        rng = check_random_state(random_state)
        dist = self._dist(policy)
        actions = _sample_actions(dist, rng)  # never an action of probability 0 (see there)
        q = self.expected_reward[np.arange(dist.shape[0]), actions]
        return _draw_reward(q, self.reward_type, self.noise_sd, rng)


class _PolicyData:
    """The parts of a log a policy object reads, for a truth that has no log."""

    reward = None

    def __init__(self, context, n_actions, n):
        self.context, self.n_actions, self._n = context, n_actions, n

    def __len__(self) -> int:
        return self._n


def _draw_reward(q, reward_type, noise_sd, rng):
    if reward_type == "binary":
        return (rng.random(q.shape) < q).astype(float)
    return q + noise_sd * rng.standard_normal(q.shape)


def _sample_actions(dist, rng):
    """One action per row of a validated distribution (rows sum to 1 within SUM_TOL, not exactly).

    Each row's cumulative sum is divided by its own total, so the last entry is exactly 1 and the mass a
    row lacks is shared in proportion, not given to the last action: clipping the draw to the last column
    logged an action of probability 0 (propensity 0) when a row summed to 1 - 9e-7. With ``u >= cum``
    an action of probability 0 spans an empty interval [cum[j - 1], cum[j]) and is never drawn, at
    u = 0.0 either."""
    cum = np.cumsum(dist, axis=1)
    cum /= cum[:, -1:]
    return (rng.random(dist.shape[0])[:, None] >= cum).sum(axis=1)


def simulate_bandit(n_rounds: int, n_actions: int = 5, dim_context: int = 3, reward_type: str = "binary",
                    behavior="softmax", beta: float = 1.0, epsilon: float = 0.1, noise_sd: float = 0.5,
                    dim_action_context: int | None = None, random_state=None):
    """Simulate logged bandit feedback with known expected rewards.

    Contexts x ~ N(0, I_d). Actions have embeddings e_a ~ N(0, I) (returned as ``action_context``
    when ``dim_action_context`` is set); the expected reward is a smooth function of (x, e_a):
    q(x, a) = sigmoid(x' B e_a + c_a - 1) for binary rewards (the offset makes clicks the minority
    outcome) and x' B e_a + c_a for continuous ones; the same seed gives the same x, e_a, B and c_a
    for both reward types.

    Parameters
    ----------
    n_rounds, n_actions, dim_context : int
        Size of the log.
    reward_type : {"binary", "continuous"}
    behavior : {"softmax", "uniform", "epsilon-greedy"} or ndarray (n_rounds, n_actions) or callable
        The logging policy. "softmax" is softmax(beta * s) of a noisy copy s = x' B e_a + c_a + N(0, 0.25)
        of the index (so the logger is informed but imperfect); "epsilon-greedy" plays argmax s with
        probability 1 - epsilon + epsilon / n_actions, every other action with epsilon / n_actions. A
        callable receives the contexts and returns an action distribution.
    beta, epsilon : float
        Inverse temperature of the softmax logger; exploration of the epsilon-greedy logger.
    noise_sd : float
        Noise of continuous rewards.
    dim_action_context : int, optional
        Dimension (>= 1) of the action embeddings, returned as ``log.action_context``. None: the
        embeddings have ``dim_context`` dimensions and are not returned.
    random_state : int, Generator or None

    Returns
    -------
    log : BanditLog
        With ``context``, ``behavior_dist`` and (if ``dim_action_context``) ``action_context``.
    truth : BanditTruth
        ``expected_reward`` (n, n_actions), ``policy_value(dist)``.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> log, truth = simulate_bandit(1000, n_actions=4, dim_context=2, random_state=0)
    >>> round(truth.behavior_value, 3) == round(truth.policy_value(log.behavior_dist), 3)
    True
    """
    check_choice(reward_type, "reward_type", ("binary", "continuous"))
    n_rounds = check_int(n_rounds, "n_rounds", low=1)
    n_actions = check_int(n_actions, "n_actions", low=2)
    dim_context = check_int(dim_context, "dim_context", low=1)
    if dim_action_context is not None:  # 0 would silently mean "no action_context"
        dim_action_context = check_int(dim_action_context, "dim_action_context", low=1)
    # Checked by name here, even when the chosen logger does not use them: a bad value would
    # otherwise surface as a bad "behavior" distribution, or (noise_sd < 0) not at all.
    beta = check_real(beta, "beta")
    epsilon = check_real(epsilon, "epsilon", low=0.0, high=1.0)
    noise_sd = check_real(noise_sd, "noise_sd", low=0.0)
    rng = check_random_state(random_state)
    d_a = dim_action_context or dim_context
    x = rng.standard_normal((n_rounds, dim_context))
    emb = rng.standard_normal((n_actions, d_a))
    coef = rng.standard_normal((dim_context, d_a)) / np.sqrt(dim_context * d_a)
    bias = rng.normal(0.0, 0.5, n_actions)
    logits = x @ coef @ emb.T + bias
    q = expit(logits - 1.0) if reward_type == "binary" else logits
    score = logits + 0.5 * rng.standard_normal(logits.shape)
    if callable(behavior):
        # as_array, not np.asarray(dtype=float): text raised a bare ValueError, and "0.5" would be parsed
        dist = as_array(behavior(x), "behavior")
    elif isinstance(behavior, str):
        check_choice(behavior, "behavior", ("softmax", "uniform", "epsilon-greedy"))
        if behavior == "softmax":
            dist = softmax(beta * score, axis=1)
        elif behavior == "uniform":
            dist = np.full((n_rounds, n_actions), 1.0 / n_actions)
        else:
            dist = np.full((n_rounds, n_actions), epsilon / n_actions)
            dist[np.arange(n_rounds), score.argmax(axis=1)] += 1 - epsilon
    else:
        dist = as_array(behavior, "behavior")
    if dist.shape != (n_rounds, n_actions):
        raise ValidationError("behavior", f"must give shape {(n_rounds, n_actions)}, got {dist.shape}")
    dist = check_distribution(dist, "behavior", axis=1)
    actions = _sample_actions(dist, rng)
    rows = np.arange(n_rounds)
    reward = _draw_reward(q[rows, actions], reward_type, noise_sd, rng)
    log = BanditLog(action=actions, reward=reward, propensity=dist[rows, actions], n_actions=n_actions, context=x,
                    behavior_dist=dist, action_context=emb if dim_action_context else None)
    # the log's read-only context and behavior_dist, as simulate_pricing does: ``behavior`` may be the
    # caller's array, which the caller may change later; truth and log must not drift apart
    return log, BanditTruth(q, log.behavior_dist, reward_type, noise_sd if reward_type == "continuous" else 0.0,
                            context=log.context)


def classification_to_bandit(X, y, behavior: str = "classifier", epsilon: float = 0.2, model=None,
                             random_state=None):
    """The supervised-to-bandit reduction: actions are classes, reward 1 when the action is the label.

    The expected reward is exactly known, q(x_i, a) = 1{a = y_i}, so any policy's value is its
    accuracy on the points.

    Parameters
    ----------
    X : array (n, d); y : array (n,) of class labels 0..k-1
        Paired by position: a pandas X and y must have the same index (the same labels in the same order).
    behavior : {"classifier", "uniform"}
        "classifier": epsilon-greedy around a scikit-learn classifier (default logistic
        regression) fitted on the data: (1 - epsilon) on its prediction plus epsilon / k on every
        class. "uniform": every class with probability 1 / k.
    model : scikit-learn classifier, optional
        The logger's classifier (cloned and fitted as given). ``random_state`` seeds the logged
        actions, not the classifier: give a randomised model (a forest, an MLP) its own
        ``random_state`` for the same log on every call.

    Returns
    -------
    (BanditLog, BanditTruth)

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import classification_to_bandit
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 2))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> log, truth = classification_to_bandit(X, y, random_state=0)
    >>> log.n_actions, len(log)
    (2, 200)

    A policy's value is its accuracy: the labels themselves score 1, always playing class 0 scores
    the share of class 0, and the classifier-driven logger beats a uniform one (value 1 / k).

    >>> truth.policy_value(y), truth.policy_value(np.zeros(200, int)) == float(np.mean(y == 0))
    (1.0, True)
    >>> _, uniform = classification_to_bandit(X, y, behavior="uniform", random_state=0)
    >>> uniform.behavior_value, truth.behavior_value > uniform.behavior_value
    (0.5, True)
    """
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression

    from .._validation import as_array, check_finite, check_integer_in_range

    # before the conversion drops the labels: X and y are paired by position, as BanditLog's fields are
    check_same_index([("X", X), ("y", y)])
    X = check_finite(as_array(X, "X", ndim=2), "X")
    y = check_integer_in_range(y, "y", 0, None)
    if y.shape[0] != X.shape[0]:
        raise ValidationError("y", f"must have one label per row of X: got {y.shape[0]}, expected {X.shape[0]}")
    check_choice(behavior, "behavior", ("classifier", "uniform"))
    if model is not None and not (hasattr(model, "fit") and hasattr(model, "predict")):
        # scikit-learn's clone raised a TypeError about get_params
        raise ValidationError("model", f"must be a scikit-learn classifier (with fit and predict), got {model!r}")
    epsilon = check_real(epsilon, "epsilon")  # as simulate_bandit: True would pass ``0 < epsilon <= 1``
    if not 0 < epsilon <= 1:
        raise ValidationError("epsilon", f"must be in (0, 1] so every action has positive propensity, got {epsilon}")
    rng = check_random_state(random_state)
    n, k = X.shape[0], int(y.max()) + 1 if y.size else 0
    if k < 2:
        raise ValidationError("y", f"must have labels of at least two classes (the bandit's actions), got {k}")
    if behavior == "classifier" and np.unique(y).size < 2:
        # scikit-learn's own error would come from inside the logger's fit
        raise ValidationError("y", "holds a single class, so the logging classifier cannot be fitted",
                              hint="use behavior='uniform', or labels of at least two classes")
    if behavior == "uniform":
        dist = np.full((n, k), 1.0 / k)
    else:
        clf = clone(model) if model is not None else LogisticRegression(max_iter=1000)
        # the labels the logger plays, checked: astype(int) floored a regressor's predictions (2.7 -> class 2,
        # -1.2 -> -1, the last class), silently
        pred = as_array(clf.fit(X, y).predict(X), "model", ndim=1)
        if pred.dtype == bool or not np.issubdtype(pred.dtype, np.number):
            raise ValidationError("model", f"must predict class labels 0..{k - 1}, got dtype {pred.dtype}")
        raise_if_any((pred < 0) | (pred >= k) | (pred != np.floor(pred)), "model", f"must predict class labels in [0, {k}) (a classifier, "
                     "not a regressor)", pred)
        pred = pred.astype(np.int64)
        dist = np.full((n, k), epsilon / k)
        dist[np.arange(n), pred] += 1 - epsilon
    actions = _sample_actions(dist, rng)
    rows = np.arange(n)
    # one-hot by indexing: np.eye(k)[y] built a (k, k) identity first (7 TiB for labels up to 10**6,
    # 3.2 GB at 20,000 classes) to fill the (n, k) matrix that is needed
    q = np.zeros((n, k))
    q[rows, y] = 1.0
    log = BanditLog(action=actions, reward=q[rows, actions], propensity=dist[rows, actions], n_actions=k,
                    context=X, behavior_dist=dist)
    # the log's read-only copy of X: X itself is the caller's array, which the caller may change later
    return log, BanditTruth(q, dist, "binary", 0.0, context=log.context)
