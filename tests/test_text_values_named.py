"""Text or mixed values in a numeric field are refused with the rows they are in (count, first row, value),
not only the dtype, and numbers written as text get a conversion recipe."""
import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.data import BanditLog


def _log(**kw):
    base = dict(action=[0, 1, 0, 1], reward=[1.0, 0.0, 1.0, 0.0], propensity=[0.5] * 4, n_actions=2)
    base.update(kw)
    return BanditLog(**base)


def test_text_action_ids_name_the_first_row_and_value():
    with pytest.raises(ValidationError, match=r"action: must be integers \(text, dtype <U\d+\); 4 of 4 rows .*"
                                              r"row 0 \(value 'home'\)") as err:
        _log(action=np.array(["home", "sale", "home", "new"]))
    assert "to_numeric" not in str(err.value)  # not numbers: no conversion recipe


def test_numbers_written_as_text_get_the_recipe():
    with pytest.raises(ValidationError, match=r"reward: must be numeric \(text.*row 0 \(value '1'\).*to_numeric"):
        _log(reward=np.array(["1", "0", "1", "0.5"]))
    with pytest.raises(ValidationError, match=r"propensity: must be numeric probabilities \(text.*to_numeric"):
        _log(propensity=np.array(["0.5"] * 4))


def test_a_mixed_object_column_counts_only_its_offending_rows():
    reward = np.array([1.0, 0.0, "n/a", None], dtype=object)
    with pytest.raises(ValidationError, match=r"reward: must be numeric \(not a real number, dtype object\); "
                                              r"2 of 4 rows .*row 2 \(value 'n/a'\)"):
        _log(reward=reward)
