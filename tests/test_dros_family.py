"""threshold_family("dr-os", weights=...) builds lambda on the squared-weight scale: DR-os shrinks a weight w
to w lambda / (w^2 + lambda), so a threshold t of the clipping families corresponds to lambda = t^2 (weights
of t halved). The weight-scale grid used as lambda halved every row with w > sqrt(max w) already at its
mildest member, leaving no member between DR and strong shrinkage."""
import numpy as np

from workbench.ope import threshold_family


def _shrunk(w, lam):
    return w * lam / (w * w + lam)


def test_mildest_member_halves_only_the_largest_weight():
    w = np.random.default_rng(0).lognormal(0.0, 1.5, 2000)
    fam = threshold_family("dr-os", weights=w)
    lams = [m.lambda_ for m in fam]
    assert lams[0] == np.inf and all(a > b for a, b in zip(lams, lams[1:]))
    mild = _shrunk(w, lams[1])
    assert np.all(mild >= w / 2 - 1e-12)  # no row loses more than half its weight
    assert np.isclose(mild[w.argmax()], w.max() / 2)
    # dr-os' lambdas are the squares of a weight-scale grid from the largest weight down; the clipping families
    # take the steps of such a grid below the largest weight (a clip or switch at it changes no row, so it
    # repeated the unbiased member), ending at the same floor
    lo = max(1.0, float(np.quantile(w, 0.1)))
    np.testing.assert_allclose(lams[1:], np.square(np.geomspace(w.max(), lo, 9)), rtol=1e-12)
    for kind in ("ips", "dr", "switch-dr"):
        clip = [getattr(m, "lambda_", None) or getattr(m, "clip", None) for m in threshold_family(kind, weights=w)]
        assert clip[0] in (np.inf, None) and len(clip) == 10
        assert max(clip[1:]) < w.max() and np.isclose(clip[-1], lo)
        np.testing.assert_allclose(clip[1:], np.geomspace(w.max(), lo, 10)[1:], rtol=1e-12)


def test_explicit_thresholds_are_taken_as_lambda():
    assert [m.lambda_ for m in threshold_family("dr-os", [4.0, np.inf, 9.0])] == [np.inf, 9.0, 4.0]
