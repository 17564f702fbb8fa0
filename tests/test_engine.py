"""The spine: hashed Poisson weights, replicate sums, influence values, intervals, result objects."""

import numpy as np
import pytest
from scipy import stats

from workbench import Estimate, ValidationError
from workbench._engine import ReplicateAccumulator, Resampling, bootstrap_statistic, influence_values
from workbench._intervals import bca_interval, percentile_interval
from workbench._random import POISSON1_TABLE, check_random_state, hashed_poisson_weights, spawn_seeds, unit_keys


def test_poisson_table_has_poisson1_moments():
    w = POISSON1_TABLE.astype(float)
    assert abs(w.mean() - 1) < 1e-4 and abs(w.var() - 1) < 1e-4
    counts = np.bincount(POISSON1_TABLE, minlength=9)[:5] / 65536
    assert np.allclose(counts, stats.poisson.pmf(np.arange(5), 1), atol=2e-5)


def test_hashed_weights_are_poisson_independent_and_keyed():
    keys = unit_keys(np.arange(200_000), seed=7)
    W = hashed_poisson_weights(keys, 0, 8).astype(float)
    assert np.allclose(W.mean(0), 1, atol=0.01) and np.allclose(W.var(0), 1, atol=0.02)
    assert np.abs(np.corrcoef(W.T) - np.eye(8)).max() < 0.01  # replicates independent
    # a block of replicates equals the same columns of the full matrix
    assert np.array_equal(hashed_poisson_weights(keys, 3, 7), W[:, 3:7])
    # another seed gives other weights; the same id always the same weight
    assert not np.array_equal(hashed_poisson_weights(unit_keys(np.arange(10), 8), 0, 8), W[:10])
    same = hashed_poisson_weights(unit_keys(np.array([5, 5, 5]), 7), 0, 8)
    assert (same == same[0]).all()
    s = hashed_poisson_weights(unit_keys(np.array(["u1", "u2", "u1"]), 7), 0, 16)
    assert np.array_equal(s[0], s[2]) and not np.array_equal(s[0], s[1])


def test_accumulator_is_chunk_and_order_free():
    rng = np.random.default_rng(0)
    T = rng.random((5000, 3))
    rs = Resampling.make(64, "poisson", random_state=11)
    ids = np.arange(5000)
    whole = ReplicateAccumulator(3, rs).add(T, ids)
    parts = ReplicateAccumulator(3, rs).add(T[:1234], ids[:1234]).merge(ReplicateAccumulator(3, rs).add(T[1234:], ids[1234:]))
    perm = rng.permutation(5000)
    shuffled = ReplicateAccumulator(3, rs).add(T[perm], ids[perm])
    for other in (parts, shuffled):
        assert np.allclose(other.rep_sums, whole.rep_sums, rtol=1e-12)
        assert np.array_equal(other.rep_weight, whole.rep_weight)
        assert np.allclose(other.means, whole.means, rtol=1e-12)


def test_multinomial_scheme_is_the_classic_bootstrap():
    x = np.random.default_rng(1).normal(size=300)
    rs = Resampling.make(500, "multinomial", random_state=3)
    theta, reps, _ = bootstrap_statistic(x, lambda m: m[..., 0], rs)
    idx = np.random.default_rng(3).integers(0, 300, (500, 300))
    assert np.allclose(reps, x[idx].mean(axis=1), rtol=1e-12)
    explicit = Resampling.make(0, "indices", indices=idx)
    assert np.allclose(bootstrap_statistic(x, lambda m: m[..., 0], explicit)[1], reps, rtol=1e-12)
    with pytest.raises(ValidationError, match="needs all rows at once"):
        ReplicateAccumulator(1, rs).add(x[:10, None]).add(x[10:20, None])


def test_bootstrap_se_of_a_mean_matches_theory_under_both_schemes():
    x = np.random.default_rng(2).exponential(size=2000)
    for scheme in ("poisson", "multinomial"):
        _, reps, _ = bootstrap_statistic(x, lambda m: m[..., 0], Resampling.make(4000, scheme, random_state=0))
        assert reps.std() == pytest.approx(x.std() / np.sqrt(x.size), rel=0.05)


def test_influence_values_equal_the_jackknife():
    rng = np.random.default_rng(4)
    x = rng.exponential(size=400)
    U = influence_values(x[:, None], np.array([x.mean()]), lambda m: m[..., 0])
    assert np.allclose(U, x - x.mean(), rtol=1e-6, atol=1e-9)
    # ratio mean(a)/mean(b): influence (a - theta b)/mean(b); jackknife agrees to O(1/n)
    T = np.column_stack([rng.exponential(size=400), rng.uniform(1, 2, 400)])
    ratio = lambda m: m[..., 0] / m[..., 1]  # noqa: E731
    U = influence_values(T, T.mean(0), ratio)
    theta = ratio(T.mean(0))
    assert np.allclose(U, (T[:, 0] - theta * T[:, 1]) / T[:, 1].mean(), rtol=1e-5, atol=1e-8)
    loo = (T.sum(0) - T) / (len(T) - 1)
    jack = (len(T) - 1) * (ratio(loo).mean() - ratio(loo))
    assert np.corrcoef(jack, U)[0, 1] > 0.9999


def test_bca_matches_scipy_on_the_same_resamples(scipy_rng):
    x = np.random.default_rng(5).lognormal(size=150)
    res = stats.bootstrap((x,), np.mean, n_resamples=999, method="BCa", **scipy_rng(9))
    idx = np.random.default_rng(9).integers(0, 150, (999, 150))
    theta, reps, acc = bootstrap_statistic(x, lambda m: m[..., 0], Resampling.make(0, "indices", indices=idx))
    assert np.allclose(np.sort(reps), np.sort(res.bootstrap_distribution), rtol=1e-12)
    lo, hi = bca_interval(theta, reps, x - x.mean(), 0.05)
    assert lo == pytest.approx(res.confidence_interval.low, rel=1e-10)
    assert hi == pytest.approx(res.confidence_interval.high, rel=1e-10)
    plo, phi = percentile_interval(reps, 0.05)
    pres = stats.bootstrap((x,), np.mean, n_resamples=999, method="percentile", **scipy_rng(9))
    assert (plo, phi) == pytest.approx(tuple(pres.confidence_interval), rel=1e-12)


def test_random_state_handling():
    assert check_random_state(3).integers(100) == np.random.default_rng(3).integers(100)
    g = np.random.default_rng(0)
    assert check_random_state(g) is g
    with pytest.raises(ValidationError, match="random_state"):
        check_random_state(np.random.RandomState(0))
    with pytest.raises(ValidationError, match="random_state"):
        check_random_state("seed")
    a, b = spawn_seeds(5, 2)
    assert np.random.default_rng(a).random() != np.random.default_rng(b).random()
    assert [s.entropy for s in spawn_seeds(5, 2)] == [a.entropy, b.entropy]


def test_estimate_result_object():
    e = Estimate(0.5, 0.4, 0.61, 0.05, alpha=0.1, method="bca", n=100, name="ips", diagnostics={"ess": 80.5})
    assert "90% CI [0.4, 0.61]" in repr(e) and "ess=80.5" in repr(e)
    f = e.to_frame()
    assert list(f.columns)[:8] == ["name", "value", "ci_low", "ci_high", "se", "alpha", "method", "n"]
    assert f["ess"].iloc[0] == 80.5 and e.confidence_interval == (0.4, 0.61)
    assert "<table" in e._repr_html_() and "<script" not in e._repr_html_()
    with pytest.raises(Exception):
        e.value = 3


def test_threshold_weights_equal_the_table_lookup():
    from workbench._random import POISSON1_THRESHOLDS, splitmix64

    keys = unit_keys(np.arange(3000), seed=1)
    lanes = np.arange(1, 26, dtype=np.uint64)
    with np.errstate(over="ignore"):
        h = splitmix64(keys[:, None] + lanes[None, :] * np.uint64(0xD1B54A32D192ED03))
    assert np.array_equal(hashed_poisson_weights(keys, 0, 100), POISSON1_TABLE[h.view("<u2")])
    u = np.arange(65536, dtype=np.uint16)
    assert np.array_equal((u[:, None] >= POISSON1_THRESHOLDS[None, :]).sum(1), POISSON1_TABLE)


def test_poisson_table_equals_scipy_ppf():
    u = (np.arange(65536) + 0.5) / 65536
    assert np.array_equal(POISSON1_TABLE, stats.poisson.ppf(u, 1.0).astype(np.uint8))


@pytest.mark.parametrize("B", [1, 7, 100, 257])
def test_compiled_weights_equal_the_numpy_weights(B):
    """The numba kernel and the numpy block give the very same weights (results never depend on numba)."""
    from workbench._compiled import poisson_weights_kernel
    from workbench._random import POISSON1_THRESHOLDS, lane_offsets

    kernel = poisson_weights_kernel()
    if kernel is None:
        pytest.skip("numba not installed: only the numpy path exists")
    keys = unit_keys(np.arange(2000) * 7919, seed=3)
    lanes = lane_offsets(0, B)
    W = np.full((2000, 4 * lanes.size), -1.0)
    kernel(keys, lanes, POISSON1_THRESHOLDS, W)
    assert np.array_equal(W[:, :B], hashed_poisson_weights(keys, 0, B))


def test_engine_sums_do_not_depend_on_numba(monkeypatch):
    import workbench._compiled as compiled

    rng = np.random.default_rng(4)
    T = rng.standard_normal((70_000, 3))  # more than one span of rows, so threads take part
    rs = Resampling.make(37, "poisson", random_state=5)
    fast = ReplicateAccumulator(3, rs).add(T)
    monkeypatch.setattr(compiled, "_KERNEL", False)
    slow = ReplicateAccumulator(3, rs).add(T)
    assert np.allclose(fast.rep_sums, slow.rep_sums, rtol=1e-12, atol=1e-9)
    assert np.array_equal(fast.rep_weight, slow.rep_weight)
    # and both equal the dense weight matrix times the terms
    W = hashed_poisson_weights(unit_keys(np.arange(70_000), rs.seed), 0, 37).astype(float)
    assert np.allclose(slow.rep_sums, W.T @ T, rtol=1e-12, atol=1e-9)


def test_a_failing_numba_falls_back_to_numpy():
    from workbench._compiled import _compile

    def broken_njit(**kwargs):
        def deco(f):
            raise RuntimeError("no locator / no compiler")
        return deco

    assert _compile(broken_njit) is False

    def wrong_njit(**kwargs):  # "compiles" to something that writes wrong weights
        return lambda f: (lambda keys, lanes, thr, W: W.fill(2.0))

    assert _compile(wrong_njit) is False


def test_resampling_refuses_a_non_integral_number_of_replicates():
    from workbench._engine import Resampling

    with pytest.raises(ValidationError, match="n_replicates"):
        Resampling.make(2.7)
    assert Resampling.make(5.0).n_replicates == 5


@pytest.mark.parametrize("interval", ["percentile", "bca"])
def test_multinomial_resampling_with_unit_ids_draws_whole_units(interval):
    # every row doubled, each pair one unit: the cluster bootstrap of the doubled log is the row
    # bootstrap of the original (same draws); resampling rows would halve the variance. With BCa the
    # acceleration must come from per-unit influence values too (per-row values give a different a).
    import warnings

    import workbench as wb

    log, _ = wb.data.simulate_bandit(500, n_actions=3, random_state=1)
    idx = np.repeat(np.arange(len(log)), 2)
    doubled = wb.data.BanditLog(action=log.action[idx], reward=log.reward[idx], propensity=log.propensity[idx],
                                n_actions=3, unit_id=idx)
    pi = np.full((len(log), 3), 1 / 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = wb.ope.evaluate_policy(doubled, pi[idx], estimators=["ips", "snips"], resampling="multinomial",
                                   random_state=0, interval=interval)
        b = wb.ope.evaluate_policy(log, pi, estimators=["ips", "snips"], resampling="multinomial", random_state=0,
                                   interval=interval)
    np.testing.assert_allclose(a[["value", "ci_low", "ci_high", "se"]].to_numpy(float),
                               b[["value", "ci_low", "ci_high", "se"]].to_numpy(float), rtol=1e-9)


@pytest.mark.parametrize("resampling", ["multinomial", "poisson"])
def test_bca_with_uneven_units_equals_the_cluster_bootstrap_of_the_terms(resampling):
    # Units of 1 to 6 rows: evaluate_policy's BCa (per-unit influence values) must equal bootstrap_ci's
    # cluster BCa on the same IPS terms and seed, an independent implementation of the same interval.
    import warnings

    import workbench as wb
    from workbench.resample import bootstrap_ci

    rng = np.random.default_rng(3)
    log, _ = wb.data.simulate_bandit(600, n_actions=3, random_state=2)
    units = np.repeat(np.arange(200), rng.integers(1, 7, 200))[:600]
    clustered = wb.data.BanditLog(action=log.action, reward=log.reward, propensity=log.propensity, n_actions=3,
                                  unit_id=units)
    pi = np.tile([0.6, 0.3, 0.1], (600, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = wb.ope.evaluate_policy(clustered, pi, estimators=["ips"], interval="bca", resampling=resampling,
                                     n_bootstrap=400, random_state=5)
    terms = pi[np.arange(600), log.action] / log.propensity * log.reward
    ref = bootstrap_ci(terms, "mean", method="bca", n_resamples=400, random_state=5, resampling=resampling,
                       groups=units)
    np.testing.assert_allclose([out["ci_low"].iloc[0], out["ci_high"].iloc[0]],
                               np.ravel(ref.confidence_interval), rtol=1e-9)


def test_cluster_bootstrap_sorts_the_unit_ids_once_per_call(monkeypatch):
    # the multinomial cluster bootstrap and BCa's per-unit influence values need the same row -> unit
    # numbers: computed once (by the caller, or by the accumulator) and passed along, same numbers
    import workbench._engine as eng

    rng = np.random.default_rng(5)
    T, ids = rng.exponential(size=(300, 2)), rng.integers(0, 40, 300)
    rs = Resampling.make(200, "multinomial", 3)
    comb = lambda M: M[..., 0] / M[..., 1]  # noqa: E731
    ref = ReplicateAccumulator(2, rs).add(T, ids)
    ref_infl = influence_values(T, ref.means, comb, eng.unit_index(ids)[0])
    calls = []
    real_unique = np.unique
    monkeypatch.setattr(np, "unique", lambda *a, **k: (calls.append(1), real_unique(*a, **k))[1])
    units = eng.unit_index(ids)  # the caller's one sort ...
    acc = ReplicateAccumulator(2, rs).add(T, ids, units=units)  # ... reused for the draws
    infl = influence_values(T, acc.means, comb, units[0])  # ... and for the influence values
    assert len(calls) == 1
    calls.clear()
    acc2 = ReplicateAccumulator(2, rs).add(T, ids)  # or the accumulator's own sort, kept on acc.units
    infl2 = influence_values(T, acc2.means, comb, acc2.units)
    assert len(calls) == 1
    monkeypatch.undo()
    for a, inf in ((acc, infl), (acc2, infl2)):
        np.testing.assert_array_equal(a.rep_sums, ref.rep_sums)
        np.testing.assert_array_equal(a.rep_weight, ref.rep_weight)
        np.testing.assert_array_equal(inf, ref_infl)
    with pytest.raises(ValidationError, match="units"):
        ReplicateAccumulator(2, rs).add(T, ids, units=(units[0][:-1], units[1]))


def test_influence_values_of_undefined_terms_are_nan_without_numpy_warnings():
    import warnings

    # an infinite term times a zero gradient component: numpy warns "invalid value encountered in
    # matmul"; the NaN it gives is BCa's to report (as an undefined acceleration), not numpy's
    terms = np.array([[np.inf, 1.0], [1.0, 2.0], [2.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        infl = influence_values(terms, np.array([1.5, 2.0]), lambda m: m[..., 1])
    assert np.isnan(infl[0]) and np.allclose(infl[1:], [0.0, 1.0])
