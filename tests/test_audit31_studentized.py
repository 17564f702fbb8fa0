"""Studentized bootstrap standard errors, streamed and in memory (stop 31). Each test failed before its fix.

- The streamed path kept a rounding residue (~1e-10 instead of 0) in the standard error of a replicate whose
  weighted rows all hold one value that is not its chunk's median, so t* was huge but finite where memory has
  +-inf. It now tracks single-valued replicates exactly (chunk-local ranks, merged by value).
- In memory the second moments were centred by the sample mean: a replicate leaving out one far outlier sat
  ~1e8 standard errors from that centre, and E[x^2] - E[x]^2 lost every digit (the se came out 0, the
  interval infinite, with a warning about zero standard errors that no replicate had). Centred by the median.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import _intervals
from workbench._random import hashed_poisson_weights, seed_key, unit_keys
from workbench.resample import bootstrap_ci
from workbench.scale import bootstrap_loss_matrix
from workbench.scale.losses import stream_core

B = 400


def _weights(n, seed):
    return hashed_poisson_weights(unit_keys(np.arange(n), seed_key(seed)), 0, B).astype(np.float64)  # (n, B)


def _exact_reps_se(x, W):
    """Replicate plug-in standard errors, two-pass per replicate (centred by the replicate's own mean)."""
    w = W.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (W * x[:, None]).sum(axis=0) / w
        var = (W * (x[:, None] - mean) ** 2).sum(axis=0) / w
        return np.sqrt(var / w), mean


def _chunks(x, size):
    return [pd.DataFrame({"a": x[i:i + size]}) for i in range(0, len(x), size)]


@pytest.mark.parametrize("trial", range(12))
def test_streamed_single_valued_replicates_get_a_zero_standard_error_for_any_chunking(trial):
    rng = np.random.default_rng(trial)
    n = int(rng.integers(4, 10))
    x = rng.choice(rng.choice([0.1, 0.3, 0.7, 1 / 3, 2 / 3], 3, replace=False), n)
    W = _weights(n, trial)
    one = np.array([np.unique(x[W[:, b] > 0]).size == 1 for b in range(B)])
    for size in (n, 4, 2, 1):
        core, _ = stream_core(_chunks(x, size), ["a"], n_resamples=B, random_state=trial, method="studentized")
        se = core.reps_se[:, 0]
        np.testing.assert_array_equal(se == 0, one)            # exactly the single-valued ones
        many = ~one & (W.sum(axis=0) > 0)
        exact, _ = _exact_reps_se(x, W)
        np.testing.assert_allclose(se[many], exact[many], rtol=1e-9)
        assert (core.se_hat[0] == 0) == (np.unique(x).size == 1)


def test_streamed_and_in_memory_studentized_agree_on_a_discrete_sample():
    x = np.array([0.7, 0.1, 0.1, 0.1, 0.1, 0.7])  # was: memory unbounded, the stream 1.3e16-wide
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mem = bootstrap_ci(x, method="studentized", resampling="poisson", n_resamples=B, random_state=39)
        for size in (6, 4, 2, 1):
            s = bootstrap_loss_matrix(_chunks(x, size), ["a"], method="studentized", n_resamples=B, random_state=39)
            lo, hi = s.confidence_interval
            for a, b in ((mem.confidence_interval[0], lo[0]), (mem.confidence_interval[1], hi[0])):
                assert np.isinf(a) == np.isinf(b)
                if np.isfinite(a):
                    assert b == pytest.approx(a, rel=1e-9, abs=1e-12)


def test_constant_column_streamed_has_zero_sample_standard_error():
    x = np.full(9, 1 / 3)
    core, _ = stream_core(_chunks(x, 4), ["a"], n_resamples=B, random_state=0, method="studentized")
    assert core.se_hat[0] == 0.0
    assert np.all((core.reps_se[:, 0] == 0) | np.isnan(core.reps_se[:, 0]))


@pytest.mark.parametrize("big", [1e8, 1e10, 1e12])
def test_in_memory_studentized_with_one_far_outlier_matches_exact_replicate_standard_errors(big):
    rng = np.random.default_rng(0)
    x = np.r_[rng.normal(size=49), big]
    W = _weights(x.size, 1)
    se_b, reps = _exact_reps_se(x, W)
    theta, se = x.mean(), x.std() / np.sqrt(x.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no (false) zero-standard-error warning
        r = bootstrap_ci(x, method="studentized", resampling="poisson", n_resamples=B, random_state=1)
        s = bootstrap_loss_matrix(_chunks(x, 10), ["a"], method="studentized", n_resamples=B, random_state=1)
    lo, hi = _intervals.studentized_interval(theta, se, reps, se_b, 0.05)
    assert np.isfinite(r.confidence_interval).all()
    assert r.confidence_interval[0] == pytest.approx(lo, rel=1e-6)
    assert r.confidence_interval[1] == pytest.approx(hi, rel=1e-6)
    assert s.confidence_interval[1][0] == pytest.approx(hi, rel=1e-6)


def test_near_constant_large_chunks_keep_the_exact_test_and_others_skip_it():
    # rank sums are kept only for a chunk's column with fewer than 64 rows off its most common value: a 150-row
    # chunk of 0.3 with three 0.7s keeps them (about e^-3 of the replicates rest on 0.3 alone), a chunk of 200
    # distinct values skips them (a replicate resting on one value there has probability ~e^-199)
    x = np.r_[np.full(150, 0.3), np.full(3, 0.7)]
    W = _weights(x.size, 5)
    one = np.array([np.unique(x[W[:, b] > 0]).size == 1 for b in range(B)])
    assert 5 <= one.sum() <= 60
    for size in (x.size, 40):
        core, _ = stream_core(_chunks(x, size), ["a"], n_resamples=B, random_state=5, method="studentized")
        np.testing.assert_array_equal(core.reps_se[:, 0] == 0, one)
    z = np.random.default_rng(0).normal(size=200)
    core, _ = stream_core(_chunks(z, 200), ["a"], n_resamples=B, random_state=5, method="studentized")
    exact, _ = _exact_reps_se(z, _weights(z.size, 5))
    np.testing.assert_allclose(core.reps_se[:, 0], exact, rtol=1e-9)
