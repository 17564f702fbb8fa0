"""Findings of the stop-27 simulation audit (coverage, size, bias) that are not statistical: constant data."""
import warnings

import numpy as np
import pytest

import workbench as wb
from workbench.ope import EpsilonGreedyPolicy, evaluate_policy
from workbench.resample import bootstrap_ci


@pytest.mark.parametrize("n", [300, 3000])
@pytest.mark.parametrize("method", ["percentile", "basic", "bca", "normal", "studentized"])
def test_bootstrap_ci_of_constant_data_is_the_point(n, method):
    # the replicates' sums round differently from the estimate: percentile / basic / BCa limits missed the
    # estimate by a few ulps (0.3 -> [0.3000000000000001, 0.3000000000000002])
    r = bootstrap_ci(np.full(n, 0.3), method=method, n_resamples=200, random_state=0)
    assert r.ci_low == r.estimate == r.ci_high
    # and only the constant column of several
    X = np.column_stack([np.full(n, 0.3), np.random.default_rng(0).random(n)])
    r2 = bootstrap_ci(X, method=method, n_resamples=200, random_state=0)
    assert r2.ci_low[0] == r2.estimate[0] == r2.ci_high[0] and r2.ci_low[1] < r2.ci_high[1]


@pytest.mark.parametrize("resampling", ["poisson", "multinomial"])
def test_ope_constant_reward_model_interval_holds_its_estimate_at_large_n(resampling):
    # sum(axis=0) over 3000 rows of two term columns added row after row: the estimate came out
    # 0.29999999999998495, beyond the constant check's tolerance, so the interval excluded it unannounced
    n = 3000
    W = np.random.default_rng(99).normal(size=(3, 5))
    pol = EpsilonGreedyPolicy(lambda X: X @ W, epsilon=0.1)
    log, _ = wb.data.simulate_bandit(n, n_actions=5, random_state=1, beta=3.0)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        df = evaluate_policy(log, pol, estimators=["dm", "ips"], reward_model=np.full((n, 5), 0.3), n_bootstrap=200,
                             random_state=11, resampling=resampling)
    v, lo, hi = df.loc[0, ["value", "ci_low", "ci_high"]]
    assert lo <= v <= hi and lo == hi
    assert v == pytest.approx(0.3, abs=1e-15)
    assert any("zero width" in str(w.message) for w in got)


def test_replicate_accumulator_total_is_summed_pairwise():
    from workbench._engine import ReplicateAccumulator, Resampling
    terms = np.full((20000, 3), 0.29999999999999993)
    acc = ReplicateAccumulator(3, Resampling.make(10, "poisson", random_state=0)).add(terms)
    assert np.all(np.abs(acc.means - 0.29999999999999993) <= 4e-16)


def test_an_overflowing_weight_times_reward_is_refused_with_its_row():
    # 1.8 x 1e308 overflowed: ips / snips were inf with NaN intervals and only numpy's RuntimeWarnings
    import pandas as pd

    from workbench import ValidationError
    from workbench.data import BanditLog
    from workbench.ope import InverseProbabilityWeighting
    log = BanditLog(action=[0, 1, 0, 1], reward=[1e308, 1e308, 0.0, 0.0], propensity=[0.5] * 4, n_actions=2)
    pol = np.tile([0.9, 0.1], (4, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no numpy overflow warning first
        with pytest.raises(ValidationError, match=r"^reward: times the importance weights overflows .* first at row 0"):
            evaluate_policy(log, pol, estimators=["ips", "snips"], n_bootstrap=20, warn=False)
        with pytest.raises(ValidationError, match="^reward: times the importance weights overflows"):
            InverseProbabilityWeighting().estimate_policy_value(log, pol)
    frame = pd.DataFrame({"action": [0, 1, 0, 1], "reward": [1e308, 1e308, 0.0, 0.0], "propensity": 0.5,
                          "pi_0": 0.9, "pi_1": 0.1})
    with pytest.raises(ValidationError, match="^reward: times the importance weights overflows"):
        evaluate_policy(frame, ["pi_0", "pi_1"], ["ips"], n_bootstrap=20, warn=False)
    # weights <= 1 do not overflow: the value is exact
    ok = evaluate_policy(log, np.tile([0.5, 0.5], (4, 1)), estimators=["ips"], n_bootstrap=20, warn=False)
    assert ok.loc[0, "value"] == pytest.approx(5e307)


def test_estimate_policy_value_equals_evaluate_policy_on_many_rows_of_two_term_columns():
    from workbench.ope import SelfNormalizedIPS
    log, _ = wb.data.simulate_bandit(5000, n_actions=4, random_state=3)
    pol = np.full((5000, 4), 0.25)
    v = SelfNormalizedIPS().estimate_policy_value(log, pol)
    assert v == evaluate_policy(log, pol, ["snips"], n_bootstrap=20, warn=False).loc[0, "value"]


def test_undersampled_mass_on_a_hand_example():
    from workbench.data import BanditLog
    from workbench.ope import prepare_inputs
    from workbench.ope.evaluate import undersampled_mass
    n = 100
    pb = np.tile([0.98, 0.02], (n, 1))
    log = BanditLog(action=np.zeros(n, int), reward=np.zeros(n), propensity=np.full(n, 0.98), n_actions=2,
                    behavior_dist=pb)
    # action 1: weight 0.98 / 0.02 = 49, the target's mass 0.98 on it, drawn 0.02 x 100 = 2 times in all
    inp = prepare_inputs(log, np.tile([0.02, 0.98], (n, 1)), estimators=["ips"])
    assert undersampled_mass(inp) == pytest.approx(0.98)
    assert undersampled_mass(inp, draws=2.5) == pytest.approx(0.98) and undersampled_mass(inp, draws=1.5) == 0.0
    no_dist = BanditLog(action=np.zeros(n, int), reward=np.zeros(n), propensity=np.full(n, 0.98), n_actions=2)
    assert np.isnan(undersampled_mass(prepare_inputs(no_dist, np.tile([0.02, 0.98], (n, 1)), estimators=["ips"])))


def test_a_subnormal_behavior_probability_does_not_break_the_diagnostics():
    # w = inf on that cell: floor(inf) as int64 asked bincount for ~9e18 bins ("array is too big")
    from workbench.data import BanditLog
    n = 100
    bd = np.tile([0.5, 0.5, 1e-320], (n, 1))
    a = np.arange(n) % 2
    log = BanditLog(action=a, reward=(np.arange(n) % 3 == 0) * 1.0, propensity=bd[np.arange(n), a], n_actions=3,
                    behavior_dist=bd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the diagnostics run (warn=True), their warning is not the point here
        out = evaluate_policy(log, np.tile([0.25, 0.25, 0.5], (n, 1)), estimators=["ips", "snips"], n_bootstrap=20)
    assert np.isfinite(out["value"]).all()


def _warnings_of(log, target):
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        evaluate_policy(log, target, estimators=["ips"], n_bootstrap=50, random_state=0)
    return " ".join(str(w.message) for w in got)


RARE = "expected to draw them fewer than"


def test_rare_draws_warn_where_the_samples_own_weights_look_tame():
    # epsilon-greedy logger (0.1, 5 actions), a 0.95-greedy target on the true rewards, 500 rows: ips' 95%
    # percentile interval covered 0.78 and 72% of the misses came with no warning (ess ~35, ess_terms ~16)
    big, truth = wb.data.simulate_bandit(20_000, n_actions=5, behavior="epsilon-greedy", epsilon=0.1, random_state=0)
    q = truth.expected_reward
    target = 0.95 * np.eye(5)[q.argmax(1)] + 0.01
    idx = np.random.default_rng(1).choice(len(q), 500, replace=False)
    assert RARE in _warnings_of(big.subset(idx), target[idx])
    # ordinary logs: a softmax logger with that target, and with a uniform target (whose tail cells of weight
    # ~1e5 and almost no target mass made a second-moment version of this check warn on 41% of logs)
    soft, struth = wb.data.simulate_bandit(500, n_actions=5, random_state=0)
    qs = struth.expected_reward
    assert RARE not in _warnings_of(soft, 0.95 * np.eye(5)[qs.argmax(1)] + 0.01)
    big_soft, _ = wb.data.simulate_bandit(10_000, n_actions=5, random_state=0)
    assert RARE not in _warnings_of(big_soft, np.full((10_000, 5), 0.2))


@pytest.mark.parametrize("method", ["percentile", "basic", "bca"])
def test_streamed_bootstrap_of_constant_data_is_the_point_as_in_memory(method):
    import pandas as pd

    from workbench.resample import bootstrap_intervals
    chunks = [pd.DataFrame({"loss": np.full(1500, 0.3)})] * 2
    r = bootstrap_ci(chunks, method=method, n_resamples=200, random_state=0, resampling="poisson", columns=["loss"])
    assert r.ci_low[0] <= r.estimate[0] <= r.ci_high[0] and r.ci_low[0] == r.ci_high[0]
    tab = bootstrap_intervals(chunks, methods=("percentile", "basic", "normal"), n_resamples=200, random_state=0,
                              resampling="poisson", columns=["loss"])
    assert (tab["ci_low"] == tab["ci_high"]).all()
