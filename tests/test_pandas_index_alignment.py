"""Pandas fields of a log are read by position: their indexes must agree (same labels, same order).

A Series re-sorted or filtered on its own keeps its labels, not its positions; read by position it
pairs its rows with other fields' rows silently. The containers refuse it (check_same_index), never
realign it; numpy / list inputs, and one pandas input among them, are read by position as before.
"""
import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench import _validation
from workbench.data import BanditLog, ContinuousBanditLog, PredictionLog

N = 6
IDX = pd.Index([40, 11, 23, 5, 31, 17])  # a non-default index (a filtered, re-sorted frame's)


def _bandit_arrays():
    rng = np.random.default_rng(0)
    return {"action": np.array([0, 1, 2, 1, 0, 2]), "reward": rng.normal(size=N),
            "propensity": np.array([0.5, 0.25, 0.25, 0.25, 0.5, 0.25]), "context": rng.normal(size=(N, 2)),
            "position": np.array([0, 1, 0, 1, 1, 0]),
            "behavior_dist": np.tile([0.5, 0.25, 0.25], (N, 1)),  # the propensities at the logged actions
            "timestamp": np.arange(N) * 10.0,
            "unit_id": np.array([1, 1, 2, 2, 3, 3])}


def _as_pandas(arrays, index):
    return {k: (pd.DataFrame(v, index=index, columns=[f"c{j}" for j in range(v.shape[1])]) if v.ndim == 2
                else pd.Series(v, index=index)) for k, v in arrays.items()}


def _continuous_arrays():
    rng = np.random.default_rng(1)
    return {"action": rng.uniform(0, 5, N), "reward": rng.normal(size=N), "density": rng.uniform(0.1, 0.4, N),
            "context": rng.normal(size=(N, 3)), "unit_id": np.array([1, 2, 3, 1, 2, 3])}


def _prediction_arrays():
    rng = np.random.default_rng(2)
    return {"labels": np.array([0, 1, 1, 0, 1, 0]), "labelled": np.array([True, True, False, True, True, False]),
            "features": rng.normal(size=(N, 2)), "timestamp": np.arange(N) * 1.0}


PROBS = np.random.default_rng(3).dirichlet(np.ones(2), size=(3, N))
BUILD = {
    "bandit": (lambda kw: BanditLog(n_actions=3, **kw), _bandit_arrays),
    "continuous": (lambda kw: ContinuousBanditLog(a_min=0, a_max=5, **kw), _continuous_arrays),
    "prediction": (lambda kw: PredictionLog(probs=PROBS, **kw), _prediction_arrays),
}
# every (constructor, reference field, other field) pair: each field can be the one that was re-sorted
CASES = [(kind, fields[0], other) for kind, (_, make) in BUILD.items() for fields in [list(make())]
         for other in fields[1:]] + [(kind, a, b) for kind, (_, make) in BUILD.items()
                                     for a, b in [list(make())[1:3]]]


@pytest.mark.parametrize("kind, ref, other", CASES)
def test_mismatched_index_refused_naming_both_fields_and_first_position(kind, ref, other):
    build, make = BUILD[kind]
    kw = _as_pandas(make(), IDX)
    # the other field re-sorted on its own (sort_index: its labels now run 5, 11, 17, ...), values moved along
    kw[other] = kw[other].sort_index()
    kw = {k: kw[k] for k in (ref, other)} | {k: v for k, v in make().items() if k not in (ref, other)}
    with pytest.raises(ValidationError) as info:
        build(kw)
    err = info.value
    sorted_idx = IDX.sort_values()
    differ = np.flatnonzero(IDX.to_numpy() != sorted_idx.to_numpy())
    assert err.field == other
    assert f"index of {ref}" in err.rule and "same labels in the same order" in err.rule
    assert (err.n_bad, err.first, err.n_total) == (differ.size, differ[0], N)
    first = int(differ[0])
    assert (f"at row {first} {ref} has label {IDX[first]} and {other} label {sorted_idx[first]}"
            in str(err).replace("At row", "at row"))


def test_a_filtered_then_reset_series_is_refused_against_the_filtered_frame():
    """The motivating case: a frame filtered (labels kept), one column's index reset by the user."""
    frame = pd.DataFrame({"a": [0, 1, 1, 0, 1], "r": [1.0, 0.0, 1.0, 0.0, 1.0], "p": [0.5] * 5}, index=[3, 4, 7, 8, 9])
    with pytest.raises(ValidationError, match=r"reward: index must equal the index of action .* 5 of 5 rows break "
                                              r"the rule, first at row 0\. At row 0 action has label 3 and reward "
                                              r"label 0"):
        BanditLog(action=frame["a"], reward=frame["r"].reset_index(drop=True), propensity=frame["p"], n_actions=2)


@pytest.mark.parametrize("kind", list(BUILD))
def test_equal_non_default_indexes_give_the_numpy_log(kind):
    build, make = BUILD[kind]
    arrays = make()
    from_numpy, from_pandas = build(arrays), build(_as_pandas(arrays, IDX))
    for name in arrays:
        a, b = getattr(from_numpy, name), getattr(from_pandas, name)
        assert a.dtype == b.dtype and np.array_equal(a, b), name


@pytest.mark.parametrize("kind", list(BUILD))
def test_range_index_and_an_equal_integer_index_are_the_same_index(kind):
    build, make = BUILD[kind]
    arrays = make()
    kw = _as_pandas(arrays, pd.RangeIndex(N))
    first, second = list(arrays)[:2]
    kw[second] = kw[second].set_axis(pd.Index(np.arange(N, dtype=np.int64)))
    assert type(kw[first].index) is pd.RangeIndex and type(kw[second].index) is not pd.RangeIndex
    log = build(kw)
    assert np.array_equal(getattr(log, second), getattr(build(arrays), second))


@pytest.mark.parametrize("kind", list(BUILD))
def test_one_series_among_numpy_arrays_is_read_by_position(kind):
    """Only pandas-vs-pandas indexes are compared: an array has no labels to disagree with."""
    build, make = BUILD[kind]
    arrays = make()
    last = list(arrays)[-1]  # unit_id / timestamp: no other field depends on it
    shuffled = _as_pandas(arrays, IDX)[last].sort_index()  # labels out of order, alone among arrays
    log, from_numpy = build(arrays | {last: shuffled}), build(arrays)
    assert np.array_equal(getattr(log, last), np.asarray(shuffled.to_numpy(), dtype=getattr(log, last).dtype))
    for name in arrays:
        if name != last:
            assert np.array_equal(getattr(log, name), getattr(from_numpy, name)), name


def test_from_frame_reads_a_filtered_frame_as_before():
    frame = pd.DataFrame({"a": [0, 1, 1, 0], "r": [1.0, 0.0, 1.0, 0.0], "p": [0.5] * 4, "x": [0.1, 0.2, 0.3, 0.4],
                          "u": [1, 1, 2, 2]}, index=[9, 2, 7, 4])
    log = BanditLog.from_frame(frame, action="a", reward="r", propensity="p", context=["x"], unit_id="u", n_actions=2)
    assert np.array_equal(log.reward, frame["r"].to_numpy()) and np.array_equal(log.context[:, 0], frame["x"])


def test_with_labels_compares_labels_and_mask():
    arrays = _prediction_arrays()
    log = PredictionLog(probs=PROBS)
    labels, mask = pd.Series(arrays["labels"], index=IDX), pd.Series(arrays["labelled"], index=IDX)
    assert log.with_labels(labels, mask).n_labelled == int(arrays["labelled"].sum())
    with pytest.raises(ValidationError, match="labelled: index must equal the index of labels"):
        log.with_labels(labels, mask.sort_index())


def test_different_lengths_are_left_to_the_length_check():
    s = pd.Series([0, 1, 1], index=[5, 6, 7])
    with pytest.raises(ValidationError, match="reward: must have one row per action row: got 2 rows, expected 3"):
        BanditLog(action=s, reward=pd.Series([1.0, 0.0]), propensity=[0.5] * 3, n_actions=2)


def test_helper_labels_of_other_kinds():
    a = pd.Series([1, 2, 3], index=["x", "y", "z"])
    _validation.check_same_index([("a", a), ("b", a.set_axis(pd.Index(["x", "y", "z"], dtype="string")))])  # same labels
    _validation.check_same_index([("a", a.set_axis([np.nan, 1.0, 2.0])), ("b", a.set_axis([np.nan, 1, 2]))])  # NaN matches NaN
    with pytest.raises(ValidationError, match=r"1 of 3 rows breaks the rule, first at row 0\. At row 0 a has "
                                              r"label 0 and b label '0'"):
        _validation.check_same_index([("a", a.set_axis([0, 1, 2])), ("b", a.set_axis(["0", 1, 2]))])  # a string is no number
    mi = pd.MultiIndex.from_tuples([(1, "a"), (1, "b"), (2, "a")])
    with pytest.raises(ValidationError, match=r"first at row 1\. At row 1 a has label \(1, 'b'\) and b label "
                                              r"\(2, 'a'\)"):
        _validation.check_same_index([("a", a.set_axis(mi)), ("b", a.set_axis(mi[[0, 2, 1]]))])


# --- RoutingLog (simulate_routing.py): the same rule, prompts' index as the reference -----------------------
def _routing_fields():
    from workbench.data import simulate_routing

    log, _ = simulate_routing(60, random_state=0)
    return log


def test_routing_log_refuses_a_field_with_another_index():
    import dataclasses

    from workbench.data import RoutingLog

    log = _routing_fields()
    n = len(log)
    prompts = log.prompts.set_index(pd.Index(np.arange(100, 100 + n)))
    quality = pd.Series(log.quality, index=prompts.index[::-1])  # re-sorted on its own
    fields = {f.name: getattr(log, f.name) for f in dataclasses.fields(log)}
    with pytest.raises(ValidationError, match=r"quality: index must equal the index of prompts.*first at row 0"):
        RoutingLog(**{**fields, "prompts": prompts, "quality": quality})
    same = RoutingLog(**{**fields, "prompts": prompts, "quality": pd.Series(log.quality, index=prompts.index)})
    assert np.array_equal(same.quality, log.quality)  # equal indexes: accepted, read as before


# --- PredictionLog: labels as class names, per-model frames in other column orders ---------------------------
def test_prediction_log_refuses_class_names_as_labels_with_the_mapping():
    P = np.random.default_rng(0).dirichlet(np.ones(3), (2, 5))
    for lab in (np.array(["a", "b", "c", "a", "b"]), pd.Series(["a", "b", "c", "a", "b"]), ["a", 1, 2, 0, 1]):
        with pytest.raises(ValidationError, match=r"^labels: must hold class indices \(positions of the probability "
                                                  r"columns\), not class names; .*first at row 0 \(value 'a'\)\. "
                                                  r"Map each name to its column of probs"):
            PredictionLog(probs=P, labels=lab)
    codes = pd.Categorical(["a", "b", "c", "a", "b"], categories=["a", "b", "c"]).codes
    assert PredictionLog(probs=P, labels=codes).labels.tolist() == [0, 1, 2, 0, 1]  # the hint's recipe works
    # regression predictions take numbers, and text there keeps its own message
    with pytest.raises(ValidationError, match="^labels: "):
        PredictionLog(predictions=P[..., 0], labels=np.array(["a", "b", "c", "a", "b"]))
