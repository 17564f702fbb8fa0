"""Estimate refuses a reversed interval and a negative standard error (stop 31): a hand-built
Estimate(nan, 1, 0, -1) was accepted and shown as given in tables and forest plots."""
from __future__ import annotations

import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.results import Estimate


def test_reversed_interval_and_negative_se_are_refused():
    with pytest.raises(ValidationError, match="ci_low: must be <= ci_high"):
        Estimate(np.nan, 1.0, 0.0, 0.1)
    with pytest.raises(ValidationError, match="se: must be >= 0"):
        Estimate(0.5, 0.4, 0.6, -1.0)


@pytest.mark.parametrize("lo, hi, se", [(np.nan, np.nan, np.nan), (-np.inf, 1.0, np.inf), (0.3, 0.3, 0.0),
                                        (np.nan, 0.2, 0.1), (np.float32(0.1), np.float64(0.2), 0)])
def test_undefined_unbounded_and_point_intervals_stay_allowed(lo, hi, se):
    e = Estimate(0.25, lo, hi, se)
    assert e.ci_low is lo and e.ci_high is hi
