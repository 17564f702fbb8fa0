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
