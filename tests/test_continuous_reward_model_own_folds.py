"""A ContinuousRewardModel passed to the continuous OPE functions keeps its own folds and seed, says so when the
call's n_folds disagrees (it was silently ignored), and is not refitted in place on another log (the caller's
object then predicted for the wrong log)."""
import numpy as np
import pytest
from sklearn.linear_model import Ridge

from workbench import ValidationError
from workbench.data import simulate_pricing
from workbench.ope import ContinuousRewardModel, bandwidth_sweep, evaluate_continuous_policy


def _two_logs():
    a, truth = simulate_pricing(400, random_state=0)
    b, truth_b = simulate_pricing(300, random_state=1)
    return a, b, truth, truth_b


def test_a_conflicting_n_folds_is_refused_naming_both():
    a, _, truth, _ = _two_logs()
    model = ContinuousRewardModel(Ridge(), n_folds=3).fit(a)
    with pytest.raises(ValidationError, match=r"n_folds: is 4, but the ContinuousRewardModel .* own n_folds=3"):
        evaluate_continuous_policy(a, truth.optimal_action(), bandwidth=0.5, estimators=["dr"], reward_model=model,
                                   n_folds=4, n_bootstrap=50)
    with pytest.raises(ValidationError, match=r"n_folds: is 4"):
        bandwidth_sweep(a, truth.optimal_action(), [0.5], estimators=["dr"], reward_model=model, n_folds=4,
                        n_bootstrap=50)
    # the same number, or none, is accepted and gives the model's own answer
    out = [evaluate_continuous_policy(a, truth.optimal_action(), bandwidth=0.5, estimators=["dr"], reward_model=model,
                                      n_bootstrap=50, **kw)["value"].item() for kw in ({}, {"n_folds": 3})]
    assert out[0] == out[1]


def test_a_model_fitted_on_another_log_is_refitted_as_a_copy():
    a, b, _, truth_b = _two_logs()
    model = ContinuousRewardModel(Ridge(), n_folds=3, random_state=7).fit(a)
    before = model.predict(a.action).copy()
    got = evaluate_continuous_policy(b, truth_b.optimal_action(), bandwidth=0.5, estimators=["dr"],
                                     reward_model=model, n_bootstrap=50, random_state=0)
    assert model.log_ is a  # still the caller's fit
    np.testing.assert_array_equal(model.predict(a.action), before)
    # and the copy used on b is what fitting the same specification on b gives
    ref = evaluate_continuous_policy(b, truth_b.optimal_action(), bandwidth=0.5, estimators=["dr"],
                                     reward_model=ContinuousRewardModel(Ridge(), n_folds=3, random_state=7),
                                     n_bootstrap=50, random_state=0)
    assert got["value"].item() == ref["value"].item()


def test_a_bare_regressor_still_uses_the_call_n_folds():
    a, _, truth, _ = _two_logs()
    vals = {k: evaluate_continuous_policy(a, truth.optimal_action(), bandwidth=0.5, estimators=["dr"],
                                          reward_model=Ridge(), n_folds=k, n_bootstrap=50)["value"].item()
            for k in (None, 5, 2)}
    assert vals[None] == vals[5] and vals[2] != vals[5]
