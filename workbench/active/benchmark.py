"""Compare selection strategies over many seeds: identification curves, labels-to-90%, regret, speed."""
from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._parallel import check_n_jobs
from .._random import seed_key, spawn_seeds
from .._validation import (ValidationError, check_bool, check_choice, check_int, check_integer_in_range,
                           check_real)
from ..results import FrameFieldsCopied, _frames_repr, frame_to_html
from ._common import LabelOracle, check_budget, check_pool_pairing, check_probs_2d
from .selection import STRATEGIES, select_model

CURVE_COLUMNS = ["task", "strategy", "labels", "p_best", "p_best_se", "p_within_1pt", "p_within_1pt_se",
                 "mean_regret_points", "n_seeds"]
SUMMARY_COLUMNS = ["task", "strategy", "labels_first_90", "labels_stay_90", "labels_first_90_within_1pt",
                   "labels_stay_90_within_1pt", "min_p_best_after_first_90", "cum_regret_100", "cum_regret_100_se",
                   "final_p_best",
                   "ms_per_step", "setup_ms", "n_seeds", "budget"]
RUN_COLUMNS = ["task", "strategy", "seed", "cum_regret_100", "final_pick", "final_regret_points"]
COMPARE_COLUMNS = ["task", "strategy", "baseline", "n_seeds", "mean_difference", "se", "ci_low", "ci_high",
                   "p_value", "strategy_lower", "baseline_lower"]
MEAN_OVER_TASKS = "(mean over tasks)"


@dataclass(frozen=True, eq=False)  # identity: == of array / frame fields raised
class SelectionBenchmark(FrameFieldsCopied):
    """Result of :func:`benchmark_selection`.

    ``curves``: one row per (task, strategy, label count): the fraction of seeds whose pick is the
    exact best (``p_best``) or within one accuracy point of it, with binomial standard errors.
    ``summary``: one row per (task, strategy): labels to first reach 90% and labels from which the
    fraction stays >= 90% until the end of the budget (NaN: never), the lowest fraction after it
    first reached 90% (does the strategy hold its pick?), cumulative regret over the
    first 100 labels in accuracy points (sum over t of 100 * (acc_best - acc_pick_t)) with its
    standard error over seeds, milliseconds per step (``ms_per_step``) and before the first step
    (``setup_ms``: model_selector's and auto's eps tuning). With a budget under 100,
    ``cum_regret_100`` sums the labels there are (compare it only between runs with the same
    ``budget``, a column of the summary).

    Reproducibility: ``ms_per_step`` and ``setup_ms`` are wall-clock timings of this run, so two calls with
    the same arguments and ``random_state`` differ in those two columns of ``summary`` (and of
    :meth:`to_frame`) and nowhere else; every other column of ``summary``, and all of ``curves``, is
    reproducible (compare ``summary.drop(columns=["ms_per_step", "setup_ms"])``).

    ``runs``: one row per (task, strategy, seed): the run's ``cum_regret_100``, its final pick and that
    pick's regret in accuracy points. Seed k of a task is the same for every strategy, so two strategies'
    rows pair up: :meth:`compare` tests their difference seed by seed.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import benchmark_selection
    >>> from workbench.data import PredictionLog
    >>> rng = np.random.default_rng(0)
    >>> zoo = PredictionLog(rng.dirichlet(np.ones(3), size=(4, 300)), labels=rng.integers(0, 3, 300))
    >>> res = benchmark_selection([("toy", zoo)], ["random", "uncertainty"], budgets=10, seeds=3)
    >>> res  # doctest: +ELLIPSIS
    SelectionBenchmark(1 tasks x 2 strategies, 3 seeds)
    summary:
    task    strategy  labels_first_90 ...
    >>> res.to_frame()["strategy"].tolist()
    ['random', 'uncertainty']
    """

    curves: pd.DataFrame
    summary: pd.DataFrame
    runs: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The summary table, a copy."""
        return self.summary.copy()  # a frozen result: editing the returned table must not edit it

    @classmethod
    def concat(cls, results) -> SelectionBenchmark:
        """One result from several :func:`benchmark_selection` calls, their rows in order (e.g. CODA run on
        fewer seeds than the others, with the same ``random_state``, so that :meth:`compare` pairs them on
        the seeds both ran). A (task, strategy) pair may come from one call only.

        Examples
        --------
        >>> import numpy as np
        >>> from workbench.active import SelectionBenchmark, benchmark_selection
        >>> from workbench.data import PredictionLog
        >>> rng = np.random.default_rng(2)
        >>> log = PredictionLog(rng.dirichlet(np.ones(3), size=(4, 120)), labels=rng.integers(0, 3, 120))
        >>> many = benchmark_selection([("t", log)], ["random"], budgets=10, seeds=6, random_state=0)
        >>> few = benchmark_selection([("t", log)], ["margin"], budgets=10, seeds=3, random_state=0)
        >>> both = SelectionBenchmark.concat([many, few])
        >>> int(both.compare("margin", "random")["n_seeds"].iloc[0])
        3
        """
        results = list(results) if not isinstance(results, SelectionBenchmark) else [results]
        if not results or not all(isinstance(r, SelectionBenchmark) for r in results):
            raise ValidationError("results", "must be a non-empty sequence of SelectionBenchmark results")
        seen = {}
        for k, r in enumerate(results):
            for key in zip(r.summary["task"], r.summary["strategy"]):
                if key in seen:  # its runs would hold each seed twice, and compare would pair them wrongly
                    raise ValidationError("results", f"task {key[0]!r}, strategy {key[1]!r} is in result "
                                                     f"{seen[key]} and in result {k}", first=k)
                seen[key] = k
        return cls(*(pd.concat([getattr(r, f) for r in results], ignore_index=True)
                     for f in ("curves", "summary", "runs")))

    def compare(self, strategy: str, baseline: str, alpha: float = 0.05) -> pd.DataFrame:
        """Paired comparison of two strategies' cumulative regret over the first 100 labels, per task.

        Both ran from the same seeds, so the difference is taken seed by seed, over the seeds both ran
        (``strategy`` minus ``baseline``: negative means ``strategy`` had less regret), which removes the
        spread the two share (how hard each seed's draws happened to be) from the comparison. A result
        assembled from two calls with the same ``random_state`` (say, fewer seeds for coda; see
        :meth:`concat`) pairs on the seeds the smaller call ran, since seed k of a task is the same
        child seed in both. Per task: the mean
        difference, its standard error, a Student-t interval at level 1 - ``alpha`` and the
        two-sided paired t-test's p-value (as ``scipy.stats.ttest_rel``), and on how many seeds each
        strategy had the lower regret. The last row (task ``"(mean over tasks)"``) is the mean of the
        tasks' differences, with the tasks' seeds independent: its s.e. is sqrt(sum se^2) / n_tasks,
        and its interval and p-value are Student-t ones with Welch-Satterthwaite degrees of freedom
        (a task whose seeds all gave the same difference adds nothing to them).

        Two runs of a strategy on 100 seeds can look level (or apart) by chance: on the suite's
        synthetic task ``auto`` and ``coda`` differed by +0.4 (s.e. 7.0) on 100 seeds and by +9.1
        (s.e. 3.7) on 400 others. Read the interval, not the two means.

        Examples
        --------
        Two small zoos, each model right on a random share of the points:

        >>> import numpy as np
        >>> from workbench.active import benchmark_selection
        >>> from workbench.data import PredictionLog
        >>> rng = np.random.default_rng(1)
        >>> def zoo(n):
        ...     y = rng.integers(0, 2, n)
        ...     right = rng.random((5, n)) < np.linspace(0.6, 0.8, 5)[:, None]
        ...     return PredictionLog(np.eye(2)[np.where(right, y, 1 - y)] * 0.8 + 0.1, labels=y)
        >>> res = benchmark_selection([("a", zoo(200)), ("b", zoo(150))], ["random", "auto"], budgets=20, seeds=8)
        >>> cmp = res.compare("auto", "random")
        >>> list(cmp["task"]), int(cmp["n_seeds"].iloc[-1])
        (['a', 'b', '(mean over tasks)'], 16)
        >>> bool((cmp["ci_low"] <= cmp["mean_difference"]).all() and (cmp["mean_difference"] <= cmp["ci_high"]).all())
        True
        """
        from scipy import stats

        runs = self.runs
        have = list(dict.fromkeys(runs["strategy"]))
        for name, value in (("strategy", strategy), ("baseline", baseline)):
            check_choice(value, name, have)
        if strategy == baseline:
            raise ValidationError("baseline", f"must differ from strategy (both {strategy!r})")
        alpha = check_real(alpha, "alpha")
        if not 0 < alpha < 1:
            raise ValidationError("alpha", f"must be in (0, 1) (the interval's miscoverage), got {alpha}")
        level = 1.0 - alpha
        rows = []
        for task, g in runs.groupby("task", sort=False):
            a = g[g.strategy == strategy].set_index("seed")["cum_regret_100"]
            b = g[g.strategy == baseline].set_index("seed")["cum_regret_100"]
            # the seeds both ran (all of them in one benchmark_selection call; in a result assembled from two
            # calls with the same random_state, e.g. fewer seeds for coda, seed k is the same child in both)
            common = a.index.intersection(b.index)
            if common.empty:
                raise ValidationError("runs", f"task {task!r}: {strategy!r} and {baseline!r} share no seed")
            d = (a[common] - b[common]).to_numpy()
            n = d.size
            mean = float(d.mean())
            se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
            if n > 1 and se > 0:  # the paired t-test is the one-sample test of the differences
                res = stats.ttest_1samp(d, 0.0)
                lo, hi = res.confidence_interval(level)
                p = float(res.pvalue)
            elif n > 1:  # every seed gave the same difference: no spread to test against (scipy gives NaN)
                lo, hi, p = mean, mean, (1.0 if mean == 0 else 0.0)
            else:
                lo, hi, p = np.nan, np.nan, np.nan
            rows.append({"task": task, "n_seeds": n, "mean_difference": mean, "se": se, "ci_low": float(lo),
                         "ci_high": float(hi), "p_value": p, "strategy_lower": int((d < 0).sum()),
                         "baseline_lower": int((d > 0).sum())})
        per = pd.DataFrame(rows)
        mean = float(per["mean_difference"].mean())
        v = per["se"].to_numpy() ** 2
        se = float(np.sqrt(v.sum()) / len(per))
        if se > 0:
            # Welch-Satterthwaite degrees of freedom of a sum of independent variance estimates: a normal
            # quantile was too narrow with few seeds per task (3 seeds: 2 degrees of freedom per task)
            df = float(v.sum() ** 2 / (v ** 2 / (per["n_seeds"].to_numpy() - 1)).sum())
            half = float(stats.t.ppf(0.5 + level / 2, df)) * se
            p = float(2 * stats.t.sf(abs(mean) / se, df))
        else:  # NaN (a task with one seed) or 0 (no spread anywhere)
            half, p = (np.nan, np.nan) if np.isnan(se) else (0.0, float(mean == 0))
        per.loc[len(per)] = {"task": MEAN_OVER_TASKS, "n_seeds": int(per["n_seeds"].sum()), "mean_difference": mean,
                             "se": se, "ci_low": mean - half, "ci_high": mean + half, "p_value": p,
                             "strategy_lower": int(per["strategy_lower"].sum()),
                             "baseline_lower": int(per["baseline_lower"].sum())}
        return per.assign(strategy=strategy, baseline=baseline)[COMPARE_COLUMNS]

    def _title(self) -> str:
        return (f"SelectionBenchmark({self.summary['task'].nunique()} tasks x {self.summary['strategy'].nunique()} "
                f"strategies, {int(self.summary['n_seeds'].min())} seeds)")

    def __repr__(self) -> str:
        return _frames_repr(self._title(), {"summary": self.summary})  # the curves are in .curves

    def _repr_html_(self) -> str:
        return frame_to_html(self.summary, caption=self._title())


def _workers(n_jobs) -> int:
    """The number of joblib workers ``n_jobs`` stands for (-1: every core, -2: all but one; None: 1), so that
    a negative n_jobs splits the seeds into as many chunks as a positive one (it gave 2 chunks, 2 busy
    cores, whatever the machine). The chunks do not change the results: every run has its own seed."""
    from joblib import effective_n_jobs

    return max(1, int(effective_n_jobs(n_jobs))) if n_jobs is not None else 1


def _first_and_stay(p: np.ndarray, labels: np.ndarray, level: float = 0.9):
    ok = p >= level - 1e-12
    first = float(labels[np.argmax(ok)]) if ok.any() else np.nan
    if not ok[-1]:
        return first, np.nan
    bad = np.flatnonzero(~ok)
    stay = float(labels[0]) if bad.size == 0 else float(labels[bad[-1] + 1])
    return first, stay


def _run_chunk(probs, labels, strategy, budget, seeds, options):
    picks, secs = [], []
    for s in seeds:
        tr = select_model(probs, labels, budget, strategy=strategy, random_state=np.random.default_rng(s),
                          **options)
        picks.append(tr.chosen)
        secs.append((tr.seconds_per_step, tr.diagnostics["setup_seconds"]))
    return np.asarray(picks), np.asarray(secs).reshape(-1, 2)


def _as_task(task):
    from ..data import PredictionLog

    if hasattr(task, "zoo") and hasattr(task, "name"):
        return task.name, task.zoo
    if isinstance(task, (tuple, list)) and len(task) == 2:
        name, zoo = task
        if not isinstance(zoo, PredictionLog):
            # a bare array has no labels, and the labels are both the oracle and the truth here
            raise ValidationError("tasks", f"task {name!r}: the second item must be a labelled PredictionLog, "
                                           f"got {type(zoo).__name__}",
                                  hint="Wrap the predictions: PredictionLog(probs, labels=labels)")
        return name, zoo
    if isinstance(task, PredictionLog):
        return "task", task
    raise ValidationError("tasks", "each task must be a SelectionTask, a (name, PredictionLog) pair or a PredictionLog")


def _check_budgets(budgets) -> np.ndarray:
    """Label counts for the curves: an int B (every count 1..B) or a non-empty sequence of ints >= 1."""
    if np.ndim(budgets) == 0:  # an int, a numpy integer or a 0-d array (np.isscalar refused np.array(5))
        return np.arange(1, check_int(budgets, "budgets", low=1) + 1)
    arr = np.asarray(budgets)
    if arr.size == 0:  # the shape (1-D) is checked by check_integer_in_range
        raise ValidationError("budgets", "must be an int or a non-empty sequence of ints")
    return np.unique(check_integer_in_range(arr, "budgets", 1, None))


def benchmark_selection(tasks, strategies=STRATEGIES, budgets=200, seeds=100, random_state=0, n_jobs=None,
                        strategy_options=None, progress=False) -> SelectionBenchmark:
    """Run every strategy on every task for many seeds and summarise.

    Parameters
    ----------
    tasks : sequence of SelectionTask, (name, PredictionLog) pairs or PredictionLogs
        Each zoo must carry the labels of every pool point (they are the oracle and the truth).
        One task may be passed on its own (a SelectionTask, a PredictionLog, or a (name,
        PredictionLog) tuple); a bare PredictionLog is named "task", so several need names.
    strategies : str or sequence of str
        One strategy name, or several (distinct).
    budgets : int or sequence of int
        Label counts (>= 1) at which curves are reported; runs use ``max(budgets)`` labels. An
        int B means every count 1..B. A curve at b labels is read off those runs: for
        model_selector and auto, whose eps is tuned with runs of ``min(budget, tune_horizon)``
        steps, it can differ from runs of :func:`select_model` with ``budget=b`` when b < 50.
    seeds : int
        Replicates per (task, strategy). Child seeds are spawned before dispatch from a
        ``SeedSequence`` keyed by ``random_state`` and the task's name (as text: task names must
        differ as ``str(name)``, so ``1`` and ``"1"`` are refused together): every strategy on a task
        runs from the same seeds (a paired comparison), and a row does not change when other
        tasks or strategies are added, nor with ``n_jobs`` or the backend. Seed k of task
        ``name`` is ``np.random.SeedSequence(random_state, spawn_key=(zlib.crc32(str(name).encode()),))
        .spawn(seeds)[k]`` for an int ``random_state``; ``select_model(zoo, None, max(budgets),
        strategy, random_state=that seed)`` reproduces its run.
    n_jobs : int, optional
        joblib workers.
    strategy_options : dict, optional
        ``{strategy: {option: value}}`` passed to :func:`select_model`; every key must be one of
        ``strategies``, and ``random_state`` is not an option (the benchmark seeds every run).
    progress : bool
        Show a progress bar over the runs.

    Returns
    -------
    SelectionBenchmark

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import PredictionLog
    >>> from workbench.active import benchmark_selection
    >>> rng = np.random.default_rng(0)
    >>> zoo = PredictionLog(rng.dirichlet(np.ones(3), size=(4, 100)), labels=rng.integers(0, 3, 100))
    >>> res = benchmark_selection([("toy", zoo)], ["random", "auto"], budgets=10, seeds=3)
    >>> list(res.summary["strategy"])
    ['random', 'auto']
    """
    from joblib import delayed

    from .._parallel import run_delayed

    from ..data import PredictionLog

    if isinstance(tasks, PredictionLog) or (hasattr(tasks, "zoo") and hasattr(tasks, "name")) or (
            # one (name, PredictionLog) pair: iterated, its name was taken for a task and refused as "each task
            # must be ... a (name, PredictionLog) pair", which is what had been passed
            isinstance(tasks, tuple) and len(tasks) == 2 and isinstance(tasks[1], PredictionLog)
            and not isinstance(tasks[0], PredictionLog) and not hasattr(tasks[0], "zoo")):
        tasks = [tasks]  # one task on its own
    tasks = list(tasks)  # read twice below (a generator of tasks would be empty the second time)
    n_unnamed = sum(isinstance(t, PredictionLog) for t in tasks)
    tasks = [_as_task(t) for t in tasks]
    if not tasks:
        raise ValidationError("tasks", "must hold at least one task")
    # unique as text: the seeds are keyed by str(name), so 1 and "1" ran from the same seeds
    by_text = {}
    for i, (name, _) in enumerate(tasks):
        by_text.setdefault(str(name), []).append(i)
    clash = min((ix for ix in by_text.values() if len(ix) > 1), key=lambda ix: ix[1], default=None)  # 1st repeat
    if clash is not None:
        names = [tasks[i][0] for i in clash]
        dup, n_dup = names[0], len(names)
        same = (f"{dup!r} appears {n_dup} times" if len({repr(n) for n in names}) == 1
                else f"{', '.join(repr(n) for n in names)} have the same text {str(dup)!r}")
        raise ValidationError("tasks", f"task names must be unique as text (rows and seeds are keyed by "
                                       f"str(name)); task {clash[1]} repeats an earlier name: {same}", first=clash[1],
                              hint="a bare PredictionLog is named 'task': name several as (name, log) pairs, e.g. "
                                   "[('a', log_a), ('b', log_b)]" if dup == "task" and n_unnamed > 1 else None)
    # a single name is one strategy (iterating a string would run its characters)
    strategies = [strategies] if isinstance(strategies, str) else list(strategies)
    if not strategies:
        raise ValidationError("strategies", "must name at least one strategy")
    for s in strategies:
        if s not in STRATEGIES:
            raise ValidationError("strategies", f"unknown strategy {s!r}; choose from {list(STRATEGIES)}")
    dup, n_dup = Counter(strategies).most_common(1)[0]
    if n_dup > 1:
        raise ValidationError("strategies", f"must be distinct (rows are keyed by them); {dup!r} appears {n_dup} times")
    counts = _check_budgets(budgets)
    budget = int(counts.max())
    seeds = check_int(seeds, "seeds", low=1)
    n_jobs = check_n_jobs(n_jobs)
    progress = check_bool(progress, "progress")  # before any run: "no" is truthy
    strategy_options = {} if strategy_options is None else strategy_options
    if not isinstance(strategy_options, Mapping):
        raise ValidationError("strategy_options", f"must be a dict {{strategy: {{option: value}}}}, "
                                                  f"got {type(strategy_options).__name__}")
    for strat, opts in strategy_options.items():
        if strat not in strategies:
            # an option for a strategy that is not run would be silently ignored
            known = "is not among the strategies run" if strat in STRATEGIES else "is not a strategy"
            raise ValidationError("strategy_options", f"key {strat!r} {known}; strategies: {strategies}")
        if not isinstance(opts, Mapping):
            raise ValidationError("strategy_options", f"options of {strat!r} must be a dict, got {type(opts).__name__}")
        if "random_state" in opts:
            raise ValidationError("strategy_options", f"options of {strat!r} must not set random_state: the "
                                                      f"benchmark seeds every run (pass random_state= to it)")
        own = sorted({"prediction_log", "oracle", "budget", "strategy"} & set(opts))
        if own:  # select_model's own arguments, set by the benchmark: a TypeError "multiple values" before
            raise ValidationError("strategy_options", f"options of {strat!r} must not set {own}: the benchmark "
                                                      "sets them (budgets= for the budget)")
    for name, zoo in tasks:
        if zoo.probs is None:
            raise ValidationError("tasks", f"task {name!r} needs class probabilities (a classification PredictionLog)")
        if budget > zoo.n_points:
            raise ValidationError("budgets", f"the largest, {budget}, exceeds the {zoo.n_points} points of task "
                                             f"{name!r}")
    jobs, keys = [], []
    key = seed_key(random_state)
    n_chunks = max(1, min(seeds, 2 * _workers(n_jobs)))
    for ti, (name, zoo) in enumerate(tasks):
        if zoo.labels is None or not zoo.labelled.all():
            raise ValidationError("tasks", f"task {name!r} needs labels for every pool point")
        # keyed by the task's name, shared by the strategies: fixed before dispatch
        children = np.random.SeedSequence(key, spawn_key=(zlib.crc32(str(name).encode()),)).spawn(seeds)
        for si, strat in enumerate(strategies):
            for chunk in np.array_split(np.arange(seeds), n_chunks):
                if chunk.size:
                    jobs.append(delayed(_run_chunk)(zoo.probs, zoo.labels, strat, budget, [children[k] for k in chunk],
                                                    strategy_options.get(strat, {})))
                    keys.append((ti, si))
    # Option values (and names) are checked where a strategy is built, inside the runs: a bad one in the
    # options of the last strategy failed only after every run of the others. One label per strategy given
    # options, on the first task, from a seed of its own (the runs' seeds are untouched), fails it up front.
    name0, zoo0 = tasks[0]
    for strat, opts in strategy_options.items():
        select_model(zoo0.probs, zoo0.labels, 1, strategy=strat, random_state=0, **opts)
    out = run_delayed(jobs, n_jobs=n_jobs, progress=progress, desc="selection runs")
    curves, summary, runs = [], [], []
    for ti, (name, zoo) in enumerate(tasks):
        acc = zoo.accuracy().to_numpy()
        best = acc.max()
        for si, strat in enumerate(strategies):
            parts = [o for o, k in zip(out, keys) if k == (ti, si)]
            picks = np.concatenate([p for p, _ in parts])  # (seeds, budget)
            secs = np.concatenate([s for _, s in parts])
            acc_pick = acc[picks]
            exact = acc_pick >= best - 1e-12
            within = acc_pick >= best - 0.01 - 1e-12
            regret = 100 * (best - acc_pick)
            p_e, p_w = exact.mean(0), within.mean(0)
            se = lambda p: np.sqrt(p * (1 - p) / picks.shape[0])  # noqa: E731
            sel = counts - 1
            curves.append(pd.DataFrame({"task": name, "strategy": strat, "labels": counts, "p_best": p_e[sel],
                                        "p_best_se": se(p_e[sel]), "p_within_1pt": p_w[sel],
                                        "p_within_1pt_se": se(p_w[sel]), "mean_regret_points": regret.mean(0)[sel],
                                        "n_seeds": picks.shape[0]}))
            all_t = np.arange(1, budget + 1)
            f90, s90 = _first_and_stay(p_e, all_t)
            f90w, s90w = _first_and_stay(p_w, all_t)
            cum = regret[:, :100].sum(axis=1)
            runs.append(pd.DataFrame({"task": name, "strategy": strat, "seed": np.arange(picks.shape[0]),
                                      "cum_regret_100": cum, "final_pick": picks[:, -1],
                                      "final_regret_points": regret[:, -1]}))
            # how far the fraction falls once it has reached 90% (1 - this is the worst drawdown)
            min_after = float(p_e[int(f90) - 1:].min()) if np.isfinite(f90) else np.nan
            summary.append({"task": name, "strategy": strat, "labels_first_90": f90, "labels_stay_90": s90,
                            "labels_first_90_within_1pt": f90w, "labels_stay_90_within_1pt": s90w,
                            "min_p_best_after_first_90": min_after,
                            "cum_regret_100": cum.mean(), "cum_regret_100_se": cum.std(ddof=1) / np.sqrt(len(cum))
                            if len(cum) > 1 else np.nan, "final_p_best": p_e[-1], "ms_per_step": 1e3 * secs[:, 0].mean(),
                            "setup_ms": 1e3 * secs[:, 1].mean(), "n_seeds": picks.shape[0], "budget": budget})
    return SelectionBenchmark(curves=pd.concat(curves, ignore_index=True)[CURVE_COLUMNS],
                              summary=pd.DataFrame(summary)[SUMMARY_COLUMNS],
                              runs=pd.concat(runs, ignore_index=True)[RUN_COLUMNS])


def _risk_config_keys() -> tuple:
    """estimate_risk's keyword arguments a benchmark_risk config may set (probs, oracle, budget and
    random_state are the benchmark's), read from its signature so the two cannot drift apart."""
    import inspect

    from .risk import estimate_risk

    own = {"probs", "oracle", "budget", "random_state"}
    return tuple(k for k in inspect.signature(estimate_risk).parameters if k not in own)


def _one_shot(x) -> bool:
    """An iterator (iter(x) is x: a generator, a map), which a second pass finds empty."""
    try:
        return iter(x) is x
    except TypeError:
        return False


def _risk_chunk(probs, labels, config, budget, seeds, truth):
    from .risk import estimate_risk

    est = np.empty((len(seeds), budget))
    cover = np.empty((len(seeds), budget))
    for k, s in enumerate(seeds):
        # the SeedSequence itself, not default_rng(s): estimate_risk copies it before spawning a classifier
        # surrogate's seed, so every estimator (and every n_jobs) runs from the same, unadvanced child seed
        t = estimate_risk(probs, labels, budget, random_state=s, **config)
        # an undefined (NaN) interval neither covers nor misses: NaN, not 0
        undefined = np.isnan(t.ci_low) | np.isnan(t.ci_high)
        est[k], cover[k] = t.estimates, np.where(undefined, np.nan, (t.ci_low <= truth) & (truth <= t.ci_high))
    return est, cover


def benchmark_risk(probs, labels, estimators, budget, seeds=100, loss="zero_one", random_state=0,
                   n_jobs=None, progress=False) -> pd.DataFrame:
    """Monte Carlo accuracy of risk estimators for one model: MSE, bias and interval coverage per label count.

    ``estimators`` maps a name to keyword arguments of :func:`estimate_risk` (method, surrogate,
    floor, ...). A config may not set ``random_state`` (the benchmark seeds every run) nor a
    ``loss`` other than ``loss`` (the truth is computed under ``loss``). The name "iid" is the
    built-in uniform baseline: an "iid" entry replaces it if its method is "iid" and is an error
    otherwise. Returns a tidy frame with columns estimator, labels, mse, bias, bias_se, coverage,
    mse_ratio_vs_iid (MSE of a uniform iid run from the same seeds divided by this one's; > 1 is
    better than iid; NaN where both are 0, e.g. with every pool point labelled), mse_ratio_ci_low /
    mse_ratio_ci_high (a 95% BCa bootstrap interval of that ratio over the seeds, each seed's pair
    of runs resampled together: how far the ratio could move with other seeds; NaN with one seed or
    where this estimator's MSE is 0; the upper limit is inf where resamples in which the estimator is
    exact on every seed are too common to ignore; the baseline's is [1, 1]), true_risk, n_seeds; the iid baseline's rows come first.
    ``coverage`` is NaN at label counts where the interval is undefined (NaN, e.g. lure/iid with
    cross-entropy after one label), and ``bias_se`` is NaN with one seed. On chi-square-like squared
    errors at 100 seeds the ratio interval covers 93-95% (``tests/test_active_risk.py``).
    ``progress`` shows a progress bar over the runs. Run k of every estimator is
    ``estimate_risk(probs, labels, budget, random_state=seed_k, **config)`` with
    ``seed_k = np.random.SeedSequence(random_state).spawn(seeds)[k]`` for an int ``random_state``,
    whatever ``n_jobs``.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import benchmark_risk
    >>> rng = np.random.default_rng(0)
    >>> probs = rng.dirichlet(np.ones(3), size=300)
    >>> labels = rng.integers(0, 3, 300)
    >>> res = benchmark_risk(probs, labels, {"lure": {"method": "lure"}}, budget=20, seeds=10)
    >>> res.shape  # 2 estimators (the iid baseline first) x 20 label counts
    (40, 11)
    >>> list(res["estimator"].unique())
    ['iid', 'lure']
    >>> round(float(res["true_risk"].iloc[0]), 3)
    0.68
    >>> bool((res.loc[res["estimator"] == "iid", "mse_ratio_vs_iid"] == 1).all())
    True
    """
    from joblib import delayed

    from .._parallel import run_delayed

    from ..data import loss_matrix
    from .risk import LOSSES, estimate_risk

    check_pool_pairing([("probs", probs), ("labels", labels)])
    probs = check_probs_2d(probs)
    n, c = probs.shape
    if callable(labels):  # the labels are also the truth: every one is needed up front
        raise ValidationError("labels", "must be an array with every pool point's label, not a callable")
    labels = LabelOracle(labels, n, c, field="labels")._labels  # checked as estimate_risk checks an oracle
    budget = check_budget(budget, n)
    check_choice(loss, "loss", LOSSES)
    seeds = check_int(seeds, "seeds", low=1)
    n_jobs = check_n_jobs(n_jobs)
    progress = check_bool(progress, "progress")  # before any run: "no" is truthy
    if not isinstance(estimators, Mapping):
        raise ValidationError("estimators", f"must be a dict {{name: estimate_risk keyword arguments}}, "
                                            f"got {type(estimators).__name__}")
    for name, cfg in estimators.items():
        if not isinstance(cfg, Mapping):
            raise ValidationError("estimators", f"config of {name!r} must be a dict, got {type(cfg).__name__}")
        if "random_state" in cfg:
            raise ValidationError("estimators", f"config of {name!r} must not set random_state: the benchmark "
                                                f"seeds every run (pass random_state= to it)")
        allowed = _risk_config_keys()
        unknown = sorted(set(cfg) - set(allowed), key=str)
        if unknown:  # else a TypeError from inside a worker, after the other estimators have run
            raise ValidationError("estimators", f"config of {name!r} has unknown keyword(s) {unknown}; "
                                                f"estimate_risk takes {list(allowed)}")
        if cfg.get("loss", loss) != loss:
            raise ValidationError("estimators", f"config of {name!r} sets loss={cfg['loss']!r}, but the truth is "
                                                f"computed under the benchmark's loss={loss!r}; pass loss= to it")
        if name == "iid" and cfg.get("method", "lure") != "iid":  # estimate_risk's default method is lure
            raise ValidationError("estimators", "the name 'iid' is reserved for the uniform baseline; an 'iid' "
                                                "config must have method='iid' (rename this estimator)")
    # Every run reads the same config: a one-shot iterable (a generator of refit label counts) was used up
    # by the first run, so the others ran without refits (and could not be sent to joblib workers at all).
    # Read once here; what it holds is checked by estimate_risk.
    estimators = {name: {**cfg, "refit_schedule": tuple(cfg["refit_schedule"])}
                  if _one_shot(cfg.get("refit_schedule")) else cfg for name, cfg in estimators.items()}
    # Values are checked by estimate_risk itself, inside the runs: a bad one (floor=2, a surrogate of the
    # wrong shape) failed only after the baseline's runs and the estimators before it. One label per config
    # fails it up front (no classifier surrogate is fitted on one label) and leaves the runs' seeds untouched.
    for name, cfg in estimators.items():
        estimate_risk(probs, labels, 1, random_state=0, **{"loss": loss, **cfg})
    truth = float(loss_matrix(probs[None], labels, loss)[0].mean())
    children = spawn_seeds(random_state, seeds)  # the same seeds for every estimator
    chunks = [c for c in np.array_split(np.arange(seeds), 2 * _workers(n_jobs)) if c.size]
    # a user "iid" entry (method iid, checked above) replaces the baseline in its first place
    configs = {"iid": {"method": "iid"}, **{k: dict(v) for k, v in estimators.items()}}
    res = {}
    for name, cfg in configs.items():
        cfg.setdefault("loss", loss)
        parts = run_delayed((delayed(_risk_chunk)(probs, labels, cfg, budget, [children[i] for i in c], truth)
                             for c in chunks), n_jobs=n_jobs, progress=progress, desc=f"risk runs: {name}")
        res[name] = (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
    sq_iid = (res["iid"][0] - truth) ** 2  # (seeds, budget), paired by seed with every estimator's
    mse_iid = sq_iid.mean(0)
    rows = []
    for name, (est, cov) in res.items():
        sq = (est - truth) ** 2
        mse = sq.mean(0)
        with np.errstate(divide="ignore", invalid="ignore"):  # 0/0 once every loss is known: NaN, documented
            ratio = mse_iid / mse
        ci_low, ci_high = _ratio_interval(sq_iid, sq, name == "iid")
        bias_se = est.std(0, ddof=1) / np.sqrt(len(est)) if len(est) > 1 else np.full(budget, np.nan)
        rows.append(pd.DataFrame({"estimator": name, "labels": np.arange(1, budget + 1), "mse": mse,
                                  "bias": est.mean(0) - truth, "bias_se": bias_se,
                                  "coverage": cov.mean(0), "mse_ratio_vs_iid": ratio,
                                  "mse_ratio_ci_low": ci_low, "mse_ratio_ci_high": ci_high, "true_risk": truth,
                                  "n_seeds": len(est)}))
    return pd.concat(rows, ignore_index=True)


def _ratio_interval(sq_iid: np.ndarray, sq: np.ndarray, is_baseline: bool, alpha: float = 0.05):
    """95% interval of mean(sq_iid) / mean(sq) per label count, over seeds: a BCa bootstrap that resamples whole
    seeds, so each seed's iid and estimator errors stay paired. Squared errors are skewed (a few seeds carry most
    of an MSE), so a normal interval on the ratio would be too narrow on the side that matters. NaN where the
    ratio is undefined (the estimator's MSE is 0) or there is one seed; the baseline over itself is exactly 1."""
    import warnings

    from ..resample import bootstrap_ci

    budget = sq.shape[1]
    if is_baseline:
        one = np.where(sq.mean(0) > 0, 1.0, np.nan)
        return one, one.copy()
    low, high = np.full(budget, np.nan), np.full(budget, np.nan)
    ok = np.flatnonzero(sq.mean(0) > 0)
    if sq.shape[0] < 2 or not ok.size:
        return low, high
    with warnings.catch_warnings():
        # replicates whose resampled seeds all have zero error (an estimator exact on most seeds, near the full
        # pool) have no ratio; bootstrap_ci warns and leaves them out, which would cap the upper limit. Those
        # columns are redone below, counting such a replicate as an infinite ratio.
        warnings.filterwarnings("ignore", message="bootstrap: the statistic is undefined", category=RuntimeWarning)
        res = bootstrap_ci((sq_iid[:, ok], sq[:, ok]), "ratio", method="bca", alpha=alpha, random_state=0)
    low[ok], high[ok] = np.atleast_1d(res.ci_low), np.atleast_1d(res.ci_high)
    dist = np.asarray(res.bootstrap_distribution).reshape(-1, ok.size)
    bad = ok[np.isnan(dist).any(axis=0)]
    if bad.size:
        # the same resamples (same seed), as means of the numerator and the denominator: percentile limits with
        # x / 0 = inf (0 / 0, both exact on every resampled seed, is left out)
        k = bad.size
        means = np.asarray(bootstrap_ci(np.hstack([sq_iid[:, bad], sq[:, bad]]), "mean", method="percentile",
                                        random_state=0).bootstrap_distribution).reshape(-1, 2 * k)
        num, den = means[:, :k], means[:, k:]
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(den > 0, num / den, np.where(num > 0, np.inf, np.nan))
        low[bad] = np.nanquantile(r, alpha / 2, axis=0, method="lower")
        high[bad] = np.nanquantile(r, 1 - alpha / 2, axis=0, method="higher")
    return low, high
