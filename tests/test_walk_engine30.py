"""Walk findings (stop 30) in the shared engine, each reproduced before the fix."""
import numpy as np
import pytest

from workbench._engine import combine_gradient
from workbench._random import seed_key
from workbench._validation import ValidationError
from workbench.ope.estimators import SelfNormalizedDR
from workbench.resample import bootstrap_ci
from workbench.scale import Resampling


def test_gradient_of_a_ratio_by_a_tiny_mean_next_to_a_large_one():
    # SNDR's terms: a direct-method column of 0.5, a correction and a mean weight of ~3e-10. The shared step
    # floor (1e-9) exceeded the weight's mean: +1.3e8 where the derivative is -4.6e8
    rng = np.random.default_rng(1)
    n = 400
    reward = rng.binomial(1, 0.7, n).astype(float)
    w = 2 * 10 ** rng.uniform(-11, -9, n)
    m = np.column_stack([np.full(n, 0.5), w * (reward - 0.5), w]).mean(0)
    exact = [1.0, 1 / m[2], -m[1] / m[2] ** 2]
    np.testing.assert_allclose(combine_gradient(m, SelfNormalizedDR().combine), exact, rtol=1e-6)


def test_gradient_of_a_tiny_correction_added_to_a_large_term_keeps_the_floor():
    # a step relative to 1e-12 is below the rounding of 0.5: the floor step is kept there
    g = combine_gradient(np.array([0.5, 1e-12]), lambda P: P[:, 0] + P[:, 1])
    np.testing.assert_allclose(g, [1.0, 1.0], rtol=1e-6)


def test_gradient_at_ordinary_scales_is_unchanged():
    m = np.array([0.4, 0.25, 1.1])
    f = lambda P: P[:, 0] + P[:, 1] / P[:, 2]  # noqa: E731
    np.testing.assert_allclose(combine_gradient(m, f), [1.0, 1 / 1.1, -0.25 / 1.21], rtol=1e-8)


@pytest.mark.parametrize("kw, field", [({"seed": 1.5}, "seed"), ({"seed": True}, "seed"), ({"seed": -1}, "seed"),
                                       ({"seed": 2**64}, "seed"), ({"n_replicates": 2.5}, "n_replicates"),
                                       ({"scheme": "bogus"}, "scheme")])
def test_resampling_built_directly_checks_its_fields(kw, field):
    args = {"n_replicates": 50, **kw}
    with pytest.raises(ValidationError) as err:
        Resampling(**args)
    assert err.value.field == field


def test_seeds_beyond_64_bits_are_hashed_not_refused():
    assert seed_key(5) == 5 and seed_key(2**64 - 1) == 2**64 - 1  # unchanged below 2**64
    k = seed_key(2**64 + 5)
    assert k == seed_key(2**64 + 5) and k != 5 and 0 <= k < 2**64
    x = np.random.default_rng(0).normal(size=50)
    a = bootstrap_ci(x, n_resamples=50, random_state=2**100)  # was "must be an integer in [0, 2**64)"
    assert a.confidence_interval == bootstrap_ci(x, n_resamples=50, random_state=2**100).confidence_interval
    with pytest.raises(ValidationError, match="random_state"):
        seed_key(-3)
