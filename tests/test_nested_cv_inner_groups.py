"""nested_cv(groups=) with a search whose own cv ignores groups (an int, the default, KFold)."""
import ast
import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, GroupKFold, KFold
from sklearn.neighbors import KNeighborsClassifier

from workbench._validation import ValidationError
from workbench.resample import nested_cv


def _clustered(seed=0, n_groups=80, rows=5):
    # each group: near-duplicate rows sharing one label; labels follow x0 > 0 with 25% of groups flipped.
    # A 1-nearest-neighbour model memorises a group: perfect when the group was seen, poor on a new one.
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_groups, 2))
    yg = ((centres[:, 0] > 0) ^ (rng.random(n_groups) < 0.25)).astype(int)
    X = np.repeat(centres, rows, axis=0) + 0.01 * rng.normal(size=(n_groups * rows, 2))
    order = rng.permutation(n_groups * rows)  # rows of a group scattered (unshuffled k-fold would keep them whole)
    return X[order], np.repeat(yg, rows)[order], np.repeat(np.arange(n_groups), rows)[order]


def _picks(cv):
    X, y, g = _clustered()
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 25]}, cv=cv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        res = nested_cv(search, X, y, groups=g, outer_cv=4, random_state=0)
    return [ast.literal_eval(p)["n_neighbors"] for p in res.scores["best_params"]], res


@pytest.mark.parametrize("cv", [3, None])
def test_an_int_inner_cv_becomes_group_folds(cv):
    # Before: the search's stratified 3-fold put each group's duplicates on both sides, 1-NN scored ~1.0
    # inside and was picked in every outer fold. With group folds inside, the smoother model wins.
    picks, res = _picks(cv)
    assert picks.count(25) >= 3, picks
    assert "GroupKFold" in res.diagnostics["inner_cv"]["model"]


def test_a_group_splitter_inside_is_kept_and_one_that_ignores_groups_is_refused():
    picks, res = _picks(GroupKFold(3))
    assert res.diagnostics["inner_cv"] == {} and picks.count(25) >= 3
    X, y, g = _clustered()
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 25]}, cv=KFold(3, shuffle=True, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValidationError, match=r"estimators\['knn'\]\.cv: split 0 has \d+ groups in both"):
            nested_cv({"knn": search}, X, y, groups=g, outer_cv=4)


def test_without_groups_the_search_is_untouched():
    X, y, _ = _clustered()
    search = GridSearchCV(KNeighborsClassifier(), {"n_neighbors": [1, 25]}, cv=3)
    with pytest.warns(RuntimeWarning, match="zero width"):  # no groups: the outer folds leak too, every score 1
        res = nested_cv(search, X, y, outer_cv=4, random_state=0)
    assert res.diagnostics["inner_cv"] == {} and search.cv == 3


def test_a_regressor_search_gets_plain_group_folds():
    from sklearn.neighbors import KNeighborsRegressor

    X, y, g = _clustered()
    search = GridSearchCV(KNeighborsRegressor(), {"n_neighbors": [1, 25]}, cv=3)
    res = nested_cv(search, X, y.astype(float), groups=g, outer_cv=4, random_state=0)
    assert res.diagnostics["inner_cv"]["model"].startswith("GroupKFold(n_splits=3")
    assert [ast.literal_eval(p)["n_neighbors"] for p in res.scores["best_params"]].count(25) >= 3
