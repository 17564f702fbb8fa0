"""Two input rules a pandas user meets first.

1. An object array whose every entry is a real number (a pandas object column of numbers, a list mixing Python
   ints and numpy floats) is read as the numbers it holds, as numpy would have read them. It was refused as
   "must be numeric, got an object array (mixed or missing values?)" although nothing in it was missing.
   Anything else in an object array (text, None, pd.NA, bools mixed with numbers) is still refused by row.
2. X and y (or groups) given as pandas objects with different indexes are refused: scikit-learn pairs rows by
   position, so a y sorted or sampled apart from X silently met another row's features.
"""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from workbench._validation import ValidationError, as_array
from workbench.data import BanditLog
from workbench.resample import repeated_cv


def _log(**kw):
    base = dict(action=[0, 1, 0, 1], reward=[1.0, 0.0, 1.0, 0.0], propensity=[0.5] * 4, n_actions=2)
    base.update(kw)
    return BanditLog(**base)


def test_object_arrays_of_real_numbers_are_read_as_those_numbers():
    ref = _log()
    got = _log(action=pd.Series([0, 1, 0, 1], dtype=object),
               reward=np.array([1, 0.0, np.float32(1), 0], dtype=object),
               propensity=np.array([0.5, np.float64(0.5), 0.5, 0.5], dtype=object))
    np.testing.assert_array_equal(got.action, ref.action)
    np.testing.assert_array_equal(got.reward, ref.reward)
    np.testing.assert_array_equal(got.propensity, ref.propensity)
    assert as_array(np.array([1, 2, 3], dtype=object), "x").dtype == np.int64
    assert as_array(np.array([1, 2.5], dtype=object), "x").dtype == np.float64
    assert as_array(np.array([2 ** 60, 1], dtype=object), "x").dtype == np.int64
    assert as_array(np.array([True, False], dtype=object), "x").dtype == bool
    # an empty one is read as an empty float array would be: the caller's own rule then speaks
    assert as_array(np.array([], dtype=object), "x").dtype == np.float64
    with pytest.raises(ValidationError, match=r"action: must have at least one row \(the log is empty\)"):
        _log(action=np.array([], dtype=object), reward=np.array([], dtype=object), propensity=[])


def test_object_arrays_with_anything_else_are_still_refused_by_row():
    with pytest.raises(ValidationError, match=r"reward: must be numeric \(not a real number.*1 of 4 rows.*row 2"):
        _log(reward=np.array([1.0, 0.0, None, 0.0], dtype=object))
    with pytest.raises(ValidationError, match=r"reward: .*row 1"):
        _log(reward=pd.Series([1.0, pd.NA, 1.0, 0.0], dtype=object))
    with pytest.raises(ValidationError, match=r"x: must be numeric.*row 0 \(value True\)"):  # bools among numbers
        as_array(np.array([True, 2.0], dtype=object), "x")
    # integers that float64 would round are refused, not rounded: beyond int64, or beyond 2**53 next to a float
    for big in ([2 ** 70, 1], [0.5, 2 ** 53 + 1]):
        with pytest.raises(ValidationError, match=r"x: .*would be rounded.*1 of 2 rows.*first at row (0|1)"):
            as_array(np.array(big, dtype=object), "x")
    with pytest.raises(ValidationError, match=r"action: .*row 3"):  # a NaN in an integer field, after the reading
        _log(action=np.array([0, 1, 0, float("nan")], dtype=object))


def _xy(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)}, index=np.arange(100, 100 + n))
    y = pd.Series((X["a"] + 0.3 * rng.normal(size=n) > 0).astype(int), index=X.index)
    return X, y


def test_x_and_y_with_different_indexes_are_refused_naming_the_first_row():
    X, y = _xy()
    shuffled = y.sample(frac=1.0, random_state=1)
    # the containers' rule (check_same_index), with the count, the first row, both labels and the remedy
    with pytest.raises(ValidationError, match=r"y: index must equal the index of X .* rows break the rule, first at "
                                              r"row \d+\. At row \d+ X has label \d+ and y label \d+: align them "
                                              r"first \(e\.g\. y\.reindex\(X\.index\)\)"):
        repeated_cv(LogisticRegression(), X, shuffled, cv=3, n_repeats=1, random_state=0)
    groups = pd.Series(np.arange(len(X)) % 6, index=X.index[::-1])
    with pytest.raises(ValidationError, match=r"groups: index must equal the index of X .*first at row 0"):
        repeated_cv(LogisticRegression(), X, y, groups=groups, cv=3, n_repeats=1, random_state=0)


def test_aligned_or_positional_inputs_pass_and_agree():
    X, y = _xy()
    shuffled = y.sample(frac=1.0, random_state=1)
    ref = repeated_cv(LogisticRegression(), X, y, cv=3, n_repeats=1, random_state=0)
    for yy in (shuffled.loc[X.index], y.to_numpy()):
        got = repeated_cv(LogisticRegression(), X, yy, cv=3, n_repeats=1, random_state=0)
        np.testing.assert_array_equal(got.scores, ref.scores)
    got = repeated_cv(LogisticRegression(), X.to_numpy(), shuffled, cv=3, n_repeats=1, random_state=0)
    assert got.scores.size == 3  # only X is an array: pairing by position is the caller's stated intent


def test_decimal_values_are_refused_with_a_conversion_recipe():
    # exact decimals (a database or pyarrow decimal column) may round as float64, so they are not converted
    # silently; the error says what they are and how to convert them on purpose
    import decimal

    reward = np.array([decimal.Decimal("1.5"), decimal.Decimal("0"), 1.0, 0.0], dtype=object)
    with pytest.raises(ValidationError, match=r"reward: must be numeric \(not a real number.*2 of 4 rows.*row 0 "
                                              r"\(value Decimal\('1\.5'\)\)\. The values are decimal\.Decimal"):
        _log(reward=reward)
