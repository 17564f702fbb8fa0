"""Streamed cross-fitting with ``unit_id``: the sample is folded by the unit ids the main pass predicts by.

The sample's training folds were hashes of its *row numbers*, while ``CrossFittedRewardModel.predict``
picked a row's model by the hash of its *unit id* (what the source passes with ``unit_id``): a unit's
rows sat in both training folds, and about half the rows were predicted by a model fitted on them
(190 of 400 in a 2-fold probe). The models here are real scikit-learn fits that also note which rows
(by a ``row`` context column holding the global row number) they were fitted on and asked to predict.

Also here, two neighbouring gaps of the stream: unit ids of two kinds in different chunks (accepted
streamed, refused in memory), and an object-typed column whose first chunk holds only numbers (refused
on that chunk with no row, wherever the text was).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from workbench import ValidationError
from workbench._engine import Resampling
from workbench._random import unit_keys
from workbench.data import BanditLog
from workbench.ope import evaluate_policy
from workbench.scale import evaluate_tabular
from workbench.scale.reduce import concat_unit_ids
from workbench.scale.reward import CrossFittedRewardModel

K = 3
PI = [f"pi_{j}" for j in range(K)]


class RecordingRidge(Ridge):
    """A Ridge whose fits and predictions note the rows they saw (design column 0 is the ``row`` context)."""

    events: list = []  # (kind, id of the fitted instance, row numbers), in call order

    def fit(self, X, y, sample_weight=None):
        RecordingRidge.events.append(("fit", id(self), X[:, 0].astype(np.int64)))
        return super().fit(X, y, sample_weight)

    def predict(self, X):
        RecordingRidge.events.append(("predict", id(self), X[:, 0].astype(np.int64)))
        return super().predict(X)


def _frame(n=600, n_users=40, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"action": rng.integers(0, K, n), "reward": rng.random(n), "propensity": 1 / K,
                       "row": np.arange(n, dtype=np.float64), "x0": rng.normal(size=n),
                       "user": rng.integers(0, n_users, n)})
    pi = rng.dirichlet(np.ones(K), n)
    for j in range(K):
        df[PI[j]] = pi[:, j]
    return df


def _seen(run):
    """Run ``run()`` with a RecordingRidge; {model: (rows fitted on, rows predicted)}."""
    RecordingRidge.events = []
    run()
    fitted, predicted = {}, {}
    for kind, key, rows in RecordingRidge.events:
        (fitted if kind == "fit" else predicted).setdefault(key, []).append(rows)
    assert fitted and predicted
    return {key: (np.concatenate(fitted[key]), np.concatenate(predicted.get(key, [np.zeros(0, np.int64)])))
            for key in fitted}


def _chunks(df):
    # three chunks, the user column typed differently in each (int64, integral float64, object of ints):
    # each is checked alone (int64 ids), so the sample's folds and the main pass's hash alike
    a, b, c = df.iloc[:170].copy(), df.iloc[170:390].copy(), df.iloc[390:].copy()
    b["user"] = b["user"].astype(np.float64)
    c["user"] = c["user"].astype(object)
    return [a, b, c]


@pytest.mark.parametrize("kind", ["frame", "chunks", "parquet", "string ids"])
@pytest.mark.parametrize("sample", [10_000, 250])  # all rows, and a hashed sample of about 250
def test_no_row_is_predicted_by_a_model_fitted_on_it_with_unit_id(kind, sample, tmp_path):
    df = _frame()
    if kind == "string ids":
        df["user"] = "u" + df["user"].astype(str)
    data = df if kind == "frame" else _chunks(df) if kind == "chunks" else [df.iloc[:300], df.iloc[300:]]
    if kind == "parquet":
        pytest.importorskip("pyarrow")
        df.to_parquet(tmp_path / "log.parquet", row_group_size=128)
        data = tmp_path / "log.parquet"

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            evaluate_tabular(data, PI, ["dm", "dr"], reward_model=RecordingRidge(), context=["row", "x0"],
                             unit_id="user", n_folds=2, n_bootstrap=20, random_state=4, chunk_size=97,
                             reward_model_sample=sample)

    seen = _seen(run)
    assert len(seen) == 2  # one model per fold
    users = df["user"].to_numpy()
    predicted_by = {}
    for key, (fit_rows, pred_rows) in seen.items():
        leaked = np.intersect1d(fit_rows, pred_rows)
        assert leaked.size == 0, f"{leaked.size} rows predicted by a model fitted on them, e.g. {leaked[:5]}"
        # folds by unit: no user is both in a model's training rows and among the rows it predicts
        assert not set(users[fit_rows]) & set(users[pred_rows])
        for r in np.unique(pred_rows):
            predicted_by.setdefault(int(r), set()).add(key)
    # every row is predicted (DM and DR: once per action and estimator), each by one model only
    assert sorted(predicted_by) == list(range(len(df)))
    assert all(len(v) == 1 for v in predicted_by.values())


def test_dask_partitions_fold_by_unit_too():
    dd = pytest.importorskip("dask.dataframe")
    df = _frame()

    def run():
        with warnings.catch_warnings(), __import__("dask").config.set(scheduler="sync"):  # in-process: events kept
            warnings.simplefilter("ignore")
            evaluate_tabular(dd.from_pandas(df, npartitions=4), PI, ["dr"], reward_model=RecordingRidge(),
                             context=["row", "x0"], unit_id="user", n_folds=3, n_bootstrap=20, random_state=1)

    seen = _seen(run)
    assert len(seen) == 3
    for fit_rows, pred_rows in seen.values():
        assert np.intersect1d(fit_rows, pred_rows).size == 0


def test_more_folds_than_units_is_refused_as_in_memory():
    df = _frame(n=120, n_users=3)
    log = BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=K,
                    unit_id=df["user"].to_numpy())
    kw = dict(estimators=["dr"], n_folds=5, n_bootstrap=20, random_state=0, warn=False)
    with pytest.raises(ValidationError) as mem:
        evaluate_policy(log, df[PI].to_numpy(), **kw)
    with pytest.raises(ValidationError) as streamed:
        evaluate_policy([df.iloc[:50], df.iloc[50:]], PI, unit_id="user", context=["x0"], **kw)
    assert (streamed.value.field, streamed.value.rule) == (mem.value.field, mem.value.rule)
    assert streamed.value.rule == "must be at most the number of units (3), got 5"


def test_a_fold_holding_every_sampled_unit_is_refused_with_a_reason():
    # two users whose unit ids hash to the same of 2 folds: the other fold's model would have no rows
    df = _frame(n=80, n_users=2)
    for random_state in range(100):
        seed = Resampling.make(20, "poisson", random_state).seed
        if np.unique(CrossFittedRewardModel([], [], seed, 2).fold_of(np.array([0, 1]))).size == 1:
            break
    else:
        pytest.fail("no seed puts both users in one fold")
    with pytest.raises(ValidationError, match=r"^n_folds: left fold [01] of 2 holding the whole reward-model "
                                              r"sample \(2 units\), so its model has no training rows"):
        evaluate_tabular(df, PI, ["dm"], context=["x0"], unit_id="user", n_folds=2, n_bootstrap=20,
                         random_state=random_state, warn=False)


def test_given_predictions_with_unit_id_agree_with_memory():
    # DM / DR with prediction columns are designed to equal the in-memory values and cluster-bootstrap
    # intervals (a cross-fitted model is not: the stream fits a hashed sample in hashed folds, memory
    # GroupKFold on all rows). Guards that folding by unit did not touch this path.
    df = _frame(n=900, n_users=70, seed=3)
    rng = np.random.default_rng(5)
    Q = [f"q_{j}" for j in range(K)]
    for j in range(K):
        df[Q[j]] = rng.random(len(df))
    kw = dict(estimators=["dm", "dr", "snips"], n_bootstrap=200, random_state=8, warn=False)
    log = BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=K,
                    unit_id=df["user"].to_numpy())
    mem = evaluate_policy(log, df[PI].to_numpy(), reward_model=df[Q].to_numpy(), **kw)
    for data in (df, [df.iloc[:400], df.iloc[400:]]):
        out = evaluate_tabular(data, PI, reward_model=Q, unit_id="user", chunk_size=128, **kw)
        cols = ["value", "ci_low", "ci_high", "se"]
        np.testing.assert_allclose(out[cols].to_numpy(float), mem[cols].to_numpy(float), rtol=1e-9)


def test_concatenated_unit_ids_hash_as_each_chunk_did():
    big = np.array([2**63 + 5, 7], dtype=np.uint64)
    small = np.array([3, 2**53 + 1], dtype=np.int64)
    out = concat_unit_ids([small, big])
    assert out.dtype == np.uint64  # not float64, which rounded 2**53 + 1 to 2**53
    np.testing.assert_array_equal(unit_keys(out, 9), np.concatenate([unit_keys(small, 9), unit_keys(big, 9)]))
    words = concat_unit_ids([np.array(["a"]), np.array(["bcd"]), np.array([b"e"])])
    np.testing.assert_array_equal(words, ["a", "bcd", "e"])
    with pytest.raises(ValidationError, match="^unit_id: integer ids must fit in 64 bits"):
        concat_unit_ids([np.array([-1]), big])
    with pytest.raises(ValidationError, match="^groups: must be all integers or all strings"):
        concat_unit_ids([np.array([1]), np.array(["1"])], "groups")


# --- unit ids of one kind per chunk, of two kinds across chunks ------------------------------------------
# Each chunk's ids passed check_unit_ids alone, so integer ids in one chunk and string ids in another were
# accepted streamed (5 and "5" hashed as two units) where memory refuses the column. The stream now keeps
# the kinds' counts and first rows to the end of the pass, and refuses with memory's field, rule, count,
# first row and value; the hint names the chunk of each kind.


def _mixed_frame(n_int, n_str, seed=0):
    df = _frame(n=n_int + n_str, seed=seed)
    df["user"] = np.array([i % 5 for i in range(n_int)] + [str(i % 5) for i in range(n_int, n_int + n_str)],
                          dtype=object)
    return df


def _same_error(mem_call, stream_call):
    with pytest.raises(ValidationError) as mem:
        mem_call()
    with pytest.raises(ValidationError) as streamed:
        stream_call()
    m, s = mem.value, streamed.value
    assert (s.field, s.rule, s.n_bad, s.first, s.n_total, s.value) == (m.field, m.rule, m.n_bad, m.first,
                                                                        m.n_total, m.value)
    return s


@pytest.mark.parametrize("n_int, n_str, first, chunk", [(20, 20, 0, "chunk 0"), (30, 10, 30, "chunk 1"),
                                                        (10, 30, 0, "chunk 0")])
@pytest.mark.parametrize("estimators", [["ips"], ["dr"]])  # dr: refused in the reward model's sample pass
def test_integer_and_string_ids_in_different_chunks_are_refused_as_in_memory(n_int, n_str, first, chunk,
                                                                              estimators):
    df = _mixed_frame(n_int, n_str)
    kw = dict(estimators=estimators, n_bootstrap=20, random_state=0, warn=False, n_folds=2)
    err = _same_error(
        lambda: evaluate_policy(BanditLog.from_frame(df, unit_id="user", n_actions=K), df[PI].to_numpy(), **kw),
        lambda: evaluate_tabular([df.iloc[:n_int], df.iloc[n_int:]], PI, unit_id="user", context=["x0"], **kw))
    assert err.rule == "must be all integers or all strings (no boolean or mixed ids)"
    assert err.first == first and f"in {chunk} (counting from 0)" in str(err) and "column 'user'" in str(err)


def test_mixed_id_kinds_across_parquet_files_and_dask_partitions(tmp_path):
    df = _mixed_frame(30, 10)
    ints, strs = df.iloc[:30].copy(), df.iloc[30:].copy()
    ints["user"] = ints["user"].astype(np.int64)
    strs["user"] = strs["user"].astype(str)
    ints.to_parquet(tmp_path / "part.0.parquet")
    strs.to_parquet(tmp_path / "part.1.parquet")
    kw = dict(estimators=["ips"], n_bootstrap=20, random_state=0, warn=False)
    mem = lambda: evaluate_policy(BanditLog.from_frame(df, unit_id="user", n_actions=K), df[PI].to_numpy(), **kw)  # noqa: E731
    for n_jobs in (None, 2):
        err = _same_error(mem, lambda: evaluate_tabular(tmp_path, PI, unit_id="user", n_jobs=n_jobs, **kw))
        assert err.first == 30 and "part.1.parquet" in str(err)
    dd = pytest.importorskip("dask.dataframe")
    import dask

    # (dask's default convert-string turns the object column into text, 0 and "0" alike, before we see it)
    with dask.config.set({"dataframe.convert-string": False, "scheduler": "sync"}):
        ddf = dd.from_pandas(df, npartitions=4)
        err = _same_error(mem, lambda: evaluate_tabular(ddf, PI, unit_id="user", **kw))
    assert "in partition 3 (counting from 0)" in str(err)


def test_mixed_group_kinds_across_chunks_in_the_loss_bootstrap():
    from workbench.resample import bootstrap_ci

    rng = np.random.default_rng(1)
    g = np.array([i % 4 for i in range(25)] + [f"g{i % 4}" for i in range(25, 40)], dtype=object)
    L = pd.DataFrame({"a": rng.random(40), "b": rng.random(40), "g": g})
    kw = dict(n_resamples=20, random_state=0, resampling="poisson")
    err = _same_error(lambda: bootstrap_ci(L[["a", "b"]], groups=g, **kw),
                      lambda: bootstrap_ci([L.iloc[:25], L.iloc[25:]], groups="g", **kw))
    assert err.field == "groups" and err.first == 25


def test_negative_ids_beside_ids_beyond_int64_are_refused_as_in_memory():
    df = _frame(n=40)
    neg, big = df.iloc[:20].copy(), df.iloc[20:].copy()
    neg["user"] = -np.arange(1, 21, dtype=np.int64)
    big["user"] = np.uint64(2**63) + np.arange(20, dtype=np.uint64)
    whole = np.array(list(neg["user"]) + list(big["user"]), dtype=object)
    with pytest.raises(ValidationError) as mem:
        BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=K, unit_id=whole)
    with pytest.raises(ValidationError) as streamed:
        evaluate_tabular([neg, big], PI, ["ips"], unit_id="user", n_bootstrap=20, warn=False)
    assert (streamed.value.field, streamed.value.rule) == (mem.value.field, mem.value.rule)
    assert "row 0 (chunk 0" in str(streamed.value) and "row 20 (chunk 1" in str(streamed.value)


def test_one_kind_across_chunks_is_still_accepted():
    # integral floats, int64 and object-of-int chunks are all integer ids: one unit per value, as in memory
    df = _frame()
    kw = dict(estimators=["ips", "snips"], n_bootstrap=100, random_state=2, warn=False)
    log = BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=K,
                    unit_id=df["user"].to_numpy())
    mem = evaluate_policy(log, df[PI].to_numpy(), **kw)
    out = evaluate_tabular(_chunks(df), PI, unit_id="user", **kw)
    np.testing.assert_allclose(out[["value", "ci_low", "ci_high"]].to_numpy(float),
                               mem[["value", "ci_low", "ci_high"]].to_numpy(float), rtol=1e-9)


# --- a column typed object whose first chunk holds only numbers ------------------------------------------
# Refused on that chunk for its dtype, with no row, wherever the text was. The source now reads the
# column again and names the first row holding no number, with the count over the whole table: the
# error a single-chunk read gives.


def _texty(col, bad_rows=(150, 260), value="0.5", n=300):
    df = _frame(n=n)
    df[col] = df[col].astype(object)
    for r in bad_rows:
        df.loc[r, col] = value
    return df


def _fields(err):
    return err.field, err.rule, err.n_bad, err.first, err.n_total, err.value


@pytest.mark.parametrize("col, field", [("reward", "reward"), ("action", "action"), ("propensity", "propensity"),
                                        ("pi_1", "policy"), ("x0", "context")])
def test_text_in_a_later_chunk_of_an_object_column_is_named(col, field):
    df = _texty(col)
    kw = dict(estimators=["dr"], context=["x0"], n_bootstrap=20, warn=False, n_folds=2)
    with pytest.raises(ValidationError) as whole:  # one chunk: the rows were always named
        evaluate_tabular(df, PI, **kw)
    assert (whole.value.field, whole.value.n_bad, whole.value.first) == (field, 2, 150)
    for data, extra in ((df, {"chunk_size": 100}), ([df.iloc[:100], df.iloc[100:]], {}),
                        ([df.iloc[:100], df.iloc[100:]], {"reward_model_sample": 120})):
        with pytest.raises(ValidationError) as chunked:
            evaluate_tabular(data, PI, **kw, **extra)
        assert _fields(chunked.value) == _fields(whole.value)


def test_object_column_text_is_named_on_dask_and_in_the_loss_bootstrap():
    from workbench.resample import bootstrap_ci

    df = _texty("reward")
    with pytest.raises(ValidationError) as whole:
        evaluate_tabular(df, PI, ["ips"], n_bootstrap=20, warn=False)
    dd = pytest.importorskip("dask.dataframe")
    import dask

    with dask.config.set({"dataframe.convert-string": False, "scheduler": "sync"}):
        with pytest.raises(ValidationError) as streamed:
            evaluate_tabular(dd.from_pandas(df, npartitions=3), PI, ["ips"], n_bootstrap=20, warn=False)
    assert _fields(streamed.value) == _fields(whole.value)
    L = df[["reward", "x0"]]
    with pytest.raises(ValidationError) as one:
        bootstrap_ci([L], n_resamples=20, resampling="poisson")
    with pytest.raises(ValidationError) as three:
        bootstrap_ci([L.iloc[:100], L.iloc[100:200], L.iloc[200:]], n_resamples=20, resampling="poisson")
    assert _fields(three.value) == _fields(one.value) and one.value.first == 150


def test_object_column_of_numbers_only_and_one_shot_iterators_say_why_no_row():
    df = _frame(n=300)
    df["reward"] = df["reward"].astype(object)  # numbers only, typed object: refused as a whole, as in memory
    with pytest.raises(ValidationError, match=r"^reward: must be numeric; column 'reward' has dtype object\. "
                                              r".*Every value is a number$") as err:
        evaluate_tabular([df.iloc[:100], df.iloc[100:]], PI, ["ips"], n_bootstrap=20, warn=False)
    assert err.value.first is None
    texty = _texty("reward")
    with pytest.raises(ValidationError, match="a one-shot iterator cannot be read again to find it") as err:
        evaluate_tabular((texty.iloc[i:i + 100] for i in range(0, 300, 100)), PI, ["ips"], n_bootstrap=20,
                         warn=False)
    assert err.value.first is None


def test_a_whole_column_refusal_survives_pickling_with_its_column():
    import pickle

    from workbench.scale.sources import _WholeColumn

    exc = _WholeColumn("reward", "must be numeric", hint="h", column="r", allow_bool=False)
    back = pickle.loads(pickle.dumps(exc))
    assert type(back) is _WholeColumn and (back.column, back.allow_bool, str(back)) == ("r", False, str(exc))


def test_text_in_a_context_column_is_named_by_its_row_not_its_place_in_the_sample():
    # the sample's context was checked after sampling: text was named by its position among the sampled
    # rows (or, not sampled, not at all); now every chunk's context columns are checked in the sampling pass
    df = _texty("x0", bad_rows=range(150, 300), value="n/a")
    with pytest.raises(ValidationError) as err:
        evaluate_tabular(df, PI, ["dm"], context=["x0"], n_bootstrap=20, warn=False, n_folds=2,
                         reward_model_sample=60)
    assert (err.value.field, err.value.n_bad, err.value.first, err.value.value) == ("context", 150, 150, "n/a")
