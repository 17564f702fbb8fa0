"""Simulators' ground truth: Monte Carlo means of rewards under a policy match the exact value."""
import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_iris

from workbench import ValidationError
from workbench.data import classification_to_bandit, make_model_zoo, simulate_bandit


@pytest.mark.parametrize("reward_type", ["binary", "continuous"])
@pytest.mark.parametrize("behavior", ["softmax", "uniform", "epsilon-greedy"])
def test_logged_rewards_match_the_behavior_value(reward_type, behavior):
    log, truth = simulate_bandit(20_000, n_actions=4, dim_context=3, reward_type=reward_type, behavior=behavior,
                                 random_state=3)
    se = log.reward.std(ddof=1) / np.sqrt(len(log))
    assert abs(log.reward.mean() - truth.behavior_value) < 3 * se
    assert np.allclose(log.behavior_dist.sum(1), 1)
    assert np.allclose(log.propensity, log.behavior_dist[np.arange(len(log)), log.action])


def test_rollouts_of_any_policy_match_its_exact_value():
    log, truth = simulate_bandit(20_000, n_actions=5, dim_context=2, random_state=0)
    rng = np.random.default_rng(1)
    target = rng.dirichlet(np.ones(5), size=len(log))
    greedy = truth.expected_reward.argmax(axis=1)
    for policy in (target, greedy):
        r = truth.sample_rewards(policy, random_state=2)
        assert abs(r.mean() - truth.policy_value(policy)) < 3 * r.std(ddof=1) / np.sqrt(len(r))
    assert truth.policy_value(greedy) > truth.behavior_value  # the best policy beats the logger


def test_ips_with_known_propensities_recovers_the_value():
    """A Monte Carlo check of the log itself: the IPS mean of w r over replicates matches V(pi)."""
    vals = []
    for seed in range(200):
        log, truth = simulate_bandit(500, n_actions=3, dim_context=2, behavior="uniform", random_state=seed)
        pi = np.tile([0.6, 0.3, 0.1], (500, 1))
        w = pi[np.arange(500), log.action] / log.propensity
        vals.append(np.mean(w * log.reward) - truth.policy_value(pi))
    vals = np.asarray(vals)
    assert abs(vals.mean()) < 3 * vals.std(ddof=1) / np.sqrt(len(vals))


def test_seeded_and_validated():
    a, _ = simulate_bandit(100, 3, 2, random_state=5)
    b, _ = simulate_bandit(100, 3, 2, random_state=5)
    assert np.array_equal(a.action, b.action) and np.array_equal(a.reward, b.reward)
    with pytest.raises(ValidationError, match="reward_type"):
        simulate_bandit(10, 3, 2, reward_type="poisson")
    with pytest.raises(ValidationError, match="behavior"):
        simulate_bandit(10, 3, 2, behavior=np.full((10, 3), 0.5))
    log, _ = simulate_bandit(50, 3, 2, dim_action_context=4, random_state=0)
    assert log.action_context.shape == (3, 4)


def test_classification_to_bandit_exact_values():
    X, y = load_iris(return_X_y=True)
    log, truth = classification_to_bandit(X, y, behavior="classifier", epsilon=0.3, random_state=0)
    assert log.n_actions == 3 and np.array_equal(log.reward, (log.action == y).astype(float))
    onehot = np.eye(3)[y]
    assert truth.policy_value(onehot) == 1.0 and truth.policy_value(np.full((len(y), 3), 1 / 3)) == pytest.approx(1 / 3)
    assert abs(log.reward.mean() - truth.behavior_value) < 3 * log.reward.std() / np.sqrt(len(y))
    with pytest.raises(ValidationError, match="epsilon"):
        classification_to_bandit(X, y, epsilon=0.0)


def test_model_zoo_is_varied_cached_and_shiftable(tmp_path):
    X, y = load_breast_cancer(return_X_y=True)
    zoo = make_model_zoo(X, y, n_models=8, random_state=0, cache_dir=tmp_path)
    assert zoo.n_models == 8 and zoo.n_classes == 2 and zoo.n_labelled == zoo.n_points
    acc = zoo.accuracy()
    assert acc.max() > 0.9 and acc.max() - acc.min() > 0.01 and acc.index.is_unique
    assert len(list((tmp_path / "zoo").glob("*.npz"))) == 1
    again = make_model_zoo(X, y, n_models=8, random_state=0, cache_dir=tmp_path)
    assert np.array_equal(again.probs, zoo.probs) and again.model_names == zoo.model_names
    noisy = make_model_zoo(X, y, n_models=8, shift="noise", random_state=0, cache_dir=False)
    assert noisy.accuracy().mean() < acc.mean()
    prior = make_model_zoo(X, y, n_models=4, shift="prior", random_state=0, cache_dir=False)
    assert np.mean(prior.labels == 1) < np.mean(zoo.labels == 1)
    with pytest.raises(ValidationError, match="at least 3 classes"):
        make_model_zoo(X, y, n_models=4, shift="missing_class", random_state=0, cache_dir=False)
    Xi, yi = load_iris(return_X_y=True)
    missing = make_model_zoo(Xi, yi, n_models=4, shift="missing_class", random_state=0, cache_dir=False)
    assert (missing.predicted != 2).all() and (missing.labels == 2).any()  # class 2 never seen in training


@pytest.fixture(scope="module")
def small_truth():
    return simulate_bandit(300, n_actions=4, dim_context=2, random_state=0)


@pytest.mark.parametrize("bad", [-1, 0.9, 4, np.nan])
def test_truth_rejects_a_bad_deterministic_policy(small_truth, bad):
    _, truth = small_truth
    policy = np.zeros(300)
    policy[7] = bad
    for fn in (truth.policy_value, truth.sample_rewards):
        with pytest.raises(ValidationError, match=r"^policy: .*first at row 7"):
            fn(policy)


def test_truth_accepts_policy_objects_and_has_a_short_repr(small_truth):
    from workbench.ope import DeterministicPolicy, UniformPolicy

    log, truth = small_truth
    assert truth.policy_value(UniformPolicy()) == pytest.approx(truth.expected_reward.mean())
    assert truth.policy_value(DeterministicPolicy(2)) == pytest.approx(truth.expected_reward[:, 2].mean())
    assert truth.policy_value(UniformPolicy()) == truth.policy_value(UniformPolicy().action_dist(log))
    text = repr(truth)
    assert text.startswith("BanditTruth(300 rows, 4 actions") and len(text) < 120


@pytest.mark.parametrize("kw, field", [
    ({"n_rounds": 2.5}, "n_rounds"), ({"n_actions": 3.5}, "n_actions"), ({"dim_context": 0}, "dim_context"),
    ({"dim_action_context": 0}, "dim_action_context"), ({"dim_action_context": 1.5}, "dim_action_context"),
    ({"behavior": "epsilon-greedy", "epsilon": 2}, "epsilon"), ({"behavior": "epsilon-greedy", "epsilon": -0.5}, "epsilon"),
    ({"beta": np.inf}, "beta"), ({"beta": np.nan}, "beta"),
    ({"reward_type": "continuous", "noise_sd": -1}, "noise_sd")])
def test_simulate_bandit_checks_each_parameter_by_name(kw, field):
    with pytest.raises(ValidationError, match=f"^{field}:"):
        simulate_bandit(**{"n_rounds": 50, **kw})


# -- the routing simulator's truth ------------------------------------------------------------------
@pytest.fixture(scope="module")
def routing():
    from workbench.data import simulate_routing

    return simulate_routing(30_000, random_state=5)


@pytest.mark.parametrize("bad", [2.5, -1, 7, np.nan])
def test_routing_truth_rejects_a_bad_per_row_policy(routing, bad):
    # 2.5 used to become model 2, -1 the last model; 7 and NaN were bare IndexErrors.
    _, truth = routing
    policy = np.zeros(len(truth))
    policy[7] = bad
    for fn in (lambda p: truth.value(p, 0.5), truth.quality, truth.cost):
        with pytest.raises(ValidationError, match=r"^policy: .*first at row 7"):
            fn(policy)
    policy[7] = 3  # a valid index still works
    assert truth.quality(policy) == pytest.approx(truth.expected_quality[:, 0].mean()
                                                  + (truth.expected_quality[7, 3] - truth.expected_quality[7, 0])
                                                  / len(truth))


def test_routing_truth_takes_a_boolean_one_hot_router(routing):
    _, truth = routing
    best = truth.best_router(0.5)
    k = truth.expected_quality.shape[1]
    assert truth.value(best[:, None] == np.arange(k), 0.5) == pytest.approx(truth.value(best, 0.5))


def test_routing_bandit_truth_draws_the_logs_noise_and_reads_policies(routing):
    # The logged rewards and a rollout of the logger have the same spread (Beta quality, log-normal
    # cost), not the spread of the expected rewards alone (sd 0.15 against 0.25 at lam = 0.5).
    from workbench.ope import DeterministicPolicy

    log, truth = routing
    lam = 0.5
    bt = truth.bandit_truth(lam)
    real = log.quality - lam * log.cost
    draw = bt.sample_rewards(log.behavior_dist, random_state=1)
    assert draw.std() == pytest.approx(real.std(), rel=0.05)
    assert abs(draw.mean() - bt.behavior_value) < 4 * draw.std() / np.sqrt(len(draw))
    assert bt.context is not None and bt.context.shape == log.context.shape
    assert bt.policy_value(DeterministicPolicy(1)) == pytest.approx(truth.value(np.ones(len(log)), lam))
    bare = type(truth)(truth.expected_quality, truth.expected_cost, truth.behavior_dist, truth.model_names)
    assert bare.bandit_truth(lam).policy_value(log.behavior_dist) == pytest.approx(bt.behavior_value)
    with pytest.raises(ValidationError, match="sample_rewards.*output_cost"):
        bare.bandit_truth(lam).sample_rewards(log.behavior_dist)
    with pytest.raises(ValidationError, match="^lam:"):
        truth.bandit_truth(-1)


def test_routing_best_router_checks_allowed(routing):
    _, truth = routing
    n, k = truth.expected_quality.shape
    allowed = np.ones((n, k), bool)
    allowed[:, 0] = False
    assert (truth.best_router(0.5, allowed=allowed) != 0).all()
    allowed[3] = False  # nothing allowed in row 3: there is no best model there
    with pytest.raises(ValidationError, match=r"^allowed: must allow at least one model.*first at row 3"):
        truth.best_router(0.5, allowed=allowed)
    with pytest.raises(ValidationError, match=r"^allowed: must have shape"):
        truth.best_router(0.5, allowed=np.ones((n, k - 1), bool))
    with pytest.raises(ValidationError, match=r"^allowed: must be booleans"):
        truth.best_router(0.5, allowed=np.full((n, k), 0.5))


def test_short_reprs_of_simulated_containers(routing):
    from workbench.data import simulate_drifting_stream, simulate_pricing

    log, truth = routing
    _, ptruth = simulate_pricing(500, random_state=0)
    stream = simulate_drifting_stream(n_periods=3, points_per_period=50, random_state=0)
    for obj, start in ((truth, "RoutingTruth(30,000 prompts"), (ptruth, "ContinuousTruth(500 rows"),
                       (ptruth.problem, "PricingProblem(3 context dims"), (stream, "DriftingStream(150 points")):
        text = repr(obj)
        assert text.startswith(start) and len(text) < 140, text
    assert "RoutingLog" in log._repr_html_() and "DriftingStream" in stream._repr_html_()


@pytest.mark.parametrize("kw, field", [
    ({"n_rounds": 2.5}, "n_rounds"), ({"dim_context": 1.5}, "dim_context"), ({"a_min": "1"}, "a_min"),
    ({"problem_seed": 1.5}, "problem_seed"), ({"logging_sd": np.inf}, "logging_sd"),
    ({"logging_sd": -1}, "logging_sd"), ({"gamma": np.nan}, "gamma")])
def test_simulate_pricing_checks_each_parameter_by_name(kw, field):
    from workbench.data import simulate_pricing

    with pytest.raises(ValidationError, match=f"^{field}:"):
        simulate_pricing(**{"n_rounds": 50, **kw})


def test_simulate_routing_checks_n_prompts():
    from workbench.data import simulate_routing

    with pytest.raises(ValidationError, match="^n_prompts:"):
        simulate_routing(2.5)


@pytest.mark.parametrize("kw, field", [
    ({"n_datasets": 2.5}, "n_datasets"), ({"n_splits": 1}, "n_splits"), ({"n_splits": 0}, "n_splits"),
    ({"n": 10.5}, "n"), ({"n_repeats": 0}, "n_repeats"), ({"n": 2, "n_splits": 2}, "n")])
def test_null_cv_scores_checks_each_parameter_by_name(kw, field):
    # n_splits=1 returned all-NaN scores silently, 0 was a ZeroDivisionError, 2.5 data sets became 2.
    from workbench.resample.simulate import null_cv_scores

    with pytest.raises(ValidationError, match=f"^{field}:"):
        null_cv_scores(**{"n_datasets": 2, "n": 10, "n_splits": 5, **kw})


def test_null_cv_scores_accepts_an_integral_float():
    from workbench.resample.simulate import null_cv_scores

    a, b = null_cv_scores(2, n=10.0, n_splits=5, n_repeats=1, random_state=0)  # 10.0 was a TypeError
    assert a.shape == (2, 5) and np.isfinite(a).all()


@pytest.mark.parametrize("kw, field", [
    ({"pool_size": 0}, "pool_size"), ({"pool_size": -1}, "pool_size"), ({"pool_size": 1.5}, "pool_size"),
    ({"pool_size": 1}, "pool_size"), ({"pool_size": 0.001}, "pool_size"), ({"train_fraction": 2}, "train_fraction"),
    ({"train_fraction": 0}, "train_fraction"), ({"shift": "prior", "shift_strength": -1}, "shift_strength"),
    ({"shift": "noise", "shift_strength": np.nan}, "shift_strength"), ({"n_models": 2.5}, "n_models")])
def test_model_zoo_checks_each_parameter_by_name(kw, field):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(ValidationError, match=f"^{field}:"):
        make_model_zoo(X, y, **{"n_models": 2, "cache_dir": False, "progress": False, **kw})


def test_classification_to_bandit_needs_two_classes():
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValidationError, match="y: holds a single class"):
        classification_to_bandit(X, np.ones(20, dtype=int), random_state=0)  # was scikit-learn's ValueError
    with pytest.raises(ValidationError, match="y: must have labels of at least two classes"):
        classification_to_bandit(X, np.zeros(20, dtype=int), behavior="uniform", random_state=0)
    log = classification_to_bandit(X, np.ones(20, dtype=int), behavior="uniform", random_state=0)[0]
    assert log.n_actions == 2
