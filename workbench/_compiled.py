"""Compiled kernel (numba) for the hottest loop of the resampling spine, with a numpy fallback.

Hashed Poisson weights cost nine whole-array passes for the hash and fifteen for the eight
threshold comparisons when written in numpy; the same computation compiled row by row keeps a
row's 4 x ceil(B / 4) lanes in registers and writes float64 weights once. Measured on this
project's 2-core machine (1e8 weights, one core): numpy 0.135 s, compiled 0.064 s. That is why
this one function is written by hand: no maintained library offers counter-based Poisson draws.

The compiled kernel and :class:`workbench._random.PoissonWeightBlock` produce identical weights
(integer arithmetic; tested), so results never depend on whether numba is installed. numba is
imported lazily on first use (importing it costs ~0.3 s) and the compiled code is cached on disk.
Set ``WORKBENCH_NO_NUMBA=1`` to force the numpy path.
"""
from __future__ import annotations

import os

import numpy as np

from ._random import _M1, _M2, POISSON1_THRESHOLDS, PoissonWeightBlock, hashed_poisson_weights, lane_offsets


def _poisson_weights_into(keys, lanes, thresholds, W):  # pragma: no cover - runs compiled
    """Write float64 Poisson(1) weights for ``keys`` into ``W[:len(keys), :4 * len(lanes)]``.

    ``lanes`` holds ``(lane + 1) * LANE_STEP + GOLDEN`` per 64-bit hash, so the first SplitMix64
    step is a single addition; each hash gives four 16-bit uniforms, mapped to counts by the
    thresholds of the Poisson(1) inverse CDF.
    """
    m = keys.shape[0]
    J = lanes.shape[0]
    z = np.empty(J, np.uint64)
    cnt = np.empty(4 * J, np.uint8)
    m1 = _M1  # SplitMix64's multipliers, shared with the numpy path
    m2 = _M2
    s30 = np.uint64(30)
    s27 = np.uint64(27)
    s31 = np.uint64(31)
    for i in range(m):
        key = keys[i]
        for j in range(J):
            x = key + lanes[j]
            x = (x ^ (x >> s30)) * m1
            x = (x ^ (x >> s27)) * m2
            z[j] = x ^ (x >> s31)
        # little-endian lanes, as the numpy path's "<u2" view (numba runs on little-endian hosts)
        u = z.view(np.uint16)
        for b in range(4 * J):
            cnt[b] = 0
        for t in range(thresholds.shape[0]):
            th = thresholds[t]
            for b in range(4 * J):
                cnt[b] += u[b] >= th
        for b in range(4 * J):
            W[i, b] = cnt[b]


_KERNEL = None


def poisson_weights_kernel():
    """The compiled weight kernel, or None when numba is unavailable or disabled."""
    global _KERNEL
    if _KERNEL is None:
        _KERNEL = False
        if os.environ.get("WORKBENCH_NO_NUMBA", "") in ("", "0") and np.little_endian:
            try:
                from numba import njit
            except ImportError:  # numba is a dependency, but the numpy path gives the same numbers
                pass
            else:
                _KERNEL = _compile(njit)
    return _KERNEL or None


def _compile(njit):
    """Compile (or load from the disk cache) and smoke-test the kernel; False if anything fails.

    The on-disk cache needs a writable location (next to the package or numba's user cache);
    without one, compile in memory. Any failure leaves the numpy path, which gives the same weights.
    """
    keys = np.arange(64, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    for cache in (True, False):
        try:
            # nogil: the engine's worker threads run the kernel in parallel
            kernel = njit(nogil=True, cache=cache)(_poisson_weights_into)
            W = np.empty((64, 8))
            kernel(keys, lane_offsets(0, 8), POISSON1_THRESHOLDS, W)
        except Exception:  # noqa: BLE001 - a broken numba install must not break the engine
            continue
        # the same weights as the numpy path, or not used at all
        return kernel if np.array_equal(W, hashed_poisson_weights(keys, 0, 8)) else False
    return False


def poisson_weight_filler(max_rows: int, B: int):
    """``(fill, width)``: ``fill(keys, W)`` writes the float Poisson(1) weights of replicates 0..B-1
    for ``keys`` into ``W[:len(keys), :B]``; ``W`` must have ``width`` >= B columns (the compiled
    kernel fills whole 4-lane hashes). Compiled when numba works, numpy otherwise: same weights."""
    kernel = poisson_weights_kernel()
    if kernel is not None:
        lanes = lane_offsets(0, B)
        return (lambda keys, W: kernel(keys, lanes, POISSON1_THRESHOLDS, W)), 4 * lanes.shape[0]
    block = PoissonWeightBlock(max_rows, 0, B)
    return (lambda keys, W: np.copyto(W[:keys.shape[0], :B], block(keys))), B
