"""``evaluate_policy``: every estimator of one call on one shared set of resamples, with diagnostics.

Flow: the target policy becomes an (n, n_actions[, n_positions]) distribution; the reward model
(if any estimator needs one) becomes out-of-fold predictions for every action; each estimator
builds its (n, k_j) per-row terms; the terms of all estimators are stacked into one matrix and
pushed through one :class:`workbench._engine.ReplicateAccumulator` (hashed Poisson weights by
default, keyed by ``log.unit_id`` when present, else by row number); each estimator's
``combine`` is applied to the full-sample means and to every replicate's means.

Because everything goes through the accumulator on per-row terms, the same call on chunks or
partitions (merged accumulators) gives identical answers.
"""
from __future__ import annotations

import math
import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special

from .._engine import (ReplicateAccumulator, Resampling, influence_values, is_single_unit, replicate_sd,
                       unit_index)
from .._intervals import bca_interval, constant_up_to_rounding, normal_interval, percentile_interval
from .._random import check_random_state
from .._validation import (SUM_TOL, ValidationError, as_array, check_alpha, check_choice, check_distribution,
                           check_bool, check_finite, check_frame_layout, check_int, check_length, check_real,
                           check_row_order, raise_if_any)
from ..results import Estimate
from .estimators import OffPolicyEstimator, OPEInputs, estimator_labels, estimator_specs, make_estimator
from .reward_models import call_seed, fold_seed

__all__ = ["evaluate_policy", "prepare_inputs", "estimate_from_inputs", "weight_diagnostics", "unit_ids",
           "OPEDiagnosticWarning", "INTERVALS", "bernstein_interval"]

INTERVALS = ("percentile", "bca", "normal", "bernstein")


class OPEDiagnosticWarning(UserWarning):
    """The importance weights suggest the estimate is fragile or the propensities are wrong.

    One per call, saying what is wrong and what to do; ``warn=False`` silences it, and the
    ``warnings`` module can turn it into an error.

    Examples
    --------
    Propensities logged three times too small (per round instead of per slot): every weight
    triples and the mean weight is far from its expectation 1.

    >>> import warnings
    >>> import numpy as np
    >>> from workbench.data import BanditLog, simulate_bandit
    >>> from workbench.ope import OPEDiagnosticWarning, UniformPolicy, evaluate_policy
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=0)
    >>> bad = BanditLog(action=log.action, reward=log.reward, propensity=log.propensity / 3, n_actions=3)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = evaluate_policy(bad, UniformPolicy(), estimators=["ips", "snips"], n_bootstrap=200)
    >>> [issubclass(w.category, OPEDiagnosticWarning) for w in caught]
    [True]
    >>> "mean importance weight is 2.997" in str(caught[0].message)
    True
    """


def unit_ids(log):
    """Ids the hashed bootstrap resamples: ``log.unit_id`` when present (clustered), else None (rows)."""
    return getattr(log, "unit_id", None)


# ----------------------------------------------------------------------------------------------
# Inputs
# ----------------------------------------------------------------------------------------------
def _as3d(arr: np.ndarray) -> np.ndarray:
    return arr[:, :, None] if arr.ndim == 2 else arr


def resolve_action_dist(log, policy) -> np.ndarray:
    """The target policy as a validated (n, n_actions) or (n, n_actions, n_positions) array.

    On a log with several positions, (n, n_actions, 1) is the same distribution in every slot and
    is returned as the (n, n_actions) target, which means exactly that.
    """
    if not all(hasattr(log, a) for a in ("action", "propensity", "n_actions")):
        # a DataFrame or a path goes to evaluate_policy (tabular logs); here it was an AttributeError
        raise ValidationError("log", f"must be a workbench.data.BanditLog, got {type(log).__name__}",
                              hint="build one with BanditLog(...) or BanditLog.from_frame(...), or pass a table to "
                                   "evaluate_policy")
    if hasattr(policy, "action_dist") and callable(policy.action_dist):
        dist = policy.action_dist(log)
        if dist is None:  # was "must be 1-D or 2-D or 3-D, got shape ()"
            raise ValidationError("policy", f"{type(policy).__name__}.action_dist(log) returned None, not an (n, "
                                            f"n_actions) array of action probabilities",
                                  hint="a missing return statement?")
    elif callable(policy):
        # a scorer (fit_reward_scorer's, or any contexts -> scores function) was read as an array and refused
        # as "must be numeric, got an object array": scores are not probabilities, a policy turns them into some
        raise ValidationError("policy", f"must be an action distribution or a policy object with action_dist(log), "
                              f"got a callable {type(policy).__name__}",
                              hint="to play a scorer's best action wrap it: GreedyPolicy(scorer), "
                                   "SoftmaxPolicy(scorer, temperature=...), or GreedyRankingPolicy(scorer) for slots")
    else:
        dist = policy
    if isinstance(dist, (list, tuple)) and dist and all(isinstance(c, str) for c in dist):
        # the tabular form (column names) given with a BanditLog: it was "must be 2-D or 3-D, got shape (3,)"
        raise ValidationError("policy", f"is a list of column names {list(dist)[:4]}{' ...' if len(dist) > 4 else ''}, "
                              "the form of a tabular log; a BanditLog takes the target's (n, n_actions) "
                              "probabilities", hint="pass frame[columns].to_numpy() (rows in the log's order), or "
                                                    "the frame itself to evaluate_policy with these columns")
    check_frame_layout(dist, "policy", len(log), log.n_actions)
    dist = as_array(dist, "policy", ndim=(1, 2, 3))
    n, k = len(log), log.n_actions
    if dist.ndim == 1:
        # one action per row, as BanditTruth.policy_value reads it: refused as "must be 2-D or 3-D, got shape
        # (n,)" with no word of the policy object that says it (reading it as actions here would guess)
        raise ValidationError("policy", f"must be an (n, n_actions) action distribution, got a 1-D array of shape "
                              f"{dist.shape}", hint="for one action per row, pass DeterministicPolicy(actions) "
                                                    f"(n_actions={k} is the log's)")
    if dist.shape[0] != n or dist.shape[1] != k:
        raise ValidationError("policy", f"must have shape ({n}, {k}) or ({n}, {k}, n_positions) (rows x actions"
                              f"[x slots]), got {dist.shape}")
    if dist.ndim == 3:
        n_pos = log.n_positions
        if n_pos is None and dist.shape[2] != 1:
            raise ValidationError("policy", f"has {dist.shape[2]} positions on axis 2 but the log has no position")
        if n_pos is not None and n_pos > 1 and dist.shape[2] == 1:
            # One slice on axis 2 means "the same distribution in every slot", which is what an
            # (n, n_actions) target means for a log with positions (and how a (n, n_actions, 1) reward
            # model is read): taken as that 2-D target, so both give identical results everywhere.
            dist = dist[:, :, 0]
        elif n_pos is not None and dist.shape[2] != n_pos:
            raise ValidationError("policy", f"must have {n_pos} positions (or 1, the same in every slot) on axis 2, "
                                  f"got {dist.shape[2]}")
    return check_distribution(dist, "policy", axis=1, tol=SUM_TOL)


def default_reward_model(log):
    """The model used when ``reward_model=None`` and an estimator needs one.

    Logistic regression (``C=1``) when every reward is 0 or 1, else ridge regression (``alpha=1``);
    features are built by :func:`workbench.ope.reward_models.design_matrix`; always cross-fitted.
    """
    from sklearn.linear_model import LogisticRegression, Ridge

    if np.isin(log.reward, (0.0, 1.0)).all() and np.unique(log.reward).size == 2:
        return LogisticRegression(C=1.0, max_iter=1000)
    return Ridge(alpha=1.0)


def _check_reward_model_kind(log, reward_model) -> None:
    """A scikit-learn estimator or an array of predictions (or None): a name ("ridge"), a function q(X) or a
    number was read as an array and refused as "must be numeric, got an object array" or "must be 2-D or 3-D,
    got shape ()" (or, when no estimator used it, passed silently)."""
    if reward_model is None or hasattr(reward_model, "fit"):
        return
    if isinstance(reward_model, str) or callable(reward_model) or np.ndim(reward_model) == 0:
        raise ValidationError("reward_model", f"must be a scikit-learn estimator (it is cross-fitted) or an array of "
                              f"predictions of shape ({len(log)}, {log.n_actions}[, n_positions]), got "
                              f"{type(reward_model).__name__} {reward_model!r:.60}",
                              hint="for a function q(context) -> (n, n_actions), pass its predictions: "
                                   "reward_model=q(log.context)" if callable(reward_model) else
                                   "e.g. reward_model=Ridge() or LogisticRegression() (scikit-learn)")


def _resolve_q(log, reward_model, dist, n_folds, random_state):
    from .reward_models import cross_fit_predict

    _check_reward_model_kind(log, reward_model)
    if hasattr(reward_model, "fit"):
        return cross_fit_predict(log, reward_model, n_folds=n_folds, random_state=random_state)
    return _given_predictions(log, reward_model)


def _given_predictions(log, reward_model) -> np.ndarray:
    """An array of reward-model predictions checked as the estimators read it: (n, n_actions[, n_positions]),
    finite, rows and columns in the log's order. Also called when no estimator of the call uses it: a NaN or
    misshapen array passed silently then (while reward_model="ridge" was refused)."""
    n, k = len(log), log.n_actions
    check_frame_layout(reward_model, "reward_model", n, k)
    q = check_finite(as_array(reward_model, "reward_model", ndim=(2, 3)), "reward_model")
    if q.shape[0] != n or q.shape[1] != k:
        raise ValidationError("reward_model", f"predictions must have shape ({n}, {k}) or ({n}, {k}, "
                              f"n_positions) like the action distribution, got {q.shape}")
    if q.ndim == 3 and q.shape[2] != 1 and q.shape[2] != (log.n_positions or 1):
        raise ValidationError("reward_model", f"must have {log.n_positions or 1} positions on axis 2, got "
                              f"{q.shape[2]}")
    return q


def prepare_inputs(log, policy, reward_model=None, estimators: Sequence | None = None, n_folds: int = 5,
                   random_state=0) -> OPEInputs:
    """Validate the target and reward model once and compute what every estimator reads.

    The reward model is fitted only when some estimator in ``estimators`` needs it (or when
    ``estimators`` is None and a model is given).

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import UniformPolicy, prepare_inputs
    >>> log, truth = simulate_bandit(1000, n_actions=3, random_state=0)
    >>> inputs = prepare_inputs(log, UniformPolicy(), estimators=["ips"])
    >>> inputs.weight.shape, inputs.q_hat is None
    ((1000,), True)
    >>> inputs = prepare_inputs(log, UniformPolicy(), estimators=["ips", "dr"])  # dr needs a reward model
    >>> inputs.q_hat.shape
    (1000, 3, 1)
    """
    # its type always, as evaluate_policy checks it (slope_select and compare_policies ran with n_folds="x" when no
    # estimator fitted a model); its range (>= 2) where a model is cross-fitted
    n_folds = check_int(n_folds, "n_folds")
    check_random_state(random_state)  # also when no model is fitted (unused then: a string passed silently)
    dist = resolve_action_dist(log, policy)
    ests = [make_estimator(e) for e in estimators] if estimators is not None else None
    n = len(log)
    rows = np.arange(n)
    action = np.asarray(log.action)
    position = np.zeros(n, dtype=np.int64) if log.position is None else np.asarray(log.position)
    dist3 = _as3d(dist)
    pscore = np.asarray(log.propensity, dtype=np.float64)
    # Each row's target distribution at its logged slot, (n, K): a view when there is one slot,
    # a gather otherwise (fancy indexing copies n x K values, worth avoiding at 1e6+ rows).
    pe_slot = dist3[:, :, 0] if dist3.shape[2] == 1 else dist3[rows, :, position]
    with np.errstate(over="ignore"):  # detected below, with the row (numpy's warning came before the error)
        weight = pe_slot[rows, action] / pscore
    # A subnormal propensity (1e-320) under an ordinary target probability overflows the weight: refused
    # here, where the row is known, instead of an inf that made ips inf and snips NaN further on.
    raise_if_any(~np.isfinite(weight), "weights", "must be finite, but the target's probability of the logged "
                 "action / the propensity overflows the float range", pscore,
                 hint="the value shown is the row's propensity; check the propensity column (a probability this "
                      "small is most likely an error in the logging pipeline)")

    needs_q = any(e.requires_reward_model for e in ests) if ests is not None else reward_model is not None
    q_hat = q_logged = q_policy = None
    if not needs_q:  # unused, yet checked as when it is used (_resolve_q checks it otherwise): no model at all, or
        # an array of predictions that is misshapen or not finite, is refused whatever the estimators
        _check_reward_model_kind(log, reward_model)
        if reward_model is not None and not hasattr(reward_model, "fit"):
            _given_predictions(log, reward_model)
    else:
        if reward_model is None:
            reward_model = default_reward_model(log)
        q_hat = _as3d(_resolve_q(log, reward_model, dist, n_folds, random_state))
        q_slot = q_hat[:, :, 0] if q_hat.shape[2] == 1 else q_hat[rows, :, position]
        q_logged = q_slot[rows, action]
        # sum_a pi_e(a | x, pos) q(x, a, pos) at each row's logged slot; einsum keeps it one pass.
        q_policy = np.einsum("ij,ij->i", pe_slot, q_slot)
    behavior = None if log.behavior_dist is None else _as3d(np.asarray(log.behavior_dist))
    out = OPEInputs(reward=np.asarray(log.reward, dtype=np.float64), pscore=pscore, weight=weight, action=action,
                    position=position, action_dist=dist3, q_logged=q_logged, q_policy=q_policy, q_hat=q_hat,
                    behavior_dist=behavior, action_context=log.action_context)
    out._mark_checked()  # built from a validated log and target: estimate_from_inputs does not check it again
    return out


# ----------------------------------------------------------------------------------------------
# Diagnostics
# ----------------------------------------------------------------------------------------------
def weight_diagnostics(weights: np.ndarray | None) -> dict:
    """Effective sample size (sum w)^2 / sum w^2, and the mean and max weight (NaN without weights).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.ope import weight_diagnostics
    >>> d = weight_diagnostics(np.array([0.5, 1.0, 1.5, 1.0]))
    >>> {k: round(v, 3) for k, v in d.items()}
    {'ess': 3.556, 'mean_weight': 1.0, 'max_weight': 1.5}
    >>> weight_diagnostics(np.ones(4))["ess"]  # equal weights: every row counts fully
    4.0
    """
    if weights is None:
        return {"ess": np.nan, "mean_weight": np.nan, "max_weight": np.nan}
    # importance weights are finite and >= 0: a NaN weight gave an ess of 0, a negative one a wrong ess
    w = check_finite(as_array(weights, "weights"), "weights").ravel()
    raise_if_any(w < 0, "weights", "must be >= 0 (importance weights)", w)
    if w.size == 0:  # no rows: nothing to diagnose (max of nothing was a bare ValueError)
        return {"ess": 0.0, "mean_weight": np.nan, "max_weight": np.nan}
    s1, s2, scale = weight_sums(w)
    # the mean from the scaled sum: w.mean() overflowed to inf (with numpy's warning) for weights near 1e307
    return {"ess": float(s1 * s1 / s2) if s2 > 0 else 0.0, "mean_weight": float(s1 / w.size * scale),
            "max_weight": float(w.max())}


def weight_sums(w: np.ndarray) -> tuple[float, float, float]:
    """(sum w / scale, sum (w / scale)^2, scale) of non-negative weights: scale 1 unless the sum of squares
    leaves the float range (weights above ~1e154, or tiny ones) or the square of the sum would (a sum
    above 1e150), then a power of two near the largest weight (exact division). The effective sample size
    (sum w)^2 / sum w^2 does not depend on the scale; it was NaN, and the diagnostics an OverflowError, for
    propensities below ~1e-154, and inf (no "effective sample size" alarm) for a few weights near 1e153."""
    with np.errstate(over="ignore"):  # an overflow is detected below, and the sums scaled
        s1, s2 = float(w.sum()), float(np.dot(w, w))
    big = float(w.max()) if w.size else 0.0
    e = weight_scale_exponent(s1, s2, big)
    if e is None:
        return s1, s2, 1.0
    scale = math.ldexp(1.0, e)
    ws = w / scale
    return float(ws.sum()), float(np.dot(ws, ws)), scale


def weight_scale_exponent(s1: float, s2: float, big: float):
    """The e of :func:`weight_sums`' scale 2**e from the plain sums (sum w, sum w^2) and the largest weight,
    or None when the plain sums serve (they are in range, or no weight is positive and finite); shared by
    the streamed evaluation, which keeps those sums per chunk. Capped at 1023: 2**1024 (weights from
    2**1023 up, propensities ~1e-308) is no float, and raised an OverflowError."""
    if (np.isfinite(s2) and s2 > 1e-280 and s1 < 1e150) or not 0 < big < np.inf:  # (all weights 0: big is 0)
        return None
    return min(math.frexp(big)[1], 1023)


# Below this effective number of informative terms the diagnostics warn (see informative_terms). The
# terms' sum then behaves like a Poisson count of mean ~10 or less: its skewness 1 / sqrt(k) is ~0.3 or
# more, and k >= 10 is the usual rule of thumb (np >= 10) for a normal approximation to a count. Measured
# on 400 replicates of a deterministic target meeting 100 of 5,000 logged rows (ips, B = 200): 95%
# percentile / normal intervals covered 0.86 / 0.86 with 2 expected clicks, 0.92 / 0.87 with 5, 0.93 / 0.91
# with 10 and 0.94 / 0.94 with 20 (tests/test_ope_few_terms.py repeats the first and an ordinary regime).
FEW_TERMS = 10.0
# undersampled_mass: the target's mass on actions the logger is expected to draw fewer than RARE_DRAWS times in
# all; the diagnostics warn above RARE_MASS of it (see undersampled_mass for the measurements)
RARE_DRAWS = 10.0
RARE_MASS = 0.2


def _terms_ratio(t: np.ndarray) -> float:
    """(sum t)^2 / sum t^2 of non-negative terms, on terms divided by their maximum: neither the square of
    the sum nor the squares of tiny terms leave the float range. 0 when every term is 0."""
    top = float(t.max()) if t.size else 0.0
    if not top > 0:
        return 0.0
    t = t / top
    return float(t.sum() ** 2 / np.dot(t, t))


def informative_terms(weights, reward) -> float:
    """Effective number of informative terms of an importance-weighted estimate (``ess_terms``).

    min over c in {lowest, highest reward of the rows with w > 0} of (sum |t_i|)^2 / sum t_i^2, with
    t_i = w_i (r_i - c). By Cauchy-Schwarz it is at most the number of non-zero terms, and equal to it
    when the non-zero terms are equal: with 0/1 rewards and equal weights it is the number of weighted
    rows in the rarer reward class (5 clicks among 116 matched rows: 5), and 0 when every weighted row
    has the same reward (no click at all). A small value means the estimate's sampling distribution is
    that of a sum of a handful of terms, far from normal, which bootstrap and normal intervals miss.

    Why this centring c: the question "on how many rows does the reward information rest" must not
    depend on the units of the reward. IPS's own terms w r are not shift-invariant (rewards recoded
    from 0/1 to 5/6 make all 116 terms non-zero, yet the 5 rows that differ are still the only ones
    that say anything about the reward; SNIPS and the DR family are shift-equivariant and rest on
    them alone). With c the lowest or highest weighted reward, the value is invariant to adding a
    constant to every reward, to a positive rescaling, and to a sign flip (a reward read as a cost
    swaps the two centrings). Centring at an extreme also makes every t_i of one sign, so
    sum |t_i| = |sum w_i r_i - c sum w_i| is a plain sum, and the streamed evaluation gets the same
    value from sums each chunk keeps relative to its own extreme reward, merged without cancellation
    (``workbench.scale.ope._InformativeSums``; raw power sums of w r, w^2 r and w^2 r^2, expanded around c,
    lost every digit when the rewards' offset dwarfed their spread). The minimum of the two covers rare
    successes (clicks: most weighted rewards at the floor) and rare failures (most at the ceiling) alike. (Centring at
    the weighted mean, SNIPS' influence terms, gives 4 k (1 - k / m) for k successes of m rows, not a
    count, and its sum |t| cannot be streamed; a median cannot be streamed either.)

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.ope.evaluate import informative_terms
    >>> w, r = np.full(116, 2.0), np.r_[np.ones(5), np.zeros(111)]
    >>> informative_terms(w, r), informative_terms(w, 5 + r), informative_terms(w, 1 - r)  # 5 clicks
    (5.0, 5.0, 5.0)
    >>> informative_terms(w, np.zeros(116))  # no click: every term is 0
    0.0
    """
    # finite, non-negative weights (a NaN weight would silently count as 0 rows)
    w = check_finite(as_array(weights, "weights"), "weights").ravel()
    raise_if_any(w < 0, "weights", "must be >= 0 (importance weights)", w)
    r = check_finite(as_array(reward, "reward"), "reward").ravel()
    check_length(r, w.size, "reward", ref="weight")
    on = w > 0
    if not on.any():
        return 0.0
    wv, rv = w[on], r[on]
    lo, hi = float(rv.min()), float(rv.max())
    if lo == hi:  # one reward value: every centred term is 0
        return 0.0
    span = hi - lo
    if not np.isfinite(span):  # rewards near +-1e308: the halves' span is finite (the ratio is unchanged)
        rv, lo, hi = rv * 0.5, lo * 0.5, hi * 0.5
        span = hi - lo
    wv = wv / wv.max()  # scale-free; in [0, 1]
    # both centrings, each in [0, 1] per row; exact 0 on the rows at that extreme
    return min(_terms_ratio(wv * ((rv - lo) / span)), _terms_ratio(wv * ((hi - rv) / span)))


def few_terms_message(ess_terms: float) -> str:
    """The diagnostics' clause for few informative rows (shared with the streamed evaluation)."""
    return (f"the importance-weighted estimate rests on few informative rows: ess_terms = {ess_terms:.3g}, "
            f"below {FEW_TERMS:g} (the effective number of non-zero terms w (r - c), c the lowest or highest "
            "reward among the rows the target weighs: with 0/1 rewards about the number of weighted clicks, "
            "fewer when a few weights dominate); a sum of so few terms is far from normal, so bootstrap and "
            "normal intervals cover the true value less often than they claim, however large the weights' "
            "effective sample size: collect more data, use a DR estimator (dr, sndr) whose reward model borrows "
            "strength from the other rows, or interval='bernstein' for a finite-sample bound (with a clipped IPS "
            "and reward_range=(low, high))")


def undersampled_mass(inputs, draws: float = None) -> float:
    """Share of the target policy's probability mass on actions so heavily weighted that the logging policy
    is expected to draw all of them together fewer than ``draws`` times (default :data:`RARE_DRAWS`) in a
    log of this many rows (NaN without ``behavior_dist``).

    An a-priori diagnostic: with the logging policy known, the target's mass on each (row, action) and the
    logger's chance of drawing it are known, whatever the sample happened to draw. Walking the actions from
    the largest weight pi_e / pi_b down, the mass passed while the expected number of draws so far stays
    below ``draws`` is the share of the estimand that rests on a handful of rare draws. A given sample may
    hold too few of them: its own weights then look tame (its ess and ess_terms pass) and the bootstrap,
    seeing no heavy draw, misses low. Mass, not the weights' second moment: a softmax logger's tail cells
    (weights of 1e5, almost no target mass) dominate E[w^2] yet cannot move the estimate, and a
    second-moment version warned on 41% of such logs, which covered 0.98.

    Measured (simulate_bandit, 5 actions; 50-120 logs per row; ips' 95% percentile interval):

    ============================================  =======  ==============  ========
    logger, target, rows                          share    coverage        warned
    ============================================  =======  ==============  ========
    epsilon-greedy 0.1, 0.95-greedy, 300 / 500    0.32     0.59 / 0.78     yes
    epsilon-greedy 0.1, 0.95-greedy, 1,000        0.32     0.88            yes
    epsilon-greedy 0.1, 0.95-greedy, 1,500        0.00     0.86 (50 logs)  no
    softmax, 0.95-greedy, 200 / 500               0.14 / 0.01   0.93 / 0.98  no
    softmax, uniform, 2,000                       0.05     0.93            no
    ============================================  =======  ==============  ========

    The weights are binned by powers of two (np.frexp: one pass, no sort of n x K entries)."""
    draws = RARE_DRAWS if draws is None else draws
    if inputs.behavior_dist is None:
        return float("nan")
    pe = inputs.at_logged_slot(inputs.action_dist)
    pb = inputs.at_logged_slot(inputs.behavior_dist)
    n = pe.shape[0]
    # A diagnostic: on logs of over 2**15 rows every k-th row stands for k (deterministic), so a 100,000 x 80
    # target costs ~0.05 s, not the 1.3 s of every cell; the expected draws are scaled back to the log's size.
    step = max(1, -(-n // 2**15))
    if step > 1:
        pe, pb = pe[::step], pb[::step]
    exps, mass, drawn = weight_level_sums(pe, pb)
    return undersampled_share(exps, mass, drawn * (n / pe.shape[0]), draws)


def weight_level_sums(pe, pb):
    """(exponents e, target mass, logger mass) per power-of-two bin of the weights pe / pb, w in [2^(e-1), 2^e),
    over the target's support (pe > 0, finite w): :func:`undersampled_mass`'s sums, which add over rows (the
    streamed evaluation merges them chunk by chunk, ``workbench.scale.ope``)."""
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        w = pe / pb
    on = (pe > 0) & np.isfinite(w)  # the target's support; pb = 0 (or subnormal: w = inf) is zero support's business
    level = np.frexp(w[on])[1]
    if level.size == 0:
        return level, np.zeros(0), np.zeros(0)
    # frexp's exponents are small integers (|e| <= 1075): bincount over their range, not a sort of n x K cells
    # (np.unique's sort took ~27% of a streamed evaluation with behavior= columns)
    low = int(level.min())
    at = level - low
    mass, drawn = np.bincount(at, weights=pe[on]), np.bincount(at, weights=pb[on])
    used = np.flatnonzero(np.bincount(at))  # bins holding a cell: a bin of mass 0 is still the logger's draws
    return used + low, mass[used], drawn[used]


def undersampled_share(exps, mass, drawn, draws: float = None) -> float:
    """:func:`undersampled_mass` from its bins (:func:`weight_level_sums`, ``drawn`` scaled to the log's rows):
    walking from the heaviest bin, the share of the mass passed while the expected draws stay below ``draws``."""
    draws = RARE_DRAWS if draws is None else draws
    if np.size(exps) == 0:
        return float("nan")
    order = np.argsort(exps)[::-1]  # heaviest first
    mass, drawn = np.asarray(mass)[order], np.cumsum(np.asarray(drawn)[order])
    return float(mass[drawn < draws].sum() / mass.sum())


def rare_draws_message(share: float) -> str:
    return (f"{100 * share:.3g}% of the target policy's probability mass sits on actions so heavily weighted that the "
            f"logging policy is expected to draw them fewer than {RARE_DRAWS:g} times in all in this log (from its "
            "behavior_dist): that part of the estimate rests on a handful of rare draws that this sample may hold "
            "too few of, and its own weights (ess, ess_terms) and the bootstrap cannot see what it lacks, so "
            "intervals can be far too narrow (typically missing low): collect more data, use a target closer to the "
            "logging policy, a DR estimator (dr, sndr), or interval='bernstein' for a finite-sample bound")


def estimator_terms(estimator, inputs, label=None) -> np.ndarray:
    """The estimator's (n, k) per-row terms, refusing an overflow. With finite inputs a non-finite term is a
    product (weight x reward, near 1e308) that overflowed: the estimate was inf with NaN intervals and only
    numpy's RuntimeWarnings (the sums are guarded against overflow, the per-row products cannot be)."""
    with np.errstate(over="ignore", invalid="ignore"):  # refused just below, with its row
        t = np.asarray(estimator.terms(inputs), dtype=np.float64)
    t = t[:, None] if t.ndim == 1 else t
    bad = ~np.isfinite(t).all(axis=1)
    if bad.any():
        _refuse_non_finite_terms(bad, inputs, label or estimator.label)
    return t


# The per-row fields an estimator's terms are products or sums of (validated OPEInputs hold finite ones)
_TERM_FIELDS = ("reward", "weight", "pscore", "q_logged", "q_policy")


def _refuse_non_finite_terms(bad: np.ndarray, inputs, label) -> None:
    """Why some rows' terms are NaN or inf, naming the real field: a non-finite input (inputs of another kind,
    or changed after they were checked) by its own name and value; else, when the finite inputs of the first
    such row are large enough for their products or differences to leave the float range, the overflow (its
    remedy: rescale the rewards); else the estimator itself (a NaN computed from finite inputs). Every such
    term was reported as "reward times the importance weights overflows float64", with the reward's value,
    for a NaN reward, a NaN weight or NaN reward-model predictions alike."""
    n = bad.shape[0]
    per_row = []
    for field in _TERM_FIELDS:
        v = getattr(inputs, field, None)
        if v is None:
            continue
        v = np.asarray(v)
        if v.ndim != 1 or v.shape[0] != n or v.dtype.kind not in "biuf":
            continue
        v = v.astype(np.float64, copy=False)
        raise_if_any(~np.isfinite(v) & bad, field, "must be finite (no NaN or inf)", v)
        per_row.append((field, v))
    first = int(np.argmax(bad))
    mags = {field: abs(float(v[first])) for field, v in per_row}
    w = mags.get("weight", 1.0)
    big = max([mags.get(f, 0.0) for f in ("reward", "q_logged", "q_policy")] + [0.0])
    if "reward" in mags and (w * big > 1e300 or big > 1e300):
        reward = np.asarray(inputs.reward, dtype=np.float64)
        raise_if_any(bad, "reward", f"times the importance weights overflows float64 in the terms of {label!r} "
                     "(|weight x reward| beyond 1.8e308)", reward,
                     hint="rescale the rewards (e.g. divide by 1e300) and scale the estimate back")
    raise_if_any(bad, "estimators", f"{label!r} gives terms that are not finite (NaN or inf) although the inputs it "
                 "reads at these rows are finite and far from the float range", None)


def zero_support_share(inputs: OPEInputs) -> float:
    """Share of rows where the target puts mass on actions the logger gives probability 0 (NaN if unknown)."""
    if inputs.behavior_dist is None:
        return float("nan")
    pe = inputs.at_logged_slot(inputs.action_dist)
    pb = inputs.at_logged_slot(inputs.behavior_dist)
    return float(np.mean(((pe > 0) & (pb <= 0)).any(axis=1)))


def no_weight_message(cause: str, consequences: str, remedy: str) -> str:
    """The diagnostics warning's text when every importance weight is 0 (no logged row gets weight);
    shared by the discrete (:func:`diagnostics_message`) and the continuous-action evaluation."""
    return (f"off-policy diagnostics: {cause}, so every importance weight is 0: the target has no support on the "
            f"logged actions and importance-weighting estimators cannot estimate its value from this log "
            f"({consequences}). {remedy}")


def weight_alarms(n: int, sum_w: float, sum_w2: float, scale: float = 1.0) -> tuple[float, float, float, bool]:
    """(mean weight, effective sample size, z of the mean weight's distance from 1 when it is an alarm
    (> 4 standard errors and > 0.02) else 0, whether the effective sample size is below max(30, 1% of
    rows)), from the weights' sums. The one set of thresholds of the discrete, streamed and
    continuous-action diagnostics. ``scale``: the sums are of w / scale (see :func:`weight_sums`)."""
    mean_s = sum_w / n  # the mean of w / scale
    mean_w = mean_s * scale
    # (sum_w / sqrt(sum_w2))^2 when sum_w^2 would overflow (unscaled sums of a streamed log)
    ess = 0.0 if not sum_w2 > 0 else sum_w * sum_w / sum_w2 if sum_w < 1e150 else (sum_w / math.sqrt(sum_w2)) ** 2
    var = max(sum_w2 / n - mean_s * mean_s, 0.0) * n / (n - 1) if n > 1 else 0.0
    sd = math.sqrt(var) * scale
    if n < 2:
        z = 0.0  # one weight says nothing about its mean (its spread is unknown): no propensity alarm
    else:  # equal weights away from 1 on many rows are an alarm: the propensities are off for every row
        z = abs(mean_w - 1.0) / (sd / math.sqrt(n)) if sd > 0 else (np.inf if abs(mean_w - 1.0) > 1e-9 else 0.0)
    return mean_w, ess, (z if z > 4 and abs(mean_w - 1.0) > 0.02 else 0.0), bool(ess < max(30.0, 0.01 * n))


def diagnostics_message(n: int, sum_w: float, sum_w2: float, max_w: float, zero_share: float,
                        scale: float = 1.0, ess_terms: float | None = None,
                        rare_mass: float | None = None) -> str | None:
    """The diagnostics warning's text from the weights' sums (None: nothing to report). Shared by the
    in-memory and the streamed evaluation (:mod:`workbench.scale`), which only has merged sums.
    ``ess_terms`` (:func:`informative_terms`; None when no estimator of the call weighs rows, e.g. DM
    alone): below :data:`FEW_TERMS` it adds the few-informative-rows clause. ``rare_mass``
    (:func:`undersampled_mass`, in memory with a behavior_dist): above :data:`RARE_MASS` it adds the
    rare-draws clause."""
    if n and sum_w2 <= 0:
        # Not a propensity problem and not fixed by self-normalising (snips / sndr divide by a mean
        # weight of 0): the log holds no row the target could have produced, so the checks below
        # would blame the wrong thing.
        return no_weight_message(
            "the target policy gives probability 0 to the logged action (and slot) on every row",
            "ips reports 0 with a zero-width interval, snips / sndr NaN, dr / switch-dr / dr-os only the reward "
            "model's extrapolation",
            "Evaluate a target that overlaps the logging policy, or log data with a policy that explores the target's "
            "actions.")
    mean_w, ess, mean_off, thin = weight_alarms(n, sum_w, sum_w2, scale)
    msgs = []
    if np.isfinite(zero_share) and zero_share > 0:
        # the count with the share: "{:.2g}%" printed every row as "1e+02%"
        msgs.append(f"on {round(zero_share * n):,} of {n:,} rows ({100 * zero_share:.3g}%) the target policy puts "
                    "probability on actions the logging policy never takes: IPS/DR cannot see those actions and are "
                    "biased there (the mean weight falls below 1 by the target's mass on them); restrict the target to "
                    "the logger's support, or use DM / MIPS knowing that they only extrapolate there, with an error "
                    "their intervals do not measure")
    # a mean weight below 1 is what missing support does (said above), not a sign of wrong propensities
    unsupported = np.isfinite(zero_share) and zero_share > 0 and mean_w < 1.0
    if mean_off and not unsupported:
        msgs.append(f"the mean importance weight is {mean_w:.4g}, {mean_off:.3g} standard errors from 1 (its expectation "
                    "when propensities are right and supports match): check that the propensity column is the "
                    "logging policy's probability of the logged action (and slot); self-normalised estimators (snips, "
                    "sndr) are less sensitive to this")
    if thin:
        msgs.append(f"the effective sample size of the weights is {ess:.3g} of {n} rows (max weight {max_w:.4g}): the "
                    "estimate rests on a handful of rows; prefer dr/sndr, clipped or switch estimators chosen with "
                    "slope_select, or a target closer to the logging policy")
    # (not reached when no row has weight: the "no support" message above says more than "0 rows")
    if ess_terms is not None and ess_terms < FEW_TERMS:  # NaN (undetermined) compares False
        msgs.append(few_terms_message(ess_terms))
    if rare_mass is not None and rare_mass > RARE_MASS:  # NaN (no behavior_dist) compares False
        msgs.append(rare_draws_message(rare_mass))
    return "off-policy diagnostics: " + "; ".join(msgs) + "." if msgs else None


def single_unit_message(clustered: bool) -> str:
    """Why a one-row (or one-unit) log gets NaN intervals; shared with the streamed evaluation."""
    what = "unit (every row has the same unit_id)" if clustered else "row"
    return (f"the log has a single {what}: the bootstrap cannot measure sampling variability, so ci_low, "
            "ci_high and se are NaN")


def diagnostics_text(inputs: OPEInputs, weighted: bool = True) -> str | None:
    """The diagnostics warning's text for these inputs (None: nothing to report). ``weighted``: some
    estimator of the call weighs rows (the few-informative-rows check is of the logged weights, as the
    others are; not for DM alone, which has no weighted terms). Shared by every in-memory entry point that
    weighs a log (evaluate_policy, compare_policies, slope_select, off_policy_cdf)."""
    w = np.asarray(inputs.weight, dtype=np.float64)
    s1, s2, scale = weight_sums(w)
    few = informative_terms(w, inputs.reward) if weighted else None
    rare = undersampled_mass(inputs) if weighted else None
    return diagnostics_message(inputs.n, s1, s2, float(w.max()) if w.size else 0.0, zero_support_share(inputs),
                               scale, ess_terms=few, rare_mass=rare)


def _warn_diagnostics(inputs: OPEInputs, stacklevel: int = 3, weighted: bool = True) -> None:
    """One warning per call that says what is wrong and what to do (:func:`diagnostics_text`)."""
    msg = diagnostics_text(inputs, weighted)
    if msg:
        warnings.warn(msg, OPEDiagnosticWarning, stacklevel=stacklevel)


def zero_width_message(rows) -> str | None:
    """The warning for bootstrap intervals of zero width, from (label, value, ci_low, ci_high, n, interval)
    rows (None: nothing to report). Shared by the in-memory and the streamed evaluation.

    Every resample gave the same value: typically no row the target weighs has a nonzero reward (a
    greedy policy on 116 matched Open Bandit rows without a click: ips 0 [0, 0]), or the reward is
    constant where the weights are. The bootstrap then cannot see the uncertainty, and a zero-width
    interval reads as certainty. (Bernstein bounds are finite-sample bounds, never of zero width here.)
    """
    bad = [str(label) for label, value, lo, hi, n, interval in rows
           if interval != "bernstein" and n > 1 and np.isfinite(value) and lo == hi == value]
    if not bad:
        return None
    return (f"off-policy diagnostics: the bootstrap interval of {', '.join(bad)} has zero width (every resample gives "
            "the same value, e.g. no row the target policy weighs has a nonzero reward), which is not certainty: the "
            "resamples cannot show the uncertainty of so few informative rows. For a finite-sample bound use "
            "interval='bernstein' with a clipped IPS (InverseProbabilityWeighting(clip=...)) and reward_range=(low, "
            "high), or collect more data.")


# ----------------------------------------------------------------------------------------------
# Intervals
# ----------------------------------------------------------------------------------------------
def bernstein_unavailable(label, where: str, off_support: float = float("nan")) -> ValidationError:
    """``off_support``: the share of rows where the target puts mass on actions the logger never takes (NaN:
    unknown, no behaviour distribution). When it is > 0 that is the cause for plain 'ips', not a missing
    ``where``: a weight bound max pi_e / pi_b is infinite there, whatever is given."""
    if off_support > 0:
        return ValidationError("interval", f"'bernstein' is not available for {label!r}: on {100 * off_support:.3g}% "
                                           "of rows the target policy puts probability on actions the logging "
                                           "policy never takes, so the importance weights have no finite bound",
                               hint="restrict the target to the logger's support, or use a clipped IPS, e.g. "
                                    "estimators=[InverseProbabilityWeighting(clip=20)], whose terms are bounded")
    return ValidationError("interval", f"'bernstein' is not available for {label!r}: the bound needs an estimate "
                                       "that is the mean of one term with known bounds",
                           hint=f"use a clipped IPS, e.g. estimators=[InverseProbabilityWeighting(clip=20)], or "
                                f"'sg-ips' or 'mips'; plain 'ips' qualifies when {where} is given (its weights are "
                                "then bounded)")


def interval_from_replicates(interval, theta, reps, se, alpha, bca, bernstein):
    """The (low, high) interval of one estimator; ``bca`` and ``bernstein`` are called only when chosen,
    because their ingredients differ in memory (per-row terms) and when streamed (merged moments)."""
    if interval != "bernstein" and constant_up_to_rounding(float(theta), np.ravel(reps)):
        # every replicate equals the estimate up to rounding (constant terms: the point mean and the replicates'
        # sums round differently, by a few ulps): the interval is the point, so that it contains the estimate
        # and the zero-width warning sees it ([0.10000000000000021, 0.10000000000000045] around 0.1000...02)
        return float(theta), float(theta)
    if interval == "percentile":
        return percentile_interval(reps, alpha)
    if interval == "normal":
        return normal_interval(theta, se, alpha)
    return bca() if interval == "bca" else bernstein()


def bernstein_interval(terms: np.ndarray, low: float, high: float, alpha: float):
    """Two-sided empirical-Bernstein interval for the mean of i.i.d. terms known to lie in [low, high].

    Maurer & Pontil (2009, Thm 4) applied to each side at level alpha / 2: with probability at
    least 1 - alpha, |mean - E| <= sqrt(2 V ln(4/alpha) / n) + 7 (high - low) ln(4/alpha) / (3 (n - 1)),
    V the unbiased sample variance. Valid for every n (finite-sample), not only asymptotically;
    intersected with [low, high], which contains the mean by assumption.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.ope import bernstein_interval
    >>> terms = np.random.default_rng(0).uniform(0.0, 1.0, 500)
    >>> lo, hi = bernstein_interval(terms, 0.0, 1.0, alpha=0.05)
    >>> round(lo, 3), round(hi, 3)
    (0.472, 0.589)
    >>> bool(lo <= terms.mean() <= hi)
    True
    >>> bernstein_interval([0.3], 0.0, 1.0, alpha=0.05)  # one term: only the a-priori bounds
    (0.0, 1.0)
    """
    alpha = check_alpha(alpha)  # alpha = 0 divided by zero
    # The bound holds only for finite terms inside [low, high]: terms outside them (or NaN) gave a
    # confident interval that excluded their own mean, and low > high an inverted one.
    low, high = check_real(low, "low"), check_real(high, "high")
    if low > high:
        raise ValidationError("low", f"must be <= high, got low={low!r}, high={high!r}")
    t = check_finite(as_array(terms, "terms"), "terms").ravel()
    # (a relative slack of 1e-12: a term computed as bound * reward may round one ulp past the bound; it was
    # 1e-12 in absolute terms below bounds of 1, so with bounds of 1e-300 any term of 1e-13 passed)
    slack = 1e-12 * max(abs(low), abs(high))
    raise_if_any((t < low - slack) | (t > high + slack), "terms", f"must lie in [low, high] = [{low:g}, {high:g}]", t)
    n = t.size
    if n < 2:
        return low, high
    # Terms and bounds in units of a power of two near the bounds (exact: ordinary bounds give the same
    # interval): the variance underflowed to 0 for terms near 1e-200, which narrowed the "finite-sample"
    # interval below its guarantee, silently, and overflowed to inf near 1e160 (a vacuous interval).
    big = max(abs(low), abs(high))
    e = math.frexp(big)[1] if big > 0 else 0
    ts, lo_s, hi_s = np.ldexp(t, -e), math.ldexp(low, -e), math.ldexp(high, -e)
    m = float(ts.mean())
    var = float(ts.var(ddof=1))
    log_term = math.log(4.0 / alpha)
    half = math.sqrt(2.0 * var * log_term / n) + 7.0 * (hi_s - lo_s) * log_term / (3.0 * (n - 1))
    return max(low, math.ldexp(m - half, e)), min(high, math.ldexp(m + half, e))


def check_reward_range(reward_range) -> tuple[float, float]:
    """A priori reward bounds as finite floats (low, high) with low < high (the in-memory and the
    streamed evaluation read them through this)."""
    try:
        lo, hi = reward_range
    except (TypeError, ValueError):
        raise ValidationError("reward_range", f"must be a pair of numbers (low, high), got {reward_range!r}") from None
    # check_real, not float(): float("0") and float(True) would accept a string or a boolean bound; and
    # finite, since an infinite bound makes the Bernstein half-width infinite (a vacuous "interval")
    lo, hi = check_real(lo, "reward_range"), check_real(hi, "reward_range")
    if not lo < hi:
        raise ValidationError("reward_range", f"must be (low, high) with low < high, got {reward_range!r}")
    return lo, hi


def _reward_range(inputs: OPEInputs, reward_range):
    r = inputs.reward
    if reward_range is None:
        if np.isin(r, (0.0, 1.0)).all():
            return (0.0, 1.0)
        raise ValidationError("reward_range", "is needed for interval='bernstein' when rewards are not all 0/1",
                              hint="pass the a-priori (low, high) bounds of the reward, e.g. reward_range=(0, 5)")

    lo, hi = check_reward_range(reward_range)
    bad = (r < lo) | (r > hi)
    if bad.any():
        from .._validation import raise_if_any

        raise_if_any(bad, "reward", f"must lie in reward_range [{lo}, {hi}] for the Bernstein bound", r)
    return lo, hi


# The schemes an OPE interval can use: "indices" (the engine's third scheme, user-given resamples for parity
# with other libraries) needs (B, n) index arrays that no OPE entry point takes, so offering it only led to an
# error about a parameter the caller cannot pass.
OPE_RESAMPLING = ("poisson", "multinomial")


def check_resampling(resampling) -> str:
    """``resampling`` of an OPE entry point: one of :data:`OPE_RESAMPLING`."""
    return check_choice(resampling, "resampling", OPE_RESAMPLING)


def estimate_from_inputs(estimators: Sequence[OffPolicyEstimator], inputs, alpha: float = 0.05,
                         n_bootstrap: int = 1000, interval: str = "percentile", random_state=0,
                         resampling: str = "poisson", ids=None, reward_range=None, labels=None,
                         warn: bool = True, single_unit_warning: bool = True) -> list[Estimate]:
    """Estimates with intervals for several estimators on one shared set of resamples.

    The generic core behind :func:`evaluate_policy`; works for any estimator whose ``terms`` and
    ``combine`` understand ``inputs`` (so estimators for other kinds of logs reuse it).
    ``alpha``, ``n_bootstrap``, ``interval``, ``resampling`` and ``reward_range`` are those of
    :func:`evaluate_policy`; ``random_state`` seeds the resampling only (the reward model's folds
    were drawn by :func:`prepare_inputs`). ``ids`` are the rows' unit ids: ``evaluate_policy``
    passes ``log.unit_id`` (:func:`unit_ids`), so on a clustered log pass ``ids=unit_ids(log)`` for
    the same (cluster) bootstrap; None resamples rows. ``warn`` issues the weight diagnostics;
    ``single_unit_warning`` the warning that one row or one unit leaves the bootstrap intervals NaN
    (the callers with their own ``warn`` pass it here, so ``warn=False`` there silences both).
    An :class:`OPEInputs` built by hand (not by :func:`prepare_inputs`) is validated first
    (:meth:`OPEInputs.check`): a ValidationError names the offending field and its first row.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import UniformPolicy, estimate_from_inputs, prepare_inputs
    >>> log, truth = simulate_bandit(2000, n_actions=3, random_state=1)
    >>> inputs = prepare_inputs(log, UniformPolicy(), estimators=["ips", "dr"])
    >>> res = estimate_from_inputs(["ips", "dr"], inputs, n_bootstrap=200)
    >>> [(e.name, round(e.value, 3)) for e in res]
    [('ips', 0.223), ('dr', 0.224)]
    >>> all(e.ci_low < e.value < e.ci_high for e in res)
    True
    >>> round(truth.policy_value(UniformPolicy()), 3)
    0.224
    """
    alpha = check_alpha(alpha)
    check_choice(interval, "interval", INTERVALS)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=2)
    warn = check_bool(warn, "warn")
    check_resampling(resampling)
    single_unit_warning = check_bool(single_unit_warning, "single_unit_warning")
    if reward_range is not None:
        # checked whatever the interval, as the streamed evaluation does (a malformed pair was
        # silently ignored here unless interval="bernstein", and refused there)
        check_reward_range(reward_range)
    ests = [make_estimator(e) for e in estimator_specs(estimators)]
    if isinstance(inputs, OPEInputs):
        # a hand-built OPEInputs (its fields set by the caller) is validated here, naming the field; those of
        # prepare_inputs were built from a validated log and are used as they are
        inputs = inputs.check()
    # row -> unit numbers, once for all estimators (BCa's per-unit influence, bernstein's check)
    units, n_units = unit_index(ids) if ids is not None and interval in ("bca", "bernstein") else (None, None)
    if units is not None and interval == "bernstein" and n_units < units.size:
        # The bound is for a mean of independent terms; rows of one unit are not independent.
        # (One row per unit, e.g. event ids, is the i.i.d. case: allowed.)
        raise ValidationError("interval", "'bernstein' assumes independent rows, but the log's unit_id "
                                          "puts several rows in one unit (rows of a unit are correlated)",
                              hint="use 'percentile', 'normal' or 'bca', which resample whole units")
    labels = [e.label for e in ests] if labels is None else list(labels)
    if len(labels) != len(ests):  # (was an IndexError after all the work)
        raise ValidationError("labels", f"must hold one label per estimator ({len(ests)}), got {len(labels)}")
    blocks = []
    for j, e in enumerate(ests):
        blocks.append(estimator_terms(e, inputs, labels[j]))
    widths = [b.shape[1] for b in blocks]
    offsets = np.concatenate([[0], np.cumsum(widths)])
    all_terms = np.hstack(blocks) if len(blocks) > 1 else blocks[0]
    rs = Resampling.make(n_bootstrap, scheme=resampling, random_state=random_state)
    # the multinomial cluster bootstrap reuses the row -> unit numbers instead of sorting the ids again
    acc = ReplicateAccumulator(all_terms.shape[1], rs).add(all_terms, ids,
                                                          units=None if units is None else (units, n_units))
    means, rep_means = acc.means, acc.replicate_means
    # One row, or one unit: every resample holds the same data, so bootstrap intervals would have
    # width 0 (a false certainty). They are NaN instead, with a warning that says why.
    one_unit = is_single_unit(all_terms.shape[0], ids)
    # (issued even with warn=False unless single_unit_warning=False: evaluate_policy passes warn=False to
    # issue the weight diagnostics itself, and its own warn decides this one)
    if one_unit and interval != "bernstein" and single_unit_warning:
        warnings.warn(single_unit_message(ids is not None), OPEDiagnosticWarning, stacklevel=3)
    is_inputs = isinstance(inputs, OPEInputs)
    off_support = zero_support_share(inputs) if is_inputs else float("nan")
    rng_range = _reward_range(inputs, reward_range) if interval == "bernstein" else None
    out = []
    diag_cache = {}
    for j, e in enumerate(ests):
        sl = slice(offsets[j], offsets[j + 1])
        theta = float(np.asarray(e.combine(means[None, sl]))[0])
        reps = np.asarray(e.combine(rep_means[:, sl]), dtype=np.float64)
        se = replicate_sd(reps)

        def bernstein(j=j):
            bounds = e.term_bounds(inputs, rng_range) if blocks[j].shape[1] == 1 else None
            if bounds is None:
                raise bernstein_unavailable(labels[j], "the log's behavior_dist", off_support)
            return bernstein_interval(blocks[j][:, 0], bounds[0], bounds[1], alpha)

        if one_unit:
            # no resample differs from the log: the replicates' spread (0) is no standard error
            se = float("nan")
        if interval != "bernstein" and (one_unit or np.isnan(theta)):
            # NaN estimate (snips / sndr when no row has weight: the diagnostics warning says why):
            # every replicate is NaN too, so the interval is NaN, without BCa's influence values
            # being computed on NaN (numpy warnings that would blame the interval method).
            lo = hi = float("nan")
        else:
            lo, hi = interval_from_replicates(
                interval, theta, reps, se, alpha,
                # normalized: the acceleration is scale-free, and U^3 overflowed for terms beyond ~1e100
                bca=lambda: bca_interval(theta, reps, influence_values(blocks[j], means[sl], e.combine, units,
                                                                       normalized=True), alpha),
                bernstein=bernstein)
        w = e.weights(inputs) if hasattr(e, "weights") else None
        # Estimators mostly share the logged weights: compute each distinct weight vector's diagnostics once.
        # (the cache holds the array itself, so an id is never reused by another array meanwhile).
        key = None if w is None else id(w)
        if key not in diag_cache:
            # the effective number of informative terms under this estimator's weights; NaN for DM, and
            # for inputs without one reward per weight (another kind of log, or a custom estimator's
            # weights of another shape, whose terms are not w r)
            rew = getattr(inputs, "reward", None)
            same = w is not None and rew is not None and np.size(w) == np.size(rew)
            diag_cache[key] = (w, weight_diagnostics(w), informative_terms(w, rew) if same else float("nan"))
        _, weight_diag, ess_terms = diag_cache[key]
        # ess_terms last, so the older keys keep their order
        diag = {**weight_diag, "zero_support_share": off_support, "n_bootstrap": rs.n_replicates,
                "resampling": rs.scheme, "ess_terms": ess_terms}
        out.append(Estimate(value=theta, ci_low=float(lo), ci_high=float(hi), se=se, alpha=alpha, method=interval,
                            n=int(acc.n), name=labels[j], diagnostics=diag))
    if warn and is_inputs:
        _warn_diagnostics(inputs, stacklevel=4, weighted=_weighted(out))
    if warn and not (is_inputs and _no_weight(inputs)):
        _warn_zero_width(out, interval, stacklevel=4)
    return out


def _weighted(estimates) -> bool:
    """Some estimate weighs rows (its ``ess`` is a number; DM's is NaN)."""
    return any(not math.isnan(e.diagnostics.get("ess", float("nan"))) for e in estimates)


def _no_weight(inputs: OPEInputs) -> bool:
    """No row has weight: the diagnostics' own "no support" warning says it (a zero-width interval follows)."""
    return bool(np.asarray(inputs.n) > 0 and not np.any(np.asarray(inputs.weight) > 0))


def _warn_zero_width(estimates, interval: str, stacklevel: int) -> None:
    msg = zero_width_message([(e.name, e.value, e.ci_low, e.ci_high, e.n, interval) for e in estimates])
    if msg:
        warnings.warn(msg, OPEDiagnosticWarning, stacklevel=stacklevel + 1)


# ----------------------------------------------------------------------------------------------
# The user-facing call
# ----------------------------------------------------------------------------------------------
def evaluate_policy(log, policy, estimators=("dm", "ips", "snips", "dr"), reward_model=None, alpha: float = 0.05,
                    n_bootstrap: int = 1000, interval: str = "percentile", random_state=0,
                    resampling: str = "poisson", reward_range=None, n_folds: int = 5, warn: bool = True,
                    **tabular) -> pd.DataFrame:
    """Estimate a target policy's value from logged bandit feedback, with intervals and diagnostics.

    Parameters
    ----------
    log : BanditLog
        Logged rounds (action, reward, propensity; optional context, position, behavior_dist,
        action_context, unit_id).
    policy : ndarray or policy object
        The target: an (n, n_actions) action distribution (on a log with positions, the same in
        every slot; (n, n_actions, 1) means the same), or (n, n_actions, n_positions) with one
        distribution per slot (weights are taken at the logged action *and* slot), or an object
        with ``action_dist(log)`` such as :class:`workbench.ope.SoftmaxPolicy`. Each distribution
        must sum to 1 within 1e-6.
    estimators : sequence of str or estimator objects
        Names among "dm", "ips", "snips", "dr", "sndr", "switch-dr", "dr-os", "sg-ips", "mips" (case
        and surrounding blanks ignored), or objects such as ``InverseProbabilityWeighting(clip=20)``.
        One output row each, in order. A single name or object counts as a list of one
        (``"ips"`` is ``["ips"]``); None or an empty sequence raise a ValidationError.
    reward_model : scikit-learn estimator, ndarray or None
        For DM and the DR family. An estimator (regressor, or classifier whose expected reward is
        ``predict_proba @ classes_``) is fitted with ``n_folds``-fold cross-fitting, so no row is
        predicted by a model that saw it (see :func:`workbench.ope.cross_fit_predict`). An array
        holds your own predictions, shaped like the action distribution. None: when needed,
        logistic regression (0/1 rewards) or ridge, cross-fitted. An estimator whose own
        ``random_state`` is None is fitted as a copy seeded from ``random_state`` (same seed, same
        estimate).
    alpha : float
        Miscoverage: 0.05 gives 95% intervals.
    n_bootstrap : int
        Resamples, shared by all estimators (the reward model is *not* refitted per resample).
    interval : {"percentile", "bca", "normal", "bernstein"}
        * "percentile": bootstrap percentile interval; asymptotically (1 - alpha) coverage for
          smooth statistics of means, typically slightly under in small or heavy-tailed samples.
        * "bca": bias-corrected and accelerated bootstrap (acceleration from O(n) influence
          values); second-order accurate for smooth statistics. Measured (simulate_bandit, 5
          actions, softmax logger and target, 300-2000 rows, 600-1000 logs): better than percentile
          for plain ips under heavy weights (0.65 vs 0.58), but it covered *less* than percentile
          for dr (0.81-0.90 vs 0.90-0.94), snips (0.79 vs 0.84) and sndr (0.85 vs 0.89); the
          implementation agrees with scipy.stats.bootstrap's BCa on the same terms. Prefer
          "percentile" (or "normal") for the DR family.
        * "normal": estimate +- z * bootstrap standard error; asymptotic, symmetric.
        * "bernstein": empirical-Bernstein bound (Maurer & Pontil 2009) for IPS-type estimators
          (ips, sg-ips, mips) with bounded rewards and bounded weights: coverage >= 1 - alpha for
          every n (finite-sample, conservative), assuming i.i.d. rows. Needs an a-priori weight
          bound (the log's ``behavior_dist``, a finite clip, or sg-ips' 1/lambda) and
          ``reward_range`` unless rewards are 0/1. Refused when ``unit_id`` puts several rows
          in one unit (they are not independent).
        With ``unit_id`` every bootstrap interval resamples whole units, and "bca" takes its
        acceleration from per-unit influence values. The interval then rests on the number of units,
        not of rows, and with few units it under-covers: nominal 95% "percentile" intervals of ips
        and snips covered 0.75 / 0.89 / 0.92 / 0.91 / 0.94 of the time with 3 / 5 / 10 / 20 / 30
        units (600-row logs with a per-unit reward effect, 300-600 simulated logs each); prefer
        dozens of units, and read an interval from fewer as too narrow.
        Bootstrap intervals cover the sampling noise given the reward model's predictions; none
        of them covers a DM model's bias.
    random_state : int, Generator or None
        Seeds the resampling (the int is the key of the hashed weights) and the cross-fitting folds.
        A Generator gives one key, its next draw, and the call runs as with that int (see
        :func:`~workbench.ope.reward_models.call_seed`): the resamples are the same whichever estimators
        are asked for, and the Generator advances by one draw.
    resampling : {"poisson", "multinomial"}
        "poisson" (default): hashed Poisson(1) weights per row, or per ``log.unit_id`` (a clustered
        bootstrap); identical on chunks or partitions. "multinomial": the classic bootstrap, of
        rows, or of whole units (sorted ``log.unit_id``s drawn with replacement) when the log has them.
    reward_range : (low, high), optional
        A-priori reward bounds for "bernstein" (finite, low < high; checked whatever the interval).
    n_folds : int
        Cross-fitting folds when ``reward_model`` is an estimator (>= 2).
    warn : bool
        Issue one :class:`OPEDiagnosticWarning` when the weights look wrong or fragile, when the
        importance-weighted estimate rests on fewer than 10 informative rows (``ess_terms``), or,
        with the log's ``behavior_dist`` (in memory), when over 20% of the target's probability
        mass sits on actions the logging policy is expected to draw fewer than 10 times in all in a
        log of this size (:func:`~workbench.ope.evaluate.undersampled_mass`: the sample's own
        weights cannot show what it lacks; ips' percentile intervals covered 0.59-0.88 there).
    **tabular
        Logs larger than memory: ``log`` may also be a pandas DataFrame, an iterable of chunks, a
        Parquet path or ``pyarrow.dataset.Dataset``, or a ``dask.dataframe.DataFrame``; then
        ``policy`` is the list of columns holding the target's action probabilities and the
        keywords ``action=``, ``reward=``, ``propensity=`` (column names; defaults "action",
        "reward", "propensity"), ``context=``, ``behavior=``, ``action_context=``, ``unit_id=``,
        ``chunk_size=``, ``n_jobs=``, ``reward_model_sample=`` (any other is a ValidationError)
        are passed to :func:`workbench.scale.evaluate_tabular`, which streams the rows and gives
        the same values and intervals as this function in memory (same seed; up to floating-point
        rounding, whatever the chunk sizes: sums add in another order), except
        that with ``unit_id`` it offers "percentile" and "normal" only (its "bca" and "bernstein"
        read per-row moments), it has no slots (``position``), and DM / the DR family agree only
        when the reward model is given as predictions (a list of columns there, the array here): a
        scikit-learn model (or None) is cross-fitted on a hashed sample of rows there, and a
        *fitted* model is applied as it is, whereas here every model is cross-fitted on all rows.

    Returns
    -------
    DataFrame
        One row per estimator: ``estimator, value, ci_low, ci_high, se, alpha, interval, n`` then the
        diagnostics ``ess`` (effective sample size (sum w)^2 / sum w^2 of the weights the estimator
        uses), ``mean_weight`` (should be near 1), ``max_weight``, ``zero_support_share`` (rows
        where the target uses actions the logger never takes; NaN without ``behavior_dist``),
        ``n_bootstrap``, ``resampling``, ``reward_model``, ``ess_terms`` (the effective number of
        informative rows: non-zero terms w (r - c), c the lowest or highest weighted reward; see
        :func:`workbench.ope.evaluate.informative_terms`; NaN for DM). With a single row, or a single
        ``unit_id``, no resample differs from the log: ``se`` is NaN, and so are ``ci_low`` and
        ``ci_high`` (except for "bernstein", whose finite-sample bound needs no resampling) with an
        :class:`OPEDiagnosticWarning` that says so.

    Examples
    --------
    >>> import workbench as wb
    >>> log, truth = wb.data.simulate_bandit(3000, n_actions=4, random_state=0)
    >>> target = wb.ope.SoftmaxPolicy(lambda X: X @ [[1, 0, -1, 0], [0, 1, 0, -1], [1, 1, 0, 0]])
    >>> out = wb.ope.evaluate_policy(log, target, estimators=["ips", "snips", "dr"], n_bootstrap=200)
    >>> list(out["estimator"])
    ['ips', 'snips', 'dr']
    """
    from ..scale.sources import is_tabular

    specs = estimator_specs(estimators)  # None, [] or 3: a ValidationError naming estimators, not a TypeError
    warn = check_bool(warn, "warn")  # "no" is truthy
    check_resampling(resampling)  # before any reward model is fitted
    if is_tabular(log):  # frames, chunks, Parquet, Dask: one streaming pass (workbench.scale)
        import inspect

        from ..scale import evaluate_tabular

        # an unknown keyword is a ValidationError naming it, as for a BanditLog below (it was a
        # TypeError from evaluate_tabular's signature)
        named = ("data", "policy", "estimators", "reward_model", "alpha", "n_bootstrap", "interval", "random_state",
                 "resampling", "reward_range", "n_folds", "warn")
        allowed = [k for k in inspect.signature(evaluate_tabular).parameters if k not in named]
        unknown = sorted(set(tabular) - set(allowed))
        if unknown:
            raise ValidationError("evaluate_policy", f"unexpected keyword(s) {unknown} for a tabular log",
                                  hint=f"the keywords of a tabular log are {allowed}")
        return evaluate_tabular(log, policy, specs, reward_model=reward_model, alpha=alpha,
                                n_bootstrap=n_bootstrap, interval=interval, random_state=random_state,
                                resampling=resampling, reward_range=reward_range, n_folds=n_folds, warn=warn,
                                **tabular)
    if tabular:
        raise ValidationError("evaluate_policy", f"unexpected keyword(s) {sorted(tabular)} for a BanditLog "
                              "(they name the columns of tabular logs)")
    ests = [make_estimator(e) for e in specs]
    labels = estimator_labels(specs, ests)
    n_folds = check_int(n_folds, "n_folds")
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=2)
    if any(e.requires_behavior_dist for e in ests) and log.behavior_dist is None:
        bad = [lab for lab, e in zip(labels, ests) if e.requires_behavior_dist]
        raise ValidationError("behavior_dist", f"is required by {bad} but the log has none",
                              hint="build the BanditLog with behavior_dist=the logging policy's distribution")
    # a Generator draws its key once, here: the resamples must not depend on whether some estimator fits a
    # reward model (its folds drew from the Generator first, so adding "dr" moved ips' interval)
    random_state = call_seed(random_state)
    inputs = prepare_inputs(log, policy, reward_model=reward_model, estimators=ests, n_folds=n_folds,
                            random_state=fold_seed(random_state))
    res = estimate_from_inputs(ests, inputs, alpha=alpha, n_bootstrap=n_bootstrap, interval=interval,
                               random_state=random_state, resampling=resampling, ids=unit_ids(log),
                               reward_range=reward_range, labels=labels, warn=False, single_unit_warning=warn)
    if warn:
        _warn_diagnostics(inputs, stacklevel=3, weighted=_weighted(res))
        if not _no_weight(inputs):
            _warn_zero_width(res, interval, stacklevel=3)
    model_name = _model_name(reward_model, log) if inputs.q_hat is not None else "none"
    rows = []
    for r in res:
        d = {"estimator": r.name, "value": r.value, "ci_low": r.ci_low, "ci_high": r.ci_high, "se": r.se,
             "alpha": r.alpha, "interval": r.method, "n": r.n}
        d.update(r.diagnostics)
        d["reward_model"] = model_name
        d["ess_terms"] = d.pop("ess_terms")  # appended after the existing columns (the streamed order)
        rows.append(d)
    return pd.DataFrame(rows)


def _model_name(reward_model, log) -> str:
    if reward_model is None:
        return type(default_reward_model(log)).__name__ + " (default, cross-fitted)"
    if hasattr(reward_model, "fit"):
        return type(reward_model).__name__ + " (cross-fitted)"
    return "given predictions"


def z_value(alpha: float) -> float:
    return float(special.ndtri(1 - alpha / 2))
