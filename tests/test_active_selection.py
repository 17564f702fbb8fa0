"""Evidence for workbench.active.select_model and benchmark_selection."""
import numpy as np
import pytest

from workbench import ValidationError
from workbench.active import STRATEGIES, benchmark_selection, select_model
from workbench.active.selection import tune_eps_majority_vote
from workbench.data import PredictionLog


def _zoo(h=8, n=200, c=4, seed=0):
    """Models of graded skill: model j is right with probability rising in j (model h-1 is best)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    skill = np.linspace(0.5, 0.85, h)
    right = rng.random((h, n)) < skill[:, None]
    wrong = (y[None] + rng.integers(1, c, (h, n))) % c
    pred = np.where(right, y[None], wrong)
    probs = np.full((h, n, c), 0.1 / (c - 1))
    np.put_along_axis(probs, pred[..., None], 0.9, axis=2)
    return probs, y


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_trace_shapes_and_probabilities(strategy):
    probs, y = _zoo()
    budget = 12 if strategy == "coda" else 30
    t = select_model(probs, y, budget, strategy=strategy, random_state=0)
    assert t.chosen.shape == (budget,) and t.prob_best.shape == (budget, 8)
    assert t.indices.shape == t.labels.shape == t.q.shape == (budget,)
    assert len(set(t.indices.tolist())) == budget
    np.testing.assert_array_equal(t.labels, y[t.indices])
    np.testing.assert_allclose(t.prob_best.sum(axis=1), 1.0, atol=1e-9)
    assert np.all(t.prob_best >= 0) and t.chosen.min() >= 0 and t.chosen.max() < 8
    f = t.to_frame()
    assert len(f) == budget and {"chosen", "prob_best_chosen", "strategy"} <= set(f.columns)
    assert t.prob_best_frame().shape == (budget, 8)
    assert strategy in repr(t)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_reproducible_from_seed(strategy):
    probs, y = _zoo(seed=1)
    budget = 8 if strategy == "coda" else 25
    a = select_model(probs, y, budget, strategy=strategy, random_state=3)
    b = select_model(probs, y, budget, strategy=strategy, random_state=3)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.chosen, b.chosen)
    np.testing.assert_array_equal(a.prob_best, b.prob_best)


@pytest.mark.parametrize("strategy", ["random", "active_testing", "model_selector", "coda", "auto"])
def test_finds_a_clearly_best_model(strategy):
    probs, y = _zoo(h=5, n=300, seed=2)
    acc = (probs.argmax(2) == y).mean(1)
    t = select_model(probs, y, 150, strategy=strategy, random_state=0)
    assert acc[t.chosen[-1]] >= acc.max() - 0.03


def test_model_selector_skips_points_where_all_models_agree():
    probs, y = _zoo(h=6, n=150, seed=3)
    preds = probs.argmax(2)
    disagree = ~(preds == preds[0]).all(0)
    k = int(disagree.sum())
    t = select_model(probs, y, min(k, 40), strategy="model_selector", random_state=0, eps=0.4)
    assert disagree[t.indices].all()


def test_model_selector_posterior_update_is_gamma_per_agreement():
    probs, y = _zoo(h=4, n=60, seed=4)
    eps = 0.3
    t = select_model(probs, y, 10, strategy="model_selector", random_state=0, eps=eps)
    agree = (probs.argmax(2)[:, t.indices] == t.labels[None]).sum(1)
    expect = ((1 - eps) / eps) ** agree
    np.testing.assert_allclose(t.prob_best[-1], expect / expect.sum(), rtol=1e-9)


def test_active_testing_prob_best_tracks_lure():
    # with the full pool labelled the LURE risks are exact, so the pick is the true best
    probs, y = _zoo(h=5, n=60, seed=5)
    acc = (probs.argmax(2) == y).mean(1)
    t = select_model(probs, y, 60, strategy="active_testing", random_state=0)
    assert acc[t.chosen[-1]] == acc.max()


def test_accepts_prediction_log_with_labels():
    probs, y = _zoo()
    log = PredictionLog(probs, labels=y, model_names=[f"m{j}" for j in range(8)])
    t = select_model(log, budget=10, strategy="auto", random_state=0)
    assert t.model_names[0] == "m0" and t.final.startswith("m")


def test_validation_errors():
    probs, y = _zoo()
    with pytest.raises(ValidationError, match="strategy"):
        select_model(probs, y, 10, strategy="best")
    with pytest.raises(ValidationError, match="unlabelled markers"):
        select_model(probs, np.where(np.arange(200) == 0, -1, y), 10)
    with pytest.raises(ValidationError, match="budget"):
        select_model(probs, y, 201)
    with pytest.raises(ValidationError, match="oracle"):
        select_model(probs, None, 10)
    with pytest.raises(ValidationError, match="not understood"):
        select_model(probs, y, 10, strategy="random", eps=0.4)
    with pytest.raises(ValidationError, match="eps"):
        select_model(probs, y, 10, strategy="model_selector", eps=0.7)
    with pytest.raises(ValidationError, match="probs"):
        select_model(probs[:, :, :2], y, 10)
    for bad in ({"prior_sigma": 0.0}, {"prior_cap": 0.0}, {"prior_cap": 1.5}, {"prior_labels": -1.0}):
        with pytest.raises(ValidationError, match=next(iter(bad))):
            select_model(probs, y, 10, strategy="auto", eps=0.4, **bad)


def _drawdown(p):
    """Largest fall of an identification curve below its running maximum."""
    return float((np.maximum.accumulate(p) - p).max())


def test_auto_holds_its_pick_on_a_shifted_zoo():
    # Class-prior-shifted synthetic zoo (cached .npz after the first fit). Model Selector's
    # probability of holding the best model reaches 1 and then collapses (its posterior counts
    # agreements on the biased sample it chose); the same check on `auto` must pass.
    from workbench.active.tasks import load_task

    task = load_task("synthetic_prior")
    res = benchmark_selection([task], ["auto", "model_selector"], budgets=150, seeds=12, random_state=0)
    c = res.curves
    p_auto = c[c.strategy == "auto"].p_best.to_numpy()
    p_ms = c[c.strategy == "model_selector"].p_best.to_numpy()
    assert _drawdown(p_ms) >= 0.5, "the Model Selector failure no longer reproduces"
    assert _drawdown(p_auto) <= 0.35, _drawdown(p_auto)
    assert p_auto[-1] >= p_auto[:50].max()


def test_benchmark_frame_and_seed_independence_of_n_jobs():
    probs, y = _zoo(h=5, n=120, seed=6)
    log = PredictionLog(probs, labels=y)
    a = benchmark_selection([("toy", log)], ["random", "auto"], budgets=[5, 10, 20], seeds=6, random_state=1)
    b = benchmark_selection([("toy", log)], ["random", "auto"], budgets=[5, 10, 20], seeds=6, random_state=1,
                            n_jobs=2)
    cols = ["p_best", "p_within_1pt", "mean_regret_points"]
    np.testing.assert_array_equal(a.curves[cols].to_numpy(), b.curves[cols].to_numpy())
    assert list(a.curves["labels"].unique()) == [5, 10, 20]
    s = a.summary
    assert {"labels_first_90", "labels_stay_90", "cum_regret_100", "ms_per_step"} <= set(s.columns)
    assert (s["cum_regret_100"] >= 0).all()
    reached = s["labels_first_90"].notna()
    assert s.loc[~reached, "min_p_best_after_first_90"].isna().all()
    m = s.loc[reached, "min_p_best_after_first_90"]
    assert ((m >= 0) & (m <= 1)).all()
    # the lowest fraction after first reaching 90% is below 90% exactly when the strategy did not stay
    stayed = s.loc[reached, "labels_stay_90"] == s.loc[reached, "labels_first_90"]
    assert ((m >= 0.9 - 1e-12) == stayed).all()


def test_coda_prior_matches_the_authors_formula():
    # Kay et al. 2025, released code: alpha_h = multiplier * (B + (1 - a) * conf_h), B = 1 on the
    # diagonal and 1/(C-1) off it, conf_h the soft confusion of h against the consensus argmax,
    # a = 0.9, multiplier 2. (An earlier reading put the consensus at full weight and CODA never
    # left the consensus favourite.)
    from workbench.active.selection import _Coda, _Zoo

    probs, y = _zoo(h=4, n=80, c=3, seed=8)
    coda = _Coda(_Zoo(probs), np.random.default_rng(0), 5)
    cons = probs.mean(0).argmax(1)
    conf = np.stack([np.stack([probs[h][cons == c].sum(0) for c in range(3)]) for h in range(4)])
    conf /= conf.sum(2, keepdims=True)
    B = np.full((3, 3), 0.5) + 0.5 * np.eye(3)
    np.testing.assert_allclose(coda.alpha, 2.0 * (B[None] + 0.1 * conf), rtol=1e-12)


def test_geometric_consensus_is_the_normalised_geometric_mean_and_lets_a_confident_model_veto():
    from workbench.active.selection import geometric_consensus

    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(4), size=(5, 30))
    g = geometric_consensus(probs, clip=1e-12)
    expect = np.prod(probs, axis=0) ** (1 / 5)
    np.testing.assert_allclose(g, expect / expect.sum(1, keepdims=True), rtol=1e-10)
    # three models lean 0.8 / 0.2 to class 0, a fourth is sure it is class 1: the arithmetic mean
    # follows the majority (0.6 on class 0), the logarithmic pool lets the sure model veto class 0
    p = np.array([[[0.8, 0.2]]] * 3 + [[[0.001, 0.999]]])
    assert p.mean(0)[0].argmax() == 0
    np.testing.assert_allclose(geometric_consensus(p)[0], [0.3347, 0.6653], atol=1e-4)


def test_auto_prior_is_the_geometric_consensus_expected_accuracy_with_strength_from_a_variance_ratio():
    from workbench.active.selection import _Auto, _Zoo, geometric_consensus

    probs, y = _zoo(h=6, n=150, seed=2)
    zoo = _Zoo(probs)
    g = geometric_consensus(probs)
    right = np.stack([g[np.arange(150), zoo.preds[h]] for h in range(6)])
    ea = right.mean(1)
    lg = np.log(0.6 / 0.4)
    a = _Auto(zoo, np.random.default_rng(0), 20, eps=0.4, prior_labels=5.0)  # a fixed strength
    np.testing.assert_allclose(a.prior, lg * 5.0 * (ea - ea.max()))
    # default: k = a(1 - a) / sigma^2 labels on the disagreement points, / their share d, capped
    dis = zoo.disagree
    acc_fav = right[ea.argmax(), dis].mean()
    strength = {}
    for sigma, cap in ((0.06, 0.25), (0.2, 0.25), (0.06, 0.01)):
        auto = _Auto(zoo, np.random.default_rng(0), 20, eps=0.4, prior_sigma=sigma, prior_cap=cap)
        k = min(acc_fav * (1 - acc_fav) / sigma ** 2 / dis.mean(), cap * dis.sum())
        assert auto.prior_labels == pytest.approx(k, rel=1e-12)
        np.testing.assert_allclose(auto.prior, lg * k * (ea - ea.max()))
        strength[sigma, cap] = auto.prior_labels
    assert strength[0.2, 0.25] < strength[0.06, 0.25]  # a prior trusted to err more counts for fewer labels
    assert strength[0.06, 0.01] == pytest.approx(0.01 * dis.sum())  # the cap binds
    t = select_model(probs, y, 10, strategy="auto", random_state=0, eps=0.4)
    assert t.diagnostics["prior_labels"] == pytest.approx(
        min(acc_fav * (1 - acc_fav) / 0.06 ** 2 / dis.mean(), 0.25 * dis.sum()))
    flat = _Auto(zoo, np.random.default_rng(0), 20, eps=0.4, prior_labels=0.0)
    np.testing.assert_allclose(flat.posterior(), 1 / 6)
    # a zoo whose models all predict the same labels has nothing to prefer: a flat prior
    same = np.repeat(probs[:1], 3, axis=0)
    assert _Auto(_Zoo(same), np.random.default_rng(0), 5, eps=0.4).prior_labels == 0.0
    # one observed label moves log-posteriors by log(gamma) for the models that got it right
    i = int(np.flatnonzero(zoo.disagree)[0])
    before = a.logw.copy()
    a.observe(i, int(y[i]))
    diff = (a.logw - a.logw.max()) - (before - before.max())
    right = zoo.preds[:, i] == y[i]
    assert np.allclose(diff[right] - diff[right][0], 0) and np.allclose(diff[~right] - diff[~right][0], 0)


@pytest.mark.parametrize("learning_rate", [0.01, 0.7])
def test_coda_posterior_updated_label_by_label_equals_one_computed_afresh(learning_rate):
    from workbench.active.selection import _CodaPosterior, _Zoo

    probs, y = _zoo(h=5, n=120, seed=6)
    zoo = _Zoo(probs)
    post = _CodaPosterior(zoo, learning_rate=learning_rate)
    for i in [*range(0, 120, 7), 7, 7]:  # a point labelled three times, as the update allows
        post.observe(i, int(y[i]))
    fresh = _CodaPosterior(zoo, learning_rate=learning_rate)
    fresh.alpha = post.alpha.copy()
    fresh.refresh()
    np.testing.assert_allclose(post.pi_raw, fresh.pi_raw, rtol=1e-12)
    np.testing.assert_allclose(post.term, fresh.term, rtol=1e-10)
    np.testing.assert_allclose(post.prob_best(), fresh.prob_best(), rtol=1e-10)
    # labels moved the belief (the check above compares something that changed)
    assert not np.allclose(post.prob_best(), _CodaPosterior(zoo).prob_best())


@pytest.mark.parametrize("c, chunk", [(4, None), (3, 1), (2, None)])
def test_coda_information_gain_equals_the_look_ahead_computed_directly(monkeypatch, c, chunk):
    # EIG = H(P(best)) - sum_c pi(c | x) H(P(best) after adding 1 to class c's confusion row at each model's
    # prediction), class marginal held fixed; the BLAS form must give what the direct form does
    from workbench.active import selection
    from workbench.active.selection import _CodaPosterior, _Zoo

    if chunk is not None:
        monkeypatch.setattr(selection, "_CODA_CHUNK_ELEMENTS", chunk)
    probs, y = _zoo(h=6, n=90, c=c, seed=4)
    zoo = _Zoo(probs)
    post = _CodaPosterior(zoo)
    for i in range(0, 90, 5):  # a posterior that labels have moved
        post.observe(i, int(y[i]))
    cand = np.array([1, 2, 3, 17, 44, 89])
    got = post.information_gain(cand)

    def h_bits(p):
        p = p[p > 0]
        return -(p * np.log2(p)).sum()

    pi = post.class_posterior()
    prior_c = pi.mean(0)
    per_class = post.per_class(post.term, 0)  # (H, C)
    h0 = h_bits(per_class @ prior_c / (per_class @ prior_c).sum())
    for k, i in enumerate(cand):
        expected = 0.0
        for label in range(c):
            alpha = post.alpha.copy()
            alpha[np.arange(6), label, zoo.preds[:, i]] += 1.0
            a = alpha[:, label, label]
            b = alpha[:, label].sum(1) - a
            pdf, cdf = post.pdf_cdf(a, b)
            col = post.per_class(post.term_of(pdf, cdf, 0), 0)
            pc = per_class.copy()
            pc[:, label] = col
            pb = pc @ prior_c
            expected += pi[i, label] * h_bits(pb / pb.sum())
        assert got[k] == pytest.approx(h0 - expected, rel=1e-9, abs=1e-13)
    assert np.ptp(got) > 1e-4  # the candidates differ: the comparison is not of constants


def test_auto_pools_codas_belief_as_part_of_the_prior():
    # pooled = posterior x P_coda(best)^(coda_weight k / (k + m)), normalised; k = prior_labels
    from workbench.active.selection import _Auto, _CodaPosterior, _Zoo

    probs, y = _zoo(h=6, n=150, seed=2)
    zoo = _Zoo(probs)
    a = _Auto(zoo, np.random.default_rng(0), 40, eps=0.4)
    coda = _CodaPosterior(zoo)
    k = a.prior_labels
    assert k > 0

    def expected(m):
        lw = np.log(a.posterior()) + 2.0 * k / (k + m) * np.log(coda.prob_best())
        w = np.exp(lw - lw.max())
        return w / w.sum()

    np.testing.assert_allclose(a.pooled(), expected(0), rtol=1e-10)
    assert not np.allclose(a.pooled(), a.posterior())  # CODA's belief counts before any label
    for i in np.flatnonzero(zoo.disagree)[:25]:
        a.observe(int(i), int(y[i]))
        coda.observe(int(i), int(y[i]))
        np.testing.assert_allclose(a.pooled(), expected(a.m), rtol=1e-10)
    b = _Auto(zoo, np.random.default_rng(0), 40, eps=0.4, coda_weight=0)
    assert b.coda is None
    np.testing.assert_array_equal(b.pooled(), b.posterior())
    t = select_model(probs, y, 10, strategy="auto", random_state=0, eps=0.4, coda_weight=1.5)
    assert t.diagnostics["coda_weight"] == 1.5
    # no prior to pool into (prior_labels 0), or one class (no Beta marginal): the pool is off
    assert select_model(probs, y, 5, strategy="auto", random_state=0, eps=0.4,
                        prior_labels=0).diagnostics["coda_weight"] == 0.0
    one = select_model(np.ones((3, 20, 1)), np.zeros(20, int), 5, strategy="auto", random_state=0, prior_labels=5)
    np.testing.assert_allclose(one.prob_best[-1], 1 / 3)
    assert one.diagnostics["coda_weight"] == 0.0
    with pytest.raises(ValidationError, match="^prior_labels: must be a finite number"):
        select_model(probs, y, 5, strategy="auto", random_state=0, prior_labels=np.inf)


def test_auto_switches_its_pick_only_on_enough_evidence():
    from workbench.active.selection import _Auto, _Zoo

    probs, _ = _zoo(h=4, n=100, seed=3)
    a = _Auto(_Zoo(probs), np.random.default_rng(0), 10, eps=0.4, prior_labels=0.0, hysteresis=1.0)
    lg = a.log_gamma
    a.logw = np.array([1.0, 0.0, 0.0, 0.0]) * lg
    assert a.summary()[0] == 0
    a.logw = np.array([0.0, 0.5, 0.0, 0.0]) * lg  # model 1 leads by half an agreement: keep model 0
    assert a.summary()[0] == 0
    a.logw = np.array([0.0, 1.5, 0.0, 0.0]) * lg  # by one and a half: switch
    assert a.summary()[0] == 1
    eager = _Auto(_Zoo(probs), np.random.default_rng(0), 10, eps=0.4, prior_labels=0.0, hysteresis=0.0)
    eager.logw = np.array([1.0, 0.0, 0.0, 0.0]) * lg
    eager.summary()
    eager.logw = np.array([0.0, 0.5, 0.0, 0.0]) * lg
    assert eager.summary()[0] == 1


def test_auto_acquisition_is_sampled_with_full_support_over_informative_points():
    probs, y = _zoo(h=6, n=200, seed=4)
    t = select_model(probs, y, 40, strategy="auto", random_state=0, eps=0.4)
    assert np.all((t.q > 0) & (t.q <= 1)) and len(set(t.indices.tolist())) == 40
    t2 = select_model(probs, y, 40, strategy="auto", random_state=1, eps=0.4)
    assert not np.array_equal(t.indices, t2.indices)  # sampled, not a fixed greedy order


def _contested_zoo(best_wins_contested):
    """4 models, 3 classes. 80 easy points (label 0) where model B errs on 15 and C, D on 2 each; 10
    contested points (label 0) where the votes split 1/2/1. On them B is right and A wrong, or
    (swapped) A right and B wrong. A is the pool's best either way (80 vs 78 of 90 at worst)."""
    easy, hard = 80, 10
    y = np.zeros(easy + hard, int)
    pred = np.zeros((4, easy + hard), int)
    pred[1, :15] = 1  # B wrong on 15 easy points (low vote entropy: 3 vs 1)
    pred[2, 15:17] = 2
    pred[3, 17:19] = 2
    a_hard, b_hard = (0, 1) if best_wins_contested else (1, 0)
    pred[:, easy:] = np.array([a_hard, b_hard, 2, 1])[:, None]
    if best_wins_contested:
        pred[3, easy:] = 1
    probs = np.full((4, easy + hard, 3), 0.05)
    np.put_along_axis(probs, pred[..., None], 0.9, axis=2)
    return probs, y, np.r_[np.zeros(easy, bool), np.ones(hard, bool)]


@pytest.mark.parametrize("best_wins_contested", [False, True])
def test_contested_points_and_the_pool_best_rank_there(best_wins_contested):
    from workbench.active import SelectionTask, contested_points

    probs, y, hard = _contested_zoo(best_wins_contested)
    log = PredictionLog(probs, labels=y)
    # 29 disagreement points: 19 with votes 3:1, 10 split 1:2:1 (higher vote entropy) -> the top 30%
    np.testing.assert_array_equal(contested_points(log.predicted, share=0.3), hard)
    d = SelectionTask("toy", log, "toy", None).difficulty(contested_share=0.3)
    acc = (probs.argmax(2) == y).mean(1)
    assert acc.argmax() == 0 and (acc[1:] < acc[0]).all()
    if best_wins_contested:
        assert d["contested_best_rank"] == 0 and d["contested_best_regret"] == 0.0
    else:  # B is best on the contested points, 5 of 90 points below A on the pool
        assert d["contested_best_rank"] == 1
        assert d["contested_best_regret"] == pytest.approx(100 * 5 / 90)


def test_contested_points_edge_cases():
    from workbench.active import contested_points

    same = np.zeros((3, 5), int)
    assert not contested_points(same).any()
    with pytest.raises(ValidationError, match="share"):
        contested_points(same, share=0.0)
    for bad in (np.zeros(5, int), -np.ones((2, 3), int), np.zeros((2, 3))):
        with pytest.raises(ValidationError, match="predicted"):
            contested_points(bad)


@pytest.mark.parametrize("n_disputed, a_right, both_wrong", [(400, 170, 80), (120, 60, 30), (900, 300, 420)])
def test_labels_to_order_pair_gives_the_stated_probability(n_disputed, a_right, both_wrong):
    # Monte Carlo: draw that many labels uniformly without replacement from the points where the two
    # models disagree; the more accurate one must lead (ties split) in 90% of draws. 4,000 replicates:
    # s.e. 0.005, band 0.87-0.93 (the formula is a normal approximation on a small sample).
    from workbench.active import labels_to_order_pair

    b_right = n_disputed - a_right - both_wrong
    n_agree = 500
    y = np.zeros(n_agree + n_disputed, int)
    a = np.r_[np.zeros(n_agree, int), np.zeros(a_right, int), np.ones(b_right, int), np.ones(both_wrong, int)]
    b = np.r_[np.zeros(n_agree, int), np.ones(a_right, int), np.zeros(b_right, int), 2 * np.ones(both_wrong, int)]
    n = int(labels_to_order_pair(a, b, y))
    d = np.r_[np.ones(a_right), -np.ones(b_right), np.zeros(both_wrong)]
    rng = np.random.default_rng(0)
    keys = rng.random((4000, n_disputed))
    draws = d[np.argpartition(keys, n - 1, axis=1)[:, :n]].sum(axis=1)  # n points without replacement
    p_lead = np.mean(draws > 0) + 0.5 * np.mean(draws == 0)
    assert 0.87 <= p_lead <= 0.93, (n, p_lead)
    # the answer is fewer labels than the whole disputed set, and a third of it does clearly worse
    assert n < n_disputed
    fewer = d[np.argpartition(keys, n // 3 - 1, axis=1)[:, :n // 3]].sum(axis=1)
    assert np.mean(fewer > 0) + 0.5 * np.mean(fewer == 0) < p_lead - 0.05


def test_labels_to_order_pair_edge_cases_and_input_checks():
    from workbench.active import labels_to_order_pair

    y = np.zeros(6, int)
    same = np.zeros(6, int)
    assert np.isnan(labels_to_order_pair(same, same, y))  # never disagree: cannot be ordered
    worse = np.r_[1, 1, 0, 0, 0, 0]
    assert np.isnan(labels_to_order_pair(worse, same, y))  # a is not the more accurate
    assert labels_to_order_pair(same, worse, y) == 1.0  # every disputed point favours a: one label
    with pytest.raises(ValidationError, match="pred_b"):
        labels_to_order_pair(same, same[:5], y)
    with pytest.raises(ValidationError, match="labels"):
        labels_to_order_pair(same, same, y.astype(float))
    with pytest.raises(ValidationError, match="level"):
        labels_to_order_pair(same, worse, y, level=0.4)
    with pytest.raises(ValidationError, match="labels.*2 rows are negative, first at row 3"):
        labels_to_order_pair(same, worse, np.r_[0, 0, 0, -1, 0, -1])


def test_benchmark_rows_do_not_depend_on_the_other_tasks_or_strategies():
    # seeds are keyed by (random_state, task name) and shared by the strategies of a task
    a_probs, a_y = _zoo(h=5, n=100, seed=7)
    b_probs, b_y = _zoo(h=5, n=100, seed=8)
    a, b = ("a", PredictionLog(a_probs, labels=a_y)), ("b", PredictionLog(b_probs, labels=b_y))
    full = benchmark_selection([a, b], ["random", "margin", "auto"], budgets=[5, 15], seeds=5, random_state=3)
    cols = ["p_best", "mean_regret_points"]
    alone = {s: benchmark_selection([b], [s], budgets=[5, 15], seeds=5, random_state=3).curves[cols].to_numpy()
             for s in ("auto", "random")}
    for strategy, rows in alone.items():
        f = full.curves[(full.curves.task == "b") & (full.curves.strategy == strategy)][cols]
        np.testing.assert_array_equal(f.to_numpy(), rows)
    other = benchmark_selection([b], ["random"], budgets=[5, 15], seeds=5, random_state=4)
    assert not np.array_equal(other.curves[cols].to_numpy(), alone["random"])
    with pytest.raises(ValidationError, match="unique"):
        benchmark_selection([a, a], ["random"], budgets=5, seeds=2)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["synthetic", "synthetic_prior"])
def test_auto_stays_at_90_percent_once_there_slow(name):
    # The holding target on the two hardest suite tasks, over 400 seeds (s.e. of a 90% share:
    # 0.015). After P(pick is the best) first reaches 0.9 it must not fall more than 3 s.e. below
    # 0.9 at any later label count (a minimum over 60+ noisy steps). Model Selector, run on the same
    # seeds, must fail the same check, so the check can fail.
    from workbench.active.tasks import load_task

    seeds = 400
    tol = 3 * np.sqrt(0.09 / seeds)
    res = benchmark_selection([load_task(name)], ["auto", "model_selector"], budgets=200, seeds=seeds,
                              random_state=5, n_jobs=2)
    c = res.curves
    for strategy, should_hold in (("auto", True), ("model_selector", False)):
        p = c[c.strategy == strategy].p_best.to_numpy()
        assert (p >= 0.9).any(), f"{strategy} never reaches 90% on {name}"
        after = p[int(np.argmax(p >= 0.9)):]
        assert (after.min() >= 0.9 - tol) == should_hold, (strategy, after.min())


@pytest.mark.slow
def test_auto_default_sharpness_beats_the_old_one_where_the_consensus_misleads_slow():
    # auto's default sharpness went from 6 to 12: on the suite's synthetic zoo (the geometric
    # consensus favours the 7th-best model) the sharper draw reached the best model sooner, cumulative
    # regret over 100 labels 142 -> 108 on 100 independent seeds (s.e. about 9 each), while holding
    # the pick (test above). Same seeds for both (the benchmark keys them by task and random_state). Both
    # without the diffuse draw and the evidence threshold that joined the defaults later, as when measured.
    from workbench.active.tasks import load_task

    task = [load_task("synthetic")]
    then = {"diffuse_sharpness": None, "switch_z": 0.0}
    runs = {s: benchmark_selection(task, ["auto"], budgets=100, seeds=100, random_state=9, n_jobs=2,
                                   strategy_options={"auto": {**then, **({"sharpness": s} if s != "default" else {})}}
                                   ).summary
            for s in ("default", 6.0)}
    new, old = runs["default"].iloc[0], runs[6.0].iloc[0]
    margin = 2 * np.hypot(new.cum_regret_100_se, old.cum_regret_100_se)
    assert new.cum_regret_100 < old.cum_regret_100 - margin, (new.cum_regret_100, old.cum_regret_100, margin)



@pytest.mark.slow
def test_auto_defaults_lower_regret_where_the_contested_points_favour_the_best_slow():
    # On the suite's synthetic zoo the best model is also the best on the most contested points. The sharp draw
    # while the posterior is diffuse (diffuse_sharpness=100) labels those first, and the evidence threshold
    # (switch_z=0.5) keeps the pick it reaches: cumulative regret over 100 labels 112 -> 55 on the benchmark's
    # 100 seeds (2026-12-02), against the defaults before both (diffuse draw off, fixed hysteresis).
    from workbench.active.tasks import load_task

    task = [load_task("synthetic")]
    runs = {k: benchmark_selection(task, ["auto"], budgets=100, seeds=100, random_state=9, n_jobs=2,
                                   strategy_options={"auto": o}).summary.iloc[0]
            for k, o in (("default", {}), ("before", {"diffuse_sharpness": None, "switch_z": 0.0}))}
    new, old = runs["default"], runs["before"]
    margin = 2 * np.hypot(new.cum_regret_100_se, old.cum_regret_100_se)
    assert new.cum_regret_100 < old.cum_regret_100 - margin, (new.cum_regret_100, old.cum_regret_100, margin)


# ---- input checks, complete evidence, one-model tasks ------------------------------------------
def test_benchmark_selection_input_checks():
    probs, y = _zoo(h=4, n=30, seed=2)
    zoo = PredictionLog(probs, labels=y)
    t = [("t", zoo)]
    for budgets in (0, -3, 5.7, True, [0, 5], [-3, 5], [5.9], []):
        with pytest.raises(ValidationError, match="budgets"):
            benchmark_selection(t, ["random"], budgets=budgets, seeds=2)
    with pytest.raises(ValidationError, match="budgets: the largest, 31"):
        benchmark_selection(t, ["random"], budgets=31, seeds=2)
    for seeds in (0, 2.5):
        with pytest.raises(ValidationError, match="seeds"):
            benchmark_selection(t, ["random"], budgets=5, seeds=seeds)
    with pytest.raises(ValidationError, match="tasks: must hold at least one"):
        benchmark_selection([], ["random"], budgets=5, seeds=2)
    with pytest.raises(ValidationError, match="strategies: must name at least one"):
        benchmark_selection(t, [], budgets=5, seeds=2)
    with pytest.raises(ValidationError, match="labelled PredictionLog"):
        benchmark_selection([("t", probs)], ["random"], budgets=5, seeds=2)
    with pytest.raises(ValidationError, match="strategy_options: key 'atuo' is not a strategy"):
        benchmark_selection(t, ["auto"], budgets=5, seeds=2, strategy_options={"atuo": {"floor": 0.2}})
    with pytest.raises(ValidationError, match="strategy_options: .*random_state"):
        benchmark_selection(t, ["auto"], budgets=5, seeds=2, strategy_options={"auto": {"random_state": 1}})
    # a single strategy name is one strategy; a bare PredictionLog is one task
    ref = benchmark_selection([("task", zoo)], ["random"], budgets=[2, 5], seeds=3)
    for tasks, strategies in ((("task", zoo),), ["random"]), (zoo, "random"):
        res = benchmark_selection(list(tasks) if isinstance(tasks, tuple) else tasks, strategies, budgets=[2, 5],
                                  seeds=3)
        assert res.curves.drop(columns="task").equals(ref.curves.drop(columns="task"))
    assert list(ref.curves.labels) == [2, 5]


@pytest.mark.parametrize("progress", [False, True])
def test_benchmark_selection_progress_bar_is_optional(progress, capsys, monkeypatch):
    monkeypatch.delenv("TQDM_DISABLE", raising=False)
    probs, y = _zoo(h=3, n=30, seed=2)
    benchmark_selection([("t", PredictionLog(probs, labels=y))], "random", budgets=3, seeds=2, progress=progress)
    assert ("selection runs" in capsys.readouterr().err) == progress


def test_auto_reports_the_posterior_argmax_once_the_evidence_is_complete():
    # Model 0 is right on 3 of the 4 points, model 1 on 2; all four points separate them. With
    # hysteresis, a pick that went to model 1 early could stay there with every label known.
    y = np.zeros(4, int)
    a, b = np.array([1, 0, 0, 0]), np.array([0, 1, 1, 0])
    probs = np.stack([np.eye(2)[a] * 0.8 + 0.1, np.eye(2)[b] * 0.8 + 0.1])
    for s in range(50):
        t = select_model(probs, y, 4, strategy="auto", random_state=s, eps=0.4, prior_labels=0)
        assert t.chosen[-1] == 0, s
        assert t.prob_best[-1].argmax() == 0


def test_strategy_option_checks():
    probs, y = _zoo(h=4, n=30, seed=1)
    bad = [("coda", {"grid_size": 0}), ("coda", {"grid_size": 2.5}), ("coda", {"n_candidates": 0}),
           ("coda", {"prior_strength": 0}), ("coda", {"consensus_weight": np.nan}), ("coda", {"consensus_weight": -1}),
           ("coda", {"learning_rate": -1}), ("coda", {"learning_rate": np.inf}),
           ("model_selector", {"eps_grid": []}), ("model_selector", {"eps_grid": [0.4, 0.7]}),
           ("auto", {"eps_grid": [0.5]}), ("model_selector", {"tune_horizon": 0}), ("auto", {"tune_horizon": 2.5}),
           ("auto", {"coda_weight": -1}), ("auto", {"coda_weight": np.nan}), ("auto", {"coda_weight": "2"})]
    for strategy, opts in bad:
        with pytest.raises(ValidationError, match=next(iter(opts))):
            select_model(probs, y, 5, strategy=strategy, random_state=0, **opts)


def test_geometric_consensus_checks_its_input():
    from workbench.active import geometric_consensus

    probs, _ = _zoo(h=3, n=10, seed=1)
    with pytest.raises(ValidationError, match="probs: must be 3-D"):
        geometric_consensus(probs[0])
    with pytest.raises(ValidationError, match="probs: must be finite"):
        geometric_consensus(np.where(probs > 0.5, np.nan, probs))
    with pytest.raises(ValidationError, match="probs"):
        geometric_consensus(probs * 2)
    np.testing.assert_array_equal(geometric_consensus(PredictionLog(probs)), geometric_consensus(probs.tolist()))


def test_one_model_task_displays_and_load_task_takes_a_generator(tmp_path):
    from workbench.active import SelectionTask, difficulty_table, load_task

    probs, y = _zoo(h=1, n=20, seed=1)
    task = SelectionTask("one", PredictionLog(probs, labels=y), "x", None)
    d = task.difficulty()
    assert np.isnan([d["top2"], d["gap_points"], d["top2_disagreement_rate"], d["labels_to_order_top2"]]).all()
    assert "one" in repr(task) and len(difficulty_table([task])) == 1
    a, b = (load_task("synthetic", n_models=2, random_state=np.random.default_rng(3), cache_dir=tmp_path)
            for _ in range(2))
    np.testing.assert_array_equal(a.zoo.probs, b.zoo.probs)


# ------------------------------------------------------------------------------------------------
# Edge inputs found in the audit of the active pillar
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_one_class_zoo_ties_every_model(strategy):
    probs, y = np.ones((3, 10, 1)), np.zeros(10, int)  # margin: IndexError; coda: NaN, then a bare ValueError
    t = select_model(probs, y, 10, strategy=strategy, random_state=0)
    assert np.isfinite(t.prob_best).all() and np.allclose(t.prob_best.sum(axis=1), 1.0)
    if strategy in ("model_selector", "coda", "auto"):
        np.testing.assert_allclose(t.prob_best, 1 / 3)


@pytest.mark.parametrize("strategy, option, value", [
    ("active_testing", "floor", "0.5"), ("active_testing", "floor", True), ("auto", "floor", None),
    ("model_selector", "eps", "0.3"), ("model_selector", "eps", np.array([0.3])), ("auto", "prior_sigma", "0.1"),
    ("auto", "prior_sigma", True), ("auto", "prior_cap", True), ("auto", "sharpness", True),
    ("auto", "hysteresis", "1"), ("auto", "hysteresis", True), ("auto", "diffuse_sharpness", "100"),
    ("auto", "diffuse_sharpness", True), ("auto", "diffuse_sharpness", 0.0), ("auto", "diffuse_below", 0.0),
    ("auto", "diffuse_below", 1.5), ("auto", "diffuse_below", None), ("auto", "switch_z", -0.5),
    ("auto", "switch_z", "1"), ("auto", "switch_z", True), ("auto", "switch_z", np.nan),
    ("auto", "switch_debias", 1), ("auto", "switch_debias", "False"), ("auto", "switch_debias", None)])
def test_real_options_refuse_strings_booleans_and_arrays(strategy, option, value):
    probs, y = _zoo(h=3, n=20)
    with pytest.raises(ValidationError, match=option):  # float() took them (True as 1.0)
        select_model(probs, y, 3, strategy=strategy, random_state=0, **{option: value})


def test_auto_with_a_vanishing_prior_sigma_takes_the_cap():
    probs, y = _zoo(h=4, n=40)
    t = select_model(probs, y, 3, strategy="auto", random_state=0, eps=0.4, prior_sigma=1e-300)  # ZeroDivisionError
    dis = ~(probs.argmax(2) == probs.argmax(2)[0]).all(axis=0)
    assert t.diagnostics["prior_labels"] == pytest.approx(0.25 * dis.sum())


def test_auto_pick_follows_the_evidence_when_its_weight_underflows():
    # eps = 1e-300: one agreement is worth log(gamma) = 690.8 nats, so the pick's weight underflows to 0
    # after one disagreement; clamped at 1e-300 its deficit read as at most 690.8 and never exceeded the
    # hysteresis (1 x 690.8): the pick stayed on a model with belief 0.
    probs, y = _zoo(h=5, n=40, c=3)
    t = select_model(probs, y, 20, strategy="auto", random_state=0, eps=1e-300, coda_weight=0)
    assert (t.prob_best[np.arange(20), t.chosen] > 0).all()
    assert t.prob_best[-1, t.chosen[-1]] == t.prob_best[-1].max()


def test_auto_large_sharpness_concentrates_the_draw_instead_of_going_uniform():
    from workbench.active.selection import _Auto, _Zoo

    probs, y = _zoo(h=6, n=60, c=3)
    a = _Auto(_Zoo(probs), np.random.default_rng(0), 10, eps=0.4, sharpness=400.0, floor=0.05)
    n_cand = (a.remaining & a.zoo.disagree).sum()
    _, q = a.next_point()
    # gain ** 400 underflowed to 0 everywhere and q fell back to 1 / n_cand; now the draw is on the
    # top point(s) (q ~ 0.95 / number of near-ties)
    assert n_cand > 30 and q > 10.0 / n_cand


def test_auto_diffuse_sharpness_applies_only_while_the_posterior_is_diffuse():
    from workbench.active.selection import _Auto, _Zoo

    probs, y = _zoo(h=6, n=60, c=3)
    a = _Auto(_Zoo(probs), np.random.default_rng(0), 10, eps=0.4, prior_labels=0.0, diffuse_sharpness=80.0,
              diffuse_below=0.5)
    assert a.posterior().max() < 0.5 and a.current_sharpness() == 80.0  # flat posterior: the diffuse exponent
    for i in np.flatnonzero(a.zoo.disagree)[:30]:  # labels the best model (last) gets right, the others less
        a.observe(int(i), int(y[i]))
    assert a.posterior().max() >= 0.5 and a.current_sharpness() == 12.0
    # None turns it off; equal exponents, or a threshold no posterior is below (its max is >= 1/H), are the same
    base = select_model(probs, y, 25, strategy="auto", random_state=3, diffuse_sharpness=None)
    for opts in ({"diffuse_sharpness": 12.0}, {"diffuse_sharpness": 80.0, "diffuse_below": 1 / 6}):
        t = select_model(probs, y, 25, strategy="auto", random_state=3, **opts)
        np.testing.assert_array_equal(t.indices, base.indices)
        np.testing.assert_array_equal(t.chosen, base.chosen)
    t = select_model(probs, y, 25, strategy="auto", random_state=3, diffuse_sharpness=80.0, diffuse_below=0.9)
    assert not np.array_equal(t.indices, base.indices)


def test_auto_diffuse_sharpness_replays_in_estimate_accuracies():
    # The exponent depends on the posterior only (not on the CODA-pooled belief, which the replay leaves out):
    # the replay must rebuild every step's q exactly, or estimate_accuracies refuses the trace.
    from workbench.active import estimate_accuracies

    probs, y = _zoo(h=6, n=80, c=3, seed=4)
    t = select_model(probs, y, 30, strategy="auto", random_state=1, diffuse_sharpness=60.0, diffuse_below=0.6)
    assert t.diagnostics["options"] == {"diffuse_sharpness": 60.0, "diffuse_below": 0.6}
    est = estimate_accuracies(t, probs)  # auto never draws where all models agree: differences, not accuracies
    assert len(est) == 6 and np.isfinite(est["difference"]).all() and np.isfinite(est["se"]).all()


@pytest.mark.parametrize("option, value", [("prior_strength", 0.1), ("prior_strength", 1e10),
                                           ("consensus_weight", 1e300), ("learning_rate", 1e6)])
def test_coda_extreme_parameters_keep_prob_best_finite(option, value):
    probs, y = _zoo(h=5, n=30, c=3)
    t = select_model(probs, y, 12, strategy="coda", random_state=0, **{option: value})  # was 0/0 on the Beta grid
    assert np.isfinite(t.prob_best).all() and np.allclose(t.prob_best.sum(axis=1), 1.0)


def test_benchmark_selection_checks_n_jobs():
    probs, y = _zoo(h=3, n=20)
    zoo = PredictionLog(probs, labels=y)
    for n_jobs in (0, 1.5, "2"):  # joblib ValueError, silently one job, TypeError
        with pytest.raises(ValidationError, match="n_jobs"):
            benchmark_selection([("t", zoo)], ["random"], budgets=2, seeds=1, n_jobs=n_jobs)


def test_trace_reprs_count_in_singular_and_plural():
    from workbench.active import estimate_risk

    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(3), size=(1, 20))
    y = rng.integers(0, 3, 20)
    assert "1 model, 1 label of 20" in repr(select_model(P, y, 1, strategy="random", random_state=0))
    assert "2 models, 3 labels of 20" in repr(select_model(np.concatenate([P, P]), y, 3, strategy="random",
                                                           random_state=0))
    assert "1 label of 20" in repr(estimate_risk(P[0], y, 1, random_state=0))


# ---- Model Selector's eps: the published scoring -----------------------------------------------
def test_model_selector_beats_random_labels_on_the_shifted_zoo():
    # The issue: "model_selector ... never has more cumulative regret than iid". The label-free eps tuning
    # labels the zoo's majority vote; it broke tied votes by the lowest class index, and on synthetic_prior's
    # earlier zoo (12 tied points, the most contested ones, which Model Selector labels first) that made the final-pick
    # criterion choose eps = 0.44 on every seed and Model Selector lose to random labels (337 against 312
    # over 100 seeds). Ties broken by the zoo's mean probability: 195 (s.e. 8.6). Over 30 seeds: s.e. ~15
    # and ~25, so a margin of 60 is > 2 s.e. of the difference.
    from workbench.active.selection import _Zoo
    from workbench.active.tasks import load_task

    # (That zoo was the earlier synthetic_prior, another draw of the models; today's has 1 tied point, so the
    # tie rule itself is tested on a zoo built with many ties: test_majority_vote_ignores_how_classes_are_numbered.)
    task = load_task("synthetic_prior")
    zoo = _Zoo(task.zoo.probs)
    res = benchmark_selection([task], ["model_selector", "random"], budgets=100, seeds=30, random_state=0)
    regret = res.summary.set_index("strategy").cum_regret_100
    assert regret["model_selector"] < regret["random"] - 60, regret.to_dict()
    # select_model forwards eps_criterion: its tuned eps is the tuning's on the same random stream
    along = [tune_eps_majority_vote(zoo, np.random.default_rng(s), 50, criterion="along") for s in range(2)]
    for s, want in enumerate(along):
        t = select_model(task.zoo, None, 50, strategy="model_selector", random_state=s, eps_criterion="along")
        assert t.diagnostics["eps"] == want


def test_majority_vote_ignores_how_classes_are_numbered():
    # Tied votes went to the lowest class index, so renumbering the classes changed the majority vote, the
    # tuned eps and every trace after it. A zoo of 4 soft models on 3 classes, tied 2-2 on most points: the
    # zoo's mean probability breaks the ties, whatever the classes are called.
    from workbench.active.selection import _majority_vote, _Zoo

    rng = np.random.default_rng(0)
    n, c = 300, 3
    a, b = rng.integers(0, c, n), rng.integers(0, c, n)
    b = np.where(b == a, (a + 1) % c, b)  # two different classes per point
    probs = np.full((4, n, c), 0.0)
    for j, cls in enumerate((a, a, b, b)):  # two models vote a, two vote b: a 2-2 tie everywhere
        top = 0.6 + 0.3 * rng.random(n)
        probs[j] = ((1 - top) / (c - 1))[:, None]
        probs[j, np.arange(n), cls] = top
    perm = np.array([2, 0, 1])  # new class k is old class perm[k]
    zoo, zoo_p = _Zoo(probs), _Zoo(probs[:, :, perm])
    mv, mv_p = _majority_vote(zoo, np.random.default_rng(1)), _majority_vote(zoo_p, np.random.default_rng(1))
    assert np.array_equal(perm[mv_p], mv)
    # the fixture can catch the old rule: lowest-index tie-breaking is not invariant on it
    old = zoo.onehot.sum(axis=1).reshape(n, c).argmax(axis=1)
    old_p = np.asarray(zoo_p.onehot.sum(axis=1)).reshape(n, c).argmax(axis=1)
    assert not np.array_equal(perm[old_p], np.asarray(old).ravel())
    for s in range(3):
        assert (tune_eps_majority_vote(zoo, np.random.default_rng(s), 40)
                == tune_eps_majority_vote(zoo_p, np.random.default_rng(s), 40))


def test_eps_tuning_criterion_is_checked_and_auto_keeps_the_final_pick_criterion():
    from workbench.active.selection import _Auto, _Zoo

    probs, y = _zoo(h=5, n=80, seed=3)
    zoo = _Zoo(probs)
    with pytest.raises(ValidationError, match="criterion"):
        tune_eps_majority_vote(zoo, np.random.default_rng(0), 10, criterion="last")
    with pytest.raises(ValidationError, match="criterion"):
        select_model(probs, y, 5, strategy="model_selector", eps_criterion="Along")
    with pytest.raises(ValidationError, match="eps_criterion"):  # not an auto option
        select_model(probs, y, 5, strategy="auto", eps_criterion="along")
    # auto's defaults were measured with eps tuned on its own final pick: its eps is that criterion's
    a = _Auto(zoo, np.random.default_rng(7), 30)
    final = tune_eps_majority_vote(zoo, np.random.default_rng(7), 30, make=lambda z, r, e: _Auto(
        z, r, 30, eps=e, coda_weight=0.0, _settle=False), criterion="final")
    assert a.eps == final


def test_auto_switch_threshold_grows_with_the_pairs_labelled_evidence_and_falls_back_when_it_is_complete():
    from workbench.active.selection import _Auto, _Zoo

    probs, y = _zoo(h=4, n=200, c=3, seed=5)
    a = _Auto(_Zoo(probs), np.random.default_rng(0), 50, eps=0.4, prior_labels=0.0, hysteresis=1.0, switch_z=0.5)
    a.summary()
    pick = a.pick
    other = (pick + 1) % 4
    dis = np.flatnonzero(a.zoo.preds[pick] != a.zoo.preds[other])
    N = dis.size
    assert N > 40
    assert a.switch_threshold(other) == 1.0  # nothing labelled where the two differ: the hysteresis
    for n in (10, N // 2, N - 1, N):
        a.remaining[:] = True
        a.remaining[dis[:n]] = False
        expect = max(1.0, 0.5 * np.sqrt(n * (1 - n / N)))
        assert a.switch_threshold(other) == pytest.approx(expect)
    assert a.switch_threshold(other) == 1.0  # all of the pair's points labelled: back to the hysteresis
    a.remaining[:] = True
    a.remaining[dis[: N // 2]] = False
    # labelled points where the two agree do not count
    agree = np.flatnonzero(a.zoo.preds[pick] == a.zoo.preds[other])
    before = a.switch_threshold(other)
    a.remaining[agree] = False
    assert a.switch_threshold(other) == before
    # switch_z = 0 is the fixed hysteresis
    a.switch_z = 0.0
    assert a.switch_threshold(other) == 1.0


def test_auto_switch_z_holds_the_pick_until_the_lead_clears_the_evidence_threshold():
    from workbench.active.selection import _Auto, _Zoo

    probs, _ = _zoo(h=4, n=400, c=3, seed=3)
    # the raw lead (the selection correction has its own tests below)
    a = _Auto(_Zoo(probs), np.random.default_rng(0), 10, eps=0.4, prior_labels=0.0, hysteresis=1.0, switch_z=1.0,
              switch_debias=False)
    lg = a.log_gamma
    a.logw = np.array([1.0, 0.0, 0.0, 0.0]) * lg
    assert a.summary()[0] == 0
    dis = np.flatnonzero(a.zoo.preds[0] != a.zoo.preds[1])
    a.remaining[dis[:64]] = False  # 64 of the pair's points labelled: threshold sqrt(64 (1 - 64 / N))
    thr = np.sqrt(64 * (1 - 64 / dis.size))
    assert thr > 5
    a.logw = np.array([0.0, thr - 0.5, 0.0, 0.0]) * lg  # past the hysteresis of 1, short of the threshold
    assert a.summary()[0] == 0
    a.logw = np.array([0.0, thr + 0.5, 0.0, 0.0]) * lg
    assert a.summary()[0] == 1


def _pair_mu(a, pick, challenger):
    """The expected outcome (challenger right minus pick right) of a label at each point where the two
    disagree, under auto's posterior label model, written out point by point."""
    w, e, C = a.posterior(), a.eps, a.zoo.C
    dis = np.flatnonzero(a.zoo.preds[pick] != a.zoo.preds[challenger])
    mu = []
    for i in dis:
        p = np.array([(w * np.where(a.zoo.preds[:, i] == c, 1 - e, e / (C - 1))).sum() for c in range(C)])
        mu.append(p[a.zoo.preds[challenger, i]] - p[a.zoo.preds[pick, i]])
    return dis, np.array(mu)


def test_auto_selection_bias_is_the_difference_estimators_correction():
    from workbench.active.selection import _Auto, _Zoo

    probs, y = _zoo(h=5, n=150, c=3, seed=8)
    a = _Auto(_Zoo(probs), np.random.default_rng(0), 40, eps=0.4)
    for i in range(0, 60, 3):  # some labels, so the posterior is not the prior
        a.observe(i, int(y[i]))
    a.pick, chal = 4, 2
    dis, mu = _pair_mu(a, 4, chal)
    lab = ~a.remaining[dis]
    n, N = int(lab.sum()), dis.size
    assert 0 < n < N and abs(mu.sum()) > 1
    assert a.selection_bias(chal) == pytest.approx(mu[lab].sum() - n / N * mu.sum())
    # nothing labelled where the two differ, or all of it: no selection to correct
    a.remaining[:] = True
    assert a.selection_bias(chal) == 0.0
    a.remaining[dis] = False
    assert a.selection_bias(chal) == 0.0


def test_auto_selection_bias_has_mean_zero_under_uniform_sampling_within_the_pair():
    # The correction is sum_labelled mu - n/N sum_all mu: for a uniform sample of the pair's points its mean is 0
    # whatever mu is (here mu sums to well away from 0, so a missing n/N term would show as a mean of n/N sum mu).
    from workbench.active.selection import _Auto, _Zoo

    probs, y = _zoo(h=5, n=150, c=3, seed=8)
    a = _Auto(_Zoo(probs), np.random.default_rng(0), 40, eps=0.4)
    a.pick, chal = 4, 0
    dis, mu = _pair_mu(a, 4, chal)
    rng = np.random.default_rng(1)
    n = dis.size // 3
    vals = []
    for _ in range(400):
        a.remaining[:] = True
        a.remaining[rng.choice(dis, n, replace=False)] = False
        vals.append(a.selection_bias(chal))
    vals = np.array(vals)
    se = vals.std(ddof=1) / np.sqrt(vals.size)
    assert abs(vals.mean()) < 3 * se
    assert abs(n / dis.size * mu.sum()) > 10 * se  # what a wrong formula would give is far outside that band


def test_auto_switch_debias_moves_the_pick_on_the_corrected_lead():
    from workbench.active.selection import _Auto, _Zoo

    probs, y = _zoo(h=4, n=400, c=3, seed=3)
    a = _Auto(_Zoo(probs), np.random.default_rng(0), 10, eps=0.4, prior_labels=0.0, hysteresis=1.0, switch_z=0.0)
    lg = a.log_gamma
    a.logw = np.array([1.0, 0.0, 0.0, 0.0]) * lg
    assert a.summary()[0] == 0
    dis = np.flatnonzero(a.zoo.preds[0] != a.zoo.preds[1])
    a.remaining[dis[:30]] = False
    disagree = 0
    for lead in np.linspace(0.0, 4.0, 81):  # challenger 1 leads the pick by `lead` agreements
        a.pick = 0
        a.logw = np.array([0.0, lead, 0.5, 0.5]) * lg  # two more models in play: mu varies over the points
        bias = a.selection_bias(1)  # depends on the posterior, so taken in this state
        corrected = lead - bias > 1.0 + 1e-9
        assert (a.summary()[0] == 1) == corrected, (lead, bias)
        disagree += corrected != (lead > 1.0 + 1e-9)
    assert disagree >= 3  # the correction changed the decision for some leads (else this test could not fail)
    a.switch_debias = False  # the raw lead against the hysteresis
    a.pick = 0
    a.logw = np.array([0.0, 1.02, 0.5, 0.5]) * lg
    assert a.summary()[0] == 1


def _replayed_auto(zoo, probs, y, budget, seed):
    """auto's posterior after its own seeded run of ``budget`` labels: the run's eps and labelled points, replayed
    into a fresh strategy (whose pick is then free to set)."""
    from workbench.active.selection import _Auto

    tr = select_model(probs, y, budget, strategy="auto", random_state=seed)
    a = _Auto(zoo, np.random.default_rng(0), budget, eps=tr.diagnostics["eps"])
    for i in tr.indices:
        a.observe(int(i), int(y[i]))
    return a


@pytest.mark.slow
def test_auto_switch_debias_removes_most_of_the_acquisition_bias_of_the_pair_lead_slow():
    # On the suite's synthetic zoo, after 60 labels of auto's own draw, the runner-up's labelled lead over the best
    # model (where the two disagree) overstates n/N times their pool difference: the draw favours points where the
    # leader is in the minority. Measured 2026-12-02 on these 40 seeds: raw lead minus target +3.3 (s.e. 0.4),
    # corrected +0.5 (s.e. 0.4), with the same spread.
    from workbench.active.selection import _Zoo
    from workbench.active.tasks import load_task

    task = load_task("synthetic")
    P, y = task.zoo.probs, task.zoo.labels
    zoo = _Zoo(P)
    acc = (zoo.preds == y).mean(axis=1)
    best, runner_up = np.argsort(-acc)[:2]
    dis = np.flatnonzero(zoo.preds[best] != zoo.preds[runner_up])
    d = (zoo.preds[runner_up, dis] == y[dis]).astype(int) - (zoo.preds[best, dis] == y[dis])
    raw, adjusted = [], []
    for seed in range(40):
        a = _replayed_auto(zoo, P, y, 60, seed)
        a.pick = best
        lab = ~a.remaining[dis]
        target = lab.sum() / dis.size * d.sum()
        raw.append(d[lab].sum() - target)
        adjusted.append(d[lab].sum() - a.selection_bias(runner_up) - target)
    raw, adjusted = np.array(raw), np.array(adjusted)
    se = raw.std(ddof=1) / np.sqrt(raw.size)
    assert raw.mean() > 4 * se  # the bias is there
    assert abs(adjusted.mean()) < raw.mean() / 3  # and the correction removes most of it
    assert adjusted.std() < 1.2 * raw.std()  # without adding noise


def test_benchmark_part_k_measures_the_pair_lead_of_autos_own_run_against_the_best():
    # the benchmark's diagnostic of the switch-test correction, recomputed here from the public trace and the
    # point-by-point label model: the run replayed, the pair (best, a near model), the labelled excess over n/N of
    # the pool difference, and the correction as the difference estimator's
    from _bench_loader import load_benchmark  # tests/ is on sys.path (pytest prepends it)

    from workbench.active.selection import _Zoo

    bench = load_benchmark("active_selection")
    probs, y = _zoo(h=6, n=150, c=3, seed=3)
    rows = bench._switch_lead_excess(probs, y, seeds=[0, 1, 2], budget=30, n_near=2)
    zoo = _Zoo(probs)
    best, *near = np.argsort(-(zoo.preds == y).mean(axis=1), kind="stable")[:3]
    assert [(r[0], r[1]) for r in rows] == [(s, h) for s in (0, 1, 2) for h in near]
    for seed, h, raw, corrected in rows:
        a = _replayed_auto(zoo, probs, y, 30, seed)
        dis, mu = _pair_mu(a, best, h)
        lab = ~a.remaining[dis]
        d = (zoo.preds[h, dis] == y[dis]).astype(int) - (zoo.preds[best, dis] == y[dis])
        n, N = lab.sum(), dis.size
        assert raw == pytest.approx(d[lab].sum() - n / N * d.sum())
        correction = 0.0 if n in (0, N) else mu[lab].sum() - n / N * mu.sum()
        assert corrected == pytest.approx(raw - correction)
    assert any(r[3] != r[2] for r in rows)  # the correction is not idle on this zoo
    k = bench.part_k([("z", PredictionLog(probs, labels=y))], n_seeds=3, n_jobs=1, budget=30, n_near=2)
    raw = np.array([r[2] for r in rows])
    assert k.loc[0, "rms_raw"] == pytest.approx(np.sqrt((raw ** 2).mean()))
    assert k.loc[0, "excess_raw"] == pytest.approx(raw.mean())


def test_auto_switch_z_changes_only_the_pick_and_replays_in_estimate_accuracies():
    from workbench.active import estimate_accuracies

    probs, y = _zoo(h=6, n=120, c=3, seed=4)
    # the acquisition reads the posterior only: the same points, the same beliefs; eps tuning scores the final
    # pick, so it is given here to keep the two runs on one eps
    base = select_model(probs, y, 40, strategy="auto", random_state=2, switch_z=0.0, eps=0.42)
    t = select_model(probs, y, 40, strategy="auto", random_state=2, switch_z=2.0, eps=0.42)
    np.testing.assert_array_equal(t.indices, base.indices)
    np.testing.assert_allclose(t.prob_best, base.prob_best)
    assert not np.array_equal(t.chosen, base.chosen)  # a threshold of 2 s.e. holds the pick longer here
    est = estimate_accuracies(t, probs)
    assert len(est) == 6 and np.isfinite(est["difference"]).all()


# ---- per-seed runs and the paired comparison of two strategies -------------------------------------
def _two_task_benchmark(seeds=12):
    a, b = _zoo(h=6, n=120, c=3, seed=5), _zoo(h=6, n=90, c=3, seed=6)
    tasks = [("a", PredictionLog(*a[:1], labels=a[1])), ("b", PredictionLog(*b[:1], labels=b[1]))]
    return tasks, benchmark_selection(tasks, ["random", "margin", "auto"], budgets=40, seeds=seeds, random_state=7)


def test_benchmark_selection_runs_are_the_seeded_runs_behind_the_summary():
    import zlib

    tasks, res = _two_task_benchmark()
    runs = res.runs
    assert list(runs.columns) == ["task", "strategy", "seed", "cum_regret_100", "final_pick", "final_regret_points"]
    assert len(runs) == 2 * 3 * 12
    means = runs.groupby(["task", "strategy"], sort=False)["cum_regret_100"].mean().to_numpy()
    np.testing.assert_allclose(means, res.summary["cum_regret_100"].to_numpy(), rtol=1e-12)
    # seed k of a task is the documented child seed: select_model reproduces the run's regret and final pick
    name, zoo = tasks[1]
    acc = zoo.accuracy().to_numpy()
    child = np.random.SeedSequence(7, spawn_key=(zlib.crc32(name.encode()),)).spawn(12)[4]
    t = select_model(zoo, None, 40, strategy="margin", random_state=np.random.default_rng(child))
    row = runs[(runs.task == name) & (runs.strategy == "margin") & (runs.seed == 4)].iloc[0]
    assert row.final_pick == t.chosen[-1]
    assert row.cum_regret_100 == pytest.approx(100 * (acc.max() - acc[t.chosen]).sum())
    assert row.final_regret_points == pytest.approx(100 * (acc.max() - acc[t.chosen[-1]]))
    edited = res.runs
    edited.loc[0, "cum_regret_100"] = -1.0  # a copy: the frozen result is unchanged
    assert res.runs.loc[0, "cum_regret_100"] != -1.0


def test_compare_is_scipys_paired_t_test_per_task_and_a_welch_pool_over_tasks():
    from scipy import stats

    _, res = _two_task_benchmark()
    cmp = res.compare("auto", "random", alpha=0.1)
    assert list(cmp.task) == ["a", "b", "(mean over tasks)"]
    runs = res.runs
    for k, task in enumerate(["a", "b"]):
        x = runs[(runs.task == task) & (runs.strategy == "auto")].cum_regret_100.to_numpy()
        z = runs[(runs.task == task) & (runs.strategy == "random")].cum_regret_100.to_numpy()
        ref = stats.ttest_rel(x, z)
        ci = ref.confidence_interval(0.9)
        row = cmp.iloc[k]
        assert row.mean_difference == pytest.approx((x - z).mean())
        assert row.p_value == pytest.approx(ref.pvalue, rel=1e-9)
        assert (row.ci_low, row.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))
        assert (row.strategy_lower, row.baseline_lower, row.n_seeds) == ((x < z).sum(), (x > z).sum(), 12)
    last = cmp.iloc[2]
    se = np.sqrt((cmp.se.iloc[:2] ** 2).sum()) / 2
    assert last.mean_difference == pytest.approx(cmp.mean_difference.iloc[:2].mean())
    assert last.se == pytest.approx(se)
    v = cmp.se.iloc[:2].to_numpy() ** 2
    df = v.sum() ** 2 / (v ** 2 / 11).sum()  # Welch-Satterthwaite, 12 seeds per task
    assert 11 < df <= 22
    assert last.ci_high - last.mean_difference == pytest.approx(stats.t.ppf(0.95, df) * se)
    assert last.p_value == pytest.approx(2 * stats.t.sf(abs(last.mean_difference) / se, df))
    # the sign convention: strategy minus baseline, so swapping them flips the differences and the intervals
    rev = res.compare("random", "auto", alpha=0.1)
    np.testing.assert_allclose(rev.mean_difference, -cmp.mean_difference)
    np.testing.assert_allclose(rev.ci_low, -cmp.ci_high)
    np.testing.assert_allclose(rev.p_value, cmp.p_value)


def test_compare_with_one_seed_or_no_spread_and_bad_arguments():
    probs, y = _zoo(h=3, n=30, seed=2)
    one = benchmark_selection([("t", PredictionLog(probs, labels=y))], ["random", "margin"], budgets=5, seeds=1)
    row = one.compare("margin", "random").iloc[0]
    assert row.n_seeds == 1 and np.isnan(row.se) and np.isnan(row.ci_low) and np.isnan(row.p_value)
    # a zoo of one model: every strategy picks it, every difference is 0, the interval is the point
    single = PredictionLog(probs[:1], labels=y)
    same = benchmark_selection([("t", single)], ["random", "margin"], budgets=5, seeds=4).compare("margin", "random")
    assert (same.mean_difference == 0).all() and (same.ci_low == 0).all() and (same.p_value == 1).all()
    _, res = _two_task_benchmark(seeds=3)
    with pytest.raises(ValidationError, match="strategy: must be one of"):
        res.compare("coda", "random")
    with pytest.raises(ValidationError, match="baseline: must be one of"):
        res.compare("auto", "Random")
    with pytest.raises(ValidationError, match="baseline: must differ"):
        res.compare("auto", "auto")
    for alpha in (0, 1, 1.5, float("nan")):
        with pytest.raises(ValidationError, match="alpha"):
            res.compare("auto", "random", alpha=alpha)


def test_compare_pairs_on_common_seeds_when_two_benchmarks_are_assembled():
    import pandas as pd

    from workbench.active import SelectionBenchmark

    tasks, _ = _two_task_benchmark(seeds=2)
    big = benchmark_selection(tasks, ["random"], budgets=40, seeds=6, random_state=7)
    small = benchmark_selection(tasks, ["margin"], budgets=40, seeds=3, random_state=7)
    both = SelectionBenchmark.concat([big, small])
    joint = benchmark_selection(tasks, ["random", "margin"], budgets=40, seeds=3, random_state=7)
    pd.testing.assert_frame_equal(both.compare("margin", "random"), joint.compare("margin", "random"))
    assert (both.compare("margin", "random").n_seeds.iloc[:2] == 3).all()
    assert len(both.runs) == 2 * 6 + 2 * 3 and list(both.summary.strategy) == ["random", "random", "margin", "margin"]
    with pytest.raises(ValidationError, match="results: task 'a', strategy 'random' is in result 0 and in result 1"):
        SelectionBenchmark.concat([big, big])
    with pytest.raises(ValidationError, match="results: must be a non-empty"):
        SelectionBenchmark.concat([])


def test_compare_mean_over_tasks_interval_covers_with_few_seeds():
    """The pooled row's 95% interval, 3 tasks x 4 seeds with unequal spreads, normal differences with known
    means: Welch-Satterthwaite coverage near 0.95 (0.948 over 1,000 replicates; a normal quantile 0.873)."""
    import pandas as pd
    from scipy import stats

    from workbench.active import SelectionBenchmark

    rng = np.random.default_rng(11)
    sd, truth, reps, n = np.array([1.0, 3.0, 6.0]), np.array([2.0, -1.0, 0.5]), 500, 4
    empty = pd.DataFrame()
    hits, normal_hits = 0, 0
    for _ in range(reps):
        d = truth[:, None] + sd[:, None] * rng.standard_normal((3, n))
        runs = pd.DataFrame({"task": np.repeat(["a", "b", "c"], 2 * n),
                             "strategy": np.tile(np.repeat(["x", "y"], n), 3), "seed": np.tile(np.arange(n), 6),
                             "cum_regret_100": np.stack([d, np.zeros_like(d)], 1).ravel(), "final_pick": 0,
                             "final_regret_points": 0.0})
        last = SelectionBenchmark(empty, empty, runs).compare("x", "y").iloc[-1]
        hits += last.ci_low <= truth.mean() <= last.ci_high
        normal_hits += abs(last.mean_difference - truth.mean()) <= stats.norm.ppf(0.975) * last.se
    assert 0.925 <= hits / reps <= 0.975, hits / reps  # 2.5 s.e. of a 0.95 share over 500 replicates
    assert normal_hits / reps < 0.91  # the test can tell the two apart
