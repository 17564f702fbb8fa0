"""split_fit_params applies scikit-learn's rule for per-row fit parameters without importing its
private helper (_check_method_params, renamed from _check_fit_params in 1.4): parity on the inputs
users pass, and the bootstrap splitter counts rows the same way."""
import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from workbench._validation import ValidationError
from workbench.resample.oob import BootstrapSplit, split_fit_params


def _values(n):
    rng = np.random.default_rng(0)
    return {
        "sample_weight": rng.random(n),
        "as_list": list(range(n)),
        "series": pd.Series(rng.random(n), index=np.arange(n)[::-1]),
        "frame": pd.DataFrame({"a": np.arange(n), "b": -np.arange(n)}),
        "sparse": sparse.random(n, 3, density=0.5, format="csr", random_state=0),
        "column": rng.random((n, 1)),
        "other_length": rng.random(n + 1),
        "scalar": 3.5,
        "text": "x" * n,
        "none": None,
        "mapping": {i: i for i in range(n)},
    }


def _same(a, b):
    if sparse.issparse(a):
        return sparse.issparse(b) and (a != b).nnz == 0
    if isinstance(a, (pd.Series, pd.DataFrame)):
        return type(a) is type(b) and a.equals(b) and a.index.equals(b.index)
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and np.array_equal(a, b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("X", [np.zeros((12, 2)), pd.DataFrame({"x": np.arange(12)}), [[0]] * 12])
@pytest.mark.parametrize("train", [np.arange(9), np.array([0, 0, 5, 11, 11, 11, 3])])
def test_parity_with_scikit_learn_rule(X, train):
    validation = pytest.importorskip("sklearn.utils.validation")
    if not hasattr(validation, "_check_method_params"):
        pytest.skip("this scikit-learn has no _check_method_params to compare with")
    # where we differ on purpose: scikit-learn fails on a dict of n keys and cuts a string of n characters
    # into a list of characters; both pass through here (test_rule_without_the_reference)
    params = {k: v for k, v in _values(12).items() if k not in ("mapping", "text")}
    ours = split_fit_params(params, X, train)
    theirs = validation._check_method_params(X, params=params, indices=train)
    assert ours.keys() == theirs.keys()
    for k in ours:
        assert _same(ours[k], theirs[k]), k


def test_rule_without_the_reference():
    train = np.array([4, 4, 0, 7])
    out = split_fit_params(_values(8), np.zeros((8, 3)), train)
    assert np.array_equal(out["sample_weight"], _values(8)["sample_weight"][train])  # repeats kept
    assert out["as_list"] == [4, 4, 0, 7]
    assert list(out["series"].index) == [3, 3, 7, 0]  # by position, index carried along
    for k in ("other_length", "scalar", "text", "none", "mapping"):
        assert out[k] is _values(8)[k] or _same(out[k], _values(8)[k])
    assert split_fit_params({}, np.zeros((8, 1)), train) == {}
    assert split_fit_params(None, np.zeros((8, 1)), train) == {}


def test_bootstrap_split_counts_rows_and_refuses_what_has_none():
    splits = list(BootstrapSplit(n_splits=3, random_state=0).split(pd.DataFrame({"x": range(10)})))
    assert len(splits) == 3 and all(tr.size == 10 for tr, _ in splits)
    with pytest.raises(ValidationError, match="X.*array-like"):
        list(BootstrapSplit(n_splits=2, random_state=0).split(5.0))
