"""Active pillar, checked as a user on new data would use it (estimate_risk, select_model, estimate_accuracies,
benchmarks, the task suite): regressions for the defects found, each failing on the code before its fix."""
import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.active import estimate_accuracies, select_model


def _agreeing_zoo(N=60, H=3, C=3, seed=0):
    """H identical models: no point where models disagree, so every strategy's draws are uniform."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(C), N)
    return np.stack([p] * H), rng.integers(0, C, N)


@pytest.mark.parametrize("strategy", ["model_selector", "coda"])
def test_uniform_phase_of_greedy_rules_replays_through_q_vector(strategy):
    # model_selector and coda draw uniformly once no point where models disagree is left; their q_vector
    # says so (and None while they choose greedily), so estimate_accuracies replays them like the others
    probs, y = _agreeing_zoo()
    tr = select_model(probs, y, 12, strategy=strategy, random_state=3)
    out = estimate_accuracies(tr, probs)
    assert np.allclose(tr.q, 1.0 / (60 - np.arange(12)))
    assert (out.difference == 0).all() and out.exact.all()
    # the same trace read against a zoo whose models disagree: the rule would have been greedy there
    other = probs.copy()
    other[1] = np.roll(probs[1], 1, axis=1)
    with pytest.raises(ValidationError, match="does not replay on this prediction_log: at step 0.*replay gives none"):
        estimate_accuracies(tr, other)
