"""estimate_risk's default floor by surrogate kind: 0.5 for lure and dr with a classifier surrogate refitted on the
labels (it was 0.1 / 0.3, as for an array surrogate), unchanged (bit for bit) with surrogate None or an array.

Measured on the task suite (median model of each zoo, GaussianNB and StandardScaler + LogisticRegression on the
zoo's pool features, default refit schedule, 400 seeds; the figures are in estimate_risk's ``floor``): the mean
coverage of the 95% interval at 25 / 50 / 100 labels rose from 0.83-0.97 to 0.88-0.96 (lure: 0.88 / 0.87 / 0.90 ->
0.91 / 0.93 / 0.95 with GaussianNB) and the mean squared error fell 1.8x (lure) and 1.4x (dr).
"""
import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.active import estimate_risk

TRACE_FIELDS = ("estimates", "indices", "q", "weights", "losses", "labels", "ci_low", "ci_high", "se")


def _toy(n=300, seed=0):
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.ones(3), size=n)
    y = rng.integers(0, 3, n)
    X = np.c_[probs[:, :2], rng.normal(size=(n, 2))]
    return probs, y, X, rng.dirichlet(np.ones(3), size=n)


def _synthetic_pool(n_pool=400, seed=0):
    """A 4-class make_classification pool (the suite's synthetic recipe, smaller) and a logistic model trained on
    300 other points (risk 0.44): GaussianNB refitted on its labels is an over-confident surrogate."""
    from sklearn.datasets import make_classification
    from sklearn.linear_model import LogisticRegression

    X, y = make_classification(n_samples=n_pool + 300, n_features=20, n_informative=8, n_redundant=4, n_classes=4,
                               n_clusters_per_class=2, class_sep=0.8, flip_y=0.03, random_state=seed)
    model = LogisticRegression(max_iter=1000).fit(X[:300], y[:300])
    return model.predict_proba(X[300:]), y[300:], X[300:]


# -- the default by kind ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("method,plain,classifier", [("lure", 0.1, 0.5), ("dr", 0.3, 0.5), ("ase", 0.1, 0.1),
                                                     ("naive", 0.1, 0.1)])
def test_default_floor_is_chosen_by_surrogate_kind(method, plain, classifier):
    from sklearn.naive_bayes import GaussianNB

    from workbench.active.risk import default_floor

    probs, y, X, arr = _toy()
    assert default_floor(method, classifier=False) == plain and default_floor(method, classifier=True) == classifier
    assert estimate_risk(probs, y, 20, method=method, random_state=0).diagnostics["floor"] == plain
    assert estimate_risk(probs, y, 20, arr, method=method, random_state=0).diagnostics["floor"] == plain
    t = estimate_risk(probs, y, 20, GaussianNB(), method=method, features=X, random_state=0)
    assert t.diagnostics["floor"] == classifier and t.diagnostics["surrogate_fits"] == 3  # after 5, 10 and 20 labels


def test_iid_still_draws_uniformly_with_a_classifier_surrogate():
    from sklearn.naive_bayes import GaussianNB

    probs, y, X, _ = _toy()
    t = estimate_risk(probs, y, 20, GaussianNB(), method="iid", features=X, random_state=0)
    plain = estimate_risk(probs, y, 20, method="iid", random_state=0)
    assert t.diagnostics["floor"] == 1.0 and t.diagnostics["surrogate_fits"] == 0
    for f in TRACE_FIELDS:
        np.testing.assert_array_equal(getattr(t, f), getattr(plain, f), err_msg=f)


@pytest.mark.parametrize("floor", [0.05, 0.1, 0.3, 1.0])
@pytest.mark.parametrize("method", ["lure", "dr"])
def test_an_explicit_floor_with_a_classifier_is_used_as_given(method, floor):
    from sklearn.naive_bayes import GaussianNB

    probs, y, X, _ = _toy()
    t = estimate_risk(probs, y, 20, GaussianNB(), method=method, features=X, floor=floor, random_state=0)
    assert t.diagnostics["floor"] == floor
    # q of the first draw (the model itself stands in until the first fit): floor / N at least, the floor's mixture
    assert t.q.min() >= floor / probs.shape[0] - 1e-15


@pytest.mark.parametrize("bad", [0.0, 1.5, "0.5", True])
def test_explicit_floor_is_still_checked_first_with_a_classifier(bad):
    from sklearn.naive_bayes import GaussianNB

    probs, y, X, _ = _toy()
    with pytest.raises(ValidationError, match="^floor: "):
        estimate_risk(probs, y, 20, GaussianNB(), features=X, floor=bad, random_state=0)


def test_default_floor_refuses_an_unknown_method_or_a_non_bool():
    from workbench.active.risk import DEFAULT_FLOORS, default_floor

    with pytest.raises(ValidationError, match="method"):
        default_floor("bogus", classifier=True)
    with pytest.raises(ValidationError, match="classifier"):
        default_floor("lure", classifier="no")
    assert set(DEFAULT_FLOORS) == {"lure", "dr", "ase", "naive", "iid"}


# -- bit identity with surrogate None / an array ---------------------------------------------------------------
# floor=None with surrogate None or an array is the old default (0.1; dr 0.3), bit for bit (also checked against
# the code before the change: 800 traces, 2 losses x 5 methods x 4 surrogate/floor configs x 20 seeds, identical
# digests).

@pytest.mark.parametrize("loss", ["zero_one", "cross_entropy"])
@pytest.mark.parametrize("method", ["lure", "dr", "ase", "naive", "iid"])
@pytest.mark.parametrize("kind", ["none", "array"])
def test_no_classifier_default_is_the_old_floor_bit_for_bit(kind, method, loss):
    probs, y, _, arr = _toy()
    sur = None if kind == "none" else arr
    old = 0.3 if method == "dr" else 0.1
    for seed in range(3):
        a = estimate_risk(probs, y, 60, sur, loss=loss, method=method, random_state=seed)
        b = estimate_risk(probs, y, 60, sur, loss=loss, method=method, random_state=seed, floor=old)
        for f in TRACE_FIELDS:
            np.testing.assert_array_equal(getattr(a, f), getattr(b, f), err_msg=f)
        assert a.diagnostics == b.diagnostics and a.interval_method == b.interval_method


# final estimates of lure / dr with surrogate None / an array, floor=None, seed 1: computed by the code before the
# change (compared to 1e-12, not bit for bit: the last bits of a sum may differ by platform)
PINNED = [0.629999747979672, 0.7326002708295574, 0.7020827052106968, 0.7310341864964832]


def test_no_classifier_default_pinned_values():
    probs, y, _, arr = _toy()
    got = [estimate_risk(probs, y, 60, s, method=m, random_state=1).estimates[-1]
           for m in ("lure", "dr") for s in (None, arr)]
    np.testing.assert_allclose(got, PINNED, rtol=0, atol=1e-12)


# -- coverage ------------------------------------------------------------------------------------------------------

def _coverage(method, floor, seeds, budget=50):
    from sklearn.naive_bayes import GaussianNB

    probs, y, X = _synthetic_pool()
    truth = (probs.argmax(1) != y).mean()
    cov = np.empty((seeds, budget))
    for s in range(seeds):
        t = estimate_risk(probs, y, budget, GaussianNB(), method=method, features=X, floor=floor, random_state=s)
        cov[s] = (t.ci_low <= truth) & (truth <= t.ci_high)
    return cov[:, [29, 39, 49]].mean()  # at 30, 40 and 50 labels


@pytest.mark.parametrize("method,band", [("lure", (0.90, 0.99)), ("dr", (0.92, 0.995))])
def test_classifier_surrogate_default_floor_covers(method, band):
    # GaussianNB refitted on the labels of a 400-point pool, 200 seeds, coverage of the 95% interval averaged over
    # 30, 40 and 50 labels (s.e. about 0.012). Measured: lure 0.79 with the old default floor 0.1, 0.94 with 0.5;
    # dr 0.92 with 0.3, 0.96 with 0.5 before dr's adaptive design (test_risk_dr_adaptive_classifier.py), 0.937
    # with it (0.932 on seeds 200-399, where iid labels cover 0.945-0.965), its MSE then 0.76-0.90 of iid's
    # instead of 0.48-0.76. The lure band fails the old default.
    cov = _coverage(method, None, 200)
    assert band[0] <= cov <= band[1], cov


@pytest.mark.slow
def test_suite_classifier_default_floor_improves_coverage_without_costing_error():
    # Three suite tasks (median model of each zoo, its pool features), GaussianNB and a scaled logistic regression
    # refitted on the default schedule, 200 seeds, 25 and 50 labels: the default (0.5) against the old default floor
    # explicitly (lure 0.1, dr 0.3), from the same seeds. The 400-seed suite figures for these tasks: mean coverage
    # gains of 0.07 (lure, GaussianNB), 0.02 (lure, logistic), 0.04 (dr, GaussianNB), 0.05 (dr, logistic), and no
    # cell's MSE more than 12% above the old floor's (estimate_risk's floor documents the whole suite). Measured here
    # (gain, new coverage, worst and geometric-mean MSE new/old): lure nb 0.055, 0.933, 0.82, 0.36; lure logistic
    # 0.009, 0.951, 1.17, 0.85; dr nb 0.023, 0.927, 1.23, 0.81;
    # dr logistic 0.038, 0.931, 0.87, 0.67; mean gain 0.031 (0.032 over the lure cells, which are all it tests now).
    # Since the shifted tasks hold the unshifted zoos' models (2026-12-02; digits_noise and breast_cancer_noise are
    # other zoos than before): lure nb 0.041, 0.937, 0.57, 0.35; lure logistic -0.003, 0.954, 0.89, 0.73 (the old
    # floor already covered 0.957 there: -0.003 is about 4 runs in 1,200), mean gain 0.019. So a cell may lose
    # up to 0.01 of coverage (sampling noise where the old floor is already nominal), the mean gain must be 0.015.
    # The old default fails it (every gain is 0). About 2 minutes (n_jobs=2 does not change the results).
    # dr's cells were dropped when dr's draw became adaptive with a classifier (it starts uniform and moves towards
    # the surrogate only as far as the labels support, so the floor is only its lower bound): its default is tested
    # against iid labels in test_risk_dr_adaptive_classifier.py.
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from workbench.active import benchmark_risk
    from workbench.active.tasks import load_task

    surrogates = {"nb": GaussianNB(), "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))}
    gains, cov_new, mse_ratio = {}, {}, {}
    for name in ("digits_noise", "breast_cancer_noise", "synthetic"):
        task = load_task(name)
        acc = task.accuracy
        m = int(np.argsort(acc)[len(acc) // 2])
        zoo = task.zoo
        for method, old in (("lure", 0.1),):
            for sname, sur in surrogates.items():
                cfg = {"method": method, "surrogate": sur, "features": zoo.features}
                res = benchmark_risk(zoo.probs[m], zoo.labels, {"old": {**cfg, "floor": old}, "new": cfg}, 50,
                                     seeds=200, random_state=0, n_jobs=2)
                res = res[res["labels"].isin([25, 50])].set_index(["estimator", "labels"])
                key = (method, sname)
                gains.setdefault(key, []).extend(res.loc["new", "coverage"] - res.loc["old", "coverage"])
                cov_new.setdefault(key, []).extend(res.loc["new", "coverage"])
                mse_ratio.setdefault(key, []).extend(res.loc["new", "mse"] / res.loc["old", "mse"])
    report = {k: (round(np.mean(gains[k]), 3), round(np.mean(cov_new[k]), 3), round(max(mse_ratio[k]), 2),
                  round(float(np.exp(np.mean(np.log(mse_ratio[k])))), 2)) for k in gains}
    for key, (gain, cov, worst, geo) in report.items():
        assert gain >= -0.01 and cov >= 0.90, (key, report)
        # a cell's MSE over 200 seeds is noisy (heavy-tailed errors): the bound on the worst cell is loose
        assert geo <= 1.0 and worst <= 1.35, (key, report)
    assert np.mean([g for v in gains.values() for g in v]) >= 0.015, report


def test_a_refitted_classifier_whose_rows_miss_one_by_rounding_is_accepted_and_renormalised():
    # GaussianNB on a few labels of near-constant features returned rows summing to 1 + 1.4e-6 and the run
    # was refused (sum tolerance 1e-6 of user data); a miss beyond 1e-4 is still refused
    from sklearn.base import BaseEstimator, ClassifierMixin

    from workbench import ValidationError
    from workbench.active import estimate_risk

    class Off(ClassifierMixin, BaseEstimator):
        def __init__(self, miss=0.0):
            self.miss = miss

        def fit(self, X, y):
            self.classes_ = np.unique(y)
            return self

        def predict_proba(self, X):
            p = np.full((len(X), len(self.classes_)), 1.0 / len(self.classes_))
            p[:, 0] += self.miss
            return p

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), 300)
    y = rng.integers(0, 3, 300)
    X = rng.normal(size=(300, 2))
    t = estimate_risk(probs, y, 30, surrogate=Off(2e-6), features=X, method="lure", random_state=0)
    exact = estimate_risk(probs, y, 30, surrogate=Off(0.0), features=X, method="lure", random_state=0)
    assert t.diagnostics["surrogate_fits"] > 0
    np.testing.assert_array_equal(t.indices, exact.indices)  # the rows differ by ~1e-6: same draws here
    np.testing.assert_allclose(t.estimates, exact.estimates, rtol=1e-4)
    with pytest.raises(ValidationError, match="surrogate: .*predict_proba after the fit .*sum to 1"):
        estimate_risk(probs, y, 30, surrogate=Off(1e-3), features=X, method="lure", random_state=0)
