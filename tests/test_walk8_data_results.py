"""Four findings of a walk through the data layer and the shared result objects (2026-12-01)."""
import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from workbench import ValidationError  # noqa: E402
from workbench.data import simulate_bandit, simulate_pricing  # noqa: E402
from workbench.plotting import weight_histogram  # noqa: E402
from workbench.results import Estimate  # noqa: E402


def test_diagnostics_given_as_pairs_cannot_overwrite_the_estimate_s_own_columns():
    # the clash check ran on set() of the pairs (tuples), so a ("value", 99.0) pair replaced the value in to_frame
    with pytest.raises(ValidationError, match=r"diagnostics: keys \['value'\] clash"):
        Estimate(0.5, 0.4, 0.6, 0.1, name="ips", diagnostics=[("value", 99.0)])
    e = Estimate(0.5, 0.4, 0.6, 0.1, name="ips", diagnostics=[("ess", 12.0)])
    assert e.diagnostics == {"ess": 12.0} and e.to_frame()["value"].item() == 0.5


def test_an_estimate_is_hashable_and_compares_by_its_numbers():
    # hash() was a TypeError (the diagnostics dict), == with array diagnostics numpy's ambiguity error
    a = Estimate(0.5, 0.4, 0.6, 0.1, diagnostics={"w": np.arange(3)})
    b = Estimate(0.5, 0.4, 0.6, 0.1, diagnostics={"w": np.arange(3)})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Estimate(0.5, 0.4, 0.7, 0.1)


@pytest.mark.parametrize("make", [lambda: simulate_bandit(10, n_actions=3, random_state=0),
                                  lambda: simulate_pricing(10, random_state=0)], ids=["bandit", "pricing"])
def test_truth_subset_refuses_a_2d_index_by_name(make):
    # it built a truth with 3-D arrays, refused later as "policy" or "context"
    log, truth = make()
    with pytest.raises(ValidationError, match=r"index: must be 1-D row numbers, got shape \(2, 2\)"):
        truth.subset(np.array([[1, 2], [3, 4]]))
    with pytest.raises(ValidationError, match=r"index: must be 1-D"):
        log.subset(np.array([[1, 2], [3, 4]]))
    assert len(truth.subset(np.array([1, 2])).context) == 2


def test_weight_histogram_checks_bins_and_weights_by_name():
    with pytest.raises(ValidationError, match=r"bins: must be an integer, got 2.5"):
        weight_histogram(np.ones(10), bins=2.5)
    with pytest.raises(ValidationError, match=r"bins: must be an integer >= 1, got 0"):
        weight_histogram(np.ones(10), bins=0)
    with pytest.raises(ValidationError, match=r"weights: must be numeric \(text"):
        weight_histogram(["a", "b"])
    for bins in ("auto", [0.0, 1.0, 2.0], 5):  # matplotlib's other forms still pass through
        weight_histogram(np.ones(10), bins=bins)
    import matplotlib.pyplot as plt

    plt.close("all")
