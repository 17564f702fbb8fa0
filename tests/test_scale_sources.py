"""Reading tabular sources: Parquet directories (file order, file names, missing and partition
columns), unit ids, column types, one-row / one-unit logs and one-shot iterators."""
import warnings

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.scale import bootstrap_loss_matrix, evaluate_tabular
from workbench.scale.sources import natural_sort_key

pads = pytest.importorskip("pyarrow.dataset")

K = 3
PI = [f"pi_{j}" for j in range(K)]
Q = [f"q_{j}" for j in range(K)]
NUM = ["value", "ci_low", "ci_high", "se"]


def _frame(n=240, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"action": rng.integers(0, K, n), "reward": rng.random(n), "propensity": 1 / K,
                       "user": rng.integers(0, 20, n)})
    pe = rng.dirichlet(np.ones(K), n)
    for j in range(K):
        df[f"pi_{j}"] = pe[:, j]
        df[f"q_{j}"] = 0.3 + 0.1 * j
    return df


KW = dict(estimators=["ips", "snips"], n_bootstrap=100, random_state=3, warn=False)


def _close(a, b):
    np.testing.assert_allclose(a[NUM].to_numpy(float), b[NUM].to_numpy(float), rtol=1e-9)


def test_directory_is_read_in_natural_file_order(tmp_path):
    # Dask writes part.0 ... part.11: plain string order would read part.10 before part.2, so rows
    # would get other ids (other bootstrap weights) than in memory or through dd.read_parquet
    df = _frame()
    for i, s in enumerate(range(0, len(df), 20)):
        df.iloc[s:s + 20].to_parquet(tmp_path / f"part.{i}.parquet")
    _close(evaluate_tabular(df, PI, **KW), evaluate_tabular(tmp_path, PI, **KW))
    assert sorted(["part.10.parquet", "part.2.parquet", "a1b"], key=natural_sort_key) == \
        ["a1b", "part.2.parquet", "part.10.parquet"]


def test_directory_reads_every_data_file_whatever_its_name(tmp_path):
    df = _frame()
    df.iloc[:100].to_parquet(tmp_path / "part-0.parquet")
    df.iloc[100:150].to_parquet(tmp_path / "part-1.parq")
    df.iloc[150:].to_parquet(tmp_path / "part-2")  # extensionless, as Hive / Impala write them
    (tmp_path / "_SUCCESS").write_text("")
    (tmp_path / ".part-2.crc").write_text("not parquet")
    df.iloc[:5].to_parquet(tmp_path / "_common_metadata")  # metadata: skipped, as pyarrow and dask do
    out = evaluate_tabular(tmp_path, PI, **KW)
    assert (out["n"] == len(df)).all()
    _close(evaluate_tabular(df, PI, **KW), out)


def test_a_file_missing_a_column_is_named(tmp_path):
    from joblib import parallel_config

    df = _frame()
    df.iloc[:100].to_parquet(tmp_path / "a.parquet")
    df.iloc[100:].drop(columns="q_1").to_parquet(tmp_path / "b.parquet")
    kw = dict(KW, estimators=["dr"], reward_model=Q)
    with pytest.raises(wb.ValidationError, match=r"b\.parquet' lacks column\(s\) \['q_1'\]"):
        evaluate_tabular(tmp_path, PI, **kw)
    with parallel_config(backend="threading"), \
            pytest.raises(wb.ValidationError, match=r"b\.parquet' lacks column\(s\) \['q_1'\]"):
        evaluate_tabular(tmp_path, PI, n_jobs=2, **kw)


def test_hive_partition_column_is_read(tmp_path):
    # unit_id is the partition key: stored in the directory names (user=a/), not in the files
    df = _frame()
    df["user"] = np.where(np.arange(len(df)) < 100, "a", "b")
    for u in ("a", "b"):
        (tmp_path / f"user={u}").mkdir()
        df[df["user"] == u].drop(columns="user").to_parquet(tmp_path / f"user={u}" / "x.parquet")
    ref = evaluate_tabular(df, PI, unit_id="user", **KW)
    _close(ref, evaluate_tabular(pads.dataset(str(tmp_path), format="parquet", partitioning="hive"), PI,
                                 unit_id="user", **KW))
    _close(ref, evaluate_tabular(tmp_path, PI, unit_id="user", **KW))


def test_single_row_or_unit_gives_nan_intervals_with_the_in_memory_warning():
    df = _frame()
    for data, uid in ((df.iloc[:1], None), (df.assign(user=7), "user")):
        log = wb.data.BanditLog(action=data["action"], reward=data["reward"], propensity=data["propensity"],
                                n_actions=K, unit_id=None if uid is None else data[uid].to_numpy())
        for warn in (True, False):  # warn=False silences it in both (the NaN intervals still say it)
            kw = {**KW, "warn": warn}
            msgs = []
            for call in (lambda: wb.ope.evaluate_policy(log, data[PI].to_numpy(), **kw),
                         lambda: evaluate_tabular([data.iloc[:1], data.iloc[1:]], PI, unit_id=uid, **kw)):
                with warnings.catch_warnings(record=True) as rec:
                    warnings.simplefilter("always")
                    out = call()
                msgs.append([str(w.message) for w in rec if issubclass(w.category, wb.ope.OPEDiagnosticWarning)])
                assert out[["ci_low", "ci_high", "se"]].isna().all().all()
            assert msgs[0] == msgs[1]
            assert any("single" in m for m in msgs[1]) if warn else msgs[1] == []


def test_missing_unit_ids_are_refused_and_integral_float_ids_accepted():
    df = _frame()
    chunks = lambda d: [d.iloc[:100], d.iloc[100:]]  # noqa: E731
    bad = df.assign(user=df["user"].astype(object))
    bad.loc[150, "user"] = None
    # the in-memory field (BanditLog's "unit_id"), then the column it was read from
    with pytest.raises(wb.ValidationError, match=r"^unit_id: must not be missing.*first at row 150\. Read from "
                                                 r"column 'user'"):
        evaluate_tabular(chunks(bad), PI, unit_id="user", **KW)
    as_float = df.assign(user=df["user"].astype(float))  # an int column with nulls, as read from Parquet
    _close(evaluate_tabular(df, PI, unit_id="user", **KW), evaluate_tabular(chunks(as_float), PI, unit_id="user", **KW))
    as_float.loc[150, "user"] = np.nan
    with pytest.raises(wb.ValidationError, match=r"^unit_id: must not be missing.*first at row 150 \(value nan\)\. "
                                                 r"Read from column 'user'"):
        evaluate_tabular(chunks(as_float), PI, unit_id="user", **KW)


def test_string_columns_are_refused_not_parsed():
    with pytest.raises(wb.ValidationError, match="must be numeric; column 'a'"):
        wb.resample.bootstrap_ci([pd.DataFrame({"a": ["0.1", "0.2", "0.3"]})], resampling="poisson")
    df = _frame()
    for col, kw in (("pi_1", {}), ("q_2", {"estimators": ["dr"], "reward_model": Q})):
        with pytest.raises(wb.ValidationError, match=f"must be numeric; column '{col}'"):
            evaluate_tabular(df.assign(**{col: df[col].astype(str)}), PI, **{**KW, **kw})


def test_groups_with_a_one_shot_iterator_in_one_pass():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.random(100), "g": np.arange(100) % 7})
    kw = dict(columns=["a"], groups="g", n_resamples=200, random_state=1)
    ref = bootstrap_loss_matrix([df.iloc[:50], df.iloc[50:]], **kw)
    out = bootstrap_loss_matrix((df.iloc[s:s + 30] for s in range(0, 100, 30)), **kw)
    assert out.n_groups == ref.n_groups == 7
    np.testing.assert_allclose([out.ci_low, out.ci_high], [ref.ci_low, ref.ci_high], rtol=1e-12)


def test_a_non_parquet_file_in_a_directory_is_named(tmp_path):
    _frame().iloc[:100].to_parquet(tmp_path / "a.parquet")
    (tmp_path / "zz.txt").write_text("not a table")
    with pytest.raises(wb.ValidationError, match="zz.txt.*is not a Parquet file"):
        evaluate_tabular(tmp_path, PI, **KW)


def test_text_action_reward_propensity_columns_name_the_first_global_row(tmp_path):
    # A text (or dictionary-encoded text) column used to fail as a bare "object array", with no row;
    # in a directory whose second file holds the reward as text, the row must be global (100, not 0)
    pa, pq = pytest.importorskip("pyarrow"), pytest.importorskip("pyarrow.parquet")
    df = _frame()
    df.iloc[:100].to_parquet(tmp_path / "part-0.parquet")
    second = pa.Table.from_pandas(df.iloc[100:], preserve_index=False)
    i = second.schema.get_field_index("reward")
    text = pa.array([f"{v:.3f}" for v in df["reward"].iloc[100:]]).dictionary_encode()
    pq.write_table(second.set_column(i, "reward", text), tmp_path / "part-1.parquet")
    first = f"{df['reward'].iloc[100]:.3f}"
    # counts cover the chunk where the error was found (30 rows; the default chunk: the whole file's 140)
    for kw, n_bad in (({"chunk_size": 30}, 30), ({"estimators": ["dr"], "reward_model": None}, 140)):  # dr: sampling
        with pytest.raises(wb.ValidationError, match=r"^reward: must be numeric; column 'reward' has dtype category; "
                           rf"{n_bad} rows break the rule, first at row 100 \(value '{first}'\)"):
            evaluate_tabular(tmp_path, PI, **{**KW, **kw})
    for col in ("action", "propensity"):
        bad = df.astype({col: object})
        bad.loc[130, col] = "x"
        with pytest.raises(wb.ValidationError, match=rf"^{col}: must be numeric; column '{col}' has dtype object; "
                           r"1 row breaks the rule, first at row 130 \(value 'x'\)"):
            evaluate_tabular([df.iloc[:100], bad.iloc[100:]], PI, **KW)
        # a first chunk typed object but holding only numbers is refused, and the column read again names
        # the text of the later chunk, counted over the table (it was refused as a whole, with no row)
        with pytest.raises(wb.ValidationError, match=rf"^{col}: must be numeric; column '{col}' has dtype object; "
                           r"1 of 240 rows breaks the rule, first at row 130 \(value 'x'\)"):
            evaluate_tabular([bad.iloc[:100], bad.iloc[100:]], PI, **KW)
    with pytest.raises(wb.ValidationError, match=r"^action: must be numeric; column 'action' has dtype str; "
                       r"240 of 240 rows break the rule, first at row 0 \(value '\d'\)"):
        evaluate_tabular(df.astype({"action": str}), PI, **KW)
    # a fractional action is refused by the reward model's sampling pass, not truncated by astype(int64)
    with pytest.raises(wb.ValidationError, match=r"^action: must be integers.*first at row 7 \(value 1.5\)"):
        evaluate_tabular(df.astype({"action": float}).assign(action=lambda d: d["action"].where(d.index != 7, 1.5)),
                         PI, **{**KW, "estimators": ["dr"], "reward_model": None})


def test_non_numeric_policy_column_names_the_first_row():
    df = _frame()
    bad = df.astype({"pi_1": object})
    bad.loc[50, "pi_1"] = None
    with pytest.raises(wb.ValidationError, match=r"^policy: must be numeric; column 'pi_1' has dtype object; "
                       r"1 row breaks the rule, first at row 50\. "):
        evaluate_tabular([df.iloc[:40], bad.iloc[40:]], PI, **KW)


@pytest.mark.parametrize("bad", [1.5, "2", 0, True])
def test_bad_n_jobs_is_refused_whatever_the_source(tmp_path, bad):
    # a frame source reads sequentially and used to ignore n_jobs; Parquet passed 1.5 on to joblib
    df = _frame()
    df.to_parquet(tmp_path / "log.parquet")
    for data in (df, tmp_path / "log.parquet"):
        with pytest.raises(wb.ValidationError, match="^n_jobs: must be"):
            evaluate_tabular(data, PI, n_jobs=bad, **KW)
        with pytest.raises(wb.ValidationError, match="^n_jobs: must be"):
            bootstrap_loss_matrix(data, columns=["reward"], n_resamples=50, n_jobs=bad)
