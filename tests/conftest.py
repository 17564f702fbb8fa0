"""Shared fixtures."""
import pytest


@pytest.fixture(scope="module")
def client():
    """A real two-worker Dask cluster (threads, no dashboard), started once per test module."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
    cl = distributed.Client(cluster)
    yield cl
    cl.close()
    cluster.close()


@pytest.fixture(scope="session")
def scipy_rng():
    """``scipy_rng(seed)``: the keyword that seeds ``scipy.stats.bootstrap`` with a numpy Generator,
    ``{"rng": default_rng(seed)}`` (scipy >= 1.15) or ``{"random_state": ...}`` (older scipy)."""
    import inspect

    import numpy as np
    from scipy import stats

    name = "rng" if "rng" in inspect.signature(stats.bootstrap).parameters else "random_state"
    return lambda seed: {name: np.random.default_rng(seed)}
