"""How good are the models, judged from the labels a selection run bought?

After :func:`workbench.active.select_model` the natural next question is "how much better is the
pick than the others, and how sure is that?". The labels were not drawn uniformly: the strategy
chose them, each from a distribution that depended on the labels before it. Their plain averages
are then biased (auto and active_testing favour the points where models disagree, so every
model's labelled accuracy is far below its pool accuracy), but the trace records the probability
q_m with which each point was drawn, and LURE (Farquhar et al. 2021) re-weights them into
unbiased estimates of pool means for any such sequential design, as long as q_m > 0 on every
remaining point where the quantity is not zero:

    R_hat = (1/M) sum_m v_m x_m,  v_m = 1 + (N - M)/(N - m) * (1/((N - m + 1) q_m) - 1).

- Accuracy *differences* between two models are zero wherever the two predict the same class, so
  they are estimable from any strategy that samples every remaining point where models disagree
  with q > 0: ``auto`` (its uniform floor over the disagreement points), ``random`` and
  ``active_testing``.
- Absolute accuracies need q > 0 on the whole remaining pool (auto never labels a point where every
  model agrees before it has labelled all the others), and an interval that holds: given for
  uniform draws (``random``) only, see :func:`estimate_accuracies`.
- Greedy strategies (uncertainty, margin, Model Selector's and CODA's argmax choices) record no
  probability: their labels give no unbiased estimate, and asking is an error.

Standard errors. For a sampled design the usual plug-in forms (LURE's martingale form and the
exchangeable-terms form of :func:`workbench.active.estimate_risk`) estimate the spread from the
terms that were drawn. Under auto's design they fail for the models far behind the leaders: auto
labels mostly where the leaders differ, a trailing model's difference from the reference rests on
a few points drawn with the floor probability, and when none of those is drawn (most runs) the
estimate looks precise and is off (95% intervals covered 0.82 on the suite's synthetic zoo, 0.65
for some models). The trace alone cannot fix that, but the run can be *replayed*: the acquisition
distribution q_m over the whole pool at every step is a function of the labels before it (the
random draws only pick from it), so it is rebuilt here and checked against the recorded q of
every acquired point. With it the conditional variance of step m's term has a computable bound,
Var(x_i / q_i) <= sum over the remaining points where the two models predict differently of
1 / q_i (a difference is 0 elsewhere, and at most 1 in absolute value), and the standard error of
a difference is the larger of the plug-in one and this bound's sqrt(sum_m c_m^2 V_m) (LURE's
fixed weights c_m). Where every point on which two models differ is labelled, their difference
is exact (se 0). Coverage of the 95% intervals is in :func:`estimate_accuracies`' notes.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from .._validation import ValidationError, check_alpha
from .risk import _lure_se, _wilson_design_effect, lure_weights
from .selection import SelectionTrace, _as_zoo_probs, _make_strategy, _pool_fingerprint, _Zoo

__all__ = ["estimate_accuracies"]

# Half-width of a known value's interval: a pool accuracy or difference is known up to float rounding, which
# differs between ways of computing it (k / N, 1 - mean(losses), acc_h - acc_ref) by a few units in the last
# place of numbers of size <= 1 (2.2e-16 each).
EXACT_SLACK = 4 * np.finfo(np.float64).eps

def estimate_accuracies(trace: SelectionTrace, prediction_log, reference=None, alpha: float = 0.05) -> pd.DataFrame:
    """Each model's pool accuracy, and its difference from a reference model, from a selection's labels.

    Parameters
    ----------
    trace : SelectionTrace
        The output of :func:`workbench.active.select_model` (strategy auto, random or active_testing:
        the ones that sample their points; the run is replayed on ``prediction_log`` to rebuild
        the acquisition distribution of every step, at about the cost of the run itself).
    prediction_log : PredictionLog or array (n_models, n_points, n_classes)
        The same zoo the trace was run on, its models in the run's order (rows are matched to the
        trace by position): a log whose model names differ from the trace's is an error, and the
        rows of an array take the trace's names. Its probabilities must be the run's (bit for bit:
        select_model stores their hash in ``trace.diagnostics["pool_fingerprint"]``; another log of
        the same shape is refused).
    reference : int, str or None
        The model the differences are taken from (index or name); None is the trace's final pick.
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    DataFrame
        One row per model: ``model``, ``is_reference``, ``difference`` (pool accuracy minus the
        reference's: positive means better than the reference), ``se``, ``ci_low``, ``ci_high``,
        ``exact`` (every point where the model and the reference predict differently is labelled:
        the difference is known; its interval is it +- 4 machine epsilons, ~9e-16, for float
        rounding), ``n_informative`` (labels on which exactly one of the two was
        right), then ``accuracy``, ``accuracy_se``, ``accuracy_ci_low``, ``accuracy_ci_high`` for
        uniform draws (strategy random; NaN otherwise, unless every pool point is labelled: then
        exact, with se 0, for any of the three strategies above; a greedy strategy's trace records no
        q and is refused even then). ``attrs`` hold the reference, the strategy,
        the number of labels and alpha. The differences' intervals are normal, clipped to [-1, 1];
        the accuracies' are Wilson score intervals at the effective sample size p(1 - p) / se^2
        (:func:`workbench.active.estimate_risk`'s interval for the same labels), inside [0, 1] and
        defined from the first label (``accuracy_se`` is NaN there).

    Notes
    -----
    Measured (tests/test_active_trace_accuracy.py; 95% intervals of the differences from the most
    accurate model; scripts in the issue note):

    ====================  ==========================  =====================  ===================
    labels                zoo, seeds                   coverage (per model)   pick as reference
    ====================  ==========================  =====================  ===================
    auto, 60              5 models, 400 points, 150    0.993 (0.99-1.00)      0.996
    auto, 100             suite "synthetic", 60 seeds  0.999 (0.98-1.00)      0.998
    active_testing, 60    5 models, 400 points, 150    0.970 (0.96-0.98)      0.957
    random, 60            5 models, 400 points, 150    0.948 (0.92-0.96)      0.939
    ====================  ==========================  =====================  ===================

    The estimates are unbiased for every design (largest |mean - truth| 2.2 Monte Carlo standard
    errors, over the 39 pairs of the synthetic zoo and the 4 of the small one per design). Under auto's design the intervals are
    conservative (the bound assumes every point where two models differ has one of them right);
    the plug-in intervals alone covered 0.82 on the synthetic zoo, 0.65 for some models, and the
    bound alone 0.93. Absolute accuracies under active_testing's design covered 0.84 with the
    plug-in error and are not given. With random labels (same zoo, 400 seeds) the accuracies' Wilson
    intervals covered 0.977, 0.964 and 0.948 at 10, 20 and 60 labels (lowest model 0.95, 0.945,
    0.93); normal intervals on the same standard errors covered 0.906, 0.928 and 0.944 (lowest
    0.855 at 10 labels, and [1, 1] for a model right on every label drawn). For a model near 95%
    accuracy they can undercover at 10 labels, where the count of errors is discrete: 0.91 for a
    model at 0.949 on a 10-model, 1,097-point digits zoo (1,000 seeds; 8 of 10 right, probability
    0.09, gives an interval below 0.949); from 40 labels on every model there covered 0.94-0.97.

    The default reference is the pick, chosen *because* it did well on these labels, so its lead is
    optimistic in principle (the winner's curse); the last column is the coverage of the
    differences from the run's own pick. For a lead to report, buy a few fresh labels where the pick
    and the runner-up differ, uniformly at random.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.active import estimate_accuracies, select_model
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 500)
    >>> probs = np.stack([np.where(rng.random((500, 1)) < a, np.eye(3)[y], rng.dirichlet(np.ones(3), 500))
    ...                   for a in (0.5, 0.6, 0.7)])           # three models, pool accuracies ~0.67-0.80
    >>> trace = select_model(probs, y, 60, strategy="auto", random_state=0)
    >>> out = estimate_accuracies(trace, probs, reference=2)
    >>> truth = (probs.argmax(axis=2) == y).mean(axis=1)
    >>> bool(((out.ci_low <= truth - truth[2]) & (truth - truth[2] <= out.ci_high)).all())
    True
    >>> bool(out.loc[2, "difference"] == 0.0), list(out.columns[:4])
    (True, ['model', 'is_reference', 'difference', 'se'])
    """
    if not isinstance(trace, SelectionTrace):
        raise ValidationError("trace", f"must be a SelectionTrace (the output of select_model), got "
                                       f"{type(trace).__name__}")
    alpha = check_alpha(alpha)
    probs, names, _ = _as_zoo_probs(prediction_log)
    H, N, _ = probs.shape
    if H != len(trace.model_names) or N != trace.n_pool:
        raise ValidationError("prediction_log", f"has {H} models on {N} points, but the trace was run on "
                                                f"{len(trace.model_names)} models on {trace.n_pool} points")
    names = _run_names(names, trace)
    fp = trace.diagnostics.get("pool_fingerprint")
    if fp is not None and fp != _pool_fingerprint(probs):
        # a random run's q is 1 / n_remaining on any zoo: the replay below could not tell another log of the
        # same shape, and its predictions gave other numbers, silently
        raise ValidationError("prediction_log", "holds other probabilities than the zoo the trace was run on (its "
                                                "fingerprint, trace.diagnostics['pool_fingerprint'], differs)",
                              hint="pass the prediction_log the run was made on, the same models in the same order "
                                   "on the same points")
    q = np.asarray(trace.q, dtype=np.float64)
    M = q.size
    bad = ~(np.isfinite(q) & (q > 0) & (q <= 1))
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            "trace", f"records no acquisition probability (q) at {int(bad.sum())} of {M} steps (first: step "
                     f"{first}): strategy {trace.strategy!r} chose those points greedily, and labels chosen that "
                     "way give no unbiased estimate of pool accuracies",
            hint="run select_model with strategy='auto', 'random' or 'active_testing' (they record q)")
    preds = probs.argmax(axis=2)  # (H, N)
    idx = np.asarray(trace.indices, dtype=np.int64)
    y = np.asarray(trace.labels, dtype=np.int64)
    ref = _reference(reference, trace, names)
    differ = (preds != preds[ref]).astype(np.float64)  # (H, N): where a difference can be non-zero
    # One step of the replay at a time (a (budget, N) matrix of q would be 80 MB for 50,000 points):
    # V[m, h] = (1/N^2) sum over the points where h and the reference differ of 1 / q_m(i), and whether
    # every draw was uniform over the remaining pool.
    V = np.empty((M, H))
    uniform = True
    for m, qv in enumerate(_replay(trace, probs)):
        on = qv > 0
        w = np.where(on, 1.0 / np.where(on, qv, 1.0), 0.0)
        V[m] = differ @ w / N ** 2
        # to rounding: active_testing with floor=1 draws uniformly, its q renormalised (1 ulp off 1 / (N - m))
        uniform = uniform and int(on.sum()) == N - m and bool(np.all(np.abs(qv[on] * (N - m) - 1.0) <= 1e-12))

    right = (preds[:, idx] == y[None, :]).T.astype(np.float64)  # (M, H)
    D = right - right[:, [ref]]
    labelled = np.zeros(N, bool)
    labelled[idx] = True
    diff, se = _lure(D, q, N)
    se = np.fmax(se, _bound_se(V, N))
    # where every point on which a model and the reference differ is labelled, the difference is known
    exact = ~((differ > 0) & ~labelled[None, :]).any(axis=1)
    diff = np.where(exact, D.sum(axis=0) / N, diff)
    se = np.where(exact, 0.0, se)
    z = special.ndtri(1 - alpha / 2)
    # A known value's interval is the value up to float rounding (EXACT_SLACK): the same pool difference computed
    # as acc_h - acc_ref, or as 1 - mean(losses), differs from (right_h - right_ref) / N in the last bits, and a
    # zero-width interval left that truth out (3e-17 to 7e-17 off; a coverage check with <= counted a miss).
    half = np.where(exact, EXACT_SLACK, z * se)
    half[ref] = 0.0  # the reference against itself: 0, with no rounding to allow for
    out = pd.DataFrame({
        "model": list(names), "is_reference": np.arange(H) == ref, "difference": diff, "se": se,
        "ci_low": np.clip(diff - half, -1.0, 1.0), "ci_high": np.clip(diff + half, -1.0, 1.0),
        "exact": exact, "n_informative": np.count_nonzero(D != 0, axis=0)})
    # Every pool point labelled: the accuracies are known (exact, se 0) whatever the design, as the differences
    # are (they were NaN for auto and active_testing, beside differences marked exact).
    if uniform or M >= N:
        # Uniform draws (random labels): LURE is the plain mean and its plug-in error is calibrated. Under
        # a non-uniform design (active_testing) the plug-in interval of an accuracy under-covered (0.84 on a
        # five-model toy zoo, 150 seeds) and the bound, with |x| <= 1 on every point, is several times
        # wider than the spread: no absolute accuracy is given then.
        acc, acc_se = _lure(right, q, N)  # (every point labelled: _lure gives the pool means, se 0)
        lo, hi = _wilson_design_effect(acc, acc_se, M, 1.0 - M / N, z)
        if M >= N:  # every point labelled: the counts over N, and the known value's rounding slack (as above)
            acc = right.sum(axis=0) / N
            lo, hi = np.clip(acc - EXACT_SLACK, 0.0, 1.0), np.clip(acc + EXACT_SLACK, 0.0, 1.0)
        out["accuracy"], out["accuracy_se"] = acc, acc_se
        # Wilson at the effective sample size, as estimate_risk's interval for the same labels: the normal
        # interval covered 0.71-0.87 at 10 labels and 0.82-0.93 at 20 (imbalanced binary zoo, accuracies
        # 0.81-0.88, 1,000 seeds), and was the single point [1, 1] for a model right on every label drawn
        out["accuracy_ci_low"], out["accuracy_ci_high"] = lo, hi
    else:
        for c in ("accuracy", "accuracy_se", "accuracy_ci_low", "accuracy_ci_high"):
            out[c] = np.nan
    out.attrs.update({"reference": names[ref], "strategy": trace.strategy, "n_labels": M, "alpha": alpha})
    return out


def _replay(trace, probs):
    """The acquisition distribution over the pool before each step of the run, (N,) per step.

    Rebuilt by running the strategy again on the recorded labels: its q depends only on the labels
    before it (auto's eps and prior strength, which the run chose at random or from the zoo, come
    from the trace's diagnostics, its other options from ``diagnostics["options"]``). The recorded q
    of every acquired point must come out again (to 1e-9 relative), which also checks that the trace
    was run on this zoo."""
    zoo = _Zoo(probs)
    needed = {"auto": ("eps", "prior_labels"), "model_selector": ("eps",)}.get(trace.strategy, ())
    missing = [k for k in needed if k not in trace.diagnostics]
    if missing:
        raise ValidationError("trace", f"its diagnostics lack {missing}, which the replay of a {trace.strategy!r} run "
                                       "needs (a trace built by hand?)", hint="use the trace select_model returned")
    options = dict(trace.diagnostics.get("options", {}))
    if trace.strategy == "auto":
        # the CODA pool changes the pick, not the acquisition: left out, the replay is cheaper
        options.update(eps=trace.diagnostics["eps"], prior_labels=trace.diagnostics["prior_labels"],
                       coda_weight=0.0)
    elif trace.strategy in ("model_selector", "coda"):
        # a finite q on every step: no point where models disagree was left, each draw was uniform
        options = {"eps": trace.diagnostics["eps"]} if trace.strategy == "model_selector" else {}
    strat = _make_strategy(zoo, np.random.default_rng(0), trace.budget, trace.strategy, options)
    for m, (i, y) in enumerate(zip(trace.indices, trace.labels)):  # a loop over labels, as the run itself
        qv = strat.q_vector()  # None for a greedy step (no trace with one gets here: its q is NaN)
        if qv is None or not np.isclose(qv[i], trace.q[m], rtol=1e-9, atol=0.0):
            got = "none" if qv is None else f"{qv[i]:.6g}"
            raise ValidationError("trace", f"does not replay on this prediction_log: at step {m} the run drew point "
                                           f"{int(i)} with q = {trace.q[m]:.6g}, the replay gives {got}",
                                  hint="pass the prediction_log the run was made on (select_model's options are "
                                       "read from trace.diagnostics)")
        yield qv
        strat.observe(int(i), int(y))


def _bound_se(V: np.ndarray, N: int) -> np.ndarray:
    """sqrt(sum_m c_m^2 V[m]), V[m] (per model) a bound on the conditional variance of LURE's step-m term
    (LURE = sum_m c_m Y_m with c_m = N (N - M) / (M (N - m) (N - m + 1)); see ``risk._lure_se``)."""
    M = V.shape[0]
    if M >= N:
        return np.zeros(V.shape[1])
    m = np.arange(1, M + 1, dtype=np.float64)
    c = N * (N - M) / (M * (N - m) * (N - m + 1))
    return np.sqrt((c ** 2) @ V)


def _run_names(names, trace) -> tuple:
    """The models' names for the output, checked against the run's: rows are matched to the trace by
    position (its picks are indices), so a log holding the same models in another order is refused. Every
    strategy that records q replays the same on such a log (random and active_testing ignore the models'
    order, auto's q is symmetric in them), and the pick's index then named another model, which was
    silently taken as the reference. The default names ``model_0, model_1, ...`` (an array) carry no
    order: an array passed here takes the trace's names, a trace run on an array takes the log's."""
    names, run = tuple(names), tuple(trace.model_names)
    default = tuple(f"model_{j}" for j in range(len(run)))
    if names == run or names == default:
        return run
    if run == default:
        return names
    off = [j for j in range(len(run)) if names[j] != run[j]]
    same = sorted(names) == sorted(run)
    what = "the trace's models in another order" if same else "other models than the trace's run"
    raise ValidationError("prediction_log", f"holds {what} (rows are models; model {off[0]} is {names[off[0]]!r} "
                                            f"here, {run[off[0]]!r} in the trace)", len(off), off[0], len(run),
                          hint="pass the log the run was made on, e.g. log.subset_models([list(log.model_names)"
                               ".index(m) for m in trace.model_names])" if same else
                          "pass the log the run was made on (rows are matched to the trace by position)")


def _reference(reference, trace, names) -> int:
    if reference is None:
        return int(trace.chosen[-1])
    if isinstance(reference, str):
        if reference not in names:
            raise ValidationError("reference", f"{reference!r} is not a model of the zoo ({len(names)} models: "
                                               f"{list(names)[:5]}{' ...' if len(names) > 5 else ''})")
        return list(names).index(reference)
    if isinstance(reference, (bool, np.bool_)) or not isinstance(reference, (int, np.integer)):
        raise ValidationError("reference", f"must be a model index, a model name or None, got {reference!r}")
    if not 0 <= int(reference) < len(names):
        raise ValidationError("reference", f"must be in [0, {len(names)}), got {reference}")
    return int(reference)


def _lure(X: np.ndarray, q: np.ndarray, N: int):
    """LURE estimates of the pool means of the columns of X (M, k) and their standard errors: the larger
    of the martingale and the exchangeable-terms forms, as :func:`workbench.active.estimate_risk`
    reports them (``risk._lure_se`` says why both)."""
    M = X.shape[0]
    if M >= N:
        return X.mean(axis=0), np.zeros(X.shape[1])
    v = lure_weights(q, N)
    est = v @ X / M
    if M < 2:
        return est, np.full(X.shape[1], np.nan)
    # a loop over columns (models), each O(M): _lure_se is written for one loss column
    mart = np.array([_lure_se(X[:, h], q, N, est[h])[-1] for h in range(X.shape[1])])
    exch = np.sqrt((v[:, None] * X).var(axis=0, ddof=1) / M * (1.0 - M / N))
    return est, np.fmax(mart, exch)
