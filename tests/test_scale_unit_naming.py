"""Unit (cluster) id errors name the same field streamed as in memory.

Streamed, a bad unit id was refused as "unit ids (column 'user')", a field no in-memory call uses: a
BanditLog and evaluate_policy call it "unit_id", bootstrap_ci and compare_models "groups". Each case
makes the same mistake both ways and asks for the same field, rule, first row and value; the streamed
message also names the column the ids were read from.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.data import BanditLog
from workbench.ope import evaluate_policy
from workbench.resample import bootstrap_ci, compare_models
from workbench.scale import bootstrap_loss_matrix, evaluate_tabular

pytest.importorskip("pyarrow")

K = 3
PI = [f"pi_{j}" for j in range(K)]
KW = dict(estimators=["ips"], n_bootstrap=20, random_state=0, warn=False)
BOOT = dict(n_resamples=20, random_state=0, resampling="poisson")


def _log_frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"action": rng.integers(0, K, n), "reward": rng.random(n), "propensity": 1 / K,
                       "user": rng.integers(0, 6, n)})
    pi = rng.dirichlet(np.ones(K), n)
    for j in range(K):
        df[PI[j]] = pi[:, j]
    return df


def _error(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValidationError) as info:
            call()
    return info.value


def _same(mem, streamed):
    """Field, rule, first row and value as in memory; the column named in the streamed message."""
    assert (streamed.field, streamed.rule, streamed.first, repr(streamed.value)) == \
        (mem.field, mem.rule, mem.first, repr(mem.value)), (str(mem), str(streamed))  # repr: nan != nan
    assert str(streamed).startswith(f"{mem.field}: {mem.rule}"), str(streamed)


def _with(df, col, rows, value, dtype):
    out = df.assign(**{col: df[col].astype(dtype)})
    out.loc[rows, col] = value
    return out


# the same mistake in the unit id column, made in memory (BanditLog) and streamed (chunks, Parquet)
MISTAKES = {
    "missing (None)": lambda df: _with(df, "user", [41, 50], None, object),
    "missing (NaN)": lambda df: _with(df, "user", [41, 50], np.nan, float),
    "fractional": lambda df: _with(df, "user", [41], 2.5, float),
    "mixed integers and strings": lambda df: _with(df, "user", [41], "u7", object),
    "boolean": lambda df: df.assign(user=df["user"] % 2 == 0),
}


# (a Parquet column cannot hold both integers and strings)
CASES = [(k, m) for k in ("chunks", "parquet") for m in MISTAKES if (k, m) != ("parquet", "mixed integers and strings")]


@pytest.mark.parametrize("kind, mistake", CASES)
def test_ope_unit_id_errors_name_the_in_memory_field(tmp_path, mistake, kind):
    df = MISTAKES[mistake](_log_frame())
    if kind == "chunks":
        data = [df.iloc[i:i + 17] for i in range(0, len(df), 17)]
    else:
        data = tmp_path / "log.parquet"
        df.to_parquet(data, row_group_size=17)
        df = pd.read_parquet(data)  # what the stream reads (None in an integer column comes back as NaN)
    mem = _error(lambda: evaluate_policy(BanditLog.from_frame(df, unit_id="user", n_actions=K), df[PI].to_numpy(),
                                         **KW))
    assert mem.field == "unit_id"
    for call in (lambda: evaluate_tabular(data, PI, unit_id="user", chunk_size=17, **KW),
                 lambda: evaluate_policy(data, PI, unit_id="user", chunk_size=17, **KW)):  # the dispatch too
        got = _error(call)
        _same(mem, got)
        assert "column 'user'" in str(got) and "unit ids" not in str(got)


@pytest.mark.parametrize("mistake", ["missing (NaN)", "mixed integers and strings", "boolean"])
@pytest.mark.parametrize("func", [bootstrap_ci, compare_models])
def test_loss_groups_errors_name_the_in_memory_field(mistake, func):
    rng = np.random.default_rng(2)
    L = pd.DataFrame({"a": rng.random(60), "b": rng.random(60), "user": rng.integers(0, 6, 60)})
    L = MISTAKES[mistake](L)
    mem = _error(lambda: func(L, groups="user", **BOOT))  # an in-memory DataFrame stays in memory
    assert mem.field == "groups"
    chunks = [L.iloc[i:i + 17] for i in range(0, len(L), 17)]
    for call in (lambda: func(chunks, groups="user", **BOOT),
                 lambda: bootstrap_loss_matrix(chunks, groups="user", n_resamples=20, random_state=0)):
        got = _error(call)
        _same(mem, got)
        assert "column 'user'" in str(got)


@pytest.mark.parametrize("func", [bootstrap_ci, compare_models])
def test_missing_groups_column_names_groups(tmp_path, func):
    # in memory: "groups: names no column of the DataFrame"; streamed the source's own check said
    # "columns: unknown column name(s) ['usr']"
    rng = np.random.default_rng(3)
    L = pd.DataFrame({"a": rng.random(30), "b": rng.random(30), "user": rng.integers(0, 4, 30)})
    mem = _error(lambda: func(L, groups="usr", **BOOT))
    L.to_parquet(tmp_path / "losses.parquet")
    for data in ([L.iloc[:15], L.iloc[15:]], str(tmp_path / "losses.parquet")):
        got = _error(lambda: func(data, groups="usr", **BOOT))
        assert got.field == mem.field == "groups"
        assert "'usr' not in ['a', 'b', 'user']" in got.rule and "'usr' not in" in mem.rule


def test_dask_unit_id_error_names_the_in_memory_field():
    dd = pytest.importorskip("dask.dataframe")
    df = MISTAKES["missing (NaN)"](_log_frame())
    mem = _error(lambda: BanditLog.from_frame(df, unit_id="user", n_actions=K))
    got = _error(lambda: evaluate_tabular(dd.from_pandas(df, npartitions=4), PI, unit_id="user", **KW))
    _same(mem, got)
    assert got.first == 41 and "column 'user'" in str(got)
