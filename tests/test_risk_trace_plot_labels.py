"""risk_trace_plot tells traces of one method apart in its legend (two lure traces, with and without a
surrogate, were both "lure"), and takes a dict {label: trace}."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from workbench.active import estimate_risk  # noqa: E402
from workbench.plotting import risk_trace_plot  # noqa: E402


def _traces():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=300)
    labels = rng.integers(0, 3, 300)
    zoo_avg = rng.dirichlet(np.ones(3), size=300)
    return [estimate_risk(probs, labels, 20, method="lure", random_state=0),
            estimate_risk(probs, labels, 20, method="lure", surrogate=zoo_avg, random_state=0),
            estimate_risk(probs, labels, 20, method="lure", surrogate=zoo_avg, random_state=1),
            estimate_risk(probs, labels, 20, method="iid", random_state=0)]


def test_legend_tells_traces_apart(close_figures):
    ax = risk_trace_plot(_traces())
    assert ax.get_legend_handles_labels()[1] == ["lure (self)", "lure (array) #1", "lure (array) #2", "iid"]


def test_dict_keys_are_the_labels(close_figures):
    t = _traces()
    ax = risk_trace_plot({"self-surrogate": t[0], "zoo average": t[1]}, truth=0.6)
    assert ax.get_legend_handles_labels()[1] == ["self-surrogate", "zoo average", "true risk"]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), t[1].estimates)
