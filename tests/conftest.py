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


@pytest.fixture(scope="session")
def paired_exact_coverage():
    """``paired_exact_coverage(n, p, interval)``: the exact coverage of a paired-difference interval
    ``interval(b, c, n) -> (low, high)`` when n rows are (both right, A only, B only, both wrong) with
    probabilities p: the multinomial mass of the (b, c) tables whose interval covers p12 - p21."""
    import numpy as np
    from scipy import stats

    def coverage(n, p, interval):
        p11, p12, p21, p22 = p
        delta = p12 - p21
        b, c = np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij")
        ok = b + c <= n
        b, c = b[ok], c[ok]
        prob = stats.multinomial.pmf(np.column_stack([b, c, n - b - c]), n, [p12, p21, p11 + p22])
        keep = prob > 1e-13  # the rest has total mass < 1e-9
        hits = np.array([lo <= delta <= hi for lo, hi in (interval(int(bb), int(cc), n)
                                                         for bb, cc in zip(b[keep], c[keep]))])
        return float(np.sum(prob[keep] * hits))

    return coverage


@pytest.fixture
def tiny_notebook():
    """``tiny_notebook(folder, name, source)``: write ``folder/name.ipynb`` (folder created) holding a title
    cell and one code cell, and return its path (for the report runner's tests)."""
    import nbformat

    def make(folder, name, source):
        folder.mkdir(parents=True, exist_ok=True)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), nbformat.v4.new_code_cell(source)]
        path = folder / f"{name}.ipynb"
        nbformat.write(nb, path)
        return path

    return make


@pytest.fixture
def close_figures():
    """Close every matplotlib figure before and after a plotting test, so figures neither leak between
    tests nor pile up (use with ``pytestmark = pytest.mark.usefixtures("close_figures")``)."""
    import matplotlib.pyplot as plt

    plt.close("all")
    yield
    plt.close("all")
