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


def _with_units(log, units):
    from workbench.data import ContinuousBanditLog

    return ContinuousBanditLog(action=log.action, reward=log.reward, density=log.density, a_min=log.a_min,
                               a_max=log.a_max, context=log.context, unit_id=units)


def test_cross_fitting_keeps_each_unit_in_one_fold():
    # as cross_fit_predict does for discrete actions: a model fitted on some of a user's rows predicted the
    # user's other rows (each unit was spread over 4-5 of 5 folds)
    log, truth = simulate_pricing(300, random_state=0)
    units = np.repeat(np.arange(30), 10)
    lg = _with_units(log, units)
    m = ContinuousRewardModel(Ridge(), n_folds=5, random_state=0).fit(lg)
    assert all(np.unique(m.fold_[units == u]).size == 1 for u in range(30))
    assert np.unique(m.fold_).size == 5
    again = ContinuousRewardModel(Ridge(), n_folds=5, random_state=0).fit(lg)
    np.testing.assert_array_equal(m.fold_, again.fold_)  # seeded
    with pytest.raises(ValidationError, match=r"n_folds: must be at most the number of units \(3\), got 5"):
        ContinuousRewardModel(Ridge(), n_folds=5).fit(_with_units(log, np.repeat(np.arange(3), 100)))
    # a log without units keeps its row folds as before
    plain = ContinuousRewardModel(Ridge(), n_folds=5, random_state=0).fit(log)
    ref = np.random.default_rng(0).permutation(np.arange(len(log)) % 5)
    np.testing.assert_array_equal(plain.fold_, ref)
