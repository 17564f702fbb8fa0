"""Out-of-bag, .632 and .632+ bootstrap estimates of a learning algorithm's error.

Efron (1983) and Efron & Tibshirani (1997). With per-sample losses (the default):

1. resubstitution error err: the model fitted on ALL rows, evaluated on all rows;
2. leave-one-out bootstrap error Err(1) (``oob``): for every row, the average loss of the models
   whose bootstrap sample did not contain it, then averaged over rows (rows that were in every
   sample are left out and counted in ``never_out_of_bag``);
3. .632 = 0.368 err + 0.632 Err(1);
4. no-information error gamma: the loss averaged over all pairs (y_i, f(x_j)) of the full-data
   model (for 0-1 loss: sum_k p_k (1 - q_k));
5. Err(1)' = min(Err(1), gamma); relative overfitting R = (Err(1)' - err) / (gamma - err) if
   Err(1)' > err and gamma > err, else 0; R is clipped to [0, 1];
6. w = 0.632 / (1 - 0.368 R); .632+ = .632 + (Err(1)' - err) 0.368 0.632 R / (1 - 0.368 R) (their eq. 32;
   equal to (1 - w) err + w Err(1) whenever Err(1) <= gamma).

Standard errors and intervals: Efron & Tibshirani's (1997, Sec. 3) nonparametric delta-method
standard error of Err(1), computed from the bootstrap samples already drawn (no extra fits):

    D_i = (2 + 1/(n-1)) (E_i - Err(1)) / n  +  e_n sum_b (N_ib - mean_b N_ib) q_b / B,
    SE(Err(1)) = sqrt(sum_i D_i^2),

with E_i the OOB average loss of row i, N_ib the number of times row i is in bootstrap sample b,
q_b = sum_i I(N_ib = 0) Q_ib / n the OOB loss total of sample b and e_n = (1 - 1/n)^-n. The
first term is row i's influence as a test point, the second its influence as a training point
(the covariance between how often the row is drawn and the errors that sample makes). The second
term is a Monte Carlo covariance over B samples; its noise inflates sum_i D_i^2 by about
e_n^2 sum_i var_b(N_ib) var_b(q_b) / B. We remove it by dropping the b = b' terms of the square
(a U-statistic; Efron 2014 makes the same correction for the smoothed bootstrap); without it the
SE is biased upwards unless B >> n (by ~25% at n = 40, B = 200). The formula is recalled from the
paper (which we could not retrieve) and checked by simulation: tests/test_resample_oob_interval.py.
The remaining noise still needs B of a few times n; the SE is refused (NaN, with the reason in
``diagnostics["se"]``) below 100 samples or when its estimated noise is too large. For .632 and .632+ we use Efron &
Tibshirani's approximation SE(.632+) = SE(Err(1)) .632+ / Err(1) (the three estimates move
together). With ``groups``, units are clusters: n, N and e_n refer to clusters (our extension).

Where we differ from mlxtend on purpose: mlxtend computes the weights per bootstrap round,
takes the "training error" from the round's model (not the full-data fit), leaves R unclipped and
Err(1) uncapped (so .632+ can leave [err, gamma] or divide by ~0), and derives gamma from
accuracy only. Its per-round OOB average is available here with ``scoring=`` (an aggregate
scikit-learn scorer; the per-round mean is then the OOB estimate).
"""
from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd
from joblib import delayed

from .._parallel import run_delayed
from .._engine import unit_index
from .._random import check_random_state, seed_key, seed_unseeded
from scipy import special

from .._validation import (ValidationError, as_array, check_alpha, check_bool, check_choice, check_finite,
                           check_int, check_integer_in_range, check_real, check_same_index, check_unit_ids,
                           raise_if_any)
from ..results import _fmt, frame_to_html

__all__ = ["BootstrapSplit", "BootstrapErrorResult", "bootstrap_error", "oob_delta_se", "LOSSES"]

LOSSES = ("zero_one", "squared", "absolute", "log_loss")


class BootstrapSplit:
    """scikit-learn compatible bootstrap splitter: train = n rows drawn with replacement, test =
    the rows never drawn (out-of-bag).

    With ``groups`` passed to :meth:`split`, whole groups are drawn with replacement (cluster
    bootstrap) and the test set holds the rows of the groups not drawn. Train indices repeat rows,
    which scikit-learn's ``cross_validate`` handles. The indices of split b are
    ``default_rng(seed).integers(0, n, n)`` drawn in order, the same stream as
    ``bootstrap_ci(..., resampling="multinomial")`` and :func:`bootstrap_error` with the same
    ``random_state`` (a Generator contributes one seed key per ``split`` call, as there).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import BootstrapSplit
    >>> cv = BootstrapSplit(n_splits=3, random_state=0)
    >>> [len(np.intersect1d(tr, te)) for tr, te in cv.split(np.zeros((20, 1)))]
    [0, 0, 0]
    """

    def __init__(self, n_splits: int = 200, *, random_state=None):
        # a boolean is an int to Python: BootstrapSplit(True) made one split
        if not isinstance(n_splits, (int, np.integer)) or isinstance(n_splits, bool) or n_splits < 1:
            raise ValidationError("n_splits", f"must be a positive integer, got {n_splits!r}")
        self.n_splits = int(n_splits)
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of splits (scikit-learn's splitter protocol; the arguments are ignored)."""
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Yield (train, test) row indices: train drawn with replacement (whole groups with ``groups``), test OOB."""
        n = _n_rows(X)
        if n is None:
            raise ValidationError("X", f"must be array-like with one entry per sample, got {type(X).__name__}")
        if n < 2:
            raise ValidationError("X", f"needs at least 2 rows, got {n}")
        # A Generator gives one seed key per call, as in bootstrap_ci and bootstrap_error (drawing the
        # indices from the Generator itself gave other splits than theirs for the same Generator state)
        rng = np.random.default_rng(seed_key(self.random_state))
        if groups is None:
            all_rows = np.arange(n)
            for _ in range(self.n_splits):
                train = rng.integers(0, n, n)
                test = np.setdiff1d(all_rows, train, assume_unique=False)
                yield train, test
            return
        groups = check_unit_ids(groups, "groups")  # the one unit-id rule ([1, "1"] is not one group)
        if groups.shape[0] != n:
            raise ValidationError("groups", f"must have one id per row ({n}), got {groups.shape[0]}")
        inv, G = unit_index(groups)
        if G < 2:
            raise ValidationError("groups", "needs at least 2 distinct groups")
        order = np.argsort(inv, kind="stable")
        starts = np.searchsorted(inv[order], np.arange(G + 1))
        sizes = np.diff(starts)
        for _ in range(self.n_splits):
            counts = np.bincount(rng.integers(0, G, G), minlength=G)
            drawn = np.repeat(np.arange(G), counts)
            # The rows of the drawn groups, group after group, gathered in one vectorised step (a Python
            # concatenation of one slice per drawn group took ~6 s for 50 splits of 50,000 groups):
            # position p of the output is row offset (p - first output position of its group) in the group.
            lens = sizes[drawn]
            first = np.cumsum(lens) - lens
            train = order[np.repeat(starts[drawn] - first, lens) + np.arange(lens.sum())]
            test = np.flatnonzero(counts[inv] == 0)  # rows of the groups never drawn, in row order
            yield train, test

    def __repr__(self) -> str:
        return f"BootstrapSplit(n_splits={self.n_splits}, random_state={self.random_state!r})"


# --------------------------------------------------------------------------------------------
# Losses
# --------------------------------------------------------------------------------------------
def _resolve_loss(loss, estimator):
    """-> (per-sample loss fn(y, pred) -> (n,), response method name, name)."""
    from sklearn.base import is_classifier

    if loss is None:
        loss = "zero_one" if is_classifier(estimator) else "squared"
    if callable(loss):
        return loss, "predict", getattr(loss, "__name__", "loss")
    check_choice(loss, "loss", LOSSES)
    # Multi-output y (n, k), valid scikit-learn input: one loss per row, as scikit-learn's metrics aggregate
    # outputs: squared and absolute errors averaged over the outputs (multioutput="uniform_average"), the
    # 0-1 loss 1 when any output is wrong (zero_one_loss's subset rule). They gave (n, k) and an error
    # blaming the user's "aggregate metric".
    if loss == "log_loss":
        return None, "predict_proba", loss  # needs the class order, handled in _pointwise
    return {"zero_one": _zero_one_loss, "squared": _squared_loss, "absolute": _absolute_loss}[loss], "predict", loss


# The named losses, as functions (not lambdas): the closed forms of the no-information error are chosen by
# identity with these, never by a name, so a user's callable that happens to be called "zero_one" or
# "log_loss" is the loss used (its __name__ picked the built-in formulas, and log_loss's was never called).
def _zero_one_loss(y, p):
    return _over_outputs(np.not_equal(*_aligned(y, p)), np.any)


def _squared_loss(y, p):
    return _over_outputs(np.subtract(*_aligned(y, p, float)) ** 2, np.mean)


def _absolute_loss(y, p):
    return _over_outputs(np.abs(np.subtract(*_aligned(y, p, float))), np.mean)


def _one_output(a) -> np.ndarray:
    """An (n, 1) array as (n,): one output. scikit-learn's models predict (n,) for a y of shape (n, 1)."""
    a = np.asarray(a)
    return a[:, 0] if a.ndim == 2 and a.shape[1] == 1 else a


def _aligned(y, p, dtype=None):
    """y and the predictions in one shape: (n, 1) taken as (n,), and a mismatch refused. An (n, 1) y beside (n,)
    predictions broadcast to (n, n) and every loss came out wrong, silently (accuracy 0 for every model)."""
    y, p = _one_output(y), _one_output(p)
    if dtype is not None:
        y, p = y.astype(dtype), p.astype(dtype)
    if y.shape != p.shape:
        raise ValidationError("y", f"has shape {y.shape}, but the model predicts shape {p.shape}")
    return y, p


def _over_outputs(per_output: np.ndarray, reduce) -> np.ndarray:
    """(n,) losses from per-output ones: reduced over the outputs of a 2-D (multi-output) array."""
    out = reduce(per_output, axis=1) if per_output.ndim == 2 else per_output
    return np.asarray(out, dtype=np.float64)


def _pointwise(loss_fn, name, est, X, y, classes):
    from sklearn.utils import _safe_indexing

    y = _one_output(y)  # (n, 1): one output (a DataFrame of one column too)
    if loss_fn is None:  # the built-in log loss (a callable is always called, whatever its name)
        if np.ndim(y) == 2 and np.shape(y)[1] > 1:
            raise ValidationError("loss", f"'log_loss' needs one label per row; y has {np.shape(y)[1]} outputs",
                                  hint="use loss='zero_one' (1 when any output is wrong) or a per-row callable")
        P = est.predict_proba(X)
        # Map each label to the column of the fitted model's classes_; a class unseen in this
        # bootstrap sample has probability 0 there (loss = -log(eps), as sklearn's log_loss clips).
        cols = {c: j for j, c in enumerate(est.classes_)}
        idx = np.array([cols.get(v, -1) for v in np.asarray(y)])
        p = np.where(idx >= 0, P[np.arange(len(idx)), np.maximum(idx, 0)], 0.0)
        return -np.log(np.clip(p, np.finfo(float).eps, 1.0))
    y = np.asarray(y)
    out = np.asarray(loss_fn(y, est.predict(X)), dtype=np.float64)
    if out.shape != y.shape[:1]:
        # an aggregate metric (sklearn.metrics.zero_one_loss, mean_squared_error) returns one number: it failed
        # later as "oob_losses: must be 1-D, got shape ()" (bootstrap_error, a field the user never passed) or
        # numpy's "zero-dimensional arrays cannot be concatenated" (ncv_interval)
        multi = out.ndim == 2 and out.shape[0] == y.shape[0]
        raise ValidationError("loss", f"must return one loss per row, shape ({y.shape[0]},), got shape {out.shape} "
                                      f"from {getattr(loss_fn, '__name__', 'the callable')}",
                              hint=("y has several outputs and the loss returned one per output: reduce them per "
                                    "row, e.g. lambda y, p: ((y - p) ** 2).mean(axis=1)") if multi else
                              ("an aggregate metric such as sklearn.metrics.zero_one_loss is not per-row: pass "
                               "e.g. lambda y, p: (y != p).astype(float) (or scoring= for an aggregate scorer "
                               "in bootstrap_error)"))
    # a NaN loss is no loss: it made every estimate and interval NaN without a word (ncv_interval) or was
    # averaged in (rows of a fold, not of the data: the row is the fold's, said so). An infinite one is a loss
    # (-log 0) and is kept: the estimates are then inf, as they should be.
    raise_if_any(np.isnan(out), "loss", f"returned NaN (from {getattr(loss_fn, '__name__', 'the callable')}; rows "
                 "counted within the evaluated fold or out-of-bag set)", out)
    return out


def _no_information_loss(loss_fn, name, est, X, y, rng):
    """gamma = mean over all (i, j) of L(y_i, f(x_j)); exact, without forming n^2 pairs when possible."""
    y = _one_output(y)
    n = y.shape[0]
    multi = y.ndim == 2  # several outputs: the per-output closed forms below do not apply as written
    if loss_fn is _zero_one_loss and not multi:
        pred = est.predict(X)
        labels, yc = np.unique(np.concatenate([y, pred]), return_inverse=True)
        p = np.bincount(yc[:n], minlength=labels.size) / n
        q = np.bincount(yc[n:], minlength=labels.size) / n
        return float(np.sum(p * (1 - q)))
    if loss_fn is _squared_loss:
        f = _one_output(np.asarray(est.predict(X), float)).reshape(y.shape)
        yf = y.astype(float)
        # per output, mean over all pairs (i, j) of (y_i - f_j)^2; averaged over the outputs (one output: as before)
        return float(np.mean(yf**2) - 2 * np.mean(yf.mean(axis=0) * f.mean(axis=0)) + np.mean(f**2))
    if loss_fn is None:  # the built-in log loss
        P = est.predict_proba(X)
        cols = {c: j for j, c in enumerate(est.classes_)}
        idx = np.array([cols.get(v, -1) for v in y])
        logq = np.log(np.clip(P, np.finfo(float).eps, 1.0)).mean(axis=0)  # mean_j log q_j(k)
        return float(-np.mean(np.where(idx >= 0, logq[np.maximum(idx, 0)], np.log(np.finfo(float).eps))))
    pred = est.predict(X)
    if n <= 4000:  # exact all pairs, in blocks of rows
        tot = 0.0
        step = max(1, 2**22 // n)
        for i in range(0, n, step):
            yi = np.repeat(y[i:i + step], n, axis=0)  # axis 0: rows of a multi-output y stay whole
            pj = np.tile(pred, min(step, n - i)) if np.ndim(pred) == 1 else np.tile(pred, (min(step, n - i), 1))
            tot += float(np.sum(loss_fn(yi, pj)))
        return tot / (n * n)
    # Large n: the average over random permutations of y against the predictions is an unbiased
    # estimate of the all-pairs mean (E over a uniform permutation equals the all-pairs average).
    return float(np.mean([np.mean(loss_fn(y[rng.permutation(n)], pred)) for _ in range(50)]))


# --------------------------------------------------------------------------------------------
# The estimator
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False, eq=False)  # identity: == of array / frame fields raised
class BootstrapErrorResult:
    """OOB, .632 and .632+ estimates (in the units of the loss, or of the score with ``scoring``).

    Attributes
    ----------
    oob, point632, point632plus, resubstitution, no_information : float
    relative_overfitting : float
        R in [0, 1] (after clipping); ``weight`` = 0.632 / (1 - 0.368 R).
    oob_se_naive : float
        sd of the per-row OOB losses / sqrt(n): conditional on the fitted models; it ignores the
        variability of training sets, so it understates the uncertainty of the algorithm's error
        (a lower bound, not a valid standard error). NaN with ``scoring``.
    oob_se, se : float
        Delta-method standard errors of Err(1) and of .632+ (see the module docstring).
    ci_low, ci_high : float
        Interval for .632+: by default on the log scale, .632+ exp(+-z se / .632+) (error rates are
        positive and right-skewed at small n: in our simulations the symmetric .632+ +- z se
        missed mostly below and covered ~0.93, the log-scale one ~0.94), or .632+ +- z se with
        ``ci="normal"``. What it promises: approximate 1 - alpha coverage of Err, the
        algorithm's expected prediction error at sample size n (averaged over training sets drawn
        from the same population), as far as .632+ is unbiased for it. It is not an interval for
        Err_XY, the error of the one model fitted to these data: that varies from training set to
        training set around Err and is barely tracked by any resampling estimate (Bates, Hastie &
        Tibshirani 2023). NaN with ``scoring=`` or a ``cv`` that is not a bootstrap.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.resample import bootstrap_error
    >>> X, y = load_iris(return_X_y=True)
    >>> r = bootstrap_error(DecisionTreeClassifier(max_depth=2, random_state=0), X, y, n_splits=50, random_state=0,
    ...                     progress=False)
    >>> round(r.oob, 3), round(r.point632plus, 3), r.resubstitution
    (0.061, 0.053, 0.04)
    """

    oob: float
    point632: float
    point632plus: float
    resubstitution: float
    no_information: float
    relative_overfitting: float
    weight: float
    n_splits: int
    n: int
    loss: str
    greater_is_better: bool
    oob_se_naive: float = float("nan")
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    oob_se: float = float("nan")
    se: float = float("nan")
    ci_low: float = float("nan")
    ci_high: float = float("nan")
    alpha: float = 0.05
    ci: str = "log"

    def to_frame(self) -> pd.DataFrame:
        """One row per estimate; se / ci_low / ci_high (normal, delta method) for oob, .632, .632+."""
        names = ["resubstitution", "oob", ".632", ".632+", "no_information"]
        vals = np.array([self.resubstitution, self.oob, self.point632, self.point632plus, self.no_information])
        ses = np.full(5, np.nan)
        ses[1:4] = [self.oob_se, _scaled_se(self.oob_se, self.point632, self.oob), self.se]
        lo, hi = _interval(vals, ses, self.alpha, self.ci)
        return pd.DataFrame({"estimator": names, "value": vals, "se": ses, "ci_low": lo, "ci_high": hi,
                             "alpha": self.alpha, "loss": self.loss, "n": self.n, "n_splits": self.n_splits})

    def __repr__(self) -> str:
        return (f"BootstrapErrorResult({self.loss}: .632+ {_fmt(self.point632plus)}, .632 {_fmt(self.point632)}, "
                f"oob {_fmt(self.oob)}, resubstitution {_fmt(self.resubstitution)}, no-information "
                f"{_fmt(self.no_information)}, R {_fmt(self.relative_overfitting)}, "
                f"{self._ci_text()}, n={self.n}, "
                f"n_splits={self.n_splits})")

    def _ci_text(self) -> str:
        if np.isfinite(self.ci_low):
            return f"{1 - self.alpha:.0%} CI for .632+ [{_fmt(self.ci_low)}, {_fmt(self.ci_high)}]"
        reason = (self.diagnostics.get("se") or {}).get("reason", "not available")
        return f"no CI ({reason})"

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame(), caption="bootstrap estimates of prediction error; " + self._ci_text())


CI_KINDS = ("log", "normal")
# The delta-method SE is refused (NaN + warning) below MIN_SPLITS_FOR_SE samples, or when the
# estimated Monte Carlo sd of its variance exceeds MAX_RELATIVE_NOISE of it (the estimate is
# conservative: about 1.6x the actual noise in our checks, so 0.5 means ~15-20% noise in the SE).
MIN_SPLITS_FOR_SE = 100
MAX_RELATIVE_NOISE = 0.5


def _interval(value, se, alpha, kind):
    """Normal interval on the log scale (value exp(+-z se / value)) or on the raw scale."""
    value, se = np.asarray(value, float), np.asarray(se, float)
    z = special.ndtri(1 - alpha / 2)
    if kind == "normal":
        return value - z * se, value + z * se
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.exp(z * np.where(value > 0, se / value, np.nan))
    # The log scale needs a positive error. At an error of exactly 0 with a standard error of exactly 0 the
    # interval is the point; otherwise (a negative score-like loss, or no standard error) there is none:
    # returning the value there gave a zero-width "interval" with se NaN.
    at_zero = np.where((value == 0) & (se == 0), value, np.nan)
    return np.where(value > 0, value / f, at_zero), np.where(value > 0, value * f, at_zero)


def _scaled_se(se_oob, estimate, oob):
    """Efron & Tibshirani's (1997) approximation SE(estimate) = SE(Err(1)) estimate / Err(1)."""
    if not np.isfinite(se_oob) or oob <= 0:
        return float("nan") if not (np.isfinite(se_oob) and estimate == oob) else float(se_oob)
    return float(se_oob * estimate / oob)


def oob_delta_se(counts, oob_losses, row_unit=None, bias_correct: bool = True) -> tuple[float, dict]:
    """Efron & Tibshirani's (1997) delta-method standard error of the leave-one-out bootstrap error.

    Parameters
    ----------
    counts : (B, G) array
        N_ub: how many times unit u (a row, or a cluster) is in bootstrap sample b.
    oob_losses : list of B pairs (rows, losses)
        The out-of-bag rows of sample b and their losses.
    row_unit : (n,) int array, optional
        Unit of each row (identity when None).
    bias_correct : subtract the Monte Carlo noise of the covariance term (see the module docstring).

    Returns
    -------
    (se, details) with details: err1, se_uncorrected, test_term, train_term, mc_correction,
    corrected (whether the Monte Carlo correction was applied), variance_mc_sd and relative_noise
    (the Monte Carlo noise of the variance estimate, absolute and relative to it).

    Notes
    -----
    The formula is for a loss that is >= 0 and 0 at a perfect prediction (the built-in losses). It is
    not invariant to adding a constant c to every loss: its training term sums the losses of each
    sample's out-of-bag rows, and how many rows are out of bag covaries with the counts, so the SE grows
    with c (a constant model on 40 rows, B = 2000: 0.17 at c = 0, 0.88 at c = 50). Centring each loss
    at its row's out-of-bag mean removes that, but then the SE is twice the Monte Carlo sd in our
    least-squares check (0.52 against 0.27, where the formula as published gives 0.28), so it is not
    done.

    Examples
    --------
    The standard error of the OOB error of a "model" that predicts the training mean, from 200
    bootstrap samples of 40 rows:

    >>> import numpy as np
    >>> from workbench.resample import BootstrapSplit, oob_delta_se
    >>> y = np.random.default_rng(0).normal(size=40)
    >>> splits = list(BootstrapSplit(n_splits=200, random_state=0).split(y))
    >>> counts = np.array([np.bincount(tr, minlength=y.size) for tr, _ in splits])    # N_ib, (B, n)
    >>> oob_losses = [(te, (y[te] - y[tr].mean()) ** 2) for tr, te in splits]       # squared loss
    >>> se, details = oob_delta_se(counts, oob_losses)
    >>> counts.shape, round(details["err1"], 3), round(se, 3)
    ((200, 40), 0.665, 0.159)

    :func:`bootstrap_error` computes the same from the same samples:

    >>> from sklearn.dummy import DummyRegressor
    >>> from workbench.resample import bootstrap_error
    >>> r = bootstrap_error(DummyRegressor(), np.zeros((40, 1)), y, n_splits=200, random_state=0)
    >>> bool(np.isclose(r.oob_se, se)), bool(np.isclose(r.oob, details["err1"]))
    (True, True)
    """
    # Checked up front: a missing sample's losses counted as 0 silently, and bad rows or units, one unit or
    # no out-of-bag row at all were an IndexError, a ZeroDivisionError or a NaN with a numpy warning.
    bias_correct = check_bool(bias_correct, "bias_correct")  # "no" is truthy
    counts = check_finite(as_array(counts, "counts", ndim=2), "counts")
    # how often each unit was drawn: a negative count gave a wrong SE silently (fractional ones are legitimate:
    # a cluster bootstrap's per-row counts are draws / cluster size)
    raise_if_any(counts < 0, "counts", "must be >= 0 (times each unit was drawn)", counts)
    B, G = counts.shape
    if B < 2:  # one sample has no covariance between counts and losses: its "SE" was a finite number of nothing
        raise ValidationError("counts", f"needs at least 2 bootstrap samples (rows), got {B}")
    if G < 2:
        raise ValidationError("counts", f"needs at least 2 units (columns), got shape {counts.shape}")
    oob_losses = list(oob_losses)
    if len(oob_losses) != B:
        raise ValidationError("oob_losses", f"must hold one (rows, losses) pair per bootstrap sample (row of "
                                            f"counts): got {len(oob_losses)}, expected {B}")
    unit = None if row_unit is None else check_integer_in_range(row_unit, "row_unit", 0, G)  # a list works too
    n = int(unit.size) if unit is not None else G
    unit = np.arange(n) if unit is None else unit
    tot = np.zeros(n)
    cnt = np.zeros(n)
    q = np.zeros(B)
    for b, (rows, losses) in enumerate(oob_losses):  # loop over the B samples, each vectorised
        rows = check_integer_in_range(rows, "oob_losses", 0, n)
        # not check_finite: an infinite loss (a callable loss= of the user) makes Err(1) and its SE inf / NaN,
        # as it makes the point estimates
        losses = as_array(losses, "oob_losses", ndim=1, dtype=np.float64)
        if losses.shape != rows.shape:
            raise ValidationError("oob_losses", f"sample {b}: needs one loss per out-of-bag row, got {losses.size} "
                                                f"losses for {rows.size} rows")
        np.add.at(tot, rows, losses)
        np.add.at(cnt, rows, 1.0)
        q[b] = np.sum(losses)
    seen = cnt > 0
    n_seen = int(seen.sum())
    if n_seen == 0:
        raise ValidationError("oob_losses", "no row is ever out of bag; use more bootstrap samples")
    E = np.where(seen, tot / np.maximum(cnt, 1), 0.0)
    err1 = float(E[seen].mean())
    q = q / n_seen
    e_n = (1.0 - 1.0 / G) ** (-G)
    test_row = np.where(seen, (E - err1) / n_seen, 0.0)
    test_term = (2.0 + 1.0 / (G - 1)) * np.bincount(unit, weights=test_row, minlength=G)
    Nc = counts - counts.mean(axis=0)
    train_term = e_n * (Nc.T @ q) / B
    D = test_term + train_term
    raw = float(np.sum(D * D))
    # sum_u C_u^2 with C_u = e_n / B sum_b Nc_ub q_b is a V-statistic over pairs of samples (b, b');
    # its b = b' terms are pure Monte Carlo noise (E > 0 even when every covariance is 0). The
    # U-statistic keeps only b != b' (unbiased for the B = inf value; Efron 2014 makes the same
    # correction for the smoothed bootstrap SD). Without it the SE is biased up unless B >> n.
    qc = q - q.mean()
    row_sq = np.einsum("bu,bu->b", Nc, Nc)  # ||Nc_b||^2
    diag = float(e_n**2 * np.sum(qc**2 * row_sq) / B**2)
    train_v = float(np.sum(train_term**2))
    train_u = (B / (B - 1)) * (train_v - diag) if B > 1 else train_v
    test_v = float(np.sum(test_term**2))
    cross = float(2 * np.sum(test_term * train_term))
    var_u = test_v + cross + train_u
    # Monte Carlo noise of var_u: the off-diagonal U-statistic and the cross term.
    K = Nc @ Nc.T
    np.fill_diagonal(K, 0.0)
    w = qc[:, None] * qc[None, :] * K
    sd_u = e_n**2 / (B * (B - 1)) * np.sqrt(2 * np.sum(w * w)) if B > 1 else np.inf
    sd_cross = 2 * e_n * np.sqrt(test_v * np.mean(row_sq) / max(G, 1) * np.var(q, ddof=1) / B) if B > 1 else np.inf
    noise = float(np.hypot(sd_u, sd_cross))
    corrected = bias_correct and var_u > 0
    var = var_u if corrected else raw
    se = float(np.sqrt(var))
    return se, {"err1": err1, "se_uncorrected": float(np.sqrt(raw)), "test_term": float(np.sqrt(test_v)),
                "train_term": float(np.sqrt(train_v)), "mc_correction": float(raw - var_u),
                "corrected": bool(corrected), "variance_mc_sd": noise,
                # a variance of exactly 0 with no noise (every out-of-bag loss the same, e.g. 0 for a perfect
                # model) is exact, not noise: inf there made bootstrap_error suggest ceil(inf) splits (OverflowError)
                "relative_noise": float(noise / var) if var > 0 else (0.0 if noise == 0 else float("inf"))}


def point632plus(err_resub: float, err_oob: float, gamma: float) -> tuple[float, float, float, float]:
    """(.632, .632+, R, weight) from resubstitution, OOB and no-information errors (lower is better).

    Efron & Tibshirani (1997), eq. 32: Err(1)' = min(Err(1), gamma); R = (Err(1)' - err) / (gamma - err)
    when Err(1)' > err and gamma > err, else 0 (so R is in [0, 1]); w = .632 / (1 - .368 R);
    .632+ = .632 + (Err(1)' - err) * .368 * .632 R / (1 - .368 R).
    When Err(1) <= gamma this equals (1 - w) err + w Err(1) (their eq. 29). It differs when Err(1) > gamma:
    eq. 32 keeps the .632 estimate's uncapped Err(1) and caps only the correction, so the result never
    falls below the .632 estimate (with R = 0 it *is* the .632 estimate), as in ipred's ``errorest``.

    Examples
    --------
    >>> from workbench.resample import point632plus
    >>> e632, e632p, R, w = point632plus(err_resub=0.0, err_oob=0.1, gamma=0.5)
    >>> round(e632, 4), round(e632p, 4), round(R, 3), round(w, 4)
    (0.0632, 0.0682, 0.2, 0.6822)
    >>> round((1 - w) * 0.0 + w * 0.1, 4)     # eq. 29, since Err(1) <= gamma
    0.0682

    When the OOB error exceeds the no-information error only the correction is capped:

    >>> [round(v, 4) for v in point632plus(err_resub=0.05, err_oob=0.6, gamma=0.5)]
    [0.3976, 0.5632, 1.0, 1.0]

    The three errors must be finite real numbers (NaN, inf, strings, booleans and arrays raise a
    ValidationError naming the argument). They are not confined to [0, 1] nor to >= 0: adding a
    constant to all three errors, or scaling them by a positive factor, does the same to the .632 and
    .632+ estimates and leaves R and the weight unchanged, so squared losses (gamma = 37.2) and negated
    scores (``bootstrap_error(scoring=...)`` passes -score, e.g. -0.93 for an accuracy) are as valid as
    0-1 error rates.
    """
    # not float(): it parses "0.1" and takes True as 1.0; NaN made every output NaN (or R = 0) silently
    err_resub = check_real(err_resub, "err_resub")
    err_oob = check_real(err_oob, "err_oob")
    gamma = check_real(gamma, "gamma")
    return _point632plus(err_resub, err_oob, gamma)


def _point632plus(err_resub: float, err_oob: float, gamma: float) -> tuple[float, float, float, float]:
    """:func:`point632plus` without the argument checks, for bootstrap_error's own numbers (an OOB
    score that is NaN because every split failed keeps giving NaN estimates there, as before)."""
    e632 = 0.368 * err_resub + 0.632 * err_oob
    e1p = min(err_oob, gamma)
    # gamma within rounding of err (a constant predictor: both are the same mean computed two ways)
    # counts as equal: R would otherwise flip between 0 and 1 with a 1e-16 difference.
    if e1p > err_resub and gamma - err_resub > 1e-12 * max(abs(gamma), abs(err_resub)):
        R = (e1p - err_resub) / (gamma - err_resub)
    else:
        R = 0.0
    R = float(np.clip(R, 0.0, 1.0))  # already in [0, 1]; guards rounding
    w = 0.632 / (1.0 - 0.368 * R)
    plus = e632 + (e1p - err_resub) * 0.368 * 0.632 * R / (1.0 - 0.368 * R)
    return float(e632), float(plus), R, float(w)


def _n_rows(v) -> int | None:
    """Rows as scikit-learn counts them: shape[0] of arrays, frames and sparse matrices, else len() of
    a sequence; None for something without rows (a scalar, a 0-d array, a string, a mapping, None).
    Written here because scikit-learn's own helpers for this (_num_samples, _is_arraylike) are private
    and have been renamed between releases."""
    shape = getattr(v, "shape", None)
    if shape is not None:
        return int(shape[0]) if len(shape) > 0 else None
    if v is None or isinstance(v, (str, bytes, dict)) or not hasattr(v, "__len__"):
        return None
    return len(v)


def check_xy(X, y, groups=None, estimators=()) -> int:
    """The number of rows of X, after checking that y and groups (when given) have one entry per row.

    Up front, by name: scikit-learn's own error ("Found input variables with inconsistent numbers of
    samples: [40, 39]") named neither argument, and bootstrap_error raised it only after fitting on
    the full data. Rows are counted as scikit-learn counts them (arrays, frames, sparse matrices,
    lists); something without rows (a scalar, None as X) is refused by name.
    """
    def count(v, name):
        k = _n_rows(v)
        if k is None:
            raise ValidationError(name, f"must be array-like with one entry per sample, got {type(v).__name__}")
        return k

    n = count(X, "X")
    for v, name in ((y, "y"), (groups, "groups")):
        if v is not None and (k := count(v, name)) != n:
            raise ValidationError(name, f"must have one entry per row of X: got {k} entries, X has {n} rows")
    # pandas inputs are paired by position, as scikit-learn pairs them: their indexes must agree (a y sorted or
    # sampled apart from X silently met other rows' features; statsmodels refuses such pairs too)
    check_same_index([("X", X), ("y", y), ("groups", groups)])
    # a 1-D numeric X only when the models are known and none may take one (IsotonicRegression's tags say it
    # does; a pipeline may reshape it first): refusing it always refused such valid calls
    if estimators and not any(_may_take_one_d(e) for e in estimators):
        _refuse_one_d_numeric_x(X)
    _refuse_missing_labels(y)
    return n


def _may_take_one_d(estimator) -> bool:
    """Whether a model may accept a 1-D X: its scikit-learn tags say so (``input_tags.one_d_array``), or it is a
    pipeline / meta-estimator (its first step may reshape), or its tags cannot be read (older scikit-learn)."""
    if hasattr(estimator, "steps") or hasattr(estimator, "estimator") or hasattr(estimator, "estimators"):
        return True
    try:
        return bool(estimator.__sklearn_tags__().input_tags.one_d_array)
    except Exception:  # no tags (scikit-learn < 1.6, or a hand-written model): do not guess
        return True


def _refuse_one_d_numeric_x(X) -> None:
    """A 1-D numeric X (one feature written as ``X[:, 0]``), refused up front: scikit-learn's models want
    (n_samples, n_features), and every fit failed only after all had run ("All the 4 fits failed").
    A 1-D X of text (documents for a vectorizer pipeline) is what such a pipeline takes, and passes."""
    shape = getattr(X, "shape", None)
    if shape is None and isinstance(X, (list, tuple)):
        arr = np.asarray(X, dtype=object) if len(X) else None
        if arr is None or arr.ndim != 1 or not all(isinstance(v, numbers.Real) for v in arr[:1000]):
            return
        kind = "f"
    elif shape is not None and len(shape) == 1:
        kind = getattr(getattr(X, "dtype", None), "kind", "O")
    else:
        return
    if kind in "biuf":
        raise ValidationError("X", f"must be 2-D (n_samples, n_features), got a 1-D numeric array of {shape[0] if shape else len(X)} "
                                   "values", hint="for one feature pass X.reshape(-1, 1) (or X[:, None], or a "
                                                  "one-column DataFrame); a 1-D X of text for a vectorizer pipeline "
                                                  "is accepted")


def _refuse_missing_labels(y) -> None:
    """A missing label (NaN, None, pd.NA) in y, refused up front with its row: no model fits one and no loss
    scores one. It surfaced as scikit-learn's bare "Input y contains NaN." from whichever fit came first, or as
    a NaN loss at a row number within a fold (ncv_interval), or not at all where a model ignored it."""
    if y is None or hasattr(y, "tocsr"):  # no y (an unsupervised fit), or a sparse one (no NaN test needed here)
        return
    ya = np.asarray(y)
    if ya.dtype.kind in "fc":
        bad = np.isnan(ya)
    elif ya.dtype.kind == "O":
        bad = np.asarray(pd.isna(ya), bool)
    else:
        return
    if bad.ndim > 1:  # several outputs: a row with any missing output
        bad = bad.reshape(bad.shape[0], -1).any(axis=1)
    raise_if_any(bad, "y", "must not hold missing labels (NaN or None): a model cannot fit them nor a loss score "
                 "them", ya if ya.ndim == 1 else None, hint="drop those rows from X and y (and groups) first")


def check_single_scoring(scoring):
    """``scoring`` as one scorer (None, a name or a callable). A list, tuple, set or dict of metrics, which
    scikit-learn's ``cross_validate`` accepts, was a KeyError 'test_score' (repeated_cv, nested_cv) or a
    TypeError from float() (bootstrap_error, the CV tests), after every fit had run: each interval and
    test here is about one score."""
    if isinstance(scoring, (list, tuple, set, frozenset, dict)):
        raise ValidationError("scoring", f"must be one scorer (None, a scikit-learn scorer name or a callable), got "
                                         f"a {type(scoring).__name__} of {len(scoring)} metrics: {list(scoring)}",
                              hint="call once per metric")
    if isinstance(scoring, str):
        # a misspelt name was scikit-learn's InvalidParameterError listing every scorer (some 60 names), raised
        # from the first fold; named here, with the closest names only
        import difflib

        from sklearn.metrics import get_scorer_names

        known = list(get_scorer_names())
        if scoring not in known:
            close = difflib.get_close_matches(scoring, known, n=3, cutoff=0.6)
            raise ValidationError("scoring", f"unknown scorer name {scoring!r}",
                                  hint=(f"did you mean {', '.join(map(repr, close))}? " if close else "")
                                  + "sklearn.metrics.get_scorer_names() lists them all")
    elif scoring is not None and not callable(scoring):
        raise ValidationError("scoring", f"must be None, a scikit-learn scorer name or a callable, got "
                                         f"{type(scoring).__name__}: {scoring!r}")
    return scoring


def check_estimator(estimator, field: str = "estimator"):
    """A scikit-learn estimator (with ``fit`` and ``get_params``, which cloning needs), refused by name
    otherwise: a string ("tree") or a list of models was scikit-learn's AttributeError '__sklearn_tags__'."""
    if isinstance(estimator, (list, tuple)):
        raise ValidationError(field, f"must be one scikit-learn estimator, got a {type(estimator).__name__} of "
                                     f"{len(estimator)}")
    if not (hasattr(estimator, "fit") and hasattr(estimator, "get_params")) or isinstance(estimator, type):
        shown = repr(estimator)
        shown = shown if len(shown) <= 80 else shown[:77] + "..."
        raise ValidationError(field, f"must be a scikit-learn estimator (an instance with fit and get_params), got "
                                     f"{type(estimator).__name__}: {shown}")
    return estimator


def _split_problem(estimator, y_train, y_all) -> str | None:
    """What is wrong with a training split (empty, or missing a class of a classifier's labels), or None."""
    from sklearn.base import is_classifier

    if len(y_train) == 0:
        return "its training set is empty"
    if is_classifier(estimator):
        classes, present = np.unique(np.asarray(y_all)), np.unique(np.asarray(y_train))
        missing = np.setdiff1d(classes, present)
        if missing.size:
            return (f"its training set ({len(y_train)} rows) lacks class(es) {missing.tolist()} of "
                    f"{classes.tolist()}")
    return None


def split_fit_params(fit_params, X, train):
    """``fit_params`` for a fit on the rows ``train`` of ``X``: every value with one entry per row of X
    (``sample_weight``, ...) taken at those rows (repeats included, for a bootstrap sample), the others as
    given. It is the rule scikit-learn's ``cross_validate`` applies to ``params`` (its own helper, so
    :func:`~workbench.resample.repeated_cv` and the fits run here slice alike). Passed whole, a weight
    vector was refused by the fits on k-fold splits ("sample_weight.shape == (150,), expected (120,)")
    and, on a bootstrap sample of n rows, silently paired row i's weight with the i-th DRAWN row."""
    if not fit_params:
        return {}
    from sklearn.utils import _safe_indexing  # public (listed in scikit-learn's API reference)

    # The rule of scikit-learn's private _check_method_params (renamed from _check_fit_params in 1.4,
    # so not imported): a value with as many rows as X is indexed by the split, anything else passes.
    n = _n_rows(X)
    return {k: _safe_indexing(v, train) if n is not None and _n_rows(v) == n else v
            for k, v in fit_params.items()}


def fit_on_split(estimator, X_train, y_train, fit_params, y_all, split: str, field: str = "cv"):
    """``clone(estimator).fit`` on one training split. A ValueError from the fit caused by the split
    itself (an empty training set, a missing class) becomes a ValidationError naming the split and the
    underlying message; any other error passes through unchanged."""
    from sklearn.base import clone

    try:
        return clone(estimator).fit(X_train, y_train, **(fit_params or {}))
    except ValueError as err:
        problem = _split_problem(estimator, y_train, y_all)
        if problem is None or isinstance(err, ValidationError):
            raise
        raise ValidationError(field, f"{split}: {problem}, and the fit failed: {err}",
                              hint="use more rows, fewer folds, or stratified / grouped splits that keep "
                                   "every class in every training set") from err


def _oob_task(estimator, X, y, train, test, loss_fn, name, scorer, fit_params, b=None, n_splits=None):
    from sklearn.utils import _safe_indexing

    est = fit_on_split(estimator, _safe_indexing(X, train), _safe_indexing(y, train),
                       split_fit_params(fit_params, X, train), y,
                       f"bootstrap sample {b} (of {n_splits}, numbered from 0)")
    Xte, yte = _safe_indexing(X, test), _safe_indexing(y, test)
    if scorer is not None:
        return float(scorer(est, Xte, yte)) if len(test) else np.nan
    if not len(test):  # every row drawn (likely at n <~ 10): no out-of-bag loss, and predict() refuses 0 rows
        return np.empty(0)
    return _pointwise(loss_fn, name, est, Xte, yte, None)


def bootstrap_error(estimator, X, y, *, loss=None, scoring=None, n_splits: int = 200, random_state=None,
                    groups=None, cv=None, n_jobs=None, fit_params=None,
                    n_permutations: int = 50, alpha: float = 0.05, ci: str = "log",
                    progress: bool = True) -> BootstrapErrorResult:
    """OOB, .632 and .632+ bootstrap estimates of the prediction error of a learning algorithm.

    Parameters
    ----------
    estimator : scikit-learn estimator (unfitted; cloned for every bootstrap sample)
    X, y : data
    loss : {"zero_one", "squared", "absolute", "log_loss"} or callable, optional
        Per-sample loss ``loss(y_true, y_pred) -> array (n,)`` (default: zero_one for classifiers,
        squared for regressors). This is Efron & Tibshirani's definition: Err(1) averages the losses
        per row first. With a multi-output ``y`` (n, k) the named losses give one value per row as
        scikit-learn's metrics do: squared and absolute errors averaged over the outputs, the 0-1
        loss 1 when any output is wrong; "log_loss" is refused there.
    scoring : str or scorer, optional
        An aggregate scikit-learn scorer instead of a per-sample loss (e.g. "roc_auc"). The OOB
        estimate is then the mean of the per-bootstrap-sample OOB scores, the no-information value
        is the average score of the full-data model against ``n_permutations`` random permutations
        of y, and the .632+ rule is applied to ``-score`` (greater is better), reported back in
        score units. Out-of-bag sets on which the scorer is undefined (NaN: roc_auc on one class) are
        left out of that mean, with a RuntimeWarning and their count in
        ``diagnostics["undefined_oob_scores"]`` (``diagnostics["empty_oob_splits"]``: samples with no OOB row).
    n_splits : number of bootstrap samples B (Efron & Tibshirani use 50-200 for the estimates).
        The delta-method standard error needs more: at least 100, and roughly B >~ 2-4 n (its
        noise falls like 1 / B); when its estimated Monte Carlo noise is too large it is NaN with a
        warning that suggests a B (see ``diagnostics["se"]``).
    groups : optional cluster ids: whole clusters are resampled (see :class:`BootstrapSplit`).
    cv : optional splitter or iterable of (train, test) pairs to use instead of
        ``BootstrapSplit(n_splits, random_state)`` (e.g. another tool's bootstrap samples).

    alpha : level of the interval for .632+ (``ci_low``, ``ci_high``).
    ci : {"log", "normal"}
        Log-scale (default; for positive, right-skewed losses) or symmetric normal interval.
    progress : show a progress bar over the bootstrap fits.

    Returns
    -------
    BootstrapErrorResult
        Point estimates, delta-method standard errors and a normal interval for .632+ (it targets
        the algorithm's expected error at size n, not the error of this particular fit; see
        :class:`BootstrapErrorResult`). Alternative with a different cost: bootstrapping the whole
        .632+ procedure (B_outer x B fits, e.g. 200 x 200 = 40,000) gives a percentile interval
        without the delta-method approximation; we do not run it because its cost is 200x.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.resample import bootstrap_error
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> r = bootstrap_error(DecisionTreeClassifier(random_state=0), X, y, n_splits=20, random_state=0)
    >>> r.resubstitution, r.point632 < r.point632plus <= r.oob
    (0.0, True)
    """
    from sklearn.base import clone
    from sklearn.metrics import check_scoring

    check_xy(X, y, groups, [estimator])
    check_single_scoring(scoring)  # before any fit
    if scoring is not None and loss is not None:  # (was refused only after the full-data fit)
        raise ValidationError("scoring", "pass either loss= (per-sample) or scoring= (aggregate), not both")
    alpha = check_alpha(alpha)
    check_choice(ci, "ci", CI_KINDS)
    # 0 made the no-information score the mean of nothing: NaN, and .632+ with it, silently
    n_permutations = check_int(n_permutations, "n_permutations", low=1)
    progress = check_bool(progress, "progress")  # before any fit: "no" is truthy
    # an unseeded randomised model (a random forest) gave another error on each call (read before rng draws)
    estimator = seed_unseeded(estimator, random_state)
    rng = check_random_state(random_state)
    seed = int(rng.integers(0, 2**63)) if not isinstance(random_state, (int, np.integer)) else int(random_state)
    y_arr = np.asarray(y)
    n = y_arr.shape[0]
    if cv is None:
        splits = list(BootstrapSplit(n_splits, random_state=seed).split(X, y, groups))
    elif isinstance(cv, (numbers.Number, str, bytes)) or not (hasattr(cv, "split") or hasattr(cv, "__iter__")):
        # cv=5 (a number of folds elsewhere) was "'int' object is not iterable", a string str.split's TypeError
        raise ValidationError("cv", f"must be a splitter or an iterable of (train, test) index pairs, got {cv!r}",
                              hint="n_splits sets the number of bootstrap samples of the default splitter")
    else:
        splits = list(cv.split(X, y, groups)) if hasattr(cv, "split") else [(np.asarray(a), np.asarray(b))
                                                                              for a, b in cv]
    n_splits = len(splits)
    full = clone(estimator).fit(X, y, **(fit_params or {}))
    perm_rng = np.random.default_rng([seed, 1])
    if scoring is not None:
        scorer = check_scoring(estimator, scoring=scoring)
        res = run_delayed((delayed(_oob_task)(estimator, X, y, tr, te, None, None, scorer, fit_params, b, n_splits)
                           for b, (tr, te) in enumerate(splits)), n_jobs=n_jobs, progress=progress,
                          desc="bootstrap fits")
        res = np.asarray(res, dtype=np.float64)
        empty = np.array([len(te) == 0 for _, te in splits], dtype=bool)
        # a NaN score of a non-empty OOB set: the scorer is undefined there (roc_auc of one class); it was
        # counted as an empty split and left out of the mean without a word
        undefined = np.isnan(res) & ~empty
        if undefined.any():
            warnings.warn(f"bootstrap_error: the scorer gave NaN on {int(undefined.sum())} of {n_splits} non-empty "
                          f"out-of-bag sets (first: bootstrap sample {int(np.argmax(undefined))}; e.g. roc_auc on "
                          "an out-of-bag set of one class); the OOB estimate averages the other samples' scores "
                          "(diagnostics['undefined_oob_scores'])", RuntimeWarning, stacklevel=2)
        with warnings.catch_warnings():  # every score NaN: the estimate is NaN, said above ("Mean of empty slice")
            warnings.simplefilter("ignore", RuntimeWarning)
            s_oob = float(np.nanmean(res))
        s_resub = float(scorer(full, X, y))
        s_gamma = float(np.mean([scorer(full, X, y_arr[perm_rng.permutation(n)]) for _ in range(n_permutations)]))
        e632, e632p, R, w = _point632plus(-s_resub, -s_oob, -s_gamma)
        return BootstrapErrorResult(s_oob, -e632, -e632p, s_resub, s_gamma, R, w, n_splits, n, str(scoring), True,
                                    diagnostics={"empty_oob_splits": int(empty.sum()),
                                                 "undefined_oob_scores": int(undefined.sum())})
    loss_fn, _, name = _resolve_loss(loss, estimator)
    res = run_delayed((delayed(_oob_task)(estimator, X, y, tr, te, loss_fn, name, None, fit_params, b, n_splits)
                       for b, (tr, te) in enumerate(splits)), n_jobs=n_jobs, progress=progress,
                          desc="bootstrap fits")
    tot = np.zeros(n)
    cnt = np.zeros(n)
    for (_, te), losses in zip(splits, res):  # loop over bootstrap samples (B), each vectorised
        np.add.at(tot, te, losses)
        np.add.at(cnt, te, 1.0)
    seen = cnt > 0
    if not seen.any():
        raise ValidationError("n_splits", "no row was ever out of bag; increase n_splits")
    per_row = tot[seen] / cnt[seen]
    err1 = float(per_row.mean())
    resub = float(np.mean(_pointwise(loss_fn, name, full, X, y_arr, None)))
    gamma = _no_information_loss(loss_fn, name, full, X, y_arr, perm_rng)
    e632, e632p, R, w = _point632plus(resub, err1, gamma)
    se_naive = float(per_row.std(ddof=1) / np.sqrt(per_row.size)) if per_row.size > 1 else float("nan")
    diag = {"never_out_of_bag": int((~seen).sum()), "empty_oob_splits": int(sum(len(te) == 0 for _, te in splits))}
    se_oob, se_details = _delta_se_from_splits(splits, res, n, groups)
    diag["se"] = se_details
    noise = se_details.get("relative_noise", 0.0)
    if np.isfinite(se_oob) and n_splits < MIN_SPLITS_FOR_SE:
        # With so few samples even the noise estimate below is unreliable (it can look small while
        # the SE is twice too large), so refuse outright.
        # No warning: a small B is the usual way to ask for point estimates only; the reason is
        # recorded and shown by repr.
        se_details["reason"] = f"the standard error needs n_splits >= {MIN_SPLITS_FOR_SE} (got {n_splits})"
        se_details["suggested_n_splits"] = MIN_SPLITS_FOR_SE
        se_oob = float("nan")
    elif np.isfinite(se_oob) and noise > MAX_RELATIVE_NOISE:
        # The variance estimate is mostly Monte Carlo noise (B too small for this n): no interval
        # rather than a wrong one. The noise of the covariance term falls like 1 / B.
        # (noise inf: a variance of 0 under noise, no count of splits is known to fix it; say 10 times as many)
        need = (int(np.ceil(n_splits * noise / (MAX_RELATIVE_NOISE / 2) / 50.0) * 50) if np.isfinite(noise)
                else 10 * n_splits)
        warnings.warn(f"bootstrap_error: the delta-method standard error is dominated by Monte Carlo noise "
                      f"(relative sd of its variance {noise:.2f} with n_splits={n_splits}, n={n}); se and the "
                      f"interval are NaN. Use n_splits >= ~{need}.", RuntimeWarning, stacklevel=2)
        se_details["suggested_n_splits"] = need
        se_details["reason"] = f"Monte Carlo noise too large: use n_splits >= ~{need}"
        se_oob = float("nan")
    se = _scaled_se(se_oob, e632p, err1)
    lo, hi = _interval(e632p, se, alpha, ci)
    if np.isfinite(se_oob) and not np.isfinite(lo) and "reason" not in se_details:
        # a loss that goes negative: the SE of .632+ is scaled by .632+ / Err(1), the log interval needs > 0
        se_details["reason"] = (f"the .632+ interval needs a positive error (.632+ {e632p:g}, oob {err1:g}): use a "
                                "loss that is >= 0 and 0 at a perfect prediction")
    return BootstrapErrorResult(err1, e632, e632p, resub, gamma, R, w, n_splits, n, name, False, se_naive,
                                diagnostics=diag, oob_se=se_oob, se=se, ci_low=float(lo), ci_high=float(hi),
                                alpha=alpha, ci=ci)


def _delta_se_from_splits(splits, res, n, groups):
    """Counts per unit and sample from the train indices; NaN (with a reason) if not a bootstrap."""
    if len(splits) < 2:
        return float("nan"), {"reason": "needs at least 2 bootstrap samples"}
    if groups is None:
        unit, G = None, n
        if any(len(tr) != n for tr, _ in splits):
            return float("nan"), {"reason": "cv is not a bootstrap (train sets must have n rows)"}
        counts = np.zeros((len(splits), n))
        for b, (tr, _) in enumerate(splits):  # loop over samples; bincount is vectorised
            counts[b] = np.bincount(np.asarray(tr), minlength=n)
    else:
        unit, G = unit_index(check_unit_ids(groups, "groups"))
        size = np.bincount(unit, minlength=G)
        counts = np.zeros((len(splits), G))
        for b, (tr, _) in enumerate(splits):
            counts[b] = np.bincount(unit[np.asarray(tr)], minlength=G)
        counts = counts / np.maximum(size, 1)  # every row of a drawn cluster appears once per draw
        # a cluster bootstrap draws G clusters per sample, as the row bootstrap draws n rows: whole-group
        # splits that draw fewer (GroupShuffleSplit, GroupKFold) have integer counts too, and got a standard
        # error and an interval that the formula does not give them
        if not np.allclose(counts, np.round(counts)) or (np.round(counts).sum(axis=1) != G).any():
            return float("nan"), {"reason": "cv is not a cluster bootstrap of these groups (each sample must draw "
                                            f"{G} groups with replacement)"}
    if G < 3:
        return float("nan"), {"reason": "needs at least 3 units"}
    return oob_delta_se(counts, [(np.asarray(te), np.asarray(l, float)) for (_, te), l in zip(splits, res)], unit)
