"""Audit of workbench.active: adversarial-but-legitimate inputs and scale (regression tests)."""
import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from workbench._validation import ValidationError
from workbench.active import contested_points, estimate_risk, labels_to_order_pair, select_model


# -- prob_best of tied models: equal shares, not rounding noise ----------------------------------------
@pytest.mark.parametrize("strategy", ["random", "uncertainty", "margin", "active_testing"])
def test_identical_models_get_equal_prob_best_shares(strategy):
    # Four copies of one model: their labelled accuracies (and LURE risks) are equal at every step and the
    # covariance is singular. Its ~1e-17 noise eigenvalues outweighed the 1e-10 tie-breaking jitter, so
    # prob_best split by rounding noise: 0.5 / 0.375 / 0.105 / 0.02 (random) or 0.55 / 0.45 / 0 / 0 (margin).
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(3), size=(1, 80))
    labels = rng.integers(0, 3, 80)
    for seed in range(3):
        t = select_model(np.repeat(probs, 4, axis=0), labels, 20, strategy=strategy, random_state=seed)
        pb = t.prob_best[1:]  # after one label the shares are exact ties (0.25 each)
        # 256 Monte Carlo draws: a share's sd is 0.027 around 0.25
        assert (pb > 0.15).all() and (pb < 0.35).all(), pb.round(3)


def test_normal_prob_best_ignores_rounding_size_eigenvalues():
    from workbench.active.selection import _NormalProbBest

    c = np.r_[np.ones(6), np.zeros(4)]
    cols = np.stack([c, c, 1 - c, c, 1 - c], axis=1)  # models 0, 1, 3 identical; 2, 4 identical
    mean = cols.mean(axis=0)
    cov = np.cov(cols.T) / 10 * (1 - 10 / 80)
    pb = _NormalProbBest(5, np.random.default_rng(1))(mean, cov)
    assert pb.sum() == pytest.approx(1.0)
    # four copies of one model: a rank-1 covariance (its other eigenvalues are rounding noise, ~1e-17)
    four = np.repeat(c[:, None], 4, axis=1)
    pb4 = _NormalProbBest(4, np.random.default_rng(1))(four.mean(axis=0), np.cov(four.T) / 10 * (1 - 10 / 80))
    assert (pb4 > 0.15).all() and (pb4 < 0.35).all(), pb4  # was 0.008, 0.54, 0.24, 0.21
    # mean 0.6 against 0.4 with perfectly anti-correlated outcomes: P(group 0 best) = Phi(0.2 / sd of the gap)
    from scipy import stats

    sd_gap = np.sqrt(cov[0, 0] + cov[2, 2] - 2 * cov[0, 2])
    p0 = stats.norm.cdf(0.2 / sd_gap)
    assert pb[[0, 1, 3]].sum() == pytest.approx(p0, abs=0.08)
    for group in ([0, 1, 3], [2, 4]):  # within a group of identical models: equal shares up to Monte Carlo noise
        share = pb[group]
        assert np.abs(share - share.mean()).max() < 0.12, pb


# -- a fitted classifier surrogate's probabilities are checked -------------------------------------------
class _ConstantProba(ClassifierMixin, BaseEstimator):
    def __init__(self, value=np.nan, n_cols=None):
        self.value, self.n_cols = value, n_cols

    def fit(self, X, y):
        self.classes_ = np.unique(y)
        return self

    def predict_proba(self, X):
        return np.full((len(X), self.n_cols or len(self.classes_)), self.value)


@pytest.mark.parametrize("method", ["lure", "ase", "dr"])
@pytest.mark.parametrize("value, n_cols, rule", [(np.nan, None, "NaN"), (2.0, None, r"\[0, 1\]"),
                                                 (0.1, None, "sum to 1"), (0.5, 7, "shape")])
def test_a_classifier_surrogate_with_bad_probabilities_is_a_validation_error(method, value, n_cols, rule):
    # A NaN from predict_proba made lure sample uniformly without a word, ase return a NaN estimate and dr
    # fail with numpy's "attempt to get argmin of an empty sequence"
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 3))
    y = rng.integers(0, 3, 200)
    probs = rng.dirichlet(np.ones(3), size=200)
    with pytest.raises(ValidationError, match=rf"surrogate: _ConstantProba.predict_proba after the fit on the "
                                              rf"first 5 acquired labels.*{rule}"):
        estimate_risk(probs, y, 30, surrogate=_ConstantProba(value, n_cols), features=X, method=method,
                      random_state=0)


# -- ase: per-label sums from precomputed per-point terms ------------------------------------------------
@pytest.mark.parametrize("loss", ["zero_one", "cross_entropy"])
def test_ase_estimate_equals_the_fresh_sum_over_the_remaining_points(loss):
    from workbench.active._common import expected_loss
    from workbench.active.risk import _loss_variance

    rng = np.random.default_rng(3)
    n, c = 150, 4
    probs = rng.dirichlet(np.ones(c) * 0.5, size=n)
    sur = rng.dirichlet(np.ones(c), size=n)
    y = rng.integers(0, c, n)
    t = estimate_risk(probs, y, 40, surrogate=sur, method="ase", loss=loss, random_state=1)
    remaining = np.ones(n, bool)
    for m, i in enumerate(t.indices):
        remaining[i] = False
        est = (t.losses[: m + 1].sum() + expected_loss(probs[remaining], sur[remaining], loss).sum()) / n
        var = _loss_variance(probs[remaining], sur[remaining], loss).sum() / n**2
        assert t.estimates[m] == est and t.se[m] == np.sqrt(var)  # bit for bit


# -- tasks: class ids, share and level -----------------------------------------------------------------
def test_contested_points_with_large_class_ids_needs_no_column_per_class_id():
    # One column per class index: (n_points, max id + 1) floats, 26 TB here (and 8 GB per point for an id
    # of 1e9, which got the process killed). Vote entropy does not depend on how classes are numbered.
    small = np.array([[0, 0, 1, 2, 0, 1],
                      [0, 1, 1, 0, 0, 1],
                      [0, 2, 1, 1, 1, 0]])
    ids = np.array([3, 2**40, 17])  # class k -> a raw, sparse id
    for share in (0.2, 0.5, 1.0):
        np.testing.assert_array_equal(contested_points(ids[small], share), contested_points(small, share))
    np.testing.assert_array_equal(contested_points(small, 0.5), [False, True, False, True, False, False])


def test_contested_points_vote_entropy_matches_scipy():
    from scipy import stats

    from workbench.active.tasks import _vote_entropy

    rng = np.random.default_rng(0)
    for h, k in ((5, 40), (40, 3), (7, 7)):
        pred = rng.integers(0, k, (h, 60))
        want = [stats.entropy(np.bincount(pred[:, j])) for j in range(60)]
        np.testing.assert_allclose(_vote_entropy(pred), want, rtol=0, atol=1e-13)


@pytest.mark.parametrize("share", ["0.5", True, None, np.array([0.5])])
def test_contested_points_share_must_be_a_number(share):
    with pytest.raises(ValidationError, match="share"):
        contested_points(np.array([[0, 1], [1, 0]]), share=share)


@pytest.mark.parametrize("level", ["0.9", None, [0.9]])
def test_labels_to_order_pair_level_must_be_a_number(level):
    with pytest.raises(ValidationError, match="level"):
        labels_to_order_pair([0, 1, 0], [1, 1, 1], [0, 1, 0], level=level)


# -- selection: the sparse one-hot of the zoo's predictions ------------------------------------------------
def test_sparse_onehot_gives_the_dense_scatter_and_is_built_only_when_used():
    from workbench.active.selection import _ModelSelector, _Random, _Zoo

    rng = np.random.default_rng(0)
    H, N, C = 7, 90, 4
    probs = rng.dirichlet(np.ones(C) * 0.4, size=(H, N))
    zoo = _Zoo(probs)
    _Random(zoo, rng, 5)
    assert "onehot" not in zoo.__dict__  # random never needs it
    dense = np.zeros((N, C, H))
    dense[np.arange(N)[:, None], zoo.preds.T, np.arange(H)[None, :]] = 1.0
    np.testing.assert_array_equal(zoo.onehot.toarray(), dense.reshape(N * C, H))
    ms = _ModelSelector(zoo, np.random.default_rng(1), 10, eps=0.4)
    ms.logw = rng.normal(size=H)
    cand = ms.remaining & zoo.disagree
    h_now, h_next = ms._expected_entropy(cand)
    # the expected posterior entropy computed from the dense one-hot, as before
    w = ms.posterior()
    wlogw = w * np.log(w)
    s = (dense.reshape(N * C, H) @ w).reshape(N, C)[cand]
    t = (dense.reshape(N * C, H) @ wlogw).reshape(N, C)[cand]
    g = (1 - 0.4) / 0.4
    Z = 1 + (g - 1) * s
    want = (np.log(Z) - (wlogw.sum() + (g - 1) * t + np.log(g) * g * s) / Z).mean(axis=1)
    assert h_now == pytest.approx(-wlogw.sum(), abs=1e-15)
    np.testing.assert_allclose(h_next, want, rtol=0, atol=1e-13)
