"""repeated_cv / nested_cv with groups and a user splitter that ignores them (KFold, TimeSeriesSplit):
scikit-learn only warns and every score came from groups seen in training. Refused, as learning_curve_ci
does; group splitters and ints work as before."""
import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, KFold, LeaveOneGroupOut, TimeSeriesSplit

from workbench import ValidationError
from workbench.resample import nested_cv, repeated_cv

rng = np.random.default_rng(0)
X = rng.normal(size=(60, 3))
y = (X[:, 0] + rng.normal(size=60) > 0).astype(int)
g = np.repeat(np.arange(12), 5)


@pytest.mark.parametrize("splitter", [KFold(5), KFold(4, shuffle=True, random_state=1), TimeSeriesSplit(4)])  # 12-row folds cut 5-row groups
def test_a_splitter_that_ignores_groups_is_refused(splitter):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # scikit-learn's own "groups ignored" warning
        with pytest.raises(ValidationError, match=r"^cv: split \d+ has \d+ groups in both its training and test "
                                                  r"rows \(first: group \d+\); the splitter ignores groups"):
            repeated_cv(LogisticRegression(), X, y, cv=splitter, groups=g)
        with pytest.raises(ValidationError, match=r"^outer_cv: split \d+ has .* the splitter ignores groups"):
            nested_cv(LogisticRegression(), X, y, outer_cv=splitter, groups=g)


@pytest.mark.parametrize("splitter", [GroupKFold(3), LeaveOneGroupOut(), 4])
def test_group_splitters_and_ints_still_work(splitter):
    res = repeated_cv(LogisticRegression(), X, y, cv=splitter, groups=g)
    assert np.isfinite(res.scores).all()
    if not isinstance(splitter, int):
        assert np.isfinite(nested_cv(LogisticRegression(), X, y, outer_cv=splitter, groups=g).summary["value"]).all()


def test_without_groups_a_plain_splitter_is_fine():
    assert np.isfinite(repeated_cv(LogisticRegression(), X, y, cv=KFold(5)).scores).all()
