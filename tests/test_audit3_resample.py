"""Audit of workbench.resample (third round): argument checks and warnings that named the wrong thing.

Each test pins a finding: a raw traceback (TypeError, scikit-learn's ValueError) where a ValidationError
naming the argument belongs, a silently accepted input, or a warning that named another column.
"""
from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

import workbench.resample.compare as compare_mod
from workbench._validation import ValidationError
from workbench.resample import (bayesian_correlated_t_test, bootstrap_ci, bootstrap_error, bootstrap_intervals,
                                compare_models, corrected_resampled_t_test, cv_scores_two, learning_curve_ci,
                                ncv_interval, nested_cv, paired_t_5x2cv, point632plus, repeated_cv)


# ------------------------------------------------------------------------------------------------
# 1. point632plus checks its three errors
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("field, bad", [
    ("err_resub", float("nan")), ("err_oob", float("nan")), ("gamma", float("nan")),  # NaN gave NaN / R = 0
    ("err_oob", float("inf")), ("gamma", -float("inf")),
    ("err_resub", "0.1"), ("gamma", True), ("err_oob", [0.1]), ("gamma", None),  # TypeError or True = 1.0
])
def test_point632plus_refuses_bad_errors_by_name(field, bad):
    args = {"err_resub": 0.05, "err_oob": 0.2, "gamma": 0.5, field: bad}
    with pytest.raises(ValidationError, match=f"^{field}: must be a finite number"):
        point632plus(**args)


def test_point632plus_takes_any_finite_scale_of_errors():
    # Not refused: negative and > 1 errors. bootstrap_error(scoring=...) passes negated scores, and a
    # squared loss has gamma far above 1; the rule commutes with shifts and positive scaling.
    ref = point632plus(0.05, 0.2, 0.5)
    shifted = point632plus(0.05 - 0.93, 0.2 - 0.93, 0.5 - 0.93)
    scaled = point632plus(5.0, 20.0, 50.0)
    assert np.allclose(shifted, [ref[0] - 0.93, ref[1] - 0.93, ref[2], ref[3]])
    assert np.allclose(scaled, [100 * ref[0], 100 * ref[1], ref[2], ref[3]])
    # numpy scalars, 0-d arrays and ints are numbers too
    assert point632plus(np.float64(0.05), np.array(0.2), 1) == pytest.approx(point632plus(0.05, 0.2, 1.0))
    with pytest.raises(ValidationError, match="^err_oob: must be a finite number, got nan"):
        point632plus(0.05, float("nan"), 0.5)


# ------------------------------------------------------------------------------------------------
# 2. bootstrap_ci / bootstrap_intervals names: distinct, as compare_models requires
# ------------------------------------------------------------------------------------------------
def test_bootstrap_names_must_be_distinct():
    x = np.random.default_rng(0).random((30, 2))
    for fn in (bootstrap_ci, bootstrap_intervals):
        with pytest.raises(ValidationError, match=re.escape("names: must be 2 distinct names, got ['a', 'a']")):
            fn(x, names=["a", "a"], n_resamples=20, random_state=0)
        with pytest.raises(ValidationError, match="^names: must be 2 distinct names"):  # from the columns
            fn(pd.DataFrame(x, columns=["a", "a"]), n_resamples=20, random_state=0)
        with pytest.raises(ValidationError, match="^names: must be 2 distinct names"):  # a wrong count, as before
            fn(x, names=["a"], n_resamples=20, random_state=0)
    # the rule compare_models applies to the same matrix
    with pytest.raises(ValidationError, match=re.escape("names: must be 2 distinct names, got ['a', 'a']")):
        compare_models(x, names=["a", "a"], n_resamples=20, random_state=0)
    # streamed: refused before reading (the number of columns is known only after)
    chunks = [pd.DataFrame(x[:15], columns=["u", "v"]), pd.DataFrame(x[15:], columns=["u", "v"])]
    with pytest.raises(ValidationError, match=re.escape("names: must be 2 distinct names, got ['a', 'a']")):
        bootstrap_ci(chunks, names=["a", "a"], resampling="poisson", n_resamples=20, random_state=0)
    # distinct names and the defaults are unchanged
    assert bootstrap_ci(x, names=["a", "b"], n_resamples=20, random_state=0).names == ("a", "b")
    assert bootstrap_ci(x[:, 0], names="only", n_resamples=20, random_state=0).names == ("only",)
    assert bootstrap_ci(x, n_resamples=20, random_state=0).names == ("x0", "x1")


# ------------------------------------------------------------------------------------------------
# 3. bootstrap_intervals(chunk_size=...): streamed data, like bootstrap_ci; clear errors otherwise
# ------------------------------------------------------------------------------------------------
def _chunks(seed=0, with_groups=False):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(3):
        frame = pd.DataFrame({"a": rng.exponential(size=40), "b": rng.random(40)})
        if with_groups:
            frame["g"] = rng.integers(0, 15, 40)
        out.append(frame)
    return out


def test_bootstrap_intervals_streams_chunked_data_like_bootstrap_ci():
    chunks = _chunks()
    kw = dict(resampling="poisson", n_resamples=60, random_state=5)
    tab = bootstrap_intervals(chunks, chunk_size=25, **kw)  # was TypeError: unexpected keyword 'chunk_size'
    assert tab["method"].tolist() == [m for m in ("percentile", "basic", "bca", "studentized", "normal")
                                      for _ in range(2)]
    for mth in ("percentile", "basic", "bca", "studentized", "normal"):  # each row is bootstrap_ci's, exactly
        ref = bootstrap_ci(chunks, method=mth, **kw).to_frame()
        pd.testing.assert_frame_equal(tab[tab["method"] == mth].reset_index(drop=True), ref)
    # the same numbers as in memory with the same hashed weights
    mem = bootstrap_intervals(pd.concat(chunks, ignore_index=True), **kw)
    num = ["value", "ci_low", "ci_high", "se"]
    np.testing.assert_allclose(tab[num].to_numpy(), mem[num].to_numpy(), rtol=1e-12)
    # a Generator draws one seed for both passes: bca and studentized rows share the replicates
    g = bootstrap_intervals(chunks, resampling="poisson", n_resamples=60, random_state=np.random.default_rng(1))
    assert g["seed"].nunique() == 1


def test_bootstrap_intervals_streamed_iterator_and_groups():
    kw = dict(resampling="poisson", n_resamples=40, random_state=2)
    # an iterator is read once: bca and studentized need a pass each
    with pytest.raises(ValidationError, match="^methods: 'bca' and 'studentized' each need their own pass"):
        bootstrap_intervals(iter(_chunks()), **kw)
    one = bootstrap_intervals(iter(_chunks()), methods=["bca", "percentile"], **kw)
    ref = bootstrap_intervals(_chunks(), methods=["bca", "percentile"], **kw)
    pd.testing.assert_frame_equal(one, ref)
    # groups: by default only the methods a stream can form from clusters that span chunks
    grp = bootstrap_intervals(_chunks(with_groups=True), groups="g", **kw)
    assert grp["method"].unique().tolist() == ["percentile", "basic", "normal"]
    assert (grp["n_groups"] == 15).all() and grp["name"].unique().tolist() == ["a", "b"]
    with pytest.raises(ValidationError, match="^indices: only used with resampling='indices'"):
        bootstrap_intervals(_chunks(), indices=np.zeros((2, 120), int), **kw)


def test_stream_keywords_are_refused_by_name():
    x = np.random.default_rng(0).random((30, 2))
    for fn in (bootstrap_intervals, bootstrap_ci, compare_models):
        name = fn.__name__
        # in-memory data: the keyword says data are streamed, which they are not
        with pytest.raises(ValidationError, match=rf"^{name}: keyword\(s\) \['chunk_size'\] apply to chunked, "
                                                  r"Parquet or Dask data only"):
            fn(x, chunk_size=10)
        # a misspelt keyword: the accepted ones are listed (bootstrap_ci and compare_models passed it to
        # workbench.scale for streamed data, where it was Python's TypeError)
        for data in (x, _chunks()):
            with pytest.raises(ValidationError, match=re.escape(f"{name}: unexpected keyword(s) ['chunksize']. "
                                                                "Besides its named arguments it takes ['columns', "
                                                                "'chunk_size', 'n_jobs']")):
                fn(data, chunksize=10, resampling="poisson")


# ------------------------------------------------------------------------------------------------
# 4. X and y (and groups) of different lengths: a ValidationError naming y, before any fit
# ------------------------------------------------------------------------------------------------
def _xy(n=40):
    rng = np.random.default_rng(0)
    X = rng.random((n, 2))
    return X, (X[:, 0] + rng.random(n) > 1).astype(int)


_CALLS = {
    "repeated_cv": lambda X, y, **g: repeated_cv(LogisticRegression(), X, y, n_splits=3, n_repeats=1, **g),
    "nested_cv": lambda X, y, **g: nested_cv(LogisticRegression(), X, y, outer_cv=3, **g),
    "learning_curve_ci": lambda X, y: learning_curve_ci(LogisticRegression(), X, y, n_splits=3, n_repeats=1),
    "bootstrap_error": lambda X, y, **g: bootstrap_error(LogisticRegression(), X, y, n_splits=5, **g),
    "ncv_interval": lambda X, y: ncv_interval(LogisticRegression(), X, y, n_folds=3, n_reps=2),
    "cv_scores_two": lambda X, y, **g: cv_scores_two(LogisticRegression(), LinearRegression(), X, y, cv=3, **g),
    "corrected_resampled_t_test": lambda X, y, **g: corrected_resampled_t_test(
        LogisticRegression(), LogisticRegression(C=0.1), X, y, n_splits=3, n_repeats=1, **g),
    "paired_t_5x2cv": lambda X, y, **g: paired_t_5x2cv(LogisticRegression(), LogisticRegression(C=0.1), X, y, **g),
    "bayesian_correlated_t_test": lambda X, y: bayesian_correlated_t_test(
        LogisticRegression(), LogisticRegression(C=0.1), X, y, n_splits=3, n_repeats=1),
}


@pytest.mark.parametrize("name", sorted(_CALLS))
def test_x_and_y_of_different_lengths_name_y(name):
    X, y = _xy()
    # was scikit-learn's "Found input variables with inconsistent numbers of samples: [40, 39]"
    with pytest.raises(ValidationError, match=r"^y: must have one entry per row of X: got 39 entries, X has 40 rows"):
        _CALLS[name](X, y[:-1])
    with pytest.raises(ValidationError, match=r"^y: must have one entry per row of X: got 40 entries, X has 39 rows"):
        _CALLS[name](X[:-1], y)


def test_groups_of_another_length_are_named_with_a_group_splitter():
    # The default splitters checked the groups already; a user's GroupKFold got scikit-learn's
    # "inconsistent numbers of samples: [40, 40, 39]", which named neither y nor groups.
    from sklearn.model_selection import GroupKFold

    X, y = _xy()
    groups = np.arange(39) % 8
    calls = [lambda: repeated_cv(LogisticRegression(), X, y, cv=GroupKFold(3), groups=groups),
             lambda: nested_cv(LogisticRegression(), X, y, outer_cv=GroupKFold(3), groups=groups),
             lambda: bootstrap_error(LogisticRegression(), X, y, cv=GroupKFold(3), groups=groups)]
    for call in calls:
        with pytest.raises(ValidationError, match=r"^groups: must have one entry per row of X: got 39 entries, "
                                                  r"X has 40 rows"):
            call()


# ------------------------------------------------------------------------------------------------
# 5. compare_models(method="bca"): the "undefined" warning names the model or the pair
# ------------------------------------------------------------------------------------------------
def _bca_warnings(L, names, **kw):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = compare_models(L, method="bca", names=names, **kw)
    return res, [str(w.message) for w in caught if "BCa interval undefined" in str(w.message)]


def test_compare_models_bca_warning_names_the_pair_whatever_the_blocking(monkeypatch):
    # Three resamples: for some columns every replicate falls on one side of the estimate, so z0 is
    # infinite and the BCa interval undefined. Which ones is fixed by the seed; the warnings must name
    # exactly the models and pairs whose interval is NaN.
    rng = np.random.default_rng(3)
    names = ["m0", "m1", "m2", "m3", "m4", "m5"]
    L = rng.exponential(size=(25, 6)) * [1, 2, 3, 4, 5, 6]
    kw = dict(n_resamples=3, random_state=11)
    ref, ref_warn = _bca_warnings(L, names, **kw)
    d = ref.differences
    undefined_pairs = d.loc[d["ci_low"].isna(), ["model", "versus"]].to_numpy().tolist()
    undefined_models = ref.models.loc[ref.models["ci_low"].isna(), "name"].tolist()
    assert 0 < len(undefined_pairs) < len(d) and not np.isnan(d["ci_low"].iloc[0])  # so "statistic 0" misnames
    expected = sorted([f"model {m!r}" for m in undefined_models]
                      + [f"the difference model {a!r} versus {b!r}" for a, b in undefined_pairs])
    named = sorted(re.match(r"compare_models: BCa interval undefined \(NaN\) for (.*?): ", w).group(1)
                   for w in ref_warn if w.startswith("compare_models"))
    assert named == expected and len(ref_warn) == len(expected)
    # one pair per block (the blocks of a very large table): "statistic 0" every time, before
    monkeypatch.setattr(compare_mod, "_PAIR_BLOCK_ELEMENTS", L.shape[0])
    blocked, blocked_warn = _bca_warnings(L, names, **kw)
    pd.testing.assert_frame_equal(blocked.differences, ref.differences)
    assert sorted(blocked_warn) == sorted(ref_warn)
