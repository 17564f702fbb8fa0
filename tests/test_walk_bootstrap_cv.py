"""Findings of a walk through the bootstrap and cross-validation core (stop 26)."""
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris, make_regression
from sklearn.linear_model import Ridge
from sklearn.tree import DecisionTreeClassifier

from workbench import ValidationError
from workbench.resample import bootstrap_ci, compare_models, learning_curve_ci, ncv_interval, repeated_cv
from workbench.resample.cv import _cv_seed

X, Y = load_iris(return_X_y=True)
EST = DecisionTreeClassifier(max_depth=2, random_state=0)


def test_pandas_numerator_denominator_and_groups_must_share_the_index():
    rng = np.random.default_rng(0)
    num, den = pd.Series(rng.random(50)), pd.Series(rng.random(50) + 0.5)
    with pytest.raises(ValidationError, match="^denominator: index must equal the index of numerator"):
        bootstrap_ci((num, den.sample(frac=1, random_state=0)), "ratio")
    L = pd.DataFrame({"a": rng.random(50), "b": rng.random(50)})
    g = pd.Series(np.repeat(np.arange(10), 5))
    with pytest.raises(ValidationError, match="^groups: index must equal the index of losses"):
        compare_models(L, groups=g.sample(frac=1, random_state=0))
    with pytest.raises(ValidationError, match="^groups: index must equal the index of data"):
        bootstrap_ci(L["a"], groups=g.sample(frac=1, random_state=0))
    # aligned: accepted, and equal to the arrays by position
    a = bootstrap_ci((num, den), "ratio", random_state=0)
    b = bootstrap_ci((num.to_numpy(), den.to_numpy()), "ratio", random_state=0)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)


def test_a_nan_loss_is_refused_by_name():
    Xr, yr = make_regression(n_samples=60, n_features=3, noise=5, random_state=0)

    def loss(y, p):
        out = (y - p) ** 2
        out[0] = np.nan
        return out

    with pytest.raises(ValidationError, match="^loss: returned NaN"):
        ncv_interval(Ridge(), Xr, yr, loss=loss, n_folds=4, n_reps=2, progress=False)


@pytest.mark.parametrize("sizes", [(np.nan, 1.0), (0.0, 0.5), (0.5, 30), (10.5, 20), ()])
def test_learning_curve_train_sizes_are_checked(sizes):
    with pytest.raises(ValidationError, match="^train_sizes"):
        learning_curve_ci(EST, X, Y, train_sizes=sizes, n_splits=5, n_repeats=1)


def test_cv_result_scores_are_read_only():
    r = repeated_cv(EST, X, Y, n_splits=3, n_repeats=2, random_state=0)
    with pytest.raises(ValueError, match="read-only"):
        r.scores[:] = 0


def test_seed_two_to_the_32_minus_one_is_its_own_seed():
    assert _cv_seed(2**32 - 1) == 2**32 - 1 and _cv_seed(0) == 0


def test_grouped_repeats_of_consecutive_seeds_are_not_shifted_copies():
    rng = np.random.default_rng(0)
    Xg = rng.normal(size=(150, 3))
    yg = Xg[:, 0] + rng.normal(size=150)
    g = np.repeat(np.arange(30), 5)
    s0 = repeated_cv(Ridge(), Xg, yg, groups=g, n_splits=5, n_repeats=2, random_state=0).scores
    s1 = repeated_cv(Ridge(), Xg, yg, groups=g, n_splits=5, n_repeats=2, random_state=1).scores
    assert not np.allclose(s0[1], s1[0])  # were equal: repeat r of seed s was repeat r - 1 of seed s + 1
    again = repeated_cv(Ridge(), Xg, yg, groups=g, n_splits=5, n_repeats=2, random_state=0).scores
    assert np.array_equal(s0, again)


def test_ratio_list_of_two_is_the_pair_and_an_array_is_rows():
    # the documented reading of the one ambiguous input: a list of two is (numerator, denominator)
    pair = bootstrap_ci([[1.0, 2.0], [4.0, 5.0]], "ratio", n_resamples=50, random_state=0)
    rows = bootstrap_ci(np.array([[1.0, 2.0], [4.0, 5.0]]), "ratio", n_resamples=50, random_state=0)
    assert pair.estimate == pytest.approx(3.0 / 9.0)
    assert rows.estimate == pytest.approx(5.0 / 7.0)
