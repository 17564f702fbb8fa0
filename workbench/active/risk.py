"""Active testing: estimate one deployed model's risk from few, well-chosen labels.

Acquisition (Kossen et al. 2021, "Active Testing: Sample-Efficient Model Evaluation"): at step m
the next point is *sampled* from the remaining pool with probability q_m proportional to the
model's expected loss under a surrogate, mixed with a uniform "defensive" component, so every
remaining point keeps q_m >= floor / n_remaining (q = 0 would break unbiasedness and an argmax
would make it undefined).

Estimators
----------
lure  Farquhar et al. 2021 ("On Statistical Bias In Active Learning"): R = (1/M) sum_m v_m L_m,
      v_m = 1 + (N - M)/(N - m) * (1/((N - m + 1) q_m(i_m)) - 1). Unbiased for any q with full
      support; v = 1 under uniform sampling.
iid   uniform sampling without replacement; the plain mean.
ase   Active Surrogate Estimator (Kossen et al. 2022): labelled losses plus the surrogate's expected
      loss on every unlabelled point. Low variance, biased when the surrogate is wrong.
dr    doubly robust (ours; the difference estimator of survey sampling, as DR in off-policy
      evaluation): at step m, with the surrogate s as it stands *before* the label,
      Z_m = (1/N) [sum of labelled losses + sum over the remaining points of s_i
      + (L_{i_m} - s_{i_m}) / q_m(i_m)], and R = sum_m w_m Z_m / sum_m w_m with fixed weights
      w_m = (N / n_remaining)^2. Given the past, E[Z_m] is exactly the pool risk whatever s is, so
      R is unbiased for any surrogate, also one re-calibrated or refitted on the labels so far. Here
      the surrogate is re-calibrated every 5 labels by the temperature whose expected losses best
      match the observed ones (squared residual, each label weighted by its inverse acquisition
      probability), each label compared with the surrogate as it was when that point was acquired
      (prequential: a classifier refitted on the labels looks right on them in sample). With a
      refitted classifier, s in Z_m is also replaced by a line a + b s fitted on those prequential
      residuals (ridge towards a = 0, b = 1, worth 5 labels), so a surrogate whose losses do not
      track the model's gets b near 0 and the labels carry the estimate; and
      q is proportional to the surrogate's standard deviation of each point's loss (the
      variance-optimal proposal for a difference estimator), mixed with the floor.
      A refitted classifier must also earn its influence (its first fits, on a handful of labels,
      predict the model's losses worse than a constant): the control is whichever of the line and
      the constant (the weighted mean of the losses so far) predicted the labels better before seeing
      them, and the draw starts uniform and moves towards the surrogate's q only as far as the past
      labels say it lowers the variance of the next term (the mix with uniform chosen from a grid
      between ``floor`` and 1). Both choices use the past only, so every Z_m stays unbiased.
naive active acquisition with the plain, unweighted mean: biased (kept to *show* the bias).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import special

from .._random import check_random_state
from .._validation import (ValidationError, as_array, check_alpha, check_bool, check_choice, check_distribution,
                           check_int)
from ..results import Estimate, frame_to_html
from ._common import (LabelOracle, check_budget, check_floor, check_pool_pairing, check_probs_2d, defensive_q,
                      draw_index, expected_loss, point_loss)

METHODS = ("lure", "iid", "ase", "dr", "naive")
LOSSES = ("zero_one", "cross_entropy")

INTERVAL_PROMISES = {
    "wilson-neff": ("wilson-neff", "Wilson score interval at the effective sample size p(1-p)/se^2 (0-1 loss); "
                                   "keeps ~nominal coverage down to M ~ 10 on low-error pools where the normal "
                                   "interval collapses (see benchmarks/active_selection.py, part A); with lure and "
                                   "a strongly over-confident model as its own surrogate (surrogate=None) it "
                                   "undercovers: 0.81 at 10 labels, 0.85 at 25, 0.90-0.91 at 50-100 (3-class pool "
                                   "of 500 points, mean top probability 0.78, labels drawn from a 50/50 mix of the "
                                   "model and uniform, risk 0.47; 300 seeds, default floor 0.1): the points it is "
                                   "wrongly sure of are rarely drawn. Remedy: a larger floor (0.5: 0.95-0.97 at "
                                   "10-100 labels) or an array surrogate (the zoo average)"),
    "t-log-fpc": ("t-log-fpc", "Student-t interval with M-1 degrees of freedom on the log scale, [R/f, R f] with "
                               "f = exp(t se / R), se the standard error of the mean of v*L with the "
                               "finite-population factor (for lure, the larger of that and the martingale form, "
                               "see 'lure') (cross-entropy loss, which is positive and right-skewed); asymptotic. "
                               "Measured (3-class pools of 500 points, 500 seeds, 10-100 labels): iid 0.94-0.97; "
                               "lure with a calibrated model as its own surrogate 0.87-0.93, with an over-confident "
                               "one 0.78-0.89 (two pool streams): the high-loss points it rarely draws are "
                               "missing from both the estimate and its se (the misses are nearly all below the "
                               "truth). A larger floor "
                               "(0.5: coverage 0.90-0.95 at 25-100 labels, squared error 8-19% above iid's, "
                               "against 2.4-2.9x at the default 0.1) or an array surrogate (the zoo average) helps. "
                               "Where every label so far has the same loss (all 0: trees and kNN give p = 1.0 to "
                               "the true class) the sample has no spread and the t interval would be [R, R]; it "
                               "is then a bound that needs none (the loss bound -log(min_c p(c)) <= 27.6 times a "
                               "one-sided bound on how many points can have another loss, given that none was "
                               "drawn; see risk._flat_loss_interval), honest and wide (coverage where 35% of "
                               "the iid runs had seen only losses of 0 at 10 labels, 200 points: 0.64 -> 0.99, "
                               "and 0.83 -> 0.95 at 20; a one-hot model wrong on 10% of them: 0.66 -> 0.99 for "
                               "iid, lure and dr at 10 labels, 400 seeds)"),
    "lure": ("normal-fpc", "normal interval with the larger of two standard errors: s^2(vL)/M times the "
                           "finite-population factor (1 - M/N), and LURE's martingale form (a fixed-weight "
                           "average of per-step estimates (S_{m-1} + L_m/q_m)/N, each unbiased given the past); "
                           "asymptotic, ~nominal or conservative coverage once M is a few dozen and the weights "
                           "are bounded (the floor bounds them by 1/floor), with an array surrogate or a "
                           "calibrated model as its own surrogate (a strongly over-confident model as its own "
                           "surrogate: 0.81 / 0.85 / 0.90-0.91 at 10 / 25 / 50-100 labels with the 0-1 loss's "
                           "Wilson interval, see 'wilson-neff', 0.78-0.89 with cross-entropy, see 't-log-fpc'; "
                           "remedy: floor=0.5, 0.95-0.97 there, or an array surrogate such as the zoo "
                           "average); with an over-confident classifier surrogate refitted on the labels it can "
                           "undercover at 10-40 labels (GaussianNB, 400 seeds: 0.80-0.90 at floor 0.05; see "
                           "estimate_risk's alpha); with such a surrogate the default floor is 0.5 (task suite, "
                           "GaussianNB and LogisticRegression: mean coverage 0.91-0.96 at 25-100 labels, "
                           "see estimate_risk's floor)"),
    "iid": ("normal-fpc", "normal interval on the mean of M labels drawn without replacement, variance "
                          "s^2/M (1 - M/N); asymptotic"),
    "dr": ("wilson-neff", "Wilson score interval at the effective sample size R(1-R)/se^2 with se the standard "
                          "error of the weighted mean of the per-step terms Z_m, their empirical variance shrunk "
                          "towards the surrogate's prediction of it (worth 5 terms) (0-1 loss; Student-t with M-1 "
                          "degrees of freedom for cross-entropy); the Z_m are martingale differences around the "
                          "risk, so the interval is asymptotic; coverage is measured in "
                          "benchmarks/active_selection.py (breast_cancer, 284 points, 400 seeds: 0.98 at 10, "
                          "0.99 at 100 and 1.00 at 200 labels, the 0-1 limits rounded out to attainable risks; "
                          "0.88 and 0.82 at 100 and 200 before that rounding); it undercovers "
                          "with an over-confident classifier surrogate refitted on the labels (0.66-0.90 at 10-40 "
                          "labels, see estimate_risk's alpha; with its default floor for a classifier, 0.5, the "
                          "task suite's mean coverage was 0.88-0.93 at 25-100 labels, and 0.75-0.80 at 100 on "
                          "digits, see estimate_risk's floor); with cross-entropy, where every label so far "
                          "has the same loss and the se is 0 (a one-hot model as its own surrogate), the "
                          "loss-bound interval of 't-log-fpc'; "
                          "with interval=\"normal\", a normal interval on the same se"),
    "naive": ("normal-fpc", "the iid interval applied to an actively acquired sample: NOT valid (the sample "
                            "is biased towards high loss); shown to demonstrate the bias"),
    "ase": ("surrogate-posterior", "normal interval from the surrogate's predictive variance of the "
                                   "unlabelled losses; valid only if the surrogate is calibrated on the pool, "
                                   "no frequentist guarantee"),
}


@dataclass(frozen=True, eq=False)  # identity: == of array / frame fields raised
class RiskTrace:
    """Running risk estimate of one model as labels are acquired.

    Attributes
    ----------
    estimates : array (budget,)
        The estimate after 1, 2, ..., budget labels. Not clipped: the lure and dr estimates are
        unbiased for the pool risk, and with few labels a 0-1 risk estimate can leave [0, 1] (a
        large weight times a loss of 1), and then also its interval, which is for the risk.
    indices : array (budget,)
        Acquired pool indices, in order.
    q : array (budget,)
        Acquisition probability of each acquired point at the time it was selected (over the
        points remaining then).
    weights : array (budget,)
        LURE weights v_m for the final budget M (ones for iid; for "ase"/"naive" the LURE weights
        the same acquisitions would have received, for diagnosis; for "dr" the inverse acquisition
        probability relative to uniform, 1 / (n_remaining q_m), that scales each residual).
    losses, labels : arrays (budget,)
        The observed loss and label of each acquired point.
    ci_low, ci_high, se : arrays (budget,)
        Interval and standard error after each label. ``se`` is NaN after one label for lure,
        iid and naive (one label has no spread); dr's (shrunk towards the surrogate's) and ase's
        exist from the first label. The interval is NaN after one label when it is a normal
        interval on a NaN ``se`` (naive, or ``interval="normal"`` for lure/iid) or a Student-t
        with M - 1 degrees of freedom (cross-entropy with ``interval="auto"``, dr included). The
        Wilson interval (0-1 loss with ``interval="auto"``: lure, iid, dr) exists from the first
        label (lure/iid: at n_eff = 1/fpc) and lies inside [0, 1].
    interval_method : str
        What the interval promises is in :data:`INTERVAL_PROMISES`.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import estimate_risk
    >>> rng = np.random.default_rng(0)
    >>> probs, labels = rng.dirichlet(np.ones(3), size=300), rng.integers(0, 3, 300)
    >>> t = estimate_risk(probs, labels, 30, method="lure", random_state=0)
    >>> t.budget, t.to_frame().shape[0]   # one row per label acquired
    (30, 30)
    """

    estimates: np.ndarray
    indices: np.ndarray
    q: np.ndarray
    weights: np.ndarray
    losses: np.ndarray
    labels: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    se: np.ndarray
    method: str
    loss: str
    interval_method: str
    alpha: float
    n_pool: int
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    @property
    def budget(self) -> int:
        """Number of labels acquired (the length of the trace)."""
        return int(self.estimates.shape[0])

    @property
    def estimate(self) -> Estimate:
        """The final estimate as an :class:`~workbench.results.Estimate` (``.value``, ``.ci_low``,
        ``.ci_high``, ``.se``); the running estimates are the array ``estimates``."""
        return Estimate(float(self.estimates[-1]), float(self.ci_low[-1]), float(self.ci_high[-1]),
                        float(self.se[-1]), alpha=self.alpha, method=self.interval_method, n=self.budget,
                        name=f"{self.loss} risk ({self.method})", diagnostics=dict(self.diagnostics))

    @property
    def interval_promise(self) -> str:
        """What the interval promises (:data:`INTERVAL_PROMISES`): the method's own entry when the
        interval is the method's default kind (dr's Wilson interval is dr's, not the generic
        "wilson-neff" one of lure/iid), else the entry of the interval kind, else the method's."""
        own = INTERVAL_PROMISES.get(self.method)
        if own is not None and own[0] == self.interval_method:
            return own[1]
        key = self.interval_method if self.interval_method in INTERVAL_PROMISES else self.method
        return INTERVAL_PROMISES[key][1]

    def to_frame(self) -> pd.DataFrame:
        """One row per acquired label: labels, index, q, weight, loss, estimate, ci_low, ci_high, se, method."""
        return pd.DataFrame({"labels": np.arange(1, self.budget + 1), "index": self.indices, "q": self.q,
                             "weight": self.weights, "loss": self.losses, "estimate": self.estimates,
                             "ci_low": self.ci_low, "ci_high": self.ci_high, "se": self.se,
                             "method": self.method})

    def __repr__(self) -> str:
        lvl = f"{100 * (1 - self.alpha):g}%"
        m = self.budget
        text = (f"RiskTrace({self.method}, {self.loss}, {m} label{'s' * (m != 1)} of {self.n_pool}: estimate "
                f"{self.estimates[-1]:.4g}, {lvl} CI [{self.ci_low[-1]:.4g}, {self.ci_high[-1]:.4g}] "
                f"({self.interval_method}), max weight {np.max(self.weights):.3g})")
        if self.diagnostics.get("self_surrogate") == "over-confident":
            text += (f"\n  note: the model predicts a risk of {self.diagnostics['self_predicted_risk']:.4g} for "
                     "itself, below this interval: it is over-confident on this pool")
            if self.method == "dr":
                text += (" (dr re-calibrates its own probabilities as labels arrive; an array surrogate such as "
                         "the zoo average may still do better).")
            else:
                text += (", and as its own surrogate it steers the labels away from its confident errors "
                         "(unbiased, but the error can exceed iid's and the interval under-cover). Pass an array "
                         "surrogate (the zoo average) or use method='dr'.")
        return text

    def _repr_html_(self) -> str:
        return frame_to_html(self.estimate.to_frame(), caption=repr(self))


def _acquisition_scores(model_probs, surrogate_probs, loss):
    s = expected_loss(model_probs, surrogate_probs, loss)
    if loss == "cross_entropy":
        # Cross-entropy scores can be ~0 on confident points; clip at the 10th percentile so no
        # point is starved beyond what the floor already guarantees (reference sheet 3.2).
        s = np.maximum(s, np.percentile(s, 10))
    return np.maximum(s, 0.0)


def _self_surrogate_check(diag, probs, loss, lo, hi, n_labelled, alpha):
    """With the model as its own surrogate, how the labels' interval compares with the risk the model
    predicts for itself (its expected loss under its own probabilities, averaged over the pool).

    An interval wholly above that prediction says the model is over-confident on this pool, and then
    its probabilities send the acquisition away from its confident errors: LURE stays unbiased, but
    a confident error drawn under the floor carries a weight of up to 1 / floor, and the squared
    error can be several times iid's (digits_noise: 3.5-7x), with under-covering intervals. That is
    the failure this check names; wholly below says under-confident. The interval is for the pool's
    realised risk, which differs from the prediction by chance even for a calibrated model (once
    most of the pool is labelled the interval is narrower than that chance), so the prediction is
    widened by the model's own z-spread of the pool risk, z sqrt(sum_i Var_i) / N. A calibrated
    model is then flagged in about alpha / 2 of runs or fewer at any budget (tested; on a pool of a
    handful of points more often: the spread is a normal approximation). Where the
    interval is not finite (one label with a t or normal interval) or has collapsed to a point
    before the pool is exhausted, nothing is concluded: "undetermined"."""
    n = probs.shape[0]
    mean, var = _loss_moments(probs, probs, loss)
    predicted = float(mean.mean())
    spread = float(special.ndtri(1 - alpha / 2) * np.sqrt(var.sum()) / n)
    diag["self_predicted_risk"] = predicted
    if not (np.isfinite(lo[-1]) and np.isfinite(hi[-1])) or (hi[-1] <= lo[-1] and n_labelled < n):
        diag["self_surrogate"] = "undetermined"
    else:
        diag["self_surrogate"] = ("over-confident" if lo[-1] > predicted + spread else
                                  "under-confident" if hi[-1] < predicted - spread else "consistent")


class _Surrogate:
    """The surrogate's class probabilities on the pool, refitted on a lazy schedule when it is a model."""

    def __init__(self, surrogate, probs, features, n_classes, rng):
        self.estimator = None
        if isinstance(surrogate, type):  # the class itself (LogisticRegression, not LogisticRegression())
            raise ValidationError("surrogate", f"must be a classifier instance, got the class {surrogate.__name__}",
                                  hint=f"Pass {surrogate.__name__}()")
        is_model = hasattr(surrogate, "fit")
        if features is not None and not is_model:
            # features only feed a classifier surrogate's fits: ignoring them would hide a mistake
            raise ValidationError("features", "are used only with a scikit-learn classifier surrogate; got "
                                              f"surrogate={'None' if surrogate is None else type(surrogate).__name__}")
        if is_model and not hasattr(surrogate, "predict_proba"):
            raise ValidationError("surrogate", f"a scikit-learn surrogate needs a predict_proba method (class "
                                               f"probabilities); {type(surrogate).__name__} has none",
                                  hint="Use a probabilistic classifier, e.g. SVC(probability=True) or "
                                       "CalibratedClassifierCV")
        if surrogate is None:
            self.probs, self.kind = probs, "self"
        elif is_model:
            if features is None:
                raise ValidationError("features", "a scikit-learn surrogate needs the pool's features "
                                                  "(pass features=, shape (n_points, d))")
            from sklearn.base import clone

            from .._validation import as_array, check_finite

            self.features = check_finite(as_array(features, "features", ndim=2), "features")
            # A DataFrame is fitted as a DataFrame (checked as its values are): a pipeline that selects
            # columns by name (a ColumnTransformer) failed on the bare array with "could not be fitted",
            # and a hint to refit later. Rows are taken by position, as everywhere here.
            self._fit_X = features if isinstance(features, pd.DataFrame) else self.features
            if self.features.shape[0] != probs.shape[0]:
                raise ValidationError("features", f"must have one row per pool point: got "
                                                  f"{self.features.shape[0]}, expected {probs.shape[0]}")
            self.estimator, self.kind = clone(surrogate), type(surrogate).__name__
            # An unseeded estimator (random_state None, e.g. a random forest) would make the same
            # random_state give different results: seed the clone from the run's generator.
            unseeded = {k: None for k, v in self.estimator.get_params(deep=True).items()
                        if (k == "random_state" or k.endswith("__random_state")) and v is None}
            if unseeded:
                # from a spawned child, so the run's own stream (acquisitions) is as without the surrogate's seed
                try:
                    child = rng.spawn(1)[0]
                except (TypeError, ValueError):  # a bit generator without a seed sequence (spawn: numpy >= 1.25)
                    child = rng
                seed = int(child.integers(2**31 - 1))
                self.estimator.set_params(**{k: seed for k in unseeded})
            # Until enough labels exist to fit it, the surrogate is the model itself.
            self.probs = probs
            self.n_classes = n_classes
            self.n_fits = 0
        else:
            sp = check_probs_2d(surrogate, "surrogate")
            if sp.shape != probs.shape:
                raise ValidationError("surrogate", f"must have the shape of probs {probs.shape}, got {sp.shape}")
            self.probs, self.kind = sp, "array"

    def maybe_refit(self, n_labels, idx, y, schedule) -> bool:
        if self.estimator is None or n_labels not in schedule or len(np.unique(y)) < 2:
            return False
        try:
            X = self._fit_X
            self.estimator.fit(X.iloc[idx] if isinstance(X, pd.DataFrame) else X[idx], y)
            fitted = self.estimator.predict_proba(X)
        except ValueError as err:  # e.g. KNeighborsClassifier(5) on 2 labels: say which fit and what to change
            raise ValidationError("surrogate", f"{self.kind} could not be fitted on the first {n_labels} acquired "
                                  f"labels ({err})",
                                  hint="refit it only once it can be fitted (refit_schedule=[...] with larger "
                                       "label counts), or use a surrogate that fits on a few labels") from err
        # The fitted model's probabilities drive acquisition and (ase, dr) enter the estimate: checked as an
        # array surrogate is. A NaN from predict_proba made lure sample uniformly without a word, ase
        # return a NaN estimate and dr fail with numpy's "argmin of an empty sequence".
        n_cls = len(self.estimator.classes_)
        fitted = as_array(fitted, "surrogate")
        if fitted.shape != (self.features.shape[0], n_cls):
            raise ValidationError("surrogate", f"{self.kind}.predict_proba after the fit on the first {n_labels} "
                                  f"acquired labels returned shape {fitted.shape}, expected "
                                  f"{(self.features.shape[0], n_cls)} (one column per class in classes_)")
        try:
            # A fitted model's rows may miss 1 by more than the 1e-6 asked of user data: GaussianNB on a few
            # labels of near-constant features (digits' border pixels) has joint log-likelihoods ~1e8, and its
            # exp(jll - logsumexp) rows summed to 1 + 1.4e-6 in 3 of 50 runs (the run was refused). Rounding of
            # the library's own output, not a user's wrong probabilities: accepted within 1e-4, renormalised.
            fitted = check_distribution(fitted, "surrogate", tol=_FITTED_SUM_TOL)
            fitted = fitted / fitted.sum(axis=1, keepdims=True)
        except ValidationError as err:
            raise ValidationError("surrogate", f"{self.kind}.predict_proba after the fit on the first {n_labels} "
                                  f"acquired labels: {err.rule}", err.n_bad, err.first, err.n_total,
                                  err.value) from None
        p = np.zeros((self.features.shape[0], self.n_classes))
        p[:, self.estimator.classes_.astype(int)] = fitted
        self.probs = p
        self.n_fits += 1
        return True


DR_TEMPERATURES = (0.25, 0.35, 0.5, 0.7, 1.0, 1.4, 2.0, 2.8, 4.0, 8.0)
DR_LINE_PRIOR = 5.0  # labels' worth of the (0, 1) prior of dr's control-variate line (refitted surrogates)
# A refitted classifier's draw: uniform until this many labels, then the mix with uniform from this grid
# (shares of uniform between floor and 1) that minimises the estimated variance of the next term.
DR_ADAPT_AFTER = 10
DR_MIX_GRID = (0.0, 0.25, 0.5, 0.75, 1.0)
# How many terms the surrogate's predicted variance counts for in the dr standard error (a
# scaled-inverse-chi-square prior on the variance with this many degrees of freedom).
DR_VARIANCE_PRIOR_TERMS = 5.0


def _calibrated(log_sp, T):
    z = log_sp / T
    return np.exp(z - special.logsumexp(z, axis=1, keepdims=True))


def _fit_temperature_residual(probs, log_rows, idx, losses, w, loss, grid=DR_TEMPERATURES):
    """Temperature minimising the weighted squared residual between the observed losses and the
    surrogate's expected losses, the quantity the doubly robust estimator's variance depends on
    (weights: inverse acquisition probability, so the fit targets the whole pool). Not the
    log-likelihood of the labels: under a class missing in training, the temperature that fits the
    labels best predicted the model's losses worse than none (benchmarks/active_selection.py,
    digits_missing_class: MSE gain over iid 1.3 at 50-100 labels with it, 2.7-3.5 with this)."""
    w = w / w.sum()
    grid = np.asarray(grid, float)
    # log_rows: the surrogate's log-probabilities at the labelled points as they were when each was acquired
    sp = special.softmax(log_rows[None] / grid[:, None, None], axis=2)  # (T, m, C): every temperature at once
    res = (losses - expected_loss(np.broadcast_to(probs[idx], sp.shape), sp, loss)) ** 2 @ w
    tied = np.flatnonzero(res <= res.min() * (1 + 1e-9) + 1e-15)
    # on a tie (e.g. a uniform surrogate, whose expected losses no temperature changes) keep the
    # surrogate as given: the tied temperature closest to 1 on a log scale
    return float(grid[tied[np.argmin(np.abs(np.log(grid[tied])))]])


def _run_dr(probs, sur, oracle, budget, loss, floor, rng, schedule, every=5):
    """The doubly robust estimator's acquisition loop; returns per-step terms Z_m and bookkeeping."""
    n = probs.shape[0]
    idx = np.empty(budget, np.int64)
    q_sel = np.empty(budget)
    losses = np.empty(budget)
    labels = np.empty(budget, np.int64)
    Z = np.empty(budget)
    iw = np.empty(budget)  # 1 / (n_remaining q): inverse acquisition probability relative to uniform
    v_model = np.empty(budget)  # the surrogate's prediction of Var(Z_m | past)
    remaining = np.ones(n, bool)
    T = 1.0
    log_sp = np.log(np.clip(sur.probs, 1e-12, 1.0))  # recomputed only when a model surrogate is refitted

    def refresh():
        sp = _calibrated(log_sp, T)
        mean, var = _loss_moments(probs, sp, loss)
        return mean, np.sqrt(var)

    s, sd = refresh()
    # Prequential fits. A refitted classifier surrogate is trained on the labelled points, so its losses
    # there look right in sample: the temperature (and the line below) fitted on them trusted a surrogate
    # that predicts new points poorly (digits, LogisticRegression surrogate: MSE 7-11x iid). Both are
    # fitted on the surrogate as it was when each point was acquired, before its label entered a fit. For
    # a fixed surrogate (None, an array) those are the same rows: results unchanged.
    log_pre = np.empty((budget, probs.shape[1]))
    s_pre = np.empty(budget)
    # Control variate a + b s (a line in the surrogate's expected loss, fitted on the prequential
    # residuals, ridge towards (0, 1) with DR_LINE_PRIOR labels' weight); predictable, so each term stays
    # unbiased. Only for a refitted classifier: with a fixed surrogate (0, 1) is kept (measured: the
    # fitted line cost the zoo average 10-20% of its gain on digits).
    fit_line = sur.estimator is not None
    a, b = 0.0, 1.0
    lab_sum = 0.0
    # A refitted classifier earns its influence (module docstring). Two choices, each from the past only:
    # the control (the line a + b s, or the constant c, the weighted mean of the losses so far: whichever
    # predicted the labels better before seeing them, by weighted squared error), and the draw's share of
    # uniform (1 until DR_ADAPT_AFTER labels; then the share minimising the estimated variance of the next
    # term). Measured on the task suite (7 tasks, median model, 100 seeds): MSE(iid) / MSE(dr) with a
    # LogisticRegression surrogate, geometric mean at 10 / 25 / 50 / 100 labels, 0.44 / 0.62 / 0.81 / 1.04
    # -> 0.86 / 0.95 / 1.11 / 1.22, lowest task 0.12 / 0.22 / 0.29 / 0.39 -> 0.73 / 0.77 / 1.03 / 0.90.
    pred_line, pred_const = np.empty(budget), np.empty(budget)  # each control's prediction, made before the label
    err_line = err_const = 0.0
    use_const = False  # the control for the next term: set after each label, from the errors so far
    c = 0.0
    share = 1.0 if fit_line else floor  # the draw's share of uniform
    grid = floor + (1.0 - floor) * np.asarray(DR_MIX_GRID)
    ratio_sur = np.empty(budget)  # (n_remaining x the surrogate part of q) at the drawn point: vs uniform
    # the smallest q among the remaining points, read only by _flat_loss_interval (cross-entropy): an O(N) pass per
    # label that the 0-1 loss does not pay
    q_min = np.full(budget, np.nan)
    track_q_min = loss == "cross_entropy"
    for m in range(budget):
        q = defensive_q(sd, remaining, share)
        if track_q_min:
            q_min[m] = np.min(q, where=remaining, initial=np.inf)
        if fit_line:
            # Var(Z_m | past) if the losses followed the surrogate (mean s_i, sd_i): the residual L_i - ctrl_i of
            # the control in use has second moment sd_i^2 + (s_i - ctrl_i)^2, so sum_i of that / q_i minus the
            # squared sum of the means s_i - ctrl_i, over N^2
            dev = s[remaining] - (c if use_const else a + b * s[remaining])
            v_model[m] = (((sd[remaining] ** 2 + dev ** 2) / q[remaining]).sum() - dev.sum() ** 2) / n**2
        else:
            # the control is s itself: the residual L - s has mean 0 and variance sd^2 under the surrogate
            v_model[m] = (sd[remaining] ** 2 / q[remaining]).sum() / n**2
        i, qi = draw_index(q, rng)
        idx[m], q_sel[m], iw[m] = i, qi, 1.0 / ((n - m) * qi)
        log_pre[m], s_pre[m] = log_sp[i], s[i]
        labels[m] = oracle(i)
        losses[m] = point_loss(probs[i], labels[m], loss)
        if fit_line:
            sd_rem = sd[remaining].sum()
            ratio_sur[m] = (n - m) * sd[i] / sd_rem if sd_rem > 0 else 1.0
            pred_line[m], pred_const[m] = a + b * s[i], c
            if use_const:
                Z[m] = (lab_sum + c * (n - m) + (losses[m] - c) / qi) / n
            else:
                Z[m] = (lab_sum + a * (n - m) + b * s[remaining].sum() + (losses[m] - a - b * s[i]) / qi) / n
        else:
            Z[m] = (lab_sum + s[remaining].sum() + (losses[m] - s[i]) / qi) / n
        remaining[i] = False
        lab_sum += losses[m]
        if fit_line:
            err_line += iw[m] * (losses[m] - pred_line[m]) ** 2
            err_const += iw[m] * (losses[m] - pred_const[m]) ** 2
            c = float(iw[: m + 1] @ losses[: m + 1] / iw[: m + 1].sum())
            use_const = err_const < err_line
        changed = sur.maybe_refit(m + 1, idx[: m + 1], labels[: m + 1], schedule)
        if changed:
            log_sp = np.log(np.clip(sur.probs, 1e-12, 1.0))
        if m + 1 >= every and (m + 1) % every == 0:
            T_new = _fit_temperature_residual(probs, log_pre[: m + 1], idx[: m + 1], losses[: m + 1], iw[: m + 1],
                                              loss)
            changed = changed or T_new != T
            T = T_new
            if fit_line:
                a, b = _fit_control_line(s_pre[: m + 1], losses[: m + 1], iw[: m + 1], s)
        if fit_line and m + 1 >= DR_ADAPT_AFTER:
            share = _variance_minimising_share(grid, losses[: m + 1],
                                               pred_const[: m + 1] if use_const else pred_line[: m + 1],
                                               ratio_sur[: m + 1], iw[: m + 1])
        if changed:  # the next term uses the updated surrogate: chosen from the past only, so still unbiased
            s, sd = refresh()
    control = ("constant" if use_const else "line") if fit_line else "surrogate"
    return idx, q_sel, losses, labels, Z, iw, v_model, T, share, control, q_min


def _variance_minimising_share(grid, losses, preds, ratio_sur, iw):
    """The share of uniform, from ``grid``, whose draw q = share / n_rem + (1 - share) p minimises the estimated
    variance of the next dr term, sum_i r_i^2 / q_i over the pool (r: the residual of the control in use).
    Estimated from the labelled points as a weighted mean of r_j^2 / rho_j(share), rho_j = share + (1 - share)
    ``ratio_sur``_j being q / uniform at the point as drawn, each weighted by its inverse acquisition
    probability ``iw`` (so the mean is over the pool, not over where the draw went)."""
    r2 = (losses - preds) ** 2
    rho = grid[:, None] + (1.0 - grid[:, None]) * ratio_sur[None, :]
    return float(grid[int(np.argmin((r2 * iw / rho).sum(axis=1)))])


def _fit_control_line(s_pre, losses, w, s_pool, prior=None):
    """(a, b) of the weighted least-squares line losses ~ a + b s_pre, ridge towards (0, 1) (the surrogate
    as it is) with ``prior`` (DR_LINE_PRIOR) labels' weight; weights: inverse acquisition probability,
    normalised to mean 1, so the fit targets the pool. b near 0 when the surrogate's losses do not track
    the model's (then dr leans on the labels alone, as iid does)."""
    prior = DR_LINE_PRIOR if prior is None else prior
    w = w / w.mean()
    X = np.column_stack([np.ones(s_pre.size), s_pre])
    P = prior * np.diag([1.0, float(np.mean(s_pool ** 2))])  # the slope's penalty on the scale of s
    return tuple(np.linalg.solve(X.T @ (w[:, None] * X) + P, X.T @ (w * losses) + P @ np.array([0.0, 1.0])))


def _check_refit_schedule(refit_schedule, sur, budget: int) -> set:
    """Label counts (integers >= 1) after which a classifier surrogate is refitted; at least one of them
    within the budget (else the classifier is never fitted, and the run is the model-as-surrogate one)."""
    if sur.estimator is None:
        # only a classifier surrogate is refitted: ignoring the schedule would hide a mistake (as for features)
        raise ValidationError("refit_schedule", f"is used only with a scikit-learn classifier surrogate; got "
                                                f"surrogate of kind {sur.kind!r}")
    if isinstance(refit_schedule, (str, bytes)) or not np.iterable(refit_schedule):
        # a string would be iterated character by character, a bare number is not a schedule
        raise ValidationError("refit_schedule", f"must be an iterable of label counts, got {refit_schedule!r}")
    schedule = {check_int(k, f"refit_schedule[{j}]", low=1) for j, k in enumerate(refit_schedule)}
    if not schedule or (min(schedule) > budget and budget > 1):
        # an empty schedule, or one past the budget, never fits the classifier (diagnostics["surrogate_fits"] 0):
        # the model's own probabilities stood in for the whole run, silently. With one label no schedule can
        # fit it (a fit needs two classes), and benchmark_risk checks each config with a one-label run first.
        got = "an empty schedule" if not schedule else f"smallest entry {min(schedule)}"
        raise ValidationError("refit_schedule", f"must hold a label count <= budget ({budget}) or the classifier "
                                                f"surrogate is never fitted; got {got}",
                              hint="refit it within the budget (e.g. refit_schedule=None, after 5, 10, 20, ... "
                                   "labels), or pass surrogate=None to use the model itself")
    return schedule


def lure_weights(q_sel, n: int) -> np.ndarray:
    """LURE's weights v_m = 1 + (N - M)/(N - m) (1/((N - m + 1) q_m) - 1) of M labels drawn with
    probabilities ``q_sel`` from a pool of N (1 at m = N, where the factor N - M is 0)."""
    M = q_sel.size
    j = np.arange(1, M + 1)
    return 1.0 + (n - M) / np.where(j < n, n - j, 1) * (1.0 / ((n - j + 1) * q_sel) - 1.0)


def _lure_se(losses, q_sel, n, est):
    """LURE's martingale standard error after every prefix of M labels.

    With S_{m-1} the sum of the losses labelled before step m, Y_m = (S_{m-1} + L_m / q_m) / N has
    E[Y_m | past] = R exactly (an importance-weighted draw of the remaining total), and LURE is the
    fixed-weight average sum_m c_m Y_m with c_m = N (N - M) / (M (N - m) (N - m + 1)), which sum to 1.
    So R_hat - R is a martingale with variance sum_m c_m^2 Var(Y_m | past), estimated by
    sum_m c_m^2 (Y_m - R_hat)^2 / (1 - sum_m c_m^2) (the divisor is M / (M - 1) for equal weights).

    estimate_risk reports the larger of this and the exchangeable-terms error s^2(v L) / M (1 - M/N),
    because each fails where the other holds. The exchangeable form treats the terms v_m L_m as
    draws around R, which they are not under a non-uniform q: with the model as its own surrogate
    (cross-entropy, 200 labels of 300, 2000 seeds) its rms(se) / sd is 0.85 and the 95% interval
    covers 0.905, against 0.99 and 0.945 for the martingale form. The martingale form is calibrated
    on average but weights the late steps most, and on a low-error pool the late steps mostly see
    no loss: the estimate of the spread is then often near 0, and the intervals cover 0.67-0.93 on
    breast_cancer (zoo-average surrogate, 0-1 loss, 100-200 labels of 284; 400 seeds), where the
    exchangeable form (conservative there) covers 1.0. The larger of the two covered at least as
    well as either on every case measured (3 zoo tasks x 2 losses x 2 surrogates and a synthetic
    pool, 25-200 labels). NaN after one label; 0 once every point is labelled.
    """
    M = np.arange(1, losses.size + 1, dtype=float)
    s_prev = np.concatenate([[0.0], np.cumsum(losses)[:-1]])
    Y = (s_prev + losses / q_sel) / n
    g = np.where(M < n, 1.0 / ((n - M) * np.maximum(n - M + 1, 1)), 0.0)  # c_m = a(M) g_m, a(M) = N (N - M) / M
    a = n * (n - M) / M
    g2 = g**2
    c2 = a**2 * np.cumsum(g2)  # sum of c_m^2 over the prefix
    # sum c_m^2 (Y_m - est)^2 from running sums, one value per prefix (no loop over M)
    ss = a**2 * (np.cumsum(g2 * Y**2) - 2 * est * np.cumsum(g2 * Y) + est**2 * np.cumsum(g2))
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(M > 1, np.maximum(ss, 0.0) / (1.0 - c2), np.nan)
    return np.where(M >= n, 0.0, np.sqrt(v))


def _pool_risk(probs, idx, labels, loss) -> float:
    """The pool's risk once every point is labelled (``idx`` a permutation of the pool), computed as
    :func:`workbench.data.loss_matrix` computes the true risk (per-point losses in pool order, then the
    mean), so the full-pool estimate equals the truth bit for bit instead of up to the rounding of a
    sum in acquisition order (with cross-entropy that ~1e-16 left the exact interval [est, est] off
    the truth, and benchmark_risk's MSE ratio at 0/0 not NaN)."""
    from ..data import loss_matrix

    y = np.empty(probs.shape[0], np.int64)
    y[idx] = labels
    return float(loss_matrix(probs[None], y, loss)[0].mean())


_FITTED_SUM_TOL = 1e-4  # rows of a refitted surrogate classifier's predict_proba, see _Surrogate.maybe_refit
# estimate_risk's floor=None: (surrogate None or an array, a scikit-learn classifier refitted on the labels).
# The classifier values were measured on the task suite (see estimate_risk's ``floor``); ase and naive were not
# measured with a classifier surrogate and keep their floor.
DEFAULT_FLOORS = {"lure": (0.1, 0.5), "dr": (0.3, 0.5), "ase": (0.1, 0.1), "naive": (0.1, 0.1), "iid": (0.1, 0.1)}


def default_floor(method: str, classifier: bool) -> float:
    """The floor :func:`estimate_risk` uses when ``floor=None``: by method, and larger for lure and dr when the
    surrogate is a classifier refitted on the labels (``classifier=True``). For "iid" it is unused (floor 1).

    Examples
    --------
    >>> from workbench.active.risk import default_floor
    >>> default_floor("lure", classifier=False), default_floor("lure", classifier=True)
    (0.1, 0.5)
    >>> default_floor("dr", classifier=False), default_floor("dr", classifier=True)
    (0.3, 0.5)
    """
    check_choice(method, "method", METHODS)
    return DEFAULT_FLOORS[method][check_bool(classifier, "classifier")]


def lazy_schedule(budget: int, first: int = 5) -> set:
    """Refit after 5, 10, 20, 40, ... labels (doubling), so refits cost O(log budget) fits."""
    out, k = set(), first
    while k <= budget:
        out.add(k)
        k *= 2
    return out


def estimate_risk(probs, oracle, budget, surrogate=None, loss="zero_one", method="lure", random_state=None, *,
                  features=None, floor=None, alpha=0.05, refit_schedule=None, interval="auto") -> RiskTrace:
    """Estimate a classifier's risk on a pool with ``budget`` labels, acquiring them actively.

    Parameters
    ----------
    probs : array (n_points, n_classes)
        The deployed model's predicted probabilities on the unlabelled pool.
    oracle : array (n_points,) or callable
        Hidden labels (all must be valid classes: NaN or -1 markers are an error), or a function
        ``index -> label`` called once per acquired point. The index is a row *position* 0..n_points-1
        of ``probs``, never a DataFrame's index label (``lambda i: labels.iloc[i]``, not ``labels[i]``
        or ``labels.loc[i]``); the trace's ``indices`` and the ``"index"`` column of ``to_frame()``
        are positions too (``probs.index[trace.indices]`` gives the labels). A pandas ``probs`` or
        ``oracle`` beside an array or a callable is read by position too, whatever its index; two
        pandas inputs must carry the same index.
    budget : int
        Number of labels to acquire (1..n_points).
    surrogate : None, array (n_points, n_classes) or scikit-learn classifier
        Drives acquisition (q proportional to the model's expected loss under the surrogate) and,
        for ``method="ase"``, the plug-in. None uses the model's own probabilities (beware: an
        over-confident model under shift then looks for errors where it is unsure and misses
        confident errors; the floor keeps LURE unbiased but the variance can exceed iid's). With
        None, lure and dr check the model against the labels: ``diagnostics["self_predicted_risk"]``
        is the risk the model predicts for itself (its expected loss under its own probabilities,
        over the pool) and ``diagnostics["self_surrogate"]`` is "over-confident" when the final
        interval lies wholly above it, widened by the chance spread of a calibrated model's pool
        risk (the trace's repr then says so and names the remedies), "under-confident" when wholly
        below, "undetermined" when the interval is not finite or has collapsed to a point, else
        "consistent". On digits_noise's median model (26% error, 4.8% predicted) lure flagged it in
        56 / 84 / 100% of runs at 10 / 25 / 50 labels; a calibrated model is flagged in about
        alpha / 2 of runs or fewer, at any budget (the chance spread is a normal approximation:
        on a pool of a handful of points, more often). A zoo average is a good array surrogate.
        A classifier is cloned (the object passed in is left untouched, and any fit it already
        has is discarded) and the clone is fitted on the
        acquired labels (with ``features``) after 5, 10, 20, 40, ... labels
        (``refit_schedule``); until its first fit the model's own probabilities stand in. It
        needs ``predict_proba``. A ``random_state`` of None in it (or in a pipeline step) is
        set to an integer drawn from ``random_state``, so the same seed gives the same result.
        With a classifier the default ``floor`` of lure and dr is 0.5 (see ``floor``).
    loss : {"zero_one", "cross_entropy"}
        Cross-entropy is -log p(y), with p(y) clipped at 1e-12 (a loss of at most 27.6 per point), as
        :func:`workbench.data.loss_matrix` computes the true risk, so a probability of exactly 0 for
        the true class gives a large finite loss, not infinity.
    method : {"lure", "iid", "ase", "dr", "naive"}
        See the module docstring. "dr" is the one we recommend: unbiased like LURE, and with a
        zoo-average surrogate (re-calibrated as labels arrive) it beat LURE with the same surrogate
        in mean squared error at 25-100 labels by up to 3x on digits and 1.2-1.8x on digits_noise
        and breast_cancer_noise (breast_cancer: at 25-50, level at 100), and matched it within
        noise on the synthetic tasks (``benchmarks/active_selection.py``, part A, 100 seeds). With
        the model's own probabilities under shift the gap is larger: on digits_noise (the digits
        models on a noisy pool: wrong on 26% of it, 95% sure on average) lure with its default floor
        had 3.5-7x iid's squared error at 25-100 labels and dr 0.6-1.0x of it (two sets of 100
        seeds: part A's, and ``benchmark_risk``'s default).
        "naive" (biased) exists only to demonstrate the bias.
    random_state : int, Generator, SeedSequence or None
        The same int or SeedSequence gives the same trace (a SeedSequence is not advanced: the
        seed of an unseeded classifier surrogate is spawned from a copy). A Generator is used as
        it is, and a spawn for a surrogate seed advances its seed sequence's child counter.
    features : array or DataFrame (n_points, d), optional
        Needed when ``surrogate`` is a classifier, and an error otherwise (they would be unused).
        Numbers only; a DataFrame is passed to the classifier as a DataFrame (so a pipeline can
        select columns by name), its rows taken by position.
    floor : float in (0, 1], optional
        Defensive mixture: q = (1 - floor) * q_surrogate + floor / n_remaining. Every remaining
        point keeps q >= floor / n_remaining, so LURE weights are at most 1 / floor. None (the
        default) chooses by method and surrogate kind (:func:`default_floor`); an explicit floor
        is used as given. With ``surrogate`` None or an array: 0.1, and 0.3 for "dr" (measured on
        the task suite, with its earlier shifted zoos: lower error than 0.1 on four of six tasks,
        shifted ones included, and within noise of it on the other two). The floor bounds LURE's
        weights by 1 / floor, not its error by iid's: a model that is confidently wrong on the
        pool, as its own surrogate, can still do several times worse than iid labels (digits_noise:
        3.5-7x at the default 0.1, see ``method``). With a scikit-learn classifier surrogate (refitted
        on the labels): 0.5 for "lure" and "dr" ("ase" and "naive" keep 0.1, not measured).
        Measured on the task suite (the median model of each of the 7 zoos of
        :func:`task_suite`, ``features=task.zoo.features``, the default refit schedule, 0-1
        loss, 400 seeds: ``benchmark_risk(zoo.probs[m], zoo.labels, {"x": {"method": ...,
        "surrogate": ..., "features": zoo.features, "floor": f}}, 100, seeds=400,
        random_state=0)``) with GaussianNB and
        StandardScaler + LogisticRegression: the mean coverage of the 95% interval over the
        tasks at 25 / 50 / 100 labels went, from the old default to 0.5, from 0.88 / 0.87 / 0.90
        to 0.91 / 0.93 / 0.95 (lure, GaussianNB), 0.92 / 0.94 / 0.97 to 0.95 / 0.96 / 0.96 (lure,
        LogisticRegression), 0.85 / 0.88 / 0.91 to 0.89 / 0.91 / 0.92 (dr, GaussianNB) and
        0.83 / 0.88 / 0.89 to 0.88 / 0.91 / 0.93 (dr, LogisticRegression); the mean squared
        error fell by 1.8x (lure) and 1.4x (dr) (geometric mean over the 42 task x surrogate x
        label-count cells), and no cell's rose by more than 12% (lure, LogisticRegression at 100
        labels) or 3% (dr). For lure, 0.2 and 0.3 did less, and 0.7 no better; for dr, 0.7 and 1
        did more on average but raised the error by up to 22% (0.7) and 2.2x (1) on
        breast_cancer(_noise) with LogisticRegression. Even at 0.5, dr with a classifier
        surrogate did worse than iid labels on the digits and synthetic tasks: a classifier fitted
        on few labels predicts the model's losses worse than a constant there. Fitting dr's
        temperature and control-variate line prequentially (module docstring) halved that loss:
        MSE(iid) / MSE(dr), geometric mean over the 7 tasks at 25 / 50 / 100 labels, 0.43 / 0.55 /
        0.69 -> 0.62 / 0.81 / 1.04 (LogisticRegression) and 0.37 / 0.47 / 0.54 -> 0.55 / 0.68 /
        0.89 (GaussianNB), mean coverage 0.88-0.93 -> 0.91-0.95 (100 seeds, floor 0.5); digits
        stayed at 0.22-0.51 and breast_cancer, where the classifier was good, fell from 1.29 /
        2.04 / 4.20 to 0.94 / 1.42 / 2.34 (LogisticRegression). Since 2026-12-01 a classifier must
        earn its influence on dr (module docstring: the control is the line or a constant, whichever
        predicted the labels better before seeing them; the draw starts uniform and moves towards
        the surrogate's q only as far as the labels say it lowers the variance; ``floor`` is then
        the lowest share of uniform it may use, and ``diagnostics["uniform_share"]`` and
        ``["control"]`` give the final standing): geometric mean over the 7 tasks at 10 / 25 / 50 /
        100 labels 0.44 / 0.62 / 0.81 / 1.04 -> 0.86 / 0.95 / 1.11 / 1.22 (LogisticRegression) and
        0.41 / 0.53 / 0.72 / 0.96 -> 0.79 / 0.84 / 0.99 / 1.01 (GaussianNB), the lowest task
        0.12-0.39 -> 0.73-1.03 and 0.26-0.57 -> 0.62-0.86, mean coverage 0.94-0.95 (100 seeds);
        breast_cancer 0.84 / 1.39 / 2.11 at 25 / 50 / 100 labels (LogisticRegression). For dr prefer
        an array surrogate (the zoo average); with a classifier, lure still does better on average
        (1.26 / 1.43 / 1.65 with LogisticRegression at 25 / 50 / 100; lure was not changed). A refitted
        classifier's probability rows may miss 1 by up to 1e-4 (GaussianNB fitted on 5 digits
        labels summed to 1 + 1.4e-6); they are renormalised, a larger miss is refused. ``method="iid"`` samples
        uniformly, i.e. with floor 1, and uses neither ``floor`` nor ``surrogate``: both are
        accepted (one config can be shared across methods), a classifier surrogate is not fitted
        (``diagnostics["surrogate_fits"]`` is 0) and ``diagnostics["floor"]`` is 1.0.
    alpha : float
        The interval has nominal level 1 - alpha; what it promises depends on the method
        (``trace.interval_promise``): for lure/iid the interval chosen by ``interval`` (by
        default Wilson at the effective sample size with the 0-1 loss, Student-t with
        cross-entropy; see below and the tests for measured coverage), for dr the same form
        with the spread of its terms shrunk towards the surrogate's predicted spread (worth 5
        terms, so 10 labels are not over-trusted), for ase a surrogate-posterior interval that
        holds only if the surrogate is calibrated. The coverage figures measured for lure and dr
        (here, in :data:`INTERVAL_PROMISES` and in the tests) are for array surrogates and the
        model itself. An over-confident classifier surrogate refitted on the labels can
        undercover (also with the default floor for a classifier, 0.5: see ``floor`` for the
        figures on the task suite): GaussianNB on a 200-point, 3-class pool (0-1 loss, risk
        ~0.5, 400 seeds), refitted every 3 labels for lure (floor 0.05) or after 3, 7, 15 and 30 for dr (floor
        0.1), covered 0.85 / 0.81 / 0.90 (lure) and 0.90 / 0.80 / 0.87 (dr) at 10 / 20 / 40
        labels, 0.93 at 80 and 0.95 at 120. The model itself as surrogate (``surrogate=None``) can
        undercover too when it is strongly over-confident: lure's default interval (0-1 loss, floor
        0.1) covered 0.81 / 0.85 / 0.91 / 0.90 at 10 / 25 / 50 / 100 labels on a 3-class pool of 500
        points (mean top probability 0.78, labels from a 50/50 mix of the model and uniform; 300
        seeds), 0.96 / 0.97 / 0.97 / 0.95 with ``floor=0.5``: for such a model pass a larger floor
        or an array surrogate (the zoo average). The estimates stayed unbiased, but their squared
        error was 1.5-9x that of iid labels. What helped there: a larger floor (0.3: 0.91-0.96
        for both), more labels, and for lure a better-calibrated surrogate (LogisticRegression,
        same schedule: 0.96; dr with it still 0.85 / 0.86 / 0.92). Refitting less often (the
        default schedule) did not (lure 0.80-0.88, dr 0.66-0.84). The zoo average as an array
        surrogate covered 0.94-0.97 on the same pool.
    refit_schedule : iterable of int, optional
        Label counts after which a classifier surrogate is refitted; at least one must be <= ``budget``
        (else the classifier would never be fitted: refused, unless ``budget`` is 1, where no fit is
        possible), and an empty schedule is refused.
    interval : {"auto", "normal"}
        "auto" (default) for lure/iid: with the 0-1 loss a Wilson score interval at the
        effective sample size n_eff = R(1 - R) / se^2 (the design effect of the weighting and
        of sampling without replacement; n_eff = (M - 1)/(1 - M/N) when no error has been seen
        yet), which stays inside [0, 1] and does not collapse to a point when the first labels
        are all correct; with cross-entropy a Student-t interval on v*L with M - 1 degrees of
        freedom, on the log scale ([R/f, R f], f = exp(t se / R): the mean loss is positive and
        right-skewed; iid coverage 0.89-0.96 -> 0.94-0.97 over 10-100 labels, see
        :data:`INTERVAL_PROMISES` "t-log-fpc"). Where every label so far has the same cross-entropy
        (all 0 for a model that gives p = 1.0 to the true class), the t interval would have width 0;
        lure, iid and dr then give a loss-bound interval instead (honest and wide: 10 labels of
        loss 0 cannot rule out that a quarter of a 200-point pool is wrong with p = 1.0; coverage
        0.64 -> 0.99 for iid at 10 labels where 35% of the runs had seen no loss, see
        ``risk._flat_loss_interval``),
        and ``diagnostics["loss_bound_interval"]`` is True when the final interval is one. "normal" is the plain normal-FPC interval
        (undercovers at small M: at M=10 labels on the median model of the digits and
        breast_cancer zoos, about 0.5 with iid labels and 0.7-0.9 with LURE, against 0.96-0.99
        for the default; 400 seeds). "dr" follows the same choice (Wilson or Student-t, not on
        the log scale, on its own standard error, or normal); "ase" and "naive" always give their normal
        interval, whatever ``interval`` says. With the 0-1 loss every kind's limits are then rounded
        out to risks the pool can have, (S + U)/N with S the errors among the M labels and U a whole
        number of errors among the N - M others, so within [S/N, (S + N - M)/N]: this only widens
        (by under 1/N a side), and with a point or two left it keeps the interval from falling
        between two attainable risks (LURE at M = N - 1 covered 0.85 before, 1.0 after).

    Returns
    -------
    RiskTrace
        ``estimates`` is the running estimate. It is not clipped: lure and dr are unbiased, and
        clipping would bias them, so with few labels a 0-1 risk estimate can fall outside [0, 1]
        (e.g. 1.3 from one error drawn with a small acquisition probability) and then outside
        its interval. The interval is for the risk: with the 0-1 loss and ``interval="auto"`` it
        is a Wilson interval inside [0, 1], defined from the first label; the normal and t
        intervals are clipped to the same range ([0, 1], or [0, inf) for cross-entropy); see
        :class:`RiskTrace` for where intervals are NaN after one label.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import estimate_risk
    >>> rng = np.random.default_rng(0)
    >>> probs = rng.dirichlet(np.ones(3), size=500)
    >>> labels = rng.integers(0, 3, 500)
    >>> t = estimate_risk(probs, labels, 50, method="lure", random_state=0)
    >>> t.estimates.shape
    (50,)
    """
    check_pool_pairing([("probs", probs), ("oracle", oracle), ("surrogate", surrogate), ("features", features)])
    probs = check_probs_2d(probs)
    n, c = probs.shape
    budget = check_budget(budget, n)
    check_choice(loss, "loss", LOSSES)
    check_choice(method, "method", METHODS)
    floor = None if floor is None else check_floor(floor)  # None: by method and surrogate kind, once it is known
    alpha = check_alpha(alpha)
    check_choice(interval, "interval", ("auto", "normal"))
    oracle = LabelOracle(oracle, n, c)
    # check_random_state copies a SeedSequence: a classifier surrogate's seed is spawned from the run's
    # seed sequence, and spawning from the caller's own object would advance it.
    rng = check_random_state(random_state)
    sur = _Surrogate(surrogate, probs, features, c, rng)
    schedule = (_check_refit_schedule(refit_schedule, sur, budget) if refit_schedule is not None
                else lazy_schedule(budget))
    if floor is None:
        floor = check_floor(default_floor(method, classifier=sur.estimator is not None))

    if method == "dr":
        return _dr_trace(probs, sur, oracle, budget, loss, floor, rng, schedule, alpha, interval)
    scores = _acquisition_scores(probs, sur.probs, loss)
    remaining = np.ones(n, bool)
    idx = np.empty(budget, np.int64)
    q_sel = np.empty(budget)
    losses = np.empty(budget)
    labels = np.empty(budget, np.int64)
    ase_est = np.empty(budget)
    ase_var = np.empty(budget)
    draw_floor = 1.0 if method == "iid" else floor  # iid: uniform over the remaining points
    if method == "ase":
        # The surrogate's expected loss and loss variance at every pool point, recomputed only when the
        # surrogate changes: a step then sums them over the remaining points, O(N), where recomputing
        # them on (n_remaining, C) copies of probs and surrogate cost O(N C) per label (560 ms against
        # lure's 47 at N = 1e6, C = 10). Both are row-wise, so the sums are bit for bit the same.
        ase_el, ase_lv = _loss_moments(probs, sur.probs, loss)
    # the smallest acquisition probability among the remaining points, read only by _flat_loss_interval
    # (cross-entropy): an O(N) pass per label that the 0-1 loss does not pay
    q_min = np.full(budget, np.nan)
    track_q_min = loss == "cross_entropy"
    for m in range(budget):
        q = defensive_q(scores, remaining, draw_floor)  # defensive_draw, with its q kept for q_min
        if track_q_min:
            q_min[m] = np.min(q, where=remaining, initial=np.inf)
        i, q_sel[m] = draw_index(q, rng)
        idx[m] = i
        remaining[i] = False
        labels[m] = oracle(i)
        losses[m] = point_loss(probs[i], labels[m], loss)
        # iid draws uniformly (floor 1: the scores get weight 0), so a classifier surrogate is never fitted for it:
        # it was fitted on schedule (4 fits for 40 labels) and unused
        if method != "iid" and sur.maybe_refit(m + 1, idx[: m + 1], labels[: m + 1], schedule):
            scores = _acquisition_scores(probs, sur.probs, loss)
            if method == "ase":
                ase_el, ase_lv = _loss_moments(probs, sur.probs, loss)
        if method == "ase":
            ase_est[m] = (losses[: m + 1].sum() + ase_el[remaining].sum()) / n
            ase_var[m] = ase_lv[remaining].sum() / n**2

    # LURE weights for every prefix length M, from running sums (no loop over M).
    j = np.arange(1, budget + 1)
    a = 1.0 / ((n - j + 1) * q_sel) - 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        b = np.where(j < n, a * losses / (n - j), 0.0)  # at j = N the factor (N - M) is 0 anyway
    M = j.astype(float)
    k = n - M
    cL, cL2, cb = np.cumsum(losses), np.cumsum(losses**2), np.cumsum(b)
    fpc = 1.0 - M / n
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "lure":
            est = (cL + k * cb) / M
            sum_sq = cL2 + 2 * k * np.cumsum(losses * b) + k**2 * np.cumsum(b**2)
        else:
            est = cL / M
            sum_sq = cL2
        s2 = np.where(M > 1, (sum_sq - M * est**2) / (M - 1), np.nan)
        se = np.sqrt(np.maximum(s2, 0.0) / M * fpc)
        if method == "lure":
            # the larger of the exchangeable-terms and the martingale standard errors (see _lure_se)
            se = np.fmax(se, _lure_se(losses, q_sel, n, est))
    # every loss known (M = N): the estimate is exact. Already 0 through fpc = 0, except on a one-point
    # pool, where s2 (one label) is NaN
    se = np.where(fpc <= 0, 0.0, se)
    v_final = lure_weights(q_sel, n)
    if method == "iid":
        v_final = np.ones(budget)
    if method == "ase":
        est, se = ase_est, np.sqrt(ase_var)
    if budget == n:  # every loss is known: the estimate is the pool's risk, summed as the truth is
        est[-1] = _pool_risk(probs, idx, labels, loss)
    # ase / naive keep their normal interval; lure / iid get the small-sample forms unless asked not to
    lo, hi, interval_method = _interval(est, se, M, fpc, loss, alpha,
                                        interval if method in ("lure", "iid") else "normal",
                                        INTERVAL_PROMISES[method][0], "t-log-fpc", log_scale=True)
    lo, hi = _attainable(lo, hi, np.cumsum(losses), M, n, loss)
    # the floor the draws used: for iid the uniform 1.0, whatever ``floor`` was given (it reported that unused one)
    diag = {"floor": draw_floor, "surrogate": sur.kind, "max_weight": float(np.max(v_final))}
    if method in ("lure", "iid") and interval == "auto" and loss == "cross_entropy":
        lo, hi = _flat_loss_interval(lo, hi, est, se, losses, q_min, probs, alpha, diag, weighted=method == "lure")
    if method == "lure" and sur.kind == "self":
        _self_surrogate_check(diag, probs, loss, lo, hi, budget, alpha)
    if sur.estimator is not None:
        diag["surrogate_fits"] = sur.n_fits
    # + 0.0: a loss of -log(1.0) = -0.0 made an estimate and limits of -0.0, printed "-0"
    est, lo, hi, se = est + 0.0, lo + 0.0, hi + 0.0, se + 0.0
    ro = lambda x: _ro(x)  # noqa: E731
    return RiskTrace(estimates=ro(est), indices=ro(idx), q=ro(q_sel), weights=ro(v_final), losses=ro(losses),
                     labels=ro(labels), ci_low=ro(lo), ci_high=ro(hi), se=ro(se), method=method,
                     loss=loss, interval_method=interval_method, alpha=alpha, n_pool=n, diagnostics=diag)


def _dr_trace(probs, sur, oracle, budget, loss, floor, rng, schedule, alpha, interval):
    n = probs.shape[0]
    idx, q_sel, losses, labels, Z, iw, v_model, T, share, control, q_min = _run_dr(probs, sur, oracle, budget, loss,
                                                                                   floor, rng, schedule)
    M = np.arange(1, budget + 1, dtype=float)
    # Fixed (data-free) weights keep the combination unbiased; the residual term of Z_m is scaled
    # by n_remaining / N, so its spread shrinks like that and inverse-variance weights are
    # (N / n_remaining)^2 (measured against equal weights: same error within noise at 10-100 labels,
    # lower at 200, e.g. 9.0x vs 4.4x over iid on breast_cancer).
    w = (n / (n - np.arange(budget, dtype=float))) ** 2
    cw, cw2 = np.cumsum(w), np.cumsum(w**2)
    est = np.cumsum(w * Z) / cw
    with np.errstate(divide="ignore", invalid="ignore"):
        # Weighted sample variance of the Z_m around the running estimate, times sum(w^2) / sum(w)^2.
        # (Measured on the task suite against a per-term (sandwich) form and a model-based
        # sigma^2 / sum(w) form: this one keeps coverage closest to nominal; all three undercover
        # once most of a small pool is labelled, e.g. 200 of 284 points.)
        ss = np.cumsum(w * Z**2) - 2 * est * np.cumsum(w * Z) + est**2 * cw
        s2 = np.where(M > 1, ss / cw * M / (M - 1), 0.0)
        v_emp = np.maximum(s2, 0.0) * cw2 / cw**2
    # Shrink the empirical variance towards the surrogate's prediction of it, worth
    # DR_VARIANCE_PRIOR_TERMS terms: with few labels the empirical spread of the Z_m is itself
    # noisy and, when no surprising loss has been drawn yet, too small (coverage of the 95%
    # interval at 10 labels, benchmarks/active_selection.py part A: 0.87-0.96 over the task suite
    # without it, 0.97-0.99 with it; from 50 labels on the two differ little).
    nu0 = DR_VARIANCE_PRIOR_TERMS
    v_prior = np.cumsum(w**2 * v_model) / cw**2
    se = np.sqrt((nu0 * v_prior + (M - 1) * v_emp) / (nu0 + M - 1))
    if budget == n:  # every loss is known: the risk is exact (summed as the truth is, see _pool_risk)
        est[-1], se[-1] = _pool_risk(probs, idx, labels, loss), 0.0
    lo, hi, interval_method = _interval(est, se, M, 1.0 - M / n, loss, alpha, interval, "normal", "t")
    lo, hi = _attainable(lo, hi, np.cumsum(losses), M, n, loss)
    diag = {"floor": floor, "surrogate": sur.kind, "temperature": T, "max_weight": float(np.max(iw))}
    if interval == "auto" and loss == "cross_entropy":
        lo, hi = _flat_loss_interval(lo, hi, est, se, losses, q_min, probs, alpha, diag)
    if sur.kind == "self":
        _self_surrogate_check(diag, probs, loss, lo, hi, budget, alpha)
    est, lo, hi, se = est + 0.0, lo + 0.0, hi + 0.0, se + 0.0  # no -0.0 (see estimate_risk)
    if sur.estimator is not None:
        diag["surrogate_fits"] = sur.n_fits
        # the refitted classifier's standing at the end: the draw's share of uniform (floor <= share <= 1)
        # and the control in use, "line" (a + b s) or "constant" (module docstring)
        diag["uniform_share"], diag["control"] = share, control
    return RiskTrace(estimates=_ro(est), indices=_ro(idx), q=_ro(q_sel), weights=_ro(iw), losses=_ro(losses),
                     labels=_ro(labels), ci_low=_ro(lo), ci_high=_ro(hi), se=_ro(se), method="dr", loss=loss,
                     interval_method=interval_method, alpha=alpha, n_pool=n, diagnostics=diag)


def _interval(est, se, M, fpc, loss, alpha, interval, normal_name, t_name, log_scale=False):
    """Running intervals after each label: normal, or ("auto") Wilson at n_eff for the 0-1 loss and
    Student-t with M - 1 degrees of freedom otherwise, on the log scale when ``log_scale`` (lure and iid
    with cross-entropy, see _log_t; dr's estimate, a difference estimator, can be <= 0: symmetric).
    Returns (low, high, method name)."""
    z = special.ndtri(1 - alpha / 2)
    if interval == "normal":
        return (*_in_loss_range(est - z * se, est + z * se, loss), normal_name)
    if loss == "zero_one":
        return (*_wilson_design_effect(est, se, M, fpc, z), "wilson-neff")
    tq = np.where(M > 1, special.stdtrit(np.maximum(M - 1, 1), 1 - alpha / 2), np.nan)
    # the whole pool labelled: the estimate is the risk (se 0), also after one label of a one-point pool,
    # where M - 1 = 0 degrees of freedom left the interval NaN
    tq = np.where(fpc <= 0, 0.0, tq)
    lo, hi = _in_loss_range(est - tq * se, est + tq * se, loss)
    if log_scale:
        return (*_log_t(est, tq * se, lo, hi), t_name)
    return lo, hi, t_name


# Measured coverage of the 95% cross-entropy interval (interval="auto", default floors, 400 seeds), before
# (the t interval alone) -> after _flat_loss_interval, at 10 / 20 / 50 labels:
# pool A, 200 points, 3 classes, p = 1.0 for the true class on 90% of them (loss 0) and p(true) = 0.4 on the
#   other 10% (risk 0.092; _one_hot_pool in tests/test_audit31_active_inputs.py): iid 0.64 / 0.83 / 0.97 ->
#   0.99 / 0.95 / 0.97 (35% / 12% / 0% of the intervals had been [0, 0]; median width at 10 labels 0.76 ->
#   0.82); lure 1.00 and dr 1.00 / 0.985 / 0.96 unchanged (the model's uncertain points are drawn first).
# pool B, a one-hot model (a tree) wrong on 10% of 200 points, loss 27.6 there (risk 2.76): iid and lure (every
#   score 0: uniform draws) 0.66 / 0.87 / 0.97 -> 0.99 / 0.97 / 0.97, dr 0.66 / 0.90 / 0.90 -> 0.99 / 0.995 /
#   0.90 (at 50 labels no run is flat: dr's own interval undercovers there, untouched).
def _flat_loss_interval(lo, hi, est, se, losses, q_min, probs, alpha, diag, weighted=False):
    """The cross-entropy interval where every label so far has the same loss (all 0, typically: trees and kNN
    give p = 1.0 to the true class), so the sample has no spread and the Student-t interval collapses to
    [R, R] (to [0, 0] with most of the pool unlabelled: iid with 10 labels covered 0.64).

    Replaced, at each such prefix of M >= 2 labels (before any pool point is left), by a bound that needs no
    spread: with S the labelled losses' sum, c their common value and K = N - M unlabelled points, the pool's
    risk is (S + sum of the unlabelled losses) / N, and a loss is at most L_i = -log(max(min_c p_i(c), 1e-12))
    (27.6 at most, the clipped cross-entropy). If D pool points have a loss other than c, every draw found
    one with probability at least D q_min,m (q_min,m: the smallest acquisition probability among the points
    remaining at step m, recorded by the run: 1 / n_remaining for iid, at least floor / n_remaining for lure
    and dr), so P(M draws miss them) <= prod_m (1 - D q_min,m) <= (1 - D qbar)^M (qbar their mean; Jensen),
    which is <= alpha once D >= D_up = (1 - alpha^(1/M)) / qbar (a supermartingale bound, valid for adaptive
    draws). So, with probability >= 1 - alpha, at most D_up unlabelled losses differ from c, and the risk lies
    in [(S + (K - D_up) c + sum of the D_up smallest min(l_i, c)) / N, (S + (K - D_up) c + sum of the D_up
    largest max(L_i, c)) / N], l_i = -log max_c p_i(c) the smallest loss point i can have (the largest and
    smallest over the whole pool: a little wider than over the unlabelled points, computed once). All of alpha is
    spent on this one event, so the lower limit is S / N + ... rather than a two-sided quantile. Honest,
    and wide: 10 labels of loss 0 cannot rule out that a quarter of a pool of p = 1.0 predictions are wrong
    with loss 27.6 (iid, N = 200: [0, 7.2] for a risk of 0.09); more labels narrow it as 1 / M.

    A prefix counts as flat when its losses are all equal; for lure (``weighted``) also only when ``se`` is 0
    up to rounding (<= 1e-12 of the loss's scale), as its weighted terms v L of equal non-zero losses still
    have a spread. dr's se is shrunk towards the surrogate's predicted spread, which for a one-hot model as
    its own surrogate is ~1e-5 (its probabilities are clipped at 1e-12): its interval was [0, 1.6e-5] for a
    risk of 2.76, so for dr equal losses suffice. On a flat prefix the interval becomes the hull of the t
    interval and this one (it can only widen); elsewhere nothing changes. Sets
    ``diag["loss_bound_interval"]`` (True) when the final interval is this."""
    M = np.arange(1, losses.size + 1, dtype=float)
    n = probs.shape[0]
    same = np.minimum.accumulate(losses) == np.maximum.accumulate(losses)
    c = float(losses[0])
    scale = np.maximum(np.abs(est), abs(c))
    flat = same & (M >= 2) & (M < n)
    if weighted:
        with np.errstate(invalid="ignore"):
            flat &= ~(se > 1e-12 * scale)
    if not flat.any():
        return lo, hi
    lo, hi = lo.copy(), hi.copy()
    qbar = np.cumsum(q_min) / M
    d_up = np.floor((1.0 - alpha ** (1.0 / M)) / qbar)
    k = n - M
    d_up = np.minimum(np.where(np.isfinite(d_up), d_up, k), k).astype(np.int64)
    # the largest and the smallest possible loss at each point (-log of its smallest / largest probability, the
    # loss if the label is its least / most likely class), sorted and summed once: the D_up differing points add
    # at most the D_up largest and at least the D_up smallest (a uniform model's risk log 3 is then pinned, not
    # [0.82, 1.10])
    l_max = np.maximum(-np.log(np.clip(probs.min(axis=1), 1e-12, 1.0)), c)
    l_min = np.minimum(-np.log(np.clip(probs.max(axis=1), 1e-12, 1.0)), c)
    top = np.concatenate([[0.0], np.cumsum(np.sort(l_max)[::-1])])
    bottom = np.concatenate([[0.0], np.cumsum(np.sort(l_min))])
    S = c * M
    base = S + (k - d_up) * c
    lo[flat] = np.fmin(lo, (base + bottom[d_up]) / n)[flat]
    hi[flat] = np.fmax(hi, (base + top[d_up]) / n)[flat]
    if flat[-1]:
        diag["loss_bound_interval"] = True
    return lo, hi


def _attainable(lo, hi, labelled_loss, M, n, loss):
    """For the 0-1 loss, the limits moved outward to values the pool's risk can take.

    After M labels with S errors among them, the risk is (S + U) / N for a whole number U of errors
    among the K = N - M unlabelled points, 0 <= U <= K. So each limit is rounded outward to the nearest
    such value and kept within [S / N, (S + K) / N]. A truth inside the interval stays inside, so this
    can only raise coverage, and it matters only where 1 / N is not small against the width: with one
    point left, LURE's interval (half-width ~ 0.95 / N) could sit between the two possible risks S / N
    and (S + 1) / N and cover neither (95% intervals covered 0.85 of 300 pools at M = N - 1). Cross-entropy
    losses are not whole numbers: unchanged."""
    if loss != "zero_one":
        return lo, hi
    k = n - M
    with np.errstate(invalid="ignore"):  # NaN limits (one label) stay NaN
        # the 1e-9 keeps a limit that is an attainable value up to rounding where it is
        u_lo = np.clip(np.floor(n * lo - labelled_loss + 1e-9), 0.0, k)
        u_hi = np.clip(np.ceil(n * hi - labelled_loss - 1e-9), 0.0, k)
        return (labelled_loss + u_lo) / n, (labelled_loss + u_hi) / n


def _log_t(est, half, lo, hi):
    """The Student-t interval on the log scale, [R / f, R f] with f = exp(half / R) (the delta method for
    log R): a mean cross-entropy is positive and right-skewed (a few points with a large loss, rarely
    drawn), and the symmetric interval's misses were nearly all below the truth. Measured (3-class pools of
    500 points, 500 seeds, 10 / 25 / 50 / 100 labels): iid labels on an over-confident model covered
    0.89 / 0.91 / 0.94 / 0.96 with the symmetric t, 0.95 / 0.94 / 0.95 / 0.97 with this; lure with the
    model itself as surrogate 0.72-0.83 -> 0.78-0.85 (over-confident) and 0.84-0.92 -> 0.87-0.93
    (calibrated). Where R is 0 (every loss seen is 0) the symmetric limits (lo, hi) are kept."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        f = np.exp(half / est)
        pos = est > 0
        return np.where(pos, est / f, lo), np.where(pos, est * f, hi)


def _in_loss_range(lo, hi, loss):
    """Limits clipped to the range the risk can take ([0, 1] for the 0-1 loss, [0, inf) for cross-entropy),
    as the Wilson interval is: a normal or t interval of a small, skewed risk reached below 0 (cross-entropy,
    20 labels: a lower limit of -1.8). The estimate is not clipped (that would bias it), so one outside the
    range (an unbiased estimate can be, by chance) is then outside its interval, as with Wilson."""
    top = 1.0 if loss == "zero_one" else np.inf
    with np.errstate(invalid="ignore"):  # NaN limits (one label) stay NaN
        return np.clip(lo, 0.0, top), np.clip(hi, 0.0, top)


# The pool's 0-1 risk is a multiple of 1/N, so on any pool under 1e9 points an estimate this close
# to 0 or 1 is rounding error around an exact 0 or 1 (see _wilson_design_effect).
_EXACT_TOL = 1e-9


def _wilson_design_effect(est, se, M, fpc, z):
    """Wilson score interval for a proportion estimated with standard error ``se``.

    The effective sample size n_eff = p(1 - p)/se^2 carries the design effect (LURE weights,
    the finite-population factor) into the Wilson formula (Korn & Graubard's approach for
    complex samples). When p is 0 or 1, or se is 0 (no error seen yet), n_eff falls back to
    (M - 1)/fpc, the value for plain sampling without replacement. A p within
    ``_EXACT_TOL`` of 0 or 1 counts as exactly 0 or 1: the dr estimate of an all-correct sample
    is a sum of terms that cancel only up to rounding (~1e-18), and p(1 - p)/se^2 at such a p
    would put n_eff near 0 and the interval at [0, 1].
    """
    p = np.clip(est, 0.0, 1.0)
    p = np.where(p < _EXACT_TOL, 0.0, np.where(p > 1.0 - _EXACT_TOL, 1.0, p))
    with np.errstate(divide="ignore", invalid="ignore"):
        base = np.maximum(M - 1, 1) / np.maximum(fpc, 1e-300)
        n_eff = np.where((se > 0) & (p > 0) & (p < 1), p * (1 - p) / se**2, base)
        n_eff = np.where(np.isfinite(n_eff), n_eff, base)
        z2n = z**2 / n_eff
        centre = (p + z2n / 2) / (1 + z2n)
        half = z / (1 + z2n) * np.sqrt(p * (1 - p) / n_eff + z2n / (4 * n_eff))
    # The Wilson interval always contains p, but at p = 0 (or 1) centre - half cancels only up to
    # rounding (~5e-17): without the min / max the interval would exclude an exact 0 estimate and truth.
    lo = np.minimum(np.clip(centre - half, 0.0, 1.0), p)
    hi = np.maximum(np.clip(centre + half, 0.0, 1.0), p)
    exact = fpc <= 0  # the whole pool is labelled: the estimate is the truth
    return np.where(exact, est, lo), np.where(exact, est, hi)


def _loss_moments(model_probs, surrogate_probs, loss, eps=1e-12):
    """Mean and variance of each point's loss when its label is drawn from the surrogate, from one pass
    (the mean is :func:`expected_loss`, bit for bit: every caller needs both, and computing them apart
    evaluated the expected loss, or the log of the model's probabilities, twice)."""
    if loss == "zero_one":
        e = expected_loss(model_probs, surrogate_probs, loss)
        return e, e * (1 - e)
    lf = -np.log(np.clip(model_probs, eps, 1.0))
    m1 = (surrogate_probs * lf).sum(-1)
    return m1, np.maximum((surrogate_probs * lf**2).sum(-1) - m1**2, 0.0)


def _loss_variance(model_probs, surrogate_probs, loss, eps=1e-12):
    """Variance of each point's loss when its label is drawn from the surrogate."""
    return _loss_moments(model_probs, surrogate_probs, loss, eps)[1]


def _ro(x):
    x = np.array(x, copy=True)
    x.setflags(write=False)
    return x
