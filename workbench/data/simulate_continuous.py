"""A continuous-action simulator with known truth: personalised pricing.

A customer with features x ~ N(0, I_d) has a willingness to pay v(x) = v0 + spread * tanh(x' b);
offered price a in [a_min, a_max], they buy with probability sigmoid((v(x) - a) / s). The reward is
the revenue a * 1{buy}, so the expected reward is known in closed form,

    q(x, a) = a * sigmoid((v(x) - a) / s),

and the value of any policy on the log's contexts is exact up to quadrature error (< 1e-9 here):
V(pi) = (1/n) sum_i q(x_i, pi(x_i)) for a deterministic pricing rule and
V(pi_h) = (1/n) sum_i ∫ pi_h(a | x_i) q(x_i, a) da for its kernel-smoothed version (Gauss-Legendre
quadrature, the same code the estimators use to define pi_h: :mod:`workbench._kernels`).

Two logging policies with a known density:

* ``"gaussian"``: a truncated normal N(mu(x), sd^2) on [a_min, a_max] around the price a stale
  demand model thinks is best (mu(x) is optimal for v_hat(x) = 0.7 v(x) + 1.5, not for v).
* ``"capped-igw"``: the CappedIGW density of Rucker, Zhu & Mineiro (2023) for the same stale
  model, p(a | x) ∝ tau / (1 + gamma * max(l_hat(x, a) - beta(x), 0)), where
  l_hat = max_a q_hat - q_hat(x, a) is the model's estimated regret, tau = 1 / logging_bandwidth
  caps the density and beta(x) is found numerically so that the mass is one (to 1e-10, 1e-9 for
  very large gamma, from above, so the normalised density never exceeds tau). To make the
  density *exact* (no quadrature error in the importance weights), it is made piecewise constant
  on 512 equal price cells, taking the CappedIGW value at each cell's midpoint and normalising by
  the exact sum; prices are drawn by picking a cell and then a uniform price inside it.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from .._kernels import check_kernel_args, sample_smoothed, smoothed_quadrature
from .._random import check_random_state
from .._validation import (ValidationError, as_array, check_choice, check_finite, check_int, check_real,
                           raise_if_any)
from .continuous_log import ContinuousBanditLog
from .logs import _index_rows

_CELLS = 512  # price cells of the piecewise-constant CappedIGW density
_BETA_MAX_STEPS = 200  # a safety bound: the full-grid solve takes 3-30 steps
_ROW_CHUNK = 4096  # rows per block of (rows, cells or nodes) work, so memory stays bounded
LOGGERS = ("gaussian", "capped-igw", "uniform")


# Tags the pricing world's seed sequence ("PRIC"), apart from the log's own stream of the same integer seed
_WORLD_TAG = 0x50524943


@dataclass(frozen=True)
class PricingProblem:
    """The fixed world of :func:`simulate_pricing` (drawn from ``problem_seed``).

    Attributes
    ----------
    coef : ndarray (d,)
        Direction of the willingness-to-pay index x' b (unit norm).
    v0, spread, scale : float
        v(x) = v0 + spread * tanh(x' b); purchase probability sigmoid((v - a) / scale).
    a_min, a_max : float
        The price interval.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import PricingProblem
    >>> problem = PricingProblem.make(dim_context=2, problem_seed=0)
    >>> problem
    PricingProblem(2 context dims, prices in [1, 10], v0=5.5, spread=2.5, scale=0.8)
    >>> problem.optimal_action(np.zeros((2, 2))).round(2).tolist()
    [4.32, 4.32]
    >>> problem.purchase_probability(np.zeros((1, 2)), [5.5]).tolist()   # priced at the willingness to pay
    [0.5]
    """

    coef: np.ndarray
    v0: float = 5.5
    spread: float = 2.5
    scale: float = 0.8
    a_min: float = 1.0
    a_max: float = 10.0

    def __post_init__(self):
        # Checked by name: scale=0 divided by zero in every purchase probability (NaN revenues at
        # a = v), and a NaN v0 or spread made every expected reward NaN, silently.
        coef = check_finite(as_array(self.coef, "coef", ndim=1), "coef")
        if coef.size == 0:
            raise ValidationError("coef", "must have at least one entry (one per context dimension)")
        object.__setattr__(self, "coef", coef)
        for name in ("v0", "spread", "a_min", "a_max"):
            object.__setattr__(self, name, check_real(getattr(self, name), name))
        scale = check_real(self.scale, "scale")
        if not scale > 0:
            raise ValidationError("scale", f"must be > 0, got {scale!r}")
        object.__setattr__(self, "scale", scale)
        if not self.a_min < self.a_max:
            raise ValidationError("a_max", f"must be greater than a_min, got [{self.a_min:g}, {self.a_max:g}]")

    @classmethod
    def make(cls, dim_context: int = 3, problem_seed: int = 0, a_min: float = 1.0, a_max: float = 10.0,
             **kw) -> "PricingProblem":
        """A problem whose unit coefficient vector is drawn from ``problem_seed`` (the world, kept apart from the
        log's own draws); ``kw`` (v0, spread, scale) goes to the constructor."""
        # By name: int(1.5) would silently pick world 1, and a_min="1" failed in a comparison.
        dim_context = check_int(dim_context, "dim_context", low=1)
        problem_seed = check_int(problem_seed, "problem_seed", low=0)
        a_min, a_max = check_real(a_min, "a_min"), check_real(a_max, "a_max")
        if not a_min < a_max:
            raise ValidationError("a_max", f"must be greater than a_min, got [{a_min:g}, {a_max:g}]")
        # The world's own stream, tagged: default_rng(problem_seed) is also what random_state=problem_seed gives the
        # log, whose first context row then was the coefficient direction itself (with the defaults 0 and 0)
        rng = np.random.default_rng(np.random.SeedSequence([problem_seed, _WORLD_TAG]))
        b = rng.standard_normal(dim_context)
        return cls(coef=b / np.linalg.norm(b), a_min=a_min, a_max=a_max, **kw)

    def __repr__(self) -> str:
        # The default dataclass repr would print the coefficient array.
        return (f"PricingProblem({self.coef.shape[0]} context dims, prices in [{self.a_min:g}, {self.a_max:g}], "
                f"v0={self.v0:g}, spread={self.spread:g}, scale={self.scale:g})")

    def willingness_to_pay(self, context: np.ndarray) -> np.ndarray:
        """v(x) = v0 + spread * tanh(x . coef), one per context row."""
        x = check_finite(as_array(context, "context", ndim=2), "context")
        if x.shape[1] != self.coef.size:  # numpy's matmul error named neither the field nor the width
            raise ValidationError("context", f"must have {self.coef.size} columns (the problem's context "
                                  f"dimension), got {x.shape[1]}")
        return self.v0 + self.spread * np.tanh(x @ self.coef)

    def _wtp_and_price(self, context, action):
        v = self.willingness_to_pay(context)
        a = check_finite(as_array(action, "action", ndim=(1, 2), dtype=np.float64), "action")
        if a.shape[0] != v.shape[0]:
            raise ValidationError("action", f"must have one row per context row ({v.shape[0]}), got {a.shape[0]}")
        return (v[:, None] if a.ndim == 2 else v), a

    def expected_reward(self, context, action) -> np.ndarray:
        """q(x, a); ``action`` is (n,) (one per context row) or (n, m) (m actions per row)."""
        v, a = self._wtp_and_price(context, action)
        return a * expit((v - a) / self.scale)

    def purchase_probability(self, context, action) -> np.ndarray:
        """P(buy | x, price a) = sigmoid((v(x) - a) / scale); ``action`` is (n,) or (n, m)."""
        v, a = self._wtp_and_price(context, action)
        return expit((v - a) / self.scale)

    def optimal_price(self, wtp: np.ndarray) -> np.ndarray:
        """argmax_a a * sigmoid((v - a) / s) on [a_min, a_max], by bisection (60 steps, vectorised).

        The first-order condition a * (1 - sigmoid((v - a) / s)) = s has a unique root: the left
        side increases in a.
        """
        # checked once, before the bisection: a string raised numpy's "could not convert", a complex array
        # lost its imaginary part with a warning, and NaN came out as the price a_min, silently
        v = check_finite(wtp, "wtp")
        lo = np.full_like(v, self.a_min)
        hi = np.full_like(v, self.a_max)
        for _ in range(60):  # a loop over bisection steps, not rows
            mid = (lo + hi) / 2
            up = mid * (1 - expit((v - mid) / self.scale)) < self.scale
            lo = np.where(up, mid, lo)
            hi = np.where(up, hi, mid)
        return (lo + hi) / 2

    def optimal_action(self, context) -> np.ndarray:
        """The revenue-maximising price of each context row (:meth:`optimal_price` of its willingness to pay)."""
        return self.optimal_price(self.willingness_to_pay(context))

    def stale_wtp(self, context) -> np.ndarray:
        """The logger's (wrong) belief about the willingness to pay."""
        return 0.7 * self.willingness_to_pay(context) + 1.5


class _Logger:
    """Per-row parameters of a logging policy with a known density on the log's contexts."""

    # per-row arrays (those the logger kind has): what :meth:`subset` selects rows of
    _row_fields = ("mu", "mass", "vhat", "qmax", "beta", "Z")

    def __init__(self, problem: PricingProblem, context, kind, sd, bandwidth, gamma):
        self.problem, self.kind = problem, kind
        self._n = int(np.asarray(context).shape[0])
        self.lo, self.hi = problem.a_min, problem.a_max
        L = self.hi - self.lo
        if kind == "gaussian":
            if not sd > 0:
                raise ValidationError("logging_sd", f"must be > 0, got {sd}")
            self.mu = problem.optimal_price(problem.stale_wtp(context))
            self.sd = float(sd)
            from scipy.special import ndtr

            self.mass = ndtr((self.hi - self.mu) / self.sd) - ndtr((self.lo - self.mu) / self.sd)
        elif kind == "capped-igw":
            if not (0 < bandwidth < L):
                raise ValidationError("logging_bandwidth", f"must be in (0, {L:g}), got {bandwidth}")
            if not gamma > 0:
                raise ValidationError("gamma", f"must be > 0, got {gamma}")
            self.tau, self.gamma = 1.0 / bandwidth, float(gamma)
            self.vhat = problem.stale_wtp(context)
            self.qmax = self._qhat_rows(slice(None), problem.optimal_price(self.vhat)[:, None])[:, 0]
            self.delta = L / _CELLS
            self.mids = self.lo + (np.arange(_CELLS) + 0.5) * self.delta
            self.beta, self.Z = self._solve_beta()
        elif kind == "uniform":
            pass

    def subset(self, rows: np.ndarray) -> "_Logger":
        """The logger on the rows ``rows`` (an array of row numbers) of the log, its density unchanged there."""
        import copy

        out = copy.copy(self)  # the scalars (sd, tau, gamma, the price cells) are shared, the row arrays selected
        out._n = int(rows.shape[0])
        for name in self._row_fields:
            if hasattr(self, name):
                setattr(out, name, getattr(self, name)[rows])
        return out

    def _solve_beta(self):
        # mass(beta) = sum_cells g * delta increases in beta from < 1 at -(tau L) / gamma to tau L > 1
        # at the largest loss. Solved on every cell (rows in chunks, so the (rows, cells) block stays
        # small), keeping the upper end: the mass Z is then >= 1, so the normalised density g / Z never
        # exceeds the cap tau (a coarse grid alone let it reach 1.05 tau).
        L = self.hi - self.lo
        beta, mass = np.empty(self._n), np.empty(self._n)
        for s in range(0, self._n, _ROW_CHUNK):  # chunks of rows, each vectorised
            rows = slice(s, s + _ROW_CHUNK)
            loss = self.qmax[rows, None] - self._qhat_rows(rows, self.mids)
            lo = np.full(loss.shape[0], -self.tau * L / self.gamma)
            hi = loss.max(axis=1) + 1e-9
            x = np.clip(self._coarse_beta(loss, lo.copy()), lo, hi)
            active = np.arange(loss.shape[0])
            # Newton steps from the coarse root, only on rows not yet done, kept in a bracket (a
            # bisection step whenever Newton would leave it: the mass is convex in beta except at the
            # kinks where a cell reaches the cap); done when the mass at the upper end is within 1e-10
            # of one, or the bracket is at rounding level.
            for _ in range(_BETA_MAX_STEPS):  # steps, vectorised over the rows still active
                if active.size == 0:
                    break
                xa, la, ha = x[active], lo[active], hi[active]
                d = loss[active] - xa[:, None]
                pos = d > 0
                g = self.tau / (1 + self.gamma * np.where(pos, d, 0.0))
                f = g.sum(axis=1) * self.delta - 1
                slope = np.where(pos, g * g, 0.0).sum(axis=1) * (self.gamma / self.tau) * self.delta
                up = f >= 0
                ha, la = np.where(up, xa, ha), np.where(up, la, xa)
                hi[active], lo[active] = ha, la
                step = xa - f / np.where(slope > 0, slope, np.inf)
                x[active] = np.where((step > la) & (step < ha), step, (la + ha) / 2)
                done = (up & (f < 1e-10)) | (ha - la <= 1e-15 * np.maximum(np.abs(ha), 1.0))
                active = active[~done]
            beta[rows] = hi
            # the exact mass at beta, from the same loss block (no second pass over the prices)
            mass[rows] = (self.tau / (1 + self.gamma * np.maximum(loss - hi[:, None], 0.0))).sum(axis=1) * self.delta
        return beta, mass

    def _coarse_beta(self, loss, lo):
        """The root on every 8th cell (bisection, cheap): the starting point of the full-grid solve."""
        L = self.hi - self.lo
        coarse = np.ascontiguousarray(loss[:, 4::8])
        hi = coarse.max(axis=1) + 1e-9
        for _ in range(20):  # bisection steps, vectorised over rows (Newton refines the rest)
            mid = (lo + hi) / 2
            big = (self.tau / (1 + self.gamma * np.maximum(coarse - mid[:, None], 0.0))).mean(axis=1) * L > 1
            hi = np.where(big, mid, hi)
            lo = np.where(big, lo, mid)
        return (lo + hi) / 2

    def _qhat_rows(self, rows, a):
        return a * expit((self.vhat[rows, None] - a) / self.problem.scale)

    def _g_rows(self, rows, a):
        loss = self.qmax[rows, None] - self._qhat_rows(rows, a)
        return self.tau / (1 + self.gamma * np.maximum(loss - self.beta[rows, None], 0.0))

    def _cell_mid(self, a):
        cell = np.clip(np.floor((a - self.lo) / self.delta), 0, _CELLS - 1)
        return self.lo + (cell + 0.5) * self.delta

    def density(self, action, rows=slice(None)) -> np.ndarray:
        """p_b(a | x_i): ``action`` is (n,) one price per row or (n, m) m prices per row; ``rows``
        (a slice) restricts both to those rows of the log."""
        # Public (``truth.logger.density``): checked here, once per call, O(size of action). The
        # simulator's own calls (a chunk loop in logging_value) go to _density with arrays they built.
        if not isinstance(rows, slice):
            raise ValidationError("rows", f"must be a slice of the log's rows, got {type(rows).__name__}")
        a = check_finite(as_array(action, "action", ndim=(1, 2)), "action")
        n = len(range(self._n)[rows])
        if a.shape[0] != n:
            raise ValidationError("action", f"must have one row per selected log row ({n}), got {a.shape[0]}")
        # 0 outside [a_min, a_max], where the logger never prices: the formulas below are the inside's
        # (the capped-igw one clipped a price into the edge cell, the uniform one was 1/L anywhere)
        return np.where((a >= self.lo) & (a <= self.hi), self._density(a, rows), 0.0)

    def _density(self, action, rows=slice(None)) -> np.ndarray:
        a = np.asarray(action, dtype=np.float64)
        if self.kind == "uniform":
            return np.full(a.shape, 1.0 / (self.hi - self.lo))
        col = (lambda v: v[rows]) if a.ndim == 1 else (lambda v: v[rows, None])
        if self.kind == "gaussian":
            mu, mass = col(self.mu), col(self.mass)
            return np.exp(-0.5 * ((a - mu) / self.sd) ** 2) / (self.sd * np.sqrt(2 * np.pi)) / mass
        mid = self._cell_mid(a)
        g = self._g_rows(rows, mid[:, None] if a.ndim == 1 else mid)
        g = g[:, 0] if a.ndim == 1 else g
        return g / col(self.Z)

    def sample(self, rng) -> np.ndarray:
        if self.kind == "uniform":
            return self.lo + (self.hi - self.lo) * rng.random(self._n)
        if self.kind == "gaussian":
            from scipy.special import ndtr, ndtri

            plo = ndtr((self.lo - self.mu) / self.sd)
            phi = ndtr((self.hi - self.mu) / self.sd)
            u = plo + (phi - plo) * rng.random(self.mu.shape)
            return np.clip(self.mu + self.sd * ndtri(u), self.lo, self.hi)
        # Pick a cell with probability g * delta / Z, then a uniform price inside it (rows in chunks
        # so the (rows, cells) block stays small).
        out = np.empty(self._n)
        u = rng.random(self._n)
        v = rng.random(self._n)
        for s in range(0, self._n, _ROW_CHUNK):  # chunks of rows, each vectorised
            rows = slice(s, s + _ROW_CHUNK)
            cum = np.cumsum(self._g_rows(rows, self.mids), axis=1) * self.delta / self.Z[rows, None]
            cell = np.minimum((cum < u[rows, None]).sum(axis=1), _CELLS - 1)
            out[rows] = self.lo + (cell + v[rows]) * self.delta
        return np.clip(out, self.lo, self.hi)


@dataclass(frozen=True, eq=False)
class ContinuousTruth:
    """Ground truth of a simulated continuous-action log, on the log's contexts.

    Attributes
    ----------
    problem : PricingProblem
    context : ndarray (n, d)
    logger : the logging policy: ``density(action, rows=slice(None))`` is p_b(a | x_i) row by row,
        for one action per row (n,) or m per row (n, m), on the rows ``rows`` selects

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import simulate_pricing
    >>> log, truth = simulate_pricing(500, random_state=0)
    >>> truth
    ContinuousTruth(500 rows, 3 context dims, prices in [1, 10], gaussian logger)
    >>> round(truth.policy_value(np.full(500, 5.0)), 3)   # always charge 5
    2.919
    """

    problem: PricingProblem
    context: np.ndarray
    logger: object

    def __len__(self) -> int:
        return int(self.context.shape[0])

    def __repr__(self) -> str:
        # The default dataclass repr would print every context row.
        kind = getattr(self.logger, "kind", type(self.logger).__name__)
        return (f"ContinuousTruth({self.context.shape[0]:,} rows, {self.context.shape[1]} context dims, "
                f"prices in [{self.a_min:g}, {self.a_max:g}], {kind} logger)")

    @property
    def a_min(self) -> float:
        """Lowest price of the problem's action range."""
        return self.problem.a_min

    @property
    def a_max(self) -> float:
        """Highest price of the problem's action range."""
        return self.problem.a_max

    # per-row fields: what :meth:`subset` selects rows of (the logger's own rows are selected by its ``subset``)
    _row_fields = ("context",)

    def subset(self, idx) -> "ContinuousTruth":
        """The truth of the rows selected by an integer array, a slice or a boolean mask: the same rows
        as ``ContinuousBanditLog.subset(idx)``, so a split log keeps its exact values (an int selects
        one row, kept as a 1-row truth). The logger is restricted to the same rows.

        Examples
        --------
        >>> import numpy as np
        >>> from workbench.data import simulate_pricing
        >>> log, truth = simulate_pricing(500, random_state=0)
        >>> half, truth_half = log.subset(slice(250, None)), truth.subset(slice(250, None))
        >>> len(truth_half), bool(np.allclose(truth_half.logger.density(half.action), half.density))
        (250, True)
        """
        import dataclasses

        # refused, as ContinuousBanditLog refuses an empty log: an empty truth's every value is a silent NaN
        rows = _index_rows(idx, len(self), empty="selects no row; a ContinuousTruth needs at least one (as a "
                                                 "ContinuousBanditLog does)")
        if not callable(getattr(self.logger, "subset", None)):
            # the logger's density is per row: keeping the whole-log logger would pair row i of the
            # subset with row i of the log
            raise ValidationError("logger", f"must have a subset(rows) method to follow the rows, got "
                                  f"{type(self.logger).__name__}", hint="use the truth returned by simulate_pricing")
        return dataclasses.replace(self, logger=self.logger.subset(rows),
                                   **{f: getattr(self, f)[rows] for f in self._row_fields})

    def expected_reward(self, action) -> np.ndarray:
        """q(x_i, a) for one action per row (n,) or m actions per row (n, m)."""
        return self.problem.expected_reward(self.context, action)

    def optimal_action(self) -> np.ndarray:
        """The revenue-maximising price of each row."""
        return self.problem.optimal_action(self.context)

    def _target(self, target_action) -> np.ndarray:
        raw = as_array(target_action, "target_action", ndim=1)
        if raw.dtype == bool:  # a price of True is no price (read as 1.0 before)
            raise ValidationError("target_action", "must be actions (numbers), got booleans")
        c = check_finite(raw, "target_action")
        if c.shape[0] != self.context.shape[0]:
            raise ValidationError("target_action", f"must have {self.context.shape[0]} rows, got {c.shape[0]}")
        raise_if_any((c < self.a_min) | (c > self.a_max), "target_action",
                     f"must be within [{self.a_min:g}, {self.a_max:g}]", c)
        return c

    def policy_value(self, target_action, bandwidth: float | None = None, kernel: str = "epanechnikov",
                     boundary: str = "renormalize") -> float:
        """Exact value on the log's contexts of the deterministic policy a = target_action (no
        bandwidth) or of its kernel-smoothed version pi_h (Gauss-Legendre quadrature).

        ``kernel`` defaults to the estimators' default ("epanechnikov"), so ``policy_value(c,
        bandwidth=h)`` is the V(pi_h) that ``evaluate_continuous_policy(log, c, bandwidth=h)`` estimates.

        With ``boundary="none"`` this is the quantity the un-renormalised kernel estimators
        target, ∫_{[a_min, a_max]} K_h(a - c) q(x, a) da, which is not a policy value near an edge.
        """
        c = self._target(target_action)
        if bandwidth is None:
            return float(np.mean(self.expected_reward(c)))
        h = check_kernel_args(kernel, bandwidth, boundary)
        nodes, wts = smoothed_quadrature(c, h, kernel, self.a_min, self.a_max, boundary)
        return float(np.mean(np.sum(wts * self.expected_reward(nodes), axis=1)))

    def logging_value(self, n_nodes: int = 2048) -> float:
        """Value of the logging policy (midpoint rule on ``n_nodes`` prices per row).

        The Gaussian logger's grid covers only mu(x) +- 12 sd (the mass beyond is < 1e-32): a grid on
        the whole interval stepped over a narrow logger (1.9% off at ``logging_sd=0.0005``).
        """
        # an integer >= 1: 2.5 nodes made np.arange give 3 cells of width L / 2.5 (1.2 times the
        # interval: a value inflated by 20%), 0 returned 0.0 and "a" a TypeError
        n_nodes = check_int(n_nodes, "n_nodes", low=1)
        n = self.context.shape[0]
        lo, hi = np.full(n, self.a_min), np.full(n, self.a_max)
        if getattr(self.logger, "kind", None) == "gaussian":
            lo = np.maximum(lo, self.logger.mu - 12 * self.logger.sd)
            hi = np.minimum(hi, self.logger.mu + 12 * self.logger.sd)
        step = (hi - lo)[:, None] / n_nodes
        total = 0.0
        density = getattr(self.logger, "_density", self.logger.density)  # unchecked: the grid is ours
        # Rows in chunks so the (rows, n_nodes) grid stays small (a whole-log grid took 8 GB at 50,000 rows).
        for s in range(0, n, _ROW_CHUNK):  # chunks of rows, each vectorised
            rows = slice(s, s + _ROW_CHUNK)
            grid = lo[rows, None] + (np.arange(n_nodes) + 0.5) * step[rows]
            reward = self.problem.expected_reward(self.context[rows], grid)
            total += float(np.sum(density(grid, rows) * reward * step[rows]))
        return total / n

    def sample_rewards(self, target_action, bandwidth: float | None = None, kernel: str = "epanechnikov",
                       random_state=None) -> np.ndarray:
        """Roll a (smoothed) pricing policy out on the log's contexts: one revenue per row.

        ``kernel`` defaults to the estimators' default, as in :meth:`policy_value`.
        """
        rng = check_random_state(random_state)
        c = self._target(target_action)
        if bandwidth is not None:
            h = check_kernel_args(kernel, bandwidth, "renormalize")
            c = sample_smoothed(c, h, kernel, self.a_min, self.a_max, rng)
        buy = rng.random(c.shape) < self.problem.purchase_probability(self.context, c)
        return c * buy


def simulate_pricing(n_rounds: int, dim_context: int = 3, logging: str = "gaussian", logging_sd: float = 1.0,
                     logging_bandwidth: float = 0.5, gamma: float = 100.0, a_min: float = 1.0, a_max: float = 10.0,
                     problem_seed: int = 0, random_state=None):
    """Simulate a personalised-pricing log (continuous actions) with known truth.

    Parameters
    ----------
    n_rounds, dim_context : int
    logging : {"gaussian", "capped-igw", "uniform"}
        The logging policy (see the module docstring); its density is known exactly.
    logging_sd : float
        Standard deviation of the truncated-normal logger. Small values approach an argmax logger,
        whose logs cannot be evaluated for other prices.
    logging_bandwidth, gamma : float
        CappedIGW: the density cap is 1 / logging_bandwidth; gamma is the greediness.
    a_min, a_max : float
        The price interval.
    problem_seed : int
        Seed of the world (the willingness-to-pay direction); keep it fixed across replicates.
    random_state : int, Generator or None
        Seed of the contexts, prices and purchases.

    Returns
    -------
    log : ContinuousBanditLog
        Prices, revenues, logging densities, contexts.
    truth : ContinuousTruth
        ``policy_value(target_action, bandwidth, kernel)``, ``expected_reward``, ``optimal_action``.

    Examples
    --------
    >>> from workbench.data import simulate_pricing
    >>> log, truth = simulate_pricing(2000, random_state=0)
    >>> best = truth.optimal_action()
    >>> truth.policy_value(best) > truth.policy_value(best, bandwidth=1.0, kernel="box")
    True
    """
    check_choice(logging, "logging", LOGGERS)
    n_rounds = check_int(n_rounds, "n_rounds", low=1)  # int(2.5) would silently simulate 2 rounds
    # The loggers' parameters are checked by name whichever logger is used: an infinite logging_sd
    # used to surface as a bad "action".
    logging_sd = check_real(logging_sd, "logging_sd", low=0.0)
    logging_bandwidth = check_real(logging_bandwidth, "logging_bandwidth", low=0.0)
    gamma = check_real(gamma, "gamma", low=0.0)
    problem = PricingProblem.make(dim_context, problem_seed, a_min, a_max)
    a_min, a_max = problem.a_min, problem.a_max
    rng = check_random_state(random_state)
    x = rng.standard_normal((n_rounds, dim_context))
    logger = _Logger(problem, x, logging, logging_sd, logging_bandwidth, gamma)
    a = logger.sample(rng)
    dens = logger._density(a)
    buy = rng.random(n_rounds) < problem.purchase_probability(x, a)
    log = ContinuousBanditLog(action=a, reward=a * buy, density=dens, a_min=a_min, a_max=a_max, context=x)
    return log, ContinuousTruth(problem, log.context, logger)
