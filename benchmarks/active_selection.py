"""Active testing and model selection on the task suite: the issue-5 targets, measured.

Run: .venv/bin/python benchmarks/active_selection.py [--seeds 100] [--coda-seeds 100] [--n-jobs 2] [--quick]
Writes benchmarks/results/active_selection.md (git-ignored) and prints the same Markdown.

There is no maintained peer library for these methods (the papers ship research code), so the
comparisons are between the strategies themselves, all run here from the same seeds.
Parts: (A) risk estimation MSE of LURE / ASE / DR vs iid (with a 95% interval of the ratio over seeds), bias and
interval coverage;
(B) model selection: labels to 90% P(best), labels from which it stays >= 90%, cumulative regret;
(C) time of a 200-label run on 1,000 points x 40 models x 10 classes;
(D) the same selection comparison on held-out zoos (the suite's recipes with other seeds: new data
draws, new model fits), outside the suite the strategies' defaults were measured on, grouped by
the pool best's rank on the most contested points (`contested_points`): disagreement samplers
(uncertainty, margin, coda) count agreements mostly there;
(E) an information bound for risk estimation: the per-label variance of iid sampling over that of a
difference (doubly robust) estimator, Var(L) / Var(L - s), under uniform sampling and under the
variance-optimal proposal q proportional to sqrt(s(1 - s)), for the zoo average, the zoo average
temperature-calibrated on every pool label, an oracle log-linear pool of all models fitted
on every pool label, and the same pool fitted on 25, 50 or 100 uniform labels (ridge chosen in hindsight);
(F) holding: auto, model_selector, random and coda on 400 further seeds per suite task (auto paired
with each), so that "stays at >= 90% once there", "never more regret than iid" and "auto at least
as good as the best other" are not decided by the sampling noise of
100 seeds (s.e. of a 90% share: 0.03 at 100 seeds, 0.015 at 400; the minimum of a noisy curve
over 100+ steps dips below its true level);
(H) what the labels alone can do: how many labels an unbiased estimate of the gap between the pool's
best model and its runner-up needs (iid, and two oracle designs that know the pair), next to the
same for labels confined to the most contested points;
(I) the same selection comparison on zoos from data recipes outside the suite (new generators);
(J) auto's sharper draw while its posterior is diffuse (``diffuse_sharpness``) and its evidence threshold
(``switch_z``), each turned off, against the defaults, on the suite and on part D's and part I's zoos;
(K) how well auto's switch-test correction (``switch_debias``) removes the draw's effect on a pair's labelled
lead, zoo by zoo (suite, D's and I's zoos);
(G) Model Selector's sensitivity to eps: its regret at each eps of the published grid (0.35 to 0.49
by 0.01) next to the eps its label-free tuning picks, because the greedy method's regret swings
with eps and the tuning against the majority vote cannot see which eps is good on the true labels.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from scipy.special import logsumexp, ndtri, softmax
from sklearn.datasets import make_classification, make_gaussian_quantiles, make_hastie_10_2, make_moons

from workbench.active import (STRATEGIES, SelectionBenchmark, benchmark_risk, benchmark_selection, select_model,
                              task_suite)
from workbench.active.risk import _calibrated, _fit_temperature_residual
from workbench.active.tasks import SYNTHETIC_PARAMS, TASKS, SelectionTask, difficulty_table
from workbench.data import make_model_zoo

MS = (10, 25, 50, 100, 200)


def _md(frame: pd.DataFrame, index: bool = True) -> str:
    """A Markdown table without the optional `tabulate` dependency."""
    f = frame.reset_index() if index else frame
    cols = [" / ".join(map(str, c)) if isinstance(c, tuple) else str(c) for c in f.columns]
    fmt = lambda v: f"{v:.4g}" if isinstance(v, (float, np.floating)) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in f.itertuples(index=False)]
    return "\n".join(lines)


def part_a(tasks, n_seeds, n_jobs, floor=0.1):
    """MSE ratio over iid (with its 95% interval over seeds), bias and coverage of each risk estimator for the
    median model of each zoo: :func:`benchmark_risk`, read at the label counts ``MS``."""
    rows = []
    for task in tasks:
        P, y = task.zoo.probs, task.zoo.labels
        acc = task.accuracy
        model = int(np.argsort(acc)[len(acc) // 2])  # the median model of the zoo
        zoo_mean = P.mean(0)
        configs = {"lure_zoo_mean": {"method": "lure", "surrogate": zoo_mean, "floor": floor},
                   "lure_self": {"method": "lure", "floor": floor},
                   "ase_zoo_mean": {"method": "ase", "surrogate": zoo_mean, "floor": floor},
                   "dr_zoo_mean": {"method": "dr", "surrogate": zoo_mean},  # dr: its own default floor (0.3)
                   "dr_self": {"method": "dr"}}
        # str hash() is salted per process: the seeds come from a checksum of the task's name
        r = benchmark_risk(P[model], y, configs, min(max(MS), len(y)), seeds=n_seeds,
                           random_state=zlib.crc32(task.name.encode()), n_jobs=n_jobs)
        r = r[r.labels.isin(MS)].rename(columns={"labels": "M", "mse_ratio_vs_iid": "mse_ratio_iid_over",
                                                 "n_seeds": "seeds"})
        rows.append(r.assign(task=task.name, shift=task.shift or "none"))
    return pd.concat(rows, ignore_index=True)


def part_c(repeats=3):
    """Wall time of a whole 200-label run per strategy (setup included), the median of ``repeats`` runs
    (a single run swings with the machine's load), split into setup (eps tuning, CODA's prior) and steps."""
    rng = np.random.default_rng(0)
    H, N, C = 40, 1000, 10
    y = rng.integers(0, C, N)
    logits = rng.normal(size=(H, N, C)) + (2 + 2 * rng.random((H, 1, 1))) * np.eye(C)[y][None]
    P = np.exp(logits)
    P /= P.sum(2, keepdims=True)
    rows = []
    for s in STRATEGIES:
        runs = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            t = select_model(P, y, 200, strategy=s, random_state=0)
            runs.append((time.perf_counter() - t0, t.diagnostics["setup_seconds"], t.seconds_per_step))
        sec, setup, step = np.median(np.asarray(runs), axis=0)
        rows.append({"strategy": s, "labels_run": 200, "seconds_for_200_labels": sec, "setup_seconds": setup,
                     "ms_per_step": 1e3 * step})
    return pd.DataFrame(rows)


HELD_OUT = ("digits", "digits_noise", "digits_missing_class", "breast_cancer_noise", "synthetic", "synthetic_prior",
            "synthetic_noise")


def held_out_tasks(zoo_seeds, n_jobs):
    """Part D's zoos: the suite's recipes (``HELD_OUT``) with each zoo seed, as ("name@seed", task) pairs."""
    return [(f"{t.name}@{rs}", t) for rs in zoo_seeds for t in task_suite(HELD_OUT, random_state=rs, n_jobs=n_jobs)]


def part_d(held_out, n_seeds, coda_seeds, n_jobs):
    """Selection on zoos built with other seeds (``held_out_tasks``): is the standing of each strategy a property
    of the method or of the suite's zoos it was measured on (and, but for digits_missing_class, tuned on)? Also
    returns each zoo's difficulty row."""
    diff = pd.DataFrame([{**t.difficulty(), "task": name} for name, t in held_out])
    tasks = [(name, t.zoo) for name, t in held_out]
    return _regret_at_100(tasks, n_seeds, coda_seeds, n_jobs, random_state=1), diff


def _regret_at_100(tasks, n_seeds, coda_seeds, n_jobs, random_state):
    """Parts D and I: every strategy over ``n_seeds`` seeds and 100 labels, CODA (2-12 ms per step on the suite)
    over ``coda_seeds`` of them (0: left out)."""
    strategies = [s for s in STRATEGIES if s != "coda"]
    parts = [benchmark_selection(tasks, strategies, budgets=100, seeds=n_seeds, n_jobs=n_jobs,
                                 random_state=random_state).summary]
    if coda_seeds:
        parts.append(benchmark_selection(tasks, ["coda"], budgets=100, seeds=coda_seeds, n_jobs=n_jobs,
                                         random_state=random_state).summary)
    return pd.concat(parts, ignore_index=True)


def surrogate_bound(probs, y, model):
    """Per-label variance of iid sampling over that of a difference (doubly robust) estimator, for model
    ``model``'s 0-1 loss L and three surrogates' expected losses s, under two designs: uniform sampling,
    Var(L) / Var(L - s), and the variance-optimal proposal of a difference estimator,
    q_i proportional to sqrt(s_i (1 - s_i)) (what ``dr`` uses, here without its floor),
    Var(L) / (sum_i (L_i - s_i)^2 / (N^2 q_i) - mean(L - s)^2). Large-pool (with replacement) figures:
    drawing without replacement adds the finite-population factor, which matters once the labels are a
    sizable share of the pool."""
    H, N, C = probs.shape
    logp = np.log(np.clip(probs, 1e-9, 1.0))
    pbar = probs.mean(0)
    # the log-linear pool of every model, fitted on every label (an oracle: no method has them)
    pool = _log_linear_pool(logp, fit_log_linear_pool(logp, y, np.arange(N), 1e-3, np.zeros(H)))
    log_pbar = np.log(np.clip(pbar, 1e-12, 1.0))
    # the temperature the dr estimator's re-calibration would choose, fitted on every pool label
    L = (probs[model].argmax(1) != y).astype(float)
    T = _fit_temperature_residual(probs[model], log_pbar, np.arange(N), L, np.ones(N), "zero_one")
    out = {}
    for name, pi in (("zoo_mean", pbar), ("zoo_mean_calibrated_on_all_labels", _calibrated(log_pbar, T)),
                     ("oracle_pool_fitted_on_all_labels", pool)):
        out.update(surrogate_ratios(probs[model], y, pi, name))
    return out


def fit_log_linear_pool(logp, y, idx, ridge, center):
    """Weights w of the log-linear pool softmax(sum_h w_h log p_h) of an (H, N, C) zoo's log-probabilities,
    fitted by maximum likelihood on the labelled points ``idx`` with a ridge penalty ridge * |w - center|^2.
    The gradient is analytic: L-BFGS with finite differences costs H + 1 likelihoods per step."""
    lp = logp[:, idx]  # (H, M, C)
    rows, y_idx = np.arange(len(idx)), y[idx]
    at_y = lp[:, rows, y_idx]  # (H, M)

    def nll(w):
        z = np.tensordot(w, lp, 1)  # (M, C)
        lse = logsumexp(z, axis=1)
        expected = np.einsum("hmc,mc->hm", lp, np.exp(z - lse[:, None]))  # E_pool[log p_h] per point
        d = w - center
        return -np.mean(z[rows, y_idx] - lse) + ridge * d @ d, -(at_y - expected).mean(1) + 2 * ridge * d

    return minimize(nll, np.array(center, float), jac=True, method="L-BFGS-B").x


def _log_linear_pool(logp, w):
    """softmax(sum_h w_h log p_h), row by row: the (N, C) class probabilities of the pool with weights w."""
    return softmax(np.tensordot(w, logp, 1), axis=1)


POOL_LABELS = (25, 50, 100)
POOL_RIDGES = (0.01, 0.1, 1.0, 10.0)


def learned_pool_ratios(probs, y, model, labels=POOL_LABELS, ridges=POOL_RIDGES, n_seeds=20, random_state=0):
    """Var(L) / Var(L - s) under q proportional to sqrt(s(1 - s)) (as :func:`surrogate_ratios`) for s from a
    log-linear pool of the zoo fitted on M uniformly drawn labels, its ridge (towards the equal-weight pool)
    chosen in hindsight: the best mean over ``n_seeds`` draws among ``ridges``, per M.

    How much of the oracle pool's gain labels could buy. Optimistic on three counts: the ridge is picked
    knowing every label; the surrogate fitted on all M labels is credited to every draw, where an
    estimator has only the labels before it; and the variance is that of the optimal proposal, without
    the floor. But it is a per-label, large-pool figure, like the rest of part E: drawing without
    replacement adds a finite-population gain once M is a sizable share of the pool (the draw labels
    the most uncertain points first), so a realised MSE ratio at M labels can exceed it (dr with the
    zoo average: 2.5x at 100 of synthetic's 1,000 points, where this figure is 1.7)."""
    H, N, _ = probs.shape
    logp = np.log(np.clip(probs, 1e-9, 1.0))
    equal = np.full(H, 1.0 / H)
    rng = np.random.default_rng(random_state)
    out = {}
    for m in labels:
        if m > N:
            continue
        draws = [rng.choice(N, m, replace=False) for _ in range(n_seeds)]
        mean_ratio = []  # per ridge, over the draws
        for ridge in ridges:
            pools = (_log_linear_pool(logp, fit_log_linear_pool(logp, y, idx, ridge, equal)) for idx in draws)
            mean_ratio.append(np.mean([surrogate_ratios(probs[model], y, p, "p")["p / sqrt_q"] for p in pools]))
        out[f"pool_fitted_on_{m}_labels / sqrt_q"] = float(max(mean_ratio))
    return out


def surrogate_ratios(model_probs, y, pi, name):
    """Var(L) / Var(L - s) under uniform sampling and under q proportional to sqrt(s(1 - s)), for the
    0-1 loss L of a model with (N, C) probabilities and the expected losses s under class probabilities pi."""
    N = y.shape[0]
    yhat = model_probs.argmax(1)
    L = (yhat != y).astype(float)
    s = 1.0 - pi[np.arange(N), yhat]
    r = L - s
    sd = np.sqrt(np.clip(s * (1.0 - s), 0.0, None))
    q = sd / sd.sum() if sd.sum() > 0 else np.full(N, 1.0 / N)
    with np.errstate(divide="ignore", invalid="ignore"):  # q = 0 only where s is 0 or 1
        terms = np.where(q > 0, r ** 2 / (N * q), np.where(r == 0, 0.0, np.inf))
    return {f"{name} / uniform": L.var() / r.var(), f"{name} / sqrt_q": L.var() / (terms.mean() - r.mean() ** 2)}


def generator_posterior(features, random_state=0):
    """p(y | x) of the synthetic data's generator at the given rows (pool features), or None.

    The synthetic task is scikit-learn's make_classification with ``SYNTHETIC_PARAMS``: each class is
    a mixture of equally weighted Gaussian clusters on the informative features, N(c_k, A_k' A_k),
    the other features are linear combinations of them or independent noise, and a share flip_y of
    the labels is replaced by a uniform draw. Replaying the generator's random draws up to the
    clusters gives c_k and A_k; the replay is checked against make_classification's own
    (unshuffled) output, and the informative columns of the shuffled output are found by their
    values. Returns None if the replay does not reproduce the data (another scikit-learn version)
    or the parameters leave the form above. The Bayes posterior is what no zoo-built surrogate can
    exceed: it says how much of the risk-estimation target the task's label noise allows."""
    from scipy.stats import multivariate_normal
    from sklearn import datasets

    prm = dict(SYNTHETIC_PARAMS)
    n, k_inf, C, cpc = prm["n_samples"], prm["n_informative"], prm["n_classes"], prm["n_clusters_per_class"]
    K = C * cpc
    if n % K or prm.get("weights") is not None or prm.get("n_repeated", 0):
        return None
    try:
        from sklearn.datasets._samples_generator import _generate_hypercube  # private: guarded by the check below
    except ImportError:
        return None
    gen = np.random.RandomState(random_state)
    sep = prm["class_sep"]
    centroids = _generate_hypercube(K, k_inf, gen).astype(float) * 2 * sep - sep
    Z = gen.standard_normal(size=(n, k_inf))
    A = [2 * gen.uniform(size=(k_inf, k_inf)) - 1 for _ in range(K)]
    per = n // K
    X_inf = np.vstack([Z[k * per:(k + 1) * per] @ A[k] + centroids[k] for k in range(K)])
    X_plain, _ = datasets.make_classification(**prm, shuffle=False, random_state=random_state)
    if not np.allclose(X_plain[:, :k_inf], X_inf):
        return None
    X_shuffled, _ = datasets.make_classification(**prm, random_state=random_state)
    sorted_cols = np.sort(X_shuffled, axis=0)
    cols = []
    for j in range(k_inf):  # the shuffled column holding informative feature j: the same values
        hit = np.flatnonzero(np.all(np.isclose(sorted_cols, np.sort(X_plain[:, j])[:, None]), axis=0))
        if hit.size != 1:
            return None
        cols.append(int(hit[0]))
    u = np.asarray(features)[:, cols]
    log_dens = np.stack([multivariate_normal(centroids[k], A[k].T @ A[k]).logpdf(u) for k in range(K)], axis=1)
    # cluster k belongs to class k % C: (points, cluster of its class, class)
    log_class = logsumexp(log_dens.reshape(-1, cpc, C), axis=1)
    return (1 - prm["flip_y"]) * softmax(log_class, axis=1) + prm["flip_y"] / C


def part_e(tasks, random_state=0):
    rows = []
    for task in tasks:
        acc = task.accuracy
        model = int(np.argsort(acc)[len(acc) // 2])
        row = {"task": task.name, **surrogate_bound(task.zoo.probs, task.zoo.labels, model),
               **learned_pool_ratios(task.zoo.probs, task.zoo.labels, model, random_state=random_state)}
        # the generator's posterior, where the pool's features are the generator's (no feature noise)
        post = (generator_posterior(task.zoo.features, random_state)
                if task.dataset == "synthetic" and task.shift in (None, "prior") else None)
        if post is not None:
            row.update(surrogate_ratios(task.zoo.probs[model], task.zoo.labels, post, "generator_posterior"))
            row["bayes_accuracy"] = float((post.argmax(1) == task.zoo.labels).mean())
            row["best_model_accuracy"] = float(acc.max())
        rows.append(row)
    return pd.DataFrame(rows)


EPS_GRID_PUBLISHED = tuple(np.round(np.arange(0.35, 0.4951, 0.01), 2))


def part_g(tasks, n_seeds, n_jobs):
    """Model Selector's cumulative regret@100 at each fixed eps of the published grid, and the eps its
    label-free tuning picks (its share of seeds), per task."""
    named = [(t.name, t.zoo) for t in tasks]
    rows = []
    for eps in EPS_GRID_PUBLISHED:
        r = benchmark_selection(named, ["model_selector"], budgets=100, seeds=n_seeds, n_jobs=n_jobs, random_state=3,
                                strategy_options={"model_selector": {"eps": float(eps)}}).summary
        rows += [{"task": k, "eps": f"{eps:.2f}", "cum_regret_100": v} for k, v in zip(r.task, r.cum_regret_100)]
    tuned = benchmark_selection(named, ["model_selector", "random"], budgets=100, seeds=n_seeds, n_jobs=n_jobs,
                                random_state=3).summary
    grid = pd.DataFrame(rows).pivot_table(index="task", columns="eps", values="cum_regret_100", sort=False)
    picked = []
    for name, zoo in named:  # the tuned eps is in each trace's diagnostics; it depends on the seed only by ties
        eps = pd.Series([select_model(zoo, budget=100, strategy="model_selector", random_state=s).diagnostics["eps"]
                         for s in range(min(n_seeds, 10))])
        top = eps.value_counts()
        picked.append({"task": name, "tuned_eps": f"{top.index[0]:.2f} ({top.iloc[0]}/{len(eps)})"})
    t = tuned.pivot_table(index="task", columns="strategy", values="cum_regret_100", sort=False)
    summary = pd.DataFrame(picked).set_index("task").join(t.rename(columns=lambda c: f"{c}_tuned" if c != "random"
                                                                   else "random"))
    summary["grid_min"], summary["grid_median"], summary["grid_max"] = grid.min(axis=1), grid.median(axis=1), grid.max(axis=1)
    return grid, summary


Z90 = float(ndtri(0.9))  # one-sided normal quantile: P(the estimated difference has the right sign) = 0.9


def part_h(tasks):
    """Labels the evidence alone needs to order the pool's best model (b) and runner-up (r).

    D_i = 1{b right at i} - 1{r right at i}. Labels for an unbiased estimate of their gap to have
    the right sign with probability 0.9 (normal approximation, finite-population corrected) under:
    iid sampling over the pool; uniform sampling over the points where b and r predict differently
    (:func:`labels_to_order_pair`; an oracle choice of the pair); Neyman allocation over ten
    vote-entropy strata of those points with the strata's true spreads (an oracle design); and
    uniform sampling confined to the top 10% most contested points (:func:`contested_points`), a
    biased design that answers which model is best *there* (inf when r leads there). Also the best
    model's rank by ``auto``'s label-free consensus prior. Figures for one pair: picking among 40
    models needs more, and a prior that already favours b needs fewer."""
    from workbench.active import contested_points, labels_to_order_pair
    from workbench.active.selection import _Zoo
    from workbench.active.tasks import _vote_entropy

    rows = []
    for task in tasks:
        P, y = task.zoo.probs, task.zoo.labels
        N = P.shape[1]
        pred = P.argmax(2)
        acc = (pred == y).mean(1)
        b, r = np.argsort(-acc, kind="stable")[:2]
        D = (pred[b] == y).astype(float) - (pred[r] == y)
        dis = pred[b] != pred[r]
        # Neyman allocation: Var = (sum_k W_k S_k)^2 / n - sum_k W_k S_k^2 / N_d <= (gap / z)^2
        ve, Dd = _vote_entropy(pred)[dis], D[dis]
        stratum = np.digitize(ve, np.quantile(ve, np.linspace(0, 1, 11)[1:-1]))
        by_stratum = pd.Series(Dd).groupby(stratum)
        w = (by_stratum.size() / Dd.size).to_numpy()
        # S_k with divisor n_k - 1, as in the finite-population formulas (0 for a one-point stratum)
        sd = by_stratum.std(ddof=1).fillna(0.0).to_numpy()
        n_neyman = min(Dd.size, (w @ sd) ** 2 / ((Dd.mean() / Z90) ** 2 + (w @ sd ** 2) / Dd.size))
        n_iid = min(N, D.var(ddof=1) / ((D.mean() / Z90) ** 2 + D.var(ddof=1) / N))
        cm = contested_points(pred, 0.1)
        gap_c = D[cm].mean()
        ea = _Zoo(P).right_under_geometric_pool.mean(1)
        rows.append({"task": task.name, "gap_points": 100 * D.mean(), "top2_disagreement": dis.mean(),
                     "n_iid": np.ceil(n_iid), "n_pair_uniform": labels_to_order_pair(pred[b], pred[r], y),
                     "n_pair_neyman": np.ceil(n_neyman), "contested_gap_points": 100 * gap_c,
                     "n_contested_only": labels_to_order_pair(pred[b][cm], pred[r][cm], y[cm]) if gap_c > 0
                     else np.inf, "best_rank_by_prior": int((ea > ea[b]).sum())})
    return pd.DataFrame(rows)


# Data sets none of the strategies' defaults were chosen on: scikit-learn generators with other
# geometry (binary Hastie, nested Gaussian quantiles, 10 classes, two moons), with and without shift.
NEW_RECIPES = {
    "hastie": lambda rs: (lambda X, y: (X, (y > 0).astype(int)))(*make_hastie_10_2(n_samples=2000, random_state=rs)),
    "quantiles": lambda rs: make_gaussian_quantiles(n_samples=2000, n_features=6, n_classes=3, random_state=rs),
    "cls10": lambda rs: make_classification(n_samples=3000, n_features=30, n_informative=15, n_classes=10,
                                            class_sep=1.0, random_state=rs),
    "moons": lambda rs: make_moons(n_samples=2000, noise=0.35, random_state=rs),
}
NEW_RECIPE_SHIFTS = (("hastie", None), ("quantiles", None), ("quantiles", "prior"), ("cls10", None),
                     ("cls10", "noise"), ("moons", None), ("moons", "noise"))


# label: (auto's options, also run on parts D's and I's zoos). The first is the default; the second auto as it was
# before the sharper diffuse draw, the evidence threshold and the corrected switch test joined the defaults
# (2026-12-02); the third without the correction only.
DIFFUSE_VARIANTS = {"auto": ({}, True),
                    "auto before 2026-12-02": ({"diffuse_sharpness": None, "switch_z": 0.0, "switch_debias": False},
                                               True),
                    "auto, switch_debias off": ({"switch_debias": False}, True),
                    "auto, switch_z=0 (diffuse draw only)": ({"switch_z": 0.0, "switch_debias": False}, True),
                    "auto, diffuse draw off": ({"diffuse_sharpness": None}, False),
                    "auto, switch_z=0, hysteresis=3": ({"switch_z": 0.0, "hysteresis": 3.0}, False)}


def part_j(tasks, n_seeds, budget, n_jobs, held_out=()):
    """auto's sharper draw while its posterior is diffuse (``diffuse_sharpness``), its evidence threshold for
    switching the pick (``switch_z``) and the selection correction of the lead it tests (``switch_debias``), each
    turned off, against the defaults: regret and holding on the suite
    (part B's seeds), and regret@100 on other zoos. ``held_out``: (group name,
    [(name, zoo)], seeds, random_state) per group, e.g. part D's zoos with its seeds and part I's with its own."""
    named = [(t.name, t.zoo) for t in tasks]
    rows, held = [], []
    for label, (opts, elsewhere) in DIFFUSE_VARIANTS.items():
        r = benchmark_selection(named, ["auto"], budgets=budget, seeds=n_seeds, n_jobs=n_jobs, random_state=0,
                                strategy_options={"auto": opts}).summary
        rows.append(r.assign(variant=label))
        for group, zoos, seeds, rs in (held_out if elsewhere else ()):
            h = benchmark_selection(zoos, ["auto"], budgets=100, seeds=seeds, n_jobs=n_jobs, random_state=rs,
                                    strategy_options={"auto": opts}).summary
            held.append(h.assign(variant=label, group=group))
    return pd.concat(rows, ignore_index=True), (pd.concat(held, ignore_index=True) if held else None)


def _switch_lead_excess(probs, labels, seeds, budget, n_near):
    """Part K on one zoo: for each seed, auto's own run of ``budget`` labels, replayed into a fresh posterior; for
    the pool best and each of the ``n_near`` models nearest it in accuracy, on the points where the two
    disagree, the labelled count difference (near model right minus best right) minus n/N times the pool
    difference, raw and after ``selection_bias``. Rows (seed, model, raw, corrected)."""
    from workbench.active.selection import _Auto, _Zoo

    zoo = _Zoo(probs)
    right = zoo.preds == labels
    acc = right.mean(axis=1)
    order = np.argsort(-acc, kind="stable")
    best = int(order[0])
    pairs = []  # (model, points where it and the best disagree, its outcome there minus the best's): seed-free
    for h in order[1:1 + n_near]:
        dis = np.flatnonzero(zoo.preds[best] != zoo.preds[h])
        if dis.size:
            pairs.append((int(h), dis, right[h, dis].astype(int) - right[best, dis]))
    rows = []
    for seed in seeds:
        tr = select_model(probs, labels, budget, strategy="auto", random_state=int(seed))
        a = _Auto(zoo, np.random.default_rng(0), budget, eps=tr.diagnostics["eps"])  # the run's posterior
        for i in tr.indices:
            a.observe(int(i), int(labels[i]))
        a.pick = best
        for h, dis, d in pairs:
            lab = ~a.remaining[dis]
            raw = d[lab].sum() - lab.sum() / dis.size * d.sum()
            rows.append((int(seed), h, raw, raw - a.selection_bias(h)))
    return rows


def part_k(named, n_seeds, n_jobs, budget=60, n_near=4):
    """How well auto's switch-test correction (``switch_debias``) does its job on each zoo: after ``budget`` labels
    of auto's own draw, the lead of each of the ``n_near`` models nearest the best over it, on the points where
    the two disagree, should be n/N times their pool difference; the excess over that, raw and corrected, as a
    mean over seeds and models and as a root mean square. The correction predicts the draw's effect with the
    posterior's own label model, so it helps only where that model predicts the pair's outcomes."""
    from joblib import Parallel, delayed

    seeds = np.arange(n_seeds)
    res = Parallel(n_jobs=n_jobs)(delayed(_switch_lead_excess)(np.asarray(zoo.probs, float), np.asarray(zoo.labels),
                                                               seeds, budget, n_near) for _, zoo in named)
    out = []
    for (name, _), rows in zip(named, res):
        r = pd.DataFrame(rows, columns=["seed", "model", "raw", "corrected"])
        per_seed = r.groupby("seed")[["raw", "corrected"]].mean()  # the seeds are independent, the models not
        se = per_seed.std(ddof=1) / np.sqrt(len(per_seed))
        out.append({"task": name, "excess_raw": r.raw.mean(), "excess_raw_se": se["raw"],
                    "excess_corrected": r.corrected.mean(), "excess_corrected_se": se["corrected"],
                    "rms_raw": float(np.sqrt((r.raw ** 2).mean())),
                    "rms_corrected": float(np.sqrt((r.corrected ** 2).mean()))})
    return pd.DataFrame(out)


def new_recipe_tasks(zoo_seeds, n_jobs):
    """Part I's zoos: every recipe of ``NEW_RECIPE_SHIFTS`` with each zoo seed."""
    tasks = []
    for rs in zoo_seeds:
        for data, shift in NEW_RECIPE_SHIFTS:
            X, y = NEW_RECIPES[data](rs)
            zoo = make_model_zoo(X, y, n_models=40, shift=shift, shift_strength=0.7 if shift == "noise" else 1.0,
                                 random_state=rs, n_jobs=n_jobs, progress=False)
            tasks.append(SelectionTask(name=f"{data}{'_' + shift if shift else ''}@{rs}", zoo=zoo, dataset=data,
                                       shift=shift))
    return tasks


def part_i(tasks, n_seeds, coda_seeds, n_jobs):
    """Selection on zoos built from data recipes outside the suite (``new_recipe_tasks``; never used to set any
    default)."""
    return _regret_at_100(tasks, n_seeds, coda_seeds, n_jobs, random_state=11), difficulty_table(tasks)


def command_line(argv) -> str:
    """The command this run was started with (its own arguments, e.g. ``--quick``), for the report header."""
    return shlex.join([".venv/bin/python", "benchmarks/active_selection.py", *map(str, argv)])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=100)
    ap.add_argument("--coda-seeds", type=int, default=100)
    ap.add_argument("--held-out-coda-seeds", type=int, default=50)
    ap.add_argument("--holding-seeds", type=int, default=400, help="seeds per task for part F (0: skip)")
    ap.add_argument("--holding-coda-seeds", type=int, default=400, help="CODA's seeds per task in part F (0: skip)")
    ap.add_argument("--eps-seeds", type=int, default=20, help="seeds per (task, eps) for part G (0: skip)")
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--held-out-seeds", type=int, default=50, help="seeds per held-out zoo (0: skip part D)")
    ap.add_argument("--zoo-seeds", default="1,2,3", help="random_state of the held-out zoos")
    ap.add_argument("--new-recipe-seeds", type=int, default=50, help="seeds per new-recipe zoo (0: skip part I)")
    ap.add_argument("--diffuse-seeds", type=int, default=100, help="seeds per task for part J (0: skip)")
    ap.add_argument("--bias-seeds", type=int, default=40, help="seeds per zoo for part K (0: skip)")
    ap.add_argument("--quick", action="store_true", help="10 seeds, 3 tasks (a smoke run)")
    args = ap.parse_args(argv)
    names = ("digits", "breast_cancer", "synthetic", "digits_noise", "breast_cancer_noise", "synthetic_prior",
             "digits_missing_class")
    if args.quick:
        args.seeds, args.coda_seeds, args.held_out_coda_seeds, names = 10, 2, 2, names[:3]
        args.held_out_seeds, args.zoo_seeds, args.holding_seeds, args.eps_seeds = 5, "1", 20, 3
        args.holding_coda_seeds = 2
        args.new_recipe_seeds, args.diffuse_seeds, args.bias_seeds = 3, 5, 5
    tasks = task_suite(names, n_jobs=args.n_jobs)
    out = ["# Active testing and model selection (issue 5)", "",
           f"Seeds per task: {args.seeds} (coda: {args.coda_seeds}). Zoos: 40 scikit-learn models "
           f"from `make_model_zoo`, pool = 50% of the data. Command: `{command_line(argv)}`",
           "", "## Task difficulty", "", difficulty_table(tasks).round(3).pipe(_md, index=False), ""]
    t0 = time.time()
    a = part_a(tasks, args.seeds, args.n_jobs)
    wide = a.pivot_table(index=["task", "estimator"], columns="M", values="mse_ratio_iid_over").round(2)
    out += ["## A. Risk estimation: MSE(iid) / MSE(estimator), median model of each zoo (floor 0.1; dr: 0.3)", "",
            wide.pipe(_md), "",
            "95% interval of that ratio over the seeds (paired BCa bootstrap, each seed's iid and estimator runs "
            "resampled together: how far the ratio could move with other seeds):", "",
            a.assign(ci=[f"{lo:.2f}-{hi:.2f}" for lo, hi in zip(a.mse_ratio_ci_low, a.mse_ratio_ci_high)])
             .pivot_table(index=["task", "estimator"], columns="M", values="ci", aggfunc="first").pipe(_md), "",
            "Coverage of the nominal 95% interval:", "",
            a.pivot_table(index=["task", "estimator"], columns="M", values="coverage").round(3).pipe(_md), "",
            "Bias / its Monte Carlo s.e. (|z| < 3 expected for iid and LURE):", "",
            a.assign(z=a.bias / a.bias_se).pivot_table(index=["task", "estimator"], columns="M",
                                                        values="z").round(1).pipe(_md), ""]
    print(f"part A {time.time() - t0:.0f}s", flush=True)
    t0 = time.time()
    strategies = [s for s in STRATEGIES if s != "coda"]
    b = benchmark_selection(tasks, strategies, budgets=args.budget, seeds=args.seeds, n_jobs=args.n_jobs,
                            random_state=0)
    bc = benchmark_selection(tasks, ["coda"], budgets=args.budget, seeds=args.coda_seeds,
                             n_jobs=args.n_jobs, random_state=0)
    summ = pd.concat([b.summary, bc.summary], ignore_index=True)
    print(f"part B {time.time() - t0:.0f}s", flush=True)
    cols = ["task", "strategy", "labels_first_90", "labels_stay_90", "labels_first_90_within_1pt",
            "labels_stay_90_within_1pt", "min_p_best_after_first_90", "cum_regret_100", "cum_regret_100_se",
            "final_p_best", "ms_per_step", "setup_ms", "n_seeds", "budget"]
    out += ["## B. Model selection", "",
            f"Labels to first reach / to stay at >= 90% P(best) (NaN: not within the budget), cumulative regret "
            f"over the first 100 labels (accuracy points), mean over seeds.", "",
            summ[cols].round(2).pipe(_md, index=False), "",
            "Cumulative regret@100 (rows: task; columns: strategy):", "",
            summ.pivot_table(index="task", columns="strategy", values="cum_regret_100").round(1).pipe(_md), "",
            "Mean over tasks:", "",
            summ.groupby("strategy")["cum_regret_100"].mean().round(1).to_frame().T.pipe(_md, index=False), ""]
    # the coda runs are the first coda_seeds seeds of the others (same random_state): paired on those
    both = SelectionBenchmark.concat([b, bc])
    paired = pd.concat([both.compare("auto", s) for s in STRATEGIES if s != "auto"], ignore_index=True)
    out += ["auto against each other strategy, seed by seed (`SelectionBenchmark.compare`): mean difference in "
            "cumulative regret@100 (negative: auto lower), its s.e. and 95% interval, paired t-test p-value; the last "
            "row per strategy is the mean over tasks (Welch-Satterthwaite t interval).", "",
            paired.round(3).pipe(_md, index=False), ""]
    e = part_e(tasks)
    out += ["## E. Information bound for risk estimation (median model of each zoo)", "",
            "Var(L) / Var(L - s): how many times smaller the per-label variance of a difference (doubly robust) "
            "estimator with surrogate s is than iid's, under uniform sampling (`uniform`) and under the "
            "variance-optimal proposal q proportional to "
            "sqrt(s(1 - s)) (`sqrt_q`, the design `dr` uses; here without its floor); iid = 1. Large-pool figures: "
            "drawing without replacement adds a finite-population gain once the labels are a sizable share of the "
            "pool. The target names the zoo average: its columns, even re-calibrated on every pool label, are what "
            "a zoo-average surrogate can give. The oracle pool (the best log-linear pool of the zoo, fitted on "
            "every pool label, which no method has) shows how far a much better surrogate would go; "
            "`pool_fitted_on_M_labels` is that pool fitted on M uniformly drawn labels (ridge towards equal weights, "
            "the best of 0.01-10 chosen in hindsight, mean over 20 draws), credited to every draw: an optimistic "
            "figure for what M labels could buy a learned pool (`learned_pool_ratios`). For the synthetic "
            "tasks, `generator_posterior` is the data generator's own p(y | x) (replayed from make_classification; "
            "`bayes_accuracy`: its accuracy on the pool, against the zoo's best model): what the task's label noise "
            "allows any surrogate.", "",
            e.round(2).pipe(_md, index=False), ""]
    out += ["## H. What the labels alone can do: the best model against the runner-up", "",
            "Labels for an unbiased estimate of their accuracy gap to have the right sign with probability 0.9 "
            "(normal approximation, finite-population corrected): iid; uniform over the points where the two "
            "disagree; Neyman allocation over "
            "ten vote-entropy strata of those points with the strata's true spreads (both oracle designs: they "
            "know the pair). Then the gap on the 10% most contested points and the labels a design confined to "
            "them needs (inf: the runner-up is ahead there). best_rank_by_prior: the best model's rank by "
            "auto's label-free consensus prior (0: the prior already favours it). Compare labels_first_90 in B and "
            "F: where the prior does not favour the best model, a method that holds it well before n_pair_neyman "
            "labels owes that to its design or model, not to the labels' evidence on this pair.", "",
            part_h(tasks).round(2).pipe(_md, index=False), ""]
    # the held-out and new-recipe zoos, built (or read from the cache) once for parts D / I and J
    zoo_seeds = [int(v) for v in args.zoo_seeds.split(",")]
    held_out = held_out_tasks(zoo_seeds, args.n_jobs) if args.held_out_seeds else []
    new_recipes = new_recipe_tasks([0, 1] if not args.quick else [0], args.n_jobs) if args.new_recipe_seeds else []
    if args.held_out_seeds:
        t0 = time.time()
        d, dd = part_d(held_out, args.held_out_seeds, args.held_out_coda_seeds, args.n_jobs)
        print(f"part D {time.time() - t0:.0f}s", flush=True)
        piv = d.pivot_table(index="task", columns="strategy", values="cum_regret_100", sort=False).round(1)
        rank = dd.set_index("task")["contested_best_rank"].reindex(piv.index)
        recipe = pd.Series([TASKS[t.split("@")[0]][0] for t in piv.index], index=piv.index, name="recipe")
        by = [recipe, pd.cut(rank, [-1, 0, 2, np.inf], labels=["0", "1-2", ">=3"])]
        grouped = piv.groupby(by, observed=True).mean().round(1)
        grouped.insert(0, "n_zoos", piv.groupby(by, observed=True).size())
        out += ["## D. Held-out zoos: cumulative regret@100 (same recipes, zoo seeds "
                f"{args.zoo_seeds}; {args.held_out_seeds} seeds, coda {args.held_out_coda_seeds})", "",
                "contested_best_rank: the pool best's rank by accuracy on the top 10% most contested points "
                "(0: best there too).", "", pd.concat([rank, piv], axis=1).pipe(_md), "",
                "Mean regret by recipe and contested_best_rank:", "", grouped.pipe(_md), "",
                "Mean over held-out zoos:", "",
                d.groupby("strategy")["cum_regret_100"].mean().round(1).to_frame().T.pipe(_md, index=False), "",
                "Per strategy, the number of held-out zoos on which it has the lowest regret: " + ", ".join(
                    f"{k} {v}" for k, v in piv.idxmin(axis=1).value_counts().items()), ""]
    if args.new_recipe_seeds:
        t0 = time.time()
        i_summ, i_diff = part_i(new_recipes, args.new_recipe_seeds, args.held_out_coda_seeds, args.n_jobs)
        print(f"part I {time.time() - t0:.0f}s", flush=True)
        ipiv = i_summ.pivot_table(index="task", columns="strategy", values="cum_regret_100", sort=False).round(1)
        icols = ["task", "n_points", "n_classes", "top1", "top2", "gap_points", "n_within_1pt", "contested_best_rank",
                 "labels_to_order_top2"]
        out += [f"## I. New data recipes: cumulative regret@100 ({args.new_recipe_seeds} seeds, coda "
                f"{args.held_out_coda_seeds})", "",
                "Zoos from data generators outside the suite (`NEW_RECIPES`: binary Hastie, Gaussian quantiles "
                "with and without a class-prior shift, 10-class make_classification with and without feature "
                "noise, two moons with and without noise; zoo seeds 0 and 1). No default of any strategy was "
                "measured on them.", "", i_diff[icols].round(3).pipe(_md, index=False), "", ipiv.pipe(_md), "",
                "Mean over these zoos:", "",
                ipiv.mean().round(1).to_frame().T.pipe(_md, index=False), "",
                "Per strategy, the number of zoos on which it has the lowest regret: " + ", ".join(
                    f"{k} {v}" for k, v in ipiv.idxmin(axis=1).value_counts().items()), ""]
    if args.holding_seeds:
        t0 = time.time()
        fb = benchmark_selection(tasks, ["auto", "model_selector", "random"], budgets=args.budget,
                                 seeds=args.holding_seeds, n_jobs=args.n_jobs, random_state=2)  # not part B's seeds
        parts = [fb]
        if args.holding_coda_seeds:  # auto against CODA on more seeds than part B's 100 (paired on the common ones);
            # 100 labels, what the regret comparison reads (CODA's 2-12 ms steps make 200 labels x 400 seeds long)
            parts.append(benchmark_selection(tasks, ["coda"], budgets=min(args.budget, 100),
                                             seeds=args.holding_coda_seeds, n_jobs=args.n_jobs, random_state=2))
        fall = SelectionBenchmark.concat(parts)
        f = fall.summary
        fpaired = pd.concat([fall.compare("auto", s) for s in ("coda", "model_selector", "random")
                             if s in set(f.strategy)], ignore_index=True)
        print(f"part F {time.time() - t0:.0f}s", flush=True)
        fcols = ["task", "strategy", "labels_first_90", "labels_stay_90", "min_p_best_after_first_90",
                 "cum_regret_100", "cum_regret_100_se", "final_p_best", "n_seeds"]
        out += [f"## F. Holding the pick, and the iid baseline: {args.holding_seeds} seeds per task, "
                f"{args.budget} labels", "",
                f"Binomial s.e. of a 90% share over {args.holding_seeds} seeds: "
                f"{np.sqrt(0.09 / args.holding_seeds):.3f}.", "", f[fcols].round(3).pipe(_md, index=False), "",
                "auto against each, seed by seed (as in part B):", "", fpaired.round(3).pipe(_md, index=False), ""]
    if args.diffuse_seeds:
        t0 = time.time()
        groups = ([("D", [(name, t.zoo) for name, t in held_out], args.held_out_seeds, 1)] if held_out else []) + (
            [("I", [(t.name, t.zoo) for t in new_recipes], args.new_recipe_seeds, 11)] if new_recipes else [])
        j, jh = part_j(tasks, args.diffuse_seeds, args.budget, args.n_jobs, groups)
        print(f"part J {time.time() - t0:.0f}s", flush=True)
        jcols = ["task", "variant", "labels_first_90", "labels_stay_90", "min_p_best_after_first_90", "cum_regret_100",
                 "cum_regret_100_se"]
        out += [f"## J. auto's diffuse draw and evidence threshold ({args.diffuse_seeds} seeds per task, part B's "
                "seeds)", "",
                "A sharper draw (exponent 100 instead of 12) while auto's posterior gives no model 30% or more "
                "(`diffuse_sharpness`), and a pick that switches only when a challenger's lead exceeds 0.5 standard "
                "errors of the pair's labelled evidence (`switch_z`), that lead corrected for the points the draw chose "
                "(`switch_debias`); all default since 2026-12-02, each turned off here (`select_model`'s notes, "
                "items 3 and 5).", "",
                j[jcols].round(3).pipe(_md, index=False), "",
                "Mean regret@100 over the suite:", "",
                j.groupby("variant", sort=False)["cum_regret_100"].mean().round(1).to_frame().T.pipe(_md, index=False),
                ""]
        for group, gh in ([] if jh is None else jh.groupby("group", sort=False)):
            jp = gh.pivot_table(index="task", columns="variant", values="cum_regret_100", sort=False).round(1)
            out += [f"Part {group}'s zoos with part {group}'s seeds ({int(gh.n_seeds.iloc[0])} each), regret@100:", "",
                    jp.pipe(_md), "",
                    "Mean: " + ", ".join(f"{k} {v:.1f}" for k, v in jp.mean().items()) + "; the default lower "
                    f"than auto before 2026-12-02 on {int((jp.iloc[:, 0] < jp.iloc[:, 1]).sum())} of {len(jp)}.", ""]
    if args.bias_seeds:
        t0 = time.time()
        named = [(t.name, t.zoo) for t in tasks] + [(name, t.zoo) for name, t in held_out] + [
            (t.name, t.zoo) for t in new_recipes]
        k = part_k(named, args.bias_seeds, args.n_jobs)
        print(f"part K {time.time() - t0:.0f}s", flush=True)
        out += [f"## K. auto's switch-test correction, zoo by zoo ({args.bias_seeds} seeds per zoo, 60 labels)", "",
                "After 60 labels of auto's own draw, the labelled lead of each of the four models nearest the pool's "
                "best over it (on the points where the two disagree) minus n/N times their pool difference: what "
                "the draw added to the lead auto's switch test reads. `raw`: as counted; `corrected`: after "
                "`selection_bias` (`switch_debias`). Mean over seeds and models (s.e. over seeds) and root mean "
                "square; the correction helps where `rms_corrected` < `rms_raw`.", "",
                k.round(2).pipe(_md, index=False), "",
                f"The correction lowers the root mean square on {int((k.rms_corrected < k.rms_raw).sum())} of the "
                f"{int((k.rms_raw > 0).sum())} zoos with any excess ({len(k)} in all; 0 where every point the pair "
                "disagrees on is labelled by then).", ""]
    if args.eps_seeds:
        t0 = time.time()
        g, gs = part_g(tasks, args.eps_seeds, args.n_jobs)
        print(f"part G {time.time() - t0:.0f}s", flush=True)
        out += [f"## G. Model Selector's eps: cumulative regret@100 at fixed eps ({args.eps_seeds} seeds per cell)", "",
                "The published tuning searches 0.35 to 0.49 by 0.01 on 1,000 realisations of up to 1,000 points "
                "with the majority vote as oracle; ours (`tune_eps_majority_vote`) is a cheap version of it "
                "(see its docstring: `eps_criterion` chooses how a run scores its eps). tuned_eps: the eps it "
                "picked (default criterion), with its share of "
                f"{min(args.eps_seeds, 10)} seeds.", "",
                gs.round(1).pipe(_md), "", g.round(0).pipe(_md), ""]
    c = part_c()
    out += ["## C. Speed: 1,000 points x 40 models x 10 classes", "", c.round(4).pipe(_md, index=False), ""]
    text = "\n".join(out)
    # a --quick smoke run writes beside, not over, the reported figures
    path = Path(__file__).parent / "results" / ("quick" if args.quick else "") / "active_selection.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    b.curves.to_csv(path.with_suffix(".curves.csv"), index=False)
    a.to_csv(path.with_suffix(".risk.csv"), index=False)
    print(text)


if __name__ == "__main__":
    main()
