"""Stop 29 walk of the OPE core: weights beyond ~1e154 in sg-ips' automatic lambda and dr-os' shrinkage, and
a policy object whose action_dist returns None."""
import math
import warnings

import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.data import BanditLog
from workbench.ope import evaluate_policy, prepare_inputs
from workbench.ope.estimators import DoublyRobustWithShrinkage, SubGaussianIPS


def test_sg_ips_automatic_lambda_survives_weights_whose_squares_overflow():
    n = 1000
    log = BanditLog(action=np.zeros(n, int), reward=np.tile([1.0, 0.0], n // 2), propensity=np.full(n, 1e-153),
                    n_actions=2)
    pe = np.tile([1.0, 0.0], (n, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow warning came with it
        lam = SubGaussianIPS().resolved_lambda(prepare_inputs(log, pe))
    expected = math.sqrt(2 * math.log(1 / SubGaussianIPS().delta) / (3 * n)) / 1e153  # d2 = mean w^2 = 1e306
    assert lam == pytest.approx(expected, rel=1e-12) and lam > 0  # was 0: plain IPS
    # and unchanged where nothing overflows: the formula min(1, sqrt(2 log(1/delta) / (3 d2 n)))
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 1, 200)
    small = BanditLog(action=np.zeros(200, int), reward=rng.random(200), propensity=p, n_actions=2)
    w = 1 / p
    d2 = max(1.0, float(np.mean(w**2)))
    lam2 = SubGaussianIPS().resolved_lambda(prepare_inputs(small, np.tile([1.0, 0.0], (200, 1))))
    assert lam2 == pytest.approx(min(1.0, math.sqrt(2 * math.log(1 / SubGaussianIPS().delta) / (3 * d2 * 200))),
                                 rel=1e-12)


def test_dr_os_shrinks_huge_weights_by_the_formula_when_lambda_is_as_huge():
    log = BanditLog(action=[0, 0, 0, 0], reward=[1.0, 0, 1, 0], propensity=np.full(4, 1e-160), n_actions=2)
    pe = np.tile([1.0, 0.0], (4, 1))
    value = DoublyRobustWithShrinkage(lambda_=1e300).estimate_policy_value(log, pe, reward_model=np.zeros((4, 2)))
    w, lam = 1e160, 1e300
    assert value == pytest.approx(0.5 * w / ((w / lam) * w + 1), rel=1e-12)  # ~5e139; was 0


def test_a_policy_whose_action_dist_returns_none_is_named():
    class Forgetful:
        def action_dist(self, log):
            return None

    log = BanditLog(action=[0, 1], reward=[1.0, 0.0], propensity=[0.5, 0.5], n_actions=2)
    with pytest.raises(ValidationError, match=r"^policy: Forgetful.action_dist\(log\) returned None"):
        evaluate_policy(log, Forgetful(), estimators=["ips"])


def test_streamed_sg_ips_lambda_matches_in_memory_with_huge_weights():
    import pandas as pd

    from workbench.scale import evaluate_tabular

    n = 1000
    df = pd.DataFrame({"action": np.zeros(n, int), "reward": np.tile([1.0, 0.0], n // 2),
                       "propensity": np.full(n, 1e-153), "pi_0": 1.0, "pi_1": 0.0})
    log = BanditLog.from_frame(df, n_actions=2)
    mem = SubGaussianIPS().estimate_policy_value(log, df[["pi_0", "pi_1"]].to_numpy())
    chunks = [df.iloc[:300], df.iloc[300:]]  # the pre-pass merges partial sums across chunks
    streamed = evaluate_tabular(chunks, ["pi_0", "pi_1"], ["sg-ips"], n_bootstrap=20, warn=False)
    assert streamed["value"].iloc[0] == pytest.approx(mem, rel=1e-10)
    assert mem < 0.99 * 0.5e153  # not plain IPS
