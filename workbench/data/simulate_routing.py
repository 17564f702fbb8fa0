"""Simulated logs of an LLM router, with known truth (for "learning to route from bandit feedback").

Each prompt has a topic (code, math, writing, factual, chat), a difficulty in [0, 1] and a
length in tokens. A production router sent it to one of several models and saw only that model's
judged quality (a score in (0, 1)) and its cost (in US cents, from token prices). The trade-off
between the two is a preference, so a router is judged for a weight lambda on cost:

    reward = quality - lambda * cost_cents.

Ground truth is closed form. For model m and prompt x:

* expected quality Q_m(x) = sigmoid(skill_m + topic_bonus_m[topic] - slope_m * difficulty); the
  observed score is Beta-distributed with that mean (concentration 8);
* output tokens are base_tokens[topic] * verbosity_m * exp(0.4 Z - 0.08) (mean-one log-normal
  noise), so the expected cost is C_m(x) = 100 * (prompt_tokens * price_in_m +
  base_tokens[topic] * verbosity_m * price_out_m) / 1e6 cents.

The value of a router pi at weight lambda is V = (1/n) sum_i sum_m pi(m | x_i) (Q_m(x_i) - lambda
C_m(x_i)), exact on the log's prompts.

The logging router is a softmax over a hand-written score (prefer the mid-size model, the code
model for code, the frontier model for hard prompts), mixed with 10% uniform exploration over the
models it allows. It never sends anything but math and code to the "reasoner" model (propensity
exactly zero elsewhere): a router that does cannot be evaluated there from these logs.

The model names and prices are made up; their shape (small cheap models, a code specialist, an
expensive frontier model, a reasoning model with many hidden output tokens) follows public
price lists and the RouterBench / "Learning to Route LLMs from Bandit Feedback" setting.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, softmax

from .._random import check_random_state
from .._validation import (ValidationError, as_array, check_distribution, check_finite, check_int, check_length,
                           check_real, check_same_index, raise_if_any, readonly)
from ..results import FrameFieldsCopied, frame_to_html
from .logs import BanditLog, _check_index, _index_rows, _mean_no_overflow
from .simulate import BanditTruth, _sample_actions

TOPICS = ("code", "math", "writing", "factual", "chat")
TOPIC_PROBS = (0.25, 0.15, 0.2, 0.2, 0.2)
BASE_OUTPUT_TOKENS = np.array([500.0, 300.0, 600.0, 150.0, 200.0])

# name, price in / out (US$ per 1M tokens), verbosity, skill, slope, topic bonus (code, math, writing, factual, chat)
ROUTING_MODELS = pd.DataFrame(
    [("tiny-8b", 0.05, 0.10, 0.8, 0.6, 3.2, (-0.3, -0.6, 0.2, -0.2, 0.6)),
     ("mid-70b", 0.60, 0.80, 1.0, 1.4, 2.6, (0.0, -0.2, 0.3, 0.2, 0.5)),
     ("code-34b", 0.30, 0.60, 0.9, 0.6, 2.4, (1.4, 0.2, -0.6, -0.4, -0.2)),
     ("frontier", 3.00, 15.0, 1.2, 2.2, 1.8, (0.3, 0.2, 0.5, 0.5, 0.3)),
     ("reasoner", 2.00, 8.00, 4.0, 1.8, 0.7, (0.8, 1.4, -0.5, 0.9, -0.8))],
    columns=["model", "price_in", "price_out", "verbosity", "skill", "slope", "topic_bonus"])

_QUALITY_CONCENTRATION = 8.0
_TOKEN_SD = 0.4


def _draw_outcomes(expected_quality: np.ndarray, rng: np.random.Generator):
    """The simulator's outcome noise, shared by the log and by ``RoutingTruth.bandit_truth(lam).sample_rewards``: a
    Beta quality score with mean ``expected_quality`` and a mean-one log-normal factor on the
    output tokens. Returns (quality, token_factor)."""
    q = expected_quality
    quality = rng.beta(q * _QUALITY_CONCENTRATION, (1 - q) * _QUALITY_CONCENTRATION)
    token_factor = np.exp(_TOKEN_SD * rng.standard_normal(q.shape[0]) - _TOKEN_SD**2 / 2)
    return quality, token_factor


@dataclass(frozen=True, eq=False)
class RoutingTruth:
    """Expected quality and cost of every model on every logged prompt.

    Attributes
    ----------
    expected_quality, expected_cost : ndarray (n, n_models)
        Q_m(x_i) in (0, 1) and C_m(x_i) in cents.
    behavior_dist : ndarray (n, n_models)
    model_names : tuple of str
    output_cost : ndarray (n, n_models), optional
        The part of C_m(x_i) paid for output tokens (the part with log-normal noise); with it,
        :meth:`bandit_truth` can draw rewards with the log's noise.
    context : ndarray (n, 7), optional
        The log's features, so that policy objects can be evaluated through :meth:`bandit_truth`.

    Examples
    --------
    >>> from workbench.data import simulate_routing
    >>> log, truth = simulate_routing(500, random_state=0)
    >>> truth
    RoutingTruth(500 prompts, 5 models, behavior quality 0.6796, behavior cost 0.2445 cents)
    >>> truth.value(truth.best_router(0.5), 0.5) >= truth.value(log.behavior_dist, 0.5)
    True
    """

    expected_quality: np.ndarray
    expected_cost: np.ndarray
    behavior_dist: np.ndarray
    model_names: tuple
    output_cost: np.ndarray | None = None
    context: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.expected_quality.shape[0])

    def __repr__(self) -> str:
        # The default dataclass repr would print every array in full.
        return (f"RoutingTruth({len(self):,} prompts, {len(self.model_names)} models, behavior quality "
                f"{self.quality(self.behavior_dist):.4g}, behavior cost {self.cost(self.behavior_dist):.4g} cents)")

    def _dist(self, policy) -> np.ndarray:
        n, k = self.expected_quality.shape
        d = as_array(policy, "policy", ndim=(1, 2))
        if d.ndim == 1:
            if d.shape[0] != n:
                raise ValidationError("policy", f"must have {n} rows, got {d.shape[0]}")
            # Validated, never cast: astype(int) made 2.5 model 2 and -1 the last model.
            act = _check_index(d, "policy", 0, k)
            d = np.zeros((n, k))
            d[np.arange(n), act] = 1.0
            return d
        if d.shape != (n, k):
            raise ValidationError("policy", f"must have shape {(n, k)}, got {d.shape}")
        return check_distribution(d, "policy", axis=1)

    def expected_reward(self, lam: float) -> np.ndarray:
        """Q - lambda * C, shape (n, n_models)."""
        return self.expected_quality - _check_lam(lam) * self.expected_cost

    def quality(self, policy) -> float:
        """Mean expected quality of a router (an (n, n_models) distribution or one model index per row)."""
        # the mean without overflow (and so the repr): a plain mean of values near 1e308 is inf
        return _mean_no_overflow(np.sum(self._dist(policy) * self.expected_quality, axis=1))

    def cost(self, policy) -> float:
        """Mean expected cost (cents per prompt) of a router."""
        return _mean_no_overflow(np.sum(self._dist(policy) * self.expected_cost, axis=1))

    def value(self, policy, lam: float) -> float:
        """Exact value of a router at cost weight ``lam``: quality - lam * cost."""
        lam = _check_lam(lam)
        return self.quality(policy) - lam * self.cost(policy)

    def best_router(self, lam: float, allowed=None) -> np.ndarray:
        """The oracle router (argmax of Q - lam C per prompt), optionally among ``allowed`` (n, k) bool.

        Every row must allow at least one model: the argmax over nothing is not a choice.
        """
        r = self.expected_reward(lam)
        if allowed is not None:
            allowed = as_array(allowed, "allowed", ndim=2)
            if allowed.shape != r.shape:
                raise ValidationError("allowed", f"must have shape {r.shape}, got {allowed.shape}")
            if allowed.dtype != bool:
                # 0.5 or 2 would silently count as True: only booleans or 0 / 1 are a mask.
                if not np.issubdtype(allowed.dtype, np.number):
                    raise ValidationError("allowed", f"must be booleans, got dtype {allowed.dtype}")
                raise_if_any(~np.isin(allowed, (0, 1)), "allowed", "must be booleans (or 0 / 1)")
                allowed = allowed == 1
            raise_if_any(~allowed.any(axis=1), "allowed", "must allow at least one model in every row")
            r = np.where(allowed, r, -np.inf)
        return r.argmax(axis=1)

    def subset(self, idx) -> "RoutingTruth":
        """The truth of the rows selected by an integer array, a slice or a boolean mask (the same
        rows as ``RoutingLog.subset(idx)``; an int selects one row, kept as a 1-row truth)."""
        # refused, as BanditTruth.subset refuses it: an empty truth's quality and cost were a silent NaN
        rows = _index_rows(idx, len(self), empty="selects no row; a RoutingTruth needs at least one (as a "
                                                 "BanditTruth does)")
        pick = lambda a: None if a is None else a[rows]  # noqa: E731
        return RoutingTruth(self.expected_quality[rows], self.expected_cost[rows], self.behavior_dist[rows],
                            self.model_names, pick(self.output_cost), pick(self.context))

    def bandit_truth(self, lam: float) -> BanditTruth:
        """The :class:`BanditTruth` of the log at weight ``lam`` (for tools that take one).

        Its ``sample_rewards`` draws the log's own noise (Beta quality, log-normal output tokens),
        so rollouts have the spread of real rewards; that noise is not Gaussian, so ``noise_sd`` is
        NaN. A truth built without ``output_cost`` cannot draw rewards (``policy_value`` still works).
        """
        lam = _check_lam(lam)
        return _RoutingBanditTruth(self.expected_reward(lam), self.behavior_dist, "continuous", float("nan"),
                                   self.context, quality=self.expected_quality, cost=self.expected_cost,
                                   output_cost=self.output_cost, lam=lam)


def _check_lam(lam) -> float:
    return check_real(lam, "lam", low=0.0)


@dataclass(frozen=True, eq=False, repr=False)
class _RoutingBanditTruth(BanditTruth):
    """A BanditTruth whose rollouts draw the routing log's noise rather than Gaussian noise."""

    quality: np.ndarray | None = None
    cost: np.ndarray | None = None
    output_cost: np.ndarray | None = None
    lam: float = 0.0

    _row_fields = BanditTruth._row_fields + ("quality", "cost", "output_cost")

    def sample_rewards(self, policy, random_state=None) -> np.ndarray:
        if self.output_cost is None:
            raise ValidationError("sample_rewards", "needs the RoutingTruth's output_cost to draw the log's cost "
                                  "noise", hint="use the truth returned by simulate_routing, or policy_value")
        rng = check_random_state(random_state)
        dist = self._dist(policy)
        rows = np.arange(dist.shape[0])
        actions = _sample_actions(dist, rng)
        quality, noise = _draw_outcomes(self.quality[rows, actions], rng)  # the log's own noise
        out = self.output_cost[rows, actions]
        cost = self.cost[rows, actions] - out + out * noise
        return quality - self.lam * cost


@dataclass(frozen=True, eq=False)
class RoutingLog(FrameFieldsCopied):
    """What the production router logged: one model per prompt, its quality score and its cost.

    Attributes
    ----------
    prompts : DataFrame
        ``topic``, ``difficulty``, ``prompt_tokens``.
    context : ndarray (n, 7)
        Numeric features: one-hot topic (5), difficulty, log(prompt_tokens) (names in ``feature_names``).
    action : ndarray (n,)
        Index of the model the router chose.
    propensity : ndarray (n,)
    behavior_dist : ndarray (n, n_models)
    quality : ndarray (n,)
        Judged quality of the chosen model's answer, in (0, 1).
    cost : ndarray (n,)
        Cost of the call in US cents.
    output_tokens : ndarray (n,)
    model_names, feature_names : tuple of str

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import simulate_routing
    >>> log, truth = simulate_routing(500, random_state=0)
    >>> len(log), log.n_models, log.context.shape
    (500, 5, (500, 7))
    >>> list(log.to_frame().columns)
    ['topic', 'difficulty', 'prompt_tokens', 'model', 'propensity', 'quality', 'cost_cents', 'output_tokens']

    The arrays are read-only copies, as in :class:`BanditLog`.

    The bandit view for a cost weight of 0.1 per cent, and the code prompts alone:

    >>> bandit = log.bandit_log(lam=0.1)
    >>> bool(np.allclose(bandit.reward, log.quality - 0.1 * log.cost))
    True
    >>> code = log.subset((log.prompts["topic"] == "code").to_numpy())
    >>> len(code), set(code.prompts["topic"])
    (112, {'code'})
    """

    prompts: pd.DataFrame
    context: np.ndarray
    action: np.ndarray
    propensity: np.ndarray
    behavior_dist: np.ndarray
    quality: np.ndarray
    cost: np.ndarray
    output_tokens: np.ndarray
    model_names: tuple
    feature_names: tuple

    def __post_init__(self):
        # pandas fields with other indexes than ``prompts`` (one filtered or re-sorted on its own) would
        # be paired by position with the wrong prompts: refused before the copies, as in BanditLog
        check_same_index((name, getattr(self, name)) for name in (
            "prompts", "context", "action", "propensity", "behavior_dist", "quality", "cost", "output_tokens"))
        # the prompts too: the caller's frame was shared, and dropping its rows afterwards broke to_frame
        if not isinstance(self.prompts, pd.DataFrame):
            raise ValidationError("prompts", f"must be a pandas DataFrame, got {type(self.prompts).__name__}")
        object.__setattr__(self, "prompts", self.prompts.copy())
        # Read-only copies, as in BanditLog: writing to ``action`` would otherwise leave ``propensity``
        # and ``behavior_dist`` describing another log (and ``bandit_log`` refuse it).
        # as_array, not np.asarray: np.asarray dropped a mask and the values under it were checked and used as data.
        # The context must be 2-D (n, n_features), as feature_names names its columns: a 1-D one was accepted
        # and bandit_log() failed later with "context_names: must name 1 columns, got 7".
        for name in ("context", "action", "propensity", "behavior_dist", "quality", "cost", "output_tokens"):
            arr = as_array(getattr(self, name), name, ndim=2 if name == "context" else None)
            object.__setattr__(self, name, readonly(arr))
        # One row per prompt in every field: a shorter field made len(), subset and to_frame disagree
        # (to_frame raised pandas' own length error, subset silently cut the other fields).
        n = len(self.prompts)
        for name in ("context", "action", "propensity", "behavior_dist", "quality", "cost", "output_tokens"):
            arr = getattr(self, name)
            if arr.ndim == 0:
                raise ValidationError(name, "must be an array with one row per prompt, got a scalar")
            check_length(arr, n, name, ref="prompt")
        object.__setattr__(self, "model_names", tuple(self.model_names))
        object.__setattr__(self, "feature_names", tuple(self.feature_names))
        self._check_values()

    def _check_values(self) -> None:
        """The values, by BanditLog's rules (a model index in range, a propensity in (0, 1] that matches
        behavior_dist, finite quality and context), named by this log's fields: only lengths were checked, so
        action -1 read as the last model, 7 failed later in to_frame, propensity 0 and NaN quality passed."""
        k = len(self.model_names)
        # unique as text, as PredictionLog's model_names: to_frame's "model" column could not tell two apart
        names = [str(m) for m in self.model_names]
        if len(set(names)) != k:
            dup = next(m for j, m in enumerate(names) if m in names[:j])
            raise ValidationError("model_names", f"must be unique; {dup!r} appears more than once")
        if self.behavior_dist.ndim != 2 or self.behavior_dist.shape[1] != k:
            raise ValidationError("model_names", f"must name the {self.behavior_dist.shape[-1]} models of "
                                                 f"behavior_dist (its columns), got {k} names")
        if self.context.ndim == 2 and len(self.feature_names) != self.context.shape[1]:
            raise ValidationError("feature_names", f"must name the {self.context.shape[1]} context columns, got "
                                                   f"{len(self.feature_names)}")
        try:
            BanditLog(action=self.action, reward=self.quality, propensity=self.propensity, n_actions=k,
                      context=self.context, behavior_dist=self.behavior_dist)
        except ValidationError as err:
            field = {"reward": "quality", "n_actions": "model_names"}.get(err.field, err.field)
            raise ValidationError(field, err.rule, err.n_bad, err.first, err.n_total, err.value, err.hint) from None
        cost = check_finite(self.cost, "cost")
        raise_if_any(cost < 0, "cost", "must be >= 0 (US cents paid for the call)", cost)
        tokens = check_finite(self.output_tokens, "output_tokens")
        raise_if_any(tokens < 0, "output_tokens", "must be >= 0", tokens)
        raise_if_any(tokens != np.round(tokens), "output_tokens", "must be whole numbers of tokens", tokens)

    def __len__(self) -> int:
        return int(self.action.shape[0])

    @property
    def n_models(self) -> int:
        """Number of models the router chooses among."""
        return len(self.model_names)

    def bandit_log(self, lam: float = 0.0, reward: str = "tradeoff") -> BanditLog:
        """A :class:`BanditLog` whose reward is ``quality - lam * cost`` (or just "quality" / "cost").

        ``lam`` is checked as :meth:`RoutingTruth.value` checks it (a number >= 0; not "0.5" or True).
        """
        # isinstance first: an array made `reward == "tradeoff"` numpy's ambiguous-truth error
        if not (isinstance(reward, str) and reward in ("tradeoff", "quality", "cost")):
            got = repr(reward) if isinstance(reward, str) else type(reward).__name__
            raise ValidationError("reward", f"must be one of 'tradeoff', 'quality', 'cost', got {got}")
        if reward == "tradeoff":
            r = self.quality - _check_lam(lam) * self.cost
        else:
            r = self.quality if reward == "quality" else self.cost
        return BanditLog(action=self.action, reward=r, propensity=self.propensity, n_actions=self.n_models,
                         context=self.context, behavior_dist=self.behavior_dist, context_names=self.feature_names)

    def subset(self, idx) -> "RoutingLog":
        """The prompts selected by an integer array, a slice or a boolean mask (as ``BanditLog.subset``:
        an int selects one prompt, kept as a 1-prompt log)."""
        # refused, as BanditLog.subset refuses it: an empty log's summary showed NaN means, silently
        rows = _index_rows(idx, len(self), empty="selects no row; a RoutingLog needs at least one prompt (as a "
                                                 "BanditLog does)")
        return RoutingLog(self.prompts.iloc[rows].reset_index(drop=True), self.context[rows], self.action[rows],
                          self.propensity[rows], self.behavior_dist[rows], self.quality[rows], self.cost[rows],
                          self.output_tokens[rows], self.model_names, self.feature_names)

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: the prompt columns, then model, propensity, quality, cost_cents, output_tokens."""
        out = self.prompts.copy()
        out["model"] = np.asarray(self.model_names, dtype=object)[self.action]
        out["propensity"] = self.propensity
        out["quality"] = self.quality
        out["cost_cents"] = self.cost
        out["output_tokens"] = self.output_tokens
        return out

    def summary(self) -> dict:
        """Prompts, models, mean quality and cost, smallest propensity and features, as a dict (the HTML repr's row)."""
        return {"prompts": len(self), "models": self.n_models, "quality mean": _mean_no_overflow(self.quality),
                "cost mean (cents)": _mean_no_overflow(self.cost), "propensity min": float(self.propensity.min()),
                "features": len(self.feature_names)}

    def _repr_html_(self) -> str:
        return frame_to_html(pd.DataFrame([self.summary()]), caption="RoutingLog")

    def __repr__(self) -> str:
        # .4g: .3f printed a 309-digit number for costs near 1e308 (and 0.000 for tiny ones)
        return (f"RoutingLog({len(self):,} prompts, {self.n_models} models, mean quality "
                f"{_mean_no_overflow(self.quality):.4g}, mean cost {_mean_no_overflow(self.cost):.4g} cents)")


def _expected(topic, difficulty, prompt_tokens, models):
    bonus = np.array(list(models["topic_bonus"]))  # (k, n_topics)
    skill = models["skill"].to_numpy()
    slope = models["slope"].to_numpy()
    quality = expit(skill[None, :] + bonus.T[topic] - slope[None, :] * difficulty[:, None])
    out_tokens = BASE_OUTPUT_TOKENS[topic][:, None] * models["verbosity"].to_numpy()[None, :]
    cost = 100 * (prompt_tokens[:, None] * models["price_in"].to_numpy()[None, :]
                  + out_tokens * models["price_out"].to_numpy()[None, :]) / 1e6
    out_cost = 100 * out_tokens * models["price_out"].to_numpy()[None, :] / 1e6
    return quality, cost, out_tokens, out_cost


def _logging_router(topic, difficulty, k, temperature, epsilon):
    n = topic.shape[0]
    names = list(ROUTING_MODELS["model"])
    score = np.zeros((n, k))
    score[:, names.index("mid-70b")] = 1.0
    score[:, names.index("tiny-8b")] = 0.6 - 1.5 * difficulty
    score[:, names.index("code-34b")] = np.where(topic == 0, 1.6, -0.5)
    score[:, names.index("frontier")] = -0.4 + 2.0 * difficulty
    score[:, names.index("reasoner")] = -0.5 + 2.5 * difficulty
    allowed = np.ones((n, k), dtype=bool)
    allowed[:, names.index("reasoner")] = np.isin(topic, [0, 1])  # only code and math go to the reasoner
    p = softmax(np.where(allowed, score / temperature, -np.inf), axis=1)
    uni = allowed / allowed.sum(axis=1, keepdims=True)
    return (1 - epsilon) * p + epsilon * uni


def simulate_routing(n_prompts: int, temperature: float = 0.5, epsilon: float = 0.1, random_state=None):
    """Simulate the logs of an LLM router with known expected quality and cost.

    Parameters
    ----------
    n_prompts : int
    temperature : float
        Temperature of the logging router's softmax (small: nearly deterministic).
    epsilon : float
        Share of uniform exploration over the models the logger allows (in (0, 1]).
    random_state : int, Generator or None

    Returns
    -------
    log : RoutingLog
        Prompts, features, chosen model, propensity, quality, cost; ``log.bandit_log(lam)`` gives the
        :class:`BanditLog` for the trade-off weight ``lam``.
    truth : RoutingTruth
        ``value(policy, lam)``, ``quality(policy)``, ``cost(policy)``, ``best_router(lam)``.

    Examples
    --------
    >>> from workbench.data import simulate_routing
    >>> log, truth = simulate_routing(2000, random_state=0)
    >>> log.model_names
    ('tiny-8b', 'mid-70b', 'code-34b', 'frontier', 'reasoner')
    >>> truth.value(truth.best_router(0.5), 0.5) >= truth.value(log.behavior_dist, 0.5)
    True
    """
    n = check_int(n_prompts, "n_prompts", low=1)  # int(2.5) would silently simulate 2 prompts
    # check_real, as simulate_bandit checks its epsilon: True would pass ``0 < epsilon <= 1`` as 1
    temperature = check_real(temperature, "temperature")
    epsilon = check_real(epsilon, "epsilon")
    if not temperature > 0:
        raise ValidationError("temperature", f"must be > 0, got {temperature}")
    if not 0 < epsilon <= 1:
        raise ValidationError("epsilon", f"must be in (0, 1], got {epsilon}")
    rng = check_random_state(random_state)
    models = ROUTING_MODELS
    k = len(models)
    topic = rng.choice(len(TOPICS), size=n, p=TOPIC_PROBS)
    difficulty = rng.beta(2.0, 3.0, n)
    difficulty = np.where(topic == 1, np.sqrt(difficulty), difficulty)  # math prompts skew hard
    prompt_tokens = np.round(np.exp(rng.normal(5.3, 0.6, n))).clip(5, None)
    Q, C, out_mean, out_cost = _expected(topic, difficulty, prompt_tokens, models)
    dist = _logging_router(topic, difficulty, k, temperature, epsilon)
    action = _sample_actions(dist, rng)
    rows = np.arange(n)
    quality, token_factor = _draw_outcomes(Q[rows, action], rng)
    out_tokens = out_mean[rows, action] * token_factor
    # Cost uses the unrounded token draw so its expectation is exactly C; the log shows whole tokens.
    price_in = models["price_in"].to_numpy()[action]
    price_out = models["price_out"].to_numpy()[action]
    cost = 100 * (prompt_tokens * price_in + out_tokens * price_out) / 1e6
    onehot = np.eye(len(TOPICS))[topic]
    context = np.column_stack([onehot, difficulty, np.log(prompt_tokens)])
    feature_names = tuple(f"topic_{t}" for t in TOPICS) + ("difficulty", "log_prompt_tokens")
    prompts = pd.DataFrame({"topic": pd.Categorical(np.asarray(TOPICS)[topic], categories=TOPICS),
                            "difficulty": difficulty, "prompt_tokens": prompt_tokens.astype(int)})
    names = tuple(models["model"])
    log = RoutingLog(prompts, context, action, dist[rows, action], dist, quality, cost, np.round(out_tokens),
                     names, feature_names)
    return log, RoutingTruth(Q, C, dist, names, out_cost, log.context)
