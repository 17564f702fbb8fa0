"""BLAS thread count after concurrent calls (stop 31). bootstrap_ci runs its kernel with one BLAS thread; each
call saved and restored the count on its own, so two threads calling it at once left OpenBLAS on one thread for
the rest of the process (the second saved the first's limit of 1 as its "original"). It failed every time."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from workbench._engine import one_blas_thread
from workbench.resample import bootstrap_ci


def _blas_threads():
    return sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})


def test_concurrent_calls_from_threads_restore_the_blas_thread_count():
    before = _blas_threads()
    if not before or max(before) < 2:
        pytest.skip("BLAS runs on one thread here: a lost count cannot be seen")
    x = np.random.default_rng(0).normal(size=5_000)
    for _ in range(3):
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda s: bootstrap_ci(x, n_resamples=200, random_state=s).ci_low, range(8)))
        assert _blas_threads() == before


def test_one_blas_thread_nests_and_restores():
    before = _blas_threads()
    with one_blas_thread():
        assert _blas_threads() in ([], [1])
        with one_blas_thread():
            assert _blas_threads() in ([], [1])
        assert _blas_threads() in ([], [1])  # the inner exit keeps the outer's limit
    assert _blas_threads() == before


def test_a_failure_while_entering_restores_the_count(monkeypatch):
    import workbench._engine as E

    before = _blas_threads()
    if not before or max(before) < 2:
        pytest.skip("BLAS runs on one thread here: a lost count cannot be seen")

    def boom():
        raise KeyboardInterrupt

    monkeypatch.setattr(E, "_release_openblas_control", boom)
    with pytest.raises(KeyboardInterrupt):
        with one_blas_thread():
            pass
    monkeypatch.undo()
    assert _blas_threads() == before and E._BLAS_USERS == 0
    with one_blas_thread():
        pass
    assert _blas_threads() == before
