"""A nullable boolean with a missing value, read by the generic array check: the missing rows are named, not
every row (the booleans were counted as 'not a real number', first at row 0)."""
import numpy as np
import pandas as pd
import pytest

from workbench._validation import ValidationError
from workbench.data import BanditLog, PredictionLog

GAP = pd.array([True, None, False, True], dtype="boolean")


@pytest.mark.parametrize("make, field", [
    (lambda: PredictionLog(np.full((1, 4, 2), 0.5), labels=GAP), "labels"),
    (lambda: BanditLog(action=[0, 1, 1, 0], reward=[1.0, 0, 1, 0], propensity=[0.5] * 4, context=GAP), "context"),
    (lambda: BanditLog(action=[0, 1, 1, 0], reward=[True, None, False, True], propensity=[0.5] * 4), "reward"),
])
def test_missing_booleans_are_named_at_their_row(make, field):
    with pytest.raises(ValidationError, match=rf"^{field}: .* 1 of 4 rows breaks the rule, first at row 1") as err:
        make()
    assert err.value.first == 1


def test_text_among_booleans_still_counts_every_offending_row():
    with pytest.raises(ValidationError, match="4 of 4 rows"):  # a mix of kinds: the bools offend too
        BanditLog(action=[0, 1, 1, 0], reward=["a", None, False, True], propensity=[0.5] * 4)


def test_a_callable_that_returns_none_is_refused_by_name():
    from workbench._validation import numeric_output

    with pytest.raises(ValidationError, match="^statistic: must return numbers, got None"):
        numeric_output(None, "statistic")  # was NaN
