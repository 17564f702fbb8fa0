"""Parallel work goes through joblib: the same results on loky, threading and a Dask cluster.

Tasks are seeded from ``SeedSequence(seed).spawn(k)`` before dispatch (or need no seed at all: the
hashed bootstrap weights are keyed by row id), so neither the backend nor the number of workers
can change a result. A real ``distributed.LocalCluster`` is used; no mocks.
"""
import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config

import workbench as wb
from workbench.scale import evaluate_tabular

distributed = pytest.importorskip("distributed")


def _simulate(seed):
    return wb.data.simulate_bandit(400, n_actions=3, random_state=seed)


def test_benchmark_estimators_is_backend_free(client):
    kw = dict(estimators=["ips", "snips"], n_replicates=6, n_bootstrap=50, random_state=3)
    serial = wb.ope.benchmark_estimators(_simulate, wb.ope.UniformPolicy(), n_jobs=1, **kw).replicates
    for backend in ("loky", "threading", "dask"):
        with parallel_config(backend=backend):
            par = wb.ope.benchmark_estimators(_simulate, wb.ope.UniformPolicy(), n_jobs=2, **kw).replicates
        pd.testing.assert_frame_equal(serial, par, check_exact=True, obj=backend)


def test_parquet_row_groups_in_parallel_are_backend_free(tmp_path, client):
    rng = np.random.default_rng(0)
    n, k = 6000, 3
    df = pd.DataFrame({"action": rng.integers(0, k, n), "reward": rng.random(n), "propensity": 1 / k})
    pe = rng.dirichlet(np.ones(k), n)
    for j in range(k):
        df[f"pi_{j}"] = pe[:, j]
    df.to_parquet(tmp_path / "log.parquet", row_group_size=700)
    cols = [f"pi_{j}" for j in range(k)]
    kw = dict(estimators=["ips", "snips"], n_bootstrap=200, random_state=1, warn=False, chunk_size=400)
    serial = evaluate_tabular(tmp_path / "log.parquet", cols, **kw)
    for backend in ("threading", "dask"):
        with parallel_config(backend=backend):
            par = evaluate_tabular(tmp_path / "log.parquet", cols, n_jobs=2, **kw)
        pd.testing.assert_frame_equal(serial, par, rtol=1e-12, obj=backend)
