"""Stop 29 walk of continuous-action OPE and its simulators: the logger's density outside its support,
masked arrays, a reward model asked for no actions, text densities."""
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from workbench._validation import ValidationError
from workbench.data import BanditLog, ContinuousBanditLog, simulate_pricing
from workbench.ope import ContinuousRewardModel


@pytest.mark.parametrize("logging", ["gaussian", "capped-igw", "uniform"])
def test_the_simulated_loggers_density_is_0_outside_the_price_range(logging):
    log, truth = simulate_pricing(3, logging=logging, random_state=0)
    lo, hi = log.a_min, log.a_max
    assert np.array_equal(truth.logger.density(np.array([lo - 1.0, hi + 0.5, lo - 60.0])), np.zeros(3))
    inside = truth.logger.density(np.array([lo, (lo + hi) / 2, hi]))
    assert (inside > 0).all()
    # 2-D: several prices per row, inside and outside
    both = truth.logger.density(np.array([[lo, hi + 1.0]] * 3))
    assert (both[:, 0] > 0).all() and (both[:, 1] == 0).all()


@pytest.mark.parametrize("field", ["reward", "action", "density"])
def test_masked_values_are_refused_not_read_as_data(field):
    base = {"action": [1.0, 2.0, 3.0], "density": [0.2, 0.3, 0.4], "reward": [0.1, 0.2, 0.3]}
    base[field] = np.ma.masked_array(np.asarray(base[field]) * 0 + 99.0 if field != "density" else [0.2, 99, 0.4],
                                     mask=[0, 1, 0])
    with pytest.raises(ValidationError, match=rf"^{field}: must not hold masked") as info:
        ContinuousBanditLog(**base, a_min=0, a_max=100)
    assert (info.value.n_bad, info.value.first) == (1, 1)


def test_masked_arrays_without_masked_values_and_other_containers():
    log = ContinuousBanditLog(action=[1.0, 2.0], density=[0.2, 0.3], reward=np.ma.masked_array([0.1, 0.2]),
                              a_min=0, a_max=5)
    assert np.array_equal(log.reward, [0.1, 0.2])
    with pytest.raises(ValidationError, match=r"^reward: must not hold masked") as info:
        BanditLog(action=[0, 1, 0], reward=np.ma.masked_array([1.0, 0.0, 1.0], mask=[0, 0, 1]),
                  propensity=[0.5, 0.5, 0.5], n_actions=2)
    assert info.value.first == 2


def test_a_reward_model_asked_for_no_actions_returns_an_empty_array():
    log, _ = simulate_pricing(100, random_state=0)
    m = ContinuousRewardModel(Ridge(), n_folds=3).fit(log)
    assert m.predict(np.empty((100, 0))).shape == (100, 0)  # was ZeroDivisionError


def test_text_densities_are_refused_by_row_as_text_rewards_are():
    with pytest.raises(ValidationError, match=r"^density: must be numeric .*3 of 3 rows .*first at row 0") as info:
        ContinuousBanditLog(action=[1.0, 2.0, 3.0], reward=[0.0, 1.0, 2.0], density=["0.2", "0.3", "0.4"],
                            a_min=0, a_max=5)
    assert "written as text" in str(info.value)
