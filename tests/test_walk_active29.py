"""Stop 29 walk of estimate_risk: the 0-1 risk of a finite pool takes only the values (S + U) / N, and an
interval that fell between two of them (one point left unlabelled) covered neither."""
import numpy as np
import pytest

from workbench.active import estimate_risk


def _pool(seed=0, n=200, c=3):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(c) * 0.7, n)
    y = (rng.random(n)[:, None] > np.cumsum(probs, axis=1)).sum(axis=1)  # labels drawn from the model: calibrated
    return probs, y


def test_lure_covers_with_one_point_left():
    probs, y = _pool()
    n = len(y)
    truth = (probs.argmax(1) != y).mean()
    traces = [estimate_risk(probs, y, n - 1, random_state=s) for s in range(120)]
    cover = np.mean([t.ci_low[-1] <= truth <= t.ci_high[-1] for t in traces])
    assert cover >= 0.95  # 0.85 on 300 seeds before: half-widths of ~0.95 / N between two attainable risks
    # the interval is then exactly the two risks the pool can have
    t = traces[0]
    S = t.losses.sum()
    assert (t.ci_low[-1], t.ci_high[-1]) == pytest.approx((S / n, (S + 1) / n), abs=1e-15)


@pytest.mark.parametrize("method", ["lure", "iid", "dr", "ase"])
def test_zero_one_limits_are_attainable_risks_within_the_deterministic_bounds(method):
    probs, y = _pool(1, n=80)
    n = len(y)
    t = estimate_risk(probs, y, 60, method=method, random_state=3)
    S = np.cumsum(t.losses)
    M = np.arange(1, 61)
    ok = np.isfinite(t.ci_low)
    for lim in (t.ci_low[ok], t.ci_high[ok]):
        np.testing.assert_allclose(lim * n, np.round(lim * n), atol=1e-9)  # (S + U) / N, U whole
    assert (t.ci_low[ok] >= S[ok] / n - 1e-12).all() and (t.ci_high[ok] <= (S[ok] + n - M[ok]) / n + 1e-12).all()


def test_cross_entropy_limits_are_not_rounded():
    probs, y = _pool(2, n=80)
    t = estimate_risk(probs, y, 40, loss="cross_entropy", random_state=0)
    frac = (t.ci_high[5:] * 80) % 1
    assert np.ptp(frac) > 0.1  # not multiples of 1/N
