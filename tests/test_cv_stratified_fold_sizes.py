"""The default stratified folds need a class with at least n_splits members: asking for more is a ValidationError
naming n_splits, the largest class and its size (it was scikit-learn's bare ValueError, from inside the splitter,
although _check_folds promises the package's error for the default splitter's sizes)."""
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from workbench import ValidationError
from workbench.resample import learning_curve_ci, repeated_cv


def _small():
    X, y = load_iris(return_X_y=True)
    return X[::12], y[::12]  # 13 rows: classes of 5, 4 and 4


@pytest.mark.parametrize("call", [
    lambda X, y: repeated_cv(DecisionTreeClassifier(), X, y, n_splits=6, n_repeats=2, random_state=0),
    lambda X, y: learning_curve_ci(DecisionTreeClassifier(), X, y, n_splits=6, n_repeats=2, random_state=0),
], ids=["repeated_cv", "learning_curve_ci"])
def test_too_many_stratified_folds_are_refused_by_name(call):
    X, y = _small()
    with pytest.raises(ValidationError, match=r"n_splits: is 6, but stratified folds .* at least 6 members; the "
                                              r"largest, 0, has 5 of the 13 samples\. Use n_splits <= 5"):
        call(X, y)


def test_the_limit_itself_and_unstratified_folds_still_run():
    X, y = _small()
    assert repeated_cv(DecisionTreeClassifier(), X, y, n_splits=5, n_repeats=1, random_state=0).scores.size == 5
    # a regressor's folds are not stratified: only n_splits <= n applies
    assert repeated_cv(DecisionTreeRegressor(), X, y.astype(float), n_splits=6, n_repeats=1,
                       random_state=0).scores.size == 6
    # with groups the folds keep groups whole instead (their own rules)
    groups = np.arange(len(y))
    assert repeated_cv(DecisionTreeClassifier(), X, y, groups=groups, n_splits=4, n_repeats=1,
                       random_state=0).scores.size == 4
