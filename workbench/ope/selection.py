"""Choosing estimators and policies: SLOPE, policy comparison on shared resamples, estimator benchmarks.

* :func:`slope_select` -- SLOPE (Su, Srinath & Krishnamurthy 2020), Lepski's method over an
  ordered family (e.g. clipping or switch thresholds from large to small).
* :func:`compare_policies` -- several candidate policies on one log and one set of resamples:
  ranking, pairwise differences with intervals, the probability each is best, and the pessimistic
  choice (best lower bound).
* :func:`benchmark_estimators` -- estimators on simulated logs with known truth: bias, RMSE,
  relative error and interval coverage over replicates ("which estimator should I trust here").
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from .._engine import ReplicateAccumulator, Resampling, is_single_unit, replicate_sd
from .._intervals import percentile_interval
from .._parallel import run_delayed
from .._random import seed_key, spawn_seeds
from .._validation import (ValidationError, as_array, check_alpha, check_bool, check_choice, check_columns,
                           check_finite, check_int, check_real, raise_if_any)
from ..results import FrameFieldsCopied, _frames_repr, frame_to_html
from .estimators import (DoublyRobust, DoublyRobustWithShrinkage, InverseProbabilityWeighting, OffPolicyEstimator,
                         SwitchDR, _check_lambda, distinct_labels, estimator_specs, make_estimator)
from .evaluate import (OPEDiagnosticWarning, _check_reward_model_kind, _warn_diagnostics, _weighted, check_resampling,
                       diagnostics_text, estimate_from_inputs, estimator_terms, evaluate_policy, prepare_inputs,
                       resolve_action_dist, single_unit_message, unit_ids, zero_width_message)
from .reward_models import call_seed, fold_seed

__all__ = ["slope_select", "SlopeResult", "threshold_family", "compare_policies", "PolicyComparison",
           "benchmark_estimators", "EstimatorBenchmark"]


# ----------------------------------------------------------------------------------------------
# SLOPE
# ----------------------------------------------------------------------------------------------
def threshold_family(kind: str = "ips", thresholds: Sequence[float] | None = None, weights=None,
                     n_thresholds: int = 10) -> list[OffPolicyEstimator]:
    """An ordered family for SLOPE: thresholds from large (low bias, high variance) to small.

    Parameters
    ----------
    kind : {"ips", "dr", "switch-dr", "dr-os"}
        Clipped IPS, clipped DR, Switch-DR or DR-os (shrinkage).
    thresholds : sequence of float, optional
        The thresholds (sorted descending here; inf is the unbiased member).
    weights : array of shape (n,), optional
        The target's importance weights on the log, one per row (pi_e(a_i | x_i) / propensity_i:
        :func:`workbench.ope.importance_weights`; not the target's action distribution, which
        would give a degenerate family). When ``thresholds`` is None: inf followed by ``n_thresholds - 1`` geometric
        steps down to the weights' 10% quantile (at least 1): for clipping and switching the steps of a
        grid from the largest weight that lie below it (a threshold at the largest weight changes no row,
        so it would repeat the unbiased member); for ``"dr-os"`` from the largest weight itself (its
        shrinkage halves that weight). When the largest weight is at most
        that floor, no threshold can clip more than another: the family is then [inf, floor],
        two members whatever ``n_thresholds`` (identical estimators when every weight is <= 1). For
        ``"dr-os"`` these thresholds are squared into lambda (its shrunk weight w lambda / (w^2 + lambda)
        halves a weight of sqrt(lambda)), so the grid spans the same weights as the clipping families'.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.ope import threshold_family
    >>> [m.label for m in threshold_family("ips", [5, float("inf"), 20])]
    ['ips', 'ips(clip=20)', 'ips(clip=5)']
    >>> [m.label for m in threshold_family("switch-dr", weights=np.array([0.5, 1.0, 2.0, 8.0]), n_thresholds=4)]
    ['switch-dr', 'switch-dr(lambda_=4)', 'switch-dr(lambda_=2)', 'switch-dr(lambda_=1)']
    >>> [m.label for m in threshold_family("dr-os", weights=np.array([0.5, 1.0, 2.0, 8.0]), n_thresholds=4)]
    ['dr-os', 'dr-os(lambda_=64)', 'dr-os(lambda_=8)', 'dr-os(lambda_=1)']
    """
    check_choice(kind, "kind", ("ips", "dr", "switch-dr", "dr-os"))
    if thresholds is None:
        if weights is None:
            raise ValidationError("thresholds", "give thresholds or the weights to build them from")
        n_thresholds = check_int(n_thresholds, "n_thresholds", low=2)  # a family has at least two members
        w = as_array(weights, "weights")
        if w.ndim != 1:  # an (n, K[, slots]) action distribution raveled into "weights" built a silent [inf, 1] family
            raise ValidationError("weights", f"must be 1-D, one importance weight per logged row; got shape {w.shape}",
                                  hint="Compute them with workbench.ope.importance_weights(log, policy)")
        w = check_finite(w, "weights")
        if w.size == 0:
            raise ValidationError("weights", "must not be empty")
        raise_if_any(w < 0, "weights", "must be >= 0 (importance weights)", w)
        hi = float(w.max())
        lo = max(1.0, float(np.quantile(w, 0.1)))
        if hi <= lo:
            thresholds = [np.inf, lo]
        elif kind == "dr-os":
            thresholds = [np.inf] + list(np.geomspace(hi, lo, n_thresholds - 1))
        else:
            # clipping or switching at the largest weight changes nothing: that member repeated the unbiased one
            # (two identical rows in SLOPE's table). The steps start one geometric step below it.
            thresholds = [np.inf] + list(np.geomspace(hi, lo, n_thresholds)[1:])
        if kind == "dr-os":
            # DR-os' lambda acts on the squared weight (w lambda / (w^2 + lambda) halves a weight of sqrt(lambda)):
            # a weight-scale grid used as lambda shrank by at least half every row with w > sqrt(max w), so the
            # family had no mildly shrunk member next to DR. Squared, threshold t halves weights of t.
            # A square beyond the float range (weights above ~1.3e154) is inf: plain DR, the unbiased member
            # again (two identical members, and an overflow warning). No float lambda halves such a weight, so
            # those steps are left out; the family keeps DR and the representable steps.
            with np.errstate(over="ignore"):
                squares = [float(t) * float(t) for t in thresholds]
            thresholds = [np.inf] + [t2 for t2 in squares[1:] if np.isfinite(t2)]
    if isinstance(thresholds, str) or not np.iterable(thresholds):
        raise ValidationError("thresholds", f"must be a sequence of numbers, got {thresholds!r}")
    # not float(t): it would accept "5" and True; inf (no threshold) is allowed, NaN and negatives are not
    ths = sorted((_check_lambda(t, "thresholds", low=0.0) for t in thresholds), reverse=True)
    if len(ths) < 2:  # as n_thresholds: SLOPE chooses between members; it refused this later, naming `family`
        raise ValidationError("thresholds", f"must hold at least two values (a family has at least two members), "
                                            f"got {len(ths)}")
    make = {"ips": lambda t: InverseProbabilityWeighting(clip=t), "dr": lambda t: DoublyRobust(clip=t),
            "switch-dr": lambda t: SwitchDR(lambda_=t),
            # DR-os shrinks more as lambda falls: lambda = inf is DR, 0 is DM.
            "dr-os": lambda t: DoublyRobustWithShrinkage(lambda_=t)}[kind]
    return [make(t) for t in ths]


@dataclass(frozen=True, eq=False)  # identity: == of array / frame fields raised
class SlopeResult(FrameFieldsCopied):
    """What SLOPE chose, and the path that led there.

    Attributes
    ----------
    chosen : OffPolicyEstimator
        The selected member.
    index : int
        Its position in the family.
    value : float
        Its estimate on the log.
    path : DataFrame
        One row per member: ``member, value, se, low, high, accepted, chosen`` where [low, high] =
        value +- c * se is the member's confidence band, ``accepted`` says whether the band
        intersected every earlier accepted band, and ``chosen`` marks the member SLOPE picked.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import UniformPolicy, slope_select, threshold_family
    >>> log, truth = simulate_bandit(1000, n_actions=3, random_state=0)
    >>> res = slope_select(log, UniformPolicy(), threshold_family("ips", [float("inf"), 20, 5]), n_bootstrap=200)
    >>> res
    SlopeResult(chosen=ips(clip=5), index=2 of 3, value=0.312379)
    path:
          member  value      se    low   high  accepted  chosen
             ips 0.3263 0.02387 0.2786  0.374      True   False
    ips(clip=20) 0.3263 0.02387 0.2786  0.374      True   False
     ips(clip=5) 0.3124 0.01898 0.2744 0.3503      True    True
    >>> res.to_frame().shape
    (3, 7)
    """

    chosen: Any
    index: int
    value: float
    path: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The path (a copy): one row per member, ``member, value, se, low, high, accepted, chosen``."""
        return self.path.copy()

    def __repr__(self) -> str:
        title = (f"SlopeResult(chosen={self.chosen.label}, index={self.index} of {len(self.path)}, "
                 f"value={self.value:.6g})")
        return _frames_repr(title, {"path": self.path})  # the bands that led to the choice, not only the pick

    def _repr_html_(self) -> str:
        return frame_to_html(self.path, caption=f"SLOPE chose {self.chosen.label}")


def slope_select(log, policy, family: Sequence, reward_model=None, c: float = 2.0, n_bootstrap: int = 500,
                 random_state=0, n_folds: int = 5, resampling: str = "poisson", warn: bool = True) -> SlopeResult:
    """SLOPE: pick the most biased (least variable) member still consistent with all less biased ones.

    The family must be ordered by non-decreasing bias and non-increasing variance (e.g.
    :func:`threshold_family`: thresholds from inf down). Member i gets the band
    theta_i +- c * sigma_i with sigma_i its bootstrap standard error (all members share one set of
    resamples); SLOPE walks the family and keeps member i while its band intersects every earlier
    band, i.e. |theta_i - theta_j| <= c (sigma_i + sigma_j) for all j < i, stopping at the first
    violation (Lepski's method; Su, Srinath & Krishnamurthy 2020). The guarantee is an oracle
    inequality: the chosen member's error is within a constant factor of the best bias + width
    trade-off in the family, provided the widths hold with high probability. The oracle inequality says
    nothing about bias the whole family shares: a target with mass on actions the logger never takes biases
    every importance-weighted member alike. ``warn`` (default True) issues :func:`evaluate_policy`'s
    :class:`~workbench.ope.OPEDiagnosticWarning` for the log's weights.

    Examples
    --------
    >>> import workbench as wb
    >>> log, truth = wb.data.simulate_bandit(3000, n_actions=4, random_state=0)
    >>> target = wb.ope.EpsilonGreedyPolicy(lambda X: X @ [[1, 0, -1, 0], [0, 1, 0, -1], [1, 1, 0, 0]], 0.1)
    >>> fam = wb.ope.threshold_family("ips", [float("inf"), 50, 20, 10, 5, 2])
    >>> res = wb.ope.slope_select(log, target, fam, n_bootstrap=200)
    >>> res.path.shape[0]
    6
    """
    if isinstance(family, (str, OffPolicyEstimator)) or not np.iterable(family):  # None: not a TypeError
        raise ValidationError("family", f"must be a sequence of at least two estimators, got {family!r}")
    members = [make_estimator(e) for e in family]
    if len(members) < 2:
        raise ValidationError("family", "must hold at least two estimators, ordered from least to most biased")
    c = check_real(c, "c")  # a string or None must be a ValidationError, not a TypeError from ">"
    if not c > 0:
        raise ValidationError("c", f"must be > 0, got {c}")
    warn = check_bool(warn, "warn")
    check_resampling(resampling)  # before the reward model is fitted
    random_state = call_seed(random_state)  # one key for the folds and the resamples, as in evaluate_policy
    inputs = prepare_inputs(log, policy, reward_model=reward_model, estimators=members, n_folds=n_folds,
                            random_state=fold_seed(random_state))
    ests = estimate_from_inputs(members, inputs, n_bootstrap=n_bootstrap, random_state=random_state,
                                resampling=resampling, ids=unit_ids(log), warn=False)
    if warn:  # missing support or thin weights bias or destabilise every member alike: SLOPE cannot see it
        _warn_diagnostics(inputs, stacklevel=3, weighted=_weighted(ests))
    theta = np.array([e.value for e in ests])
    sigma = np.array([e.se for e in ests])
    accepted = np.zeros(len(members), dtype=bool)
    chosen = 0
    accepted[0] = True
    for i in range(1, len(members)):
        ok = np.all(np.abs(theta[i] - theta[:i]) <= c * (sigma[i] + sigma[:i]))
        if not ok:
            break
        accepted[i] = True
        chosen = i
    path = pd.DataFrame({"member": distinct_labels(members, members), "value": theta, "se": sigma,
                         "low": theta - c * sigma, "high": theta + c * sigma, "accepted": accepted,
                         "chosen": np.arange(len(members)) == chosen})
    return SlopeResult(members[chosen], chosen, float(theta[chosen]), path)


# ----------------------------------------------------------------------------------------------
# Policy selection
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)  # identity: == of array / frame fields raised
class PolicyComparison(FrameFieldsCopied):
    """Several candidate policies evaluated on one log with shared resamples.

    Attributes
    ----------
    summary : DataFrame
        ``policy, value, ci_low, ci_high, se, rank, prob_best``, highest estimate first. ``rank`` 1 is the
        highest estimate; exactly equal estimates share the best rank of their group ("min" ranks, as
        ``scipy.stats.rankdata(method="min")``: two tied leaders are both 1 and the next policy is 3) and
        undefined (NaN) estimates share the last rank. Ties are exact equality, as for ``prob_best``.
    pairwise : DataFrame
        ``policy_a, policy_b, difference (a - b), ci_low, ci_high, se, prob_a_better`` for every pair.
    choice : str
        The pessimistic choice: the policy with the highest lower bound.
    best_estimate : str
        The policy with the highest point estimate (the first listed, when several share rank 1).

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import SoftmaxPolicy, UniformPolicy, compare_policies
    >>> log, truth = simulate_bandit(1000, n_actions=3, random_state=0)
    >>> cands = {"uniform": UniformPolicy(), "softmax": SoftmaxPolicy(lambda X: X[:, :3])}
    >>> cmp = compare_policies(log, cands, estimator="ips", n_bootstrap=200)
    >>> cmp
    PolicyComparison(2 policies, estimator=ips, pessimistic choice='uniform', best estimate='uniform')
    summary:
     policy  value  ci_low  ci_high      se  rank  prob_best
    uniform 0.3263   0.281   0.3685 0.02387     1          1
    softmax 0.2712  0.2155   0.3147 0.02733     2          0
    pairwise:
    policy_a policy_b  difference  ci_low  ci_high      se  prob_a_better
     uniform  softmax     0.05514 0.02513  0.08479 0.01454              1
    >>> sorted(cmp.to_frame()["policy"])
    ['softmax', 'uniform']
    """

    summary: pd.DataFrame = field(repr=False)
    pairwise: pd.DataFrame = field(repr=False)
    choice: str
    best_estimate: str
    estimator: str
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        """The summary frame, one row per policy or estimator (a copy)."""
        return self.summary.copy()

    def __repr__(self) -> str:
        title = (f"PolicyComparison({len(self.summary)} policies, estimator={self.estimator}, pessimistic choice="
                 f"{self.choice!r}, best estimate={self.best_estimate!r})")
        # the numbers too, as ModelComparison prints its tables: the title alone hid the values and intervals
        return _frames_repr(title, {"summary": self.summary, "pairwise": self.pairwise})

    def _repr_html_(self) -> str:
        return (frame_to_html(self.summary, caption=f"{self.estimator}: pessimistic choice {self.choice}")
                + frame_to_html(self.pairwise, caption="pairwise differences"))


def compare_policies(log, policies: Mapping[str, Any], estimator="dr", reward_model=None, alpha: float = 0.05,
                     n_bootstrap: int = 1000, random_state=0, adjust: str = "none", n_folds: int = 5,
                     resampling: str = "poisson", warn: bool = True) -> PolicyComparison:
    """Rank candidate policies from one log, with uncertainty that accounts for their correlation.

    All policies share the same reward-model predictions (cross-fitted once) and the same
    resamples, so pairwise differences are paired: their intervals are percentile intervals of
    the replicate differences, much narrower than comparing two separate intervals.
    ``prob_best`` is the share of replicates in which each policy has the highest estimate (a
    bootstrap measure of ranking stability, not a posterior probability); policies tied for the
    highest estimate in a replicate share it equally.

    ``rank`` orders the point estimates (1 = highest) with ties sharing a rank the way
    ``scipy.stats.rankdata(method="min")`` does: one policy under two names, or two policies that
    agree on every weighted row, are both rank 1 when they lead and the next is rank 3. A tie is
    exact equality of the computed estimates (as for ``prob_best``): the same arithmetic gives the
    same bits, while estimates that agree only up to rounding (different arithmetic paths) are
    ranked apart, by a difference the pairwise intervals show to be nothing. Policies with an
    undefined (NaN) estimate share the last rank.

    The pessimistic choice maximises the lower end of the (1 - alpha) interval. With
    ``adjust="bonferroni"`` the per-policy intervals use alpha / m, so all m lower bounds hold at
    once with probability >= 1 - alpha (asymptotically) and the chosen policy's bound is honest
    even after choosing. A policy whose estimate is undefined (e.g. snips for a target that never
    plays a logged action: NaN) is never the pessimistic choice and never wins a replicate (nor does a
    policy in a replicate where its estimate is undefined: the others compete for that one). With a
    single row (or a single ``unit_id``) no resample differs from the log: intervals, standard
    errors and ``prob_best`` are NaN, with an :class:`~workbench.ope.OPEDiagnosticWarning`
    (``warn=False`` silences it, as in :func:`evaluate_policy`; the NaN still say so). ``warn`` also
    issues :func:`evaluate_policy`'s diagnostics for each policy's weights, named by its key (a policy with
    mass on actions the logger never takes is biased, and the comparison cannot show it).

    Examples
    --------
    >>> import workbench as wb
    >>> log, truth = wb.data.simulate_bandit(3000, n_actions=3, random_state=0)
    >>> cands = {"uniform": wb.ope.UniformPolicy(), "softmax": wb.ope.SoftmaxPolicy(lambda X: X[:, :3])}
    >>> cmp = wb.ope.compare_policies(log, cands, estimator="ips", n_bootstrap=200)
    >>> sorted(cmp.summary["policy"])
    ['softmax', 'uniform']
    """
    n_folds = check_int(n_folds, "n_folds")  # checked once, not inside the first policy's name
    alpha = check_alpha(alpha)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=2)  # named as the caller knows it, not "n_replicates"
    check_choice(adjust, "adjust", ("none", "bonferroni"))
    warn = check_bool(warn, "warn")
    check_resampling(resampling)
    if not isinstance(policies, Mapping) or len(policies) < 2:
        raise ValidationError("policies", "must be a mapping name -> policy with at least two entries")
    names = [str(k) for k in policies]
    if len(set(names)) < len(names):
        # The keys name the rows of the summary and the pairs (as text): {1: p, "1": q} gave two rows
        # both called "1", and a choice that could not say which policy it meant.
        seen, clash = {}, None
        for key, name in zip(policies, names):  # a loop over the m policies, to name the clash
            if name in seen:
                clash = (seen[name], key, name)
                break
            seen[name] = key
        raise ValidationError("policies", f"keys must be distinct as text (they name the result's rows): "
                                          f"{clash[0]!r} and {clash[1]!r} both read {clash[2]!r}")
    if isinstance(estimator, (list, tuple)):  # one estimator ranks the policies; make_estimator named "estimators"
        raise ValidationError("estimator", f"must be one estimator name or object, got {estimator!r}")
    try:
        est = make_estimator(estimator)
    except ValidationError as exc:
        raise ValidationError("estimator", exc.rule, hint=exc.hint) from None
    # one key for the folds and the resamples (a Generator drew for the folds only when the estimator fits a
    # model, so the resamples depended on the estimator); the same key as evaluate_policy's
    random_state = call_seed(random_state)
    folds = fold_seed(random_state)

    def named(name, fn, *args, **kw):
        # A bad entry is reported under its key: "policy: ..." alone does not say which of m policies is wrong.
        try:
            return fn(*args, **kw)
        except ValidationError as exc:
            raise ValidationError(f"policies[{name!r}]", str(exc)) from None

    q = None
    if not est.requires_reward_model:
        # unused, yet not silently accepted when it is no model at all, as evaluate_policy and slope_select refuse it
        _check_reward_model_kind(log, reward_model)
    else:
        from .evaluate import _resolve_q, default_reward_model

        first_key = next(iter(policies))
        first = named(str(first_key), resolve_action_dist, log, policies[first_key])
        q = _resolve_q(log, default_reward_model(log) if reward_model is None else reward_model, first, n_folds,
                       folds)
    blocks = []
    for key, name in zip(policies, names):
        inp = named(name, prepare_inputs, log, policies[key], reward_model=q, estimators=[est], n_folds=n_folds)
        blocks.append(estimator_terms(est, inp))
        if warn:  # evaluate_policy's diagnostics, per policy (missing support biases that policy's estimate)
            msg = diagnostics_text(inp, weighted=est.weights(inp) is not None)
            if msg:
                warnings.warn(f"policy {name!r}: {msg}", OPEDiagnosticWarning, stacklevel=2)
    widths = np.cumsum([0] + [b.shape[1] for b in blocks])
    rs = Resampling.make(n_bootstrap, scheme=resampling, random_state=random_state)
    acc = ReplicateAccumulator(int(widths[-1]), rs).add(np.hstack(blocks), unit_ids(log))
    m = len(names)
    theta = np.array([float(np.asarray(est.combine(acc.means[None, widths[j]:widths[j + 1]]))[0]) for j in range(m)])
    reps = np.column_stack([np.asarray(est.combine(acc.replicate_means[:, widths[j]:widths[j + 1]])) for j in range(m)])
    a_each = alpha / m if adjust == "bonferroni" else alpha
    # One row, or one unit: every resample is the log itself, so the intervals would have width 0
    # (a false certainty). NaN instead, with a warning, as evaluate_policy does.
    one_unit = is_single_unit(acc.n, unit_ids(log))
    if one_unit:
        if warn:
            warnings.warn(single_unit_message(unit_ids(log) is not None), OPEDiagnosticWarning, stacklevel=2)
        reps = np.full_like(reps, np.nan)
    lo, hi = percentile_interval(reps, a_each)
    se = replicate_sd(reps, axis=0)
    if warn and not one_unit:
        # as evaluate_policy warns: a zero-width interval is not certainty
        msg = zero_width_message([(names[j], theta[j], lo[j], hi[j], acc.n, "percentile") for j in range(m)])
        if msg:
            warnings.warn(msg, OPEDiagnosticWarning, stacklevel=2)
        n_nan = np.isnan(reps).sum(axis=0)
        part = [f"policy {names[j]!r} in {n_nan[j]} of {reps.shape[0]}" for j in range(m)
                if 0 < n_nan[j] < reps.shape[0]]
        if part:  # not silently: its interval and se then describe the resamples that define it
            warnings.warn(f"off-policy diagnostics: the estimate is undefined (NaN) in some resamples: "
                          f"{', '.join(part)} (e.g. snips when a resample draws none of the rows the target "
                          "weighs); its interval and se use the others, and it loses those resamples in prob_best",
                          OPEDiagnosticWarning, stacklevel=2)
    # A policy whose estimate is undefined in every replicate (e.g. snips for a target that never
    # plays a logged action) can neither win a replicate nor block the others from being counted.
    # The same holds within a replicate: a policy undefined there (snips when the resample drew none of the
    # rows its target plays) loses that replicate to the defined ones. Dropping every replicate with any NaN
    # counted only the resamples that happened to define every policy: a policy logged on 2 of 200 rows,
    # undefined in 13% of them, read prob_best 1.0 instead of 0.87.
    defined = ~np.isnan(reps).all(axis=0)
    valid = ~np.isnan(reps[:, defined])
    ok = valid.any(axis=1)
    prob_best = np.zeros(m)
    if ok.any():
        # Policies tied for the highest estimate share the replicate (argmax gave it all to the first listed:
        # two policies that agree on every weighted row, or one policy under two names, read 1.0 and 0.0)
        top = np.where(valid, reps[:, defined], -np.inf)[ok]
        is_top = (top == top.max(axis=1, keepdims=True)) & valid[ok]
        prob_best[defined] = (is_top / is_top.sum(axis=1, keepdims=True)).sum(axis=0) / ok.sum()
    elif one_unit:
        prob_best[:] = np.nan
    # "min" ranks (scipy rankdata / pandas rank method="min"): exactly equal estimates share the best rank of
    # their group, so one policy under two names is not ranked 1 and 2 on a tie broken by listing order.
    # Exact equality, as prob_best counts replicate ties: identical arithmetic gives identical bits, and a
    # rounding tolerance would only move the line (tied at 1e-15 apart, ranked apart at 1e-12), chained ties
    # (a ~ b ~ c, a !~ c) would make groups depend on order, and the pairwise intervals already show
    # how small a difference is. Undefined (NaN) estimates share the last rank.
    order = np.argsort(-theta, kind="stable")  # NaN (undefined) last; ties keep the listed order
    rank = pd.Series(theta).rank(method="min", ascending=False, na_option="bottom").to_numpy(dtype=int)
    summary = pd.DataFrame({"policy": names, "value": theta, "ci_low": lo, "ci_high": hi, "se": se, "rank": rank,
                            "prob_best": prob_best}).sort_values("rank", kind="stable").reset_index(drop=True)
    rows = []
    for i in range(m):
        for j in range(i + 1, m):
            d = reps[:, i] - reps[:, j]
            dlo, dhi = percentile_interval(d, alpha)
            fin = ~np.isnan(d)  # replicates where both estimates are defined
            rows.append({"policy_a": names[i], "policy_b": names[j], "difference": theta[i] - theta[j],
                         "ci_low": float(dlo), "ci_high": float(dhi), "se": replicate_sd(d),
                         "prob_a_better": float(np.mean(d[fin] > 0)) if fin.any() else float("nan")})
    pairwise = pd.DataFrame(rows)
    # np.argmax returns the first NaN: a policy with no defined lower bound must never be chosen.
    # Without any defined lower bound (a one-row log), fall back on the point estimates.
    crit = lo if np.isfinite(lo).any() else theta
    choice = names[int(np.nanargmax(crit))] if np.isfinite(crit).any() else names[int(order[0])]
    return PolicyComparison(summary, pairwise, choice, names[int(order[0])], est.label, alpha)


# ----------------------------------------------------------------------------------------------
# Benchmarking estimators on simulations with known truth
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)  # identity: == of array / frame fields raised
class EstimatorBenchmark(FrameFieldsCopied):
    """Estimators on R simulated logs with known truth.

    Attributes
    ----------
    summary : DataFrame
        One row per estimator, best RMSE first: ``estimator, mean, truth_mean, bias, bias_se, error_sd, rmse,
        relative_error_mean, relative_error_sd, coverage, coverage_se, mean_width, n_replicates``.
        ``error_sd`` is the spread of estimate - truth (truth can differ per simulated log). ``bias_se`` is the
        Monte Carlo standard error of the bias (a bias within about 2-3 of them
        is not distinguishable from 0 with this many replicates).
    replicates : DataFrame
        One row per (replicate, estimator): ``replicate, estimator, value, ci_low, ci_high, truth``.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import UniformPolicy, benchmark_estimators
    >>> sim = lambda seed: simulate_bandit(300, n_actions=3, random_state=seed)
    >>> bench = benchmark_estimators(sim, UniformPolicy(), ["ips", "snips"], n_replicates=3, n_bootstrap=50)
    >>> bench  # doctest: +ELLIPSIS
    EstimatorBenchmark(2 estimators, 3 replicates, lowest RMSE: snips)
    summary:
    estimator   mean  truth_mean     bias  bias_se  error_sd    rmse ...
        snips 0.3542      0.3529 0.001279   0.0317   0.05491 0.04485 ...
          ips 0.3803      0.3529   0.0274  0.05404   0.09359 0.08118 ...
    >>> sorted(bench.to_frame()["estimator"])
    ['ips', 'snips']
    """

    summary: pd.DataFrame = field(repr=False)
    replicates: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The summary frame, one row per policy or estimator (a copy)."""
        return self.summary.copy()

    def __repr__(self) -> str:
        best = self.summary["estimator"].iloc[0]
        title = (f"EstimatorBenchmark({len(self.summary)} estimators, {self.summary['n_replicates'].iloc[0]} "
                 f"replicates, lowest RMSE: {best})")
        return _frames_repr(title, {"summary": self.summary})

    def _repr_html_(self) -> str:
        return frame_to_html(self.summary, caption="estimators on simulated logs (lowest RMSE first)")


def _one_replicate(simulate, policy, estimators, reward_model, alpha, n_bootstrap, interval, seed, rep,
                   simulated=None):
    # Each replicate fits small reward models; multi-threaded BLAS / OpenMP only adds synchronisation
    # there (about 14x the wall time on 2 busy cores, which timed out case study 04), so one thread.
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return _replicate_frame(simulate, policy, estimators, reward_model, alpha, n_bootstrap, interval, seed, rep,
                                simulated)


def _check_simulated(out, truth_kind: str = "a BanditTruth (with policy_value) or a finite number",
                    number_ok: bool = True):
    """(log, truth) from a user's ``simulate(seed)``, checked: a bare log gave "too many values to
    unpack", and float() parsed a truth given as the text "0.2"."""
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        got = f"a {type(out).__name__} of {len(out)} items" if isinstance(out, (tuple, list)) else \
            f"a {type(out).__name__}"
        raise ValidationError("simulate", f"must return a pair (log, truth), got {got}")
    log, truth = out
    if not (callable(getattr(truth, "policy_value", None)) or (number_ok and _is_number(truth))):
        raise ValidationError("simulate", f"must return (log, truth) with truth {truth_kind}, got truth {truth!r}")
    return log, truth


def _is_number(x) -> bool:
    try:
        check_real(x, "truth")  # not float(): "0.2" and True are not truths
    except ValidationError:
        return False
    return True


def _check_simulate(simulate) -> None:
    if not callable(simulate):
        raise ValidationError("simulate", f"must be a callable seed -> (log, truth), got {simulate!r}")


def _replicate_frame(simulate, policy, estimators, reward_model, alpha, n_bootstrap, interval, seed, rep,
                     simulated=None):
    # ``simulated``: replicate 0's (log, truth), drawn and checked before the replicates were dispatched
    log, truth = _check_simulated(simulate(seed)) if simulated is None else simulated
    dist = resolve_action_dist(log, policy(log) if callable(policy) and not hasattr(policy, "action_dist")
                               else policy)
    true_value = check_real(truth.policy_value(dist), "truth.policy_value") if hasattr(truth, "policy_value") \
        else check_real(truth, "truth")
    out = evaluate_policy(log, dist, estimators=estimators, reward_model=reward_model, alpha=alpha,
                          n_bootstrap=n_bootstrap, interval=interval, random_state=seed_key(seed), warn=False)
    out = out[["estimator", "value", "ci_low", "ci_high"]].copy()
    out.insert(0, "replicate", rep)
    out["truth"] = true_value
    return out


def benchmark_estimators(simulate: Callable, policy, estimators=("dm", "ips", "snips", "dr"), reward_model=None,
                         n_replicates: int = 100, alpha: float = 0.05, n_bootstrap: int = 200,
                         interval: str = "percentile", random_state=0, n_jobs: int | None = None,
                         progress: bool = False) -> EstimatorBenchmark:
    """Run estimators on ``n_replicates`` simulated logs and score them against the known truth.

    Parameters
    ----------
    simulate : callable
        ``simulate(seed) -> (log, truth)`` where ``truth`` is a :class:`~workbench.data.BanditTruth`
        (the exact value of the target on that log's contexts is used) or a float. Each replicate
        gets its own ``numpy.random.SeedSequence`` child, fixed before any work is dispatched.
        Replicate ``r`` is ``evaluate_policy(log, policy, random_state=child)`` (same estimators,
        reward model, alpha, n_bootstrap, interval) on ``log, truth = simulate(child)``, where
        ``child = numpy.random.SeedSequence(random_state).spawn(n_replicates)[r]`` for an int
        ``random_state``: any replicate can be re-run (and inspected) directly. Replicate 0's
        ``simulate`` runs in the calling process before any work is dispatched, so a ``simulate``
        that returns something other than ``(log, truth)`` (or a truth that is neither a truth
        object nor a number: text such as "0.2" is refused) fails at once with a ValidationError.
    policy : ndarray, policy object, or callable ``log -> action distribution``
    estimators, reward_model, alpha, n_bootstrap, interval
        As in :func:`evaluate_policy`.
    n_jobs : int or None
        joblib workers (results do not depend on it). None, as everywhere in the package, leaves it to
        joblib: one worker unless a ``joblib.parallel_config`` context says otherwise (an explicit 1
        overrode a user's ``parallel_config(backend="dask", n_jobs=...)``).
    progress : bool
        Show a tqdm progress bar.

    Examples
    --------
    >>> import workbench as wb
    >>> sim = lambda s: wb.data.simulate_bandit(500, n_actions=3, random_state=s)
    >>> bench = wb.ope.benchmark_estimators(sim, wb.ope.UniformPolicy(), ["ips", "snips"], n_replicates=5,
    ...                                     n_bootstrap=50)
    >>> list(bench.summary.columns[:4])
    ['estimator', 'mean', 'truth_mean', 'bias']
    """
    _check_simulate(simulate)  # an int was "TypeError: 'int' object is not callable" from a worker
    alpha = check_alpha(alpha)
    n_replicates = check_int(n_replicates, "n_replicates", low=2)  # int(2.5) would silently run 2
    progress = check_bool(progress, "progress")  # before any replicate: "no" is truthy
    # read as evaluate_policy reads it: one name or estimator object is a list of one (list("ips")
    # was three unknown names, list(an estimator object) a TypeError)
    specs = estimator_specs(estimators)
    seeds = spawn_seeds(random_state, n_replicates)
    # Replicate 0's log is drawn (and its (log, truth) checked) here, before anything is dispatched, and
    # handed to replicate 0 (simulate is called once per seed, as before): a simulate that returns the
    # wrong thing fails at once, with what was expected, not inside a worker.
    first = _check_simulated(simulate(seeds[0]))
    args = [(simulate, policy, specs, reward_model, alpha, n_bootstrap, interval, s, r, first if r == 0 else None)
            for r, s in enumerate(seeds)]
    from joblib import delayed

    parts = run_delayed((delayed(_one_replicate)(*a) for a in args), n_jobs=n_jobs, progress=progress,
                        desc="replicates")
    reps = pd.concat(parts, ignore_index=True)
    return EstimatorBenchmark(summarise_replicates(reps), reps)


def summarise_replicates(reps: pd.DataFrame) -> pd.DataFrame:
    """Bias, RMSE, relative error and coverage per estimator from a replicate frame.

    ``reps`` has one row per (replicate, estimator) with the columns ``estimator, value, ci_low,
    ci_high, truth`` (as :attr:`EstimatorBenchmark.replicates`); the result has the columns of
    :attr:`EstimatorBenchmark.summary`, lowest RMSE first. The relative error is taken over the
    replicates whose truth is non-zero (NaN when none is). An undefined (NaN) interval counts as a miss in
    ``coverage`` (it covers nothing) and is left out of ``mean_width``. A missing estimator name, a truth
    that is not finite and ci_low > ci_high are refused, with the first such row.

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.ope import summarise_replicates
    >>> reps = pd.DataFrame({"estimator": ["ips", "dm"] * 3, "value": [0.50, 0.40, 0.60, 0.45, 0.55, 0.42],
    ...                      "ci_low": [0.40, 0.38, 0.50, 0.43, 0.45, 0.40],
    ...                      "ci_high": [0.60, 0.42, 0.70, 0.47, 0.65, 0.44],
    ...                      "truth": [0.52, 0.52, 0.50, 0.50, 0.51, 0.51]})
    >>> summarise_replicates(reps)[["estimator", "bias", "rmse", "coverage"]].round(3)
      estimator   bias   rmse  coverage
    0       ips  0.040  0.063       1.0
    1        dm -0.087  0.091       0.0
    """
    if not isinstance(reps, pd.DataFrame):
        raise ValidationError("reps", f"must be a DataFrame, got {type(reps).__name__}")
    check_columns(reps, ["estimator", "value", "ci_low", "ci_high", "truth"], "reps")
    if len(reps) == 0:
        raise ValidationError("reps", "must have at least one row")
    for col in ("value", "ci_low", "ci_high", "truth"):
        # numbers, not text: to_numpy(float) parsed the string "0.5" silently
        d = reps[col].dtype
        if pd.api.types.is_bool_dtype(d) or not pd.api.types.is_numeric_dtype(d):
            raise ValidationError(f"reps[{col!r}]", f"must be numeric, got dtype {d}")
    # rows that were dropped or miscounted silently: a missing name (groupby drops it), an unknown truth (every
    # statistic of its estimator became NaN, and its interval a miss), an inverted interval (a negative width)
    raise_if_any(pd.isna(reps["estimator"]).to_numpy(), "reps['estimator']", "must name the estimator (no missing "
                 "values)", reps["estimator"].to_numpy())
    raise_if_any(~np.isfinite(reps["truth"].to_numpy(float)), "reps['truth']", "must be finite (the true value "
                 "of the replicate)", reps["truth"].to_numpy(float))
    lo_, hi_ = reps["ci_low"].to_numpy(float), reps["ci_high"].to_numpy(float)
    with np.errstate(invalid="ignore"):
        raise_if_any(lo_ > hi_, "reps['ci_low']", "must be <= ci_high", lo_)
    rows = []
    for name, g in reps.groupby("estimator", sort=False):
        v, t = g["value"].to_numpy(float), g["truth"].to_numpy(float)
        err = v - t
        R = len(g)
        cover = ((g["ci_low"] <= g["truth"]) & (g["truth"] <= g["ci_high"])).to_numpy()
        # relative error only where the truth is non-zero (|err| / 0 is undefined, not inf)
        rel = np.abs(err[t != 0]) / np.abs(t[t != 0])
        rel_mean = float(rel.mean()) if rel.size else np.nan
        rel_sd = float(rel.std(ddof=1)) if rel.size > 1 else np.nan
        sd = float(err.std(ddof=1)) if R > 1 else np.nan  # one replicate has no spread (numpy warned, then NaN)
        rows.append({"estimator": name, "mean": v.mean(), "truth_mean": t.mean(), "bias": err.mean(),
                     "bias_se": sd / np.sqrt(R), "error_sd": sd, "rmse": np.sqrt(np.mean(err ** 2)),
                     "relative_error_mean": rel_mean, "relative_error_sd": rel_sd,
                     "coverage": cover.mean(), "coverage_se": np.sqrt(cover.mean() * (1 - cover.mean()) / R),
                     "mean_width": float(np.mean(g["ci_high"] - g["ci_low"])), "n_replicates": R})
    return pd.DataFrame(rows).sort_values("rmse", kind="stable").reset_index(drop=True)
