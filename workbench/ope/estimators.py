"""Off-policy estimators for discrete actions (optionally with slots / positions).

Every estimator is a small frozen dataclass that says two things once:

* ``terms(inputs)`` -- an (n, k) matrix of per-row terms, and
* ``combine(means)`` -- the statistic as a function of the k column means (``means[..., j]``).

The point estimate is ``combine(column means)``; every bootstrap replicate applies the *same*
``combine`` to that replicate's weighted column means (:mod:`workbench._engine`). So all estimators
of one call share one set of resamples, and self-normalised estimators (SNIPS, SNDR, SN-MIPS) are
re-normalised inside each replicate. (obp normalises once on the full sample and resamples the
normalised terms -- its issue #187 -- which understates their variability.)

Notation: rows (x_i, a_i, r_i) with logged propensity p_i = pi_b(a_i | x_i) (at the logged position
when there are slots), target pi_e, weight w_i = pi_e(a_i | x_i) / p_i, reward model q(x, a) and
q(x, pi_e) = sum_a pi_e(a | x) q(x, a).

==========  ======================================================  ==========================
name        estimate                                                 reference
==========  ======================================================  ==========================
dm          E_n[q(x, pi_e)]                                          --
ips         E_n[min(w, clip) r]                                      Horvitz-Thompson
snips       E_n[w r] / E_n[w]                                        Swaminathan-Joachims 2015
dr          E_n[q(x, pi_e) + min(w, clip) (r - q(x, a))]             Dudik et al. 2011
sndr        E_n[q(x, pi_e)] + E_n[w (r - q(x, a))] / E_n[w]          --
switch-dr   E_n[q(x, pi_e) + 1{w <= lambda} w (r - q(x, a))]         Wang et al. 2017
dr-os       E_n[q(x, pi_e) + lambda w / (w^2 + lambda) (r - q)]      Su et al. 2020a
sg-ips      E_n[w / (1 - lambda + lambda w) r]                       Metelli et al. 2021
mips        E_n[w(x, e) r], w(x, e) = p(e | x, pi_e) / p(e | x, pi_b) Saito-Joachims 2022
==========  ======================================================  ==========================
"""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from typing import ClassVar

import numpy as np

from .._validation import (SUM_TOL, ValidationError, as_array, check_bool, check_distribution, check_finite, check_int,
                           check_integer_in_range, check_length, check_probability, check_real, raise_if_any)

__all__ = ["OPEInputs", "OffPolicyEstimator", "DirectMethod", "InverseProbabilityWeighting",
           "SelfNormalizedIPS", "DoublyRobust", "SelfNormalizedDR", "SwitchDR", "DoublyRobustWithShrinkage",
           "SubGaussianIPS", "MarginalizedIPS", "ESTIMATORS", "make_estimator"]


# ----------------------------------------------------------------------------------------------
# Inputs shared by all discrete-action estimators of one call
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class OPEInputs:
    """Everything the discrete-action estimators read, computed once per call.

    Built by :func:`workbench.ope.evaluate.prepare_inputs` from a log, a target policy and reward
    model predictions. All arrays have one entry per logged row.

    Attributes
    ----------
    reward, pscore, weight : ndarray (n,)
        Observed reward, logged propensity, and w = pi_e(a_i | x_i[, pos_i]) / p_i.
    action, position : ndarray of int (n,)
        Logged action and slot (0 when the log has no slots).
    action_dist : ndarray (n, n_actions, P_e)
        Target distribution, P_e = 1 (same at every slot) or n_positions.
    q_logged, q_policy : ndarray (n,) or None
        Reward model at the logged (action, slot), and its expectation under the target.
    q_hat : ndarray (n, n_actions, P_q) or None
        Reward-model predictions for every action (and slot).
    behavior_dist : ndarray (n, n_actions, P_b) or None
        The logging policy's full distribution, when the log carries it.
    action_context : ndarray (n_actions, d_a) or None
        Action embeddings (for MIPS).

    Built by hand (to reuse :func:`~workbench.ope.estimate_from_inputs`), the fields are checked by
    :meth:`check` when ``estimate_from_inputs`` receives them, not at construction (``prepare_inputs``
    validates the log instead, and checking its result again would double that cost).

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import UniformPolicy, prepare_inputs
    >>> log, truth = simulate_bandit(1000, n_actions=3, random_state=0)
    >>> inputs = prepare_inputs(log, UniformPolicy())
    >>> inputs
    OPEInputs(1,000 rows, 3 actions, reward model: no, behavior_dist: yes)
    >>> inputs.weight[:3].round(3).tolist()   # (1/3) / the logged propensity
    [0.429, 2.71, 0.402]
    """

    reward: np.ndarray
    pscore: np.ndarray
    weight: np.ndarray
    action: np.ndarray
    position: np.ndarray
    action_dist: np.ndarray
    q_logged: np.ndarray | None = None
    q_policy: np.ndarray | None = None
    q_hat: np.ndarray | None = None
    behavior_dist: np.ndarray | None = None
    action_context: np.ndarray | None = None

    def __repr__(self) -> str:
        # The generated dataclass repr printed every array in full (thousands of lines for a real log).
        return (f"OPEInputs({self.n:,} rows, {self.n_actions} actions, reward model: "
                f"{'no' if self.q_hat is None else 'yes'}, behavior_dist: {'no' if self.behavior_dist is None else 'yes'})")

    @property
    def n(self) -> int:
        """Number of logged rows."""
        return int(self.reward.shape[0])

    @property
    def n_actions(self) -> int:
        """Number of actions (columns of ``action_dist``)."""
        return int(self.action_dist.shape[1])

    def at_logged_slot(self, arr3: np.ndarray) -> np.ndarray:
        """(n, n_actions, P) -> (n, n_actions): each row's slice at its logged slot (P = 1: the only one)."""
        if arr3.shape[2] == 1:
            return arr3[:, :, 0]
        return arr3[np.arange(self.n), :, self.position]

    def check(self) -> "OPEInputs":
        """These inputs validated, as :func:`~workbench.ope.evaluate.prepare_inputs` builds them (it validates the
        log and the target instead, so what it returns is not checked again): every field a numpy array with one
        entry per row of ``action``; ``reward`` finite; ``pscore`` in (0, 1]; ``action`` integers in
        [0, n_actions); ``position`` integers >= 0 (below the slots of any array that has several);
        ``action_dist`` (and ``behavior_dist``) (n, n_actions, P) distributions over axis 1; ``weight`` equal to
        the target's probability of the logged action (at its slot) / ``pscore`` (relative tolerance 1e-9);
        the reward-model fields finite, and ``q_logged`` / ``q_policy`` consistent with ``q_hat`` when it is
        given. A hand-built ``OPEInputs`` is checked so by :func:`~workbench.ope.estimate_from_inputs`: a
        propensity of 0, an action out of range or a NaN reward gave a wrong estimate, a bare numpy broadcast
        error, or an "overflow" message naming another field. Returns a checked copy (lists become arrays,
        losslessly); raises a :class:`~workbench.ValidationError` naming the field, the rule and the first row.

        Examples
        --------
        >>> import numpy as np
        >>> from workbench.ope import OPEInputs
        >>> inp = OPEInputs(reward=np.array([1.0, 0.0]), pscore=np.array([0.5, 0.0]), weight=np.ones(2),
        ...                 action=np.array([0, 1]), position=np.zeros(2, int), action_dist=np.full((2, 2, 1), 0.5))
        >>> try:
        ...     inp.check()
        ... except ValueError as err:
        ...     print(err.field, err.n_bad, err.first)
        pscore 1 1
        """
        if getattr(self, "_checked", False):
            return self
        action = as_array(self.action, "action", ndim=1)
        n = action.shape[0]

        def rows(value, field, ndim):
            arr = as_array(value, field, ndim=ndim)
            check_length(arr, n, field)
            return arr

        reward = check_finite(rows(self.reward, "reward", 1), "reward")
        pscore = check_probability(rows(self.pscore, "pscore", 1), "pscore")
        weight = rows(self.weight, "weight", 1)
        position = rows(self.position, "position", 1)
        dist = rows(self.action_dist, "action_dist", 3)
        k = dist.shape[1]
        action = check_integer_in_range(action, "action", 0, k)
        slots = max(dist.shape[2], 1)
        behavior = q_hat = None
        if self.behavior_dist is not None:
            behavior = rows(self.behavior_dist, "behavior_dist", 3)
            if behavior.shape[1] != k:
                raise ValidationError("behavior_dist", f"must have one column per action ({k}, the columns of "
                                                       f"action_dist), got {behavior.shape[1]}")
            slots = max(slots, behavior.shape[2])
        if self.q_hat is not None:
            q_hat = check_finite(rows(self.q_hat, "q_hat", 3), "q_hat")
            if q_hat.shape[1] != k:
                raise ValidationError("q_hat", f"must have one column per action ({k}, the columns of action_dist), "
                                               f"got {q_hat.shape[1]}")
            slots = max(slots, q_hat.shape[2])
        position = check_integer_in_range(position, "position", 0, slots if slots > 1 else None)
        for field, arr in (("action_dist", dist), ("behavior_dist", behavior), ("q_hat", q_hat)):
            if arr is not None and arr.shape[2] not in (1, slots):
                raise ValidationError(field, f"must have 1 or {slots} slots on axis 2, got {arr.shape[2]}")
        dist = check_distribution(dist, "action_dist", axis=1, tol=SUM_TOL)
        if behavior is not None:
            behavior = check_distribution(behavior, "behavior_dist", axis=1, tol=SUM_TOL)
        at = np.arange(n)

        def logged_slot(arr3):
            return arr3[:, :, 0] if arr3.shape[2] == 1 else arr3[at, :, position]

        pe_slot = logged_slot(dist)
        weight = check_finite(weight, "weight")
        raise_if_any(weight < 0, "weight", "must be >= 0 (importance weights)", weight)
        expected = pe_slot[at, action] / pscore
        raise_if_any(~np.isclose(weight, expected, rtol=1e-9, atol=0.0), "weight", "must equal action_dist at the "
                     "logged action (and slot) / pscore (relative tolerance 1e-9)", weight,
                     hint="compute it as action_dist[rows, action, slot] / pscore, as prepare_inputs does")
        q_logged = q_policy = None
        if self.q_logged is not None:
            q_logged = check_finite(rows(self.q_logged, "q_logged", 1), "q_logged")
        if self.q_policy is not None:
            q_policy = check_finite(rows(self.q_policy, "q_policy", 1), "q_policy")
        if q_hat is not None:
            q_slot = logged_slot(q_hat)
            scale = float(np.max(np.abs(q_slot))) if q_slot.size else 0.0
            if q_logged is not None:
                raise_if_any(~np.isclose(q_logged, q_slot[at, action], rtol=1e-9, atol=1e-12 * scale), "q_logged",
                             "must equal q_hat at the logged action (and slot) (relative tolerance 1e-9)", q_logged)
            if q_policy is not None:
                raise_if_any(~np.isclose(q_policy, np.einsum("ij,ij->i", pe_slot, q_slot), rtol=1e-9,
                                         atol=1e-12 * scale), "q_policy",
                             "must equal sum over actions of action_dist x q_hat at the row's slot (relative "
                             "tolerance 1e-9)", q_policy)
        context = self.action_context
        if context is not None:
            context = check_finite(as_array(context, "action_context", ndim=2), "action_context")
            if context.shape[0] != k:
                raise ValidationError("action_context", f"must have one row per action ({k}), got {context.shape[0]}")
        out = replace(self, reward=reward, pscore=pscore, weight=weight, action=action, position=position,
                      action_dist=dist, q_logged=q_logged, q_policy=q_policy, q_hat=q_hat, behavior_dist=behavior,
                      action_context=context)
        out._mark_checked()
        return out

    def _mark_checked(self) -> None:
        """Set by prepare_inputs (which validated the log and the target) and by :meth:`check`."""
        object.__setattr__(self, "_checked", True)

    def max_possible_weight(self) -> float | None:
        """max over rows and actions of pi_e / pi_b (an a-priori bound on w), when pi_b is known."""
        if self.behavior_dist is None:
            return None
        pe = self.at_logged_slot(self.action_dist)
        pb = self.at_logged_slot(self.behavior_dist)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.where(pe > 0, pe / pb, 0.0)
        bound = float(np.max(ratio)) if ratio.size else 0.0
        # the weights use the logged propensities, which a BanditLog lets differ from behavior_dist by a relative
        # 1e-5: a weight could exceed the bound from behavior_dist (3.000003 > 3), and the Bernstein interval then
        # refused a valid log for "terms outside [low, high]". The logged rows' own weights are within the bound.
        w = np.asarray(self.weight, dtype=np.float64)
        return max(bound, float(np.max(w))) if w.size else bound


# ----------------------------------------------------------------------------------------------
# Base class
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OffPolicyEstimator:
    """Base class: an estimator is its per-row terms and a ``combine`` of their means.

    Subclasses set ``name`` and implement :meth:`terms` and :meth:`combine`; optionally
    :meth:`weights` (the importance weights the estimator effectively uses, for diagnostics) and
    :meth:`term_bounds` (a-priori bounds on a single term, which enable the empirical-Bernstein
    interval). Estimators for other kinds of logs (continuous actions, distributional targets)
    subclass this too and override :meth:`prepare` to build their own inputs.

    Methods
    -------
    estimate_policy_value(log, policy, reward_model=None)
        The point estimate (float).
    estimate_interval(log, policy, reward_model=None, alpha=0.05, n_bootstrap=1000,
                      interval="percentile", random_state=0)
        An :class:`workbench.results.Estimate` with the interval; see
        :func:`workbench.ope.evaluate_policy` for what each interval method promises.

    Examples
    --------
    Every estimator (here SNIPS) has the same two entry points:

    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import OffPolicyEstimator, SelfNormalizedIPS, UniformPolicy
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> est = SelfNormalizedIPS()
    >>> isinstance(est, OffPolicyEstimator), est.label
    (True, 'snips')
    >>> round(est.estimate_policy_value(log, UniformPolicy()), 3)
    0.222
    >>> ci = est.estimate_interval(log, UniformPolicy(), n_bootstrap=200)
    >>> ci.name, bool(ci.ci_low < ci.value < ci.ci_high)
    ('snips', True)
    >>> round(truth.policy_value(UniformPolicy()), 3)  # the exact value, known in a simulation
    0.224
    """

    name: ClassVar[str] = ""
    requires_reward_model: ClassVar[bool] = False
    requires_behavior_dist: ClassVar[bool] = False

    # -- the two things every estimator defines ---------------------------------------------
    def terms(self, inputs) -> np.ndarray:  # pragma: no cover - abstract
        """The (n, k) per-row terms whose column means :meth:`combine` maps to the estimate (k = 1 for IPS, DM, DR)."""
        raise NotImplementedError

    def combine(self, means: np.ndarray) -> np.ndarray:
        """Default: the statistic is the mean of the single term column."""
        return np.asarray(means)[..., 0]

    # -- optional -------------------------------------------------------------------------------
    def weights(self, inputs) -> np.ndarray | None:
        """The importance weights the estimator effectively applies (None for DM)."""
        return None

    def term_bounds(self, inputs, reward_range: tuple[float, float]) -> tuple[float, float] | None:
        """A-priori (low, high) bounds of the single per-row term, or None when the estimator has none.

        Only estimators whose value is the mean of one bounded term support the
        empirical-Bernstein interval.
        """
        return None

    def prepare(self, log, policy, reward_model=None, **kwargs):
        """Build the inputs this estimator reads from a log (discrete actions by default). ``kwargs``:
        ``n_folds`` and ``random_state`` of the cross-fitting."""
        from .evaluate import prepare_inputs

        unknown = sorted(set(kwargs) - {"n_folds", "random_state"})
        if unknown:  # a TypeError from prepare_inputs' signature named a function the caller never called
            raise ValidationError(unknown[0], f"is not a keyword of estimate_policy_value / estimate_interval "
                                  f"(unexpected: {unknown})", hint="their keywords for the reward model's "
                                  "cross-fitting are n_folds and random_state; estimate_interval also takes alpha, "
                                  "n_bootstrap, interval, resampling, reward_range and warn")
        return prepare_inputs(log, policy, reward_model=reward_model, estimators=[self], **kwargs)

    # -- naming ---------------------------------------------------------------------------------
    @property
    def label(self) -> str:
        """``name`` plus every hyper-parameter that differs from its default, e.g. ``ips(clip=10)``."""
        return self._label(4)

    def _label(self, digits: int) -> str:
        parts = []
        for f in fields(self):
            v = getattr(self, f.name)
            if f.default is not v and not (isinstance(v, float) and isinstance(f.default, float)
                                           and (v == f.default or (math.isnan(v) and math.isnan(f.default)))):
                parts.append(f"{f.name}={_short(v, digits)}")
        return f"{self.name}({', '.join(parts)})" if parts else self.name

    # -- obp-like entry points -----------------------------------------------------------------
    def estimate_policy_value(self, log, policy, reward_model=None, **kwargs) -> float:
        """Point estimate of the target policy's value from the log.

        Parameters
        ----------
        log : BanditLog
        policy : ndarray (n, n_actions[, n_positions]) or a policy object with ``action_dist``
        reward_model : scikit-learn estimator (cross-fitted), ndarray of predictions, or None
        **kwargs
            ``n_folds=`` and ``random_state=`` of the cross-fitting (defaults 5 and 0, as in
            :func:`workbench.ope.evaluate_policy`): with the same ``random_state`` the value equals
            that of ``evaluate_policy`` and :meth:`estimate_interval`.
        """
        from .._engine import column_sums
        from .evaluate import estimator_terms  # (evaluate imports this module)

        inputs = self.prepare(log, policy, reward_model, **kwargs)
        t = estimator_terms(self, inputs)  # an overflowing weight x reward refused with its row
        means = column_sums(t) / t.shape[0]  # pairwise per column, as evaluate_policy's totals
        return float(np.asarray(self.combine(means[None, :]))[0])

    def estimate_interval(self, log, policy, reward_model=None, alpha: float = 0.05, n_bootstrap: int = 1000,
                          interval: str = "percentile", random_state=0, resampling: str = "poisson",
                          reward_range=None, warn: bool = True, **kwargs):
        """Point estimate and (1 - alpha) interval as an :class:`~workbench.results.Estimate`.

        The keywords are those of :func:`workbench.ope.evaluate_policy` (``warn=False`` silences its
        :class:`~workbench.ope.OPEDiagnosticWarning`); ``kwargs``: ``n_folds`` of the cross-fitting.

        Examples
        --------
        >>> from workbench.data import simulate_bandit
        >>> from workbench.ope import InverseProbabilityWeighting, UniformPolicy
        >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=0)
        >>> est = InverseProbabilityWeighting().estimate_interval(log, UniformPolicy(), n_bootstrap=200)
        >>> est.ci_low < est.value < est.ci_high
        True
        """
        from .evaluate import check_resampling, estimate_from_inputs, unit_ids
        from .reward_models import call_seed

        check_resampling(resampling)  # before the reward model is fitted
        # one key for the folds and the resamples, as in evaluate_policy: a Generator's folds drew first
        # for DR-type estimators only, so their resamples differed from ips' on the same Generator
        random_state = call_seed(random_state)
        # the seed also splits the reward model's cross-fitting folds, as in evaluate_policy and
        # estimate_policy_value (the folds always used seed 0 here, so DR-type values disagreed)
        inputs = self.prepare(log, policy, reward_model, random_state=random_state, **kwargs)
        return estimate_from_inputs([self], inputs, alpha=alpha, n_bootstrap=n_bootstrap, interval=interval,
                                    random_state=random_state, resampling=resampling, ids=unit_ids(log),
                                    reward_range=reward_range, warn=warn, single_unit_warning=warn)[0]


def _short(v, digits: int = 4) -> str:
    if isinstance(v, float):
        return "inf" if v == np.inf else f"{v:.{digits}g}"
    if isinstance(v, tuple):
        return "(" + ",".join(map(str, v)) + ")"
    return repr(v) if isinstance(v, str) else str(v)


def _check_lambda(value, field, low=0.0, high=np.inf, allow_none=False):
    """A tuning constant in [low, high] (inf allowed when high is inf), as a float (None if allowed).

    Not ``float(value)``: it would accept the string "5" (which later breaks ``np.minimum``) and
    ``True`` as 1.0.
    """
    if value is None and allow_none:
        return None
    v = check_real(value, field, allow_inf=True)
    if v < low or v > high:
        raise ValidationError(field, f"must be in [{low}, {high}], got {value!r}")
    return v


def _need_q(inputs, who):
    if inputs.q_policy is None or inputs.q_logged is None:
        raise ValidationError("reward_model", f"is required by {who}",
                              hint="pass a scikit-learn estimator (it is cross-fitted) or an array of "
                                   "predicted rewards shaped like the action distribution")


def _ips_bounds(inputs, reward_range, w_bound):
    if w_bound is None or not np.isfinite(w_bound):
        return None
    lo, hi = reward_range
    return (w_bound * min(lo, 0.0), w_bound * max(hi, 0.0))


# ----------------------------------------------------------------------------------------------
# Estimators
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DirectMethod(OffPolicyEstimator):
    """DM: E_n[q(x, pi_e)]. Unbiased only when the reward model is; no weights, small variance.

    The interval covers the sampling noise of the contexts (with q fixed), not the model's bias.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import DirectMethod, UniformPolicy
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> round(DirectMethod().estimate_policy_value(log, UniformPolicy()), 3)  # default model: cross-fitted
    0.228
    """

    name: ClassVar[str] = "dm"
    requires_reward_model: ClassVar[bool] = True

    def terms(self, inputs):
        _need_q(inputs, "dm")
        return inputs.q_policy[:, None]


@dataclass(frozen=True)
class _ClippedWeights(OffPolicyEstimator):
    """Shared by IPS and DR: importance weights capped at ``clip`` (inf = no cap)."""

    clip: float = np.inf

    def __post_init__(self):
        object.__setattr__(self, "clip", _check_lambda(self.clip, "clip", low=0.0))

    def weights(self, inputs):
        # Unclipped: the shared array itself (no copy; diagnostics computed once for all estimators).
        return inputs.weight if np.isinf(self.clip) else np.minimum(inputs.weight, self.clip)


@dataclass(frozen=True)
class InverseProbabilityWeighting(_ClippedWeights):
    """IPS: E_n[min(w, clip) r]. Unbiased when clip=inf and pi_b > 0 wherever pi_e > 0.

    Parameters
    ----------
    clip : float, default inf
        Weights above ``clip`` are set to ``clip`` (biased downwards for non-negative rewards,
        lower variance). Choose it with :func:`workbench.ope.slope_select`.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import InverseProbabilityWeighting, UniformPolicy
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> round(InverseProbabilityWeighting().estimate_policy_value(log, UniformPolicy()), 3)
    0.223
    >>> round(InverseProbabilityWeighting(clip=5).estimate_policy_value(log, UniformPolicy()), 3)
    0.219
    """

    name: ClassVar[str] = "ips"

    def terms(self, inputs):
        return (self.weights(inputs) * inputs.reward)[:, None]

    def term_bounds(self, inputs, reward_range):
        bound = inputs.max_possible_weight()
        bound = self.clip if bound is None else min(bound, self.clip)
        return _ips_bounds(inputs, reward_range, bound)


@dataclass(frozen=True)
class SelfNormalizedIPS(OffPolicyEstimator):
    """SNIPS: E_n[w r] / E_n[w]. O(1/n) bias, always within the range of observed rewards.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import SelfNormalizedIPS, UniformPolicy
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> round(SelfNormalizedIPS().estimate_policy_value(log, UniformPolicy()), 3)
    0.222
    """

    name: ClassVar[str] = "snips"

    def weights(self, inputs):
        return inputs.weight

    def terms(self, inputs):
        w = inputs.weight
        return np.column_stack([w * inputs.reward, w])

    def combine(self, means):
        means = np.asarray(means)
        with np.errstate(invalid="ignore", divide="ignore"):
            return means[..., 0] / means[..., 1]


@dataclass(frozen=True)
class DoublyRobust(_ClippedWeights):
    """DR: E_n[q(x, pi_e) + min(w, clip) (r - q(x, a))]. Unbiased if either w or q is correct (clip=inf).

    Parameters
    ----------
    clip : float, default inf
        Weights above ``clip`` are set to ``clip``, as in :class:`InverseProbabilityWeighting`.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import DoublyRobust, UniformPolicy
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> round(DoublyRobust().estimate_policy_value(log, UniformPolicy()), 3)  # default model: cross-fitted
    0.224
    """

    name: ClassVar[str] = "dr"
    requires_reward_model: ClassVar[bool] = True

    def terms(self, inputs):
        _need_q(inputs, "dr")
        return (inputs.q_policy + self.weights(inputs) * (inputs.reward - inputs.q_logged))[:, None]


@dataclass(frozen=True)
class SelfNormalizedDR(OffPolicyEstimator):
    """SNDR: E_n[q(x, pi_e)] + E_n[w (r - q(x, a))] / E_n[w].

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import SelfNormalizedDR, UniformPolicy
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> round(SelfNormalizedDR().estimate_policy_value(log, UniformPolicy()), 3)
    0.224
    """

    name: ClassVar[str] = "sndr"
    requires_reward_model: ClassVar[bool] = True

    def weights(self, inputs):
        return inputs.weight

    def terms(self, inputs):
        _need_q(inputs, "sndr")
        w = inputs.weight
        return np.column_stack([inputs.q_policy, w * (inputs.reward - inputs.q_logged), w])

    def combine(self, means):
        means = np.asarray(means)
        with np.errstate(invalid="ignore", divide="ignore"):
            return means[..., 0] + means[..., 1] / means[..., 2]


@dataclass(frozen=True)
class SwitchDR(OffPolicyEstimator):
    """Switch-DR: E_n[q(x, pi_e) + 1{w <= lambda_} w (r - q(x, a))] (Wang, Agarwal & Dudik 2017).

    ``lambda_=inf`` (the default, as in obp 0.5) is DR; ``lambda_=0`` is DM. Rows whose weight
    exceeds ``lambda_`` fall back on the model. Pick ``lambda_`` with
    :func:`workbench.ope.slope_select` (obp 0.4.1 called it ``tau`` and defaulted to 1).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import DirectMethod, DoublyRobust, SwitchDR, UniformPolicy
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> target = UniformPolicy()
    >>> round(SwitchDR(lambda_=5).estimate_policy_value(log, target), 3)
    0.218
    >>> bool(np.isclose(SwitchDR().estimate_policy_value(log, target),
    ...                 DoublyRobust().estimate_policy_value(log, target)))  # lambda_=inf is DR
    True
    >>> bool(np.isclose(SwitchDR(lambda_=0).estimate_policy_value(log, target),
    ...                 DirectMethod().estimate_policy_value(log, target)))  # lambda_=0 is DM
    True
    """

    name: ClassVar[str] = "switch-dr"
    requires_reward_model: ClassVar[bool] = True
    lambda_: float = np.inf

    def __post_init__(self):
        object.__setattr__(self, "lambda_", _check_lambda(self.lambda_, "lambda_", low=0.0))

    def weights(self, inputs):
        return np.where(inputs.weight <= self.lambda_, inputs.weight, 0.0)

    def terms(self, inputs):
        _need_q(inputs, "switch-dr")
        return (inputs.q_policy + self.weights(inputs) * (inputs.reward - inputs.q_logged))[:, None]


@dataclass(frozen=True)
class DoublyRobustWithShrinkage(OffPolicyEstimator):
    """DR-os: E_n[q(x, pi_e) + (lambda_ w / (w^2 + lambda_)) (r - q(x, a))] (Su et al. 2020a).

    ``lambda_=inf`` (our default) is DR; ``lambda_=0`` is DM -- obp 0.5 defaults to 0, i.e. to DM
    in disguise. Pick ``lambda_`` with :func:`workbench.ope.slope_select`.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import DirectMethod, DoublyRobustWithShrinkage, UniformPolicy
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> round(DoublyRobustWithShrinkage(lambda_=5).estimate_policy_value(log, UniformPolicy()), 3)
    0.226
    >>> bool(np.isclose(DoublyRobustWithShrinkage(lambda_=0).estimate_policy_value(log, UniformPolicy()),
    ...                 DirectMethod().estimate_policy_value(log, UniformPolicy())))  # lambda_=0 is DM
    True
    """

    name: ClassVar[str] = "dr-os"
    requires_reward_model: ClassVar[bool] = True
    lambda_: float = np.inf

    def __post_init__(self):
        object.__setattr__(self, "lambda_", _check_lambda(self.lambda_, "lambda_", low=0.0))

    def weights(self, inputs):
        w = inputs.weight
        if np.isinf(self.lambda_):
            return w.copy()
        if self.lambda_ == 0:
            return np.zeros_like(w)
        # w / ((w / lambda) w + 1), not lambda w / (w^2 + lambda): the product overflowed for a valid lambda_ (1e308),
        # and w / (w w / lambda + 1) gave 0 where w^2 overflows but lambda is as large (w = 1e160, lambda = 1e300:
        # the shrunk weight is 1e140). (w / lambda) w is inf only where the shrunk weight is below ~lambda / w ~ 0.
        with np.errstate(over="ignore"):
            return w / ((w / self.lambda_) * w + 1.0)

    def terms(self, inputs):
        _need_q(inputs, "dr-os")
        return (inputs.q_policy + self.weights(inputs) * (inputs.reward - inputs.q_logged))[:, None]


@dataclass(frozen=True)
class SubGaussianIPS(OffPolicyEstimator):
    """Sub-Gaussian IPS (Metelli, Russo & Restelli 2021): E_n[w_lambda r], w_lambda = w / (1 - lambda + lambda w).

    ``lambda_`` in [0, 1]; 0 recovers IPS. The corrected weight is at most 1 / lambda_, which
    makes the estimator's tail sub-Gaussian at the price of a downward bias (for r >= 0).

    Parameters
    ----------
    lambda_ : float or None, default None
        None chooses lambda = sqrt(2 ln(1/delta) / (3 d2 n)), with the exponentiated 2-Renyi
        divergence d2 replaced by its plug-in estimate E_n[w^2] (the form of the paper's tuning
        rule; the constant is recalled from the paper, not re-derived here). The plug-in is
        floored at 1, the smallest value d2 can take (E[w^2] >= E[w]^2 = 1), so a sample whose
        weights happen to be small does not inflate lambda. The choice is made once on the full
        sample and held fixed in every bootstrap replicate.
    delta : float, default 0.05
        Confidence level of the tuning rule.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import InverseProbabilityWeighting, SubGaussianIPS, UniformPolicy, prepare_inputs
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> round(SubGaussianIPS().estimate_policy_value(log, UniformPolicy()), 3)
    0.22
    >>> round(SubGaussianIPS().resolved_lambda(prepare_inputs(log, UniformPolicy())), 4)  # the tuned lambda
    0.0263
    >>> (SubGaussianIPS(lambda_=0).estimate_policy_value(log, UniformPolicy())
    ...  == InverseProbabilityWeighting().estimate_policy_value(log, UniformPolicy()))  # lambda_=0 is IPS
    True
    """

    name: ClassVar[str] = "sg-ips"
    lambda_: float | None = None
    delta: float = 0.05

    def __post_init__(self):
        object.__setattr__(self, "lambda_", _check_lambda(self.lambda_, "lambda_", low=0.0, high=1.0, allow_none=True))
        object.__setattr__(self, "delta", _check_lambda(self.delta, "delta", low=1e-12, high=1.0))

    def resolved_lambda(self, inputs) -> float:
        """``lambda_`` if given, else min(1, sqrt(2 log(1 / delta) / (3 d2 n))) with d2 = max(1, mean w^2)."""
        if self.lambda_ is not None:
            return float(self.lambda_)
        from .evaluate import weight_sums  # here, not at import: evaluate imports this module

        # sqrt(d2) from the scaled sum of squares: mean(w^2) overflowed to inf for weights beyond ~1e154
        # (or n w^2 beyond 1e308), and lambda came out 0, i.e. plain IPS
        w = np.asarray(inputs.weight, dtype=float)
        _, s2, scale = weight_sums(w)
        root_d2 = max(1.0, scale * math.sqrt(s2 / w.size))  # the mean over the weights given (the streamed probe: one)
        return float(min(1.0, math.sqrt(2.0 * math.log(1.0 / self.delta) / (3.0 * inputs.n)) / root_d2))

    @staticmethod
    def _correct(w, lam):
        # w / (1 - lam + lam w) is 0 / 0 at w = 0 when lam = 1; its limit (and the value for every
        # lam < 1) is 0: a row the target never plays contributes nothing.
        w = np.asarray(w, dtype=np.float64)
        return np.divide(w, 1.0 - lam + lam * w, out=np.zeros_like(w), where=w > 0)

    def weights(self, inputs):
        return self._correct(inputs.weight, self.resolved_lambda(inputs))

    def terms(self, inputs):
        return (self.weights(inputs) * inputs.reward)[:, None]

    def term_bounds(self, inputs, reward_range):
        lam = self.resolved_lambda(inputs)
        bound = inputs.max_possible_weight()
        if bound is not None and np.isfinite(bound):
            bound = float(self._correct(bound, lam))
        elif lam > 0:
            # w / (1 - lam + lam w) < 1 / lam for every w >= 0. Also when behavior_dist gives an
            # unbounded ratio (the target uses an action the logger never takes): the corrected
            # weight is still bounded, whereas _correct(inf) would be inf / inf = NaN.
            bound = 1.0 / lam
        return _ips_bounds(inputs, reward_range, bound)


@dataclass(frozen=True)
class MarginalizedIPS(OffPolicyEstimator):
    """MIPS (Saito & Joachims 2022): importance weights over action embeddings instead of actions.

    w(x, e) = p(e | x, pi_e) / p(e | x, pi_b) with p(e | x, pi) = sum_a pi(a | x) p(e | a). Here every
    action has a fixed, discrete embedding (a row of ``log.action_context``, restricted to
    ``embedding_dims``), so p(e | a) = 1{e_a = e} exactly and p(e | x, pi) is the total probability
    pi gives to the actions that share the logged action's embedding. No classifier is fitted; the
    weights are exact, but computing them needs the logging policy's full distribution
    (``log.behavior_dist``). MIPS is unbiased when the reward depends on the action only through
    its embedding (no direct effect), and needs support only over embeddings, not actions.
    Continuous embeddings must be discretised first (every distinct vector is its own group, so
    unique continuous embeddings make MIPS equal to IPS).

    Parameters
    ----------
    embedding_dims : tuple of int or None
        Columns of ``action_context`` that define the embedding (None: all). Fewer dimensions
        coarsen the groups: lower variance, more bias -- an ordered family for SLOPE.
    self_normalized : bool, default False
        Divide by E_n[w(x, e)] (SN-MIPS), re-normalised within each replicate.

    Examples
    --------
    Four actions whose embeddings form two groups, {0, 1} and {2, 3}, and a reward that depends
    on the group only (the case MIPS is made for); the logger is uniform:

    >>> import numpy as np
    >>> from workbench.data import BanditLog
    >>> from workbench.ope import MarginalizedIPS, evaluate_policy
    >>> rng = np.random.default_rng(4)
    >>> n, emb = 2000, np.array([[0.0], [0.0], [1.0], [1.0]])
    >>> a = rng.integers(0, 4, n)
    >>> r = (rng.random(n) < np.where(emb[a, 0] == 1, 0.7, 0.2)).astype(float)
    >>> log = BanditLog(action=a, reward=r, propensity=np.full(n, 0.25), action_context=emb,
    ...                 behavior_dist=np.full((n, 4), 0.25))
    >>> target = np.tile([0.0, 0.1, 0.0, 0.9], (n, 1))  # true value 0.1 * 0.2 + 0.9 * 0.7 = 0.65
    >>> round(MarginalizedIPS().estimate_policy_value(log, target), 3)
    0.655
    >>> out = evaluate_policy(log, target, estimators=["ips", "mips"], n_bootstrap=200)
    >>> out["estimator"].tolist(), out["ess"].round().tolist()  # MIPS: about twice the effective sample size
    (['ips', 'mips'], [629.0, 1225.0])
    >>> out["se"].round(2).tolist()
    [0.03, 0.02]
    """

    name: ClassVar[str] = "mips"
    requires_behavior_dist: ClassVar[bool] = True
    embedding_dims: tuple | None = None
    self_normalized: bool = False

    def __post_init__(self):
        # "no" is truthy: it would mean True
        object.__setattr__(self, "self_normalized", check_bool(self.self_normalized, "self_normalized"))
        if self.embedding_dims is not None:
            # check_int, not int(): 1.5 must not silently become column 1.
            dims = tuple(check_int(d, "embedding_dims", low=0) for d in np.atleast_1d(self.embedding_dims).tolist())
            if len(dims) == 0:
                raise ValidationError("embedding_dims", f"must be non-empty non-negative column indices, got "
                                      f"{self.embedding_dims!r}")
            object.__setattr__(self, "embedding_dims", dims)

    def groups(self, inputs) -> np.ndarray:
        """Embedding group of each action, shape (n_actions,)."""
        if inputs.action_context is None:
            raise ValidationError("action_context", "is required by mips (one embedding row per action)")
        emb = inputs.action_context
        if self.embedding_dims is not None:
            if max(self.embedding_dims) >= emb.shape[1]:
                raise ValidationError("embedding_dims", f"must be < {emb.shape[1]} (columns of action_context), "
                                      f"got {self.embedding_dims}")
            emb = emb[:, list(self.embedding_dims)]
        _, group = np.unique(emb, axis=0, return_inverse=True)
        return group.ravel()

    def weights(self, inputs):
        if inputs.behavior_dist is None:
            raise ValidationError("behavior_dist", "is required by mips (exact embedding weights need the "
                                  "logging policy's full distribution)",
                                  hint="build the log with behavior_dist=..., or use ips/dr")
        group = self.groups(inputs)
        n_groups = int(group.max()) + 1
        member = np.zeros((inputs.n_actions, n_groups))
        member[np.arange(inputs.n_actions), group] = 1.0
        rows = np.arange(inputs.n)
        g = group[inputs.action]
        # p(e_i | x_i, pi) = sum of pi(a | x_i) over actions in the logged action's group: a (n, K) x (K, G)
        # product then one gather, never a row loop.
        pe = (inputs.at_logged_slot(inputs.action_dist) @ member)[rows, g]
        pb = (inputs.at_logged_slot(inputs.behavior_dist) @ member)[rows, g]
        return pe / pb

    def terms(self, inputs):
        w = self.weights(inputs)
        if self.self_normalized:
            return np.column_stack([w * inputs.reward, w])
        return (w * inputs.reward)[:, None]

    def combine(self, means):
        means = np.asarray(means)
        if self.self_normalized:
            with np.errstate(invalid="ignore", divide="ignore"):
                return means[..., 0] / means[..., 1]
        return means[..., 0]

    def term_bounds(self, inputs, reward_range):
        if self.self_normalized:
            return None
        # An a-priori bound over every (row, group), not only the logged ones.
        group = self.groups(inputs)
        member = np.zeros((inputs.n_actions, int(group.max()) + 1))
        member[np.arange(inputs.n_actions), group] = 1.0
        pe = inputs.at_logged_slot(inputs.action_dist) @ member
        pb = inputs.at_logged_slot(inputs.behavior_dist) @ member
        with np.errstate(divide="ignore", invalid="ignore"):
            bound = float(np.max(np.where(pe > 0, pe / pb, 0.0)))
        return _ips_bounds(inputs, reward_range, bound)


ESTIMATORS: dict[str, type[OffPolicyEstimator]] = {
    "dm": DirectMethod,
    "ips": InverseProbabilityWeighting,
    "snips": SelfNormalizedIPS,
    "dr": DoublyRobust,
    "sndr": SelfNormalizedDR,
    "switch-dr": SwitchDR,
    "dr-os": DoublyRobustWithShrinkage,
    "sg-ips": SubGaussianIPS,
    "mips": MarginalizedIPS,
}


def estimator_key(name: str) -> str:
    """The canonical spelling of an estimator name: surrounding blanks dropped, lower case ("IPS " -> "ips").
    Every entry point that takes estimator names reads them through this."""
    return name.strip().lower()


def distinct_labels(specs, ests) -> list:
    """The labels of :func:`estimator_labels`, without its refusal: objects whose hyper-parameters differ past
    the label's 4 digits (a threshold family of a target close to the logger: clip=1.0003 and 1.0004) get
    labels with as many digits as it takes to tell them apart."""
    labels = [estimator_key(s) if isinstance(s, str) else e.label for s, e in zip(specs, ests)]
    for digits in (6, 8, 12, 17):
        clash = {x for x in labels if labels.count(x) > 1}
        if not clash:
            break
        labels = [e._label(digits) if (x in clash and not isinstance(s, str)) else x
                  for s, e, x in zip(specs, ests, labels)]
    return labels


def estimator_labels(specs, ests) -> list:
    """Output labels: a name as its canonical spelling, an estimator object by its own label. Labels must be
    unique: the output has one row per label, and two rows of one name ("ips", " IPS") could not be told apart."""
    labels = distinct_labels(specs, ests)
    if len(set(labels)) < len(labels):
        repeated = sorted({x for x in labels if labels.count(x) > 1})
        raise ValidationError("estimators", f"names must be unique, got {labels}; repeated: {repeated}")
    return labels


ESTIMATORS_RULE = "must be a non-empty sequence of estimator names or estimator objects"


def estimator_specs(estimators, rule: str = ESTIMATORS_RULE) -> list:
    """``estimators`` as a non-empty list of names / estimator objects.

    A single name or object is a list of one (as :func:`workbench._validation.check_names` reads a
    string as one name: ``list("ips")`` would be three unknown names). None, a non-iterable and an
    empty sequence raise a ValidationError naming ``estimators``.
    """
    if isinstance(estimators, (str, OffPolicyEstimator)):
        return [estimators]
    try:
        specs = list(estimators)
    except TypeError:
        raise ValidationError("estimators", f"{rule}, got {estimators!r}") from None
    if not specs:
        raise ValidationError("estimators", f"{rule}, got an empty {type(estimators).__name__}")
    return specs


def make_estimator(spec) -> OffPolicyEstimator:
    """An estimator from its name (``"dr"``) or an estimator object (returned as is).

    Examples
    --------
    >>> from workbench.ope import InverseProbabilityWeighting, make_estimator
    >>> make_estimator(" DR ")  # case and surrounding blanks are ignored
    DoublyRobust(clip=inf)
    >>> make_estimator(InverseProbabilityWeighting(clip=10)).label
    'ips(clip=10)'
    """
    if isinstance(spec, OffPolicyEstimator):
        return spec
    if isinstance(spec, str):
        key = estimator_key(spec)
        if key not in ESTIMATORS:
            raise ValidationError("estimators", f"unknown estimator {spec!r}; choose from {list(ESTIMATORS)} "
                                  "or pass an estimator object")
        return ESTIMATORS[key]()
    raise ValidationError("estimators", f"each entry must be a name or an OffPolicyEstimator, got "
                          f"{type(spec).__name__}")
