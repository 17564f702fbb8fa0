"""Randomness: ``random_state`` handling, seed spawning and hashed Poisson bootstrap weights.

Every random function in the workbench takes ``random_state`` (an int, a
``numpy.random.Generator``, a ``numpy.random.SeedSequence`` or None) and never touches the
global numpy state. Work dispatched to joblib is seeded from ``SeedSequence(seed).spawn(k)``
*before* dispatch, so results do not depend on the backend or the number of workers.

Hashed Poisson weights (Chamandy et al. 2012, "Estimating uncertainty for massive data
streams"): the weight of unit ``u`` in replicate ``b`` is a Poisson(1) draw computed from a hash
of ``(seed, u, b)``. The same unit gets the same weight whichever chunk, partition or row order it
arrives in, so partial sums computed anywhere merge by addition. Weights from the same unit id
are identical, which makes the bootstrap clustered for free when ids are user or session ids.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._validation import ValidationError

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_LANE_STEP = np.uint64(0xD1B54A32D192ED03)


def check_random_state(random_state) -> np.random.Generator:
    """Turn ``random_state`` into a ``numpy.random.Generator`` (None: fresh OS entropy)."""
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValidationError("random_state", f"must be a non-negative integer, got {random_state}")
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        raise ValidationError("random_state", "legacy RandomState is not accepted; pass an int or "
                              "numpy.random.default_rng(seed)")
    raise ValidationError("random_state", f"must be an int, a numpy Generator, a SeedSequence or None, "
                          f"got {type(random_state).__name__}")


def seed_key(random_state) -> int:
    """A 64-bit integer key derived from ``random_state`` (used to seed hashed weights).

    An int maps to itself (so the key is stable and documented); a Generator contributes one draw;
    None draws fresh entropy.
    """
    if isinstance(random_state, numbers.Integral):
        if random_state < 0:
            raise ValidationError("random_state", f"must be a non-negative integer, got {random_state}")
        return int(random_state) & 0xFFFFFFFFFFFFFFFF
    rng = check_random_state(random_state)
    return int(rng.integers(0, 2**63, dtype=np.int64))


def spawn_seeds(random_state, k: int) -> list[np.random.SeedSequence]:
    """``k`` independent child seeds, fixed before any work is dispatched."""
    if isinstance(random_state, np.random.SeedSequence):
        return random_state.spawn(k)
    if isinstance(random_state, numbers.Integral):
        return np.random.SeedSequence(int(random_state)).spawn(k)
    rng = check_random_state(random_state)
    return np.random.SeedSequence(int(rng.integers(0, 2**63))).spawn(k)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser, vectorised over a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
        return z ^ (z >> np.uint64(31))


def _poisson1_table() -> np.ndarray:
    # Inverse CDF of Poisson(1) at the midpoints of 2**16 equal cells: a 16-bit uniform maps to
    # a count. The masses are quantised to 1/65536 (P(k >= 9) ~ 1e-6 is folded into k = 8);
    # the variance of the weights is 1 to within 2e-5.
    # Computed with numpy alone: importing scipy.stats here would add ~0.7 s to `import workbench`.
    # (tests/test_engine.py checks the table equals scipy.stats.poisson.ppf exactly.)
    u = (np.arange(65536) + 0.5) / 65536
    k = np.arange(20)
    cdf = np.cumsum(np.exp(-1.0) / np.cumprod(np.maximum(k, 1)))
    return np.searchsorted(cdf, u, side="left").astype(np.uint8)


POISSON1_TABLE = _poisson1_table()
# The same map as thresholds: weight = #{k : u >= THRESHOLDS[k]}. Eight vectorised comparisons are
# about 1.6x faster than a gather through the 65,536-entry table (measured), with identical weights.
_KMAX = int(POISSON1_TABLE.max())
POISSON1_THRESHOLDS = np.cumsum(np.bincount(POISSON1_TABLE, minlength=_KMAX + 1))[:_KMAX].astype(np.uint16)


def unit_keys(ids, seed: int) -> np.ndarray:
    """Hash unit ids (integers, or strings / objects hashed by value) with the seed to uint64 keys."""
    ids = np.asarray(ids)
    if ids.dtype.kind in "iu":
        raw = ids.astype(np.int64).view(np.uint64) if ids.dtype.kind == "i" else ids.astype(np.uint64)
    elif ids.dtype.kind in "USO":
        # Stable across processes (unlike Python's hash): pandas' siphash of the string values.
        import pandas as pd

        raw = pd.util.hash_array(ids.astype(str).astype(object), categorize=True).astype(np.uint64)
    else:
        raise ValidationError("ids", f"must be integers or strings, got dtype {ids.dtype}")
    return splitmix64(raw ^ splitmix64(np.uint64(seed) + np.zeros(1, np.uint64))[0])


def hashed_poisson_weights(keys: np.ndarray, b0: int, b1: int) -> np.ndarray:
    """Poisson(1) weights, shape (len(keys), b1 - b0), for replicates b0..b1-1.

    One 64-bit hash gives four 16-bit lanes, so one hash serves four replicates.
    """
    j0, j1 = b0 // 4, (b1 + 3) // 4
    lanes = np.arange(j0, j1, dtype=np.uint64) + np.uint64(1)
    with np.errstate(over="ignore"):
        h = splitmix64(keys[:, None] + lanes[None, :] * _LANE_STEP)
    u16 = h.astype("<u8", copy=False).view("<u2")  # (n, 4 * (j1 - j0)), platform independent
    off = b0 - 4 * j0
    u = u16[:, off:off + (b1 - b0)]
    w = np.greater_equal(u, POISSON1_THRESHOLDS[0]).view(np.uint8)
    for t in POISSON1_THRESHOLDS[1:]:  # eight thresholds, each comparison vectorised over the block
        w += np.greater_equal(u, t).view(np.uint8)
    return w
