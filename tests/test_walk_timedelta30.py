"""Durations are not numbers: numpy counts timedelta64 as a signed integer, so every numeric check let them
through as counts of their unit (a reward of 1 s read as 1e6 from a pandas Series, as 1 from a numpy array in
seconds). They are refused by name wherever an array is read, as the streamed reader already did."""
import numpy as np
import pandas as pd
import pytest

from workbench._validation import ValidationError
from workbench.active import estimate_risk, select_model
from workbench.data import BanditLog, PredictionLog
from workbench.resample import bootstrap_ci, compare_models, friedman_test

SECONDS = pd.Series(pd.to_timedelta([1, 2, 3, 4], unit="s"))
ok = dict(action=[0, 1, 1, 0], reward=[1.0, 0.0, 1.0, 0.0], propensity=[0.5] * 4, n_actions=2)


def _bandit(**change):
    return lambda: BanditLog(**{**ok, **change})


CASES = {
    "reward (Series)": ("reward", _bandit(reward=SECONDS)),
    "reward (numpy seconds)": ("reward", _bandit(reward=np.array([1, 2, 3, 4], "m8[s]"))),
    "propensity": ("propensity", _bandit(propensity=np.ones(4, "m8[s]"))),
    "action": ("action", _bandit(action=np.array([0, 1, 1, 0], "m8[s]"))),
    "context": ("context", _bandit(context=np.ones((4, 2), "m8[s]"))),
    "predictions": ("predictions", lambda: PredictionLog(predictions=np.ones((2, 3), "m8[ms]"), labels=np.ones(3))),
    "labels": ("labels", lambda: PredictionLog(predictions=np.ones((2, 3)), labels=np.ones(3, "m8[D]"))),
    "bootstrap Series": ("data", lambda: bootstrap_ci(SECONDS, n_resamples=20, random_state=0)),
    "bootstrap numpy": ("data", lambda: bootstrap_ci(np.array([1, 2, 3, 4], "m8[s]"), n_resamples=20,
                                                     random_state=0)),
    "compare_models": ("losses", lambda: compare_models(np.ones((20, 3), "m8[s]"), n_resamples=9)),
    "friedman_test": ("scores", lambda: friedman_test(np.ones((6, 3), "m8[s]"))),
    "estimate_risk oracle": ("oracle", lambda: estimate_risk(np.full((20, 2), 0.5), np.zeros(20, "m8[s]"), 5)),
    "select_model oracle": ("oracle", lambda: select_model(np.full((2, 20, 2), 0.5), np.zeros(20, "m8[s]"), 5,
                                                           strategy="random")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_durations_are_refused_by_name(case):
    field, call = CASES[case]
    with pytest.raises(ValidationError, match="durations") as err:
        call()
    assert err.value.field == field


def test_the_same_numbers_as_floats_still_pass():
    log = _bandit(reward=SECONDS / pd.Timedelta(1, "s"))()
    assert log.reward.tolist() == [1.0, 2.0, 3.0, 4.0]
    assert bootstrap_ci(SECONDS / pd.Timedelta(1, "s"), n_resamples=20, random_state=0).estimate == 2.5
