"""dr with a scikit-learn classifier refitted on the labels earns its influence.

A classifier fitted on a handful of labels predicts the model's losses worse than a constant, and dr let it steer
both the draw (q from its predicted spread, floor 0.5) and the control variate (a line in its expected loss, ridge
towards the surrogate as it is): its error was 2-8x iid's on the digits tasks. Now the control is whichever of the
line and a constant (the weighted mean of the losses so far) predicted the labels better before seeing them, and
the draw starts uniform and moves towards the surrogate only as far as the labels say it lowers the variance of the
next term. Both are chosen from the past only, so the estimate stays unbiased.
"""
import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from workbench.active import benchmark_risk, estimate_risk


def _useless_features_pool(n=300, C=3, seed=0):
    """A model right 80% of the time, and features that say nothing about the labels."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, n)
    pred = np.where(rng.random(n) < 0.8, y, (y + 1 + rng.integers(0, C - 1, n)) % C)
    probs = np.full((n, C), 0.1 / (C - 1))
    probs[np.arange(n), pred] = 0.9
    return probs, y, rng.normal(size=(n, 4))


def test_a_useless_classifier_no_longer_costs_dr_against_iid_and_the_estimate_stays_unbiased():
    # 300 seeds, 10-40 labels. Measured: MSE(iid) / MSE(dr) 0.94 / 0.93 / 0.92 / 0.95 at 10 / 20 / 30 / 40 labels
    # (before: 0.57 / 0.62 / 0.63 / 0.72), coverage 0.93-0.97, |bias| within 1.5 s.e. The old code fails the first
    # assertion.
    probs, y, X = _useless_features_pool()
    out = benchmark_risk(probs, y, {"dr": {"method": "dr", "surrogate": LogisticRegression(), "features": X}}, 40,
                         seeds=300, random_state=0, n_jobs=2)
    dr = out[(out.estimator == "dr") & out.labels.isin([20, 30, 40])]
    assert dr.mse_ratio_vs_iid.mean() >= 0.8, dr
    assert (dr.bias.abs() <= 3 * dr.bias_se).all(), dr
    assert dr.coverage.between(0.9, 0.99).all(), dr


def test_the_final_standing_is_reported_and_a_fixed_surrogate_is_untouched():
    probs, y, X = _useless_features_pool()
    t = estimate_risk(probs, y, 40, LogisticRegression(), method="dr", features=X, random_state=0)
    assert t.diagnostics["control"] in ("line", "constant")
    assert 0.5 <= t.diagnostics["uniform_share"] <= 1.0
    assert np.allclose(t.q[:10], 1.0 / (len(y) - np.arange(10)))  # uniform until 10 labels
    fixed = estimate_risk(probs, y, 40, probs, method="dr", random_state=0)  # an array surrogate: as before
    assert "control" not in fixed.diagnostics and "uniform_share" not in fixed.diagnostics


@pytest.mark.slow
def test_suite_dr_with_a_classifier_is_near_iid_at_worst():
    # Three suite tasks (median model of each zoo, its pool features), GaussianNB and a scaled logistic regression
    # refitted on the default schedule, 100 seeds, 25 and 50 labels. Measured (MSE(iid) / MSE(dr), logistic /
    # GaussianNB): digits_noise 1.04, 1.11 / 0.93, 1.11; breast_cancer_noise 1.00, 1.10 / 0.74, 1.02; synthetic
    # 1.04, 1.04 / 0.96, 1.00; geometric mean 1.00, lowest 0.74, coverage 0.91-0.97. Before: lowest 0.53
    # (breast_cancer_noise, GaussianNB, 25 labels), geometric mean 0.76. About a minute. (Figures on the earlier
    # shifted zoos, other draws of the models; it passes on today's, which hold the unshifted models.)
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from workbench.active.tasks import load_task

    surrogates = {"nb": GaussianNB(), "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))}
    ratios, covs = [], []
    for name in ("digits_noise", "breast_cancer_noise", "synthetic"):
        task = load_task(name)
        m = int(np.argsort(task.accuracy)[len(task.accuracy) // 2])
        zoo = task.zoo
        cfg = {k: {"method": "dr", "surrogate": sur, "features": zoo.features} for k, sur in surrogates.items()}
        res = benchmark_risk(zoo.probs[m], zoo.labels, cfg, 100, seeds=100, random_state=0, n_jobs=2)
        res = res[res.labels.isin([25, 50]) & (res.estimator != "iid")]
        ratios.extend(res.mse_ratio_vs_iid)
        covs.extend(res.coverage)
    assert min(ratios) >= 0.65 and np.exp(np.mean(np.log(ratios))) >= 0.9, ratios
    assert min(covs) >= 0.88, covs
