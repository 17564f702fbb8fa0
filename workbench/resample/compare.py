"""Comparing models on one test set from per-sample losses: paired bootstrap intervals and the MCS.

Both functions resample the rows of an (n, m) loss matrix with ONE set of weights for all
models (:mod:`workbench._engine`), so every difference between models is a paired comparison
and every replicate ranks all models at once (which is what "probability of being best" and the
model confidence set need).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..results import FrameFieldsCopied
from .._engine import _finite_exponent, replicate_sd
from .._random import seed_key
from .._validation import ValidationError, as_array, check_alpha, check_bool, check_choice, check_finite, check_names
from ._result import _frames_html, _frames_repr
from .bootstrap import METHODS, _Core, _core, _frame_groups, _interval_from_core, numeric_values

__all__ = ["ModelComparison", "compare_models", "ModelConfidenceSet", "model_confidence_set"]

# Pair differences are computed in blocks of about this many (row x pair) elements (32 MiB of float64).
_PAIR_BLOCK_ELEMENTS = 2**22


def _loss_matrix(losses, names):
    cols = getattr(losses, "columns", None)
    L = check_finite(as_array(numeric_values(losses, "losses"), "losses", ndim=2), "losses")
    n, m = L.shape
    if m < 2:
        raise ValidationError("losses", f"needs at least 2 models (columns), got shape {L.shape}")
    if n < 2:
        raise ValidationError("losses", f"needs at least 2 rows, got {n}")
    if m > n:  # almost surely (n_models, n_points), the layout PredictionLog.losses returns: refuse, don't guess
        raise ValidationError("losses", f"must be (n_points, n_models) with a row per test point; got {n} rows and "
                                        f"{m} columns (more models than points). PredictionLog.losses() returns "
                                        f"(n_models, n_points): pass its transpose, .losses(...).T")
    return L, check_names(names, m, cols if cols is not None else [f"model_{j}" for j in range(m)])


def models_frame(names, theta, reps, lo, hi, se, alpha, method, n, higher_is_better=False) -> pd.DataFrame:
    """Per-model tidy frame, with the probability of being best (share of replicates in which a model has
    the best mean, ties shared) and the rank of the point estimate. Shared by the in-memory and streamed paths."""
    sign = -1.0 if higher_is_better else 1.0
    r = sign * np.asarray(reps)
    # Replicates where a mean is undefined (a Poisson resample of zero total weight: every model at once)
    # are left out, as the intervals leave them out; they made every p_best NaN.
    r = r[~np.isnan(r).any(axis=1)]
    if r.shape[0]:
        best = r == r.min(axis=1, keepdims=True)
        p_best = (best / best.sum(axis=1, keepdims=True)).mean(axis=0)
    else:
        p_best = np.full(r.shape[1], np.nan)
    rank = pd.Series(sign * np.asarray(theta)).rank(method="min").astype(int).to_numpy()
    return pd.DataFrame({"name": names, "value": theta, "ci_low": lo, "ci_high": hi, "se": se, "alpha": alpha,
                         "method": method, "n": n, "p_best": p_best, "rank": rank})


def comparison_pairs(names: Sequence[str], baseline=None) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (a, b) of the differences to report: all pairs a < b, or every model against ``baseline``."""
    m = len(names)
    if baseline is None:
        pairs = [(a, b) for a in range(m) for b in range(a + 1, m)]
    else:
        if isinstance(baseline, (int, np.integer)) and not isinstance(baseline, bool):
            if not 0 <= baseline < m:
                raise ValidationError("baseline", f"column index must be in [0, {m}), got {baseline}")
            b0 = int(baseline)
        elif str(baseline) in names:
            b0 = list(names).index(str(baseline))
        else:
            raise ValidationError("baseline", f"unknown model {baseline!r}; models are {list(names)}")
        pairs = [(a, b0) for a in range(m) if a != b0]
    return (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64))


@dataclass(frozen=True, repr=False, eq=False)  # identity: == of array / frame fields raised
class ModelComparison(FrameFieldsCopied):
    """Per-model intervals, paired differences and the probability that each model is best.

    Attributes
    ----------
    models : DataFrame
        name, value (mean loss or score), ci_low, ci_high, se, alpha, method, n, p_best, rank.
        ``p_best`` is the share of bootstrap replicates in which the model has the best mean (ties
        shared; replicates where the means are undefined, e.g. a Poisson resample of weight zero, are
        left out): a measure of how stable the ranking is under resampling of the test set, not a
        posterior probability.
    differences : DataFrame
        model, versus, difference (model minus versus), ci_low, ci_high, se, alpha, method,
        excludes_zero. Paired: the same resampled rows serve both models in each replicate.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import compare_models
    >>> losses = np.random.default_rng(0).random((200, 3)) + [0.0, 0.05, 0.3]
    >>> cmp = compare_models(losses, n_resamples=500, random_state=0)
    >>> cmp.best, cmp.to_frame("differences").shape
    ('model_0', (3, 9))
    """

    models: pd.DataFrame
    differences: pd.DataFrame
    method: str
    alpha: float
    n_resamples: int
    seed: int | None
    higher_is_better: bool
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    def to_frame(self, kind: str = "models") -> pd.DataFrame:
        """The per-model table (``kind="models"``) or the pairwise differences (``kind="differences"``), a copy."""
        check_choice(kind, "kind", ("models", "differences"))
        return (self.models if kind == "models" else self.differences).copy()

    @property
    def best(self) -> str:
        """Name of the model ranked first."""
        return str(self.models.sort_values("rank").iloc[0]["name"])

    def __repr__(self) -> str:
        title = (f"ModelComparison({len(self.models)} models, {self.method}, {100 * (1 - self.alpha):g}% intervals, "
                 f"{self.n_resamples} resamples, seed={self.seed})")
        return _frames_repr(title, {"models": self.models, "differences": self.differences})

    def _repr_html_(self) -> str:
        return _frames_html("model comparison", {"models": self.models, "differences": self.differences})


def compare_models(losses, baseline: str | int | None = None, *, names: Sequence[str] | None = None,
                   method: str = "percentile", n_resamples: int = 2000, alpha: float = 0.05, random_state=None,
                   resampling: str = "multinomial", groups=None, higher_is_better: bool = False,
                   **tabular) -> ModelComparison:
    """Compare m models on the same n test points from their per-sample losses (or scores).

    Parameters
    ----------
    losses : array or DataFrame of shape (n, m)
        Per-sample loss (or score, with ``higher_is_better=True``) of each model on the same rows,
        e.g. ``PredictionLog.losses("zero_one").T`` (the log returns (n_models, n_points)). More
        columns than rows is refused as a likely transposition.
    baseline : name or column index, optional
        Compare every model with this one only; default: all pairs.
    method : {"percentile", "basic", "bca", "studentized", "normal"}
        Interval method for the per-model means and the differences (see :func:`bootstrap_ci`).
    n_resamples, alpha, random_state, resampling, groups
        As in :func:`bootstrap_ci`; ``groups`` resamples whole clusters of rows (an array of ids,
        or the name of a column of a DataFrame ``losses``, which is then not a model).

    Returns
    -------
    ModelComparison
        ``models`` and ``differences`` tidy frames; ``best``.

    Notes
    -----
    The intervals promise approximate (1 - alpha) coverage of each model's expected loss on the
    test distribution, and of each difference, one at a time (no multiplicity correction; use
    :func:`model_confidence_set` for a set that contains the best model with probability
    1 - alpha). They say nothing about other training sets (for that compare *algorithms* with
    :func:`paired_t_5x2cv` or :func:`corrected_resampled_t_test`).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import compare_models
    >>> rng = np.random.default_rng(0)
    >>> L = (rng.random((1000, 3)) < [0.15, 0.25, 0.30]).astype(float)   # 0-1 losses
    >>> cmp = compare_models(L, names=["a", "b", "c"], random_state=0)
    >>> cmp.best
    'a'

    Data larger than memory: ``losses`` may also be an iterable of chunks, a Parquet path /
    dataset or a ``dask.dataframe.DataFrame`` with one loss column per model (``columns=`` to pick
    them, ``groups`` a column name, ``resampling="poisson"``): it is streamed by
    :func:`workbench.scale.compare_models_tabular`, with the same result as in memory.
    """
    from .bootstrap import _check_stream_keywords, _stream_keywords, _streamed

    streamed = _streamed(losses)
    _check_stream_keywords("compare_models", tabular, streamed, _stream_keywords("compare_models"))
    if streamed:
        from ..scale import compare_models_tabular

        return compare_models_tabular(losses, baseline=baseline, names=names, method=method,
                                      n_resamples=n_resamples, alpha=alpha, random_state=random_state,
                                      resampling=resampling, groups=groups, higher_is_better=higher_is_better,
                                      **tabular)
    check_choice(method, "method", METHODS)
    alpha = check_alpha(alpha)
    higher_is_better = check_bool(higher_is_better, "higher_is_better")  # "False" is truthy: ranks upside down
    losses, groups = _frame_groups(losses, groups, "losses")
    L, names = _loss_matrix(losses, names)
    n, m = L.shape
    seed = None if resampling == "indices" else seed_key(random_state)
    studentize = method == "studentized"
    kw = dict(resampling=resampling, n_resamples=n_resamples, random_state=seed, indices=None, groups=groups,
              studentize=studentize)
    core = _core(L, np.arange(m), np.full(m, -1), **kw)
    lo, hi = _interval_from_core(core, method, alpha, [f"model {s!r}" for s in names], "compare_models: ")
    se = replicate_sd(core.reps, axis=0)

    models = models_frame(names, core.theta, core.reps, lo, hi, se, alpha, method, n, higher_is_better)

    ia, ib = comparison_pairs(names, baseline)
    dtheta, dlo, dhi, dse = (np.empty(ia.size) for _ in range(4))
    # The differences come in blocks of pairs, so no (n, n_pairs) array is ever formed: all pairs of 100
    # models on 20,000 rows made (n, 4950) influence differences (2.6 GB peak) although only BCa reads
    # them. Each block's intervals are those of the whole: the columns do not interact.
    step = max(1, _PAIR_BLOCK_ELEMENTS // n)
    for s in range(0, ia.size, step):
        a, b = ia[s:s + step], ib[s:s + step]
        if studentize:
            # Differences need their own second moments; the same seed gives the same weights, so the
            # replicates stay paired with the per-model ones.
            dcore = _core(L[:, a] - L[:, b], np.arange(a.size), np.full(a.size, -1), **kw)
        else:
            # Differences of means are linear: replicates and influence values come for free.
            dcore = _Core(core.theta[a] - core.theta[b], core.reps[:, a] - core.reps[:, b],
                          core.influence[:, a] - core.influence[:, b] if method == "bca" else None, None, None,
                          core.n, core.n_units, core.n_groups, core.seed, core.B, core.scheme)
        dtheta[s:s + step] = dcore.theta
        # BCa's warnings name the pair (a column number would count within the block)
        dlo[s:s + step], dhi[s:s + step] = _interval_from_core(
            dcore, method, alpha, [f"the difference model {names[i]!r} versus {names[j]!r}" for i, j in zip(a, b)],
            "compare_models: ")
        dse[s:s + step] = replicate_sd(dcore.reps, axis=0)
    differences = pd.DataFrame({
        "model": [names[a] for a in ia], "versus": [names[b] for b in ib], "difference": dtheta,
        "ci_low": dlo, "ci_high": dhi, "se": dse, "alpha": alpha, "method": method,
        "excludes_zero": (np.asarray(dlo) > 0) | (np.asarray(dhi) < 0)})
    return ModelComparison(models, differences, method, alpha, core.B, core.seed, higher_is_better,
                           {"n_groups": core.n_groups, "resampling": core.scheme,
                            "undefined_replicates": int(np.isnan(core.reps).any(axis=1).sum())})


# --------------------------------------------------------------------------------------------
# Model confidence set
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False, eq=False)  # identity: == of array / frame fields raised
class ModelConfidenceSet(FrameFieldsCopied):
    """The model confidence set of Hansen, Lunde & Nason (2011).

    ``frame`` has one row per model: name, mean_loss, p_value (the MCS p-value), included
    (p_value >= alpha) and eliminated_step (1 = first eliminated; NaN for the survivor).
    ``included`` contains the best model(s) with probability about 1 - alpha.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import model_confidence_set
    >>> losses = np.random.default_rng(0).random((200, 3)) + [0.0, 0.05, 0.3]
    >>> mcs = model_confidence_set(losses, n_resamples=500, random_state=0)
    >>> mcs.included
    ('model_0',)
    >>> mcs.to_frame().columns.tolist()
    ['name', 'mean_loss', 'p_value', 'included', 'eliminated_step']
    """

    frame: pd.DataFrame
    included: tuple
    alpha: float
    statistic: str
    n_resamples: int
    seed: int | None

    def to_frame(self) -> pd.DataFrame:
        """One row per model: name, mean_loss, p_value (the MCS p-value), included; a copy."""
        return self.frame.copy()

    def __repr__(self) -> str:
        title = (f"ModelConfidenceSet({100 * (1 - self.alpha):g}%, statistic={self.statistic}, "
                 f"included={list(self.included)})")
        return _frames_repr(title, {"models": self.frame})

    def _repr_html_(self) -> str:
        return _frames_html(f"{100 * (1 - self.alpha):g}% model confidence set", {"models": self.frame})


def _t_r_maxima(zeta, var, perm):
    """Bootstrap T_R of every elimination step, shape (B, m - 1): column k is the max over the pairs of
    models still in the set at step k + 1 of |zeta_i - zeta_j| / sqrt(var_ij). ``perm`` lists the models
    in elimination order, the survivor last, so the set at step k + 1 is perm[k:], and the pairs that
    leave with perm[u] are (perm[u], perm[v]) for v > u. Their maximum per replicate, then a running
    maximum from the last step back, gives every step's maximum in O(B m^2)."""
    Zp = zeta[:, perm]
    sd = np.sqrt(var[np.ix_(perm, perm)])
    m = len(perm)
    leave = np.full((Zp.shape[0], m - 1), -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        for u in range(m - 1):  # loop over models, each vectorised over replicates and the later models
            # fmax ignores the NaN of a zero-variance pair (0 / 0), as nanmax did
            leave[:, u] = np.fmax.reduce(np.abs(Zp[:, u:u + 1] - Zp[:, u + 1:]) / sd[u, u + 1:], axis=1,
                                         initial=-np.inf)
    return np.maximum.accumulate(leave[:, ::-1], axis=1)[:, ::-1]


def model_confidence_set(losses, *, alpha: float = 0.10, statistic: str = "max", n_resamples: int = 1000,
                         random_state=None, resampling: str = "multinomial", groups=None,
                         names: Sequence[str] | None = None) -> ModelConfidenceSet:
    """Model confidence set (Hansen, Lunde & Nason 2011) on per-sample losses.

    Repeatedly tests "all models in the set have equal expected loss" and removes the worst model
    until the test no longer rejects. Rows are treated as i.i.d. (the bootstrap resamples single
    rows, i.e. block length 1; use ``groups=`` for clustered rows). Time series need a block
    bootstrap, which this function does not do.

    Parameters
    ----------
    losses : array (n, m)
        Per-sample losses (lower is better).
    alpha : float
        The set contains the best model(s) with probability about 1 - alpha (0.10 is the paper's
        common choice).
    statistic : {"max", "R"}
        T_max (each model's loss against the set average) or T_R (the largest pairwise t).
    n_resamples, random_state, resampling, groups, names
        As in :func:`compare_models`. One set of bootstrap weights serves every elimination step.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import model_confidence_set
    >>> rng = np.random.default_rng(0)
    >>> L = rng.normal([1.0, 1.0, 1.5], 1.0, size=(500, 3))
    >>> mcs = model_confidence_set(L, random_state=0)
    >>> "model_2" in mcs.included
    False
    """
    alpha = check_alpha(alpha)
    check_choice(statistic, "statistic", ("max", "R"))
    losses, groups = _frame_groups(losses, groups, "losses")
    L, names = _loss_matrix(losses, names)
    n, m = L.shape
    core = _core(L, np.arange(m), np.full(m, -1), resampling=resampling, n_resamples=n_resamples,
                 random_state=random_state, indices=None, groups=groups, studentize=False)
    Lbar = core.theta
    zeta = core.reps - Lbar  # centred replicate means (B, m): the null distribution of the deviations
    # Replicates whose means are undefined (a Poisson resample of zero total weight) are left out, as every
    # interval leaves them out; their NaN made every variance NaN and the set look like identical models.
    zeta = zeta[~np.isnan(zeta).any(axis=1)]
    if zeta.shape[0] < 2:
        raise ValidationError("losses", f"only {zeta.shape[0]} of {core.B} bootstrap replicates are defined (the "
                              "others resampled no row); use more rows or groups, or resampling='multinomial'")
    # Every statistic below is a ratio of mean differences to root mean squared deviations, unchanged when
    # the losses are scaled; dividing by a power of two (exact) keeps the squares finite. Losses beyond
    # ~3e156 overflowed them: every p-value came out 1 and the elimination order changed, with only
    # numpy's overflow warnings. The table keeps the data's units (Lbar).
    e = _finite_exponent(Lbar, zeta)  # (of both, without concatenating the (B, m) replicates)
    Ls, zeta = np.ldexp(Lbar, -e), np.ldexp(zeta, -e)
    if statistic == "R":
        # T_R's pairwise t statistics, their variances and the bootstrap t*'s of a pair do not depend on
        # which other models are in the set, so they are computed once for all pairs (O(B m^2)), not again
        # for the surviving set at every elimination step (a (B, k, k) array per step: O(B m^3) in all,
        # 81 s and 1.2 GB for 200 models). The elimination order needs only the (m, m) t matrix; the
        # bootstrap maxima of all steps come after it, from one pass over the pairs (_t_r_maxima).
        var_r = np.empty((m, m))
        for i in range(m):  # loop over models, each vectorised over replicates and models
            var_r[i] = np.mean((zeta[:, i:i + 1] - zeta) ** 2, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_r = np.where(np.eye(m, dtype=bool), np.nan, (Ls[:, None] - Ls[None, :]) / np.sqrt(var_r))
    alive = list(range(m))
    pvals = np.full(m, np.nan)
    step = np.full(m, np.nan)
    order, T_steps, p_steps = [], [], []
    while len(alive) > 1:  # at most m - 1 elimination steps, each vectorised over replicates
        idx = np.array(alive)
        Lb, Z = Ls[idx], zeta[:, idx]
        # A difference that is the same on every row has no resampling spread: its t is +-inf when it is not 0
        # (a model worse by a constant, e.g. wrong on every row where another is right under the 0-1 loss: it
        # leaves with p = 0, as t = d / 0 says in Hansen et al.), and 0 / 0 (NaN, no evidence) when it is 0.
        # Zero spread used to mean "identical models" here: such a model stayed in the set with p = 1, or T_R
        # raised that the set could not be refined.
        if statistic == "max":
            d = Lb - Lb.mean()
            Zd = Z - Z.mean(axis=1, keepdims=True)
            var = np.mean(Zd**2, axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                t = d / np.sqrt(var)
                if np.isnan(t).all():
                    break  # the models left have the same loss on every row: none is worse, all stay (p = 1)
                T = np.nanmax(t)
                # (a zero-spread model's replicate deviations are all 0: 0 / 0, left out by fmax)
                Tstar = np.fmax.reduce(Zd / np.sqrt(var), axis=1, initial=-np.inf)
            worst = int(np.nanargmax(t))
            p_steps.append(float(np.mean(Tstar >= T)))
        else:
            t = t_r[np.ix_(idx, idx)]
            if np.isnan(t).all():
                break  # as above: identical models left
            T = np.nanmax(np.abs(t))
            worst = int(np.nanargmax(np.fmax.reduce(t, axis=1, initial=-np.inf)))
        order.append(int(idx[worst]))
        T_steps.append(T)
        alive.remove(int(idx[worst]))
    if statistic == "R":
        Tstar = _t_r_maxima(zeta, var_r, order + alive)
        p_steps = [float(np.mean(Tstar[:, k] >= T)) for k, T in enumerate(T_steps)]
    running = 0.0
    for k, (i, p) in enumerate(zip(order, p_steps)):
        running = max(running, p)
        pvals[i] = running
        step[i] = k + 1
    pvals[alive] = 1.0  # the last model, or several whose losses are the same on every row
    frame = pd.DataFrame({"name": names, "mean_loss": Lbar, "p_value": pvals, "included": pvals >= alpha,
                          "eliminated_step": step})
    included = tuple(frame.loc[frame["included"], "name"])
    return ModelConfidenceSet(frame, included, alpha, statistic, core.B, core.seed)
