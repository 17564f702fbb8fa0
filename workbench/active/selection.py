"""Label-efficient model selection: which of many candidate models is best on this pool?

Every strategy runs the same loop: pick a pool point, ask the oracle for its label, update its
state, then report the model it would pick now (``chosen``) and a probability that each model is
the best on the pool (``prob_best``). Steps are vectorised over models and points (no Python
loop over models); the only loops are over label steps (and, for ``coda``, over chunks of
candidates).

Strategies
----------
random          uniform without replacement; pick = best labelled accuracy.
uncertainty     greedy: highest entropy of the zoo-average prediction first.
margin          greedy: smallest top-1/top-2 margin of the zoo average first.
active_testing  one shared proposal q proportional to the zoo's mean expected 0-1 loss under the
                zoo average (with a defensive floor), sampled; LURE risk per model (Kossen et al.
                2021; Farquhar et al. 2021); pick = lowest LURE risk.
model_selector  Okanovic et al. 2025 ("All models are wrong, some are useful"): posterior over the
                best model, multiplied by gamma = (1 - eps)/eps for each model agreeing with a label;
                next point minimises the expected posterior entropy; points where all models agree
                are skipped. eps is tuned label-free against the zoo's majority vote (a cheap version
                of the published search, see :func:`tune_eps_majority_vote`) unless given.
coda            Kay et al. 2025 ("Consensus-Driven Active Model Selection"): Dirichlet confusion
                matrices seeded by the consensus, probability-best from Beta per-class accuracies,
                greedy expected information gain over a random subsample of candidates.
auto            ours: Model Selector's posterior seeded by the zoo's geometric consensus, pooled
                with CODA's belief as part of the prior, sampled acquisition, a pick that moves
                only on evidence; see :func:`select_model`.

For random / uncertainty / margin / active_testing, ``prob_best`` is a normal approximation: the
(LURE or plain) accuracy estimates with their sample covariance across models (finite-population
corrected), integrated by Monte Carlo; it says how sure the labelled evidence is, not more.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import special

from .._random import check_random_state
from .._validation import (ValidationError, as_array, check_bool, check_choice, check_frame_columns, check_int,
                           check_real, first_frame, raise_if_any)
from ..results import frame_to_html
from ._common import LabelOracle, check_budget, check_floor, check_pool_pairing, defensive_q, draw_index, entropy

STRATEGIES = ("random", "uncertainty", "margin", "active_testing", "model_selector", "coda", "auto")
N_DRAWS = 256  # Monte Carlo draws for normal-approximation probability-best


# ----------------------------------------------------------------------------------------------
# Result
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)  # identity: == of array / frame fields raised
class SelectionTrace:
    """What a selection strategy knew after each label.

    Attributes
    ----------
    chosen : array (budget,)
        Index of the model picked after 1, 2, ..., budget labels.
    prob_best : array (budget, n_models)
        The strategy's probability that each model is the best on the pool, after each label.
        ``chosen`` is an argmax of it for model_selector and coda (ties broken at random), not
        always for the others: random, uncertainty, margin and active_testing pick the best point
        estimate (labelled or LURE accuracy) while ``prob_best`` is a Monte Carlo normal
        approximation, and auto's pick moves only on evidence (``hysteresis``, ``switch_z``), so it can lag
        the argmax.
    indices, labels : arrays (budget,)
        Acquired pool indices and their labels, in order.
    q : array (budget,)
        Acquisition probability of each acquired point when it was selected (NaN for greedy
        rules, whose choice is deterministic up to ties; model_selector and coda draw uniformly,
        with q = 1 / n_remaining, once no unlabelled point where models disagree remains).
    strategy : str
    model_names : tuple of str
    seconds_per_step : float
        Mean wall time of one step (select, label, update, summarise). The setup before the first step
        (model_selector's and auto's tuning of eps on pseudo-labels, CODA's prior) is apart, in
        ``diagnostics["setup_seconds"]``: a whole run takes setup + budget x seconds_per_step.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import select_model
    >>> rng = np.random.default_rng(0)
    >>> probs, labels = rng.dirichlet(np.ones(3), size=(4, 300)), rng.integers(0, 3, 300)
    >>> t = select_model(probs, labels, 20, strategy="random", random_state=0)
    >>> t.budget, t.final, t.to_frame().shape[0]
    (20, 'model_2', 20)
    """

    chosen: np.ndarray
    prob_best: np.ndarray
    indices: np.ndarray
    labels: np.ndarray
    q: np.ndarray
    strategy: str
    model_names: tuple
    n_pool: int
    seconds_per_step: float
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    @property
    def budget(self) -> int:
        """Number of labels acquired (the length of the trace)."""
        return int(self.chosen.shape[0])

    @property
    def final(self) -> str:
        """Name of the model chosen after the last label."""
        return self.model_names[int(self.chosen[-1])]

    def to_frame(self) -> pd.DataFrame:
        """One row per label: labels, index, label, q, chosen, chosen_name, prob_best_chosen, max_prob_best,
        strategy (``chosen`` is the pick, which need not have ``max_prob_best``: see ``prob_best``)."""
        pb = self.prob_best
        return pd.DataFrame({"labels": np.arange(1, self.budget + 1), "index": self.indices, "label": self.labels,
                             "q": self.q, "chosen": self.chosen,
                             "chosen_name": np.asarray(self.model_names)[self.chosen],
                             "prob_best_chosen": pb[np.arange(self.budget), self.chosen],
                             "max_prob_best": pb.max(axis=1), "strategy": self.strategy})

    def prob_best_frame(self) -> pd.DataFrame:
        """Wide frame: one row per label count, one column per model."""
        return pd.DataFrame(self.prob_best, columns=list(self.model_names),
                            index=pd.Index(np.arange(1, self.budget + 1), name="labels"))

    def __repr__(self) -> str:
        pb = float(self.prob_best[-1, self.chosen[-1]])
        H, m = len(self.model_names), self.budget
        return (f"SelectionTrace({self.strategy}, {H} model{'s' * (H != 1)}, {m} label{'s' * (m != 1)} of "
                f"{self.n_pool}: picks {self.final!r} with prob_best {pb:.3f}, "
                f"{1e3 * self.seconds_per_step:.2f} ms/step)")

    def _repr_html_(self) -> str:
        return frame_to_html(self.to_frame().tail(5), caption=repr(self))


# ----------------------------------------------------------------------------------------------
# Shared helpers
# ----------------------------------------------------------------------------------------------
def _argmax_random_ties(x: np.ndarray, rng: np.random.Generator, tol: float = 1e-12) -> int:
    best = np.flatnonzero(x >= x.max() - tol)
    return int(best[0]) if best.size == 1 else int(rng.choice(best))


class _NormalProbBest:
    """P(model h has the largest mean) under N(mean, cov), by Monte Carlo with fixed draws.

    Exactly tied models (identical columns) get equal shares: a draw's win is split equally among
    the models tied at its maximum.
    """

    def __init__(self, n_models, rng, n_draws=N_DRAWS):
        self.z = rng.standard_normal((n_draws, n_models))
        # Drawn and no longer used, so that the random stream, and every trace, is as before. A 1e-10 jitter
        # broke exact ties per draw instead of splitting them, and with the draws fixed for the whole run
        # the same model kept its luck: four identical models got 0.22 / 0.25 / 0.31 / 0.22 at every step.
        rng.random((n_draws, n_models))

    def __call__(self, mean, cov):
        w, V = np.linalg.eigh(0.5 * (cov + cov.T))
        # Eigenvalues within rounding of 0 (|error| ~ eps * largest, the cutoff of np.linalg.matrix_rank)
        # are 0: models whose labelled outcomes are identical give a singular cov, and its ~1e-17 noise
        # eigenvalues, square-rooted to ~1e-9, outweighed the 1e-10 jitter and split the tie by the noise
        # eigenvectors (four identical models got 0.008, 0.54, 0.24, 0.21 instead of ~0.25 each).
        tol = max(float(w.max()), 0.0) * w.size * np.finfo(float).eps
        root = V * np.sqrt(np.where(w > tol, w, 0.0))
        draws = mean + self.z @ root.T
        # ties within rounding of each draw's maximum (identical models' draws can differ in the last bits
        # through the eigenvectors); for distinct models a tie this close has probability ~1e-9
        top = draws.max(axis=1, keepdims=True)
        win = draws >= top - 1e-9 * np.maximum(1.0, np.abs(top))
        return (win / win.sum(axis=1, keepdims=True)).sum(axis=0) / draws.shape[0]


class _Zoo:
    """Read-only views of the zoo shared by the strategies (computed once per run)."""

    def __init__(self, probs):
        self.P = probs
        self.H, self.N, self.C = probs.shape
        self.preds = probs.argmax(axis=2)  # (H, N)
        self.pbar = probs.mean(axis=0)  # (N, C)
        self.disagree = ~(self.preds == self.preds[0]).all(axis=0)
        self._right_under = {}  # pool -> (H, N), see right_under

    @cached_property
    def onehot(self):
        """One-hot of the hard predictions, a sparse (N * C, H) matrix (row n * C + c, column h), so that
        ``(onehot @ w).reshape(N, C)`` sums a model-weight vector over the models predicting each class.

        Sparse, and built on first use (only model_selector and auto use it): the dense (N, C, H) array
        held C zeros per one (800 MB for 200 models on 50k points with 10 classes, built for every
        strategy), and its product with w cost N C H per step where N H suffice (model_selector:
        1.2 s per step there). Column indices sorted, so each sum runs over the models in order.
        """
        from scipy import sparse

        rows = (np.arange(self.N) * self.C + self.preds).ravel()  # entry (h, n) -> row n * C + preds[h, n]
        cols = np.repeat(np.arange(self.H), self.N)
        m = sparse.csr_matrix((np.ones(rows.size), (rows, cols)), shape=(self.N * self.C, self.H))
        m.sort_indices()
        return m

    def right_under(self, pool: str) -> np.ndarray:
        """(H, N): probability that each model's prediction is right if labels followed the zoo's ``pool``
        consensus ("geometric": :func:`_geometric_pool`, "arithmetic": the zoo average ``pbar``).

        The one implementation behind auto's prior, active testing's proposal and
        :func:`consensus_accuracy`. Cached per pool (auto's eps tuning builds the strategy once per
        eps on this zoo) and read-only, since the strategies share it."""
        cache = self._right_under
        if pool not in cache:
            if pool not in CONSENSUS_POOLS:  # internal callers pass constants: a typo must not mean "arithmetic"
                raise ValueError(f"unknown pool {pool!r}")
            g = _geometric_pool(self.P) if pool == "geometric" else self.pbar  # self.P is validated already
            right = np.take_along_axis(g[None], self.preds[..., None], axis=2)[..., 0]
            right.setflags(write=False)
            cache[pool] = right
        return cache[pool]

    @property
    def right_under_geometric_pool(self) -> np.ndarray:
        """``right_under("geometric")`` (the name benchmarks/active_selection.py uses)."""
        return self.right_under("geometric")


# ----------------------------------------------------------------------------------------------
# Strategies
# ----------------------------------------------------------------------------------------------
class _Strategy:
    greedy = False

    def __init__(self, zoo: _Zoo, rng, budget):
        self.zoo, self.rng, self.budget = zoo, rng, budget
        self.remaining = np.ones(zoo.N, bool)
        self.m = 0

    def _uniform_remaining(self):
        idx = np.flatnonzero(self.remaining)
        return int(self.rng.choice(idx)), 1.0 / idx.size

    def q_vector(self):
        """The distribution the next point is drawn from, over the whole pool (N,), or None for a rule
        that chooses greedily (what :func:`workbench.active.estimate_accuracies` replays)."""
        return None

    def _uniform_q(self) -> np.ndarray:
        return self.remaining / self.remaining.sum()

    def _uniform_once_all_agree_q(self):
        """q_vector of a rule that chooses greedily among the remaining points where models disagree and
        draws uniformly from the rest once none is left (model_selector, coda): None while it is greedy
        (its trace records q = NaN there), then uniform over the remaining pool (recorded 1 / n_remaining)."""
        return None if (self.remaining & self.zoo.disagree).any() else self._uniform_q()

    def observe(self, i, y):
        self.remaining[i] = False
        self.m += 1


class _Counting(_Strategy):
    """Plain labelled-accuracy bookkeeping (random, uncertainty, margin)."""

    def __init__(self, zoo, rng, budget):
        super().__init__(zoo, rng, budget)
        self.correct_sum = np.zeros(zoo.H)
        self.outer = np.zeros((zoo.H, zoo.H))
        self.pb = _NormalProbBest(zoo.H, rng)

    def observe(self, i, y):
        super().observe(i, y)
        c = (self.zoo.preds[:, i] == y).astype(float)
        self.correct_sum += c
        self.outer += np.outer(c, c)

    def summary(self):
        m, N = self.m, self.zoo.N
        mean = self.correct_sum / m
        chosen = _argmax_random_ties(mean, self.rng)
        if m < 2:
            top = (mean >= mean.max() - 1e-12).astype(float)
            return chosen, top / top.sum()
        cov = (self.outer / m - np.outer(mean, mean)) * m / (m - 1) / m * (1 - m / N)
        return chosen, self.pb(mean, cov)


class _Random(_Counting):
    def next_point(self):
        return self._uniform_remaining()

    def q_vector(self):
        return self._uniform_q()


class _GreedyOrder(_Counting):
    greedy = True

    def __init__(self, zoo, rng, budget, score):
        super().__init__(zoo, rng, budget)
        # Scores never change, so the greedy order is fixed up front; ties broken at random.
        self.order = np.lexsort((rng.random(zoo.N), -score))
        self.pos = 0

    def next_point(self):
        i = int(self.order[self.pos])
        self.pos += 1
        return i, np.nan


def _uncertainty(zoo, rng, budget):
    return _GreedyOrder(zoo, rng, budget, entropy(zoo.pbar))


def _margin(zoo, rng, budget):
    # one class: the runner-up has probability 0 (np.sort(...)[:, -2:] would have a single column)
    top2 = np.sort(np.hstack([np.zeros((zoo.N, 1)), zoo.pbar]), axis=1)[:, -2:]
    return _GreedyOrder(zoo, rng, budget, -(top2[:, 1] - top2[:, 0]))


class _ActiveTesting(_Strategy):
    """Shared proposal, LURE risk per model, from running sums (O(H^2) per step)."""

    def __init__(self, zoo, rng, budget, floor=0.1):
        super().__init__(zoo, rng, budget)
        self.floor = check_floor(floor)
        # expected 0-1 loss of each model under the zoo average, averaged over models
        g = zoo.right_under("arithmetic")  # (H, N)
        self.score = np.clip(1.0 - g, 0.0, None).mean(axis=0)
        H = zoo.H
        self.sL, self.sb = np.zeros(H), np.zeros(H)
        self.LL, self.Lb, self.bb = np.zeros((H, H)), np.zeros((H, H)), np.zeros((H, H))
        self.pb = _NormalProbBest(H, rng)
        self._q = None  # this step's proposal, kept for observe (the running LURE needs the q of the point drawn)

    def next_point(self):
        return draw_index(self.q_vector(), self.rng)

    def q_vector(self):
        self._q = defensive_q(self.score, self.remaining, self.floor)
        return self._q

    def observe(self, i, y):
        N, j = self.zoo.N, self.m + 1
        L = (self.zoo.preds[:, i] != y).astype(float)
        q = self._q if self._q is not None else self.q_vector()  # observe without next_point / q_vector first
        self._q = None  # the proposal changes with the remaining pool
        a = 1.0 / ((N - j + 1) * float(q[i])) - 1.0
        b = a * L / (N - j) if j < N else np.zeros_like(L)
        self.sL += L
        self.sb += b
        self.LL += np.outer(L, L)
        self.Lb += np.outer(L, b)
        self.bb += np.outer(b, b)
        super().observe(i, y)

    def summary(self):
        M, N = self.m, self.zoo.N
        k = N - M
        risk = (self.sL + k * self.sb) / M
        acc = 1.0 - risk
        chosen = _argmax_random_ties(acc, self.rng)
        if M < 2:
            top = (acc >= acc.max() - 1e-12).astype(float)
            return chosen, top / top.sum()
        tt = self.LL + k * (self.Lb + self.Lb.T) + k * k * self.bb
        cov = (tt - M * np.outer(risk, risk)) / (M - 1) / M * (1 - M / N)
        return chosen, self.pb(acc, cov)


_EPS_MIN = 1e-300
# A consensus worth more labels than this could never be overruled, and its log-weights (times log gamma)
# overflow: refused as prior_labels = inf is.
_PRIOR_LABELS_MAX = 1e12


class _ModelSelector(_Strategy):
    """Okanovic et al. 2025, vectorised: the expected posterior entropy of every candidate point
    and hypothetical label comes from two weighted scatters of the model posterior, (N, C) each."""

    greedy = True

    def __init__(self, zoo, rng, budget, eps=None, eps_grid=None, tune_horizon=50, eps_criterion="final",
                 _tuner=None):
        super().__init__(zoo, rng, budget)
        tune_horizon = check_int(tune_horizon, "tune_horizon", low=1)
        # checked whether or not it is used, as eps_grid and tune_horizon are (a typo was stored silently)
        check_choice(eps_criterion, "eps_criterion", ("along", "final"))
        if eps_grid is not None:
            grid = as_array(eps_grid, "eps_grid", ndim=1)
            if grid.size == 0 or grid.dtype == bool or not np.issubdtype(grid.dtype, np.number):
                raise ValidationError("eps_grid", f"must be a non-empty sequence of eps values, got {eps_grid!r}")
            raise_if_any(~((grid >= _EPS_MIN) & (grid < 0.5)), "eps_grid", f"must be in [{_EPS_MIN:g}, 0.5)", grid)
        if eps is None:
            eps = tune_eps_majority_vote(zoo, rng, min(budget, tune_horizon), eps_grid, make=_tuner,
                                         criterion=eps_criterion)
        eps = check_real(eps, "eps", allow_inf=True)
        if not 0 < eps < 0.5:
            raise ValidationError("eps", f"must be in (0, 0.5) so that gamma = (1 - eps)/eps > 1, got {eps}")
        if eps < _EPS_MIN:
            # gamma near the float range: the expected-entropy scores become NaN (numpy's "a cannot be empty" from
            # the tie-break at eps = 1e-308); down to 1e-300 every strategy runs (one label is then decisive)
            raise ValidationError("eps", f"must be >= {_EPS_MIN:g} (gamma = (1 - eps)/eps within the float range), "
                                         f"got {eps:g}")
        self.eps = eps
        self.log_gamma = np.log((1 - eps) / eps)
        self.logw = np.full(zoo.H, -np.log(zoo.H))
        self.flat = zoo.onehot

    def posterior(self):
        w = np.exp(self.logw - self.logw.max())
        return w / w.sum()

    def _expected_entropy(self, cand):
        """Posterior entropy now, and its expected value after labelling each candidate point (label
        uniform over classes)."""
        w = self.posterior()
        with np.errstate(divide="ignore", invalid="ignore"):
            wlogw = np.where(w > 0, w * np.log(w), 0.0)
        N, C = self.zoo.N, self.zoo.C
        st = self.flat @ np.column_stack([w, wlogw])  # both scatters in one pass over the sparse one-hot
        s = st[:, 0].reshape(N, C)[cand]
        t = st[:, 1].reshape(N, C)[cand]
        g = np.exp(self.log_gamma)
        Z = 1.0 + (g - 1.0) * s
        Hc = np.log(Z) - (wlogw.sum() + (g - 1.0) * t + self.log_gamma * g * s) / Z
        return -float(wlogw.sum()), Hc.mean(axis=1)  # p(c) = 1/C

    def next_point(self):
        cand = self.remaining & self.zoo.disagree
        if not cand.any():  # all-agree points only after the informative ones (they cannot separate models)
            return self._uniform_remaining()
        score = self._expected_entropy(cand)[1]
        idx = np.flatnonzero(cand)
        return int(idx[_argmax_random_ties(-score, self.rng, tol=1e-12)]), np.nan

    def q_vector(self):
        return self._uniform_once_all_agree_q()

    def observe(self, i, y):
        self.logw = self.logw + self.log_gamma * (self.zoo.preds[:, i] == y)
        self.logw -= self.logw.max()
        super().observe(i, y)

    def summary(self):
        w = self.posterior()
        return _argmax_random_ties(w, self.rng, tol=1e-12 * w.max()), w


EPS_GRID = (0.35, 0.38, 0.41, 0.44, 0.46, 0.48, 0.49)


def _majority_vote(zoo: _Zoo, rng) -> np.ndarray:
    """The zoo's majority vote per point, ties broken by the zoo's mean probability, then at random.

    ``votes.argmax`` broke tied votes towards the lowest class number, so renumbering the classes
    changed the tuned eps (and every trace after it): a label-free tuning must not depend on what
    the classes are called. Vote counts differ by at least 1 and the mean probability lies in [0, 1],
    so adding half of it only orders tied classes. Ties left after that (models with hard 0/1
    outputs) take a random draw, and only then is the random stream used."""
    votes = np.asarray(zoo.onehot.sum(axis=1)).reshape(zoo.N, zoo.C)  # (N, C) vote counts
    key = votes + 0.5 * zoo.pbar
    tied = key == key.max(axis=1, keepdims=True)
    if (tied.sum(axis=1) > 1).any():
        key = np.where(tied, 1.0 + rng.random(key.shape), 0.0)
    return key.argmax(axis=1)


def tune_eps_majority_vote(zoo: _Zoo, rng, horizon: int, grid=None, make=None, criterion: str = "final") -> float:
    """Label-free eps for Model Selector: run it against the zoo's majority vote as a noisy oracle
    for each eps in ``grid`` and keep the best-scoring eps (median of the tied best).

    ``criterion`` says how a run scores its eps:

    * ``"final"`` (default): the final pick's agreement with the majority vote on the whole pool,
      as the CODA authors' re-implementation of the tuning does;
    * ``"along"``: the share of the run's steps at which the pick is a model the majority vote rates
      best (one that agrees with it most), the "average success" metric of the original
      implementation (whose default compares success curves averaged over many realisations with the
      other strategies' at the step they first reach 0.9: hundreds of runs per eps).

    The original search tries eps = 0.35, 0.36, ..., 0.49 on 1,000 random realisations of up to
    1,000 points, each labelled up to 1,000 times by the majority vote; here it is ``len(grid)``
    runs of ``horizon`` steps on the whole pool, so a call stays well under a second. Neither sees
    the true labels, and Model Selector's regret swings widely with eps on noisy zoos
    (``benchmarks/active_selection.py`` part G).

    The pseudo-oracle is the majority vote with ties broken by the zoo's mean probability
    (:func:`_majority_vote`). Until 2026-11-30 ties went to the lowest class index, so the tuned eps
    depended on how the classes were numbered, and on synthetic_prior (its earlier zoo, other
    draws of the models than today's; 12 tied points, the most
    contested, which Model Selector labels first) "final" chose eps = 0.44 on every seed: cumulative
    regret over 100 labels 337 against random labels' 312 (100 seeds). With the tie rule: 195, and
    the suite mean of Model Selector fell from 163 to 144 (digits_noise 80 -> 88, the other tasks
    unchanged or within 1). "along" had been the better criterion under the old rule (suite mean
    127, synthetic_prior 173 over 400 seeds; but worse on 21 held-out zoos, 199 -> 212, and on 14
    zoos of other generators, 232 -> 244); under the new one it gives 297 on synthetic_prior (30
    seeds, random 303), so "final" stays the default. ``auto`` tunes with "final".
    """
    check_choice(criterion, "criterion", ("along", "final"))
    grid = EPS_GRID if grid is None else tuple(grid)
    majority = _majority_vote(zoo, rng)
    agreement = (zoo.preds == majority[None]).mean(axis=1)
    vote_best = agreement >= agreement.max() - 1e-12  # the models the majority vote rates best
    scores = []
    for eps in grid:  # a loop over a handful of eps values, not over models
        sub_rng = np.random.default_rng(rng.integers(2**63))
        ms = _ModelSelector(zoo, sub_rng, horizon, eps=eps) if make is None else make(zoo, sub_rng, eps)
        held = 0
        for _ in range(horizon):
            i, _ = ms.next_point()
            ms.observe(i, int(majority[i]))
            if criterion == "along":
                held += bool(vote_best[ms.summary()[0]])
        scores.append(held / horizon if criterion == "along" else agreement[ms.summary()[0]])
    scores = np.asarray(scores)
    best = np.asarray(grid)[scores >= scores.max() - 1e-12]
    return float(best[(len(best) - 1) // 2])


# See _CodaPosterior.check_params
_CODA_MIN_PRIOR_STRENGTH = 0.1


class _CodaPosterior:
    """CODA's belief about which model is best (Kay et al. 2025), kept up to date label by label.

    Each model h has Dirichlet confusion rows alpha_h[c, :] (true class c). The prior is
    ``prior_strength * (B + consensus_weight * conf_h)`` where conf_h is h's soft confusion
    against the consensus (argmax of the zoo average), row-normalised, and B has 1 on the
    diagonal and 1/(C - 1) off it. A label y adds ``learning_rate`` to alpha_h[y, yhat_h]. Class
    posterior pi(c|x) is proportional to sum_h sum_s alpha_h[c, s] p_h(s|x) (unnormalised rows, as
    the authors do). P(best h | class c) = int pdf_hc prod_{h' != h} cdf_h'c, with theta_hc ~
    Beta(alpha_cc, sum_j alpha_cj - alpha_cc), on a ``grid_size``-point grid, normalised per class
    and mixed with the pool's class marginal of pi.

    A label changes only the confusion row of its class, so a step recomputes one class's Beta
    grids (H x grid) and adds one (H, N) gather to the class posterior: O(H (N + grid)), not the
    O(H N C^2 + H C grid) of starting over.
    """

    def __init__(self, zoo, prior_strength=2.0, consensus_weight=0.1, learning_rate=0.01, grid_size=256):
        prior_strength, consensus_weight, learning_rate, grid_size = self.check_params(
            prior_strength, consensus_weight, learning_rate, grid_size)
        self.zoo = zoo
        H, N, C = zoo.H, zoo.N, zoo.C
        cons = zoo.pbar.argmax(axis=1)
        conf = np.einsum("nc,hnj->hcj", np.eye(C)[cons], zoo.P)  # soft confusion against the consensus
        rows = conf.sum(axis=2, keepdims=True)
        conf = np.where(rows > 0, conf / np.where(rows > 0, rows, 1), 1.0 / C)
        B = np.full((C, C), 1.0 / max(C - 1, 1))
        np.fill_diagonal(B, 1.0)
        self.alpha = prior_strength * (B[None] + consensus_weight * conf)
        self.lr = learning_rate
        self.grid = (np.arange(grid_size) + 0.5) / grid_size
        self.refresh()

    @staticmethod
    def check_params(prior_strength, consensus_weight, learning_rate, grid_size):
        grid_size = check_int(grid_size, "grid_size", low=1)
        # a zero or negative Dirichlet parameter has no Beta marginal; NaN would spread silently
        prior_strength = check_real(prior_strength, "prior_strength", low=0)
        consensus_weight = check_real(consensus_weight, "consensus_weight", low=0)
        learning_rate = check_real(learning_rate, "learning_rate", low=0)
        for name, value in (("prior_strength", prior_strength), ("learning_rate", learning_rate)):
            if value == 0:
                raise ValidationError(name, "must be > 0, got 0")
        if prior_strength < _CODA_MIN_PRIOR_STRENGTH:
            # Every Beta parameter is at least prior_strength (labels only add to them). Below 0.1 a Beta puts
            # more than a few percent of its mass within 1e-16 of 1, where doubles cannot order the models'
            # accuracies: no grid, and not even Monte Carlo draws (58% tied at 1.0 for prior_strength 1e-6),
            # gives P(best) there. From 0.1 up the exact-cell integral in pdf_cdf agrees with 400k-draw Monte
            # Carlo to 0.011 (0.001 from 0.3); before it, 0.01 picked a model of accuracy 0.68 over one of 0.94
            # with every point labelled.
            raise ValidationError("prior_strength", f"must be >= {_CODA_MIN_PRIOR_STRENGTH:g}, got {prior_strength:g}",
                                  hint="below it the Beta marginals of accuracy pile their mass within rounding "
                                       "of 0 and 1, where P(best) cannot be computed in double precision")
        return prior_strength, consensus_weight, learning_rate, grid_size

    def refresh(self):
        """Everything derived from ``alpha``, computed from scratch (``observe`` updates it in place)."""
        self.pi_raw = np.einsum("hcs,hns->nc", self.alpha, self.zoo.P)  # unnormalised class posterior (N, C)
        self.a, self.b = self._beta()
        self.pdf, self.cdf = self.pdf_cdf(self.a, self.b)  # (H, C, G)
        self.term = self.term_of(self.pdf, self.cdf, 0)  # (H, C)

    def _beta(self):
        C = self.zoo.C
        a = self.alpha[:, np.arange(C), np.arange(C)]  # (H, C)
        b = self.alpha.sum(axis=2) - a
        return a, b

    def pdf_cdf(self, a, b):
        g = self.grid
        A, Bb = a[..., None], b[..., None]
        logpdf = (A - 1) * np.log(g) + (Bb - 1) * np.log1p(-g) - special.betaln(A, Bb)
        pdf = np.exp(logpdf)
        # CDF by the midpoint rule on the same grid (not betainc: 20x cheaper, and consistent with
        # the grid integral it feeds); renormalised so it ends at 1
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            cdf = np.cumsum(pdf, axis=-1) - 0.5 * pdf
            total = cdf[..., -1:] + 0.5 * pdf[..., -1:]
            cdf /= total
        # (b = 0, one class, has no Beta at all: it is left to the fallback below, as before)
        singular = np.broadcast_to(((A < 1) | (Bb < 1)) & (A > 0) & (Bb > 0), pdf.shape)[..., 0]
        if singular.any():
            # a < 1 or b < 1 (a prior_strength below about 1): the density is infinite at 0 or 1, and the
            # midpoint rule misses the mass piled up there (prior_strength 1e-6 reversed the ranking of a
            # Monte Carlo P(best)). Those rows only: each cell's exact mass (betainc at the cell edges, times
            # the grid size, so that it sums like the midpoint densities) and the exact CDF at the midpoints.
            # The default prior (strength 2) keeps a, b >= 2, where the midpoint rule is accurate.
            edges = np.arange(g.size + 1) / g.size
            a_s = np.broadcast_to(A, pdf.shape)[singular][:, :1]
            b_s = np.broadcast_to(Bb, pdf.shape)[singular][:, :1]
            pdf, cdf = np.array(pdf, copy=True), np.array(cdf, copy=True)
            pdf[singular] = np.diff(special.betainc(a_s, b_s, edges), axis=-1) * g.size
            cdf[singular] = special.betainc(a_s, b_s, g)
            total = np.where(singular[..., None], 1.0, total)
        bad = ~(np.isfinite(total[..., 0]) & (total[..., 0] > 0))  # a NaN or inf density makes the total so
        if bad.any():
            # A Beta too sharp for the grid (all its mass between two grid points: the density
            # underflows to 0 at every one) or too spread (a, b near 0: betaln overflows) gave 0/0.
            # Those rows only: the density normalised on the grid itself, from its log kernel.
            logk = (A - 1) * np.log(g) + (Bb - 1) * np.log1p(-g)
            logk = np.broadcast_to(logk, pdf.shape)[bad]
            pdf_b = np.exp(logk - special.logsumexp(logk, axis=-1, keepdims=True)) * g.size  # grid mean 1
            cdf_b = np.cumsum(pdf_b, axis=-1) - 0.5 * pdf_b
            cdf_b /= cdf_b[..., -1:] + 0.5 * pdf_b[..., -1:]
            pdf, cdf = np.array(pdf, copy=True), np.array(cdf, copy=True)
            pdf[bad], cdf[bad] = pdf_b, cdf_b
        return pdf, cdf

    @staticmethod
    def term_of(pdf, cdf, axis_models):
        # int pdf_h prod_{h' != h} cdf_h', the product of the others as exp(sum of logs - own log)
        logc = np.log(np.maximum(cdf, 1e-300))
        others = np.exp(logc.sum(axis=axis_models, keepdims=True) - logc)
        return (pdf * others).sum(axis=-1)

    @staticmethod
    def per_class(term, axis_models):
        # P(best | class c), normalised over models within each class (grid error cancels)
        return term / np.maximum(term.sum(axis=axis_models, keepdims=True), 1e-300)

    def class_posterior(self):
        return self.pi_raw / self.pi_raw.sum(axis=1, keepdims=True)

    def prob_best(self, prior_c=None):
        if prior_c is None:
            prior_c = self.class_posterior().mean(axis=0)
        pb = self.per_class(self.term, 0) @ prior_c
        return pb / pb.sum()

    def observe(self, i, y):
        zoo = self.zoo
        pred = zoo.preds[:, i]
        self.alpha[np.arange(zoo.H), y, pred] += self.lr
        # pi_raw[n, y] = sum_h sum_s alpha_h[y, s] p_h(s | n): each model's alpha_h[y, yhat_h] moved by lr
        self.pi_raw[:, y] += self.lr * zoo.P[np.arange(zoo.H), :, pred].sum(axis=0)
        # only row y changed: its Beta parameters, grids and P(best | class y)
        a_y = self.alpha[:, y, y]
        b_y = self.alpha[:, y, :].sum(axis=1) - a_y
        self.a[:, y], self.b[:, y] = a_y, b_y
        self.pdf[:, y], self.cdf[:, y] = self.pdf_cdf(a_y, b_y)
        self.term[:, y] = self.term_of(self.pdf[:, y], self.cdf[:, y], 0)

    def information_gain(self, cand: np.ndarray) -> np.ndarray:
        """Expected information gain (bits) about the best model from labelling each point of ``cand``:
        H(P(best)) minus its expectation over the label, drawn from the class posterior pi. The look-ahead
        adds 1 to the label's confusion row (the authors' damping) and keeps the class marginal fixed.

        Written for BLAS, not as the (candidates, C, H, grid) look-ahead arrays of a direct transcription:
        under label c only class c's Beta of each model moves, to (a + 1, b) if it predicted c and to
        (a, b + 1) otherwise, so sum_h log cdf_h on the grid is the all-"otherwise" sum plus a (C, K, H) @ (C, H, G)
        product, and int pdf_h prod_{h' != h} cdf_h' = sum_g exp(that sum) pdf_h / cdf_h is another. The
        per-class normalisation of P(best | c) cancels the per-(c, candidate) scale taken out before exp.
        Same values as the direct form to rounding (1e-15 on gains of 1e-4 to 1e-1); 15-40x faster.
        """
        zoo, C = self.zoo, self.zoo.C
        pi = self.class_posterior()
        prior_c = pi.mean(axis=0)
        pb = self.prob_best(prior_c)
        h0 = entropy(pb) / np.log(2)
        out = np.empty(cand.size)
        pdfA, cdfA = self.pdf_cdf(self.a + 1, self.b)  # (H, C, G): the model predicted the label
        pdfB, cdfB = self.pdf_cdf(self.a, self.b + 1)  # it did not
        cdfA, cdfB = np.maximum(cdfA, 1e-300), np.maximum(cdfB, 1e-300)  # the clamp of term_of
        logA, logB = np.log(cdfA), np.log(cdfB)
        ratio_a = (pdfA / cdfA).transpose(1, 2, 0)  # (C, G, H) for the products below
        ratio_b = (pdfB / cdfB).transpose(1, 2, 0)
        base = logB.sum(axis=0)[:, None, :]  # (C, 1, G)
        step = (logA - logB).transpose(1, 0, 2)  # (C, H, G)
        old_c = self.per_class(self.term, 0).T * prior_c[:, None]  # (C, H): class c's share of P(best)
        G = self.grid.size
        chunk = max(1, _CODA_CHUNK_ELEMENTS // (C * max(G, zoo.H)))  # bounds the (C, chunk, G) arrays
        for start in range(0, cand.size, chunk):
            ks = cand[start:start + chunk]
            agree = (zoo.preds[:, ks].T[None] == np.arange(C)[:, None, None]).astype(float)  # (C, K, H)
            s = base + agree @ step  # (C, K, G): sum over models of log cdf under each label
            e = np.exp(s - s.max(axis=2, keepdims=True))
            new = np.where(agree > 0, e @ ratio_a, e @ ratio_b)  # (C, K, H), up to a scale per (c, k)
            new /= np.maximum(new.sum(axis=2, keepdims=True), 1e-300)
            pb_new = pb - old_c[:, None] + prior_c[:, None, None] * new
            pb_new = np.clip(pb_new, 0, None)
            pb_new /= pb_new.sum(axis=2, keepdims=True)
            out[start:start + chunk] = h0 - (pi[ks] * (entropy(pb_new) / np.log(2)).T).sum(axis=1)
        return out


# Elements of one (C, chunk, grid) or (C, chunk, H) array of CODA's information gain (16 MB of float64): 819
# candidates at 10 classes and a 256-point grid; fewer at more classes (the direct (chunk, C, H, grid) form
# needed 16 candidates per chunk for the same memory and was 15-40x slower)
_CODA_CHUNK_ELEMENTS = 2**21


class _Coda(_Strategy):
    """CODA (Kay et al. 2025), checked against the authors' released code (github.com/justinkay/coda).

    The posterior is :class:`_CodaPosterior`. The authors' defaults: consensus_weight = 1 - 0.9 =
    0.1, prior_strength (their "multiplier") = 2, learning_rate = 0.01. The consensus thus counts as
    consensus_weight / learning_rate = 10 labels per confusion row, not hundreds (an earlier
    reading here put the consensus at full weight, 20x too strong, and CODA never left the
    consensus favourite). The next point maximises the expected information gain about the best
    model over ``n_candidates`` sampled points; its look-ahead adds 1 to the confusion row (the
    published damping). Cost per step: O(n_candidates * C * H * grid_size) multiply-adds in BLAS products
    (:meth:`_CodaPosterior.information_gain`), in chunks of candidates whose arrays stay near 16 MB each.
    """

    greedy = True

    def __init__(self, zoo, rng, budget, prior_strength=2.0, consensus_weight=0.1, learning_rate=0.01,
                 n_candidates=64, grid_size=256):
        super().__init__(zoo, rng, budget)
        self.n_candidates = check_int(n_candidates, "n_candidates", low=1)
        # One class: every model is right on every point, and a confusion row has no off-diagonal
        # mass, so the Beta marginal of accuracy is undefined (b = 0, NaN). All models are tied.
        self.tied = zoo.C < 2
        params = _CodaPosterior.check_params(prior_strength, consensus_weight, learning_rate, grid_size)
        self.post = None if self.tied else _CodaPosterior(zoo, *params)

    @property
    def alpha(self):
        return self.post.alpha

    def next_point(self):
        zoo, post = self.zoo, self.post
        cand = np.flatnonzero(self.remaining & zoo.disagree)
        if cand.size == 0:
            return self._uniform_remaining()
        if cand.size > self.n_candidates:
            cand = self.rng.choice(cand, self.n_candidates, replace=False)
        eig = post.information_gain(cand)
        return int(cand[_argmax_random_ties(eig, self.rng, tol=1e-12)]), np.nan

    def q_vector(self):
        return self._uniform_once_all_agree_q()

    def observe(self, i, y):
        if not self.tied:
            self.post.observe(i, y)
        super().observe(i, y)

    def summary(self):
        pb = np.full(self.zoo.H, 1.0 / self.zoo.H) if self.tied else self.post.prob_best()
        return _argmax_random_ties(pb, self.rng, tol=1e-12), pb


def geometric_consensus(probs, clip: float = 1e-6) -> np.ndarray:
    """The zoo's logarithmic opinion pool: pi(c | x) proportional to exp(mean_h log p_h(c | x)).

    Unlike the arithmetic average, a class that any confident model all but rules out gets little
    mass (a product of experts: each model can veto), so the pool is sharper where models are
    sure and stays flat where the crowd is only diffusely split. ``clip`` (in (0, 1)) bounds the
    veto of a probability of exactly zero.

    ``probs`` is a PredictionLog or an array (n_models, n_points, n_classes), checked as
    :func:`select_model` checks it (finite probabilities summing to 1 over classes).

    Examples
    --------
    Two models, one point: the pool is the normalised geometric mean of their probabilities.

    >>> import numpy as np
    >>> from workbench.active import geometric_consensus
    >>> geometric_consensus(np.array([[[0.9, 0.1]], [[0.5, 0.5]]])).round(3)
    array([[0.75, 0.25]])

    A model that rules a class out vetoes it, where the arithmetic average keeps it at 0.2:

    >>> probs = np.array([[[0.6, 0.4, 0.0]], [[0.2, 0.4, 0.4]]])
    >>> geometric_consensus(probs).round(3)
    array([[0.464, 0.535, 0.001]])
    >>> probs.mean(axis=0).round(3)
    array([[0.4, 0.4, 0.2]])
    """
    from ..data import PredictionLog

    if not isinstance(probs, PredictionLog):
        check_frame_columns(probs, "probs")
        probs = as_array(probs, "probs", ndim=3)  # named here as in this signature, not "prediction_log"
    probs = _as_zoo_probs(probs)[0]
    clip = check_real(clip, "clip")  # float() accepted "0.5" and True
    if not 0 < clip < 1:
        raise ValidationError("clip", f"must be in (0, 1), got {clip}")
    return _geometric_pool(probs, clip)


def _geometric_pool(probs: np.ndarray, clip: float = 1e-6) -> np.ndarray:
    """geometric_consensus on an already validated (n_models, n_points, n_classes) array."""
    return special.softmax(np.log(np.clip(probs, clip, 1.0)).mean(axis=0), axis=1)  # (N, C)


CONSENSUS_POOLS = ("geometric", "arithmetic")


def consensus_accuracy(prediction_log, pool: str = "geometric") -> pd.Series:
    """Each model's expected accuracy on the pool if the labels followed the zoo's consensus (no labels used).

    For model h with hard predictions yhat_h(x), the mean over the pool's points of pi(yhat_h(x) | x),
    where pi is the zoo's consensus: the geometric pool of :func:`geometric_consensus` (pi(c | x)
    proportional to exp(mean_h log p_h(c | x)), probabilities clipped at 1e-6) or the arithmetic zoo
    average (mean_h p_h(c | x)). With ``pool="geometric"`` this is the score behind ``auto``'s prior in
    :func:`select_model`, computed by the same code.

    Parameters
    ----------
    prediction_log : PredictionLog or array (n_models, n_points, n_classes)
        Every candidate's class probabilities on the same pool, checked as :func:`select_model`
        checks them (finite, in [0, 1], summing to 1 over classes). Labels, if the log has any,
        are not used.
    pool : {"geometric", "arithmetic"}
        Which consensus the labels are assumed to follow.

    Returns
    -------
    pandas.Series
        One value in [0, 1] per model, indexed by the model names (``model_0``, ``model_1``, ... for
        an array), named ``consensus_accuracy``.

    Notes
    -----
    What it is good for: a label-free ranking of the candidates before any label is bought, for a
    first pick or a prior. :func:`select_model`'s notes (item 1 of ``auto``) report its record: with
    no labels, the top model by the geometric score had lower regret than the top model by the
    arithmetic one on 29 zoos of the task recipes (2.8 against 4.6 accuracy points on average).

    What it is not: an estimate of accuracy. It measures agreement with the crowd, weighted by the
    crowd's confidence, and every model is part of the crowd it is scored against. A model that is
    right where most models are wrong is scored down on exactly those points, and a group of
    similar models props up its own members. :func:`select_model`'s notes measure the cost: on the
    suite's two synthetic tasks ``auto``'s label-free prior, which ranks the models by this
    geometric score, puts four and six models above the best. ``auto`` therefore weighs the score
    as a limited number of labels (``diagnostics["prior_labels"]``) that the real labels overrule.
    The values come with no uncertainty and no guarantee; to rank models on evidence, buy labels
    (:func:`select_model`) and estimate the accuracies from them (:func:`estimate_accuracies`).

    Examples
    --------
    Three models, one point. Model ``c`` rules class 0 out, so the geometric pool gives almost no
    mass to the class ``a`` predicts, while the arithmetic average, diffusely split, ranks ``c`` first:

    >>> import numpy as np
    >>> from workbench.active import consensus_accuracy
    >>> from workbench.data import PredictionLog
    >>> probs = np.array([[[0.7, 0.2, 0.1]], [[0.1, 0.5, 0.4]], [[0.0, 0.3, 0.7]]])
    >>> log = PredictionLog(probs=probs, model_names=["a", "b", "c"])
    >>> consensus_accuracy(log).round(3)
    a    0.007
    b    0.502
    c    0.491
    Name: consensus_accuracy, dtype: float64
    >>> consensus_accuracy(log, pool="arithmetic").round(3).tolist()
    [0.267, 0.333, 0.4]
    """
    check_choice(pool, "pool", CONSENSUS_POOLS)
    probs, names, _ = _as_zoo_probs(prediction_log)
    ea = _expected_accuracy(_Zoo(probs).right_under(pool))
    return pd.Series(ea, index=list(names), name="consensus_accuracy")


def _expected_accuracy(right: np.ndarray) -> np.ndarray:
    """(H,) mean over the pool of ``_Zoo.right_under(pool)``: consensus_accuracy's values and auto's prior score."""
    return right.mean(axis=1)


# Gains are differences of O(1) entropies: below this they are rounding noise, not information.
_GAIN_NOISE = 1e-12


class _Auto(_ModelSelector):
    """Ours: Model Selector's posterior over the best model, seeded by the zoo's geometric consensus with a
    strength set by a variance ratio and pooled with CODA's belief as part of the prior, with a sampled
    (sharpened) information-gain acquisition and a pick that moves only on evidence. See :func:`select_model`
    for the rationale and the measured standing."""

    greedy = False

    def __init__(self, zoo, rng, budget, eps=None, eps_grid=None, tune_horizon=50, prior_labels=None,
                 prior_sigma=0.06, prior_cap=0.25, sharpness=12.0, floor=0.05, hysteresis=1.0, coda_weight=2.0,
                 diffuse_sharpness=100.0, diffuse_below=0.3, switch_z=0.5, switch_debias=True, _settle=True):
        # _settle: report the posterior argmax once the evidence is complete (see summary). Off in the
        # eps-tuning runs, so that the eps chosen, and every pick made from it, is as before the rule.
        self._settle = _settle
        if prior_labels is not None:  # finite: an infinite prior could never be overruled (and gave NaN)
            prior_labels = check_real(prior_labels, "prior_labels", low=0)
            if prior_labels > _PRIOR_LABELS_MAX:  # finite but as bad: 1e308 overflowed the log-weights
                raise ValidationError("prior_labels", f"must be <= {_PRIOR_LABELS_MAX:g} labels' worth, got "
                                                      f"{prior_labels:g}")
        self.prior_sigma = check_real(prior_sigma, "prior_sigma", allow_inf=True)
        if not self.prior_sigma > 0:
            raise ValidationError("prior_sigma", f"must be > 0, got {prior_sigma}")
        self.prior_cap = check_real(prior_cap, "prior_cap", allow_inf=True)
        if not 0 < self.prior_cap <= 1:
            raise ValidationError("prior_cap", f"must be in (0, 1], got {prior_cap}")
        self.sharpness = check_real(sharpness, "sharpness", allow_inf=True)
        if not self.sharpness > 0:
            raise ValidationError("sharpness", f"must be > 0, got {sharpness}")
        if diffuse_sharpness is not None:
            diffuse_sharpness = check_real(diffuse_sharpness, "diffuse_sharpness", allow_inf=True)
            if not diffuse_sharpness > 0:
                raise ValidationError("diffuse_sharpness", f"must be > 0 (or None: off), got {diffuse_sharpness}")
        self.diffuse_sharpness = diffuse_sharpness
        self.diffuse_below = check_real(diffuse_below, "diffuse_below")
        if not 0 < self.diffuse_below <= 1:
            raise ValidationError("diffuse_below", f"must be in (0, 1], got {diffuse_below}")
        self.floor = check_floor(floor)
        self.hysteresis = check_real(hysteresis, "hysteresis", allow_inf=True)
        if not self.hysteresis >= 0:
            raise ValidationError("hysteresis", f"must be >= 0, got {hysteresis}")
        self.switch_z = check_real(switch_z, "switch_z", low=0)
        self.switch_debias = check_bool(switch_debias, "switch_debias")
        self.coda_weight = check_real(coda_weight, "coda_weight", low=0)
        if self.coda_weight > _PRIOR_LABELS_MAX:  # 1e308 overflowed the pooled log-weights (NaN)
            raise ValidationError("coda_weight", f"must be <= {_PRIOR_LABELS_MAX:g}, got {self.coda_weight:g}")
        # eps is tuned against the majority vote by running *this* strategy (prior and acquisition
        # included), on its own posterior: the pooled CODA belief is left out of the tuning runs, so
        # eps is what it was before the pooling (and the tuning stays cheap).
        super().__init__(zoo, rng, budget, eps=eps, eps_grid=eps_grid, tune_horizon=tune_horizon,
                         _tuner=lambda z, r, e: _Auto(z, r, budget, eps=e, prior_labels=prior_labels,
                                                      prior_sigma=prior_sigma, prior_cap=prior_cap,
                                                      sharpness=sharpness, floor=floor, hysteresis=hysteresis,
                                                      coda_weight=0.0, diffuse_sharpness=diffuse_sharpness,
                                                      diffuse_below=diffuse_below, switch_z=switch_z,
                                                      switch_debias=switch_debias, _settle=False))
        # Consensus prior: each model's expected accuracy on the pool if labels followed the geometric
        # pool of the zoo, log w_h = log(gamma) * prior_labels * (ea_h - max ea).
        right = zoo.right_under("geometric")
        ea = _expected_accuracy(right)  # what consensus_accuracy(..., pool="geometric") returns
        if prior_labels is None:
            prior_labels = self._prior_strength(right, ea)
        self.prior_labels = prior_labels
        self.prior = self.log_gamma * self.prior_labels * (ea - ea.max())
        # CODA's belief is pooled as part of the prior, so only when there is a prior to pool into,
        # and only with two classes or more (one class has no Beta marginal of accuracy).
        use_coda = self.coda_weight > 0 and self.prior_labels > 0 and zoo.C >= 2
        self.coda = _CodaPosterior(zoo) if use_coda else None
        self.logw = self.prior.copy()
        self.pick = None
        self.right = np.zeros(zoo.H, np.int64)  # labels each model got right

    @property
    def coda_weight_used(self) -> float:
        """The pool's weight in effect: 0 when the pool does not apply (no prior, one class)."""
        return self.coda_weight if self.coda is not None else 0.0

    def _prior_strength(self, right, ea):
        """How many labels the consensus is worth, from a variance ratio: if the consensus's accuracies
        err by ``prior_sigma`` on the points where models disagree (the only points that separate
        them), and one such label has variance a(1 - a) (a: the favourite's expected accuracy there),
        the consensus counts as k = a(1 - a) / sigma^2 labels. Differences in pool accuracy are d
        times differences on those points (d: their share of the pool), so the multiplier of
        (ea_h - max ea) is k / d; it is capped at ``prior_cap`` times the number of such points (a
        prior worth most of the informative pool could never be overruled)."""
        dis = self.zoo.disagree
        if not dis.any():
            return 0.0  # every model predicts the same labels: nothing to prefer
        a = float(right[int(ea.argmax()), dis].mean())
        with np.errstate(over="ignore"):  # inf beyond ~1e154: the consensus is then worth 0 labels, as at inf
            var = float(np.float64(self.prior_sigma) ** 2)  # 0.0 below ~1e-162: then worth the cap
        k = a * (1.0 - a) / var if var > 0 else (np.inf if a * (1.0 - a) > 0 else 0.0)
        return float(min(k / dis.mean(), self.prior_cap * dis.sum()))

    def current_sharpness(self) -> float:
        """The exponent of this step's draw: ``diffuse_sharpness`` while the posterior's largest probability is
        below ``diffuse_below``, else ``sharpness``. The posterior alone decides (not the CODA-pooled belief), as for
        the rest of the acquisition, so :func:`estimate_accuracies` replays it without the pool."""
        if self.diffuse_sharpness is not None and self.posterior().max() < self.diffuse_below:
            return self.diffuse_sharpness
        return self.sharpness

    def _candidate_q(self):
        """The remaining points where models disagree and their acquisition probabilities (None, None when
        none is left: the next point is then uniform over the rest)."""
        cand = self.remaining & self.zoo.disagree
        if not cand.any():
            return None, None
        idx = np.flatnonzero(cand)
        h_now, h_next = self._expected_entropy(cand)
        g = np.clip(h_now - h_next, 0.0, None)
        sharpness = self.current_sharpness()
        gain = g ** sharpness
        top = gain.max()
        if not (np.isfinite(top) and top >= np.finfo(float).tiny) and g.max() > _GAIN_NOISE:
            # the power under- or overflowed (large sharpness): every point would get the same weight and
            # the draw would fall back to uniform. Dividing by the largest gain first keeps the proportions.
            gain = (g / g.max()) ** sharpness
        return idx, defensive_q(gain, np.ones(idx.size, bool), self.floor)

    def next_point(self):
        idx, q = self._candidate_q()
        if idx is None:
            return self._uniform_remaining()
        k, qk = draw_index(q, self.rng)
        return int(idx[k]), qk

    def q_vector(self):
        idx, q = self._candidate_q()
        if idx is None:
            return self._uniform_q()
        out = np.zeros(self.zoo.N)
        out[idx] = q
        return out

    def pooled(self):
        """The reported belief: a logarithmic pool of this posterior and CODA's P(best), the latter
        to the power coda_weight * k / (k + m) (k: ``prior_labels``, m: labels so far), normalised.

        CODA's belief is mostly consensus (its labels add 0.01 to a confusion row), so it is
        pooled as part of the prior: in full before any label, then fading with the prior's share
        k / (k + m) of the evidence. The acquisition still uses :meth:`posterior` alone."""
        if self.coda is None:
            return self.posterior()
        lw = self.pooled_log()
        w = np.exp(lw - lw.max())
        return w / w.sum()

    def pooled_log(self):
        """Unnormalised log of :meth:`pooled` (exact where the normalised weights underflow)."""
        if self.coda is None:
            return self.logw
        pb = self.coda.prob_best()
        beta = self.coda_weight * self.prior_labels / (self.prior_labels + self.m)
        return self.logw + beta * np.log(np.maximum(pb, 1e-300))

    def summary(self):
        w = self.pooled()
        best = _argmax_random_ties(w, self.rng, tol=1e-12 * w.max())
        # Switch only when the challenger leads by more than ``hysteresis`` agreements' worth of evidence.
        if self.pick is None:
            self.pick = best
        else:
            if w[self.pick] > 1e-300:
                lead = np.log(w[best] / w[self.pick])
            else:  # the pick's weight underflowed: its lead from the log weights (w clamped at 1e-300 capped it at 690)
                lw = self.pooled_log()
                lead = lw[best] - lw[self.pick]
            # the evidence threshold is never below the hysteresis: it and the selection correction (O(H N) passes)
            # are computed only past it
            if self.switch_debias and lead > self.hysteresis * self.log_gamma:
                lead -= self.selection_bias(best) * self.log_gamma
            if lead > self.hysteresis * self.log_gamma and lead > self.switch_threshold(best) * self.log_gamma:
                self.pick = best
        # Hysteresis guards against noise in evidence still to come. Once no unlabelled point where
        # models disagree remains, nothing left can separate them: the labels then rank the models'
        # pool accuracies exactly (every model is right on the points where all agree, or all wrong),
        # so the pick is the most accurate model, whatever the prior says (the current pick stays if
        # it is tied for the top; among tied models, the posterior decides).
        if self._settle and not (self.remaining & self.zoo.disagree).any():
            top = self.right >= self.right.max()
            if not top[self.pick]:
                self.pick = int(np.flatnonzero(top)[np.argmax(w[top])])
        return self.pick, w

    def _pair_points(self, challenger: int):
        """The pool points where the pick and ``challenger`` disagree (indices) and which of them are labelled:
        the one definition of the pair's evidence behind :meth:`selection_bias` and :meth:`switch_threshold`."""
        dis = np.flatnonzero(self.zoo.preds[self.pick] != self.zoo.preds[challenger])
        return dis, ~self.remaining[dis]

    def selection_bias(self, challenger: int) -> float:
        """How much of the challenger's labelled lead over the pick, in agreements, the choice of points explains.

        On the N pool points where the two models disagree, let mu_i be the expected outcome of a label at i
        (challenger right minus pick right) under the posterior's own label model: P(y = c) is
        (1 - eps) s_c + eps / (C - 1) (1 - s_c), with s_c the posterior mass on the models predicting c. With n
        of those points labelled, the returned value is sum over the labelled of mu_i minus n/N times the sum
        over all N: what the labelled points were expected to contribute beyond a uniform sample of the same
        size. Subtracting it from the labelled lead is the difference estimator of survey sampling, n/N times
        the pool difference predicted by mu plus the labelled residuals d_i - mu_i.

        Why: the draw favours points where the posterior's leader is in the minority (their labels are the
        most informative), which are the points where it is more often wrong, so the pair's labelled counts
        understate the leader. Under uniform sampling within the pair the correction has mean 0 whatever mu
        is, so it only removes the part of the bias that mu explains. Inverse-probability weights would
        remove all of it but were too noisy to steer a pick (see :func:`select_model`)."""
        zoo = self.zoo
        dis, labelled = self._pair_points(challenger)
        n = int(labelled.sum())
        if n == 0 or n == dis.size:  # nothing labelled, or all of it: no selection to correct
            return 0.0
        w = self.posterior()
        preds = zoo.preds[:, dis]  # (H, N_pair): the mass on each of the two classes, O(H N_pair)
        s_chal = w @ (preds == zoo.preds[challenger, dis])
        s_pick = w @ (preds == zoo.preds[self.pick, dis])
        e = self.eps / (zoo.C - 1)  # C >= 2 wherever two models disagree
        mu = (1.0 - self.eps - e) * (s_chal - s_pick)  # the eps / (C - 1) terms of the two classes cancel
        return float(mu[labelled].sum() - n / dis.size * mu.sum())

    def switch_threshold(self, challenger: int) -> float:
        """The lead, in agreements, a challenger needs over the current pick: ``hysteresis``, or ``switch_z``
        standard errors of the pair's labelled count difference as an estimate of their difference on the pool,
        whichever is larger. With n labelled and N pool points where the two disagree (each a +-1 outcome),
        labelled counts estimate n/N of the pool difference with standard error sqrt(n (1 - n/N)) (uniform
        sampling within the pair, finite-population corrected): early and once the pair's points are all
        labelled the threshold is ``hysteresis``; in between the lead must grow with the evidence."""
        if not self.switch_z > 0:
            return self.hysteresis
        dis, labelled = self._pair_points(challenger)
        N, n = dis.size, int(labelled.sum())
        return max(self.hysteresis, self.switch_z * np.sqrt(n * (1.0 - n / N))) if N else self.hysteresis

    def observe(self, i, y):
        self.right += self.zoo.preds[:, i] == y
        if self.coda is not None:
            self.coda.observe(i, y)
        super().observe(i, y)


# ----------------------------------------------------------------------------------------------
# Public entry point
# ----------------------------------------------------------------------------------------------
def _as_zoo_probs(prediction_log):
    from ..data import PredictionLog

    if isinstance(prediction_log, PredictionLog):
        if prediction_log.probs is None:
            raise ValidationError("prediction_log", "model selection needs class probabilities (a classification "
                                                    "PredictionLog)")
        return prediction_log.probs, prediction_log.model_names, prediction_log
    check_frame_columns(prediction_log, "prediction_log")
    probs = as_array(prediction_log, "prediction_log", ndim=3)
    log = PredictionLog(probs=probs)  # validates ranges and row sums
    return log.probs, log.model_names, None


def _agreeing_oracle(oracle, labels, labelled):
    """``oracle`` (a :class:`LabelOracle`) held to a PredictionLog's labels on its labelled points: given both,
    the oracle's answer silently replaced the log's label. An array oracle is compared at once; a callable one
    as it answers (only the points queried are asked). A disagreement names the point and both labels."""
    def refuse(i, y):
        raise ValidationError("oracle", f"disagrees with the PredictionLog's labels on its labelled points: at point "
                                        f"{int(i)} the log has label {int(labels[i])} and the oracle {int(y)}",
                              hint="pass oracle=None to use the log's labels, or correct the one that is wrong (the "
                                   "oracle's answers would silently replace the log's labels)")

    if oracle._labels is not None:
        bad = labelled & (oracle._labels != labels)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValidationError("oracle", f"must agree with the PredictionLog's labels on its labelled points (its "
                                            f"answers would silently replace them)", int(bad.sum()), first,
                                  int(labelled.sum()), hint=f"at point {first} the log has label {int(labels[first])} "
                                  f"and the oracle {int(oracle._labels[first])}: pass oracle=None to use the log's "
                                  f"labels, or correct the one that is wrong")
        return oracle

    def checked(i):
        y = oracle(i)
        if labelled[i] and y != labels[i]:
            refuse(i, y)
        return y

    return checked


def _pool_fingerprint(probs: np.ndarray) -> str:
    """A hash of the zoo's probabilities (shape and float64 bytes): select_model stores it in the trace's
    diagnostics, and :func:`estimate_accuracies` refuses a prediction_log with other probabilities (a random
    run's q is 1 / n_remaining on any zoo, so its replay could not tell)."""
    import hashlib

    arr = np.ascontiguousarray(probs, dtype=np.float64)
    h = hashlib.blake2b(repr(arr.shape).encode(), digest_size=16)
    h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def select_model(prediction_log, oracle=None, budget=100, strategy="auto", random_state=None,
                 **options) -> SelectionTrace:
    """Pick the best of many classifiers on an unlabelled pool, buying ``budget`` labels.

    Parameters
    ----------
    prediction_log : PredictionLog or array (n_models, n_points, n_classes)
        Every candidate's class probabilities on the same pool.
    oracle : array (n_points,), callable or None
        Hidden labels (NaN / -1 markers are an error) or ``index -> label``. None uses the
        log's labels, which must then cover the whole pool. The index a callable receives is a
        point's *position* 0..n_points-1 on the pool axis, never a DataFrame's index label
        (``lambda i: labels.iloc[i]``, not ``labels[i]``); the trace's ``indices`` and the
        ``"index"`` column of ``to_frame()`` are positions too. A pandas ``oracle`` beside an array
        zoo is read by position too, whatever its index; beside per-model frames it must carry their
        index. With a PredictionLog that carries labels, an
        oracle must agree with them on the log's labelled points (a disagreement is refused, naming
        the first point and both labels; a callable is checked as it answers).
    budget : int
        Labels to acquire.
    strategy : {"auto", "random", "uncertainty", "margin", "active_testing", "model_selector", "coda"}
        See the module docstring for the baselines.
    random_state : int, Generator, SeedSequence or None
        The same int or SeedSequence gives the same trace.
    **options
        Strategy options: ``floor`` (active_testing, auto), ``eps`` / ``eps_grid`` /
        ``tune_horizon`` (model_selector, auto; eps None = tuned against the majority vote, with
        runs of ``min(budget, tune_horizon)`` steps: below 50 labels the tuned eps, and so the
        whole trace, depends on ``budget``, and the first b labels of a longer run can differ
        from a run with ``budget=b``; the tuning runs draw from the random stream, so passing the
        tuned ``diagnostics["eps"]`` back as ``eps`` gives the same eps but another trace),
        ``eps_criterion`` (model_selector: "final" or "along", how the tuning scores an eps; see
        :func:`tune_eps_majority_vote`), ``prior_strength``, ``consensus_weight``, ``learning_rate``, ``n_candidates``,
        ``grid_size`` (coda),
        ``prior_labels``, ``prior_sigma``, ``prior_cap``, ``sharpness``, ``hysteresis``,
        ``coda_weight``, ``diffuse_sharpness``, ``diffuse_below``, ``switch_z``, ``switch_debias`` (auto; see
        items 3 and 5 of the notes). ``eps`` must lie in [1e-300, 0.5), and ``prior_labels`` and
        ``coda_weight`` at most 1e12: beyond these the posterior's log-weights overflow (a prior
        worth 1e12 labels is already never overruled).

    Returns
    -------
    SelectionTrace

    Notes
    -----
    Order of the models. Permuting the models of the zoo permutes the outputs only in
    distribution, not seed for seed: ties between models (equal labelled accuracies early on,
    equal posterior weights) are broken at random by position, the Monte Carlo draws of the
    normal-approximation ``prob_best`` (random, uncertainty, margin, active_testing) are drawn
    per position, and Model Selector's eps tuning breaks ties the same way. Without ties, auto
    and coda give the permuted trace (up to rounding).

    ``auto`` (ours). It keeps Model Selector's posterior over which model is best (each label
    multiplies a model's weight by gamma = (1 - eps)/eps when the model got it right; eps tuned
    label-free against the majority vote by running ``auto`` itself) and changes five things:

    1. A consensus prior, with a strength set by a variance ratio. Before any label, model h's
       log weight is log(gamma) * prior_labels * (ea_h - max ea), where ea_h is h's expected
       accuracy on the pool if labels followed the zoo's *geometric* consensus
       (:func:`geometric_consensus`, pi(c|x) proportional to exp(mean_h log p_h(c|x))). The
       arithmetic zoo average is diffuse where a crowd of weak models splits its mass, and its
       expected accuracies then barely separate the models; in the logarithmic pool a confident
       model can veto a class, so the pool is sharp where some models are sure. With no labels,
       picking the top model by this score had lower regret than by the arithmetic average on 29
       zoos of the task recipes (2.8 against 4.6 accuracy points on average; 2.2 against 2.3 on
       the 17 real-data zoos, 3.5 against 7.9 on the 12 synthetic ones). ``prior_labels``
       (default None) is then set, not guessed: if the consensus's accuracies err by
       ``prior_sigma`` (default 0.06) on the points where models disagree, and one label there
       has variance a(1 - a) (a: the favourite's expected accuracy on them), the consensus is
       worth k = a(1 - a) / sigma^2 labels; divided by d, the share of the pool where models
       disagree (pool accuracy differences are d times differences there), and capped at
       ``prior_cap`` (default 0.25) times the number of such points. A noisy task (a near 0.5)
       thus trusts the crowd for 60-100 labels, a clean one for about 20. A number for
       ``prior_labels`` fixes the strength instead. The strength actually used is in
       ``trace.diagnostics["prior_labels"]``.
    2. Sampled acquisition. Instead of the argmax of the expected entropy reduction, the next
       point is drawn with probability proportional to that reduction raised to ``sharpness``
       (default 12), mixed with a uniform ``floor`` (default 0.05) over the points where models
       disagree. Greedy choices re-query the same kind of point and the agreement counts then
       describe a biased sample: Model Selector's pick drifts away after reaching the best. The
       sampled version still spends most labels where they separate the leaders, but keeps
       looking elsewhere. The exponent trades speed against holding: on the suite (100 seeds per
       task, 2026-12-02, without item 3's threshold and item 5's diffuse draw) sharper draws reach
       the best sooner (mean regret 52 at 6, 40 at 12, 34 at 24, 29 at 48, 27 at 100) but, from 24
       on, the pick can fall back after reaching it (lowest
       share of seeds on the best model afterwards 0.77 on digits and 0.79 on synthetic_prior at
       24, 0.63 and 0.70 on synthetic at 48 and 100; at 6, 0.86 on digits_noise, within 1.5 s.e.
       of 0.9; on the earlier shifted zoos 16 already fell to 0.86 on digits_noise):
       the draw labels first the points where the leader does worse, so the labelled counts
       understate it (in the synthetic_prior runs, on its earlier zoo, that had lost the best model
       at 140 labels with sharpness 100, the challenger led by 0-3 on the labelled points where the
       two differ, and the best model by 5-22 on the unlabelled ones). 12 is the sharpest that
       held, without items 3 and 5: lowest share 0.900-0.922 on every task over 400 seeds (0.898-0.922 since the shifted
       zoos hold the unshifted models: 0.898 on digits_noise, within one s.e. of 0.9). ``floor``
       keeps q > 0 on every point where models disagree, which :func:`estimate_accuracies` needs.
    3. A pick that moves only on evidence: the reported model changes only when a challenger's
       belief (item 4) exceeds the current pick's by more than a threshold, in agreements' worth
       (as the pooled CODA term fades, that lead can also come from the fading). The threshold is
       ``hysteresis`` (default 1) or ``switch_z`` (default 0.5) standard errors of the pair's
       labelled evidence, whichever is larger: with n of the N pool points where the two models
       disagree labelled, the labelled count difference estimates n/N of their pool difference with
       standard error sqrt(n (1 - n/N)) (each such point a +-1 outcome; uniform sampling within the
       pair, finite-population corrected). So a challenger needs a lead that grows with the
       evidence already gathered on the pair, and a lead that noise in the next labels could not
       produce, until the pair's points are nearly all labelled; then the threshold falls back to
       ``hysteresis``. A fixed larger hysteresis (3) held the pick too but kept digits and
       digits_missing_class from ever reaching 90% within 200 labels. ``switch_z=0`` is the
       fixed hysteresis. The lead tested is corrected for the points the draw chose
       (``switch_debias``, default True). The draw favours points where the posterior's leader is in
       the minority (their labels are the most informative), which are the points where it is more
       often wrong, so the pair's labelled counts understate the leader: on the suite's synthetic
       zoo, after 60 labels, the runner-up's labelled lead over the best model exceeded n/N times
       their pool difference by 3.3 agreements (s.e. 0.4, 40 seeds). From the lead is subtracted
       what the labelled points were expected to add beyond a uniform sample of the same size: with
       mu_i the expected outcome at point i (challenger right minus pick right) under the
       posterior's own label model, P(y = c) = (1 - eps) s_c + eps / (C - 1) (1 - s_c) with s_c the
       posterior mass on the models predicting c, the correction is the sum of mu_i over the pair's
       labelled points minus n/N times its sum over all N (the difference estimator of survey
       sampling). That left 0.5 (s.e. 0.4) of the 3.3, with the same spread. Under uniform sampling
       the correction has mean 0 whatever mu is, so it removes only the part of the bias the
       posterior can explain; inverse-probability weights remove all of it but were too noisy to
       steer a pick (see below). How much it explains varies by zoo (the benchmark's part K: 40
       seeds per zoo, 60 labels, the four models nearest the best): over the 35 zoos of parts D and
       I the draw adds 2.1 agreements on average to a near model's lead over the best and the
       correction leaves 1.0, but it lowers the root mean square of that excess on only 19 of the 32
       zoos where there is one (2 of 5 in the suite), and where the label model does not predict the
       pair's outcomes it over-corrects (cls10_noise@1: -0.6 raw, -3.5 corrected; synthetic_prior:
       -1.6, -3.9). No other label model tried did better on the suite's synthetic zoo, synthetic@3
       and cls10_noise@1 (the geometric pool, a conditional logit calibrated on the labels, the
       leave-one-out posterior, the posterior at each draw; 20 seeds each). Half the correction,
       or only ever discounting a challenger's lead, gave more regret (suite +0.8 and +1.2, s.e.
       0.4; part D +2.2 and +3.6, s.e. 0.8 and 0.6). Once every point where models disagree is
       labelled, the labels rank the pool accuracies exactly and the pick is the most accurate
       model (prior and thresholds no longer apply).
    4. A second opinion in the prior. CODA's probability that each model is best (Dirichlet
       confusion matrices seeded by the *arithmetic* consensus, per-class accuracies weighted by
       the pool's class mix: another model of the same zoo) is pooled logarithmically with the
       posterior: the reported belief is proportional to posterior x P_CODA(best) ** (coda_weight
       * k / (k + m)), with k = ``prior_labels``, m the labels so far and ``coda_weight`` 2 by
       default. CODA's belief moves little with labels (each adds 0.01 to a confusion row), so it
       is pooled as prior: in full before any label, then fading on the schedule k / (k + m).
       This is a schedule, not an exact Bayesian share: k multiplies pool-accuracy differences
       (it is the labels' worth divided by the disagreement share, capped), m counts labels, and
       the CODA term is not in units of log(gamma), so its worth in labels varies with the tuned
       eps. Without the fading it kept digits, where CODA favours another model, below 90% of
       seeds on the best model at 200 labels. The acquisition and the eps tuning use the
       posterior alone; ``coda_weight=0`` is auto without the pool (``diagnostics["coda_weight"]``
       is the weight used: 0 when there is no prior to pool into, or one class). It costs
       O(H (N + 256)) per label (one class's Beta grids and one gather change).
    5. A sharper draw while the posterior is diffuse: the exponent of item 2 is
       ``diffuse_sharpness`` (default 100) while the posterior's largest probability is below
       ``diffuse_below`` (default 0.3), and ``sharpness`` afterwards. While many models are still in
       play the largest gains are on the most contested points, so this labels those first, as CODA
       does. Alone, with the fixed hysteresis of item 3, it lowered regret but broke the hold
       (2026-12-02, the benchmark's seeds, 100 per task): the suite's mean cumulative regret over
       100 labels fell from 40 to 26 (synthetic 112 -> 74), but on the synthetic tasks 90% of seeds
       were on the best model after 14 and 7 labels, then the share fell to 0.71 and 0.78. The
       early lead comes from the contested points, where these zoos' best model is also the best;
       the labels that follow are spread wider and, as the gap is small (70 and 61 labels to order
       the top two without bias, ``difficulty()["labels_to_order_top2"]``), moved the pick away
       again in some seeds under a fixed hysteresis. With item 3's evidence threshold both joined
       the defaults: the threshold keeps the pick the contested points lead to unless the labels
       that follow contradict it by more than their own noise. ``diffuse_sharpness=None`` turns
       the sharper draw off; ``diffuse_sharpness=None, switch_z=0`` is auto as it was before
       2026-12-02. The posterior alone decides the exponent (not the CODA-pooled belief), so
       :func:`estimate_accuracies` replays the draw.

    ``prob_best`` is the pooled belief. Weighting each label by its inverse acquisition probability
    (as LURE does) was measured and rejected: the posterior multiplies evidence, so a few
    large weights swing it (mean regret 156 against 101).

    Where it stands since the corrected switch test (item 3, ``switch_debias``) joined the defaults
    (2026-12-02; the paragraph after this one gives the figures before it): over the suite, mean
    cumulative regret over the first 100 labels 20.5 on the benchmark's 100 seeds (22.5 before) and
    20.1 on part F's 400 (22.5); on the synthetic task 50.6 against CODA's 51.9 on part F's seeds,
    a paired difference of -1.4 (s.e. 3.0, 95% interval -7.2 to 4.5; +9.1 before), and -3.7 (-15.6
    to 8.2) on the benchmark's; significantly lower than every other strategy on every other suite
    task. Lowest share of seeds on the best model after first reaching 90% (part F): 0.900-0.955 on
    every task (synthetic 0.882 -> 0.908). Part D's 21 zoos: 91.5 -> 81.1 (paired -10.3, s.e. 1.4;
    significantly worse on one, synthetic@3, +49, s.e. 8); part I's 14: 86.9 -> 81.5 (-5.4, s.e. 1.4;
    significantly worse on one, cls10_noise@1, +38, s.e. 12, where the correction over-corrects: item
    3, part K).

    Where it stood (``benchmarks/active_selection.py``, 100 seeds per task, CODA's included;
    2026-12-02, with today's defaults: the diffuse draw of item 5 and the evidence threshold of item
    3 joined them that day; the shifted suite tasks are the unshifted zoos' models on a shifted pool,
    see :func:`workbench.data.make_model_zoo`): over the seven suite tasks, the lowest mean
    cumulative regret over the first 100 labels of all strategies (23, against CODA's 76,
    uncertainty sampling's 89 and Model Selector's 128); the lowest of all on six of the seven
    tasks (digits 16 against CODA's 29; digits_noise 2 against uncertainty sampling's 76;
    digits_missing_class, which joined the suite after the defaults were set, 29 against CODA's
    43; breast_cancer 10 against margin's 18; breast_cancer_noise 8 against Model Selector's 37;
    synthetic_prior 38 against CODA's 153), and level with CODA on the synthetic task (55 against
    55, paired difference 0.4, s.e. 7.0) on those seeds; on 400 others (part F's) CODA is lower there:
    52 against 61, a paired difference of 9.1 (s.e. 3.7, 95% interval 1.8 to 16.3;
    :meth:`SelectionBenchmark.compare`), though ``auto`` had the lower regret on 213 of the 400 seeds:
    its losses are rarer and larger (a pick that moves to the runner-up, see below). On 400 further
    seeds per task (part F) it first reaches 90% of
    seeds on the exact best model after 1-121 labels and stays there up to sampling noise (lowest
    share afterwards 0.90-0.96, s.e. 0.015, except synthetic: 0.882 between 20 and 66 labels,
    1.2 s.e. below 0.9; Model Selector falls to 0-0.53). Before 2026-12-02 (``diffuse_sharpness=None,
    switch_z=0``) the suite mean was 40 (synthetic 112, against CODA's 55), with part F's lowest
    shares 0.898-0.922; with ``sharpness`` 6, the default before 2026-12-01, 52 (70 on the earlier
    shifted zoos: other draws of the models; every figure below dated before 2026-12-02 that
    names digits_noise, breast_cancer_noise or synthetic_prior, or the held-out zoos of those
    recipes, is on those). On 21 further zoos (the suite's recipes with other seeds, 50 seeds
    each; not a clean hold-out for the geometric prior, which was chosen from a label-free
    comparison that included earlier draws of them) its mean regret is 92, against CODA's 130 and
    Model Selector's 174, the lowest on 14 of them (CODA 5, margin 2; before 2026-12-02: 97, the
    lowest on 11); on 14 zoos from data generators
    never used to set a default (part I: Hastie, Gaussian quantiles, 10-class and two-moons data,
    with and without shift) 87 (128 before; lower on 10 of 14), against Model Selector's 179,
    margin's 237, CODA's 295 and random labels' 297, the lowest on 9 of 14 (Model Selector 3,
    uncertainty sampling 2, one of them tied with margin; before: 7 of 14). The evidence
    threshold was chosen on the suite (30 seeds per task): without the finite-population
    correction, z = 0.35 and above kept digits from ever reaching 90% within 200 labels and 0.25
    lost synthetic's hold; with it, 0.7 held everywhere but raised synthetic's regret from 80 to
    113 on those seeds. Parts D and I were the checks. The CODA pool (item 4)
    lowered the mean regret from 73 to 69 on the suite, from 111 to 104 on the 21 zoos and from
    151 to 146 on the 14 (earlier shifted zoos; its weight of 2 was chosen on the suite with a
    check on the 14 zoos, so they are no longer a clean hold-out for it); it is not free
    everywhere: digits went from 21 to 27 and first reaches 90% after 97 labels instead of 67.

    On the synthetic 4-class task CODA's regret is as low or lower (55 on 100 seeds, 52 against 61 on
    400): its greedy information gain labels the most contested points, where this zoo's best model is
    also the best (see below). ``auto`` loses there in two places (400 seeds): its first picks (the
    pooled prior's favourite is a model 7 points below the best; CODA's alone, one 2 points below)
    cost 5.5 more over the first 5 labels, and from 40 labels on its pick moves to the runner-up in
    about a tenth of the seeds (7.7 more over labels 41-100). Each such move, traced on 100 seeds,
    came from a lead of 3-4 agreements on the labelled points where the two models disagree, past a
    threshold of 2-3, although the best model leads there by 20 on the pool: the draw labels the
    points where the leader is right and the runner-up wrong less often than the pool holds them (by
    60 labels, 42% of the labelled points where the two disagree, against 49% of the pool's). Correcting that by importance weights (for the pick
    only, from the recorded draw probabilities) was too noisy: it blocked the right switches too
    (synthetic 55 -> 88, 100 seeds). auto reaches
    that point too with the diffuse draw, and its evidence threshold then keeps the pick where CODA
    lets it go: on the same models with the pool's class prior shifted (synthetic_prior) CODA
    first reaches 90% of seeds on the best model after 18 labels but falls back to 0 and holds it
    only from 178 (100 seeds), while auto reaches it after 6 labels and holds it (part F).
    (Suite figures of 2026-11-30 and 12-01, on the earlier shifted zoos: auto 63 with sharpness
    12, 70 with 6, 69 before the majority vote's ties in the eps tuning were broken by the mean
    probability instead of the class index, see :func:`tune_eps_majority_vote`.)
    CODA's information gain ranks points almost exactly by the zoo's vote entropy (Spearman
    0.96-0.98 before the first label on digits and the synthetic task), so it labels the most
    contested points and counts agreements there, a biased sample that favours the model that is
    best *on those points*. Where that is the pool's best (``difficulty()["contested_best_rank"]
    == 0``, the suite's synthetic zoo) the bias speeds it up; where it is not, CODA can settle on
    another model (P(best) 0 at 100 labels on digits, rank 3). ``auto`` aims at the pool's best.
    Steering its acquisition by vote entropy was measured (20 seeds, before the CODA pool, earlier
    shifted zoos): synthetic regret fell from 166 to 67-146 and digits_noise rose from 59 to
    86-150, so it was not adopted. Nor was CODA's own information gain (2026-12-01, earlier shifted
    zoos: the next point drawn in proportion to auto's gain^12 x CODA's gain^50 over auto's 64
    best points; 100 seeds): synthetic 102 -> 85 (CODA 55 on those seeds), but digits_noise 60 ->
    91 and digits_missing_class 30 -> 36 (50 seeds). On today's zoos (2026-12-02, 30 seeds, with
    auto's defaults before that day): CODA's gain as auto's acquisition for the first 40 labels took
    synthetic from 128 to 66 and synthetic_prior from 70 to 38, but breast_cancer from 9 to 30 and
    breast_cancer_noise from 13 to 56; CODA's belief as auto's pick, on auto's labels, made synthetic
    worse (132): CODA's edge there is where it labels, not how it weighs. How much there is evidence on synthetic: an
    unbiased design that knew the two leading models and labelled only where they disagree would
    need 70 labels to put the best ahead with probability 0.9
    (``difficulty()["labels_to_order_top2"]``), and auto's label-free prior ranks four models above
    the best; confined to the most contested points, 42 labels would do. Figures: the issue note
    and ``benchmarks/results/active_selection.md`` (parts B, D, F and H).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import select_model
    >>> rng = np.random.default_rng(0)
    >>> probs = rng.dirichlet(np.ones(3), size=(5, 200))
    >>> labels = rng.integers(0, 3, 200)
    >>> t = select_model(probs, labels, 20, strategy="model_selector", random_state=0)
    >>> t.chosen.shape, t.prob_best.shape
    ((20,), (20, 5))
    """
    check_choice(strategy, "strategy", STRATEGIES)
    frame = first_frame(prediction_log, "prediction_log")  # per-model frames: a label Series must share their index
    check_pool_pairing([frame or ("prediction_log", prediction_log), ("oracle", oracle)])
    probs, names, log = _as_zoo_probs(prediction_log)
    H, N, C = probs.shape
    given = oracle is not None and log is not None and log.labels is not None and bool(log.labelled.any())
    if oracle is None:
        if log is None or log.labels is None:
            raise ValidationError("oracle", "is required unless the PredictionLog carries labels for every point")
        # a partly labelled log: say how many points lack a label and where the first is
        raise_if_any(~log.labelled, "oracle", "is required unless the PredictionLog carries labels for every "
                                              "point; the log has unlabelled points", hint="pass oracle= (an array "
                     "of every point's label or a callable index -> label)")
        oracle = log.labels
    oracle = LabelOracle(oracle, N, C)
    if given:  # both a labelled log and an oracle: the oracle's answers must be the log's labels where it has them
        oracle = _agreeing_oracle(oracle, log.labels, log.labelled)
    budget = check_budget(budget, N)
    rng = check_random_state(random_state)
    # Each step works on small matrices (n_models x n_models); multi-threaded BLAS only adds
    # synchronisation cost there (measured 20x slower on 2 cores), so steps run single-threaded.
    from .._engine import one_blas_thread

    with one_blas_thread():
        return _run(probs, names, oracle, budget, strategy, rng, options)


def _run(probs, names, oracle, budget, strategy, rng, options):
    H, N, C = probs.shape
    zoo = _Zoo(probs)
    t_setup = time.perf_counter()
    strat = _make_strategy(zoo, rng, budget, strategy, options)
    # the steps are timed apart from the setup (model_selector's and auto's eps tuning runs the strategy on
    # pseudo-labels first): seconds_per_step counted it, and made those two look 3-15x slower per step
    t0 = time.perf_counter()
    setup = t0 - t_setup
    chosen = np.empty(budget, np.int64)
    pbest = np.empty((budget, H))
    idx = np.empty(budget, np.int64)
    labels = np.empty(budget, np.int64)
    qs = np.empty(budget)
    for t in range(budget):
        i, q = strat.next_point()
        y = oracle(i)
        strat.observe(i, y)
        chosen[t], pbest[t] = strat.summary()
        idx[t], labels[t], qs[t] = i, y, q
    elapsed = time.perf_counter() - t0
    diag = {"setup_seconds": setup}
    if strategy in ("model_selector", "auto"):
        diag["eps"] = strat.eps
    if strategy == "auto":
        diag["prior_labels"] = strat.prior_labels
        diag["coda_weight"] = strat.coda_weight_used  # 0 when the pool does not apply (no prior, one class)
    diag["options"] = dict(options)  # what estimate_accuracies needs to replay the acquisition
    diag["pool_fingerprint"] = _pool_fingerprint(probs)  # ... and which zoo it was run on
    ro = lambda x: (x.setflags(write=False), x)[1]  # noqa: E731
    return SelectionTrace(chosen=ro(chosen), prob_best=ro(pbest), indices=ro(idx), labels=ro(labels), q=ro(qs),
                          strategy=strategy, model_names=tuple(names), n_pool=N, seconds_per_step=elapsed / budget,
                          diagnostics=diag)


def _make_strategy(zoo, rng, budget, strategy, options):
    allowed = {"random": (), "uncertainty": (), "margin": (), "active_testing": ("floor",),
               "model_selector": ("eps", "eps_grid", "tune_horizon", "eps_criterion"),
               "coda": ("prior_strength", "consensus_weight", "learning_rate", "n_candidates", "grid_size"),
               "auto": ("eps", "eps_grid", "tune_horizon", "prior_labels", "prior_sigma", "prior_cap", "sharpness",
                        "floor", "hysteresis", "coda_weight", "diffuse_sharpness", "diffuse_below",
                        "switch_z", "switch_debias")}[strategy]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        # the usual culprit is the label count under another name: say where it goes
        budget_like = [u for u in unknown if u in ("n_labels", "labels", "n_queries", "n_iter", "n_steps", "n")]
        raise ValidationError("options", f"{unknown} not understood by strategy {strategy!r}; it takes {list(allowed)}",
                              hint=f"The number of labels to buy is budget= (not {budget_like[0]}=)"
                              if budget_like else None)
    maker = {"random": _Random, "uncertainty": _uncertainty, "margin": _margin, "active_testing": _ActiveTesting,
             "model_selector": _ModelSelector, "coda": _Coda, "auto": _Auto}[strategy]
    return maker(zoo, rng, budget, **options)
