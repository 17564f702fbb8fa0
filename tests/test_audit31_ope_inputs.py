"""Audit 31: OPE inputs checked whatever the estimators, hand-built OPEInputs, the policy's columns of a tabular
log, kernel_estimate's keywords, fit_reward_scorer's seed, bandwidth_sweep's columns, the scale sources."""
import warnings

import numpy as np
import pandas as pd
import pytest

import workbench.ope as ope
import workbench.scale as scale
from workbench._validation import ValidationError
from workbench.data import BanditLog, ContinuousBanditLog
from workbench.ope.continuous import bandwidth_sweep, kernel_estimate

N = 40


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _log():
    rng = np.random.default_rng(0)
    return BanditLog(action=rng.integers(0, 2, N), reward=rng.random(N), propensity=np.full(N, 0.5), n_actions=2,
                     context=rng.normal(size=(N, 2)))


def _frame():
    log = _log()
    return pd.DataFrame({"action": log.action, "reward": log.reward, "propensity": 0.5, "pi_0": 0.8, "pi_1": 0.2,
                         "x0": log.context[:, 0]})


PI = np.tile([0.8, 0.2], (N, 1))


def _error(fn) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        fn()
    return info.value


# -- 1. arguments no estimator of the call uses ----------------------------------------------------------------
@pytest.mark.parametrize("call", [scale.evaluate_tabular, ope.evaluate_policy])
def test_unused_context_column_is_checked(call):
    err = _error(lambda: call(_frame(), ["pi_0", "pi_1"], ["ips"], context=["x_typo"], n_bootstrap=20))
    assert err.field == "context" and "x_typo" in err.rule


def test_context_typo_message_is_the_same_used_or_not():
    df = _frame()
    unused = _error(lambda: scale.evaluate_tabular(df, ["pi_0", "pi_1"], ["ips"], context=["x_typo"], n_bootstrap=20))
    used = _error(lambda: scale.evaluate_tabular(df, ["pi_0", "pi_1"], ["dr"], context=["x_typo"], n_bootstrap=20))
    assert str(unused) == str(used)


def test_unused_reward_model_columns_are_checked():
    err = _error(lambda: scale.evaluate_tabular(_frame(), ["pi_0", "pi_1"], ["ips"], reward_model=["q0", "q1"],
                                                n_bootstrap=20))
    assert err.field == "reward_model" and "q0" in err.rule


@pytest.mark.parametrize("model", ["ridge", np.full((N, 2), np.nan)])
def test_unused_tabular_reward_model_kind_is_checked(model):
    err = _error(lambda: scale.evaluate_tabular(_frame(), ["pi_0", "pi_1"], ["ips"], reward_model=model,
                                                n_bootstrap=20))
    assert err.field == "reward_model"


def test_unused_reward_model_array_is_checked_in_memory():
    log = _log()
    err = _error(lambda: ope.evaluate_policy(log, PI, ["ips"], reward_model=np.full((N, 2), np.nan), n_bootstrap=20))
    assert err.field == "reward_model" and "finite" in err.rule and err.first == 0
    err = _error(lambda: ope.evaluate_policy(log, PI, ["ips"], reward_model=np.zeros((3, 3)), n_bootstrap=20))
    assert err.field == "reward_model" and "(3, 3)" in err.rule


def test_valid_unused_arguments_leave_the_estimate_unchanged():
    df = _frame()
    base = scale.evaluate_tabular(df, ["pi_0", "pi_1"], ["ips"], n_bootstrap=20)
    df["q0"], df["q1"] = 0.1, 0.2
    more = scale.evaluate_tabular(df, ["pi_0", "pi_1"], ["ips"], context=["x0"], reward_model=["q0", "q1"],
                                  n_bootstrap=20)
    pd.testing.assert_frame_equal(base, more)
    log = _log()
    a = ope.evaluate_policy(log, PI, ["ips"], n_bootstrap=20)
    b = ope.evaluate_policy(log, PI, ["ips"], reward_model=np.zeros((N, 2)), n_bootstrap=20)
    pd.testing.assert_frame_equal(a.drop(columns="reward_model"), b.drop(columns="reward_model"))


# -- 2. a hand-built OPEInputs ---------------------------------------------------------------------------------
def _inputs(**kw):
    n = 6
    d = dict(reward=np.array([0.0, 1, 0, 1, 1, 0]), pscore=np.full(n, 0.5), weight=np.ones(n),
             action=np.array([0, 1, 0, 1, 0, 1]), position=np.zeros(n, int), action_dist=np.full((n, 2, 1), 0.5))
    d.update(kw)
    return ope.OPEInputs(**d)


def _estimate(inputs, names=("ips", "snips")):
    return ope.estimate_from_inputs(list(names), inputs, n_bootstrap=20)


@pytest.mark.parametrize("kw, field, first", [
    (dict(pscore=np.array([0, 0.5, 0.5, 0.5, 0.5, 0.5])), "pscore", 0),
    (dict(action=np.array([0, 1, 0, 1, 0, 5])), "action", 5),
    (dict(action_dist=np.full((6, 2, 1), 0.9)), "action_dist", 0),
    (dict(weight=np.array([7.0, 1, 1, 1, 1, 1])), "weight", 0),
    (dict(weight=np.array([1.0, 1, np.nan, 1, 1, 1])), "weight", 2),
    (dict(reward=np.array([0.0, 1, 0, np.nan, 1, 0])), "reward", 3),
])
def test_hand_built_inputs_are_validated(kw, field, first):
    err = _error(lambda: _estimate(_inputs(**kw)))
    assert err.field == field and err.first == first
    assert "overflow" not in str(err)


def test_hand_built_inputs_of_different_lengths():
    err = _error(lambda: _estimate(_inputs(reward=np.array([0.0, 1, 0]))))
    assert err.field == "reward" and "got 3 rows, expected 6" in err.rule


def test_hand_built_nan_reward_model_names_it():
    n = 6
    q = dict(q_logged=np.full(n, np.nan), q_policy=np.full(n, np.nan), q_hat=np.full((n, 2, 1), np.nan))
    err = _error(lambda: _estimate(_inputs(**q), ("dm", "dr")))
    assert err.field in ("q_hat", "q_logged", "q_policy") and "overflow" not in str(err)


def test_hand_built_valid_inputs_give_prepare_inputs_numbers():
    log = _log()
    prepared = ope.prepare_inputs(log, PI, estimators=["ips"])
    hand = ope.OPEInputs(reward=log.reward.copy(), pscore=log.propensity.copy(), weight=prepared.weight.copy(),
                         action=log.action.copy(), position=np.zeros(N, int), action_dist=PI[:, :, None].copy())
    a = ope.estimate_from_inputs(["ips", "snips"], prepared, n_bootstrap=50)
    b = ope.estimate_from_inputs(["ips", "snips"], hand, n_bootstrap=50)
    assert [(e.value, e.ci_low, e.ci_high) for e in a] == [(e.value, e.ci_low, e.ci_high) for e in b]


def test_a_real_overflow_still_says_overflow():
    n = 6
    inp = _inputs(reward=np.array([1e308, 1, 0, 1, 1, 0]), pscore=np.full(n, 0.25), weight=np.full(n, 2.0))
    err = _error(lambda: _estimate(inp, ("ips",)))
    assert err.field == "reward" and "overflows float64" in err.rule and err.first == 0


# -- 3. fewer policy columns than the log's actions ------------------------------------------------------------
@pytest.mark.parametrize("estimators", [["ips"], ["dr"]])
@pytest.mark.parametrize("chunk_size", [None, 7])
def test_too_few_policy_columns_names_policy(estimators, chunk_size):
    df = _frame()
    err = _error(lambda: scale.evaluate_tabular(df, ["pi_0"], estimators, n_bootstrap=20, chunk_size=chunk_size))
    first = int(np.flatnonzero(df["action"].to_numpy() >= 1)[0])
    assert err.field == "policy" and "lists 1 column(s)" in err.rule and "actions 0..0" in err.rule
    assert err.first == first and err.value == 1


# -- 4. kernel_estimate's own parameters ----------------------------------------------------------------------
def _clog():
    rng = np.random.default_rng(0)
    return ContinuousBanditLog(action=rng.uniform(1, 9, N), reward=rng.random(N), density=np.full(N, 1 / 8),
                               a_min=1, a_max=9, context=rng.normal(size=(N, 2)))


def test_kernel_estimate_names_estimator():
    err = _error(lambda: kernel_estimate(_clog(), np.full(N, 5.0), bandwidth=1, estimator="xx", n_bootstrap=20))
    assert err.field == "estimator"


def test_kernel_estimate_refuses_unknown_keywords():
    err = _error(lambda: kernel_estimate(_clog(), np.full(N, 5.0), bandwidth=1, foo=1, n_bootstrap=20))
    assert err.field == "kernel_estimate" and "foo" in err.rule and "evaluate_continuous_policy" not in str(err)


# -- 5. fit_reward_scorer's seed -------------------------------------------------------------------------------
def test_fit_reward_scorer_seeds_an_unseeded_model():
    from sklearn.ensemble import RandomForestRegressor

    log = _log()
    state = np.random.get_state()[1].copy()
    a = ope.fit_reward_scorer(log, RandomForestRegressor(n_estimators=5))
    b = ope.fit_reward_scorer(log, RandomForestRegressor(n_estimators=5))
    assert np.array_equal(a(log.context), b(log.context))
    assert np.array_equal(np.random.get_state()[1], state)  # numpy's global state untouched
    c = ope.fit_reward_scorer(log, RandomForestRegressor(n_estimators=5), random_state=1)
    assert not np.array_equal(a(log.context), c(log.context))


# -- 6. bandwidth_sweep's columns ------------------------------------------------------------------------------
class _Truth:
    def policy_value(self, centers, bandwidth=None, kernel=None, boundary=None):
        return 0.5 if bandwidth is None else 0.4


def test_bandwidth_sweep_columns_do_not_depend_on_truth():
    log, c = _clog(), np.full(N, 5.0)
    plain = bandwidth_sweep(log, c, [1.0, 2.0], n_bootstrap=20)
    truth = bandwidth_sweep(log, c, [1.0, 2.0], n_bootstrap=20, truth=_Truth())
    assert list(plain.columns) == list(truth.columns)
    assert plain["true_value"].isna().all() and truth["true_value"].eq(0.5).all()
    pd.testing.assert_frame_equal(plain[["value", "se", "ess_terms"]], truth[["value", "se", "ess_terms"]])


# -- 7. scale ------------------------------------------------------------------------------------------------
def test_frame_source_refuses_an_array():
    err = _error(lambda: scale.FrameSource(np.zeros((3, 2))))
    assert err.field == "frame"


def test_iterable_source_refuses_a_non_iterable():
    err = _error(lambda: scale.IterableSource(5))
    assert err.field == "chunks"


def test_bootstrap_loss_matrix_statistic():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.random(30), "b": rng.random(30)})
    err = _error(lambda: scale.bootstrap_loss_matrix([df], ["a", "b"], n_resamples=20, statistic="median"))
    assert err.field == "statistic"
    a = scale.bootstrap_loss_matrix([df], ["a", "b"], n_resamples=20, random_state=0)
    b = scale.bootstrap_loss_matrix([df], ["a", "b"], n_resamples=20, random_state=0, statistic="mean")
    assert np.array_equal(a.ci_low, b.ci_low)
