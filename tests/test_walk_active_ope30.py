"""Walk findings (stop 30) in model selection and policy selection, each reproduced before the fix."""
import warnings

import numpy as np
import pytest

import workbench as wb
from workbench._validation import ValidationError
from workbench.active import consensus_accuracy, select_model
from workbench.active.selection import _CodaPosterior, _Zoo
from workbench.data import PredictionLog
from workbench.ope import OPEDiagnosticWarning, compare_policies, threshold_family


def _hard_zoo(seed=0, H=6, N=120, C=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, N)
    preds = np.where(rng.random((H, N)) < np.linspace(0.5, 0.9, H)[:, None], y, rng.integers(0, C, (H, N)))
    return np.eye(C)[preds], y, (preds == y).mean(1)


# ---- CODA's P(best) with a weak prior -------------------------------------------------------------
@pytest.mark.parametrize("strength, tol", [(0.1, 0.02), (0.3, 0.004), (0.5, 0.004), (0.9, 0.004)])
def test_coda_prob_best_matches_monte_carlo_below_strength_one(strength, tol):
    # a, b < 1: the Beta density is infinite at an end, and the midpoint rule missed the mass there
    # (strength 0.1: 0.141 against a Monte Carlo 0.082 for the weakest model)
    P, y, _ = _hard_zoo()
    post = _CodaPosterior(_Zoo(P), prior_strength=strength)
    for i in range(60):
        post.observe(i, y[i])
    assert (post.a < 1).any() or (post.b < 1).any() or strength == 0.9
    pc = post.class_posterior().mean(0)
    draws = np.random.default_rng(1).beta(post.a[..., None], post.b[..., None], size=post.a.shape + (200_000,))
    H, C = post.a.shape
    win = np.stack([np.bincount(draws[:, c].argmax(0), minlength=H) / draws.shape[-1] for c in range(C)], 1)
    mc = win @ pc
    np.testing.assert_allclose(post.prob_best(pc), mc / mc.sum(), atol=tol)


def test_coda_with_a_weak_prior_ends_on_the_most_accurate_model():
    P, y, acc = _hard_zoo()
    t = select_model(P, y, len(y), strategy="coda", prior_strength=0.1, random_state=0)
    assert t.final == f"model_{int(acc.argmax())}"  # was model_1 (0.68 against 0.94) at strength 0.01


def test_coda_refuses_a_prior_too_weak_for_double_precision():
    P, y, _ = _hard_zoo()
    with pytest.raises(ValidationError, match="prior_strength: must be >= 0.1"):
        select_model(P, y, 5, strategy="coda", prior_strength=0.01)


def test_coda_default_prior_keeps_the_midpoint_rule():
    # a, b >= 2 at the default: every value is the grid integral it was (the exact-cell path is not taken)
    P, y, _ = _hard_zoo()
    post = _CodaPosterior(_Zoo(P))
    g = post.grid
    from scipy import special
    A, B = post.a[..., None], post.b[..., None]
    pdf = np.exp((A - 1) * np.log(g) + (B - 1) * np.log1p(-g) - special.betaln(A, B))
    np.testing.assert_array_equal(post.pdf, pdf)


# ---- tied models share P(best) equally ------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["random", "uncertainty", "margin", "active_testing"])
def test_identical_models_get_equal_prob_best(strategy):
    rng = np.random.default_rng(0)
    p = rng.dirichlet(np.ones(3), size=200)
    y = rng.integers(0, 3, 200)
    t = select_model(np.stack([p] * 4), y, 30, strategy=strategy, random_state=0)
    # was 0.219 / 0.254 / 0.309 / 0.219 at every step: a fixed jitter decided each draw's winner
    np.testing.assert_allclose(t.prob_best, 0.25, atol=1e-12)


# ---- a zoo of models with different shapes ----------------------------------------------------------
@pytest.mark.parametrize("call", ["select_model", "consensus_accuracy", "PredictionLog"])
def test_models_of_different_shapes_are_named(call):
    rng = np.random.default_rng(0)
    a, b = rng.dirichlet(np.ones(3), 40), rng.dirichlet(np.ones(2), 40)
    f = {"select_model": lambda: select_model([a, b], np.zeros(40, int), 3, strategy="random"),
         "consensus_accuracy": lambda: consensus_accuracy([a, b]),
         "PredictionLog": lambda: PredictionLog(probs=[a, b])}[call]
    with pytest.raises(ValidationError, match=r"entry 0's shape \(40, 3\), first entry 1 with shape \(40, 2\)"):
        f()


# ---- compare_policies: a policy undefined in some resamples ------------------------------------------
def _rare_policy_log():
    rng = np.random.default_rng(0)
    n = 200
    a = np.r_[0, 0, rng.integers(1, 3, n - 2)]  # action 0 logged on 2 rows only
    r = np.r_[1.0, 1.0, rng.random(n - 2) * 0.5]
    log = wb.data.BanditLog(action=a, reward=r, propensity=np.full(n, 1 / 3), n_actions=3)
    A = np.zeros((n, 3))
    A[:, 0] = 1
    B = np.zeros((n, 3))
    B[:, 1] = 1
    return log, A, B


def test_a_policy_undefined_in_a_resample_loses_it_instead_of_voiding_it():
    log, A, B = _rare_policy_log()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = compare_policies(log, {"A": A, "B": B}, estimator="snips", n_bootstrap=2000, random_state=0)
    pb = res.summary.set_index("policy")["prob_best"]
    # A's snips is 0/0 in every resample that draws neither of its two rows: B wins those (before: A 1.0, B 0.0)
    # Poisson(1) resampling weights: both of A's rows get weight 0 with probability e^-2 = 0.135
    assert pb["A"] == pytest.approx(1 - np.exp(-2.0), abs=0.03) and pb["B"] == pytest.approx(np.exp(-2.0), abs=0.03)
    assert pb.sum() == pytest.approx(1.0)
    text = " ".join(str(w.message) for w in caught if issubclass(w.category, OPEDiagnosticWarning))
    assert "undefined (NaN) in some resamples: policy 'A'" in text
    assert "interval of A has zero width" in text


# ---- threshold_family --------------------------------------------------------------------------------
def test_dr_os_family_with_huge_weights_has_no_duplicate_member():
    w = np.r_[np.ones(50), 1e170]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's overflow warning
        labels = [m.label for m in threshold_family("dr-os", weights=w, n_thresholds=4)]
    assert len(set(labels)) == len(labels) and labels[0] == "dr-os"  # was dr-os twice (lambda = inf)


@pytest.mark.parametrize("thresholds", [[], [5.0]])
def test_explicit_family_needs_two_members(thresholds):
    with pytest.raises(ValidationError, match="thresholds: must hold at least two values"):
        threshold_family("ips", thresholds=thresholds)
