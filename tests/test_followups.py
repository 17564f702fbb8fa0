"""Regression tests for small follow-ups found by audits (one block per item)."""
from __future__ import annotations

import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.resample import bootstrap_intervals


# 1. bootstrap_intervals(methods=["bca", "bca"]) returned the bca rows twice.
def test_bootstrap_intervals_refuses_repeated_methods():
    x = np.random.default_rng(0).normal(size=40)
    with pytest.raises(ValidationError, match=r"methods: names must be unique.*repeated: \['bca'\]") as err:
        bootstrap_intervals(x, methods=["bca", "percentile", "bca"], n_resamples=99, random_state=0)
    assert err.value.field == "methods"
    # distinct methods still give one row each
    out = bootstrap_intervals(x, methods=["bca", "percentile"], n_resamples=99, random_state=0)
    assert out["method"].tolist() == ["bca", "percentile"]
