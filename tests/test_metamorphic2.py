"""Metamorphic relations, part 2: the public functions test_metamorphic.py leaves uncovered.

Benchmarks and simulation loops (benchmark_estimators, bandwidth_sweep / bandwidth_monte_carlo,
benchmark_selection, benchmark_risk, the validity reports), the cross-validation helpers (nested_cv,
ncv_interval, learning_curve_ci, repeated_cv, cv_scores_two, null_cv_scores), bootstrap_error and
point632plus, McNemar's table and Tango's statistic, temporal validation, the simulators, loss_matrix
and the result types' to_frame() round trips.

Each test transforms an input, or computes the same thing by a second documented route (a replicate
re-run from its documented seed, a manual loop over the same splits, a smaller grid), and checks the
output moves exactly as the relation says. Everything is seeded and tiny.
"""
from __future__ import annotations

import warnings
import zlib

import numpy as np
import pandas as pd
import pytest

from test_metamorphic import K, N, _close, _log, _pool, _world  # the shared helpers of part 1

from workbench.data import (BanditLog, ContinuousBanditLog, PredictionLog, classification_to_bandit, loss_matrix,
                            make_model_zoo, simulate_bandit, simulate_pricing, simulate_routing)
from workbench.ope import (UniformPolicy, bandwidth_monte_carlo, bandwidth_sweep, benchmark_estimators,
                           compare_policies, evaluate_continuous_policy, evaluate_policy, slope_select,
                           smoothed_policy_weights, summarise_replicates, threshold_family)


@pytest.fixture(autouse=True)
def _quiet():
    # diagnostics and convergence warnings are not what these tests are about
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _threads(n_jobs=2):
    """Two joblib workers as threads: the n_jobs code path (dispatch, ordering, seeding) without the
    cost of starting processes on a shared 2-core machine."""
    from joblib import parallel_config

    return parallel_config(backend="threading", n_jobs=n_jobs)


def _frame_equal(a: pd.DataFrame, b: pd.DataFrame, rtol=1e-12, atol=1e-14):
    assert list(a.columns) == list(b.columns)
    assert len(a) == len(b)
    for c in a.columns:
        if pd.api.types.is_numeric_dtype(a[c]) and not pd.api.types.is_bool_dtype(a[c]):
            _close(a[c], b[c], rtol, atol)
        else:
            assert a[c].tolist() == b[c].tolist(), c


# ==============================================================================================
# OPE: compare_policies, slope_select, benchmark_estimators
# ==============================================================================================
def _pols(w):
    return {"target": w["pe"], "uniform": np.full((N, K), 1.0 / K), "logger": w["pb"]}


@pytest.mark.parametrize("estimator, shift", [("dr", 1.5), ("snips", -2.0), ("ips", 0.0)])
def test_compare_policies_reward_affine(estimator, shift):
    """r -> m + s r and q -> m + s q (s > 0): every value and interval end moves to m + s x, se and the
    pairwise differences with their intervals scale by s, and nothing that is decided (rank,
    prob_best, prob_a_better, the pessimistic choice, the best estimate) changes: the replicates are
    the same resamples of affinely mapped terms. (IPS is checked for scaling only: it is not
    shift-equivariant.)"""
    w = _world(21, reward="continuous")
    s = 2.5
    kw = dict(estimator=estimator, n_bootstrap=300, random_state=5)
    base = compare_policies(_log(w), _pols(w), reward_model=w["q"], **kw)
    moved = compare_policies(_log(w, r=shift + s * w["r"]), _pols(w), reward_model=shift + s * w["q"], **kw)
    for col in ("value", "ci_low", "ci_high"):
        _close(moved.summary[col], shift + s * base.summary[col], rtol=1e-9, atol=1e-9)
    _close(moved.summary["se"], s * base.summary["se"], rtol=1e-7)
    for col in ("difference", "ci_low", "ci_high", "se"):
        _close(moved.pairwise[col], s * base.pairwise[col], rtol=1e-7, atol=1e-9)
    assert moved.summary["policy"].tolist() == base.summary["policy"].tolist()
    _close(moved.summary["rank"], base.summary["rank"])
    _close(moved.summary["prob_best"], base.summary["prob_best"])
    _close(moved.pairwise["prob_a_better"], base.pairwise["prob_a_better"])
    assert (moved.choice, moved.best_estimate) == (base.choice, base.best_estimate)


def test_compare_policies_bonferroni_alpha_and_more_resamples():
    """adjust="bonferroni" is alpha / m on the per-policy intervals only: its summary equals adjust="none"
    at alpha / m, its pairwise table equals adjust="none" at alpha. A larger alpha nests the intervals
    inside the smaller alpha's (same replicates); more resamples move no point estimate, rank or
    best estimate. Internally: differences are differences of the summary's values, prob_best sums to 1
    and never exceeds the share of replicates in which the policy beats any one other (with two policies
    it is that share), the choice has the highest lower bound."""
    w = _world(22)
    pols = _pols(w)
    m = len(pols)
    kw = dict(estimator="dr", reward_model=w["q"], n_bootstrap=300, random_state=6)
    bon = compare_policies(_log(w), pols, alpha=0.1, adjust="bonferroni", **kw)
    plain = compare_policies(_log(w), pols, alpha=0.1, **kw)
    at_m = compare_policies(_log(w), pols, alpha=0.1 / m, **kw)
    _frame_equal(bon.summary, at_m.summary)
    _frame_equal(bon.pairwise, plain.pairwise)
    wide = at_m.summary.set_index("policy")
    narrow = plain.summary.set_index("policy").loc[wide.index]
    assert (wide["ci_low"] <= narrow["ci_low"]).all() and (narrow["ci_high"] <= wide["ci_high"]).all()
    _close(narrow["value"], wide["value"])
    _close(narrow["se"], wide["se"])
    more = compare_policies(_log(w), pols, alpha=0.1, **{**kw, "n_bootstrap": 900})
    _close(more.summary["value"], plain.summary["value"])
    assert more.summary["policy"].tolist() == plain.summary["policy"].tolist()
    assert more.best_estimate == plain.best_estimate
    val = plain.summary.set_index("policy")["value"]
    _close(plain.pairwise["difference"], val[plain.pairwise["policy_a"]].to_numpy()
           - val[plain.pairwise["policy_b"]].to_numpy())
    _close(plain.summary["prob_best"].sum(), 1.0)
    pb = plain.summary.set_index("policy")["prob_best"]
    for _, row in plain.pairwise.iterrows():  # winning a replicate means beating each other policy in it
        assert pb[row["policy_a"]] <= row["prob_a_better"] + 1e-12
        assert pb[row["policy_b"]] <= 1 - row["prob_a_better"] + 1e-12
    two = compare_policies(_log(w), {k: pols[k] for k in ("target", "uniform")}, alpha=0.1, **kw)
    _close(two.summary.set_index("policy").loc["target", "prob_best"], two.pairwise["prob_a_better"].item())
    assert plain.choice == plain.summary.loc[plain.summary["ci_low"].idxmax(), "policy"]
    assert plain.best_estimate == plain.summary.loc[plain.summary["rank"] == 1, "policy"].item()


@pytest.mark.parametrize("resampling", ["poisson", "multinomial"])
def test_compare_policies_row_permutation_with_unit_ids(resampling):
    """Poisson weights keyed by unit id, multinomial draws of units numbered in sorted id order: shuffling
    the rows of the log (ids, targets and reward model moving with them) gives the same comparison,
    intervals included."""
    w = _world(23)
    kw = dict(estimator="dr", n_bootstrap=300, random_state=7, resampling=resampling)
    base = compare_policies(_log(w, unit_id=w["unit"]), _pols(w), reward_model=w["q"], **kw)
    p = np.random.default_rng(3).permutation(N)
    w2 = {k: (v[p] if isinstance(v, np.ndarray) and v.shape[:1] == (N,) else v) for k, v in w.items()}
    moved = compare_policies(_log(w2, unit_id=w["unit"][p]), _pols(w2), reward_model=w2["q"], **kw)
    _frame_equal(moved.summary, base.summary, rtol=1e-10, atol=1e-12)
    _frame_equal(moved.pairwise, base.pairwise, rtol=1e-10, atol=1e-12)


def test_slope_select_band_width_monotone_and_path_is_evaluate_policy():
    """SLOPE accepts member i when |theta_i - theta_j| <= c (sigma_i + sigma_j) for every earlier j, so
    a larger c never chooses an earlier member, the accepted members are a prefix ending at the chosen
    one, and a huge c accepts the whole family. Each path row (value, se) is evaluate_policy's for that
    member on the same seed and resamples, and low / high are value -+ c se."""
    w = _world(24, reward="continuous")
    fam = threshold_family("ips", [np.inf, 30, 10, 5, 3, 2, 1.5, 1.2, 1])
    chosen = []
    for c in (0.05, 0.3, 1.0, 2.0, 4.0, 1e6):
        res = slope_select(_log(w), w["pe"], fam, c=c, n_bootstrap=200, random_state=2)
        acc = res.path["accepted"].to_numpy()
        assert acc[:res.index + 1].all() and not acc[res.index + 1:].any()
        assert res.path["chosen"].to_numpy().nonzero()[0].tolist() == [res.index]
        _close(res.path["low"], res.path["value"] - c * res.path["se"])
        _close(res.path["high"], res.path["value"] + c * res.path["se"])
        chosen.append(res.index)
    assert chosen == sorted(chosen), chosen
    assert chosen[-1] == len(fam) - 1 and chosen[0] < chosen[-1]
    ev = evaluate_policy(_log(w), w["pe"], estimators=fam, n_bootstrap=200, random_state=2, warn=False)
    _close(res.path["value"], ev["value"], rtol=1e-12)
    _close(res.path["se"], ev["se"], rtol=1e-10)


@pytest.mark.parametrize("c", [0.3, 0.5])
def test_slope_select_shift_equivariant_family(c):
    """For a shift-equivariant family (DR clipped, Switch-DR) r -> r + m and q -> q + m move every
    member's value by m and leave the se, so the bands move together and SLOPE picks the same member
    (here members 5 and 1, 5 and 4 of 6: not only the ends)."""
    w = _world(25, reward="continuous")
    for kind in ("dr", "switch-dr"):
        fam = threshold_family(kind, [np.inf, 20, 8, 4, 2, 1])
        base = slope_select(_log(w), w["pe"], fam, reward_model=w["q"], c=c, n_bootstrap=200)
        moved = slope_select(_log(w, r=w["r"] - 3.0), w["pe"], fam, reward_model=w["q"] - 3.0, c=c,
                             n_bootstrap=200)
        assert moved.index == base.index
        _close(moved.path["value"], base.path["value"] - 3.0, rtol=1e-9, atol=1e-9)
        _close(moved.path["se"], base.path["se"], rtol=1e-7)


def _sim_bandit(seed):
    return simulate_bandit(150, n_actions=3, random_state=seed)


def test_benchmark_estimators_replicates_reproduce_and_do_not_depend_on_workers():
    """Documented: replicate r is evaluate_policy(log, policy, random_state=child) on
    ``log, truth = simulate(child)`` with child = SeedSequence(random_state).spawn(R)[r]. The summary is
    summarise_replicates of the replicate frame (rmse^2 = bias^2 + error_sd^2 (R - 1) / R), the order
    of the estimators changes no estimator's numbers, and n_jobs changes nothing."""
    est = ["ips", "snips", "dm"]
    kw = dict(n_replicates=3, n_bootstrap=60, random_state=11)
    bench = benchmark_estimators(_sim_bandit, UniformPolicy(), est, **kw)
    for r, child in enumerate(np.random.SeedSequence(11).spawn(3)):
        log, truth = _sim_bandit(child)
        dist = UniformPolicy().action_dist(log)
        one = evaluate_policy(log, dist, estimators=est, n_bootstrap=60, random_state=child, warn=False)
        rep = bench.replicates[bench.replicates["replicate"] == r]
        _close(rep["value"], one["value"], rtol=1e-12)
        _close(rep["ci_low"], one["ci_low"], rtol=1e-12)
        _close(rep["ci_high"], one["ci_high"], rtol=1e-12)
        _close(rep["truth"], truth.policy_value(dist))
    _frame_equal(summarise_replicates(bench.replicates), bench.summary)
    s = bench.summary
    _close(s["rmse"] ** 2, s["bias"] ** 2 + s["error_sd"] ** 2 * (s["n_replicates"] - 1) / s["n_replicates"],
           rtol=1e-10)
    rev = benchmark_estimators(_sim_bandit, UniformPolicy(), est[::-1], **kw).summary.set_index("estimator")
    _frame_equal(rev.loc[s["estimator"]].reset_index(), s)
    with _threads():
        par = benchmark_estimators(_sim_bandit, UniformPolicy(), est, n_jobs=2, **kw)
    _frame_equal(par.replicates, bench.replicates)
    _frame_equal(par.summary, bench.summary)


def test_summarise_replicates_row_order_and_units():
    """summarise_replicates reads each estimator's replicates as a set: shuffling the rows changes no
    estimator's numbers. Measuring values, intervals and truths in other units (x -> s x, s > 0) scales
    the mean, truth, bias and its se, error_sd, rmse and mean width by s and leaves coverage, relative
    errors and the ranking; a common shift of all four moves only mean, truth_mean and the relative errors."""
    rng = np.random.default_rng(12)
    R = 30
    truth = rng.normal(0.5, 0.05, R)
    reps = pd.concat([pd.DataFrame({"estimator": name, "value": truth + rng.normal(b, sd, R), "truth": truth})
                      for name, b, sd in (("a", 0.0, 0.05), ("b", 0.03, 0.02), ("c", -0.01, 0.08))],
                     ignore_index=True)
    half = 1.96 * np.array([0.05, 0.02, 0.08]).repeat(R)
    reps["ci_low"], reps["ci_high"] = reps["value"] - half, reps["value"] + half
    base = summarise_replicates(reps).set_index("estimator")
    shuffled = summarise_replicates(reps.sample(frac=1.0, random_state=1)).set_index("estimator")
    _frame_equal(shuffled.loc[base.index].reset_index(), base.reset_index(), rtol=1e-10, atol=1e-13)
    cols = ["value", "ci_low", "ci_high", "truth"]
    scaled = summarise_replicates(reps.assign(**{c: 7.0 * reps[c] for c in cols}))
    assert scaled["estimator"].tolist() == base.index.tolist()
    scaled = scaled.set_index("estimator")
    for col in ("mean", "truth_mean", "bias", "bias_se", "error_sd", "rmse", "mean_width"):
        _close(scaled[col], 7.0 * base[col], rtol=1e-10, atol=1e-14)
    for col in ("coverage", "coverage_se", "relative_error_mean", "relative_error_sd", "n_replicates"):
        _close(scaled[col], base[col], rtol=1e-10, atol=1e-14)
    shifted = summarise_replicates(reps.assign(**{c: reps[c] + 3.0 for c in cols})).set_index("estimator")
    for col in ("bias", "bias_se", "error_sd", "rmse", "mean_width", "coverage"):
        _close(shifted.loc[base.index, col], base[col], rtol=1e-8, atol=1e-12)


# ==============================================================================================
# OPE, continuous actions: bandwidth_sweep and bandwidth_monte_carlo
# ==============================================================================================
def _q_price(X, a):
    # a fixed reward model in the simulator's units (no fitting, no randomness)
    return a * 1.0 / (1.0 + np.exp(-(5.5 + X[:, 0] - a)))


def test_bandwidth_sweep_rows_are_evaluate_continuous_policy_and_grid_independent():
    """Each bandwidth's rows are evaluate_continuous_policy at that bandwidth with the sweep's seed (one
    key for every bandwidth: a Generator gives one key, shared), so a smaller or reordered grid gives the
    same rows for the bandwidths it keeps, and a regressor reward model is cross-fitted once, on the folds
    evaluate_continuous_policy would use; the truth columns are error = value - V(pi), smoothing_bias =
    V(pi_h) - V(pi), rmse_proxy = sqrt(smoothing_bias^2 + se^2), with V(pi_h) the truth's policy_value."""
    log, truth = simulate_pricing(400, random_state=3)
    c = truth.optimal_action()
    kw = dict(estimators=["ips", "snips", "dr"], reward_model=_q_price, n_bootstrap=120)
    full = bandwidth_sweep(log, c, [0.3, 1.0, 3.0], truth=truth, random_state=4, **kw)
    part = bandwidth_sweep(log, c, [3.0, 0.3], truth=truth, random_state=4, **kw)
    cols = list(part.columns)
    for h in (0.3, 3.0):
        _frame_equal(part[part["bandwidth"] == h].reset_index(drop=True),
                     full[full["bandwidth"] == h][cols].reset_index(drop=True))
    for h in (0.3, 1.0, 3.0):
        rows = full[full["bandwidth"] == h].reset_index(drop=True)
        one = evaluate_continuous_policy(log, c, bandwidth=h, random_state=4, warn=False, **kw)
        for col in ("value", "ci_low", "ci_high", "se", "ess", "ess_terms"):
            _close(rows[col], one[col], rtol=1e-12)
        v, vh = truth.policy_value(c), truth.policy_value(c, bandwidth=h)
        _close(rows["smoothed_value"], vh)
        _close(rows["error"], rows["value"] - v)
        _close(rows["smoothing_bias"], vh - v)
        _close(rows["rmse_proxy"], np.sqrt((vh - v) ** 2 + rows["se"] ** 2))
    from sklearn.linear_model import Ridge

    fit = dict(estimators=["dr", "dm"], reward_model=Ridge(), n_bootstrap=60)  # cross-fitted once, same folds
    sw = bandwidth_sweep(log, c, [0.5, 2.0], random_state=4, **fit)
    for h in (0.5, 2.0):
        one = evaluate_continuous_policy(log, c, bandwidth=h, random_state=4, warn=False, **fit)
        _close(sw.loc[sw["bandwidth"] == h, ["value", "ci_low", "ci_high"]], one[["value", "ci_low", "ci_high"]],
               rtol=1e-12)
    from workbench._random import seed_key

    g = bandwidth_sweep(log, c, [0.3, 3.0], random_state=np.random.default_rng(8), **kw)
    key = seed_key(np.random.default_rng(8))
    for h in (0.3, 3.0):
        one = evaluate_continuous_policy(log, c, bandwidth=h, random_state=key, warn=False, **kw)
        _close(g.loc[g["bandwidth"] == h, "ci_low"], one["ci_low"], rtol=1e-12)


def _sim_price(rs):
    return simulate_pricing(200, random_state=rs)


def test_bandwidth_monte_carlo_matches_a_manual_loop_and_is_grid_independent():
    """Replicate r is simulate(default_rng(SeedSequence(random_state).spawn(R)[r])); its kernel IPS /
    SNIPS are means of smoothed_policy_weights times rewards. The table's mean_estimate, sd, bias,
    true_value and smoothing_bias are those of that loop; a smaller bandwidth grid or estimator list gives
    the same rows for what it keeps (the replicates do not depend on the grid)."""
    target = lambda log, t: t.optimal_action()  # noqa: E731
    hs = [0.5, 2.0]
    out = bandwidth_monte_carlo(_sim_price, target, hs, n_replicates=4, random_state=9)
    est = {h: [] for h in hs}
    v, vh = [], {h: [] for h in hs}
    for child in np.random.SeedSequence(9).spawn(4):
        log, truth = _sim_price(np.random.default_rng(child))
        cc = truth.optimal_action()
        v.append(truth.policy_value(cc))
        for h in hs:
            wgt = smoothed_policy_weights(log, cc, h)
            est[h].append([np.mean(wgt * log.reward), np.mean(wgt * log.reward) / np.mean(wgt)])
            vh[h].append(truth.policy_value(cc, bandwidth=h))
    v = np.array(v)
    for h in hs:
        e = np.array(est[h])
        rows = out[out["bandwidth"] == h].set_index("estimator").loc[["ips", "snips"]]
        _close(rows["mean_estimate"], e.mean(axis=0), rtol=1e-10)
        _close(rows["sd"], e.std(axis=0, ddof=1), rtol=1e-8)
        _close(rows["bias"], (e - v[:, None]).mean(axis=0), rtol=1e-8, atol=1e-12)
        _close(rows["true_value"], v.mean())
        _close(rows["smoothing_bias"], np.mean(np.array(vh[h]) - v), rtol=1e-8, atol=1e-12)
    small = bandwidth_monte_carlo(_sim_price, target, [2.0], estimators=["snips"], n_replicates=4, random_state=9)
    _frame_equal(small, out[(out["bandwidth"] == 2.0) & (out["estimator"] == "snips")].reset_index(drop=True))


# ==============================================================================================
# resample: cross-validation helpers
# ==============================================================================================
def _clf_data(seed=0, n=120):
    from sklearn.datasets import make_classification

    return make_classification(n_samples=n, n_features=5, n_informative=3, n_redundant=0, random_state=seed)


def _reg_data(seed=0, n=60, d=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    y = X @ np.linspace(1.0, -1.0, d) + rng.normal(0, 0.7, n)
    return X, y


def test_nested_cv_is_a_manual_outer_loop_and_repeated_cv_without_search():
    """nested_cv's outer_cv=k with random_state is the documented shuffled StratifiedKFold(k, random_state):
    both give the same result, and each outer score is a clone of the procedure fitted on the outer
    training rows and scored on the outer test rows. For a plain estimator (nothing to tune) the outer
    loop is repeated_cv with one repetition: same scores, same Nadeau-Bengio interval. Several procedures
    share the outer splits, so each one's rows equal its solo run whatever the dict's order; a larger
    alpha nests the interval."""
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.tree import DecisionTreeClassifier

    from workbench.resample import nested_cv, repeated_cv

    X, y = _clf_data(1)
    search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3]}, cv=3)
    r = nested_cv(search, X, y, outer_cv=4, random_state=7)
    skf = StratifiedKFold(4, shuffle=True, random_state=7)
    r2 = nested_cv(search, X, y, outer_cv=skf)
    _frame_equal(r.scores, r2.scores)
    _frame_equal(r.summary, r2.summary)
    manual = [clone(search).fit(X[tr], y[tr]).score(X[te], y[te]) for tr, te in skf.split(X, y)]
    _close(r.scores["score"], manual)
    lr = LogisticRegression(max_iter=500)
    nc = nested_cv(lr, X, y, outer_cv=4, random_state=7)
    rc = repeated_cv(lr, X, y, n_splits=4, n_repeats=1, random_state=7)
    _close(nc.scores["score"], rc.scores.ravel(), rtol=1e-12)
    nb = rc.intervals.set_index("interval").loc["nadeau-bengio"]
    for col in ("value", "ci_low", "ci_high", "se"):
        _close(nc.summary[col].iloc[0], nb[col], rtol=1e-12)
    both = nested_cv({"tree": search, "logreg": lr}, X, y, outer_cv=4, random_state=7)
    rev = nested_cv({"logreg": lr, "tree": search}, X, y, outer_cv=4, random_state=7)
    for name, solo in (("tree", r), ("logreg", nc)):
        for res in (both, rev):
            got = res.summary[res.summary["algorithm"] == name].drop(columns="algorithm").reset_index(drop=True)
            _frame_equal(got, solo.summary.drop(columns="algorithm"))
    wide = nested_cv(lr, X, y, outer_cv=4, random_state=7, alpha=0.3).summary.iloc[0]
    base = nc.summary.iloc[0]
    _close([wide["value"], wide["se"]], [base["value"], base["se"]])
    assert base["ci_low"] <= wide["ci_low"] <= wide["ci_high"] <= base["ci_high"]


def test_ncv_interval_seeds_workers_loss_units_and_alpha():
    """ncv_interval draws its fold assignments from check_random_state(random_state): an int and
    default_rng of that int are the same run, and n_jobs changes nothing (the draws are made in the
    calling process). Least squares with squared loss: y -> s y scales value, se, bias and the interval
    by s^2 and leaves the inflation factor; permuting the feature columns changes nothing. A larger
    alpha keeps value and se and nests the interval."""
    from sklearn.linear_model import LinearRegression

    from workbench.resample import ncv_interval

    X, y = _reg_data(2, n=48)
    kw = dict(n_folds=4, n_reps=2, progress=False)
    a = ncv_interval(LinearRegression(), X, y, random_state=3, **kw)
    b = ncv_interval(LinearRegression(), X, y, random_state=np.random.default_rng(3), **kw)
    _frame_equal(a, b)
    with _threads():
        c = ncv_interval(LinearRegression(), X, y, random_state=3, n_jobs=2, **kw)
    _frame_equal(a, c)
    s = 7.0
    d = ncv_interval(LinearRegression(), X, s * y, random_state=3, **kw)
    for col in ("value", "ci_low", "ci_high", "se", "bias", "raw_mean"):
        _close(d[col], s**2 * a[col], rtol=1e-8, atol=1e-10)
    _close(d["inflation"], a["inflation"], rtol=1e-8)
    _close(d["inflation_raw"], a["inflation_raw"], rtol=1e-6)
    e = ncv_interval(LinearRegression(), X[:, [2, 0, 1]], y, random_state=3, **kw)
    num = a.select_dtypes("number").columns
    _close(e[num], a[num], rtol=1e-8, atol=1e-12)
    f = ncv_interval(LinearRegression(), X, y, random_state=3, alpha=0.4, **kw)
    _close(f[["value", "se"]], a[["value", "se"]])
    assert ((a["ci_low"] <= f["ci_low"]) & (f["ci_high"] <= a["ci_high"])).all()


def test_learning_curve_full_size_is_repeated_cv_and_scales_with_the_target():
    """Documented: with equal training folds, learning_curve_ci's row at the full training size is
    repeated_cv's Nadeau-Bengio row (the same splits for the same random_state). With least squares and
    MSE, y -> s y scales every size's value, interval, se and train score by s^2."""
    from sklearn.linear_model import LinearRegression

    from workbench.resample import learning_curve_ci, repeated_cv

    X, y = _reg_data(3, n=60)
    kw = dict(scoring="neg_mean_squared_error", n_splits=5, n_repeats=2, random_state=3)
    lc = learning_curve_ci(LinearRegression(), X, y, train_sizes=(0.5, 1.0), **kw)
    rc = repeated_cv(LinearRegression(), X, y, **kw)
    full = lc[lc["train_size"] == 48].iloc[0]
    nb = rc.intervals.set_index("interval").loc["nadeau-bengio"]
    for col in ("value", "ci_low", "ci_high", "se"):
        _close(full[col], nb[col], rtol=1e-9)
    assert full["J"] == rc.scores.size
    s = 4.0
    lc2 = learning_curve_ci(LinearRegression(), X, s * y, train_sizes=(0.5, 1.0), **kw)
    for col in ("value", "ci_low", "ci_high", "se", "train_score"):
        _close(lc2[col], s**2 * lc[col], rtol=1e-9)


def test_repeated_cv_routes_agree_and_intervals_nest():
    """The default splitter of repeated_cv is RepeatedKFold(n_splits, n_repeats, random_state) for a
    regressor: passing it as cv gives the same scores. cv_scores_two on those splits gives both
    estimators' repeated_cv scores (swapping the estimators swaps them), and corrected_resampled_t_test
    from two CVResults equals the test that runs the folds itself (documented: both routes give the same
    result). The naive interval sits inside the Nadeau-Bengio one (same centre, smaller se), and a
    larger alpha nests both."""
    from sklearn.linear_model import LinearRegression, Ridge
    from sklearn.model_selection import RepeatedKFold

    from workbench.resample import corrected_resampled_t_test, cv_scores_two, repeated_cv

    X, y = _reg_data(4, n=50)
    kw = dict(n_splits=5, n_repeats=2, random_state=4)
    a = repeated_cv(Ridge(alpha=5.0), X, y, **kw)
    b = repeated_cv(LinearRegression(), X, y, **kw)
    cv = RepeatedKFold(n_splits=5, n_repeats=2, random_state=4)
    _close(repeated_cv(Ridge(alpha=5.0), X, y, cv=cv).scores.ravel(), a.scores.ravel())
    sa, sb, ntr, nte = cv_scores_two(Ridge(alpha=5.0), LinearRegression(), X, y, cv=cv, progress=False)
    _close(sa, a.scores.ravel())
    _close(sb, b.scores.ravel())
    assert (ntr, nte) == (a.n_train, a.n_test)
    sb2, sa2, _, _ = cv_scores_two(LinearRegression(), Ridge(alpha=5.0), X, y, cv=cv, progress=False)
    _close(sa2, sa)
    _close(sb2, sb)
    t1 = corrected_resampled_t_test(a, b)
    t2 = corrected_resampled_t_test(Ridge(alpha=5.0), LinearRegression(), X, y, progress=False, **kw)
    _close([t1.statistic, t1.p_value, t1.effect, t1.ci_low, t1.ci_high],
           [t2.statistic, t2.p_value, t2.effect, t2.ci_low, t2.ci_high], rtol=1e-12)
    iv = a.intervals.set_index("interval")
    nb, nv = iv.loc["nadeau-bengio"], iv.loc["naive"]
    _close(nb["value"], nv["value"])
    assert nb["ci_low"] < nv["ci_low"] < nv["ci_high"] < nb["ci_high"]
    wide = repeated_cv(Ridge(alpha=5.0), X, y, alpha=0.3, **kw).intervals.set_index("interval")
    for row in ("nadeau-bengio", "naive"):
        assert iv.loc[row, "ci_low"] < wide.loc[row, "ci_low"] < wide.loc[row, "ci_high"] < iv.loc[row, "ci_high"]


def test_null_cv_scores_seed_forms_and_closed_form_least_squares():
    """An int seed and default_rng of it are the same draw. Each score is the test MSE of one-feature
    least squares (with intercept) on a fold: refitting scikit-learn's LinearRegression on the same
    folds gives the same numbers (the folds are rebuilt from the function's own draw order: X1, X2, the
    noise, then one permutation per data set and repetition)."""
    from sklearn.linear_model import LinearRegression

    from workbench.resample import null_cv_scores

    R, n, k, reps = 2, 20, 5, 2
    A, B = null_cv_scores(R, n=n, n_splits=k, n_repeats=reps, random_state=5)
    A2, B2 = null_cv_scores(R, n=n, n_splits=k, n_repeats=reps, random_state=np.random.default_rng(5))
    _close(A2, A)
    _close(B2, B)
    rng = np.random.default_rng(5)
    X1, X2 = rng.normal(size=(R, n)), rng.normal(size=(R, n))
    Y = X1 + X2 + rng.normal(size=(R, n))
    perm = rng.permuted(np.tile(np.arange(n), (R, reps, 1)), axis=-1)
    m = n // k
    for d in range(R):
        for r in range(reps):
            for f in range(k):
                test = perm[d, r, f * m:(f + 1) * m]
                train = np.setdiff1d(np.arange(n), test)
                for X, S in ((X1, A), (X2, B)):
                    fit = LinearRegression().fit(X[d, train, None], Y[d, train])
                    mse = np.mean((Y[d, test] - fit.predict(X[d, test, None])) ** 2)
                    _close(S[d, r * k + f], mse, rtol=1e-9)


# ==============================================================================================
# resample: bootstrap error, .632+
# ==============================================================================================
def test_point632plus_affine_equivariance_and_eq29():
    """Documented: adding a constant to the three errors, or scaling them by s > 0, does the same to .632
    and .632+ and leaves R and the weight; when Err(1) <= gamma, .632+ = (1 - w) err + w Err(1) (eq. 29);
    .632+ never falls below .632."""
    from workbench.resample import point632plus

    rng = np.random.default_rng(0)
    cases = [(0.0, 0.1, 0.5), (0.05, 0.6, 0.5), (0.2, 0.1, 0.5), (0.3, 0.4, 0.25)]
    cases += [tuple(v) for v in rng.uniform(0, 1, (20, 3))]
    for err, oob, gamma in cases:
        e, p, R, w = point632plus(err, oob, gamma)
        assert p >= e - 1e-15
        if oob <= gamma:
            _close(p, (1 - w) * err + w * oob, rtol=1e-12, atol=1e-15)
        for m, s in ((3.0, 2.0), (-1.0, 0.5), (0.0, 37.2)):
            e2, p2, R2, w2 = point632plus(m + s * err, m + s * oob, m + s * gamma)
            _close([e2, p2], [m + s * e, m + s * p], rtol=1e-12, atol=1e-12)
            _close([R2, w2], [R, w], rtol=1e-10, atol=1e-12)


def test_bootstrap_error_routes_seeds_and_workers():
    """Documented: ``cv=BootstrapSplit(n_splits, random_state)`` (or its splits as a list) is the default
    splitter, its split b is
    default_rng(seed).integers(0, n, n), and a Generator contributes one seed key (so a Generator and a
    BootstrapSplit built on an equal Generator give the same run); n_jobs changes nothing. The estimates
    are point632plus of the reported resubstitution, OOB and no-information errors (of -score with
    scoring=, reported back in score units)."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from workbench.resample import BootstrapSplit, bootstrap_error, point632plus

    X, y = _reg_data(5, n=24)
    kw = dict(progress=False)
    r = bootstrap_error(LinearRegression(), X, y, n_splits=200, random_state=5, **kw)
    a = r.to_frame()
    assert np.isfinite(a["se"].iloc[1:4]).all()  # B = 200 is enough for the delta-method se at n = 24
    b = bootstrap_error(LinearRegression(), X, y, cv=BootstrapSplit(200, random_state=5), random_state=5,
                        **kw).to_frame()
    _frame_equal(a, b)
    listed = bootstrap_error(LinearRegression(), X, y, cv=list(BootstrapSplit(200, random_state=5).split(X)),
                             random_state=5, **kw).to_frame()
    _frame_equal(a, listed)
    g1 = bootstrap_error(LinearRegression(), X, y, n_splits=200, random_state=np.random.default_rng(8),
                         **kw).to_frame()
    g2 = bootstrap_error(LinearRegression(), X, y, cv=BootstrapSplit(200, random_state=np.random.default_rng(8)),
                         random_state=np.random.default_rng(8), **kw).to_frame()
    _frame_equal(g1, g2)
    with _threads():
        c = bootstrap_error(LinearRegression(), X, y, n_splits=200, random_state=5, n_jobs=2, **kw).to_frame()
    _frame_equal(a, c)
    _close(point632plus(r.resubstitution, r.oob, r.no_information),
           [r.point632, r.point632plus, r.relative_overfitting, r.weight], rtol=1e-12)
    Xc, yc = _clf_data(3, n=60)
    sc = bootstrap_error(LogisticRegression(), Xc, yc, scoring="roc_auc", n_splits=20, random_state=5, **kw)
    e632, e632p, R, wgt = point632plus(-sc.resubstitution, -sc.oob, -sc.no_information)  # on -score, reported back
    _close([-e632, -e632p, R, wgt], [sc.point632, sc.point632plus, sc.relative_overfitting, sc.weight], rtol=1e-12)
    rng = np.random.default_rng(5)
    for tr, te in BootstrapSplit(3, random_state=5).split(X):
        draw = rng.integers(0, 24, 24)
        assert (tr == draw).all() and (te == np.setdiff1d(np.arange(24), draw)).all()


def test_bootstrap_error_clusters_ignore_row_order_and_singletons_are_rows():
    """Clusters are numbered in sorted id order, so shuffling the rows (ids moving with them) draws the
    same clusters and gives the same estimates, standard errors and interval; one cluster per row (ids
    increasing with the row) draws the rows the row bootstrap draws."""
    from sklearn.linear_model import LinearRegression

    from workbench.resample import bootstrap_error

    X, y = _reg_data(6, n=24)
    ids = np.repeat(np.arange(12) * 3 + 1, 2)
    kw = dict(n_splits=200, random_state=6, progress=False)
    a = bootstrap_error(LinearRegression(), X, y, groups=ids, **kw).to_frame()
    assert np.isfinite(a["se"].iloc[1:4]).all()
    p = np.random.default_rng(1).permutation(24)
    b = bootstrap_error(LinearRegression(), X[p], y[p], groups=ids[p], **kw).to_frame()
    num = ["value", "se", "ci_low", "ci_high"]
    _close(b[num], a[num], rtol=1e-9, atol=1e-12)
    rows = bootstrap_error(LinearRegression(), X, y, **kw).to_frame()
    single = bootstrap_error(LinearRegression(), X, y, groups=np.arange(24) * 7 + 2, **kw).to_frame()
    assert np.isfinite(rows["se"].iloc[1:4]).all()
    _close(single[num], rows[num], rtol=1e-9, atol=1e-12)


# ==============================================================================================
# resample: McNemar's table, Tango's statistic
# ==============================================================================================
def test_mcnemar_table_is_a_crosstab_and_label_free():
    """mcnemar_table is the 2x2 crosstab of (A right, B right), True first; swapping A and B transposes
    it; it ignores the order of the rows and the names of the classes (strings included), sums to n and
    adds over concatenated test sets."""
    from workbench.resample import mcnemar_table

    rng = np.random.default_rng(7)
    y = rng.integers(0, 3, 200)
    pa = np.where(rng.random(200) < 0.8, y, rng.integers(0, 3, 200))
    pb = np.where(rng.random(200) < 0.7, y, rng.integers(0, 3, 200))
    t = mcnemar_table(y, pa, pb)
    ct = pd.crosstab(pa == y, pb == y).reindex(index=[True, False], columns=[True, False], fill_value=0)
    assert (t == ct.to_numpy()).all() and t.sum() == 200
    assert (mcnemar_table(y, pb, pa) == t.T).all()
    p = rng.permutation(200)
    assert (mcnemar_table(y[p], pa[p], pb[p]) == t).all()
    ren = np.array([2, 0, 1])
    assert (mcnemar_table(ren[y], ren[pa], ren[pb]) == t).all()
    names = np.array(["cat", "dog", "eel"])
    assert (mcnemar_table(names[y], names[pa], names[pb]) == t).all()
    assert (mcnemar_table(y[:70], pa[:70], pb[:70]) + mcnemar_table(y[70:], pa[70:], pb[70:]) == t).all()


def test_tango_statistic_symmetries_and_interval_ends():
    """T(delta) = (b - c - n delta) / sqrt(n (2 p21~ + delta (1 - delta))): at delta = 0 it is McNemar's
    z = (b - c) / sqrt(b + c) (documented); exchanging the models (b <-> c, delta -> -delta) negates it;
    multiplying every count by k multiplies it by sqrt(k) (the restricted MLE depends on the shares
    only); it decreases in delta; the "tango" interval ends solve T = +-z."""
    from scipy import special

    from workbench.resample import paired_difference_interval, tango_score_statistic

    grid = np.linspace(-0.9, 0.9, 37)
    z = special.ndtri(0.975)
    for b, c, n in [(12, 3, 100), (5, 9, 40), (0, 4, 30), (7, 0, 25), (6, 6, 50)]:
        _close(tango_score_statistic(b, c, n, 0.0), (b - c) / np.sqrt(b + c), rtol=1e-12)
        t = np.array([tango_score_statistic(b, c, n, d) for d in grid])
        _close([-tango_score_statistic(c, b, n, -d) for d in grid], t, rtol=1e-10, atol=1e-12)
        _close([tango_score_statistic(4 * b, 4 * c, 4 * n, d) for d in grid], 2 * t, rtol=1e-9, atol=1e-12)
        assert (np.diff(t) <= 1e-12).all()
        lo, hi = paired_difference_interval([[n - b - c, b], [c, 0]], method="tango")
        _close([tango_score_statistic(b, c, n, lo), tango_score_statistic(b, c, n, hi)], [z, -z], rtol=1e-7)


# ==============================================================================================
# resample: temporal validation
# ==============================================================================================
def _temporal(seed=0, per=30, periods=6, m=4):
    """A drifting pool: model k is available from period k + 1, and each model's skill changes from
    period to period (so the recent window and the whole history can favour different models)."""
    rng = np.random.default_rng(seed)
    n = per * periods
    ts = np.repeat(np.arange(periods), per)
    y = rng.integers(0, 3, n)
    skill = rng.uniform(0.2, 2.5, (m, periods))[:, ts]  # (m, n)
    logits = rng.normal(0, 1, (m, n, 3)) + np.eye(3)[y][None] * skill[..., None]
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    names = [f"model_{k}" for k in range(m)]
    return probs, y, ts, names, np.arange(1, m + 1)


def test_temporal_scores_are_per_period_means_and_label_free():
    """temporal_scores is the per-(model, period) mean of loss_matrix, NaN before the model is
    available: the same as a pandas groupby. Shuffling the points, renaming the periods by an increasing
    map (available_from mapped too; numbers to dates included) or reordering the models only moves
    the rows."""
    from workbench.resample import temporal_scores

    probs, y, ts, names, avail = _temporal(1)
    log = PredictionLog(probs, labels=y, timestamp=ts, model_names=names)
    sc = temporal_scores(log, avail, loss="cross_entropy")
    assert sc["loss"].notna().sum() < sc.shape[0]  # some (model, period) cells are in-sample: NaN
    L = loss_matrix(probs, y, "cross_entropy")
    manual = pd.DataFrame(L.T, columns=names).assign(period=ts).groupby("period").mean()
    for k, name in enumerate(names):
        got = sc[sc["model"] == name].set_index("period")["loss"]
        want = manual[name].where(manual.index >= avail[k])
        _close(got, want.loc[got.index], rtol=1e-12)
    p = np.random.default_rng(2).permutation(ts.size)
    shuffled = temporal_scores(PredictionLog(probs[:, p], labels=y[p], timestamp=ts[p], model_names=names), avail,
                               loss="cross_entropy")
    _frame_equal(shuffled, sc, rtol=1e-12)
    mapped = temporal_scores(PredictionLog(probs, labels=y, timestamp=10 * ts + 100, model_names=names),
                             10 * avail + 100, loss="cross_entropy")
    _close(mapped["period"], 10 * sc["period"] + 100)
    _close(mapped["loss"], sc["loss"])
    day0 = np.datetime64("2024-03-01")
    dated = temporal_scores(PredictionLog(probs, labels=y, timestamp=day0 + 7 * ts.astype("timedelta64[D]"),
                                          model_names=names), day0 + 7 * avail.astype("timedelta64[D]"),
                            loss="cross_entropy")
    _close(dated["loss"], sc["loss"])
    order = [2, 0, 3, 1]
    re = temporal_scores(PredictionLog(probs[order], labels=y, timestamp=ts, model_names=[names[i] for i in order]),
                         avail[order], loss="cross_entropy")
    _frame_equal(re.set_index(["model", "period"]).loc[sc.set_index(["model", "period"]).index].reset_index(), sc)


def test_temporal_backtest_invariances_and_window_limit():
    """The backtest reads per-period means only: shuffling the points, an increasing map of the periods
    and reordering the models (no ties: a continuous loss) give the same picks by name and the same
    losses; asking for one strategy gives its rows of the full replay; regret = loss - best_loss >= 0; a
    window covering every past period makes recent_best history_best."""
    from workbench.resample import temporal_backtest

    probs, y, ts, names, avail = _temporal(3)
    kw = dict(window=1, loss="cross_entropy")
    bt = temporal_backtest(PredictionLog(probs, labels=y, timestamp=ts, model_names=names), avail, **kw)
    assert (bt["regret"] >= 0).all()
    _close(bt["regret"], bt["loss"] - bt["best_loss"])
    p = np.random.default_rng(4).permutation(ts.size)
    sh = temporal_backtest(PredictionLog(probs[:, p], labels=y[p], timestamp=ts[p], model_names=names), avail, **kw)
    _frame_equal(sh, bt, rtol=1e-12)
    mp = temporal_backtest(PredictionLog(probs, labels=y, timestamp=3 * ts + 7, model_names=names), 3 * avail + 7,
                           **kw)
    _close(mp["period"], 3 * bt["period"] + 7)
    _frame_equal(mp.drop(columns="period"), bt.drop(columns="period"))
    order = [3, 1, 0, 2]
    ro = temporal_backtest(PredictionLog(probs[order], labels=y, timestamp=ts, model_names=[names[i] for i in order]),
                           avail[order], **kw)
    _frame_equal(ro, bt, rtol=1e-12)
    one = temporal_backtest(PredictionLog(probs, labels=y, timestamp=ts, model_names=names), avail,
                            strategies=["recent_best"], **kw)
    _frame_equal(one, bt[bt["strategy"] == "recent_best"].reset_index(drop=True))
    wide = temporal_backtest(PredictionLog(probs, labels=y, timestamp=ts, model_names=names), avail, window=100,
                             loss="cross_entropy")
    rb = wide[wide["strategy"] == "recent_best"].drop(columns="strategy").reset_index(drop=True)
    hb = wide[wide["strategy"] == "history_best"].drop(columns="strategy").reset_index(drop=True)
    _frame_equal(rb, hb)
    assert (bt[bt["strategy"] == "recent_best"]["model"].to_numpy()
            != bt[bt["strategy"] == "history_best"]["model"].to_numpy()).any()  # window 1 does differ here


# ==============================================================================================
# active: benchmark_selection, benchmark_risk, difficulty_table
# ==============================================================================================
def test_benchmark_selection_documented_seeds_and_independence():
    """Documented: seed k of task ``name`` is SeedSequence(random_state, spawn_key=(crc32(name),))
    .spawn(seeds)[k], and select_model(zoo, None, budget, strategy, random_state=that seed) reproduces
    its run (so the p_best curve is the share of those runs picking the most accurate model; auto's eps
    tuning included); curves at a few label counts are read off the same runs (summary unchanged); a row
    does not change when other tasks or strategies are added, nor with n_jobs."""
    from workbench.active import benchmark_selection, select_model

    probs, y = _pool(31, n=90, h=4)
    zoo = PredictionLog(probs, labels=y)
    other = PredictionLog(*_pool(32, n=90, h=3)[:1], labels=_pool(32, n=90, h=3)[1])
    kw = dict(budgets=12, seeds=4, random_state=3)
    solo = benchmark_selection([("toy", zoo)], ["uncertainty", "auto"], **kw)
    acc = zoo.accuracy().to_numpy()
    children = np.random.SeedSequence(3, spawn_key=(zlib.crc32(b"toy"),)).spawn(4)
    for strat in ("uncertainty", "auto"):
        picks = np.array([select_model(zoo, None, 12, strategy=strat, random_state=ch).chosen for ch in children])
        cur = solo.curves[solo.curves["strategy"] == strat]
        _close(cur["p_best"], (acc[picks] >= acc.max() - 1e-12).mean(axis=0))
        _close(cur["mean_regret_points"], (100 * (acc.max() - acc[picks])).mean(axis=0), rtol=1e-12)
    few = benchmark_selection([("toy", zoo)], ["uncertainty", "auto"], **{**kw, "budgets": [3, 8, 12]})
    _frame_equal(few.curves, solo.curves[solo.curves["labels"].isin([3, 8, 12])].reset_index(drop=True))
    keep = [c for c in solo.summary.columns if c not in ("ms_per_step", "setup_ms")]  # timings are not results
    _frame_equal(few.summary[keep], solo.summary[keep])
    solo_unc = benchmark_selection([("toy", zoo)], ["uncertainty"], **kw)
    big = benchmark_selection([("other", other), ("toy", zoo)], ["random", "uncertainty"], **kw)
    sel = (big.curves["task"] == "toy") & (big.curves["strategy"] == "uncertainty")
    _frame_equal(big.curves[sel].reset_index(drop=True), solo_unc.curves)
    sel = (big.summary["task"] == "toy") & (big.summary["strategy"] == "uncertainty")
    _frame_equal(big.summary.loc[sel, keep].reset_index(drop=True), solo_unc.summary[keep])
    with _threads():
        par = benchmark_selection([("other", other), ("toy", zoo)], ["random", "uncertainty"], n_jobs=2, **kw)
    _frame_equal(par.curves, big.curves)


def test_benchmark_risk_documented_seeds_identities_and_label_freedom():
    """Documented: run k of every estimator is estimate_risk(probs, labels, budget, random_state=seed_k,
    **config), seed_k = SeedSequence(random_state).spawn(seeds)[k]: mse, bias and coverage are those of
    that loop against the pool's risk (loss_matrix). Identities: mse = bias^2 + bias_se^2 (S - 1), the iid
    baseline's mse_ratio_vs_iid is 1. Adding an estimator, n_jobs, or renaming the classes changes no row."""
    from workbench.active import benchmark_risk, estimate_risk

    probs, y = _pool(33, n=120)
    cfg = {"lure": {"method": "lure"}, "ase": {"method": "ase"}}
    res = benchmark_risk(probs, y, cfg, budget=10, seeds=5, random_state=4)
    truth = float(loss_matrix(probs[None], y)[0].mean())
    _close(res["true_risk"], truth)
    for name, method in (("iid", "iid"), ("lure", "lure"), ("ase", "ase")):
        est, cov = [], []
        for child in np.random.SeedSequence(4).spawn(5):
            t = estimate_risk(probs, y, 10, method=method, random_state=child)
            est.append(t.estimates)
            cov.append(np.where(np.isnan(t.ci_low) | np.isnan(t.ci_high), np.nan,
                                (t.ci_low <= truth) & (truth <= t.ci_high)))
        est, rows = np.array(est), res[res["estimator"] == name]
        _close(rows["mse"], ((est - truth) ** 2).mean(axis=0), rtol=1e-12)
        _close(rows["bias"], est.mean(axis=0) - truth, rtol=1e-12, atol=1e-15)
        _close(rows["coverage"], np.array(cov).mean(axis=0))
    S = 5
    _close(res["mse"], res["bias"] ** 2 + res["bias_se"] ** 2 * (S - 1), rtol=1e-9, atol=1e-15)
    _close(res.loc[res["estimator"] == "iid", "mse_ratio_vs_iid"], 1.0)
    solo = benchmark_risk(probs, y, {"ase": cfg["ase"]}, budget=10, seeds=5, random_state=4)
    _frame_equal(solo[solo["estimator"] == "ase"].reset_index(drop=True),
                 res[res["estimator"] == "ase"].reset_index(drop=True))
    with _threads():
        _frame_equal(benchmark_risk(probs, y, cfg, budget=10, seeds=5, random_state=4, n_jobs=2), res)
    ren = np.array([1, 2, 0])
    _frame_equal(benchmark_risk(probs[:, np.argsort(ren)], ren[y], cfg, budget=10, seeds=5, random_state=4), res,
                 rtol=1e-9, atol=1e-12)


def test_difficulty_table_is_label_and_order_free():
    """difficulty_table is one task.difficulty() per task; a task's row does not change when the points
    are shuffled, the classes renamed, or the models reordered (no tied accuracies here, which is when
    the docstring says the top-2 entries could depend on the order)."""
    from workbench.active import SelectionTask, difficulty_table

    probs, y = _pool(34, n=150, h=5)
    acc = (probs.argmax(-1) == y).mean(axis=1)
    assert np.unique(acc).size == acc.size  # precondition: no tied accuracies
    task = SelectionTask("t", PredictionLog(probs, labels=y), "synthetic", None)
    tab = difficulty_table([task], contested_share=0.2)
    assert tab.iloc[0].to_dict() == task.difficulty(0.2)
    p = np.random.default_rng(5).permutation(150)
    ren = np.array([2, 0, 1])
    perm = np.array([3, 0, 4, 1, 2])
    variants = [PredictionLog(probs[:, p], labels=y[p]), PredictionLog(probs[..., np.argsort(ren)], labels=ren[y]),
                PredictionLog(probs[perm], labels=y)]
    for zoo in variants:
        _frame_equal(difficulty_table([SelectionTask("t", zoo, "synthetic", None)], contested_share=0.2), tab,
                     rtol=1e-12)


# ==============================================================================================
# data: simulators, loss_matrix
# ==============================================================================================
def _log_arrays(log):
    return {k: getattr(log, k) for k in ("action", "reward", "propensity", "context", "behavior_dist")}


def _same_log(a, b):
    for k, v in _log_arrays(a).items():
        _close(getattr(b, k), v, rtol=0, atol=0)


def test_simulate_bandit_equivalent_loggers_and_exact_truth():
    """Same seed, the same logging distribution given five ways (the uniform logger, epsilon-greedy with
    epsilon = 1, softmax with beta = 0, that distribution as an array and as a callable of the
    contexts) is the same log; an int seed and default_rng of it are the same draw. The truth is exact
    and linear in the policy: V(t p1 + (1 - t) p2) = t V(p1) + (1 - t) V(p2), one action per row equals
    its one-hot distribution, and behavior_value is V(behavior_dist)."""
    kw = dict(n_rounds=120, n_actions=4, dim_context=2, random_state=9)
    base, truth = simulate_bandit(behavior="uniform", **kw)
    uniform = np.full((120, 4), 0.25)
    for other in (dict(behavior="epsilon-greedy", epsilon=1.0), dict(behavior="softmax", beta=0.0),
                  dict(behavior=uniform), dict(behavior=lambda x: np.full((x.shape[0], 4), 0.25))):
        log, t2 = simulate_bandit(**kw, **other)
        _same_log(base, log)
        _close(t2.expected_reward, truth.expected_reward, rtol=0, atol=0)
    g, _ = simulate_bandit(**{**kw, "random_state": np.random.default_rng(9)}, behavior="uniform")
    _same_log(base, g)
    soft, st = simulate_bandit(**kw)
    p1, p2 = soft.behavior_dist, uniform
    _close(st.policy_value(0.3 * p1 + 0.7 * p2), 0.3 * st.policy_value(p1) + 0.7 * st.policy_value(p2), rtol=1e-12)
    acts = np.random.default_rng(1).integers(0, 4, 120)
    _close(st.policy_value(acts), st.policy_value(np.eye(4)[acts]), rtol=1e-12)
    _close(st.behavior_value, st.policy_value(soft.behavior_dist))
    _close(st.policy_value(UniformPolicy()), st.expected_reward.mean(), rtol=1e-12)


def test_classification_to_bandit_uniform_limit_and_accuracy_truth():
    """The epsilon-greedy classifier logger with epsilon = 1 puts 1/k on every class: the same log as the
    uniform logger, seed for seed. The truth of the reduction is the policy's accuracy: V(dist) = mean of
    dist[i, y_i], V(y) = 1, V(UniformPolicy) = 1/k."""
    X, y = _clf_data(8, n=90)
    a, ta = classification_to_bandit(X, y, behavior="classifier", epsilon=1.0, random_state=2)
    b, tb = classification_to_bandit(X, y, behavior="uniform", random_state=2)
    _same_log(a, b)
    dist = np.random.default_rng(0).dirichlet(np.ones(2), 90)
    _close(ta.policy_value(dist), dist[np.arange(90), y].mean(), rtol=1e-12)
    assert ta.policy_value(y) == 1.0
    _close(ta.policy_value(UniformPolicy()), 0.5)


def test_simulate_pricing_density_and_truth_routes():
    """The log's density column is the truth's logger density at the logged prices; the expected revenue
    is price times purchase probability; a seed given as an int or as default_rng of it is the same
    draw; a box policy wider than the price range is the uniform price policy, whose value is the
    uniform logger's value (two quadratures of the same integral)."""
    log, truth = simulate_pricing(150, random_state=4)
    _close(truth.logger.density(log.action), log.density, rtol=1e-12)
    a = np.full(150, 4.0)
    _close(truth.expected_reward(a), a * truth.problem.purchase_probability(truth.context, a), rtol=1e-12)
    g, _ = simulate_pricing(150, random_state=np.random.default_rng(4))
    for k in ("action", "reward", "density", "context"):
        _close(getattr(g, k), getattr(log, k), rtol=0, atol=0)
    ulog, ut = simulate_pricing(150, logging="uniform", random_state=4)
    _close(ulog.density, 1 / 9)
    _close(ut.policy_value(np.full(150, 5.5), bandwidth=1e3, kernel="box"), ut.logging_value(), rtol=1e-5)


def test_simulate_routing_truth_and_bandit_views_are_linear_in_lambda():
    """value(p, lam) = quality(p) - lam cost(p) equals the BanditTruth of weight lam; the bandit log's
    reward is quality - lam cost (lam = 0 is the "quality" view); the oracle router beats every constant
    router and the logger; IPS on the log is linear in lam (the same weights on quality and cost)."""
    log, truth = simulate_routing(300, random_state=5)
    k = log.n_models
    pol = np.random.default_rng(1).dirichlet(np.ones(k), 300)
    for lam in (0.0, 0.3, 2.0):
        _close(truth.value(pol, lam), truth.quality(pol) - lam * truth.cost(pol), rtol=1e-12)
        _close(truth.bandit_truth(lam).policy_value(pol), truth.value(pol, lam), rtol=1e-12)
        _close(log.bandit_log(lam).reward, log.quality - lam * log.cost, rtol=1e-12)
        best = truth.value(truth.best_router(lam), lam)
        assert all(best >= truth.value(np.full(300, j), lam) - 1e-12 for j in range(k))
        assert best >= truth.value(log.behavior_dist, lam)
    _close(log.bandit_log(0.0).reward, log.bandit_log(reward="quality").reward, rtol=0, atol=0)
    allowed = log.behavior_dist > 0  # the logger never sends non-math/code prompts to the reasoner
    kw = dict(estimators=["ips"], n_bootstrap=50, random_state=1, warn=False)
    tgt = np.where(allowed, 1.0, 0.0) / allowed.sum(axis=1, keepdims=True)
    vq = evaluate_policy(log.bandit_log(reward="quality"), tgt, **kw)["value"].item()
    vc = evaluate_policy(log.bandit_log(reward="cost"), tgt, **kw)["value"].item()
    _close(evaluate_policy(log.bandit_log(0.7), tgt, **kw)["value"].item(), vq - 0.7 * vc, rtol=1e-12)


def test_make_model_zoo_documented_equivalences(tmp_path):
    """Documented: a shift strength of 0 is no shift (the zoo of shift=None, same draws), and a zoo
    loaded from the cache equals the freshly fitted one, array for array, and n_jobs does not change the
    zoo. An int seed and default_rng of it fit the same zoo. With shift="missing_class" no model gives
    the last class any probability."""
    X, y = _clf3()
    kw = dict(n_models=3, progress=False)
    base = make_model_zoo(X, y, random_state=1, cache_dir=False, **kw)
    for shift in ("noise", "prior"):
        z = make_model_zoo(X, y, shift=shift, shift_strength=0.0, random_state=1, cache_dir=False, **kw)
        _close(z.probs, base.probs, rtol=0, atol=0)
        assert (z.labels == base.labels).all()
    g = make_model_zoo(X, y, random_state=np.random.default_rng(1), cache_dir=False, **kw)
    _close(g.probs, base.probs, rtol=0, atol=0)
    with _threads():
        par = make_model_zoo(X, y, random_state=1, cache_dir=False, n_jobs=2, **kw)
    _close(par.probs, base.probs, rtol=0, atol=0)
    fresh = make_model_zoo(X, y, random_state=1, cache_dir=tmp_path, **kw)
    again = make_model_zoo(X, y, random_state=1, cache_dir=tmp_path, **kw)
    assert len(list(tmp_path.rglob("*.npz"))) == 1
    for zoo in (fresh, again):
        _close(zoo.probs, base.probs, rtol=0, atol=0)
        _close(zoo.features, base.features, rtol=0, atol=0)
        assert (zoo.labels == base.labels).all() and zoo.model_names == base.model_names
    miss = make_model_zoo(X, y, shift="missing_class", random_state=1, cache_dir=False, **kw)
    assert (miss.probs[..., 2] == 0).all()


def _clf3():
    from sklearn.datasets import make_classification

    return make_classification(n_samples=160, n_features=5, n_informative=3, n_redundant=0, n_classes=3,
                               n_clusters_per_class=1, random_state=3)


def test_loss_matrix_regression_affine_brier_relabelling_and_prediction_log():
    """Regression losses of predictions f against y: a common shift changes nothing, a scale s multiplies
    squared losses by s^2 and absolute ones by |s|; the Brier score ("squared" on probabilities) does
    not depend on the class names; permuting models or points permutes rows or columns (also through
    PredictionLog.subset_models / subset_points); and PredictionLog.losses is loss_matrix on the labelled
    points (documented)."""
    rng = np.random.default_rng(6)
    f, yy = rng.normal(size=(3, 40)), rng.normal(size=40)
    for c, s in ((5.0, 1.0), (0.0, -3.0), (2.0, 0.5)):
        _close(loss_matrix(c + s * f, c + s * yy, "squared"), s**2 * loss_matrix(f, yy, "squared"), rtol=1e-9,
               atol=1e-12)
        _close(loss_matrix(c + s * f, c + s * yy, "absolute"), abs(s) * loss_matrix(f, yy, "absolute"), rtol=1e-9,
               atol=1e-12)
    probs, y = _pool(35, n=60, h=4)
    ren = np.array([2, 0, 1])
    L = loss_matrix(probs, y, "squared")
    _close(loss_matrix(probs[..., np.argsort(ren)], ren[y], "squared"), L, rtol=1e-12)
    pm, pp = np.array([2, 0, 3, 1]), rng.permutation(60)
    _close(loss_matrix(probs[pm][:, pp], y[pp], "squared"), L[pm][:, pp])
    mask = rng.random(60) < 0.5
    log = PredictionLog(probs, labels=np.where(mask, y, -1), labelled=mask)
    for loss in ("zero_one", "cross_entropy", "squared"):
        _close(log.losses(loss), loss_matrix(probs[:, mask], y[mask], loss))
        _close(log.losses(loss, labels=y), loss_matrix(probs, y, loss))
    _close(1 - log.accuracy().to_numpy(), loss_matrix(probs[:, mask], y[mask]).mean(axis=1))
    full = PredictionLog(probs, labels=y)
    _close(full.subset_models(pm).losses("cross_entropy"), full.losses("cross_entropy")[pm])
    _close(full.subset_points(pp).losses("cross_entropy"), full.losses("cross_entropy")[:, pp])


# ==============================================================================================
# validity: mc_band, interval_coverage, coverage_table, type1_error
# ==============================================================================================
def test_mc_band_symmetries():
    """The band level -+ k sqrt(level (1 - level) / R): symmetric about the level, mirrored by
    level -> 1 - level, its half-width proportional to k and to 1 / sqrt(R), a point at k = 0."""
    from workbench.validity import mc_band

    lo, hi = mc_band(0.7, 400)
    _close(0.7 - lo, hi - 0.7, rtol=1e-12)
    _close(mc_band(0.3, 400), (1 - hi, 1 - lo), rtol=1e-12)
    lo2, hi2 = mc_band(0.7, 400, k=7.0)  # inside [0, 1]: no clipping
    _close(hi2 - lo2, 2 * (hi - lo), rtol=1e-12)
    lo3, hi3 = mc_band(0.7, 1600)
    _close(hi3 - lo3, (hi - lo) / 2, rtol=1e-12)
    assert mc_band(0.7, 400, k=0.0) == (0.7, 0.7)


def _cov(scenarios=("normal-mean",), methods=("percentile", "bca"), n=20, **kw):
    from workbench.validity import interval_coverage

    base = dict(n_replicates=40, n_resamples=99, random_state=3, progress=False)
    return interval_coverage(list(scenarios), methods=list(methods), n=n, **{**base, **kw})


def test_interval_coverage_cells_methods_chunks_and_affine_scenarios():
    """Documented: a cell (scenario, n) gives the same numbers whatever else is in the grid, and
    chunk_size and n_jobs change nothing; every method of a replicate shares one bootstrap, so dropping a
    method changes no other row, and a callable wrapping bootstrap_ci with the replicate's seed sees the
    built-in method's resamples. A scenario whose data are an affine map of another's (same name, so
    the same seeds) with the truth mapped too has the same coverage and widths times |scale| (a negative
    scale swaps the misses below and above)."""
    from workbench.resample import bootstrap_ci
    from workbench.validity import SCENARIOS, Scenario

    grid = _cov(("normal-mean", "exponential-mean"), n=(15, 20))
    cell = _cov()
    sel = (grid["scenario"] == "normal-mean") & (grid["n"] == 20)
    _frame_equal(grid[sel].reset_index(drop=True), cell)
    _frame_equal(_cov(chunk_size=7), cell)
    with _threads():
        _frame_equal(_cov(n_jobs=2, chunk_size=10), cell)
    only = _cov(methods=("bca",))
    _frame_equal(only, cell[cell["method"] == "bca"].reset_index(drop=True))

    def pct(data, statistic, alpha, rs):
        r = bootstrap_ci(data, statistic=statistic, method="percentile", alpha=alpha, n_resamples=99, random_state=rs)
        return r.ci_low, r.ci_high

    wrapped = _cov(methods=(("percentile", pct),))
    _frame_equal(wrapped, cell[cell["method"] == "percentile"].reset_index(drop=True))
    normal = SCENARIOS["normal-mean"]
    moved = Scenario("normal-mean", lambda rng, n: 5.0 - 3.0 * normal.draw(rng, n), "mean", 5.0 - 3.0 * normal.truth)
    aff = _cov((moved,))
    for col in ("coverage", "n_undefined"):
        _close(aff[col], cell[col])
    _close(aff["miss_low"], cell["miss_high"])  # a negative scale turns misses below into misses above
    _close(aff["miss_high"], cell["miss_low"])
    _close(aff["mean_width"], 3.0 * cell["mean_width"], rtol=1e-9)


def test_interval_coverage_alpha_and_closedness_are_monotone():
    """The replicates and their resamples do not depend on alpha, and a larger alpha nests every
    interval (percentile, basic, normal) inside the smaller alpha's: coverage and mean width cannot grow.
    An open interval covers no more often than the closed one (here on the k/n lattice, where they can
    differ)."""
    from workbench.validity import bernoulli_mean

    methods = ("percentile", "basic", "normal")
    a05 = _cov(methods=methods)
    a20 = _cov(methods=methods, alpha=0.2)
    assert (a20["coverage"].to_numpy() <= a05["coverage"].to_numpy()).all()
    assert (a20["mean_width"].to_numpy() < a05["mean_width"].to_numpy()).all()
    lattice = (bernoulli_mean(0.85),)
    closed = _cov(lattice, methods=methods, closed=True)
    opened = _cov(lattice, methods=methods, closed=False)
    assert (opened["coverage"].to_numpy() <= closed["coverage"].to_numpy()).all()
    _close(opened["mean_width"], closed["mean_width"])


def test_coverage_table_marks_agree_with_the_frame_and_ignore_row_order():
    """coverage_table shows each cell's coverage to 3 decimals, marked below / above its band exactly when
    the frame's verdict says so; shuffling the frame's rows reorders the table, nothing else."""
    from workbench.validity import coverage_table

    cov = _cov(("normal-mean", "lognormal-mean"), methods=("percentile", "normal"), n=(10, 20))
    tab = coverage_table(cov)
    for _, row in cov.iterrows():
        cell = tab.loc[(row["scenario"], row["n"]), row["method"]]
        mark = {"undercovers": " ▼", "overcovers": " ▲", "ok": ""}[row["verdict"]]
        assert cell == f"{row['coverage']:.3f}{mark}"
    shuffled = coverage_table(cov.sample(frac=1.0, random_state=0))
    _frame_equal(shuffled.loc[tab.index, tab.columns], tab)


def test_type1_error_subsets_workers_alpha_and_test_orderings():
    """Seeds are keyed by the test's group, not by the tests asked for: a test's row is the same alone or
    with others, and n_jobs changes nothing. The null data do not depend on alpha: a larger alpha never
    rejects less. On shared data sets the definitions order the rejection rates: the naive resampled t
    (smaller variance) rejects at least as often as the corrected one, mid-p at least as often as the
    exact test, the uncorrected chi-square at least as often as the continuity-corrected one. Rows follow
    the order asked for; the band is mc_band(alpha, n_datasets)."""
    from workbench.validity import mc_band, type1_error

    tests = ["naive-resampled-t", "nadeau-bengio-t", "mcnemar-exact", "mcnemar-mid-p", "mcnemar-asymptotic",
             "mcnemar-corrected"]
    kw = dict(n_datasets=40, cv_n=40, mcnemar_n=60, random_state=2, progress=False)
    full = type1_error(tests, **kw).set_index("test")
    _frame_equal(type1_error(tests[::-1], **kw).set_index("test"), full.loc[tests[::-1]])
    _close(full[["band_low", "band_high"]].iloc[0], mc_band(0.05, 40))
    for t in ("nadeau-bengio-t", "mcnemar-mid-p"):
        _frame_equal(type1_error([t], **kw).set_index("test"), full.loc[[t]])
    with _threads():
        _frame_equal(type1_error(tests, n_jobs=2, **kw).set_index("test"), full)
    wide = type1_error(tests, alpha=0.2, **kw).set_index("test")
    assert (wide["rejection_rate"] >= full["rejection_rate"]).all()
    r = full["rejection_rate"]
    assert r["naive-resampled-t"] >= r["nadeau-bengio-t"]
    assert r["mcnemar-mid-p"] >= r["mcnemar-exact"]
    assert r["mcnemar-asymptotic"] >= r["mcnemar-corrected"]
    assert r["naive-resampled-t"] > r["nadeau-bengio-t"]  # the orderings are not all ties here


# ==============================================================================================
# to_frame() round trips
# ==============================================================================================
def test_bandit_log_frame_round_trip_gives_the_same_evaluation():
    """Documented: to_frame plus the non-column fields passed back to from_frame rebuilds the log; every
    array is the same and evaluate_policy gives the same frame."""
    w = _world(41)
    ts = np.datetime64("2024-01-01") + np.arange(N).astype("timedelta64[h]")
    log = BanditLog(action=w["a"], reward=w["r"], propensity=w["pb"][np.arange(N), w["a"]], n_actions=K,
                    context=w["X"], behavior_dist=w["pb"], timestamp=ts, unit_id=w["unit"],
                    context_names=("age", "income", "tenure"))
    frame = log.to_frame()
    again = BanditLog.from_frame(frame, context=list(log.context_names), timestamp="timestamp", unit_id="unit_id",
                                 n_actions=log.n_actions, behavior_dist=log.behavior_dist)
    for k in ("action", "reward", "propensity", "context", "behavior_dist", "timestamp", "unit_id"):
        assert np.array_equal(getattr(again, k), getattr(log, k)), k
    assert again.context_names == log.context_names
    kw = dict(estimators=["dm", "ips", "dr"], reward_model=w["q"], n_bootstrap=100, random_state=1, warn=False)
    _frame_equal(evaluate_policy(again, w["pe"], **kw), evaluate_policy(log, w["pe"], **kw))


def test_continuous_log_and_prediction_log_round_trips(tmp_path):
    """A ContinuousBanditLog rebuilt from its to_frame columns evaluates identically; a PredictionLog saved
    and loaded is the same log, and its long to_frame holds the hard predictions and labels."""
    log, truth = simulate_pricing(150, random_state=6)
    f = log.to_frame()
    again = ContinuousBanditLog(f["action"].to_numpy(), f["reward"].to_numpy(), f["density"].to_numpy(),
                                log.a_min, log.a_max, context=f[[c for c in f.columns if c.startswith("x")]].to_numpy())
    kw = dict(bandwidth=1.0, n_bootstrap=80, random_state=2, warn=False)
    _frame_equal(evaluate_continuous_policy(again, truth.optimal_action(), **kw),
                 evaluate_continuous_policy(log, truth.optimal_action(), **kw))
    probs, y = _pool(42, n=50, h=3)
    mask = np.arange(50) % 3 > 0
    plog = PredictionLog(probs, labels=np.where(mask, y, -1), labelled=mask, features=np.arange(100.0).reshape(50, 2),
                         timestamp=np.arange(50), model_names=("a", "b", "c"))
    loaded = PredictionLog.load(plog.save(tmp_path / "log.npz"))
    for k in ("probs", "labels", "labelled", "features", "timestamp"):
        assert np.array_equal(getattr(loaded, k), getattr(plog, k)), k
    assert loaded.model_names == plog.model_names
    long = plog.to_frame()
    assert (long["prediction"].to_numpy().reshape(3, 50) == plog.predicted).all()
    assert (long["label"].to_numpy().reshape(3, 50) == plog.labels).all()


def test_result_frames_round_trip_and_are_copies():
    """An Estimate rebuilt from its to_frame row (core columns plus diagnostics) equals the original; a
    TestResult rebuilt from its frame gives the same frame; BootstrapErrorResult's frame holds its
    attributes; RiskTrace and SelectionTrace frames are their arrays; and every to_frame returns a copy:
    editing it leaves the result as it was."""
    from sklearn.linear_model import LinearRegression

    from workbench.active import estimate_risk, select_model
    from workbench.ope.continuous import kernel_estimate
    from workbench.resample import TestResult, bootstrap_error, mcnemar_test, repeated_cv
    from workbench.results import ESTIMATE_COLUMNS, Estimate

    log, truth = simulate_pricing(150, random_state=7)
    e = kernel_estimate(log, truth.optimal_action(), bandwidth=1.0, estimator="snips", n_bootstrap=80, warn=False)
    row = e.to_frame().iloc[0].to_dict()
    rebuilt = Estimate(**{k: row[k] for k in ESTIMATE_COLUMNS},
                       diagnostics={k: v for k, v in row.items() if k not in ESTIMATE_COLUMNS})
    assert rebuilt == e
    rng = np.random.default_rng(3)
    yy = rng.integers(0, 2, 80)
    t = mcnemar_test(yy, np.where(rng.random(80) < 0.8, yy, 1 - yy), np.where(rng.random(80) < 0.6, yy, 1 - yy))
    f = t.to_frame()
    d = f.iloc[0].to_dict()
    core = {k: d.pop(k) for k in ("test", "statistic", "p_value", "df", "effect", "ci_low", "ci_high", "alpha")}
    _frame_equal(TestResult(**core, details=d).to_frame(), f)
    X, y = _reg_data(7, n=30)
    be = bootstrap_error(LinearRegression(), X, y, n_splits=20, random_state=1, progress=False)
    bf = be.to_frame().set_index("estimator")
    _close(bf["value"], [be.resubstitution, be.oob, be.point632, be.point632plus, be.no_information])
    _close(bf.loc[".632+", ["se", "ci_low", "ci_high"]], [be.se, be.ci_low, be.ci_high])
    probs, yl = _pool(43, n=60)
    rt = estimate_risk(probs, yl, 8, random_state=2)
    rf = rt.to_frame()
    for col, attr in (("index", "indices"), ("q", "q"), ("weight", "weights"), ("loss", "losses"),
                      ("estimate", "estimates"), ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("se", "se")):
        _close(rf[col], getattr(rt, attr))
    _close([rt.estimate.value, rt.estimate.ci_low, rt.estimate.ci_high], rf[["estimate", "ci_low", "ci_high"]].iloc[-1])
    zoo, yz = _pool(44, n=60, h=3)
    st = select_model(zoo, yz, 8, strategy="uncertainty", random_state=2)
    sf = st.to_frame()
    _close(sf["prob_best_chosen"], st.prob_best[np.arange(8), st.chosen])
    _close(st.prob_best_frame().to_numpy(), st.prob_best)
    cv = repeated_cv(LinearRegression(), X, y, n_splits=3, n_repeats=2, random_state=0)
    _frame_equal(cv.to_frame(), cv.intervals)
    for res in (cv, st, rt, be, e):
        frame = res.to_frame()
        before = frame.copy()
        col = frame.select_dtypes("float").columns[0]
        frame.loc[frame.index[0], col] = -123.0  # in place, on the returned frame
        _frame_equal(res.to_frame(), before)


# ==============================================================================================
# more routes and dualities (resample, data)
# ==============================================================================================
def test_mcnemar_tango_duality_and_p_value_orderings():
    """On every 2x2 table with discordant pairs: the Tango score interval excludes 0 exactly when the
    uncorrected McNemar chi-square test rejects (T(0) is McNemar's z, and the interval is
    {delta: |T(delta)| <= z}); the mid-p value never exceeds the exact one, nor the uncorrected
    chi-square's the continuity-corrected one."""
    from workbench.resample import mcnemar_test, paired_difference_interval

    n = 60
    for b in range(0, 22, 3):
        for c in range(0, 22, 2):
            if b + c == 0:
                continue
            t = [[n - b - c, b], [c, 0]]
            lo, hi = paired_difference_interval(t, method="tango")
            p = {m: mcnemar_test(table=t, method=m).p_value for m in ("asymptotic", "exact", "mid-p", "corrected")}
            assert (lo <= 0 <= hi) == (p["asymptotic"] >= 0.05), (b, c, lo, hi, p)
            assert p["mid-p"] <= p["exact"] + 1e-15 and p["asymptotic"] <= p["corrected"] + 1e-15, (b, c, p)


def test_5x2cv_and_bayesian_tests_run_on_repeated_cv_splits():
    """Documented: two estimators with X, y are run on the splits repeated_cv makes with the same
    random_state (2 x 5 for the 5x2cv tests), so passing the estimators or the two CVResults gives the
    same test; with groups, as repeated_cv(groups=...) splits them."""
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
    from sklearn.tree import DecisionTreeClassifier

    from workbench.resample import bayesian_correlated_t_test, f_test_5x2cv, paired_t_5x2cv, repeated_cv

    X, y = _clf_data(2, n=80)
    A, B = LogisticRegression(max_iter=500), DecisionTreeClassifier(max_depth=2, random_state=0)
    ca = repeated_cv(A, X, y, n_splits=2, n_repeats=5, random_state=3)
    cb = repeated_cv(B, X, y, n_splits=2, n_repeats=5, random_state=3)
    for test in (paired_t_5x2cv, f_test_5x2cv):
        r1, r2 = test(A, B, X, y, random_state=3, progress=False), test(ca, cb)
        _close([r1.statistic, r1.p_value], [r2.statistic, r2.p_value], rtol=1e-12)
    Xr, yr = _reg_data(3, n=48)
    g = np.repeat(np.arange(16) * 5 + 2, 3)
    kw = dict(n_splits=4, n_repeats=2, random_state=2)
    ga = repeated_cv(Ridge(alpha=5.0), Xr, yr, groups=g, **kw)
    gb = repeated_cv(LinearRegression(), Xr, yr, groups=g, **kw)
    b1 = bayesian_correlated_t_test(ga, gb, rope=0.01)
    b2 = bayesian_correlated_t_test(Ridge(alpha=5.0), LinearRegression(), Xr, yr, groups=g, rope=0.01,
                                    progress=False, **kw)
    _close([b1.details[k] for k in ("p_left", "p_rope", "p_right")], [b2.details[k] for k in ("p_left", "p_rope",
                                                                                           "p_right")], rtol=1e-12)


def test_cv_with_groups_ignores_row_order_and_classifiers_ignore_class_names():
    """repeated_cv(groups=...) deals whole groups to folds by group (numbered in sorted id order), so
    shuffling the rows gives the same fold scores. For a classifier the stratified splits, the zero-one
    and log losses, the no-information rate and the scorers do not read the names of the classes:
    renaming them (1 - y, or strings) leaves repeated_cv, bootstrap_error and ncv_interval unchanged."""
    from sklearn.linear_model import LinearRegression, LogisticRegression

    from workbench.resample import bootstrap_error, ncv_interval, repeated_cv

    Xr, yr = _reg_data(3, n=48)
    g = np.repeat(np.arange(16) * 5 + 2, 3)
    p = np.random.default_rng(0).permutation(48)
    kw = dict(n_splits=4, n_repeats=2, random_state=2)
    _close(repeated_cv(LinearRegression(), Xr[p], yr[p], groups=g[p], **kw).scores,
           repeated_cv(LinearRegression(), Xr, yr, groups=g, **kw).scores, rtol=1e-9)
    X, y = _clf_data(3, n=60)
    lr = LogisticRegression(max_iter=500)
    names = np.array(["no", "yes"])
    base = repeated_cv(lr, X, y, n_splits=3, n_repeats=2, random_state=1).scores
    for yy in (1 - y, names[y]):
        _close(repeated_cv(lr, X, yy, n_splits=3, n_repeats=2, random_state=1).scores, base)
    for loss in ("zero_one", "log_loss"):
        be = bootstrap_error(lr, X, y, loss=loss, n_splits=20, random_state=1, progress=False).to_frame()
        for yy in (1 - y, names[y]):
            other = bootstrap_error(lr, X, yy, loss=loss, n_splits=20, random_state=1, progress=False).to_frame()
            _close(other["value"], be["value"], rtol=1e-9, atol=1e-12)
    nc = ncv_interval(lr, X, y, n_folds=3, n_reps=2, random_state=1, progress=False)
    _frame_equal(ncv_interval(lr, X, names[y], n_folds=3, n_reps=2, random_state=1, progress=False), nc, rtol=1e-9)
    zero = ncv_interval(lr, X, y, n_folds=3, n_reps=2, bias_reps=0, random_state=1, progress=False).iloc[0]
    assert zero["bias"] == 0.0 and zero["value"] == zero["raw_mean"] and zero["n_fits"] == 2 * (3 + 3) + 3


def test_simulated_densities_integrate_to_one_and_routing_subsets_commute():
    """Every pricing logger's density is a density on [a_min, a_max] for every context (CappedIGW: to
    1e-10 by construction, piecewise constant on 512 cells; Gaussian: truncated and renormalised); a
    fixed problem_seed keeps the world across random_states. Routing: subsetting the log and then taking
    the bandit view equals the reverse, and the truth's subset values the same rows."""
    cells = 512 * 8
    grid = 1 + (np.arange(cells) + 0.5) * 9 / cells  # midpoints: exact on the 512 CappedIGW cells
    for logging, tol in (("capped-igw", 1e-9), ("uniform", 1e-12), ("gaussian", 1e-6)):
        log, truth = simulate_pricing(40, logging=logging, logging_sd=0.7, random_state=1)
        mass = truth.logger.density(np.tile(grid, (40, 1))).sum(axis=1) * 9 / cells
        _close(mass, 1.0, rtol=0, atol=tol)
    _close(simulate_pricing(10, random_state=1)[1].problem.coef, simulate_pricing(10, random_state=2)[1].problem.coef)
    log, truth = simulate_routing(300, random_state=5)
    idx = np.arange(0, 300, 3)
    kw = dict(estimators=["ips", "snips"], n_bootstrap=50, random_state=1, warn=False)
    pol = np.full((100, log.n_models), 1.0 / log.n_models)
    _frame_equal(evaluate_policy(log.subset(idx).bandit_log(0.4), pol, **kw),
                 evaluate_policy(log.bandit_log(0.4).subset(idx), pol, **kw))
    _close(truth.subset(idx).value(np.ones(100, int), 0.4),
           np.mean((truth.expected_quality - 0.4 * truth.expected_cost)[idx, 1]), rtol=1e-12)
