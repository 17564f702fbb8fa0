"""Stop 28 walk of the OPE selection and distributional modules: each test failed before its fix."""
import warnings

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench import ValidationError
from workbench.ope import (OPEDiagnosticWarning, UniformPolicy, compare_policies, design_matrix, off_policy_cdf,
                           off_policy_cdf_from_weights, slope_select, summarise_replicates, threshold_family)


@pytest.fixture(scope="module")
def routing():
    # the target routes everything to action 4, which the logger never takes on about 60% of rows
    log, truth = wb.data.simulate_routing(600, random_state=0)
    b = log.bandit_log(lam=0.1)
    target = np.zeros((len(b), b.n_actions))
    target[:, 4] = 1.0
    return b, target


def _support_warnings(caught):
    return [w for w in caught if issubclass(w.category, OPEDiagnosticWarning) and "never takes" in str(w.message)]


def test_off_policy_cdf_warns_on_missing_support_as_evaluate_policy_does(routing):
    b, target = routing
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = off_policy_cdf(b, target, n_bootstrap=50)
    assert len(_support_warnings(caught)) == 1  # was silent: the CDF's mean 0.76 against a truth of 0.71
    share = res.diagnostics["zero_support_share"]
    pb = b.behavior_dist if b.behavior_dist.ndim == 2 else b.behavior_dist[:, :, 0]
    assert share == pytest.approx(np.mean(pb[:, 4] <= 0)) and share > 0.2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        off_policy_cdf(b, target, n_bootstrap=50, warn=False)
    assert not _support_warnings(caught)
    with pytest.raises(ValidationError, match="warn"):
        off_policy_cdf(b, target, n_bootstrap=50, warn="no")
    # a supported target: no warning, share 0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ok = off_policy_cdf(b, b.behavior_dist, n_bootstrap=50)
    assert not _support_warnings(caught) and ok.diagnostics["zero_support_share"] == 0.0


def test_compare_policies_warns_per_policy_on_missing_support(routing):
    b, target = routing
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_policies(b, {"router": target, "logger": b.behavior_dist}, estimator="snips", n_bootstrap=50)
    got = _support_warnings(caught)
    assert len(got) == 1 and str(got[0].message).startswith("policy 'router':")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        compare_policies(b, {"router": target, "logger": b.behavior_dist}, estimator="snips", n_bootstrap=50,
                         warn=False)
    assert not _support_warnings(caught)


def test_slope_select_warns_on_missing_support(routing):
    b, target = routing
    fam = threshold_family("ips", [float("inf"), 20, 5])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        slope_select(b, target, fam, n_bootstrap=50)
    assert len(_support_warnings(caught)) == 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        slope_select(b, target, fam, n_bootstrap=50, warn=False)
    assert not _support_warnings(caught)


def test_compare_policies_refuses_a_reward_model_that_is_no_model_even_when_unused():
    log, _ = wb.data.simulate_bandit(300, n_actions=3, random_state=0)
    cands = {"u": UniformPolicy(), "s": wb.ope.SoftmaxPolicy(lambda X: X[:, :3])}
    for bad in ("ridge", 42):
        with pytest.raises(ValidationError, match="reward_model"):
            compare_policies(log, cands, estimator="ips", reward_model=bad, n_bootstrap=20)


def test_compare_policies_names_its_estimator_parameter():
    log, _ = wb.data.simulate_bandit(300, n_actions=3, random_state=0)
    cands = {"u": UniformPolicy(), "s": wb.ope.SoftmaxPolicy(lambda X: X[:, :3])}
    for bad in (["ips", "dr"], "xx", 3):
        with pytest.raises(ValidationError) as err:
            compare_policies(log, cands, estimator=bad, n_bootstrap=20)
        assert err.value.field == "estimator"


@pytest.mark.parametrize("values", [[0.0, 1.0, 2.0 ** 1023], [-(2.0 ** 1023), 2.0 ** 1023, 1.0]])
def test_cdf_functionals_of_rewards_near_the_float_limit(values):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a few empty replicates of 3 rows
        r = off_policy_cdf_from_weights(values, [1.0, 1.0, 1.0], n_bootstrap=50, random_state=0)
        mean, std = r.mean().value, r.std().value  # OverflowError: math range error
        r.summary()
    v = np.asarray(values) / 2.0 ** 1023  # the truth in units of 2**1023 (the CDF's steps round at 1e-16 of that)
    assert abs(mean / 2.0 ** 1023 - v.mean()) < 1e-15
    assert std / 2.0 ** 1023 == pytest.approx(np.sqrt(np.mean((v - v.mean()) ** 2)), rel=1e-12)


def test_the_empty_replicate_warning_says_what_empties_an_importance_weighted_replicate():
    with pytest.warns(RuntimeWarning, match="draw no row at all") as rec:
        off_policy_cdf_from_weights([0.0, 1, 2, 3], [0, 0, 1, 1], self_normalize=False, n_bootstrap=200,
                                    random_state=0)
    assert "self-normalised" not in str(rec[0].message)
    with pytest.warns(RuntimeWarning, match="self-normalised CDF is 0/0"):
        off_policy_cdf_from_weights([0.0, 1, 2, 3], [0, 0, 0, 1], n_bootstrap=200, random_state=0)


def test_summarise_replicates_with_one_replicate_is_quietly_nan():
    reps = pd.DataFrame({"estimator": ["ips"], "value": [0.5], "ci_low": [0.4], "ci_high": [0.6], "truth": [0.5]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "Degrees of freedom <= 0" was a RuntimeWarning
        out = summarise_replicates(reps)
    assert np.isnan(out.loc[0, "bias_se"]) and np.isnan(out.loc[0, "error_sd"]) and out.loc[0, "rmse"] == 0


@pytest.mark.parametrize("n_positions", [1, None])
def test_design_matrix_checks_a_position_it_does_not_encode(n_positions):
    x = np.ones((2, 1))
    with pytest.raises(ValidationError, match="position"):
        design_matrix(x, [0, 1], [7, -3], n_actions=2, n_positions=n_positions)
    with pytest.raises(ValidationError, match="position"):
        design_matrix(x, [0, 1], [0], n_actions=2, n_positions=n_positions)  # one position for two rows
    ok = design_matrix(x, [0, 1], [0, 0], n_actions=2, n_positions=n_positions)
    np.testing.assert_array_equal(ok, design_matrix(x, [0, 1], None, n_actions=2, n_positions=n_positions))
