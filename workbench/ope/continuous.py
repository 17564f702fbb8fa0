"""Off-policy evaluation with continuous actions (prices, doses, bids).

A deterministic target policy c = pi(x) puts all its mass on one action, which the logger chose
with probability zero: the importance weight does not exist. Two equivalent views fix this.

* **Kernel smoothing** (Kallus & Zhou 2018): replace the indicator 1{a = c} with a kernel
  K_h(a - c) and divide by the logged *density* p_b(a | x). The estimate is biased for V(pi)
  (smoothing bias, O(h^2) for smooth rewards and symmetric kernels away from the edges) and its
  variance grows like 1 / (n h): the bandwidth trades one for the other.
* **Smoothed policies** (Rucker, Zhu & Mineiro 2023): the kernel defines a real stochastic
  policy pi_h(a | x) = K_h(a - c) / Z(c) on [a_min, a_max]; its importance weight
  pi_h(a | x) / p_b(a | x) <= max K / (h p_min) is bounded, and kernel IPS is exactly unbiased
  for its value V(pi_h). With the box kernel pi_h is the paper's
  1 / |[c - h, c + h] ∩ [a_min, a_max]|.

Boundary handling (``boundary=``): ``"renormalize"`` (default) divides the kernel by the share
Z(c) of its mass inside [a_min, a_max], so pi_h is a proper density and every estimator targets
V(pi_h). ``"none"`` is the textbook kernel: near an edge up to half of the kernel mass falls
where no action is ever logged, and the estimate is biased down there by a factor that does not
shrink with n.

Estimators (all on the same per-row terms, one shared set of bootstrap resamples):

=========  ==============================================================================
"ips"      E_n[w r],  w = pi_h(a | x) / p_b(a | x)
"snips"    E_n[w r] / E_n[w]  (re-normalised inside every bootstrap replicate)
"dr"       E_n[q_hat(x, pi_h) + w (r - q_hat(x, a))]; q_hat(x, pi_h) = ∫ pi_h(a|x) q_hat(x, a) da
           (``dr_direct="smoothed"``: unbiased for V(pi_h) whatever q_hat) or q_hat(x, c)
           (``dr_direct="center"``, Kallus & Zhou's form: it targets V(pi) and its bias is
           O(h^2) times the error of q_hat rather than of q)
"dm"       E_n[q_hat(x, pi_h)] (or q_hat(x, c))
=========  ==============================================================================

Intervals come from :mod:`workbench._engine` (hashed Poisson bootstrap by default) and
:mod:`workbench._intervals`; they cover V(pi_h) (the smoothed policy's value), not V(pi): the
smoothing bias is not in the interval, which is why :func:`bandwidth_sweep` reports it.
"""
from __future__ import annotations

import warnings
from typing import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GroupKFold

from .._engine import Resampling, ReplicateAccumulator, influence_values, is_single_unit, replicate_sd, unit_index
from .._intervals import interval as _interval
from .._kernels import KERNELS, check_kernel_args, smoothed_density, smoothed_quadrature
from .._random import check_random_state, seed_key, seed_unseeded
from .._validation import (ValidationError, as_array, check_alpha, check_bool, check_choice, check_finite, check_int,
                           check_real, numeric_output, raise_if_any)
from ..data.continuous_log import ContinuousBanditLog
from ..results import Estimate
from .estimators import estimator_key, estimator_specs
from .evaluate import (FEW_TERMS, OPEDiagnosticWarning, check_row_order, informative_terms, no_weight_message,
                       single_unit_message, weight_alarms, weight_sums)
from .reward_models import RewardModelScorer, _check_classes, _expected, call_seed

CONTINUOUS_ESTIMATORS = ("ips", "snips", "dr", "dm")
# Predictions per chunk of rows in ContinuousRewardModel.predict (bounds the design's memory).
_PREDICT_CHUNK = 2**20
# Gauss-Legendre nodes per side of the kernel for q_hat(x, pi_h): 2 * 24 = 48 predictions per row.
_QUAD_NODES = 24
CONTINUOUS_INTERVALS = ("percentile", "bca", "normal", "basic")
# Term-matrix columns: 0 = w r, 1 = w, 2 = DR term, 3 = DM term.
_COMBINE = {
    "ips": lambda m: m[..., 0],
    "snips": lambda m: m[..., 0] / m[..., 1],
    "dr": lambda m: m[..., 2],
    "dm": lambda m: m[..., 3],
}

__all__ = ["CONTINUOUS_ESTIMATORS", "KERNELS", "ContinuousRewardModel", "smoothed_policy_weights",
           "evaluate_continuous_policy", "kernel_estimate", "bandwidth_sweep", "bandwidth_monte_carlo"]


# -- inputs -------------------------------------------------------------------------------------
def _kernel_args(kernel, bandwidth, boundary, field: str = "bandwidth") -> float:
    # checked here too so that the error names the caller's field (check_kernel_args says "bandwidth")
    h = check_real(bandwidth, field)
    if not h > 0:
        raise ValidationError(field, f"must be a finite number > 0, got {bandwidth!r}")
    return check_kernel_args(kernel, h, boundary)


def _check_log(log) -> ContinuousBanditLog:
    if not isinstance(log, ContinuousBanditLog):
        raise ValidationError("log", f"must be a workbench.data.ContinuousBanditLog, got {type(log).__name__}",
                              hint="Build one with ContinuousBanditLog(action=..., reward=..., density=..., "
                                   "a_min=..., a_max=...)")
    return log


def _target_centers(log: ContinuousBanditLog, target_action) -> np.ndarray:
    """The deterministic target's action per row: an array (n,) or a callable of the context."""
    if callable(target_action):
        if log.context is None:
            raise ValidationError("target_action", "is a callable but the log has no context")
        target_action = target_action(log.context)
    # a Series sorted on its own (a 0..n-1 index in another order) would be read by position: refused, as the
    # discrete policy frames are; booleans are no actions (a price of True), as ContinuousBanditLog says
    check_row_order(target_action, "target_action", len(log))
    raw = as_array(target_action, "target_action", ndim=1)
    if raw.dtype == bool:
        raise ValidationError("target_action", "must be actions (numbers), got booleans")
    c = check_finite(raw, "target_action")
    if c.shape[0] != len(log):
        raise ValidationError("target_action", f"must have one action per row: got {c.shape[0]}, expected {len(log)}")
    raise_if_any((c < log.a_min) | (c > log.a_max), "target_action",
                 f"must be within [a_min, a_max] = [{log.a_min:g}, {log.a_max:g}]", c)
    return c


def smoothed_policy_weights(log: ContinuousBanditLog, target_action, bandwidth: float,
                            kernel: str = "epanechnikov", boundary: str = "renormalize") -> np.ndarray:
    """Importance weights pi_h(a_i | x_i) / p_b(a_i | x_i) of the kernel-smoothed target policy.

    Bounded by max K / (h Z_min p_min) (for the box kernel 1 / (h p_min) away from the edges):
    small bandwidths or small logging densities make large weights.

    Examples
    --------
    >>> from workbench.data import simulate_pricing
    >>> from workbench.ope.continuous import smoothed_policy_weights
    >>> log, truth = simulate_pricing(1000, random_state=0)
    >>> w = smoothed_policy_weights(log, truth.optimal_action(), bandwidth=0.5, kernel="box")
    >>> bool(w.min() >= 0)
    True
    """
    log = _check_log(log)
    h = _kernel_args(kernel, bandwidth, boundary)
    c = _target_centers(log, target_action)
    return _kernel_weights(log, c, h, kernel, boundary)


def _kernel_weights(log, centers, h, kernel, boundary) -> np.ndarray:
    """pi_h(a_i | x_i) / p_b(a_i | x_i), refused when it leaves the float range (an inf weight made
    ips inf and snips inf / inf = NaN, silently)."""
    with np.errstate(over="ignore"):  # detected below, with the row
        w = smoothed_density(log.action, centers, h, kernel, log.a_min, log.a_max, boundary) / log.density
    raise_if_any(~np.isfinite(w), "weights", "the kernel weights pi_h(a | x) / p_b(a | x) must be finite, but "
                 f"overflow the float range at bandwidth {h:g}", log.density,
                 hint="the value shown is the row's logging density; use a larger bandwidth")
    return w


# -- reward model -------------------------------------------------------------------------------
class ContinuousRewardModel:
    """q_hat(x, a) for a continuous action, cross-fitted by default.

    Parameters
    ----------
    model : scikit-learn regressor or classifier, or callable
        A regressor is cloned and fitted on the features [context, action] with K-fold
        cross-fitting (a classifier's prediction is its expected reward ``predict_proba @ classes_``,
        P(reward = 1) for 0/1 rewards, as in :func:`workbench.ope.cross_fit_predict`): each row's predictions (at its logged action, at the target action and at
        the quadrature nodes) come from the model that did not see that row. A callable
        ``f(context, action) -> predictions`` (both with one row per prediction) is used as is;
        it must not have been fitted on the evaluation rows.
    n_folds : int
        Folds for cross-fitting (>= 2; default 5). Grouped by ``log.unit_id`` when the log has one
        (all rows of a unit in one fold, as :func:`workbench.ope.cross_fit_predict` does).
    random_state : int, Generator or None
        Shuffles the folds.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import Ridge
    >>> from workbench.data import simulate_pricing
    >>> from workbench.ope import ContinuousRewardModel, evaluate_continuous_policy
    >>> log, truth = simulate_pricing(1000, random_state=0)
    >>> model = ContinuousRewardModel(Ridge(), n_folds=3).fit(log)
    >>> model.predict(log.action).shape  # out-of-fold q_hat(x_i, a_i)
    (1000,)
    >>> model.predict(np.tile([2.0, 5.0], (len(log), 1))).shape  # two prices per row
    (1000, 2)
    >>> out = evaluate_continuous_policy(log, truth.optimal_action(), bandwidth=0.5, estimators=["ips", "dr"],
    ...                                  reward_model=model, n_bootstrap=200)
    >>> out["estimator"].tolist(), out["value"].round(2).tolist()
    (['ips', 'dr'], [3.42, 3.35])
    >>> round(truth.policy_value(truth.optimal_action(), bandwidth=0.5), 2)  # the smoothed policy's value
    3.57
    """

    def __init__(self, model, n_folds: int = 5, random_state=0):
        if isinstance(model, type):  # Ridge, not Ridge(): callable, but clone() raised a TypeError
            raise ValidationError("reward_model", f"must be an estimator instance, got the class {model.__name__}",
                                  hint=f"pass {model.__name__}()")
        if not (callable(model) or hasattr(model, "fit")):
            raise ValidationError("reward_model", "must be a scikit-learn regressor or a callable f(context, action)")
        if isinstance(model, RewardModelScorer):  # one argument: it was a TypeError about __call__ at predict time
            raise ValidationError("reward_model", "is a RewardModelScorer, a reward model of discrete actions "
                                  "(contexts -> one reward per action); a continuous action needs q(context, action)",
                                  hint="pass a scikit-learn regressor (cross-fitted on [context, action]) or a "
                                       "callable f(context, action)")
        # >= 2 so no row is predicted by a model fitted on it; int(2.5) would silently be 2 folds.
        n_folds = check_int(n_folds, "n_folds", low=2)
        check_random_state(random_state)  # checked here, also for a callable model, which never uses it
        self.model, self.n_folds, self.random_state = model, n_folds, random_state
        self.fold_ = None
        self.models_ = None

    def fit(self, log: ContinuousBanditLog) -> "ContinuousRewardModel":
        """Cross-fit the regressor on ``[context, action]`` over ``n_folds`` folds of ``log`` (a callable
        model needs no fitting); returns ``self``. :meth:`predict` then gives out-of-fold predictions."""
        log = _check_log(log)  # a discrete BanditLog was fitted on its action indices as if they were prices
        self.log_ = log
        if hasattr(self.model, "fit"):
            n = len(log)
            if n < self.n_folds:
                raise ValidationError("n_folds", f"is {self.n_folds} but the log has only {n} rows")
            _check_classes(self.model, log.reward, "reward_model")  # before the folds (sklearn: "Unknown label type")
            # an unseeded randomised regressor gave other predictions on each fit (read before the folds draw)
            model = seed_unseeded(self.model, self.random_state)
            rng = check_random_state(self.random_state)
            if log.unit_id is None:
                self.fold_ = rng.permutation(np.arange(n) % self.n_folds)
            else:
                # grouped by unit, as cross_fit_predict does for discrete actions: a model that saw some of a
                # user's rows predicted that user's other rows, in-sample in all but name
                n_units = np.unique(log.unit_id).size
                if n_units < self.n_folds:
                    raise ValidationError("n_folds", f"must be at most the number of units ({n_units}), got "
                                                     f"{self.n_folds}")
                self.fold_ = np.empty(n, np.int64)
                seed = int(rng.integers(2**31 - 1))
                for k, (_, test) in enumerate(GroupKFold(n_splits=self.n_folds, shuffle=True, random_state=seed)
                                              .split(np.empty((n, 1)), groups=log.unit_id)):
                    self.fold_[test] = k
            X = self._features(log.context, log.action)
            self.models_ = []
            classifier = is_classifier(model)
            for k in range(self.n_folds):  # a loop over the folds, each one vectorised fit
                y = log.reward[self.fold_ != k]
                if classifier and (y == y[0]).all():
                    # one reward value in the training folds: the expected reward a classifier gives after
                    # seeing one class (as cross_fit_predict does); LogisticRegression refused to fit
                    self.models_.append(float(y[0]))
                else:
                    self.models_.append(clone(model).fit(X[self.fold_ != k], y))
        return self

    @staticmethod
    def _features(context, action):
        a = np.asarray(action, dtype=np.float64)[:, None]
        return a if context is None else np.hstack([context, a])

    def predict(self, action) -> np.ndarray:
        """Out-of-fold q_hat(x_i, a) for one action per row (n,) or m actions per row (n, m)."""
        log = getattr(self, "log_", None)
        if log is None:
            raise ValidationError("reward_model", "is not fitted: call fit(log) before predict")
        # numbers, finite: dtype=float parsed the text "2.5", and a NaN action was scikit-learn's bare error
        a = check_finite(as_array(action, "action", ndim=(1, 2)), "action")
        n = len(log)
        if a.shape[0] != n:
            raise ValidationError("action", f"must have one row per row of the log: got {a.shape[0]}, expected {n}")
        m = 1 if a.ndim == 1 else a.shape[1]
        if m == 0:  # no action per row: nothing to predict (the chunk size below divided by m)
            return np.empty(a.shape)
        a2 = a.reshape(n, m)
        out = np.empty((n, m))
        # Rows in chunks of about _PREDICT_CHUNK predictions: the design repeats each row's context
        # m times (m = 48 quadrature nodes for dr / dm), so in one go it took (n m) x (d + 1) floats
        # several times over.
        step = max(1, _PREDICT_CHUNK // m)
        for r0 in range(0, n, step):  # chunks of rows, each one vectorised predict per fold
            out[r0:r0 + step] = self._predict_rows(a2[r0:r0 + step], r0)
        pred = out.reshape(-1)
        raise_if_any(~np.isfinite(pred), "reward_model", "predictions must be finite", pred)
        return out.reshape(a.shape)

    def _predict_rows(self, a2: np.ndarray, r0: int) -> np.ndarray:
        """q_hat for the log's rows r0.. r0 + len(a2) at the (rows, m) actions ``a2`` (not checked finite)."""
        log = self.log_
        r1, m = r0 + a2.shape[0], a2.shape[1]
        flat = a2.reshape(-1)
        ctx = None if log.context is None else np.repeat(log.context[r0:r1], m, axis=0)
        if self.models_ is None:
            pred = numeric_output(self.model(ctx, flat), "reward_model").reshape(-1)
        else:
            X = self._features(ctx, flat)
            fold = np.repeat(self.fold_[r0:r1], m)
            pred = np.empty(flat.shape[0])
            for k, mod in enumerate(self.models_):  # a loop over folds, not rows
                rows = fold == k
                if rows.any():
                    # a classifier's expected reward, predict_proba @ classes_ (P(purchase) for 0/1 rewards), as
                    # the discrete reward models read it: its predict gave hard 0/1 labels, and DM on them was
                    # 0.81 [0.80, 0.82] for a truth of 0.60 in the probe
                    pred[rows] = mod if isinstance(mod, float) else _expected(mod, X[rows])
        if pred.shape[0] != flat.shape[0]:
            raise ValidationError("reward_model", f"returned {pred.shape[0]} predictions for {flat.shape[0]} inputs")
        return pred.reshape(a2.shape)


def _as_reward_model(reward_model, log, n_folds, random_state):
    """The cross-fitted q_hat for ``log``. A ContinuousRewardModel keeps its own folds and seed: an ``n_folds``
    that says otherwise is refused (it was silently ignored), and a model fitted on another log is refitted
    as a copy, so the caller's object still predicts for the log it was fitted on (it was refitted in place)."""
    if n_folds is not None:
        n_folds = check_int(n_folds, "n_folds", low=2)
    if reward_model is None:
        return None
    if isinstance(reward_model, ContinuousRewardModel):
        if n_folds is not None and n_folds != reward_model.n_folds:
            raise ValidationError("n_folds", f"is {n_folds}, but the ContinuousRewardModel passed as reward_model "
                                             f"cross-fits with its own n_folds={reward_model.n_folds}",
                                  hint="set the folds on the model (ContinuousRewardModel(..., n_folds=...)), or "
                                       "pass the bare regressor with n_folds")
        if getattr(reward_model, "log_", None) is log:
            return reward_model
        return ContinuousRewardModel(reward_model.model, reward_model.n_folds, reward_model.random_state).fit(log)
    return ContinuousRewardModel(reward_model, 5 if n_folds is None else n_folds, random_state).fit(log)


# -- the term matrix ----------------------------------------------------------------------------
def _terms(log, centers, h, kernel, boundary, qmodel, dr_direct, q_logged=None):
    w = _kernel_weights(log, centers, h, kernel, boundary)
    T = np.zeros((len(log), 4))
    T[:, 0] = w * log.reward
    T[:, 1] = w
    if qmodel is not None:
        q_a = qmodel.predict(log.action) if q_logged is None else q_logged
        if dr_direct == "center":
            dm = qmodel.predict(centers)
        else:
            # q_hat(x, pi_h) by quadrature, in chunks of rows: the nodes, their weights and the
            # predictions are (rows x 48) each, and the whole log at once peaked at 4.9 GB for 1e6 rows
            # (3 context columns), now about 0.5 GB.
            n = len(log)
            dm = np.empty(n)
            step = max(1, _PREDICT_CHUNK // (2 * _QUAD_NODES))
            for r0 in range(0, n, step):  # chunks of rows, each vectorised
                c = centers[r0:r0 + step]
                nodes, wts = smoothed_quadrature(c, h, kernel, log.a_min, log.a_max, boundary, _QUAD_NODES)
                dm[r0:r0 + c.shape[0]] = np.sum(wts * qmodel._predict_rows(nodes, r0), axis=1)
            # a non-finite prediction makes its row's q_hat(x, pi_h) non-finite (0 * inf is NaN too)
            raise_if_any(~np.isfinite(dm), "reward_model", "predictions must be finite (at the quadrature nodes)",
                         dm)
        T[:, 2] = dm + w * (log.reward - q_a)
        T[:, 3] = dm
    else:
        T[:, 2:] = np.nan
    return T, w


def _check_estimators(estimators, qmodel, options=CONTINUOUS_ESTIMATORS):
    # the same reading as evaluate_policy: one name is a list of one; names are case- and blank-insensitive
    estimators = [estimator_key(e) if isinstance(e, str) else e
                  for e in estimator_specs(estimators, rule="must be a non-empty sequence of estimator names")]
    if len(set(estimators)) < len(estimators):  # "ips" and "IPS" gave two "ips" rows (evaluate_policy refuses it)
        repeated = sorted({e for e in estimators if estimators.count(e) > 1})
        raise ValidationError("estimators", f"names must be unique, got {estimators}; repeated: {repeated}")
    for e in estimators:
        check_choice(e, "estimators", options)
        if e in ("dr", "dm") and qmodel is None:
            raise ValidationError("reward_model", f"is needed for {e!r}",
                                  hint="pass a scikit-learn regressor (cross-fitted on [context, action]) "
                                       "or a callable f(context, action)")
    return estimators


def _weight_diagnostics(w):
    # scaled sums: w * w overflowed (and ess was NaN) for weights above ~1e154, e.g. at a bandwidth of 1e-300
    s1, s2, scale = weight_sums(w)
    return {"ess": float(s1 * s1 / s2) if s2 > 0 else 0.0, "mean_weight": float(s1 / w.size * scale),
            "max_weight": float(w.max()), "share_zero_weight": float(np.mean(w == 0))}


def _intervals_for(T, acc, estimators, alpha, method, ids=None, warn=True):
    rows = []
    means = acc.means
    reps_all = acc.replicate_means
    # One row, or one unit: every resample holds the same data, so the interval would have width 0
    # (a false certainty). NaN instead, with a warning, as evaluate_policy does (none with warn=False: the
    # NaN intervals say it).
    one_unit = is_single_unit(T.shape[0], ids)
    if one_unit and warn:
        warnings.warn(single_unit_message(ids is not None), OPEDiagnosticWarning, stacklevel=3)
    units = None
    if ids is not None and method == "bca":  # BCa: per-unit influence (the multinomial scheme numbered the units)
        units = acc.units if acc.units is not None else unit_index(ids)[0]
    for e in estimators:
        comb = _COMBINE[e]
        # snips is 0 / 0 when no row gets weight (the target's kernel covers no logged action): NaN,
        # which the intervals skip, without numpy's division warnings
        with np.errstate(invalid="ignore", divide="ignore"):
            theta = float(comb(means[None, :])[0])
            if one_unit:
                rows.append((e, theta, float("nan"), float("nan"), float("nan")))
                continue
            reps = np.asarray(comb(reps_all), dtype=np.float64)
            se = replicate_sd(reps)
            infl = influence_values(T, means, comb, units, normalized=True) if method == "bca" else None
            lo, hi = _interval(method, theta, reps, alpha, influence=infl, se=se)
        rows.append((e, theta, float(lo), float(hi), se))
    return rows


def _few_terms_message(ess_terms: float, h: float) -> str:
    """The continuous diagnostics' clause for few informative rows: the test and the threshold of the
    discrete one (:func:`workbench.ope.evaluate.few_terms_message`), whose remedies do not fit kernel
    weights (here there is no sndr, no clipped IPS and no Bernstein interval, and the bandwidth decides
    how many logged rows the target's kernel meets)."""
    return (f"the kernel-weighted estimate rests on few informative rows: ess_terms = {ess_terms:.3g}, below "
            f"{FEW_TERMS:g} (the effective number of non-zero terms w (r - c), c the lowest or highest reward among "
            f"the rows inside the target's kernel at bandwidth {h:g}: with a mostly-zero reward such as revenue "
            "from rare purchases, about the number of rewarded rows in the kernel, fewer when a few weights "
            "dominate); a sum of so few terms is far from normal, so the bootstrap interval covers V(pi_h) less "
            "often than it claims, however large the kernel weights' effective sample size: use a larger bandwidth "
            "(more logged rows inside the kernel, at the price of smoothing bias: see bandwidth_sweep), dr with a "
            "reward model that borrows strength from the other rows, or collect more data")


def _weight_warning(w: np.ndarray, h: float, check_mean: bool = True, ess_terms: float | None = None) -> str | None:
    """The diagnostics warning of a continuous-action evaluation (None: nothing to report), with the
    thresholds of the discrete one (:func:`workbench.ope.evaluate.diagnostics_message`) in the words of
    kernel weights and logging densities. ``ess_terms`` (:func:`~workbench.ope.evaluate.informative_terms`
    of the kernel weights and the rewards; None when no estimator of the call weighs rows, i.e. dm
    alone): below :data:`~workbench.ope.evaluate.FEW_TERMS` it adds the few-informative-rows clause."""
    n = w.size
    mean_w, ess, z, thin = weight_alarms(n, *weight_sums(w))  # scaled when w^2 leaves the float range
    msgs = []
    # (not with boundary="none": the kernel's mass outside [a_min, a_max] then lowers E[w] by design)
    if check_mean and z:
        # E[w] = 1 when the densities are right and the logger covers the kernel's window around the target
        msgs.append(f"the mean kernel weight is {mean_w:.4g}, {z:.3g} standard errors from 1 (its expectation when "
                    "the density column is the logger's density at the logged action and the logger covers the "
                    "target's window): check the density column, or expect ips to be off; snips is less sensitive")
    if thin:
        msgs.append(f"the effective sample size of the kernel weights is {ess:.3g} of {n} rows (max weight "
                    f"{float(w.max()):.4g}, bandwidth {h:g}): the estimate rests on a handful of rows and its interval "
                    "can miss; use a larger bandwidth, snips or dr, or a target closer to the logged actions")
    if ess_terms is not None and ess_terms < FEW_TERMS:  # NaN compares False
        msgs.append(_few_terms_message(ess_terms, h))
    return "off-policy diagnostics: " + "; ".join(msgs) + "." if msgs else None


def evaluate_continuous_policy(log: ContinuousBanditLog, target_action, *, bandwidth: float,
                               kernel: str = "epanechnikov", estimators: Sequence[str] = ("ips", "snips"),
                               reward_model=None, boundary: str = "renormalize", dr_direct: str = "smoothed",
                               alpha: float = 0.05, n_bootstrap: int = 1000, interval: str = "percentile",
                               resampling: str = "poisson", n_folds: int | None = None, random_state=0,
                               warn: bool = True) -> pd.DataFrame:
    """Value of a kernel-smoothed deterministic policy from a continuous-action log, with intervals.

    Parameters
    ----------
    log : ContinuousBanditLog
        Logged actions, rewards and logging **densities**.
    target_action : array (n,) or callable
        The deterministic target's action per row, or a function of ``log.context`` returning it.
        Must lie in [a_min, a_max].
    bandwidth : float
        Kernel half-width h (in action units; the Gaussian uses h as its standard deviation).
        Small h: little smoothing bias, high variance; large h: the reverse. Any float from
        2.2e-308 (the smallest normal float) up; far beyond the action range, the renormalised
        pi_h is the uniform density on [a_min, a_max] (its limit, reached smoothly). Weights that
        overflow the float range (a tiny h over a tiny density) raise a ValidationError.
    kernel : {"epanechnikov", "triangular", "gaussian", "cosine", "box"}
    estimators : sequence of {"ips", "snips", "dr", "dm"}
        Case and surrounding blanks ignored, as in :func:`~workbench.ope.evaluate_policy`; a single
        name counts as a list of one.
    reward_model : scikit-learn regressor or classifier, callable f(context, action) or ContinuousRewardModel
        Needed by "dr" and "dm"; a model is cross-fitted (``n_folds``) on [context, action] (a
        classifier predicts its expected reward ``predict_proba @ classes_``). A ContinuousRewardModel
        keeps its own ``n_folds`` and ``random_state``; one fitted on another log is refitted as a copy
        (the object passed is not changed).
    n_folds : int or None
        Cross-fitting folds of a bare model (None: 5). With a ContinuousRewardModel, None or its own
        ``n_folds``; another number is an error (it would be silently ignored).
    boundary : {"renormalize", "none"}
        How the kernel is treated at the edges of [a_min, a_max] (see the module docstring).
    dr_direct : {"smoothed", "center"}
        Direct part of DR / DM: the q_hat-average under pi_h, or q_hat at the target action.
    alpha : float
        1 - confidence level.
    n_bootstrap : int
        Bootstrap replicates (shared by all estimators).
    interval : {"percentile", "bca", "normal", "basic"}
    resampling : {"poisson", "multinomial"}
        Hashed Poisson(1) weights (streamable) or the classic multinomial bootstrap. Both resample
        ``log.unit_id`` clusters when given (multinomial: units drawn with replacement).
    random_state : int, Generator or None
        Seeds the resamples and the cross-fitting folds. A Generator gives one key, its next draw, and the
        call runs as with that int, so the resamples do not depend on whether a reward model is fitted.
    warn : bool
        Emit an :class:`~workbench.ope.OPEDiagnosticWarning` when the kernel weights' effective
        sample size is small (below max(30, 1% of rows)) or their mean is far from 1 (not with
        ``boundary="none"``, where the kernel's mass outside the action range lowers it by
        design), or when a weighting estimator (ips, snips, dr) rests on fewer than 10 informative
        rows (``ess_terms``), with the thresholds of :func:`~workbench.ope.evaluate_policy` (the
        ``ess``, ``mean_weight`` and ``ess_terms`` columns report them either way). One warning per call.
        ``warn=False`` silences every diagnostics warning of the call: these, the one when no row gets
        weight, and the one for a single row or unit (the frame's ``ess``, ``share_zero_weight`` and NaN
        intervals report those).

    Returns
    -------
    DataFrame
        One row per estimator: ``estimator, value, ci_low, ci_high, se, alpha, method, n,
        bandwidth, kernel, boundary, ess, mean_weight, max_weight, share_zero_weight,
        n_bootstrap, interval, ess_terms``. ``method`` and ``interval`` both hold the interval kind
        (``interval`` is the name :func:`~workbench.ope.evaluate_policy`'s frame uses). The
        interval is a bootstrap interval for V(pi_h), the value of the *smoothed* policy:
        asymptotically it covers V(pi_h) with probability 1 - alpha when the logging densities
        are right (checked by simulation in the tests); it does not account for the smoothing
        bias V(pi_h) - V(pi). ``mean_weight`` should be near 1 with
        ``boundary="renormalize"`` (far from 1 flags wrong densities); a small ``ess`` means few rows inform the estimate.
        ``ess_terms`` is the effective number of informative rows, :func:`~workbench.ope.evaluate.informative_terms`
        of the kernel weights and the rewards (with a mostly-zero reward, about the number of rewarded rows
        inside the target's kernel; NaN for dm): below 10 the interval under-covers V(pi_h) however large
        ``ess`` is (measured in the tests: 0.78 with ~2 purchases in the kernel).
        When every weight is 0 (the kernel around the target covers no logged action) an
        :class:`~workbench.ope.evaluate.OPEDiagnosticWarning` says so (snips is then NaN), unless ``warn=False``.
        With a single row, or a single ``unit_id``, no resample differs from the log: ``ci_low``,
        ``ci_high`` and ``se`` are NaN, with an :class:`~workbench.ope.evaluate.OPEDiagnosticWarning` unless
        ``warn=False``.

    Examples
    --------
    >>> from workbench.data import simulate_pricing
    >>> from workbench.ope.continuous import evaluate_continuous_policy
    >>> log, truth = simulate_pricing(3000, random_state=0)
    >>> out = evaluate_continuous_policy(log, truth.optimal_action(), bandwidth=0.5, n_bootstrap=200)
    >>> list(out["estimator"])
    ['ips', 'snips']
    >>> bool((out["ci_low"] <= out["ci_high"]).all())
    True
    """
    log = _check_log(log)
    h = _kernel_args(kernel, bandwidth, boundary)
    check_choice(dr_direct, "dr_direct", ("smoothed", "center"))
    check_choice(interval, "interval", CONTINUOUS_INTERVALS)
    check_choice(resampling, "resampling", ("poisson", "multinomial"))
    alpha = check_alpha(alpha)
    warn = check_bool(warn, "warn")  # "no" is truthy
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=2)  # named as the caller knows it, not "n_replicates"
    centers = _target_centers(log, target_action)
    # a Generator draws its key once, here: the folds' permutation drew from it first when a reward model was
    # given, so ips' resamples (and interval) moved with the reward model
    random_state = call_seed(random_state)
    qmodel = _as_reward_model(reward_model, log, n_folds, random_state)
    estimators = _check_estimators(estimators, qmodel)
    T, w = _terms(log, centers, h, kernel, boundary, qmodel, dr_direct)
    if qmodel is None:
        T = T[:, :2]  # the DR / DM columns are undefined without a reward model
    rs = Resampling.make(n_bootstrap, resampling, random_state)
    acc = ReplicateAccumulator(T.shape[1], rs).add(T, log.unit_id)  # units resampled whole, by either scheme
    diag = _weight_diagnostics(w)
    # ips, snips and dr all weigh rows by w (dm has no weighted terms: NaN), so one value serves them
    ess_terms = informative_terms(w, log.reward)
    # warn=False silences every diagnostics warning of the call, this one too (it was issued regardless, once
    # per bandwidth in bandwidth_sweep): ess 0 and share_zero_weight 1 in the frame report it either way
    if warn and len(log) and not np.any(w > 0):  # the test of evaluate_policy's diagnostics (sum of squared weights 0)
        warnings.warn(no_weight_message(
            f"the smoothed target policy's kernel (bandwidth {h:g}) covers no logged action, pi_h(a | x) = 0 on "
            "every row", "ips reports 0 with a zero-width interval, snips NaN, dr / dm only the reward model's "
            "extrapolation", "Use a larger bandwidth, a target closer to the logged actions, or log data with a policy "
            "that explores the target's actions."), OPEDiagnosticWarning, stacklevel=2)
    elif warn and len(log):
        weighted = any(e != "dm" for e in estimators)  # the clause is about the weighted estimators
        msg = _weight_warning(w, h, check_mean=boundary != "none", ess_terms=ess_terms if weighted else None)
        if msg:
            warnings.warn(msg, OPEDiagnosticWarning, stacklevel=2)
    out = []
    for e, theta, lo, hi, se in _intervals_for(T, acc, estimators, alpha, interval, log.unit_id, warn=warn):
        out.append({"estimator": e, "value": theta, "ci_low": lo, "ci_high": hi, "se": se, "alpha": alpha,
                    "method": interval, "n": len(log), "bandwidth": h, "kernel": kernel, "boundary": boundary,
                    **diag, "n_bootstrap": rs.n_replicates,
                    # the interval kind again, under evaluate_policy's name, so code reading either frame
                    # finds it as "interval"; "method" stays (existing code reads it)
                    "interval": interval,
                    # appended after the existing columns, so their order (and position) is unchanged
                    "ess_terms": float("nan") if e == "dm" else ess_terms})
    return pd.DataFrame(out)


def kernel_estimate(log: ContinuousBanditLog, target_action, *, bandwidth: float, estimator: str = "ips",
                    **kwargs) -> Estimate:
    """One estimator of :func:`evaluate_continuous_policy` as an :class:`~workbench.results.Estimate`.

    ``estimator`` is one name among :data:`CONTINUOUS_ESTIMATORS`; ``kwargs`` are the other keywords of
    :func:`evaluate_continuous_policy` (``kernel``, ``reward_model``, ``boundary``, ``dr_direct``, ``alpha``,
    ``n_bootstrap``, ``interval``, ``resampling``, ``n_folds``, ``random_state``, ``warn``); any other keyword is a
    ValidationError naming them.

    Examples
    --------
    >>> from workbench.data import simulate_pricing
    >>> from workbench.ope.continuous import kernel_estimate
    >>> log, truth = simulate_pricing(2000, random_state=0)
    >>> e = kernel_estimate(log, truth.optimal_action(), bandwidth=0.5, estimator="snips", n_bootstrap=200)
    >>> e.name
    'snips'
    """
    if "estimators" in kwargs:  # it was a TypeError naming evaluate_continuous_policy, a function not called here
        raise ValidationError("estimators", "is not a keyword of kernel_estimate, which gives one estimator",
                              hint=f"pass estimator='ips' (one of {list(CONTINUOUS_ESTIMATORS)}), or call "
                                   "evaluate_continuous_policy(..., estimators=[...]) for several")
    allowed = _kernel_estimate_keywords()
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:  # it was a TypeError naming evaluate_continuous_policy, a function the caller did not call
        raise ValidationError("kernel_estimate", f"unexpected keyword(s) {unknown}",
                              hint=f"its parameters are log, target_action, bandwidth, estimator and {allowed}")
    # its own name: a misspelt one was refused as "estimators: must be one of ...", a parameter it does not have
    if not isinstance(estimator, str):
        raise ValidationError("estimator", f"must be one estimator name among {list(CONTINUOUS_ESTIMATORS)}, got "
                                           f"{type(estimator).__name__} {estimator!r:.60}",
                              hint="for several, call evaluate_continuous_policy(..., estimators=[...])")
    check_choice(estimator_key(estimator), "estimator", CONTINUOUS_ESTIMATORS)
    frame = evaluate_continuous_policy(log, target_action, bandwidth=bandwidth, estimators=[estimator], **kwargs)
    row = frame.iloc[0]
    diag = {k: row[k] for k in ("bandwidth", "kernel", "boundary", "ess", "mean_weight", "max_weight",
                                "share_zero_weight", "n_bootstrap", "ess_terms")}
    return Estimate(float(row["value"]), float(row["ci_low"]), float(row["ci_high"]), float(row["se"]),
                    alpha=float(row["alpha"]), method=str(row["method"]), n=int(row["n"]), name=str(row["estimator"]),
                    diagnostics=diag)


def _kernel_estimate_keywords() -> list:
    """The keywords kernel_estimate passes on: evaluate_continuous_policy's, but those it sets itself."""
    import inspect

    own = {"log", "target_action", "bandwidth", "estimators"}
    return [k for k in inspect.signature(evaluate_continuous_policy).parameters if k not in own]


# -- the bandwidth trade-off ----------------------------------------------------------------------
def _check_bandwidths(bandwidths, kernel, boundary) -> np.ndarray:
    bws = np.atleast_1d(as_array(bandwidths, "bandwidths"))
    if bws.ndim != 1 or bws.size == 0:
        raise ValidationError("bandwidths", "must be a non-empty 1-D sequence of numbers")
    if bws.dtype == bool or not np.issubdtype(bws.dtype, np.number):  # True is not a bandwidth of 1
        raise ValidationError("bandwidths", f"must be numbers, got dtype {bws.dtype}")
    # by the package's rule, with the count and the first entry (NaN named no position; 1e-320 was blamed on
    # "bandwidth", a field of the caller's neighbour)
    bws = check_finite(bws, "bandwidths")
    from .._kernels import _H_MIN

    raise_if_any(bws < _H_MIN, "bandwidths", f"must be >= {_H_MIN:.4g} (positive, at least the smallest normal "
                 "float)", bws)
    return np.array([_kernel_args(kernel, h, boundary, "bandwidths") for h in bws.tolist()])


def _check_truth_matches_log(truth, log) -> None:
    """A truth that records its log's contexts (simulate_pricing's ContinuousTruth) must be this log's: the truth's
    policy value is computed on its own contexts, so another simulated log of the same length gave a "bias" column
    that compared the estimates with another log's value, silently."""
    tc = getattr(truth, "context", None)
    lc = getattr(log, "context", None)
    if truth is None or tc is None or lc is None:
        return
    tc, lc = np.asarray(tc), np.asarray(lc)
    if tc.shape != lc.shape:
        raise ValidationError("truth", f"describes another log: its contexts have shape {tc.shape}, the log's "
                                       f"{lc.shape}")
    differ = ~np.isclose(tc, lc, rtol=1e-12, atol=0.0, equal_nan=True)
    raise_if_any(differ.reshape(differ.shape[0], -1).any(axis=1), "truth",
                 "must describe this log: its contexts differ from the log's", hint="pass the truth that came "
                 "with this log (log, truth = simulate_pricing(...))")


def bandwidth_sweep(log: ContinuousBanditLog, target_action, bandwidths: Sequence[float], *,
                    kernel: str = "epanechnikov", estimators: Sequence[str] = ("ips", "snips"), truth=None,
                    reward_model=None, boundary: str = "renormalize", dr_direct: str = "smoothed",
                    alpha: float = 0.05, n_bootstrap: int = 500, interval: str = "percentile",
                    n_folds: int | None = None, random_state=0) -> pd.DataFrame:
    """Estimates, standard errors and (with a known truth) smoothing bias across bandwidths.

    All bandwidths share one seed, so with the Poisson scheme every bandwidth sees the same
    resampling weights per row and differences between bandwidths are not resampling noise. The
    reward model is fitted once.

    Parameters
    ----------
    truth : object with ``policy_value(target_action, bandwidth=None, kernel=..., boundary=...)``, optional
        E.g. the :class:`workbench.data.ContinuousTruth` of a simulation. Fills the columns
        ``true_value`` (V(pi), the deterministic policy), ``smoothed_value`` (V(pi_h), what the
        estimators are unbiased for), ``smoothing_bias`` = V(pi_h) - V(pi), ``error`` =
        value - V(pi) and ``rmse_proxy`` = sqrt(smoothing_bias^2 + se^2), the bias-variance
        trade-off of one log (its minimiser is a sensible bandwidth). Without a truth these five
        columns are there too, NaN, so the table has one layout whatever ``truth`` is.
    Other parameters are those of :func:`evaluate_continuous_policy`.

    Returns
    -------
    DataFrame, one row per (bandwidth, estimator), with the columns of :func:`evaluate_continuous_policy`,
    then the five truth columns (NaN without ``truth``), then ``ess_terms`` last: the same columns in the same
    order with or without ``truth``. No warning: read ``ess``, ``mean_weight`` and ``ess_terms`` per bandwidth.

    Examples
    --------
    >>> from workbench.data import simulate_pricing
    >>> from workbench.ope.continuous import bandwidth_sweep
    >>> log, truth = simulate_pricing(2000, random_state=0)
    >>> out = bandwidth_sweep(log, truth.optimal_action(), [0.25, 1.0, 4.0], truth=truth, n_bootstrap=100)
    >>> sorted(out.columns[:6])
    ['bandwidth', 'ci_high', 'ci_low', 'estimator', 'se', 'value']
    """
    log = _check_log(log)
    bws = _check_bandwidths(bandwidths, kernel, boundary)
    if truth is not None and not callable(getattr(truth, "policy_value", None)):
        # before any bandwidth is evaluated: truth=5 was an AttributeError after the first one
        raise ValidationError("truth", "must be None or an object with policy_value(target_action, bandwidth=..., "
                                       f"kernel=..., boundary=...), e.g. the ContinuousTruth of simulate_pricing; "
                                       f"got {truth!r}")
    _check_truth_matches_log(truth, log)
    centers = _target_centers(log, target_action)
    # a Generator draws its key once, before the folds (as in evaluate_continuous_policy)
    random_state = call_seed(random_state)
    qmodel = _as_reward_model(reward_model, log, n_folds, random_state)
    # One key for all bandwidths: a Generator (or None) passed to every call would give each
    # bandwidth different resamples. An int is its own key, so int seeds give the same results as before.
    random_state = seed_key(random_state)
    frames = []
    for h in bws:  # a loop over bandwidths (a handful), each fully vectorised
        # no per-bandwidth warning: the table's ess and mean_weight columns show the same for every h
        f = evaluate_continuous_policy(log, centers, bandwidth=float(h), kernel=kernel, estimators=estimators,
                                       reward_model=qmodel, boundary=boundary, dr_direct=dr_direct, alpha=alpha,
                                       n_bootstrap=n_bootstrap, interval=interval, random_state=random_state,
                                       warn=False)
        if truth is not None:
            # check_real, not float(): a value returned as text must not be parsed
            v = check_real(truth.policy_value(centers), "truth.policy_value")
            vh = check_real(truth.policy_value(centers, bandwidth=float(h), kernel=kernel, boundary=boundary),
                            "truth.policy_value")
        else:  # the same columns without a truth, NaN: the table's layout does not depend on truth=
            v = vh = float("nan")
        f["true_value"] = v
        f["smoothed_value"] = vh
        f["smoothing_bias"] = vh - v
        f["error"] = f["value"] - v
        f["rmse_proxy"] = np.sqrt((vh - v) ** 2 + f["se"] ** 2)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    first = ["bandwidth", "estimator", "value", "ci_low", "ci_high", "se"]
    # ess_terms last, after the truth columns: one column order with or without truth (the truth columns were
    # added only with a truth, which moved ess_terms from position 18 to the end)
    last = ["ess_terms"]
    return out[first + [c for c in out.columns if c not in first + last] + last]


def _bandwidth_replicate(simulate, target, hs, kernel, boundary, estimators, seed):
    """One replicate of :func:`bandwidth_monte_carlo`: the estimates (bandwidths, estimators), the
    smoothing error V(pi_h) - V(pi) per bandwidth, and V(pi), on the log ``simulate`` draws from ``seed``."""
    from .selection import _check_simulated

    log, truth = _check_simulated(simulate(np.random.default_rng(seed)), number_ok=False,
                                 truth_kind="an object with policy_value(target_action, bandwidth=..., kernel=..., "
                                            "boundary=...) (e.g. a ContinuousTruth)")
    log = _check_log(log)
    c = _target_centers(log, target(log, truth))
    v = check_real(truth.policy_value(c), "truth.policy_value")
    est = np.empty((len(hs), len(estimators)))
    err_h = np.empty(len(hs))
    for j, h in enumerate(hs):
        T, _ = _terms(log, c, h, kernel, boundary, None, "smoothed")
        m = T[:, :2].mean(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):  # snips of a log with no row in the kernel: 0/0,
            est[j] = [_COMBINE[e](m) for e in estimators]      # counted and said by bandwidth_monte_carlo
        err_h[j] = check_real(truth.policy_value(c, bandwidth=h, kernel=kernel, boundary=boundary),
                              "truth.policy_value") - v
    return est, err_h, v


def bandwidth_monte_carlo(simulate: Callable, target: Callable, bandwidths: Sequence[float], *,
                          n_replicates: int = 200, kernel: str = "epanechnikov",
                          estimators: Sequence[str] = ("ips", "snips"), boundary: str = "renormalize",
                          random_state=0, n_jobs: int | None = None, progress: bool = False) -> pd.DataFrame:
    """Bias, variance and RMSE of kernel estimators across bandwidths, over simulated logs.

    Parameters
    ----------
    simulate : callable(random_state) -> (ContinuousBanditLog, truth)
        Draws a fresh log and its truth (e.g. ``lambda rs: simulate_pricing(2000, random_state=rs)``).
    target : callable(log, truth) -> array (n,)
        The deterministic target's action per row of that log.
    n_replicates : int
        Number of simulated logs (seeded by ``SeedSequence(random_state).spawn``).
    estimators : sequence of {"ips", "snips"}
        The weighting estimators (no reward model is fitted here).
    n_jobs : int or None
        joblib workers over replicates. Replicate ``r`` is seeded by its own ``SeedSequence`` child,
        fixed before dispatch, so the result does not depend on ``n_jobs`` or the backend. None leaves
        it to joblib (one worker unless a ``joblib.parallel_config`` context, e.g. a dask backend,
        says otherwise). ``simulate`` and ``target`` are sent to the workers (cloudpickle: lambdas work).
    progress : bool
        Show a tqdm progress bar over finished replicates.

    Returns
    -------
    DataFrame, one row per (bandwidth, estimator) with ``mean_estimate``, ``true_value`` (mean over
    replicates of V(pi) on each log's contexts), ``bias`` (mean error vs V(pi)) and its Monte Carlo
    standard error ``bias_mc_se``, ``smoothing_bias`` (mean of V(pi_h) - V(pi)), ``sd`` (standard
    deviation of the estimate), ``rmse``, ``n_replicates`` (the replicates whose estimate is defined) and
    ``n_undefined`` (those left out, with a RuntimeWarning: snips on a log with no row inside the kernel is
    0/0). Bias shrinks as h shrinks; sd grows.

    Examples
    --------
    >>> from workbench.data import simulate_pricing
    >>> from workbench.ope.continuous import bandwidth_monte_carlo
    >>> sim = lambda rs: simulate_pricing(500, random_state=rs)
    >>> out = bandwidth_monte_carlo(sim, lambda log, t: t.optimal_action(), [0.5, 2.0], n_replicates=5)
    >>> out.shape[0]
    4
    """
    from joblib import delayed

    from .._parallel import check_n_jobs, run_delayed
    from .._random import spawn_seeds

    for name, fn in (("simulate", simulate), ("target", target)):  # before any replicate: not a TypeError in it
        if not callable(fn):
            raise ValidationError(name, f"must be a callable, got {fn!r}", hint="see the docstring for its arguments")
    hs = list(_check_bandwidths(bandwidths, kernel, boundary))
    # No reward model here, so only the weighting estimators (not "reward_model is needed": there is none).
    estimators = _check_estimators(estimators, None, options=("ips", "snips"))
    R = check_int(n_replicates, "n_replicates", low=2)  # int(2.5) would silently run 2 replicates
    progress = check_bool(progress, "progress")  # before any replicate: "no" is truthy
    n_jobs = check_n_jobs(n_jobs)  # before replicate 0 is drawn
    seeds = spawn_seeds(random_state, R)  # fixed before dispatch: results do not depend on n_jobs
    # Replicate 0 runs here, before anything is dispatched: a simulate / target returning the wrong
    # thing fails at once with what was expected, not inside a worker.
    first = _bandwidth_replicate(simulate, target, hs, kernel, boundary, estimators, seeds[0])
    parts = [first] + run_delayed((delayed(_bandwidth_replicate)(simulate, target, hs, kernel, boundary, estimators, s)
                                   for s in seeds[1:]), n_jobs=n_jobs, progress=progress, desc="replicates")
    est = np.stack([p[0] for p in parts])  # (R, bandwidths, estimators)
    err_h = np.stack([p[1] for p in parts])  # (R, bandwidths)
    truth_v = np.array([p[2] for p in parts])  # (R,)
    rows = []
    undefined = []
    for j, h in enumerate(hs):
        for k, e in enumerate(estimators):
            # a replicate whose estimate is undefined (snips with no row inside the kernel: 0/0) is left out of
            # this row's statistics and counted, not allowed to make the whole row NaN without a word
            ok = np.isfinite(est[:, j, k])
            r = int(ok.sum())
            err = est[ok, j, k] - truth_v[ok]
            if r < R:
                undefined.append(f"{e} at bandwidth {h:g}: {R - r}")
            with np.errstate(invalid="ignore", divide="ignore"):
                rows.append({"bandwidth": h, "estimator": e,
                             "mean_estimate": est[ok, j, k].mean() if r else np.nan,
                             "true_value": truth_v.mean(), "bias": err.mean() if r else np.nan,
                             "bias_mc_se": err.std(ddof=1) / np.sqrt(r) if r > 1 else np.nan,
                             "smoothing_bias": err_h[:, j].mean(),
                             "sd": est[ok, j, k].std(ddof=1) if r > 1 else np.nan,
                             "rmse": np.sqrt(np.mean(err**2)) if r else np.nan, "n_replicates": r,
                             "n_undefined": R - r})
    if undefined:
        warnings.warn(f"bandwidth_monte_carlo: estimates undefined in some simulated logs (no row inside the "
                      f"kernel: 0/0), left out of their rows' statistics ({'; '.join(undefined[:4])}"
                      f"{' ...' if len(undefined) > 4 else ''} of {R}); see the n_undefined column",
                      RuntimeWarning, stacklevel=2)
    return pd.DataFrame(rows)
