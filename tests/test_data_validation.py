"""Every validation rule of the containers: a ValueError subclass naming field, rule, count and first row."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from workbench import ValidationError
from workbench import data as wb_data
from workbench.data import BanditLog, PredictionLog


def _kw(n=6, k=3):
    return dict(action=np.arange(n) % k, reward=np.linspace(0, 1, n), propensity=np.full(n, 1 / k), n_actions=k)


def _err(**kw):
    with pytest.raises(ValidationError) as info:
        BanditLog(**kw)
    assert isinstance(info.value, ValueError)
    return str(info.value)


@pytest.mark.parametrize("bad, rule", [(0.0, "(0, 1]"), (-0.5, "(0, 1]"), (1.5, "(0, 1]"), (np.nan, "NaN")])
def test_propensity_rules_name_field_count_first_row(bad, rule):
    kw = _kw()
    p = kw["propensity"].copy()
    p[[2, 4]] = bad
    msg = _err(**{**kw, "propensity": p})
    assert msg.startswith("propensity:") and rule in msg
    assert "2 of 6 rows" in msg and "first at row 2" in msg


def test_action_out_of_range_and_not_integral():
    kw = _kw()
    msg = _err(**{**kw, "action": np.array([0, 1, 3, 1, 0, 5])})
    assert msg.startswith("action:") and "[0, 3)" in msg and "2 of 6" in msg and "row 2" in msg
    msg = _err(**{**kw, "action": np.array([0, 1.5, 2, 1, 0, 1])})
    assert "integers" in msg and "row 1" in msg
    msg = _err(**{**kw, "action": np.array([0, -1, 2, 1, 0, 1])})
    assert "row 1" in msg


def test_integral_float_actions_are_accepted_losslessly():
    log = BanditLog(**{**_kw(), "action": np.array([0.0, 1.0, 2.0, 1.0, 0.0, 2.0])})
    assert log.action.dtype == np.int64 and list(log.action) == [0, 1, 2, 1, 0, 2]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_reward_must_be_finite(bad):
    kw = _kw()
    r = kw["reward"].copy()
    r[3] = bad
    msg = _err(**{**kw, "reward": r})
    assert msg.startswith("reward:") and "finite" in msg and "1 of 6 row" in msg and "row 3" in msg


@pytest.mark.parametrize("field", ["reward", "propensity", "position", "context", "timestamp"])
def test_mismatched_lengths(field):
    kw = _kw()
    vals = {"reward": np.zeros(5), "propensity": np.full(5, 0.5), "position": np.zeros(5, int),
            "context": np.zeros((5, 2)), "timestamp": np.arange(5)}
    msg = _err(**{**kw, field: vals[field]})
    assert msg.startswith(f"{field}:") and "got 5 rows, expected 6" in msg


def test_position_out_of_range():
    msg = _err(**_kw(), position=np.array([0, 1, 2, 3, 0, 1]), n_positions=3)
    assert msg.startswith("position:") and "[0, 3)" in msg and "row 3" in msg


def test_behavior_dist_must_sum_to_one_with_stated_tolerance():
    kw = _kw()
    dist = np.full((6, 3), 1 / 3)
    dist[4] = [0.5, 0.3, 0.3]
    msg = _err(**kw, behavior_dist=dist)
    assert msg.startswith("behavior_dist:") and "sum to 1" in msg and "1e-06" in msg and "row 4" in msg


def test_propensity_must_match_behavior_dist():
    kw = _kw()
    dist = np.tile([0.2, 0.3, 0.5], (6, 1))
    msg = _err(**kw, behavior_dist=dist)
    assert msg.startswith("propensity:") and "behavior_dist" in msg and "row 0" in msg
    ok = BanditLog(action=kw["action"], reward=kw["reward"], propensity=dist[np.arange(6), kw["action"]],
                   n_actions=3, behavior_dist=dist)
    assert len(ok) == 6


def test_context_and_action_context_checks():
    kw = _kw()
    ctx = np.zeros((6, 2))
    ctx[5, 1] = np.nan
    assert "row 5" in _err(**kw, context=ctx)
    msg = _err(**kw, action_context=np.zeros((4, 2)))
    assert msg.startswith("action_context:") and "one row per action (3)" in msg


def test_unknown_column_names_in_from_frame():
    df = pd.DataFrame({"a": [0, 1], "r": [1.0, 0.0], "p": [0.5, 0.5]})
    with pytest.raises(ValidationError, match=r"unknown column name\(s\) \['click'\]"):
        BanditLog.from_frame(df, action="a", reward="click", propensity="p")


def test_from_frame_reports_positional_row_and_nullable_missing():
    df = pd.DataFrame({"a": [0, 1, 2, 1, 0, 2], "r": [1.0, 0, 0, 1, 0, 1], "p": [0.3, 0.3, -1, 0.3, -1, 0.3]})
    with pytest.raises(ValueError, match=r"propensity: must be in \(0, 1\]; 2 of 6 rows break the rule, first at row 2"):
        BanditLog.from_frame(df, action="a", reward="r", propensity="p")
    df = pd.DataFrame({"a": pd.array([0, None, 1], dtype="Int64"), "r": [1.0, 0, 0], "p": [0.5] * 3})
    with pytest.raises(ValidationError, match=r"action: must be integers.*row 1"):
        BanditLog.from_frame(df, action="a", reward="r", propensity="p", n_actions=2)


def test_log_is_immutable_and_copies_input():
    kw = _kw()
    reward = kw["reward"].copy()
    log = BanditLog(**{**kw, "reward": reward})
    reward[0] = 99.0
    assert log.reward[0] == 0.0
    with pytest.raises(ValueError):
        log.reward[0] = 5.0
    with pytest.raises(AttributeError):
        log.n_actions = 7


def test_subset_split_and_frame_roundtrip():
    n = 40
    rng = np.random.default_rng(0)
    log = BanditLog(action=rng.integers(0, 4, n), reward=rng.random(n), propensity=np.full(n, 0.25), n_actions=4,
                    context=rng.random((n, 2)), position=rng.integers(0, 2, n), timestamp=np.arange(n)[::-1],
                    context_names=("age", "score"))
    assert len(log[:10]) == 10 and len(log[log.reward > 0.5]) == int((log.reward > 0.5).sum())
    assert np.array_equal(log[[3, 1]].action, log.action[[3, 1]])
    a, b = log.split(0.25, by="random", random_state=1)
    assert len(a) == 30 and len(b) == 10
    assert sorted(np.concatenate([a.reward, b.reward])) == sorted(log.reward)
    early, late = log.split(0.25, by="time")
    assert early.timestamp.max() < late.timestamp.min()
    back = BanditLog.from_frame(log.to_frame(), context=["age", "score"], position="position", timestamp="timestamp",
                                n_actions=4)
    assert np.array_equal(back.context, log.context) and np.array_equal(back.position, log.position)
    assert "40 rows" in repr(log) and "4 actions" in repr(log) and "2 positions" in repr(log)
    assert "<table" in log._repr_html_()
    with pytest.raises(ValidationError, match="timestamp"):
        BanditLog(**_kw()).split(0.5, by="time")


def test_index_out_of_range():
    with pytest.raises(ValidationError, match=r"index: must be in \[-6, 6\)"):
        BanditLog(**_kw())[[0, 9]]


# -- property-based: valid inputs always construct, any single corruption is always caught ---------
@st.composite
def valid_logs(draw):
    n = draw(st.integers(1, 30))
    k = draw(st.integers(1, 6))
    action = draw(hnp.arrays(np.int64, n, elements=st.integers(0, k - 1)))
    reward = draw(hnp.arrays(np.float64, n, elements=st.floats(-1e6, 1e6)))
    prop = draw(hnp.arrays(np.float64, n, elements=st.floats(1e-9, 1.0)))
    return dict(action=action, reward=reward, propensity=prop, n_actions=k)


@settings(max_examples=60, deadline=None)
@given(valid_logs())
def test_property_valid_inputs_construct_and_keep_values(kw):
    log = BanditLog(**kw)
    assert len(log) == len(kw["action"])
    assert np.array_equal(log.reward, kw["reward"]) and np.array_equal(log.propensity, kw["propensity"])
    assert np.array_equal(BanditLog.from_frame(log.to_frame(), n_actions=kw["n_actions"]).action, log.action)


@settings(max_examples=60, deadline=None)
@given(valid_logs(), st.data())
def test_property_any_bad_propensity_is_caught_at_its_row(kw, data):
    n = len(kw["action"])
    row = data.draw(st.integers(0, n - 1))
    bad = data.draw(st.sampled_from([0.0, -0.1, 1.0001, np.nan, 7.0]))
    p = kw["propensity"].copy()
    p[row] = bad
    with pytest.raises(ValidationError) as info:
        BanditLog(**{**kw, "propensity": p})
    assert info.value.field == "propensity" and info.value.first == row and info.value.n_bad == 1


@settings(max_examples=40, deadline=None)
@given(valid_logs(), st.data())
def test_property_any_bad_action_is_caught_at_its_row(kw, data):
    n = len(kw["action"])
    row = data.draw(st.integers(0, n - 1))
    a = kw["action"].copy()
    a[row] = data.draw(st.sampled_from([-1, kw["n_actions"], kw["n_actions"] + 5]))
    with pytest.raises(ValidationError) as info:
        BanditLog(**{**kw, "action": a})
    assert info.value.field == "action" and info.value.first == row


# -- PredictionLog ---------------------------------------------------------------------------------
def _probs(m=3, n=10, c=4, seed=0):
    return np.random.default_rng(seed).dirichlet(np.ones(c), size=(m, n))


def test_prediction_log_probability_rules():
    p = _probs()
    p[1, 7] = [0.5, 0.5, 0.5, 0.0]
    with pytest.raises(ValidationError, match=r"probs: must sum to 1 over classes \(tolerance 1e-06\); 1 of 30 .*model 1, point 7"):
        PredictionLog(p)
    p = _probs()
    p[0, 2, 0] = np.nan
    with pytest.raises(ValidationError, match="probs: must be finite"):
        PredictionLog(p)
    with pytest.raises(ValidationError, match="exactly one"):
        PredictionLog()
    with pytest.raises(ValidationError, match="must be unique"):
        PredictionLog(_probs(), model_names=["a", "b", "a"])


def test_unlabelled_points_passed_as_labels_are_an_error():
    p = _probs()
    labels = np.array([0, 1, 2, -1, 3, 0, 1, 2, 3, 0])
    with pytest.raises(ValidationError, match=r"labels: contain unlabelled markers .* first at row 3.*labelled="):
        PredictionLog(p, labels=labels)
    with pytest.raises(ValidationError, match="row 3"):
        PredictionLog(p, labels=np.where(np.arange(10) == 3, np.nan, 1.0))
    mask = labels >= 0
    log = PredictionLog(p, labels=labels, labelled=mask)
    assert log.n_labelled == 9 and log.losses().shape == (3, 9)
    with pytest.raises(ValidationError, match=r"labels: must be in \[0, 4\)"):
        PredictionLog(p, labels=np.full(10, 4))


def test_prediction_log_losses_save_load(tmp_path):
    p = _probs(m=2, n=50, c=3)
    y = np.random.default_rng(1).integers(0, 3, 50)
    log = PredictionLog(p, labels=y, model_names=["a", "b"], features=np.zeros((50, 2)))
    zo = log.losses("zero_one")
    assert np.array_equal(zo, (p.argmax(2) != y).astype(float))
    ce = log.losses("cross_entropy")
    assert np.allclose(ce, -np.log(p[:, np.arange(50), y]))
    assert np.allclose(log.accuracy().to_numpy(), 1 - zo.mean(1))
    back = PredictionLog.load(log.save(tmp_path / "z.npz"))
    assert back.model_names == ("a", "b") and np.array_equal(back.probs, p) and np.array_equal(back.labels, y)
    sub = log.subset_points(np.arange(10))
    assert sub.n_points == 10 and sub.n_labelled == 10
    reg = PredictionLog(predictions=np.zeros((2, 5)), labels=np.arange(5.0))
    assert np.allclose(reg.losses("squared")[0], np.arange(5.0) ** 2)
    assert "2 models" in repr(log) and len(log.to_frame()) == 100


def test_validation_error_survives_pickling_and_a_worker_process():
    import pickle

    from joblib import Parallel, delayed

    err = ValidationError("propensity", "must be in (0, 1]", 3, 7, 10, 0.0, hint="see docs")
    back = pickle.loads(pickle.dumps(err))
    assert str(back) == str(err) and (back.field, back.n_bad, back.first) == ("propensity", 3, 7)

    def bad(_):
        raise ValidationError("x", "must be positive", 1, 0)

    with pytest.raises(ValidationError, match="x: must be positive"):
        Parallel(n_jobs=2)(delayed(bad)(i) for i in range(2))


# -- audit fixes -------------------------------------------------------------------------------
def test_log_never_aliases_read_only_inputs():
    """Read-only is not unaliased: pandas 3 Series values are read-only views of the frame."""
    df = pd.DataFrame({"action": [0, 1, 0, 1], "reward": [1.0, 0, 1, 0], "propensity": [0.5] * 4,
                       "x": [0.1, 0.2, 0.3, 0.4]})
    log = BanditLog.from_frame(df, n_actions=2, context=["x"])
    direct = BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=2)
    df.loc[1, "propensity"] = 0.0
    df.loc[0, "reward"] = np.nan
    df.loc[2, "x"] = 9.0
    for lg in (log, direct):
        assert list(lg.propensity) == [0.5] * 4 and list(lg.reward) == [1.0, 0, 1, 0]
    assert log.context[2, 0] == 0.3
    # the same with a plain read-only numpy view, independent of the pandas version
    base = np.array([1.0, 0.0, 1.0])
    view = base.view()
    view.setflags(write=False)
    log = BanditLog(action=[0, 1, 0], reward=view, propensity=[0.5] * 3, n_actions=2)
    pred = PredictionLog(predictions=np.vstack([view, view]), features=view[:, None])
    cont = wb_data.ContinuousBanditLog(action=view, reward=view, density=view + 1, a_min=0, a_max=1)
    base[0] = 99.0
    assert log.reward[0] == 1.0 and pred.features[0, 0] == 1.0 and cont.action[0] == 1.0


def test_propensity_must_match_behavior_dist_relatively_and_never_where_it_is_zero():
    K = 100_000
    msg = _err(action=[0, 1, 2], reward=[1.0, 0, 1], propensity=[2 / K, 1 / K, 1 / K],
               behavior_dist=np.full((3, K), 1 / K))
    assert msg.startswith("propensity:") and "behavior_dist" in msg and "row 0" in msg
    BanditLog(action=[0, 1, 2], reward=[1.0, 0, 1], propensity=[1 / K] * 3, behavior_dist=np.full((3, K), 1 / K))
    msg = _err(action=[0, 1], reward=[1.0, 0], propensity=[5e-6, 0.5], behavior_dist=[[0.0, 1.0], [0.5, 0.5]])
    assert msg.startswith("propensity:") and "probability 0" in msg and "row 0" in msg


def test_empty_log_is_rejected():
    msg = _err(action=[], reward=[], propensity=[], n_actions=2)
    assert msg.startswith("action:") and "at least one row" in msg
    with pytest.raises(ValidationError, match="at least one row"):
        BanditLog(**_kw())[np.zeros(6, bool)]


@pytest.mark.parametrize("bad, shown", [(np.inf, "inf"), (1e20, "1e+20"), (-np.inf, "-inf")])
@pytest.mark.parametrize("n_actions", [None, 3])
def test_non_finite_or_huge_actions_are_reported_with_their_value(bad, shown, n_actions):
    msg = _err(action=[0, bad], reward=[1.0, 0], propensity=[0.5, 0.5], n_actions=n_actions)
    assert msg.startswith("action:") and "row 1" in msg and f"(value {shown})" in msg


@pytest.mark.parametrize("field, value", [("n_actions", float("nan")), ("n_actions", float("inf")),
                                          ("n_actions", 2.5), ("n_positions", 2.5), ("n_positions", True)])
def test_integer_parameters_are_not_coerced(field, value):
    kw = {**_kw(), "position": np.zeros(6, int), field: value}
    msg = _err(**kw)
    assert msg.startswith(f"{field}:") and "integer" in msg


@pytest.mark.parametrize("field", ["reward", "context", "propensity", "action"])
def test_complex_numbers_are_rejected_not_truncated(field):
    kw = _kw()
    kw[field] = np.asarray(kw.get(field, np.zeros(6)), dtype=complex) + 1j
    msg = _err(**kw)
    assert msg.startswith(f"{field}:") and "real" in msg


@pytest.mark.parametrize("names", [("a", "a"), ("reward", "b"), ("x", "action"), "ab"])
def test_context_names_must_be_distinct_and_not_reserved(names):
    msg = _err(**_kw(), context=np.zeros((6, 2)), context_names=names)
    assert msg.startswith("context_names:")


def test_from_frame_rejects_repeated_or_reserved_context_columns():
    df = pd.DataFrame({"a": [0, 1], "reward": [1.0, 0], "p": [0.5, 0.5], "x": [0.1, 0.2], "action": [3.0, 4.0]})
    for ctx in (["x", "x"], ["action"]):
        with pytest.raises(ValidationError, match="context_names"):
            BanditLog.from_frame(df, action="a", propensity="p", context=ctx, n_actions=2)


def test_unit_ids_follow_one_rule_in_every_container():
    from workbench._validation import check_unit_ids
    from workbench.data import BanditLog, ContinuousBanditLog

    base = dict(action=[0, 1, 0], reward=[1.0, 0.0, 1.0], propensity=[0.5, 0.5, 0.5], n_actions=2)
    for bad, rule in (([1, "1", 2], "mixed"), ([1, None, 2], "missing"), ([1.5, 2.0, 3.0], "non-integral"),
                      ([True, False, True], "boolean")):
        with pytest.raises(ValidationError, match=rule):
            BanditLog(**base, unit_id=bad)
        with pytest.raises(ValidationError, match=rule):
            ContinuousBanditLog(action=[0.1, 0.2, 0.3], reward=[1.0, 0.0, 1.0], density=[1.0, 1.0, 1.0], a_min=0.0,
                                a_max=1.0, unit_id=bad)
    # integral floats (an int column with nulls elsewhere) are the integers they hold; 64-bit hashes fit
    assert BanditLog(**base, unit_id=[1.0, 2.0, 1.0]).unit_id.tolist() == [1, 2, 1]
    assert check_unit_ids([2**63 + 5, 2**63 + 7, 3]).dtype == np.uint64
    assert check_unit_ids(np.array(["a", "b"], dtype=object)).dtype.kind == "U"


def test_complex_inputs_are_refused_by_every_pillar():
    # as_array refuses complex numbers, so no entry point silently drops an imaginary part
    import workbench as wb

    rng = np.random.default_rng(0)
    log = wb.data.simulate_bandit(50, n_actions=2, random_state=0)[0]
    calls = {
        "data": lambda: wb.resample.bootstrap_ci(rng.normal(size=30) + 0j, np.mean, random_state=0),
        "prediction_log": lambda: wb.active.select_model(np.full((2, 10, 2), 0.5) + 0j, np.zeros(10, int), 3),
        "probs": lambda: wb.active.estimate_risk(np.full((10, 2), 0.5) + 0j, np.zeros(10, int), 3),
        "policy": lambda: wb.ope.evaluate_policy(log, np.full((50, 2), 0.5) + 0j),
    }
    for field, call in calls.items():
        with pytest.raises(ValidationError, match=f"^{field}: must be real numbers"):
            call()


def test_shared_checks_do_not_parse_strings():
    # a string is one name (list("ab") is two), and "0.05" is not an alpha
    import workbench as wb

    losses = np.random.default_rng(0).random((20, 2))
    with pytest.raises(ValidationError, match="^names: must be 2 distinct names, got \\['ab'\\]"):
        wb.resample.compare_models(losses, names="ab")
    with pytest.raises(ValidationError, match="^alpha: must be a finite number"):
        wb.resample.bootstrap_ci(np.arange(10.0), np.mean, alpha="0.05")


@pytest.mark.parametrize("column, values, field", [
    ("reward", pd.array(["1", "0"], dtype="str"), "reward"),
    ("propensity", pd.array(["0.5", "0.5"], dtype="str"), "propensity"),
    ("action", pd.array(["0", "1"], dtype="string"), "action"),
    ("propensity", pd.array([True, True], dtype="boolean"), "propensity"),
    ("action", pd.array([True, False], dtype="boolean"), "action")])
def test_from_frame_does_not_parse_text_or_booleans(column, values, field):
    """pandas' str / string / boolean columns went through to_numpy(float64): "0.5" became 0.5 and a
    boolean propensity 1.0, where the same values as numpy arrays are refused."""
    df = pd.DataFrame({"action": [0, 1], "reward": [1.0, 0.0], "propensity": [0.5, 0.5]})
    df[column] = values
    with pytest.raises(ValidationError, match=f"^{field}: must be"):
        BanditLog.from_frame(df)


def test_from_frame_repeated_column_name_is_a_validation_error():
    df = pd.DataFrame([[0, 1.0, 0.5, 1.0, 2.0]], columns=["action", "reward", "propensity", "x", "x"])
    with pytest.raises(ValidationError, match=r"^frame: column names must be unique; \['x'\]"):
        BanditLog.from_frame(df, context=["x"])


@pytest.mark.parametrize("wrap", [pd.Series, pd.DatetimeIndex])
def test_time_zone_aware_timestamps_are_stored_as_utc(wrap):
    """from_frame stored a tz-aware column as naive UTC; the constructor refused the same values."""
    ts = wrap(pd.date_range("2020-03-29 00:30", periods=3, freq="h", tz="Europe/Paris"))
    log = BanditLog(**_kw(3, 3), timestamp=ts)
    assert np.array_equal(log.timestamp, pd.DatetimeIndex(ts).tz_convert("UTC").tz_localize(None).to_numpy())
    df = pd.DataFrame({"action": [0, 1, 2], "reward": [0.0, 1, 0], "propensity": 1 / 3, "t": ts})
    assert np.array_equal(BanditLog.from_frame(df, timestamp="t").timestamp, log.timestamp)
    probs = np.full((1, 3, 2), 0.5)
    assert np.array_equal(PredictionLog(probs, timestamp=ts).timestamp, log.timestamp)


def test_split_test_size_must_be_a_number():
    with pytest.raises(ValidationError, match="^test_size: must be a finite number"):
        BanditLog(**_kw()).split(test_size="0.5")


def test_empty_selection_says_the_log_would_be_empty():
    with pytest.raises(ValidationError, match="must have at least one row"):
        BanditLog(**_kw()).subset([])


def test_prediction_log_refuses_text_predictions_and_labels():
    with pytest.raises(ValidationError, match="^predictions: must be numeric"):
        PredictionLog(predictions=np.array([["1.5", "2"]]))
    with pytest.raises(ValidationError, match="^labels: must be numeric"):
        PredictionLog(predictions=np.zeros((1, 2)), labels=np.array(["1", "2"]))


def test_prediction_log_model_names_as_stored():
    probs = np.full((2, 4, 2), 0.5)
    with pytest.raises(ValidationError, match="^model_names: must be unique; '1'"):
        PredictionLog(probs, model_names=[1, "1"])  # both stored as "1"
    assert PredictionLog(probs[:1], model_names="abc").model_names == ("abc",)
    with pytest.raises(ValidationError, match="^model_names: must name 3 models, got 1"):
        PredictionLog(np.full((3, 4, 2), 0.5), model_names="abc")  # not the names "a", "b", "c"


def test_prediction_log_load_refuses_foreign_files(tmp_path):
    probs = np.full((2, 4, 2), 0.5)
    PredictionLog(probs).save(tmp_path / "ok.npz")
    assert PredictionLog.load(tmp_path / "ok.npz").n_models == 2
    np.save(tmp_path / "a.npy", probs)
    np.savez(tmp_path / "b.npz", probs=probs)
    np.savez(tmp_path / "c.npz", probs=probs, model_names=np.array(["a", "b"]), labelled=np.zeros(4, bool),
             extra=np.ones(1))
    np.savez(tmp_path / "d.npz", probs=np.array([None, 1], dtype=object), model_names=np.array(["a"]),
             labelled=np.zeros(2, bool))  # readable only by unpickling
    (tmp_path / "e.npz").write_bytes(b"not a zip file")
    for name in "abcde":
        with pytest.raises(ValidationError, match="^path: "):
            PredictionLog.load(tmp_path / f"{name}.npz" if name != "a" else tmp_path / "a.npy")


@pytest.mark.parametrize("field", ["a_min", "a_max"])
@pytest.mark.parametrize("value", ["0", True, np.bool_(False), None, float("nan")])
def test_continuous_log_action_bounds_are_not_parsed(field, value):
    # float() used to accept "0" and True as bounds
    from workbench.data import ContinuousBanditLog

    bounds = {"a_min": 0, "a_max": 5, field: value}
    with pytest.raises(ValidationError, match=rf"^{field}: must be a finite number, got "):
        ContinuousBanditLog(action=[1.0, 2.5], reward=[0.0, 2.5], density=[0.2, 0.3], **bounds)
    ok = ContinuousBanditLog(action=[1.0, 2.5], reward=[0.0, 2.5], density=[0.2, 0.3], a_min=np.int64(0),
                             a_max=np.array(5.0))
    assert (ok.a_min, ok.a_max) == (0.0, 5.0) and type(ok.a_min) is float and type(ok.a_max) is float


def test_distribution_error_reports_the_bad_rows_worst_sum():
    from workbench._validation import check_distribution

    dist = np.full((3, 2, 3), 0.5)  # rows x actions x positions: every sum over actions is 1
    dist[1, :, 2] = [0.5, 0.2]  # row 1 sums to 0.7 at position 2 only
    dist[1, :, 1] = [0.5, 0.45]  # and to 0.95 at position 1: the worst of row 1 is 0.7
    dist[2, :, 0] = [0.9, 0.9]
    with pytest.raises(ValidationError, match=r"^dist: probabilities must sum to 1 over axis 1 .*2 of 3 rows break "
                       r"the rule, first at row 1 \(value 0\.7\)"):
        check_distribution(dist, "dist")
    dist[1, :, 1] = [0.9, 0.4]  # now row 1 sums to 1.0, 1.3 and 0.7: the farthest from 1 is 1.3
    with pytest.raises(ValidationError, match=r"first at row 1 \(value 1\.3\)"):
        check_distribution(dist, "dist")


@pytest.mark.parametrize("bad", [1.5, "2", 0, True, np.bool_(True), float("nan")])
def test_parallel_runners_refuse_bad_n_jobs(bad):
    from joblib import delayed

    from workbench._parallel import check_n_jobs, run_delayed, run_tasks

    with pytest.raises(ValidationError, match="^n_jobs: must be "):
        run_delayed([delayed(abs)(-1)], n_jobs=bad, progress=False)
    with pytest.raises(ValidationError, match="^n_jobs: must be "):
        run_tasks([(abs, (-1,))], n_jobs=bad, progress=False)
    with pytest.raises(ValidationError, match="^n_jobs: must be "):
        check_n_jobs(bad)


@pytest.mark.parametrize("good, expected", [(None, None), (1, 1), (-1, -1), (np.int64(2), 2), (2.0, 2)])
def test_parallel_runners_accept_none_and_non_zero_integers(good, expected):
    from joblib import delayed

    from workbench._parallel import check_n_jobs, run_delayed, run_tasks

    assert check_n_jobs(good) == expected
    assert run_delayed([delayed(abs)(-1), delayed(abs)(-2)], n_jobs=good, progress=False) == [1, 2]
    assert run_tasks([(abs, (-3,))], n_jobs=good, progress=False) == [3]


def test_progress_bars_follow_tqdm_disable(monkeypatch):
    # the report runner sets TQDM_DISABLE=1; tqdm.auto's notebook widget ignores it, so the package checks it
    from workbench._parallel import progress_enabled

    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    assert progress_enabled(True) and not progress_enabled(False)
    monkeypatch.setenv("TQDM_DISABLE", "1")
    assert not progress_enabled(True)
