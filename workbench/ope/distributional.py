"""Distributional off-policy evaluation: the whole reward distribution of a target policy.

The mean hides risk: two routers with equal mean quality can differ in how often they fail
badly. The importance-weighted CDF (Huang et al. 2021; Chandak et al. 2021)

    F_IS(t) = (1/n) sum_i w_i 1{r_i <= t},        F_SN(t) = sum_i w_i 1{r_i <= t} / sum_i w_i,

with w_i = pi_e(a_i | x_i) / pi_b(a_i | x_i), estimates F(t) = P_{pi_e}(R <= t). F_IS is unbiased
at every t but need not end at 1; F_SN is a proper CDF with O(1/n) bias. Post-processing (the
same for the estimate and for every bootstrap replicate): clip to [0, 1], take the running
maximum (a no-op for non-negative weights, kept so any weights give a monotone CDF), and read
functionals from the distribution with that CDF, the missing mass 1 - F(max r) being placed at
the largest observed reward. From it: the mean, variance, quantiles F^-1(u) = inf{t: F(t) >= u}
and CVaR_alpha = (1/alpha) ∫_0^alpha F^-1(u) du (the mean of the worst alpha share of outcomes;
``tail="upper"`` gives the mean of the best share).

Uncertainty: bootstrap replicates use the engine's resampling weights (:class:`workbench._engine.Resampling`:
hashed Poisson(1) per row or per ``unit_id``, or the classic multinomial counts, drawn exactly as
:class:`~workbench._engine.ReplicateAccumulator` draws them; with a ``unit_id`` the multinomial
scheme draws units, not rows, with replacement). Rather than a term matrix with one
column per threshold (which would cost O(n B m) for m thresholds), each replicate's weighted
CDF is one cumulative sum over the sorted rewards, O(n B) per block of replicates; the tests check
the two routes agree. Self-normalisation is redone inside every replicate.

Tied rewards are one atom of the step function: the replicates' masses are summed per distinct
reward first, and the CDF and every functional are read from the (atoms x replicates) masses. With
few distinct rewards (0/1 clicks, ratings) and the Poisson scheme, the masses of all replicates come
from one pass over blocks of rows (as :class:`~workbench._engine.ReplicateAccumulator` makes its
sums), instead of (rows x replicates) cumulative sums: 1e6 binary rewards with B = 2000 took 99 s
for the CDF and over 200 s more for ``summary()``; now 7 s, and ``summary()`` reuses the masses.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .._compiled import poisson_weight_filler
from .._engine import Resampling, is_single_unit, multinomial_counts, one_blas_thread, replicate_sd, unit_index
from .._random import hashed_poisson_weights, unit_keys
from .._validation import (ValidationError, as_array, check_alpha, check_bool, check_choice, check_finite, check_int,
                           check_real, check_unit_ids, raise_if_any)
from ..results import Estimate, frame_to_html

__all__ = ["OffPolicyCDF", "off_policy_cdf", "off_policy_cdf_from_weights", "importance_weights"]

_BLOCK_BYTES = 32 * 2**20
# The (atoms x B) masses are built in one pass over the rows when they take at most this much
# memory (e.g. 4096 distinct rewards at B = 2000); else replicate block by replicate block.
_ATOM_BYTES = 64 * 2**20
# Rows per block of the one-pass route: a (rows x B) float block of about 4 MiB.
_ROW_BLOCK_BYTES = 4 * 2**20


def importance_weights(log, policy) -> np.ndarray:
    """w_i = pi_e(a_i | x_i[, slot_i]) / propensity_i for a discrete-action :class:`~workbench.data.BanditLog`.

    ``policy``: an (n, n_actions) or (n, n_actions, n_positions) distribution, or a policy object
    with ``action_dist(log)``.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import UniformPolicy, importance_weights
    >>> log, truth = simulate_bandit(1000, n_actions=3, random_state=0)
    >>> w = importance_weights(log, UniformPolicy())
    >>> w.shape, bool(np.allclose(w * log.propensity, 1 / 3))
    ((1000,), True)
    >>> round(float(w.mean()), 3)  # near 1 when the propensities are right
    1.029
    """
    from .evaluate import prepare_inputs

    # prepare_inputs' weights (and its refusal of an overflowing one, with its row): one computation for
    # evaluate_policy, off_policy_cdf and this function
    return prepare_inputs(log, policy, estimators=[]).weight


# -- replicate weights (the engine's resampling schemes) ----------------------------------------
def _replicate_weight_blocks(resampling: Resampling, n: int, ids, block: int, order: np.ndarray):
    """Yield (b0, W) with W (n, bb) the resampling weights of replicates b0..b0+bb-1, rows in ``order``
    (the rows sorted by reward)."""
    B = resampling.n_replicates
    if resampling.scheme == "poisson":
        # A row's weight depends on its key only: hashing the keys in sorted order gives the weights
        # in sorted order, with no (n, bb) gather.
        keys = unit_keys(np.arange(n, dtype=np.int64) if ids is None else ids, resampling.seed)[order]
        for b0 in range(0, B, block):
            yield b0, hashed_poisson_weights(keys, b0, min(B, b0 + block)).astype(np.float64)
    elif ids is None:  # the engine's multinomial draws (rows)
        for b0, counts in multinomial_counts(resampling, n, block):
            yield b0, counts.T[order]
    else:
        # Cluster bootstrap, the engine's draws of whole units (sorted ids); each row gets its unit's
        # count. Drawing rows would ignore the clustering and give intervals that are too narrow.
        inv, G = unit_index(ids)
        inv = inv[order]
        for b0, counts in multinomial_counts(resampling, G, block):
            yield b0, counts.T[inv]


def _atoms(values: np.ndarray) -> np.ndarray:
    """Start of each run of equal values in sorted ``values`` (one atom of the step function per run)."""
    return np.flatnonzero(np.r_[True, values[1:] != values[:-1]])


def _poisson_atom_masses(keys: np.ndarray, ws: np.ndarray, starts: np.ndarray, B: int):
    """(G, B) per-atom replicate masses sum W_ib w_i and (B,) total weights sum W_ib, Poisson scheme,
    in one pass over blocks of (sorted) rows with all B replicates at once (the engine's compiled
    weights; identical to :func:`hashed_poisson_weights`)."""
    n, G = ws.shape[0], starts.size
    atom = np.repeat(np.arange(G), np.diff(np.r_[starts, n]))  # atom of each sorted row
    step = min(n, max(64, _ROW_BLOCK_BYTES // (8 * B)))
    fill, width = poisson_weight_filler(step, B)
    W = np.empty((step, width))
    # One extra row of masses holds the total weight (a column of ones in the block's design).
    mass = np.zeros((G + 1, B))
    # One BLAS thread: the products are small (a few x rows x B), and threads cost more than they
    # save on them (measured 6x slower on 2 busy cores), as in the engine's inner kernel.
    with one_blas_thread():
        _poisson_atom_loop(keys, ws, atom, mass, fill, W, step, B)
    return mass[:G], mass[G]


def _poisson_atom_loop(keys, ws, atom, mass, fill, W, step, B):
    n, G = ws.shape[0], mass.shape[0] - 1
    for s in range(0, n, step):  # blocks of rows, each vectorised over the B replicates
        m = min(step, n - s)
        fill(keys[s:s + m], W)
        a = atom[s:s + m]
        lo, hi = a[0], a[-1] + 1  # rows are sorted, so the block's atoms are consecutive
        if hi - lo <= 16:
            # (m, atoms + 1) design: each row's weight in its atom's column, 1 in the last; one matrix
            # product gives the atoms' masses and the total weight of every replicate (3x faster
            # than a weighted copy of the block and a reduceat)
            T = np.zeros((m, hi - lo + 1))
            T[np.arange(m), a - lo] = ws[s:s + m]
            T[:, -1] = 1.0
            part = T.T @ W[:m, :B]
            mass[lo:hi] += part[:-1]
            mass[G] += part[-1]
        else:  # many atoms in the block: a dense design would be (rows x atoms)
            Wb = W[:m, :B]
            mass[lo:hi] += np.add.reduceat(Wb * ws[s:s + m, None], _atoms(a), axis=0)
            mass[G] += Wb.sum(axis=0)


def _atom_mass_blocks(resampling: Resampling, n: int, ids, order: np.ndarray, ws: np.ndarray, starts: np.ndarray):
    """Yield (b0, M, total): M (G, bb) the masses sum_{i in atom g} W_ib w_i of replicates b0..b0+bb-1
    (rows sorted by reward, ``ws`` their weights, ``starts`` the atoms) and their total weights sum_i W_ib."""
    B, G = resampling.n_replicates, starts.size
    if resampling.scheme == "poisson" and G * B * 8 <= _ATOM_BYTES:
        keys = unit_keys(np.arange(n, dtype=np.int64) if ids is None else ids, resampling.seed)[order]
        mass, total = _poisson_atom_masses(keys, ws, starts, B)
        yield 0, mass, total
        return
    # Replicate blocks; at least 4 replicates wide (a multiple of 4 when possible), because one
    # 64-bit hash gives the weights of 4 replicates: blocks of 1 (what 32 MiB allowed at n = 1e6)
    # computed 4 and used 1.
    block = min(B, max(4, _BLOCK_BYTES // (8 * 3 * max(n, 1)) // 4 * 4))
    for b0, W in _replicate_weight_blocks(resampling, n, ids, block, order):
        M = W * ws[:, None]
        if G < n:
            M = np.add.reduceat(M, starts, axis=0)
        yield b0, M, W.sum(axis=0)


def _cdf_columns(masses_sorted: np.ndarray, total: np.ndarray, self_normalize: bool) -> np.ndarray:
    """Post-processed CDF at every sorted atom: (n, bb) cumulative masses -> clip, running max, end at 1."""
    with np.errstate(invalid="ignore", divide="ignore"):
        C = np.cumsum(masses_sorted, axis=0) / total[None, :]
    C = np.clip(C, 0.0, 1.0)
    C = np.maximum.accumulate(C, axis=0)
    return C


def _functionals(values: np.ndarray, C: np.ndarray, specs) -> np.ndarray:
    """Functionals of the distributions with CDF columns C (n, bb) over sorted ``values``.

    The last atom is given the missing mass (C[-1] is set to 1). Returns (len(specs), bb).
    """
    # A replicate whose resample holds no weighted row has no distribution (0 / 0: a NaN column). Every
    # functional is NaN there, as the mean already was: setting C[-1] = 1 below made its quantiles the
    # largest observed reward, a value the target never produced, which entered the percentile interval
    # (e^-2 = 14% of Poisson replicates when the target weighs 2 rows).
    undefined = np.isnan(C).any(axis=0)
    C = C.copy()
    C[-1] = 1.0
    prev = np.vstack([np.zeros((1, C.shape[1])), C[:-1]])
    p = C - prev
    v = values[:, None]
    out = np.empty((len(specs), C.shape[1]))
    mean = (p * v).sum(axis=0)
    # Deviations are squared in units of a power of two near the largest |value| (exact scaling):
    # rewards of 1e200 overflowed (std inf) and of 1e-200 underflowed (std 0) when squared directly.
    big = float(np.max(np.abs(values))) if values.size else 0.0
    # (the exponent capped at 1023: |rewards| >= 2**1023 have frexp exponent 1024, whose power overflowed)
    scale = math.ldexp(1.0, min(math.frexp(big)[1], 1023)) if 0 < big < np.inf else 1.0
    for i, (kind, arg) in enumerate(specs):
        if kind == "mean":
            out[i] = mean
        elif kind in ("variance", "std"):
            # scaled before the difference: v - mean overflows for rewards of opposite sign near the float limit
            var = np.maximum((p * (v / scale - mean[None, :] / scale) ** 2).sum(axis=0), 0.0)
            with np.errstate(over="ignore"):  # a variance beyond the float range is inf; its std is not
                out[i] = var * scale * scale if kind == "variance" else np.sqrt(var) * scale
        elif kind == "quantile":
            # the first atom whose F reaches the level, up to the rounding of the cumulative sums; the slack is
            # at most half the level, so an atom of zero mass before the first positive one (F = 0) never
            # qualifies (at a level of 1e-13 the fixed 1e-12 slack returned a reward with no mass)
            idx = np.argmax(C >= arg - min(1e-12, 0.5 * arg), axis=0)
            out[i] = values[idx]
        elif kind == "cvar-lower":
            out[i] = (v * (np.minimum(C, arg) - np.minimum(prev, arg))).sum(axis=0) / arg
        elif kind == "cvar-upper":
            # the mass of each atom within the top ``arg`` share, from the survival function 1 - F:
            # with the threshold 1 - arg, a level below 1e-16 rounded to 1 and every mass to 0
            out[i] = (v * (np.minimum(1.0 - prev, arg) - np.minimum(1.0 - C, arg))).sum(axis=0) / arg
        else:  # pragma: no cover - internal
            raise AssertionError(kind)
    out[:, undefined] = np.nan
    return out


@dataclass(frozen=True, eq=False, repr=False)
class OffPolicyCDF:
    """The estimated reward CDF of a target policy, with bootstrap bands and risk functionals.

    Attributes
    ----------
    thresholds : ndarray (m,)
        Where the CDF is reported.
    cdf : ndarray (m,)
        The post-processed estimate (monotone, in [0, 1]).
    raw_cdf : ndarray (m,)
        Before post-processing (for IS: unbiased at each threshold, may exceed 1).
    ci_low, ci_high : ndarray (m,)
        The (1 - alpha) band: ``band="pointwise"`` (percentile interval at each threshold, each
        covering F(t) with probability about 1 - alpha) or ``"uniform"`` (sup-t band, covering
        the whole curve at once with probability about 1 - alpha, asymptotically). Both are
        monotone because every replicate CDF is. At the largest observed reward the
        self-normalised CDF is 1 in every replicate, so its band there has zero width: no
        sample can show mass above its largest value.
    replicate_cdfs : ndarray (B, m)
    alpha, band, self_normalized, n, n_bootstrap
    diagnostics : dict
        ``ess``, ``mean_weight``, ``max_weight``, ``share_zero_weight``.

    Examples
    --------
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import UniformPolicy, off_policy_cdf
    >>> log, truth = simulate_bandit(1000, n_actions=3, random_state=0)
    >>> res = off_policy_cdf(log, UniformPolicy(), n_bootstrap=200)
    >>> res
    OffPolicyCDF(self-normalised, n=1000, 2 thresholds, 95% pointwise band, B=200, ess=151.8)
    >>> res.to_frame().columns.tolist()
    ['threshold', 'cdf', 'ci_low', 'ci_high', 'raw_cdf']
    """

    thresholds: np.ndarray
    cdf: np.ndarray
    raw_cdf: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    replicate_cdfs: np.ndarray
    alpha: float
    band: str
    self_normalized: bool
    n: int
    n_bootstrap: int
    diagnostics: dict = field(default_factory=dict)
    # the step function's atoms (distinct rewards, sorted) and their weights; the rows sorted by
    # reward (``_order``), their weights and where each atom's rows start, for the replicates
    _values: np.ndarray = field(default=None, repr=False)
    _weights: np.ndarray = field(default=None, repr=False)
    _order: np.ndarray = field(default=None, repr=False)
    _row_weights: np.ndarray = field(default=None, repr=False)
    _starts: np.ndarray = field(default=None, repr=False)
    # (atom masses, total weights) of all replicates when they were computed in one go: the
    # functionals reuse them instead of drawing every replicate again
    _masses: tuple = field(default=None, repr=False)
    _ids: np.ndarray = field(default=None, repr=False)
    _resampling: Resampling = field(default=None, repr=False)

    def __post_init__(self):
        # frozen means the arrays too (every other result's are read-only): res.cdf[0] = 99 changed to_frame, and a
        # write to _weights made evaluate() NaN. Read-only views: the arrays were made for this result alone.
        for name in ("thresholds", "cdf", "raw_cdf", "ci_low", "ci_high", "replicate_cdfs", "_values", "_weights",
                     "_order", "_row_weights", "_starts", "_ids"):
            v = getattr(self, name)
            if isinstance(v, np.ndarray):
                v = v.view()
                v.flags.writeable = False
                object.__setattr__(self, name, v)

    # -- the distribution ------------------------------------------------------------------
    def evaluate(self, t) -> np.ndarray:
        """The post-processed CDF at arbitrary points ``t`` (a right-continuous step function).

        ``t`` must not be NaN (there is no CDF at NaN; it used to read as +inf). ``-inf`` gives 0 and
        ``+inf`` the CDF at the largest observed reward (1 when self-normalised), its limit.
        """
        t = as_array(t, "t")
        if t.dtype == bool or not np.issubdtype(t.dtype, np.number):  # (as_array refused complex numbers)
            raise ValidationError("t", f"must be real numbers, got dtype {t.dtype}")
        t = t.astype(np.float64)
        flat = t.reshape(-1)  # rows are counted in flattened order
        raise_if_any(np.isnan(flat), "t", "must not be NaN", flat)
        C = self._point_columns()[:, 0]
        idx = np.searchsorted(self._values, t, side="right") - 1
        return np.where(idx >= 0, C[np.clip(idx, 0, None)], 0.0)

    def _point_columns(self):
        w = self._weights
        total = np.array([w.sum() if self.self_normalized else float(self.n)])
        return _cdf_columns(w[:, None], total, self.self_normalized)

    def _stat(self, specs, name, alpha=None, interval="percentile") -> list[Estimate]:
        alpha = self.alpha if alpha is None else check_alpha(alpha)
        check_choice(interval, "interval", ("percentile", "normal", "basic"))
        theta = _functionals(self._values, self._point_columns(), specs)[:, 0]
        reps = self._replicate_functionals(specs)
        out = []
        for i, (kind, arg) in enumerate(specs):
            r = reps[:, i]
            se = replicate_sd(r)
            lo, hi = np.nanpercentile(r, [100 * alpha / 2, 100 * (1 - alpha / 2)])
            if interval == "normal":
                from scipy.special import ndtri

                z = ndtri(1 - alpha / 2)
                lo, hi = theta[i] - z * se, theta[i] + z * se
            elif interval == "basic":
                lo, hi = 2 * theta[i] - hi, 2 * theta[i] - lo
            label = name[i]
            out.append(Estimate(float(theta[i]), float(lo), float(hi), se, alpha=alpha, method=interval, n=self.n,
                                name=label, diagnostics={"n_bootstrap": self.n_bootstrap,
                                                         "self_normalized": self.self_normalized}))
        return out

    def _replicate_functionals(self, specs) -> np.ndarray:
        out = np.empty((self.n_bootstrap, len(specs)))
        blocks = [(0, *self._masses)] if self._masses is not None else _atom_mass_blocks(
            self._resampling, self.n, self._ids, self._order, self._row_weights, self._starts)
        for b0, M, wtot in blocks:
            total = M.sum(axis=0) if self.self_normalized else wtot
            C = _cdf_columns(M, total, self.self_normalized)
            out[b0:b0 + M.shape[1]] = _functionals(self._values, C, specs).T
        return out

    # -- functionals -------------------------------------------------------------------------
    def mean(self, **kw) -> Estimate:
        """Mean reward read from the CDF.

        For the self-normalised CDF this is SNIPS: the same value and, with the same seed and
        resampling, the same replicates (so the same percentile interval) as
        ``evaluate_policy(log, policy, ["snips"])``. For the importance-weighted CDF
        (``self_normalize=False``) it is *not* IPS: the post-processing puts the missing mass
        1 - F(max r) on the largest reward (and clips mass above 1), so when the running CDF stays
        within [0, 1] the mean is E_n[w r] + (1 - E_n[w]) max r.
        """
        return self._stat([("mean", None)], ["mean"], **kw)[0]

    def variance(self, **kw) -> Estimate:
        """Variance of the reward under the target policy, read from the CDF, with an interval from
        the same replicates (keywords as :meth:`mean`)."""
        return self._stat([("variance", None)], ["variance"], **kw)[0]

    def std(self, **kw) -> Estimate:
        """Standard deviation of the reward under the target policy (the square root of
        :meth:`variance`, replicate by replicate)."""
        return self._stat([("std", None)], ["std"], **kw)[0]

    def quantile(self, q: float, **kw) -> Estimate:
        """F^-1(q) = inf{t : F(t) >= q}, with a bootstrap interval."""
        q = _check_level(q, "q", closed_right=False)
        return self._stat([("quantile", q)], [f"quantile {q:g}"], **kw)[0]

    def cvar(self, level: float = 0.1, tail: str = "lower", **kw) -> Estimate:
        """CVaR: the mean of the worst ``level`` share of rewards (``tail="lower"``) or the best."""
        level = _check_level(level, "level", closed_right=True)
        check_choice(tail, "tail", ("lower", "upper"))
        return self._stat([(f"cvar-{tail}", level)], [f"cvar {level:g} ({tail})"], **kw)[0]

    def summary(self, quantiles=(0.1, 0.5, 0.9), cvar_levels=(0.05, 0.1), alpha=None,
                interval: str = "percentile") -> pd.DataFrame:
        """Mean, std, quantiles and lower-tail CVaRs with intervals, as a tidy frame (shared replicates)."""
        specs = [("mean", None), ("std", None)]
        names = ["mean", "std"]
        # one level is a list of one (iterating a float would be a TypeError)
        quantiles = [quantiles] if np.ndim(quantiles) == 0 else quantiles
        cvar_levels = [cvar_levels] if np.ndim(cvar_levels) == 0 else cvar_levels
        for q in quantiles:
            specs.append(("quantile", _check_level(q, "quantiles", closed_right=False)))
            names.append(f"quantile {q:g}")
        for lv in cvar_levels:
            specs.append(("cvar-lower", _check_level(lv, "cvar_levels", closed_right=True)))
            names.append(f"cvar {lv:g}")
        ests = self._stat(specs, names, alpha=alpha, interval=interval)
        frame = pd.DataFrame([e.to_dict() for e in ests]).rename(columns={"name": "statistic"})
        return frame

    def to_frame(self) -> pd.DataFrame:
        """Tidy frame: threshold, cdf, ci_low, ci_high, raw_cdf."""
        return pd.DataFrame({"threshold": self.thresholds, "cdf": self.cdf, "ci_low": self.ci_low,
                             "ci_high": self.ci_high, "raw_cdf": self.raw_cdf})

    def plot(self, ax=None, label: str = "off-policy CDF", color=None):
        """Step plot of the CDF with its band (pointwise or uniform, as estimated); returns the axes."""
        from ..plotting import PALETTE, _ax

        ax = _ax(ax)
        color = color or PALETTE[0]
        ax.step(self.thresholds, self.cdf, where="post", color=color, label=label)
        ax.fill_between(self.thresholds, self.ci_low, self.ci_high, step="post", color=color, alpha=0.2, lw=0)
        ax.set_xlabel("reward")
        ax.set_ylabel("P(reward <= t)")
        ax.set_ylim(-0.02, 1.02)
        ax.legend(frameon=False)
        return ax

    def __repr__(self) -> str:
        kind = "self-normalised" if self.self_normalized else "importance-weighted"
        return (f"OffPolicyCDF({kind}, n={self.n}, {len(self.thresholds)} thresholds, "
                f"{100 * (1 - self.alpha):g}% {self.band} band, B={self.n_bootstrap}, "
                f"ess={self.diagnostics.get('ess', float('nan')):.4g})")

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame().head(20), caption=repr(self))


def _check_level(q, field, closed_right):
    q = check_real(q, field)  # not float(): it would parse the string "0.5" (and NaN must say "finite")
    ok = (0 < q <= 1) if closed_right else (0 < q < 1)
    if not ok:
        raise ValidationError(field, f"must be in (0, 1{']' if closed_right else ')'}, got {q}")
    return q


def off_policy_cdf_from_weights(reward, weights, *, thresholds=None, self_normalize: bool = True,
                                alpha: float = 0.05, n_bootstrap: int = 500, band: str = "pointwise",
                                resampling: str = "poisson", unit_id=None, random_state=0,
                                max_thresholds: int = 256) -> OffPolicyCDF:
    """The importance-weighted reward CDF from rewards and importance weights (any action space).

    Parameters
    ----------
    reward : array (n,)
    weights : array (n,)
        Importance weights pi_e / pi_b at the logged action (non-negative, finite), e.g. from
        :func:`importance_weights` or :func:`workbench.ope.continuous.smoothed_policy_weights`.
    unit_id : array (n,), optional
        Unit (user, session) of each row, all integers or all strings; the bootstrap resamples units.
    Other parameters: see :func:`off_policy_cdf`.

    Examples
    --------
    Four rewards; the weights make 0.5 twice as likely as 0.1 or 0.2 and rule out 0.9:

    >>> import numpy as np
    >>> from workbench.ope import off_policy_cdf_from_weights
    >>> res = off_policy_cdf_from_weights([0.2, 0.5, 0.9, 0.1], [1.0, 2.0, 0.0, 1.0], n_bootstrap=50)
    >>> res.thresholds
    array([0.1, 0.2, 0.5, 0.9])
    >>> res.cdf
    array([0.25, 0.5 , 1.  , 1.  ])

    On a log, with weights from :func:`importance_weights`; the mean of the self-normalised CDF is SNIPS:

    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope import SelfNormalizedIPS, importance_weights
    >>> log, truth = simulate_bandit(1000, n_actions=3, reward_type="continuous", behavior="uniform", random_state=0)
    >>> target = np.tile([0.6, 0.3, 0.1], (1000, 1))
    >>> res = off_policy_cdf_from_weights(log.reward, importance_weights(log, target), n_bootstrap=200)
    >>> bool(np.isclose(res.mean().value, SelfNormalizedIPS().estimate_policy_value(log, target)))
    True
    >>> round(res.quantile(0.5).value, 3)
    -0.496
    """
    r = check_finite(as_array(reward, "reward", ndim=1), "reward")
    w = check_finite(as_array(weights, "weights", ndim=1), "weights")
    if w.shape[0] != r.shape[0]:
        raise ValidationError("weights", f"must have one weight per reward: got {w.shape[0]}, expected {r.shape[0]}")
    raise_if_any(w < 0, "weights", "must be >= 0", w)
    n = r.shape[0]
    if n < 2:
        raise ValidationError("reward", f"needs at least 2 rows, got {n}")
    if not w.sum() > 0:
        raise ValidationError("weights", "are all zero: the target policy puts no mass on any logged action",
                              hint="The log cannot say anything about this policy's rewards")
    alpha = check_alpha(alpha)
    check_choice(band, "band", ("pointwise", "uniform"))
    check_choice(resampling, "resampling", ("poisson", "multinomial"))
    self_normalize = check_bool(self_normalize, "self_normalize")  # "no" is truthy: it would mean True
    # >= 2: a grid needs its two ends; int(2.5) would silently be 2.
    max_thresholds = check_int(max_thresholds, "max_thresholds", low=2)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=2)  # named as the caller knows it, not "n_replicates"
    rs = Resampling.make(n_bootstrap, resampling, random_state)
    ids = None if unit_id is None else check_unit_ids(unit_id, "unit_id", n)
    if ids is not None and is_single_unit(n, ids):  # as n < 2: every resample would be the log itself
        raise ValidationError("unit_id", f"needs at least 2 distinct units, got one ({ids[0]!r}) for all {n} rows")
    order = np.argsort(r, kind="stable")
    values = r[order]
    ws = w[order]
    starts = _atoms(values)  # tied rewards are one atom of the step function
    atoms, wa = values[starts], np.add.reduceat(ws, starts)
    if thresholds is None:
        if atoms.size <= max_thresholds:
            thresholds = atoms.copy()
        else:
            thresholds = np.unique(np.quantile(values, np.linspace(0, 1, max_thresholds), method="inverted_cdf"))
    else:
        thresholds = np.sort(check_finite(as_array(thresholds, "thresholds", ndim=1), "thresholds"))
        if thresholds.size == 0:
            raise ValidationError("thresholds", "must not be empty")
    at = np.searchsorted(atoms, thresholds, side="right") - 1  # last atom <= t (-1: none)

    def on_grid(C):
        G = C[np.clip(at, 0, None)]
        G[at < 0] = 0.0
        return G

    # Point estimate (raw and post-processed).
    raw_cols = np.cumsum(wa) / (wa.sum() if self_normalize else n)
    raw = np.where(at >= 0, raw_cols[np.clip(at, 0, None)], 0.0)
    total = np.array([wa.sum() if self_normalize else float(n)])
    cdf = on_grid(_cdf_columns(wa[:, None], total, self_normalize))[:, 0]
    # Replicates: per-atom masses, all replicates at once or in blocks of replicates.
    B = rs.n_replicates
    reps = np.empty((B, thresholds.size))
    masses = None
    for b0, M, wtot in _atom_mass_blocks(rs, n, ids, order, ws, starts):
        if M.shape[1] == B:  # every replicate at once (bounded memory): kept for the functionals
            masses = (M, wtot)
        tot = M.sum(axis=0) if self_normalize else wtot
        reps[b0:b0 + M.shape[1]] = on_grid(_cdf_columns(M, tot, self_normalize)).T
    if band == "pointwise":
        lo, hi = np.nanpercentile(reps, [100 * alpha / 2, 100 * (1 - alpha / 2)], axis=0)
    else:
        # Sup-t band: the (1 - alpha) quantile of max_t |F*_b(t) - F(t)| / se(t) over replicates.
        se = replicate_sd(reps, axis=0)
        ok = se > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            dev = np.where(ok[None, :], np.abs(reps - cdf[None, :]) / np.where(ok, se, 1.0)[None, :], 0.0)
        crit = np.nanquantile(dev.max(axis=1), 1 - alpha)
        lo = np.maximum.accumulate(np.clip(cdf - crit * se, 0, 1))
        hi = np.maximum.accumulate(np.clip(cdf + crit * se, 0, 1))
    # evaluate_policy's diagnostics (scaled sums): (sum w)^2 / sum w^2 was NaN, with numpy's overflow / invalid
    # warnings, for weights beyond ~1e154 (a bandwidth of 1e-200) or below ~1e-154, where the ess is unchanged
    from .evaluate import weight_diagnostics

    diag = {**weight_diagnostics(w), "share_zero_weight": float(np.mean(w == 0))}
    # a self-normalised replicate in which no drawn row has weight is 0 / 0: left out of the bands and of every
    # functional's interval, as bootstrap_ci leaves such replicates out, and said as it says it (it was silent)
    n_undefined = int(np.isnan(reps).any(axis=1).sum())
    diag["undefined_replicates"] = n_undefined
    if n_undefined and np.isfinite(cdf).all():
        import warnings

        why = (f"draw no row with weight (the self-normalised CDF is 0/0 there; {int(np.sum(w > 0))} rows have "
               "weight)" if self_normalize else
               "draw no row at all (every resampling weight is 0: the importance-weighted CDF divides by the "
               "resample's size, 0)")
        warnings.warn(f"off_policy_cdf: {n_undefined} of {B} bootstrap replicates {why}; the bands and "
                      "intervals ignore them and describe the other replicates only "
                      "(diagnostics['undefined_replicates'])", RuntimeWarning, stacklevel=2)
    return OffPolicyCDF(thresholds=thresholds, cdf=cdf, raw_cdf=raw, ci_low=lo, ci_high=hi, replicate_cdfs=reps,
                        alpha=alpha, band=band, self_normalized=bool(self_normalize), n=n, n_bootstrap=B,
                        diagnostics=diag, _values=atoms, _weights=wa, _order=order, _row_weights=ws, _starts=starts,
                        _ids=ids, _resampling=rs, _masses=masses)


def off_policy_cdf(log, policy, *, thresholds=None, self_normalize: bool = True, alpha: float = 0.05,
                   n_bootstrap: int = 500, band: str = "pointwise", resampling: str = "poisson", random_state=0,
                   max_thresholds: int = 256, bandwidth: float | None = None, kernel: str = "epanechnikov",
                   boundary: str = "renormalize", warn: bool = True) -> OffPolicyCDF:
    """The reward distribution of a target policy from logged bandit feedback.

    Parameters
    ----------
    log : BanditLog or ContinuousBanditLog
    policy : ndarray or policy object
        For a :class:`~workbench.data.BanditLog`: an (n, n_actions) action distribution (or
        (n, n_actions, n_positions) with slots; the weight is taken at the logged action and slot),
        or an object with ``action_dist(log)``. For a
        :class:`~workbench.data.ContinuousBanditLog`: the deterministic target's action per row,
        smoothed with ``kernel`` and ``bandwidth`` (see :mod:`workbench.ope.continuous`).
    thresholds : array, optional
        Where to report the CDF. Default: every distinct reward if there are at most
        ``max_thresholds``, else ``max_thresholds`` quantiles of the logged rewards. Functionals
        (mean, quantiles, CVaR) are always computed from the full step function, not the grid.
    self_normalize : bool
        F_SN (default: a proper CDF, O(1/n) bias) or F_IS (unbiased before clipping).
    alpha : float
        Miscoverage of the bands and of the functionals' intervals.
    n_bootstrap : int
    band : {"pointwise", "uniform"}
        Percentile band at each threshold, or a sup-t band for the whole curve.
    resampling : {"poisson", "multinomial"}
        The engine's schemes; both resample ``log.unit_id`` clusters when present (multinomial:
        units drawn with replacement).
    random_state : int, Generator or None
    warn : bool
        Issue :func:`~workbench.ope.evaluate_policy`'s :class:`~workbench.ope.OPEDiagnosticWarning` for
        the weights of a :class:`~workbench.data.BanditLog` (missing support, propensity alarms, thin
        weights); ``diagnostics["zero_support_share"]`` holds the share of rows where the target puts
        mass on actions the logger never takes (NaN without the log's ``behavior_dist``).

    Returns
    -------
    OffPolicyCDF
        ``.cdf``, ``.ci_low``, ``.ci_high``, ``.to_frame()``, ``.mean()``, ``.quantile(q)``,
        ``.cvar(level)``, ``.summary()`` (intervals are bootstrap percentile intervals:
        asymptotically 1 - alpha coverage for smooth functionals; quantiles of discrete rewards
        are not smooth and their intervals can be conservative or degenerate).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import simulate_bandit
    >>> from workbench.ope.distributional import off_policy_cdf
    >>> log, truth = simulate_bandit(2000, n_actions=3, reward_type="continuous", behavior="uniform", random_state=0)
    >>> target = np.tile([0.6, 0.3, 0.1], (2000, 1))
    >>> res = off_policy_cdf(log, target, n_bootstrap=200)
    >>> bool(np.all(np.diff(res.cdf) >= 0) and res.cdf.max() <= 1)
    True
    >>> res.cvar(0.1).name
    'cvar 0.1 (lower)'
    """
    from ..data.continuous_log import ContinuousBanditLog

    warn = check_bool(warn, "warn")
    if isinstance(log, ContinuousBanditLog):
        if bandwidth is None:
            raise ValidationError("bandwidth", "is needed for a continuous-action log (the target is smoothed)")
        from .continuous import smoothed_policy_weights

        w = smoothed_policy_weights(log, policy, bandwidth, kernel, boundary)
    else:
        if not hasattr(log, "propensity") or not hasattr(log, "n_actions"):
            raise ValidationError("log", f"must be a BanditLog or ContinuousBanditLog, got {type(log).__name__}")
        # the smoothing options apply to continuous actions only: given here they were ignored, silently
        for name, value, default in (("bandwidth", bandwidth, None), ("kernel", kernel, "epanechnikov"),
                                     ("boundary", boundary, "renormalize")):
            if value is not default and value != default:
                raise ValidationError(name, f"applies to a ContinuousBanditLog (a smoothed target); this log has "
                                            f"{log.n_actions} discrete actions, got {name}={value!r}")
        from .evaluate import _warn_diagnostics, prepare_inputs, zero_support_share

        inputs = prepare_inputs(log, policy, estimators=[])  # the weights, and what the diagnostics read
        w = inputs.weight
        off_support = zero_support_share(inputs)
        if warn:
            # evaluate_policy's diagnostics of the same weights (missing support biases F_IS and F_SN as it
            # biases ips and snips; the self-normalised CDF's mean is snips)
            _warn_diagnostics(inputs, stacklevel=3)
    res = off_policy_cdf_from_weights(log.reward, w, thresholds=thresholds, self_normalize=self_normalize,
                                      alpha=alpha, n_bootstrap=n_bootstrap, band=band, resampling=resampling,
                                      unit_id=log.unit_id, random_state=random_state,
                                      max_thresholds=max_thresholds)
    if not isinstance(log, ContinuousBanditLog):
        res.diagnostics["zero_support_share"] = off_support  # the result is built here: its dict is still ours
    return res
