"""bandwidth_sweep with the truth of another simulated log (same length): refused, not compared silently."""
import warnings

import pytest

from workbench._validation import ValidationError
from workbench.data import simulate_pricing
from workbench.ope import bandwidth_sweep


def test_a_truth_from_another_log_is_refused():
    log, truth = simulate_pricing(300, random_state=0)
    _, other = simulate_pricing(300, random_state=1)
    with pytest.raises(ValidationError, match="truth: must describe this log"):
        bandwidth_sweep(log, truth.optimal_action(), [1.0], truth=other, n_bootstrap=20)


def test_the_log_own_truth_is_accepted():
    log, truth = simulate_pricing(300, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = bandwidth_sweep(log, truth.optimal_action(), [1.0], truth=truth, n_bootstrap=20)
    assert len(out) == 2 and out["true_value"].notna().all()
