"""Independent Monte Carlo checks of every simulator's reported truth.

Each truth is compared with the mean of fresh draws from the simulator's own generative process,
rolled out ON-POLICY (the target policy chooses the actions, realised rewards are averaged), within
4 Monte Carlo standard errors; ``_check_power`` asserts that 4 s.e. is below 2% of the value, so an
error of a few percent in a truth cannot pass. Smoothed continuous policies are sampled with a
kernel sampler written here (rejection / sums of uniforms), not with ``workbench._kernels``.
Propensities are checked against the logger's realised action frequencies (per-action binomial z and
propensity-decile calibration). Fast versions run by default; thorough ones are marked slow.
"""
import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, softmax

from workbench import ValidationError
from workbench.data import (ROUTING_MODELS, classification_to_bandit, make_model_zoo, simulate_bandit,
                            simulate_drifting_stream, simulate_pricing, simulate_routing)

Z = 4.0  # tolerance in Monte Carlo standard errors


def _z(draws, truth):
    draws = np.asarray(draws, dtype=float)
    return (draws.mean() - truth) / (draws.std(ddof=1) / np.sqrt(draws.size))


def _check_power(draws, truth, rel=0.02):
    """The test can see an error of ``rel`` of the value: Z standard errors are smaller than that."""
    se = np.std(draws, ddof=1) / np.sqrt(np.size(draws))
    assert Z * se < rel * abs(truth), f"too few draws: {Z} se = {Z * se:.3g} against {rel:.0%} of {truth:.3g}"


def _assert_on_policy(draws, truth, rel=0.02, scale=None):
    """|mean - truth| < Z s.e., with Z s.e. < rel * (scale or |truth|): scale is the reward scale, for
    values near zero."""
    _check_power(draws, max(abs(truth), scale or 0.0), rel)
    z = _z(draws, truth)
    assert abs(z) < Z, f"rollout mean {np.mean(draws):.5g} vs truth {truth:.5g}: {z:.2f} s.e."


def _assert_frequencies(action, dist):
    """Logged actions are draws from ``dist``: per-action counts and propensity-decile calibration."""
    n, k = dist.shape
    onehot = np.eye(k)[action]
    for a in range(k):
        p = dist[:, a]
        var = (p * (1 - p)).sum()
        if var == 0:
            assert onehot[:, a].sum() == p.sum()
            continue
        z = (onehot[:, a].sum() - p.sum()) / np.sqrt(var)
        assert abs(z) < Z, f"action {a}: count off by {z:.2f} s.e."
    # every (row, action) pair, grouped by its propensity: the chosen share matches the propensity
    p, o = dist.ravel(), onehot.ravel()
    edges = np.unique(np.quantile(p, np.linspace(0, 1, 11)))
    group = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, len(edges) - 2)
    chi2, dof = 0.0, 0
    for g in np.unique(group):
        m = group == g
        var = (p[m] * (1 - p[m])).sum()
        if var > 0:
            chi2 += (o[m].sum() - p[m].sum()) ** 2 / var
            dof += 1
    assert stats.chi2.sf(chi2, dof) > 1e-4, f"propensity calibration chi2 {chi2:.1f} on {dof} dof"


# -- simulate_bandit ------------------------------------------------------------------------------
def _rollout_bandit(n, target_of, seed, **kw):
    """Re-run the simulator with the target as logger and the same seed: same contexts and q, the
    actions drawn from the target, rewards from the generative process. ``target_of(truth)`` builds
    the target from the first run's truth."""
    _, truth = simulate_bandit(n, random_state=seed, **kw)
    target = target_of(truth)
    log, again = simulate_bandit(n, random_state=seed, **{**kw, "behavior": target})
    assert np.array_equal(again.expected_reward, truth.expected_reward)
    return log, truth, target


def _targets(k):
    W = np.random.default_rng(99).standard_normal((3, k))
    def top2(t):  # zero probability on all but the two best actions
        order = np.argsort(-t.expected_reward, axis=1)
        d = np.zeros_like(t.expected_reward)
        d[np.arange(len(t)), order[:, 0]] = 0.7
        d[np.arange(len(t)), order[:, 1]] = 0.3
        return d
    return {"greedy": lambda t: np.eye(k)[t.expected_reward.argmax(1)],
            "top2": top2,
            "contextual-softmax": lambda t: softmax(2 * t.context @ W, axis=1),
            "logger": lambda t: t.behavior_dist}


@pytest.mark.parametrize("reward_type", ["binary", "continuous"])
@pytest.mark.parametrize("target", ["greedy", "top2", "logger"])
def test_bandit_truth_matches_on_policy_rollouts(reward_type, target):
    log, truth, pi = _rollout_bandit(200_000, _targets(5)[target], seed=11, n_actions=5, dim_context=3,
                                     reward_type=reward_type)
    _assert_on_policy(log.reward, truth.policy_value(pi))


@pytest.mark.parametrize("reward_type", ["binary", "continuous"])
def test_bandit_logged_rewards_have_mean_q_given_action(reward_type):
    n = 200_000
    log, truth = simulate_bandit(n, n_actions=4, reward_type=reward_type, random_state=3)
    q = truth.expected_reward[np.arange(n), log.action]
    res = log.reward - q
    for a in range(4):
        m = log.action == a
        assert abs(_z(res[m], 0.0)) < Z
    # ... and along q itself (a truth that mislabels rows or actions would miss here)
    bins = np.digitize(q, np.quantile(q, [0.2, 0.4, 0.6, 0.8]))
    for b in range(5):
        assert abs(_z(res[bins == b], 0.0)) < Z
    if reward_type == "continuous":
        assert res.std() == pytest.approx(truth.noise_sd, rel=0.01)
    else:
        assert set(np.unique(log.reward)) <= {0.0, 1.0}


@pytest.mark.parametrize("behavior", ["softmax", "uniform", "epsilon-greedy", "callable", "array"])
def test_bandit_propensities_are_the_loggers_action_frequencies(behavior):
    n, k = 100_000, 4
    kw = {"callable": lambda x: softmax(np.column_stack([x[:, 0], -x[:, 0], x[:, 1], 0 * x[:, 1]]), axis=1),
          "array": np.random.default_rng(0).dirichlet(np.full(k, 0.3), size=n)}
    log, truth = simulate_bandit(n, n_actions=k, behavior=kw.get(behavior, behavior), random_state=4)
    dist = log.behavior_dist
    assert np.allclose(dist.sum(axis=1), 1, atol=1e-12) and (dist >= 0).all()
    assert np.array_equal(truth.behavior_dist, dist)
    assert np.array_equal(log.propensity, dist[np.arange(n), log.action])
    _assert_frequencies(log.action, dist)
    if behavior == "uniform":
        assert np.all(dist == 1 / k)
    if behavior == "epsilon-greedy":
        assert np.allclose(np.sort(dist, axis=1)[:, :-1], 0.1 / k) and np.allclose(dist.max(1), 0.9 + 0.1 / k)


def test_bandit_sample_rewards_matches_policy_value_for_a_zero_probability_target():
    log, truth = simulate_bandit(200_000, n_actions=5, random_state=8)
    pi = _targets(5)["top2"](truth)
    draws = truth.sample_rewards(pi, random_state=1)
    _assert_on_policy(draws, truth.policy_value(pi))


@pytest.mark.parametrize("reward_type", ["binary", "continuous"])
def test_bandit_with_one_round(reward_type):
    log, truth = simulate_bandit(1, n_actions=3, reward_type=reward_type, random_state=0)
    assert len(log) == len(truth) == 1 and truth.expected_reward.shape == (1, 3)
    for a in range(3):
        assert truth.policy_value(np.array([a])) == truth.expected_reward[0, a]
    assert truth.behavior_value == pytest.approx(truth.behavior_dist[0] @ truth.expected_reward[0])
    assert truth.behavior_dist.sum() == pytest.approx(1)
    assert truth.sample_rewards(np.array([1]), random_state=0).shape == (1,)
    with pytest.raises(ValidationError, match="^n_actions:"):
        simulate_bandit(10, n_actions=1)


def test_bandit_greedy_target_of_a_greedy_logger():
    # epsilon = 0: the logger is deterministic; its value is the value of its argmax
    n = 5000
    log, truth = simulate_bandit(n, behavior="epsilon-greedy", epsilon=0.0, random_state=2)
    assert (log.propensity == 1).all()
    assert truth.behavior_value == pytest.approx(truth.policy_value(log.action))


# -- classification_to_bandit ---------------------------------------------------------------------
@pytest.mark.parametrize("behavior", ["classifier", "uniform"])
def test_classification_to_bandit_truth_and_propensities(behavior):
    from sklearn.datasets import load_digits
    from sklearn.naive_bayes import GaussianNB

    X, y = load_digits(return_X_y=True)
    vals, freqs = [], []
    for seed in range(40):  # the points are fixed; repeat the logging to get enough actions
        log, truth = classification_to_bandit(X, y, behavior=behavior, epsilon=0.3, model=GaussianNB(),
                                              random_state=seed)
        assert np.array_equal(log.reward, (log.action == y).astype(float))
        assert np.allclose(log.behavior_dist.sum(1), 1)
        vals.append(log.reward)
        freqs.append((log.action, log.behavior_dist))
    _assert_on_policy(np.concatenate(vals), truth.behavior_value, rel=0.05)
    _assert_frequencies(np.concatenate([f[0] for f in freqs]), np.concatenate([f[1] for f in freqs]))
    assert truth.policy_value(y) == 1.0 and truth.policy_value((y + 1) % 10) == 0.0


# -- simulate_pricing -----------------------------------------------------------------------------
def _kernel_draw(kernel, size, rng):
    """Standard kernel draws, independent of workbench._kernels."""
    if kernel == "box":
        return rng.uniform(-1, 1, size)
    if kernel == "triangular":
        return rng.random(size) + rng.random(size) - 1
    if kernel == "gaussian":
        return rng.standard_normal(size)
    shape = {"epanechnikov": lambda u: 1 - u * u, "cosine": lambda u: np.cos(np.pi / 2 * u)}[kernel]
    out, filled = np.empty(size), 0
    while filled < size:
        u = rng.uniform(-1, 1, 2 * size)
        keep = u[rng.random(2 * size) < shape(u)][: size - filled]
        out[filled:filled + keep.size] = keep
        filled += keep.size
    return out


def _revenue(problem, x, price, rng):
    """The customer model written out from the docstring: buy with sigmoid((v(x) - a) / s)."""
    v = problem.v0 + problem.spread * np.tanh(x @ problem.coef)
    return price * (rng.random(price.shape) < expit((v - price) / problem.scale))


def _rollout_pricing(truth, c, bandwidth, kernel, boundary, rng):
    if bandwidth is None:
        return _revenue(truth.problem, truth.context, c, rng)
    lo, hi = truth.a_min, truth.a_max
    if boundary == "none":  # ∫_[lo, hi] K_h(a - c) q da: the revenue counts only inside the interval
        a = c + bandwidth * _kernel_draw(kernel, c.size, rng)
        inside = (a >= lo) & (a <= hi)
        return np.where(inside, _revenue(truth.problem, truth.context, np.clip(a, lo, hi), rng), 0.0)
    a = np.full(c.size, np.nan)  # renormalised kernel = the kernel conditioned on the interval
    todo = np.arange(c.size)
    while todo.size:
        prop = c[todo] + bandwidth * _kernel_draw(kernel, todo.size, rng)
        ok = (prop >= lo) & (prop <= hi)
        a[todo[ok]] = prop[ok]
        todo = todo[~ok]
    return _revenue(truth.problem, truth.context, a, rng)


def _direct_logging_value(truth, rows, n_nodes):
    """The logging value of a block of rows on one (rows, n_nodes) grid, written out independently
    of ``logging_value``'s chunking and narrow-logger grid."""
    lo, hi = truth.a_min, truth.a_max
    context = truth.context[rows]
    grid = np.broadcast_to(lo + (np.arange(n_nodes) + 0.5) * (hi - lo) / n_nodes, (context.shape[0], n_nodes))
    dens = truth.logger.density(grid, rows)
    return float(np.mean(np.sum(dens * truth.problem.expected_reward(context, grid), axis=1) * (hi - lo) / n_nodes))


def _pricing_targets(truth):
    n, best = len(truth.context), truth.optimal_action()
    return {"optimal": best, "optimal+1.5": np.clip(best + 1.5, truth.a_min, truth.a_max),
            "near-low-edge": np.full(n, 1.2), "at-high-edge": np.full(n, truth.a_max)}


@pytest.mark.parametrize("target, bandwidth, kernel, boundary", [
    ("optimal", None, None, None), ("near-low-edge", None, None, None),
    ("optimal", 0.5, "epanechnikov", "renormalize"), ("near-low-edge", 0.5, "epanechnikov", "renormalize"),
    ("optimal+1.5", 1.0, "box", "renormalize"), ("near-low-edge", 0.5, "gaussian", "none")])
def test_pricing_policy_value_matches_independent_rollouts(target, bandwidth, kernel, boundary):
    _, truth = simulate_pricing(150_000, logging="uniform", random_state=4)
    c = _pricing_targets(truth)[target]
    kw = {} if bandwidth is None else {"bandwidth": bandwidth, "kernel": kernel, "boundary": boundary}
    draws = _rollout_pricing(truth, c, bandwidth, kernel, boundary, np.random.default_rng(5))
    _assert_on_policy(draws, truth.policy_value(c, **kw))


@pytest.mark.slow
@pytest.mark.parametrize("kernel", ["epanechnikov", "box", "gaussian", "triangular", "cosine"])
@pytest.mark.parametrize("boundary", ["renormalize", "none"])
def test_pricing_policy_value_matches_rollouts_thorough(kernel, boundary):
    _, truth = simulate_pricing(400_000, logging="uniform", random_state=6)
    rng = np.random.default_rng(7)
    for c in _pricing_targets(truth).values():
        for h in (0.2, 1.0, 3.0):
            draws = _rollout_pricing(truth, c, h, kernel, boundary, rng)
            value = truth.policy_value(c, bandwidth=h, kernel=kernel, boundary=boundary)
            # 1% of a typical revenue of 3 (values at the top edge are small)
            _assert_on_policy(draws, value, rel=0.01, scale=3.0)
        # the truth's own sampler agrees too
        draws = truth.sample_rewards(c, bandwidth=1.0, kernel=kernel, random_state=8)
        if boundary == "renormalize":
            value = truth.policy_value(c, bandwidth=1.0, kernel=kernel)
            _assert_on_policy(draws, value, rel=0.01, scale=3.0)


@pytest.mark.parametrize("logging", ["gaussian", "capped-igw", "uniform"])
def test_pricing_logged_revenue_has_mean_q_and_the_logging_value(logging):
    n = 150_000 if logging == "uniform" else 60_000
    log, truth = simulate_pricing(n, logging=logging, random_state=3)
    res = log.reward - truth.expected_reward(log.action)
    a = log.action
    for lo, hi in zip(np.quantile(a, [0, 0.25, 0.5, 0.75]), np.quantile(a, [0.25, 0.5, 0.75, 1])):
        m = (a >= lo) & (a <= hi)
        assert abs(_z(res[m], 0.0)) < Z
    nodes = 512 if logging == "capped-igw" else 256
    # logging_value works in blocks of 4,096 rows: 10,000 rows span three, against one direct grid
    _, head = simulate_pricing(10_000, logging=logging, random_state=3)
    assert head.logging_value(nodes) == pytest.approx(_direct_logging_value(head, slice(None), nodes), rel=1e-12)
    _assert_on_policy(log.reward, truth.logging_value(n_nodes=nodes))


@pytest.mark.parametrize("logging", ["capped-igw", "uniform", "gaussian"])
def test_pricing_logging_density_is_the_law_of_the_logged_prices(logging):
    n = 60_000
    log, truth = simulate_pricing(n, logging=logging, random_state=9)
    lo, hi, logger = truth.a_min, truth.a_max, truth.logger
    # integrates to one on every row
    grid = lo + (np.arange(8192) + 0.5) * (hi - lo) / 8192
    _, small = simulate_pricing(500, logging=logging, random_state=9)
    dens = small.logger.density(np.broadcast_to(grid, (500, 8192)))
    assert np.allclose(dens.sum(axis=1) * (hi - lo) / 8192, 1, atol=1e-6)
    assert np.array_equal(log.density, logger.density(log.action))
    if logging == "gaussian":  # the truncated normal, written out by scipy, and its PIT is uniform
        mu, sd = logger.mu, logger.sd
        law = stats.truncnorm((lo - mu) / sd, (hi - mu) / sd, loc=mu, scale=sd)
        assert np.allclose(log.density, law.pdf(log.action), rtol=1e-10)
        assert stats.kstest(law.cdf(log.action), "uniform").pvalue > 1e-4
        return
    # The capped-IGW density is constant on 512 price cells: the probability of each band of 32 cells
    # is exact from the cell midpoints. Logged counts per band against it (binomial z, chi-square).
    cells = lo + (np.arange(512) + 0.5) * (hi - lo) / 512
    expected, var = np.zeros(16), np.zeros(16)
    for s in range(0, n, 10_000):
        rows = slice(s, s + 10_000)
        block = logger.density(np.broadcast_to(cells, (truth.context[rows].shape[0], 512)), rows)
        mass = (block * (hi - lo) / 512).reshape(block.shape[0], 16, 32).sum(axis=2)
        expected += mass.sum(axis=0)
        var += (mass * (1 - mass)).sum(axis=0)
    assert expected.sum() == pytest.approx(n)
    counts = np.bincount(np.minimum(((log.action - lo) / (hi - lo) * 16).astype(int), 15), minlength=16)
    z = (counts - expected) / np.sqrt(var)
    assert np.abs(z).max() < Z, z
    assert stats.chi2.sf((z ** 2).sum(), 15) > 1e-4


def test_pricing_logging_value_of_a_narrow_gaussian_logger():
    # Regression: logging_value used a fixed grid of 2048 prices on [1, 10] (step 0.0044), which
    # steps over a logger of sd 0.0005: it reported 3.553 against 3.486 (1.9% too high).
    n = 150_000
    log, truth = simulate_pricing(n, logging="gaussian", logging_sd=0.0005, random_state=2)
    value = truth.logging_value(n_nodes=256)
    _assert_on_policy(log.reward, value, rel=0.01)
    exact = np.mean(truth.expected_reward(truth.logger.mu))  # the logger is (nearly) a point mass
    assert value == pytest.approx(exact, rel=1e-5)
    _, small = simulate_pricing(2000, logging="gaussian", logging_sd=0.0005, random_state=2)
    assert small.logging_value() == pytest.approx(np.mean(small.expected_reward(small.logger.mu)), rel=1e-5)


def test_pricing_optimal_action_is_the_argmax():
    _, truth = simulate_pricing(500, random_state=1)
    grid = np.linspace(truth.a_min, truth.a_max, 9001)
    q = truth.expected_reward(np.broadcast_to(grid, (500, grid.size)))
    best = truth.expected_reward(truth.optimal_action())
    assert (best >= q.max(axis=1) - 1e-12).all()


@pytest.mark.parametrize("logging", ["gaussian", "capped-igw", "uniform"])
def test_pricing_with_one_round(logging):
    log, truth = simulate_pricing(1, logging=logging, random_state=0)
    assert len(log) == 1 and truth.context.shape == (1, 3)
    c = np.array([4.0])
    assert truth.policy_value(c) == pytest.approx(float(truth.expected_reward(c)[0]))
    assert np.isfinite(truth.policy_value(c, bandwidth=0.5)) and np.isfinite(truth.logging_value())
    assert truth.sample_rewards(c, bandwidth=0.5, random_state=0).shape == (1,)


# -- simulate_routing -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def routing_big():
    return simulate_routing(200_000, random_state=7)


def test_routing_expected_quality_and_cost_follow_the_documented_formulas(routing_big):
    log, truth = routing_big
    topic = log.prompts["topic"].cat.codes.to_numpy()
    d = log.prompts["difficulty"].to_numpy()
    tokens = log.prompts["prompt_tokens"].to_numpy()
    M = ROUTING_MODELS
    bonus = np.array(list(M["topic_bonus"]))
    Q = expit(M["skill"].to_numpy() + bonus[:, topic].T - M["slope"].to_numpy() * d[:, None])
    out = np.array([500.0, 300.0, 600.0, 150.0, 200.0])[topic][:, None] * M["verbosity"].to_numpy()
    C = 100 * (tokens[:, None] * M["price_in"].to_numpy() + out * M["price_out"].to_numpy()) / 1e6
    assert np.allclose(truth.expected_quality, Q, rtol=1e-12)
    assert np.allclose(truth.expected_cost, C, rtol=1e-12)


def test_routing_logged_outcomes_have_the_expected_means(routing_big):
    log, truth = routing_big
    rows = np.arange(len(log))
    for obs, exp in ((log.quality, truth.expected_quality), (log.cost, truth.expected_cost)):
        res = obs - exp[rows, log.action]
        for m in range(log.n_models):
            assert abs(_z(res[log.action == m], 0.0)) < Z
    # on-policy for the logger: quality, cost and the trade-off value
    _assert_on_policy(log.quality, truth.quality(log.behavior_dist))
    _assert_on_policy(log.cost, truth.cost(log.behavior_dist))
    _assert_on_policy(log.quality - 0.5 * log.cost, truth.value(log.behavior_dist, 0.5))


def test_routing_propensities_are_the_routers_frequencies(routing_big):
    log, truth = routing_big
    dist = log.behavior_dist
    assert np.allclose(dist.sum(1), 1, atol=1e-12) and np.array_equal(truth.behavior_dist, dist)
    assert np.array_equal(log.propensity, dist[np.arange(len(log)), log.action])
    _assert_frequencies(log.action, dist)
    other = ~log.prompts["topic"].isin(["code", "math"]).to_numpy()
    assert (dist[other, 4] == 0).all() and not (log.action[other] == 4).any()  # the reasoner: never


@pytest.mark.parametrize("router", ["best", "frontier", "reasoner-everywhere", "logger"])
def test_routing_values_match_independent_rollouts(routing_big, router):
    # Rollouts written out from the docstring: Beta(8 Q, 8 (1 - Q)) quality, mean-one log-normal
    # output tokens; the reasoner is routed where the logger never sends it (zero propensity).
    log, truth = routing_big
    n, lam = len(log), 0.5
    pi = {"best": np.eye(5)[truth.best_router(lam)], "frontier": np.eye(5)[np.full(n, 3)],
          "reasoner-everywhere": np.eye(5)[np.full(n, 4)], "logger": log.behavior_dist}[router]
    rng = np.random.default_rng(3)
    act = (rng.random(n)[:, None] > np.cumsum(pi, axis=1)).sum(1)
    rows = np.arange(n)
    q = truth.expected_quality[rows, act]
    quality = rng.beta(8 * q, 8 * (1 - q))
    M = ROUTING_MODELS
    topic = log.prompts["topic"].cat.codes.to_numpy()
    out = np.array([500.0, 300.0, 600.0, 150.0, 200.0])[topic] * M["verbosity"].to_numpy()[act]
    out = out * np.exp(0.4 * rng.standard_normal(n) - 0.08)
    cost = 100 * (log.prompts["prompt_tokens"].to_numpy() * M["price_in"].to_numpy()[act]
                  + out * M["price_out"].to_numpy()[act]) / 1e6
    _assert_on_policy(quality, truth.quality(pi))
    _assert_on_policy(cost, truth.cost(pi))
    _assert_on_policy(quality - lam * cost, truth.value(pi, lam))
    bt = truth.bandit_truth(lam)
    assert bt.policy_value(pi) == pytest.approx(truth.value(pi, lam))
    _assert_on_policy(bt.sample_rewards(pi, random_state=4), truth.value(pi, lam))


def test_routing_with_one_prompt_and_full_exploration():
    log, truth = simulate_routing(1, random_state=0)
    assert len(log) == len(truth) == 1 and truth.behavior_dist.sum() == pytest.approx(1)
    for m in range(5):
        assert truth.quality(np.array([m])) == truth.expected_quality[0, m]
    log, truth = simulate_routing(2000, epsilon=1.0, random_state=0)  # uniform over allowed models
    allowed = np.ones((2000, 5), bool)
    allowed[:, 4] = log.prompts["topic"].isin(["code", "math"]).to_numpy()
    assert np.allclose(log.behavior_dist, allowed / allowed.sum(1, keepdims=True))


# -- simulate_drifting_stream ---------------------------------------------------------------------
@pytest.mark.parametrize("drift", ["recurring", "gradual", "abrupt"])
def test_drifting_stream_labels_follow_the_reported_concept(drift):
    eta, season, angle = 0.1, 4, 0.6
    s = simulate_drifting_stream(n_periods=8, points_per_period=20_000, drift=drift, season=season, angle=angle,
                                 label_noise=eta, anomaly_period=3, random_state=2)
    c = s.concept
    assert np.allclose(np.linalg.norm(c, axis=1), 1) and s.corrupted.tolist() == [t == 3 for t in range(8)]
    cos = c @ c[0]
    if drift == "recurring":
        assert np.allclose(c[season:], c[:-season])  # one season ago = today
        assert np.allclose(cos, np.cos(angle * np.sin(2 * np.pi * np.arange(8) / season)))
    elif drift == "gradual":
        assert np.allclose(np.sum(c[1:] * c[:-1], axis=1), np.cos(angle))
    else:
        assert np.allclose(cos, [1, 1, 1, 1, 0, 0, 0, 0])
    # P(y = 1 | x) = (1 - f) Phi(x'c / 0.3) + f (1 - Phi(x'c / 0.3)), f the flip rate of the period
    p = stats.norm.cdf(np.einsum("nd,nd->n", s.X, c[s.period]) / 0.3)
    f = np.where(s.period == 3, 1 - (1 - eta) * (1 - 0.4), eta)
    py = (1 - f) * p + f * (1 - p)
    for t in range(8):
        m = s.period == t
        z = (s.y[m] - py[m]).sum() / np.sqrt((py[m] * (1 - py[m])).sum())
        assert abs(z) < Z, f"period {t}: {z:.2f}"
    # calibration along the probability (a wrong concept or noise level would tilt it)
    bins = np.digitize(py, np.quantile(py, np.linspace(0.1, 0.9, 9)))
    for b in range(10):
        m = bins == b
        assert abs((s.y[m] - py[m]).sum() / np.sqrt((py[m] * (1 - py[m])).sum())) < Z


# -- make_model_zoo -------------------------------------------------------------------------------
def _zoo_data(n=3000):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int) + (X[:, 1] > 0.8)
    return X, y


def test_model_zoo_pool_labels_are_the_true_labels_and_probs_are_distributions():
    X, y = _zoo_data()
    zoo = make_model_zoo(X, y, n_models=3, random_state=1, cache_dir=False, progress=False)
    assert np.allclose(zoo.probs.sum(axis=2), 1) and (zoo.probs >= 0).all()
    # every pool point is a row of the data with its own label
    key = {tuple(r): lab for r, lab in zip(X, y)}
    assert all(key[tuple(r)] == lab for r, lab in zip(zoo.features, zoo.labels))
    assert len(zoo.labels) == round(0.5 * len(y))


def test_model_zoo_prior_shift_has_the_documented_class_frequencies():
    # keep a pool point of class c with probability 0.5 ** (c * strength); 10,000 pool points see
    # 0.55 ** c instead (5.5 s.e.)
    X, y = _zoo_data(20_000)
    s = 1.0
    base = make_model_zoo(X, y, n_models=1, random_state=2, cache_dir=False, progress=False)
    shifted = make_model_zoo(X, y, n_models=1, shift="prior", shift_strength=s, random_state=2, cache_dir=False,
                             progress=False)
    for c in range(3):
        n_c = (base.labels == c).sum()  # the same seed: the same pool before the subsampling
        p = 0.5 ** (c * s)
        z = ((shifted.labels == c).sum() - n_c * p) / np.sqrt(n_c * p * (1 - p) + 1e-12)
        assert abs(z) < Z


# -- reproducibility, for every simulator ----------------------------------------------------------
SIMULATORS = {
    "bandit": lambda rs: simulate_bandit(300, random_state=rs),
    "pricing-gaussian": lambda rs: simulate_pricing(300, random_state=rs),
    "pricing-igw": lambda rs: simulate_pricing(300, logging="capped-igw", random_state=rs),
    "routing": lambda rs: simulate_routing(300, random_state=rs),
    "drift": lambda rs: simulate_drifting_stream(n_periods=3, points_per_period=50, random_state=rs),
    "classification": lambda rs: classification_to_bandit(*_zoo_data(), behavior="uniform", random_state=rs),
    "zoo": lambda rs: make_model_zoo(*_zoo_data(), n_models=2, random_state=rs, cache_dir=False, progress=False),
}


def _arrays(out):
    objs = out if isinstance(out, tuple) else (out,)
    arrs = []
    for o in objs:
        for v in vars(o).values():
            if isinstance(v, np.ndarray):
                arrs.append(v)
            elif hasattr(v, "to_numpy"):
                arrs.append(v.to_numpy())
    return arrs


def _same(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("name", list(SIMULATORS))
def test_random_state_reproduces_and_different_seeds_differ(name):
    sim = SIMULATORS[name]
    a, b = _arrays(sim(5)), _arrays(sim(5))
    assert a and _same(a, b)
    assert _same(_arrays(sim(np.random.default_rng(5))), _arrays(sim(np.random.default_rng(5))))
    assert not _same(a, _arrays(sim(6)))


# -- thorough versions ------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize("reward_type", ["binary", "continuous"])
@pytest.mark.parametrize("behavior", ["softmax", "uniform", "epsilon-greedy"])
def test_bandit_truth_thorough(reward_type, behavior):
    k = 6
    for seed in (21, 22):
        for name, target in _targets(k).items():
            log, truth, pi = _rollout_bandit(1_000_000, target, seed=seed, n_actions=k, dim_context=3,
                                             reward_type=reward_type, behavior=behavior)
            # 1% of the value, or of the reward scale (1) for values near 0
            _assert_on_policy(log.reward, truth.policy_value(pi), rel=0.01, scale=1.0)
        log, truth = simulate_bandit(1_000_000, n_actions=k, reward_type=reward_type, behavior=behavior,
                                     random_state=seed)
        _assert_frequencies(log.action, log.behavior_dist)


@pytest.mark.slow
@pytest.mark.parametrize("logging, sd", [("gaussian", 2.0), ("gaussian", 0.05), ("capped-igw", None)])
def test_pricing_logging_truth_thorough(logging, sd):
    kw = {"logging_sd": sd} if sd else {"logging_bandwidth": 0.2, "gamma": 30.0}
    log, truth = simulate_pricing(1_000_000, logging=logging, random_state=12, **kw)
    _assert_on_policy(log.reward, truth.logging_value(n_nodes=512 if logging == "capped-igw" else 256), rel=0.005)
    res = log.reward - truth.expected_reward(log.action)
    assert abs(_z(res, 0.0)) < Z


@pytest.mark.slow
def test_routing_truth_thorough():
    log, truth = simulate_routing(1_000_000, temperature=0.3, epsilon=0.2, random_state=13)
    _assert_frequencies(log.action, log.behavior_dist)
    for lam in (0.0, 0.5, 2.0):
        _assert_on_policy(log.quality - lam * log.cost, truth.value(log.behavior_dist, lam), rel=0.005, scale=1.0)
        bt = truth.bandit_truth(lam)
        for m in range(5):
            pi = np.eye(5)[np.full(len(log), m)]
            _assert_on_policy(bt.sample_rewards(pi, random_state=m), truth.value(pi, lam), rel=0.01, scale=1.0)


@pytest.mark.parametrize("gamma, bandwidth", [(100.0, 0.5), (1.0, 3.0), (1e4, 0.1), (1e7, 0.5)])
def test_pricing_capped_igw_density_never_exceeds_its_cap(gamma, bandwidth):
    # Regression: beta was solved on every 8th price cell, so the exact mass Z fell to 0.95 and the
    # normalised density reached 1.054 / bandwidth, above the cap the docstring promises.
    log, truth = simulate_pricing(3000, logging="capped-igw", gamma=gamma, logging_bandwidth=bandwidth,
                                  random_state=1)
    logger = truth.logger
    assert np.all(logger.Z >= 1.0) and np.all(logger.Z <= 1.0 + 1e-9)
    cells = np.broadcast_to(logger.mids, (3000, logger.mids.size))
    assert logger.density(cells).max() * bandwidth <= 1.0
    assert log.density.max() * bandwidth <= 1.0
