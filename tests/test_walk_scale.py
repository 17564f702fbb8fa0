"""Streamed (workbench.scale) against in-memory: bad input refused alike, with the first offending row.

Each case builds the same rows in memory (a BanditLog / arrays) and streamed (frames in chunks,
Parquet, Dask) and asks for the same ValidationError (field, rule, first row, value) or the same numbers.
"""
from __future__ import annotations

import time
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench._engine import Resampling
from workbench.data import BanditLog
from workbench.ope import evaluate_policy
from workbench.resample import bootstrap_ci, compare_models
from workbench.scale import ParquetSource, TermReducer, bootstrap_loss_matrix, compare_models_tabular, evaluate_tabular
from workbench._validation import check_finite

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("pyarrow")

PI = ["pi_0", "pi_1", "pi_2"]


def _log_frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, n)
    df = pd.DataFrame({"action": a, "reward": (rng.random(n) < 0.3 + 0.1 * a).astype(float),
                       "propensity": np.full(n, 1 / 3)})
    pi = rng.dirichlet(np.ones(3), n)
    for j in range(3):
        df[PI[j]] = pi[:, j]
    return df


def _error(call):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy's overflow warnings must not come first
        with pytest.raises(ValidationError) as info:
            call()
    e = info.value
    return e.field, e.rule, e.first, e.value


def _streams(df, tmp_path, chunk=7):
    path = tmp_path / "log.parquet"
    df.to_parquet(path, row_group_size=chunk)
    return {"frame": (df, None), "chunks": (df, chunk), "rows": (df, 1), "parquet": (str(path), chunk),
            "dask": (dd.from_pandas(df, npartitions=4), None)}


@pytest.mark.parametrize("estimators", [("ips", "snips"), ("sg-ips",)])
def test_subnormal_propensity_refused_like_in_memory(tmp_path, estimators):
    # A propensity of 1e-320 under a target probability of ~0.3 overflows the weight. In memory
    # prepare_inputs refuses it ("weights": must be finite); streamed, evaluate_tabular went on to
    # ips NaN / dr-os -inf with numpy overflow warnings. Rows 41 and 52 are bad: the first is named, globally.
    df = _log_frame()
    df.loc[[41, 52], "propensity"] = 1e-320
    log = BanditLog.from_frame(df, n_actions=3)
    want = _error(lambda: evaluate_policy(log, df[PI].to_numpy(), estimators, n_bootstrap=20))
    assert want[0] == "weights" and want[2] == 41 and want[3] == 1e-320
    for kind, (data, chunk) in _streams(df, tmp_path).items():
        got = _error(lambda: evaluate_tabular(data, PI, estimators, n_bootstrap=20, chunk_size=chunk))
        assert got == want, kind


def _nan_rows(frame, rows, col):
    frame = frame.copy()
    frame.loc[rows, col] = np.nan
    return frame


def test_dask_error_names_the_first_bad_row():
    # Partitions are reduced in parallel and the first failing task to be seen won: NaN rewards at rows
    # 5, 150 and 390 of 8 partitions were reported "first at row 150" (every run), in memory row 5.
    df = _nan_rows(_log_frame(400), [5, 150, 390], "reward")
    log_rows = _error(lambda: BanditLog.from_frame(df, n_actions=3))
    got = _error(lambda: evaluate_tabular(dd.from_pandas(df, npartitions=8), PI, ["ips"], n_bootstrap=20))
    assert got[:3] == log_rows[:3] and got[2] == 5
    # the loss bootstrap too: a text column whose every row is bad is refused at row 0, not in partition 1
    L = pd.DataFrame({"a": np.linspace(0, 1, 80), "b": [str(v) for v in np.linspace(0, 1, 80)]})
    e = _error(lambda: bootstrap_loss_matrix(dd.from_pandas(L, npartitions=5), n_resamples=20))
    assert e[0] == "data" and e[2] == 0


def _slow_first_chunk(chunk, ids):
    if ids[0] == 0:
        time.sleep(0.5)  # the first task finishes last
    return check_finite(chunk["x"].to_numpy(), "x"), {}


def test_parallel_parquet_error_names_the_first_bad_row(tmp_path):
    # joblib raised the error of whichever task failed first in time: a bad row at the end of a slow
    # first task lost to one at the start of the next file (row 20 reported for row 19).
    folder = tmp_path / "log"
    folder.mkdir()
    x = np.arange(30.0)
    x[[19, 20]] = np.nan
    pd.DataFrame({"x": x[:20]}).to_parquet(folder / "part.0.parquet")
    pd.DataFrame({"x": x[20:]}).to_parquet(folder / "part.1.parquet")
    reducer = TermReducer(["x"], _slow_first_chunk, 1, Resampling.make(10, "poisson", 0))
    with pytest.raises(ValidationError) as info, joblib.parallel_config(backend="threading"):  # (loky starts in 5 s)
        ParquetSource(str(folder), chunk_size=5).reduce(reducer, n_jobs=2)
    assert info.value.first == 19


@pytest.mark.parametrize("method", ["percentile", "studentized"])
def test_loss_errors_name_the_in_memory_field(tmp_path, method):
    # bootstrap_ci calls its input "data", compare_models "losses"; streamed, both called a text column
    # "data" and a NaN "losses".
    rng = np.random.default_rng(1)
    L = pd.DataFrame(rng.random((40, 3)), columns=["a", "b", "c"])
    nan = _nan_rows(L, [23], "b")
    text = L.assign(b=L["b"].astype(str))
    chunks = lambda f: [f.iloc[i:i + 7] for i in range(0, len(f), 7)]  # noqa: E731
    kw = dict(method=method, n_resamples=20, random_state=0)
    for bad in (nan, text):
        want = _error(lambda: bootstrap_ci(bad, resampling="poisson", **kw))
        got = _error(lambda: bootstrap_loss_matrix(chunks(bad), **kw))
        assert (got[0], got[1], got[2]) == (want[0], want[1], want[2]) and want[0] == "data"
        want = _error(lambda: compare_models(bad, resampling="poisson", **kw))
        got = _error(lambda: compare_models_tabular(chunks(bad), **kw))
        assert (got[0], got[1], got[2]) == (want[0], want[1], want[2]) and want[0] == "losses"


def test_boolean_policy_and_behavior_columns_read_as_in_memory(tmp_path):
    # In memory a boolean (one-hot) target or logging distribution is read as 0 / 1 (check_distribution);
    # streamed, boolean columns were refused ("must be numeric; column 'pi_0' has dtype bool").
    df = _log_frame()
    best = df[PI].to_numpy().argmax(axis=1)
    for j, c in enumerate(PI):
        df[c] = best == j
    df["propensity"] = 1.0
    beh = [f"b{j}" for j in range(3)]
    for j, c in enumerate(beh):
        df[c] = df["action"] == j  # a deterministic logger
    log = BanditLog.from_frame(df, n_actions=3, behavior_dist=df[beh].to_numpy())
    kw = dict(estimators=["ips", "snips"], n_bootstrap=30, warn=False)
    want = evaluate_policy(log, df[PI].to_numpy(), **kw)
    for kind, (data, chunk) in _streams(df, tmp_path).items():
        got = evaluate_tabular(data, PI, behavior=beh, chunk_size=chunk, **kw)
        pd.testing.assert_frame_equal(got, want, rtol=1e-12, obj=kind)
    two = df.copy()
    two.loc[30, ["pi_0", "pi_1", "pi_2"]] = True  # not a distribution: refused at its row
    assert _error(lambda: evaluate_tabular(two, PI, ["ips"], chunk_size=7))[:3] == \
        _error(lambda: evaluate_policy(log, two[PI].to_numpy(), ["ips"]))[:3]


def test_bernstein_reward_outside_range_names_its_row():
    # In memory: "24 of 60 rows break the rule, first at row 1 (value 3.0)"; streamed the error gave only
    # the observed min and max, after the whole pass.
    df = _log_frame()
    df["reward"] *= 3.0
    log = BanditLog.from_frame(df, n_actions=3)
    kw = dict(interval="bernstein", reward_range=(0, 2), n_bootstrap=20)
    want = _error(lambda: evaluate_policy(log, df[PI].to_numpy(), ["ips"], **kw))
    assert want[0] == "reward" and want[3] == 3.0
    assert _error(lambda: evaluate_tabular(df, PI, ["ips"], **kw)) == want
    assert _error(lambda: evaluate_tabular(df.iloc[::-1].reset_index(drop=True), PI, ["ips"], chunk_size=7,
                                           **kw))[2] == 60 - 1 - int(np.flatnonzero(df["reward"] > 2)[-1])


def test_a_column_missing_from_one_chunk_names_the_chunk():
    # Only chunk 2 lacks the column; the error read as if the whole table lacked it (a Parquet file is named).
    df = _log_frame()
    chunks = [df.iloc[:20], df.iloc[20:40], df.iloc[40:].drop(columns="propensity")]
    with pytest.raises(ValidationError, match=r"unknown column name\(s\) \['propensity'\].*In chunk 2 .*from row 40"):
        evaluate_tabular(chunks, PI, ["ips"], n_bootstrap=20)
    with pytest.raises(ValidationError, match=r"In chunk 1 .*from row 7"):
        bootstrap_loss_matrix(iter([df.iloc[:7], df.iloc[7:].rename(columns={"pi_1": "x"})]), PI, n_resamples=20)


def test_streamed_default_reward_model_on_a_one_click_log():
    # One click in 400 rows: the folds that do not hold it train on zeros only. The streamed default model
    # (logistic on the sample) raised "could not be fitted on fold k ... use a regressor", while in memory
    # cross_fit_predict gives a one-class fold its one value. Now the streamed fold predicts that value too.
    import warnings

    from workbench.scale import evaluate_tabular

    rng = np.random.default_rng(0)
    n = 400
    r = np.zeros(n)
    r[rng.integers(n)] = 1.0
    df = pd.DataFrame({"x0": rng.normal(size=n), "x1": rng.normal(size=n), "action": rng.integers(0, 3, n),
                       "reward": r, "propensity": 1 / 3, "pi_0": 0.2, "pi_1": 0.3, "pi_2": 0.5})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = evaluate_tabular(df, policy=["pi_0", "pi_1", "pi_2"], context=["x0", "x1"], estimators=["dm", "dr"],
                               n_bootstrap=50, chunk_size=97)
    v = out.set_index("estimator")["value"]
    assert np.isfinite(v).all() and (v > 0).all() and (v < 0.01).all()  # one click in 400 rows: about 1/400
    # the same call on a log whose click falls in a fold of its own gave the error for any n_folds: the
    # value is a rare-click estimate, not an artefact (the dm of the one-class folds is 0, the others' positive)
    assert out["reward_model"].str.contains("LogisticRegression").all()


def test_streaming_progress_bars_follow_tqdm_disable(monkeypatch, tmp_path):
    # The report runner sets TQDM_DISABLE=1 for offline HTML; tqdm.auto's notebook widget ignores it, so the
    # streamed passes left frozen "streaming Parquet: 0%" bars in notebook 09's report. Their bars now ask
    # progress_enabled(), as every other bar of the package does.
    import tqdm.auto

    seen = []
    real = tqdm.auto.tqdm

    class Recording(real):
        def __init__(self, *args, **kwargs):
            seen.append((kwargs.get("desc"), kwargs.get("disable")))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(tqdm.auto, "tqdm", Recording)
    df = _log_frame()
    df.to_parquet(tmp_path / "log.parquet")
    for env in ("1", None):
        if env:
            monkeypatch.setenv("TQDM_DISABLE", env)
        else:
            monkeypatch.delenv("TQDM_DISABLE", raising=False)
        seen.clear()
        for data in (tmp_path / "log.parquet", [df.iloc[:30], df.iloc[30:]]):
            evaluate_tabular(data, PI, estimators=["ips"], n_bootstrap=20, warn=False)
        assert {d for d, _ in seen} >= {"streaming Parquet", "streaming chunks"}
        assert all(dis is bool(env) for _, dis in seen), seen
