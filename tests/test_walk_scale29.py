"""Stop 29 walk of the streamed path: column dtypes that were read as numbers silently (complex,
timedelta) or refused under the wrong rule (nullable boolean with a missing value)."""
import numpy as np
import pandas as pd
import pytest

from workbench._validation import ValidationError
from workbench.data import BanditLog
from workbench.resample import bootstrap_ci
from workbench.scale import bootstrap_loss_matrix, evaluate_tabular

BASE = {"action": [0, 1, 0, 1], "reward": [1.0, 0.0, 1.0, 1.0], "propensity": 0.5, "pi_0": 0.3, "pi_1": 0.7}


def _streamed(df):
    return evaluate_tabular(df, ["pi_0", "pi_1"], ["ips"], n_bootstrap=20, warn=False)


def _in_memory(df):
    return BanditLog.from_frame(df, n_actions=2)


def _message(call, df):
    with pytest.raises(ValidationError) as info:
        call(df)
    return info.value


@pytest.mark.parametrize("column", ["pi_0", "q_0"])
def test_complex_policy_or_reward_model_columns_are_refused_not_truncated(column):
    # the imaginary part was dropped by the float64 conversion: ips 0.65 from a policy of 0.3 + 0.9j
    df = pd.DataFrame({**BASE, "q_0": 0.5, "q_1": 0.5})
    df[column] = np.full(4, 0.3 + 0.9j)
    with pytest.raises(ValidationError, match=rf"must be real numbers; column '{column}' has dtype complex128"):
        evaluate_tabular(df, ["pi_0", "pi_1"], ["dr"], reward_model=["q_0", "q_1"], n_bootstrap=20)


def test_complex_loss_columns_are_refused_streamed_and_in_memory():
    df = pd.DataFrame({"a": [0.5 + 2j, 0.1, 0.2, 0.3], "b": [0.1, 0.2, 0.3, 0.4]})
    with pytest.raises(ValidationError, match=r"^data: must be real numbers; column 'a'"):
        bootstrap_loss_matrix([df[["a"]]], ["a"], n_resamples=20)
    with pytest.raises(ValidationError, match=r"^data: must be real numbers; column 'a'"):
        bootstrap_ci(df, n_resamples=50, random_state=0)
    with pytest.raises(ValidationError, match=r"^data: must be real numbers; column 'a'"):
        bootstrap_ci(df["a"], n_resamples=50, random_state=0)


@pytest.mark.parametrize("column, values", [
    ("reward", pd.to_timedelta([1.0, 0.0, 1.0, 1.0], unit="s")),  # was ips 650000 (microseconds)
    ("action", pd.to_timedelta([0, 1, 0, 1], unit="ns")),  # was read as actions 0 / 1
    ("action", pd.to_datetime([0, 1, 0, 1])),  # was refused, but without a row
])
def test_timedelta_and_datetime_columns_are_refused_with_the_in_memory_rule(column, values):
    df = pd.DataFrame({**BASE, column: values})
    streamed, memory = _message(_streamed, df), _message(_in_memory, df)
    assert streamed.field == memory.field == column
    assert "must be numeric" in streamed.rule and streamed.rule == memory.rule
    assert (streamed.n_bad, streamed.first) == (memory.n_bad, memory.first) == (4, 0)


@pytest.mark.parametrize("column, rule", [("reward", "must be finite"), ("action", "must be integers"),
                                          ("propensity", "must not be NaN")])
def test_a_nullable_boolean_with_a_missing_value_gets_the_in_memory_rule(column, rule):
    # it was "must be numeric ... convert with pd.to_numeric" streamed, the missing value's own rule in memory
    df = pd.DataFrame({**BASE, column: pd.array([True, None, True, True], dtype="boolean")})
    streamed, memory = _message(_streamed, df), _message(_in_memory, df)
    assert streamed.rule.startswith(rule) and memory.rule == streamed.rule
    assert (streamed.n_bad, streamed.first) == (memory.n_bad, memory.first) == (1, 1)


def test_a_nullable_boolean_without_missing_values_keeps_its_meaning():
    df = pd.DataFrame({**BASE, "reward": pd.array([True, False, True, True], dtype="boolean")})
    assert _streamed(df)["value"].iloc[0] == pytest.approx(_in_memory(df).reward @ np.array([0.6, 1.4, 0.6, 1.4]) / 4)
    with pytest.raises(ValidationError, match="action: must be integers, got dtype bool"):
        _streamed(pd.DataFrame({**BASE, "action": pd.array([True, False, True, False], dtype="boolean")}))
