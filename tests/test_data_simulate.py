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
