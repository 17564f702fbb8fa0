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
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)


def check_random_state(random_state) -> np.random.Generator:
    """Turn ``random_state`` into a ``numpy.random.Generator`` (None: fresh OS entropy)."""
    if isinstance(random_state, (bool, np.bool_)):  # True is an Integral, but never meant as seed 1
        raise ValidationError("random_state", f"must be an int, a numpy Generator, a SeedSequence or None, "
                                              f"got the boolean {random_state}")
    if random_state is None or isinstance(random_state, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(random_state, numbers.Integral) and random_state < 0:
            raise ValidationError("random_state", f"must be a non-negative integer, got {random_state}")
        # a copy: the Generator keeps its SeedSequence, and spawning from it (joblib workers,
        # sub-seeds) would advance the caller's, so the same SeedSequence would not give the same
        # result twice
        return np.random.default_rng(copy_seed_sequence(random_state))
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        raise ValidationError("random_state", "legacy RandomState is not accepted; pass an int or "
                              "numpy.random.default_rng(seed)")
    raise ValidationError("random_state", f"must be an int, a numpy Generator, a SeedSequence or None, "
                          f"got {type(random_state).__name__}")


def seed_key(random_state) -> int:
    """A 64-bit integer key derived from ``random_state`` (used to seed hashed weights).

    An int below 2**64 maps to itself (so the key is stable and documented); a larger one is hashed into the
    64-bit range by numpy's SeedSequence (as check_random_state accepts any non-negative int: refusing it here
    made the same seed valid in one function and not in another, and even with one estimator and not with
    another); a Generator contributes one draw; None draws fresh entropy.
    """
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)):
        if random_state < 0:
            raise ValidationError("random_state", f"must be a non-negative integer, got {random_state}")
        if random_state >= 2**64:  # not wrapped (2**64 + 5 would be seed 5's key): hashed
            return int(np.random.SeedSequence(int(random_state)).generate_state(1, np.uint64)[0])
        return int(random_state)
    rng = check_random_state(random_state)
    return int(rng.integers(0, 2**63, dtype=np.int64))


def copy_seed_sequence(random_state):
    """A fresh copy of a SeedSequence (same entropy, spawn key and children spawned so far); anything
    else as is. Spawning advances a SeedSequence in place: working on a copy keeps the caller's
    object as it was, so the same SeedSequence passed twice gives the same result."""
    if isinstance(random_state, np.random.SeedSequence):
        ss = random_state
        return np.random.SeedSequence(ss.entropy, spawn_key=ss.spawn_key, pool_size=ss.pool_size,
                                      n_children_spawned=ss.n_children_spawned)
    return random_state


# Tags the seed given to a user's unseeded model ("MODL"), apart from the call's other streams of the same seed
_MODEL_SEED_TAG = 0x4D4F444C


def seed_unseeded(estimator, random_state):
    """``estimator``, or a clone whose ``random_state`` parameters left at None (at any depth: a pipeline's
    steps, a search's estimator, an ensemble's members) are set to ints derived from ``random_state``.

    An unseeded randomised model (a random forest, an MLP) made the same ``random_state`` give different
    answers, and drew from numpy's global state. The seeds are derived without drawing from
    ``random_state`` (a Generator's state is read from a copy, a SeedSequence is copied), so the call's
    splits and resamples are as before, and a model the user seeded is used as given. Each parameter
    gets its own seed, from its name (two identical random members of a voting ensemble would otherwise
    become copies of one another); the seed depends on ``random_state`` and that name only, so the same
    model gets the same seed in every function (the estimator route of a two-algorithm test and its
    ``repeated_cv`` route agree; an algorithm compared with itself fits the same models, as when the
    user seeds it). ``random_state=None`` gives fresh seeds, as everywhere."""
    if not hasattr(estimator, "get_params") or not hasattr(estimator, "set_params"):
        return estimator
    try:
        params = estimator.get_params(deep=True)
    except Exception:  # noqa: BLE001 - an object that only looks like an estimator: left as it is
        return estimator
    unseeded = [k for k, v in params.items() if (k == "random_state" or k.endswith("__random_state")) and v is None]
    if not unseeded:
        return estimator
    if isinstance(random_state, np.random.Generator):
        bg = random_state.bit_generator
        copy = type(bg)()
        copy.state = bg.state
        key = int(np.random.Generator(copy).integers(0, 2**63))
    elif isinstance(random_state, np.random.SeedSequence):
        key = int(copy_seed_sequence(random_state).generate_state(2, np.uint64)[0])
    else:
        key = seed_key(random_state)  # an int as is (checked), None fresh entropy
    import zlib

    def seed_of(name):
        words = [key & 0xFFFFFFFF, key >> 32, _MODEL_SEED_TAG, zlib.crc32(name.encode())]
        return int(np.random.SeedSequence(words).generate_state(1, np.uint32)[0] % (2**31 - 1))

    from sklearn.base import clone

    return clone(estimator).set_params(**{k: seed_of(k) for k in unseeded})


def spawn_seeds(random_state, k: int) -> list[np.random.SeedSequence]:
    """``k`` independent child seeds, fixed before any work is dispatched (a SeedSequence passed in
    is not advanced: the children come from a copy)."""
    if isinstance(random_state, np.random.SeedSequence):
        return copy_seed_sequence(random_state).spawn(k)
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, (bool, np.bool_)):
        check_random_state(random_state)  # the package's rule and message (-1 was numpy's bare ValueError)
        return np.random.SeedSequence(int(random_state)).spawn(k)
    rng = check_random_state(random_state)  # True is refused here, as everywhere (it was seed 1)
    return np.random.SeedSequence(int(rng.integers(0, 2**63))).spawn(k)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """The SplitMix64 finaliser, vectorised over a uint64 array (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = x + _GOLDEN
        z = (z ^ (z >> _S30)) * _M1
        z = (z ^ (z >> _S27)) * _M2
        return z ^ (z >> _S31)


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


class PoissonWeightBlock:
    """Reusable buffers that turn a block of unit keys into Poisson(1) weights, in place.

    numpy's expression form of SplitMix64 allocates a temporary per operation; writing every
    step into two preallocated cache-sized buffers (``out=``) made the hash 3x faster
    (measured: 1e8 weights, 0.175 s -> 0.057 s on one core). The weights are identical to
    :func:`hashed_poisson_weights` (tested).
    """

    def __init__(self, max_rows: int, b0: int, b1: int):
        self.j0, j1 = b0 // 4, (b1 + 3) // 4
        self.off, self.width = b0 - 4 * self.j0, b1 - b0
        self.lanes = lane_offsets(b0, b1)
        shape = (int(max_rows), j1 - self.j0)
        self.z = np.empty(shape, np.uint64)
        self.t = np.empty(shape, np.uint64)
        self.ge = np.empty((shape[0], 4 * shape[1]), bool)
        self.w = np.empty((shape[0], 4 * shape[1]), np.uint8)

    def __call__(self, keys: np.ndarray) -> np.ndarray:
        """uint8 weights (len(keys), b1 - b0), a view into the block's buffer (valid until the next call)."""
        m = keys.shape[0]
        z, t = self.z[:m], self.t[:m]
        with np.errstate(over="ignore"):
            np.add(keys[:, None], self.lanes[None, :], out=z)
            np.right_shift(z, _S30, out=t)
            np.bitwise_xor(z, t, out=z)
            np.multiply(z, _M1, out=z)
            np.right_shift(z, _S27, out=t)
            np.bitwise_xor(z, t, out=z)
            np.multiply(z, _M2, out=z)
            np.right_shift(z, _S31, out=t)
            np.bitwise_xor(z, t, out=z)
        u = z.astype("<u8", copy=False).view("<u2")  # (m, 4 * lanes), platform independent
        ge, w = self.ge[:m], self.w[:m]
        np.greater_equal(u, POISSON1_THRESHOLDS[0], out=w.view(bool))
        for th in POISSON1_THRESHOLDS[1:]:  # eight thresholds, each comparison vectorised over the block
            np.greater_equal(u, th, out=ge)
            w += ge.view(np.uint8)
        return w[:, self.off:self.off + self.width]


def lane_offsets(b0: int, b1: int) -> np.ndarray:
    """Per-hash offsets ``(lane + 1) * LANE_STEP + GOLDEN`` for the lanes covering replicates b0..b1-1.

    Adding a unit key to its offset is the first step of SplitMix64 (the golden-ratio increment is
    folded in), so the hash of (key, lane) needs no further constant.
    """
    with np.errstate(over="ignore"):
        return (np.arange(b0 // 4, (b1 + 3) // 4, dtype=np.uint64) + np.uint64(1)) * _LANE_STEP + _GOLDEN


def hashed_poisson_weights(keys: np.ndarray, b0: int, b1: int) -> np.ndarray:
    """Poisson(1) weights, shape (len(keys), b1 - b0), for replicates b0..b1-1.

    One 64-bit hash gives four 16-bit lanes, so one hash serves four replicates.
    """
    keys = np.ascontiguousarray(keys, dtype=np.uint64)
    return PoissonWeightBlock(keys.shape[0], b0, b1)(keys).copy()
