"""Comparison tests: parity with statsmodels / scipy / mlxtend and type-I error under a true null."""
import numpy as np
import pytest
from scipy import stats
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier

from workbench import ValidationError
from workbench.resample import (bayesian_correlated_t_test, cochrans_q, corrected_resampled_t_test,
                                critical_difference, f_test_5x2cv, friedman_test, mcnemar_table, mcnemar_test,
                                nemenyi_test, null_cv_scores, paired_difference_interval, paired_t_5x2cv, wilcoxon_holm_test)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X[:300], y[:300]


# ---------------------------------------------------------------- McNemar
def _random_predictions(seed=0, n=300):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    pa = np.where(rng.random(n) < 0.85, y, 1 - y)
    pb = np.where(rng.random(n) < 0.78, y, 1 - y)
    return y, pa, pb


def test_mcnemar_parity_with_statsmodels():
    from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

    for seed in range(4):
        y, pa, pb = _random_predictions(seed)
        table = mcnemar_table(y, pa, pb)
        ex = mcnemar_test(y, pa, pb, method="exact")
        assert ex.p_value == pytest.approx(sm_mcnemar(table, exact=True).pvalue, rel=1e-10, abs=1e-14)
        for method, corr in (("asymptotic", False), ("corrected", True)):
            ours = mcnemar_test(table=table, method=method)
            ref = sm_mcnemar(table, exact=False, correction=corr)
            assert ours.statistic == pytest.approx(ref.statistic, rel=1e-10)
            assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-10)


def test_mcnemar_parity_with_mlxtend():
    mlx = pytest.importorskip("mlxtend.evaluate")
    y, pa, pb = _random_predictions(7)
    tb = mlx.mcnemar_table(y_target=y, y_model1=pa, y_model2=pb)
    # mlxtend's table puts "both right" at [0, 0]; its off-diagonal cells are our b and c.
    _, p_exact = mlx.mcnemar(tb, exact=True)
    chi, p_corr = mlx.mcnemar(tb, corrected=True)
    chi_u, p_unc = mlx.mcnemar(tb, corrected=False)
    assert mcnemar_test(y, pa, pb, method="exact").p_value == pytest.approx(p_exact, rel=1e-10)
    r = mcnemar_test(y, pa, pb, method="corrected")
    assert (r.statistic, r.p_value) == pytest.approx((chi, p_corr), rel=1e-10)
    r = mcnemar_test(y, pa, pb, method="asymptotic")
    assert (r.statistic, r.p_value) == pytest.approx((chi_u, p_unc), rel=1e-10)


def test_mcnemar_mid_p_hand_computed_and_edge_cases():
    # b = 12, c = 3: exact = 2 P(X <= 3), X ~ Bin(15, 1/2) = 2 * 576/32768; mid-p subtracts P(X = 3) = 455/32768.
    r = mcnemar_test(table=[[50, 12], [3, 35]], method="exact")
    assert r.p_value == pytest.approx(2 * 576 / 32768, rel=1e-12)
    m = mcnemar_test(table=[[50, 12], [3, 35]], method="mid-p")
    assert m.p_value == pytest.approx((2 * 576 - 455) / 32768, rel=1e-12)
    assert m.effect == pytest.approx(9 / 100)
    assert mcnemar_test(table=[[10, 4], [4, 10]], method="mid-p").p_value == pytest.approx(1.0)
    same = mcnemar_test(table=[[10, 0], [0, 10]], method="asymptotic")
    assert same.p_value == 1.0 and same.statistic == 0.0
    with pytest.raises(ValidationError, match="2x2"):
        mcnemar_test(table=[[1, 2, 3]])
    with pytest.raises(ValidationError, match="non-negative integer"):
        mcnemar_test(table=[[1, -2], [3, 4]])
    with pytest.raises(ValidationError, match="one prediction per label"):
        mcnemar_test([0, 1, 1], [0, 1], [0, 1, 0])


def test_newcombe_interval_hand_case_and_properties():
    # Hand computation of Newcombe's method 10 for a = 40, b = 10, c = 5, d = 45 (n = 100).
    a, b, c, d, n = 40, 10, 5, 45, 100
    z = stats.norm.ppf(0.975)

    def wilson(x):
        p = x / n
        cen = (p + z * z / (2 * n)) / (1 + z * z / n)
        h = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return cen - h, cen + h

    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b)
    l2, u2 = wilson(a + c)
    # Newcombe's continuity-corrected phi: ad - bc = 1750 > n / 2, so it is shrunk by n / 2.
    phi = (a * d - b * c - n / 2) / np.sqrt((a + b) * (c + d) * (a + c) * (b + d))
    lo = (p1 - p2) - np.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    hi = (p1 - p2) + np.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    ours = paired_difference_interval([[a, b], [c, d]], method="newcombe")
    assert ours == pytest.approx((lo, hi), rel=1e-12)
    # Symmetry: swapping the models negates the interval.
    sw = paired_difference_interval([[a, c], [b, d]], method="newcombe")
    assert sw == pytest.approx((-hi, -lo), rel=1e-12)
    # Wald by formula; Agresti-Min is Wald on the table + 1/2.
    w = paired_difference_interval([[a, b], [c, d]], method="wald")
    half = z * np.sqrt((b + c) - (b - c) ** 2 / n) / n
    assert w == pytest.approx((0.05 - half, 0.05 + half), rel=1e-12)


def test_newcombe_matches_fagerland_contingencytables():
    # Reference output of Fagerland, Lydersen & Laake's R package contingencytables
    # (Newcombe_square_and_add_CI_paired_2x2 on Cavo et al. 2012, table [[59, 6], [16, 80]]):
    # estimate -0.0621, 95% CI -0.1186 to -0.0046 (printed to 4 decimals).
    lo, hi = paired_difference_interval([[59, 6], [16, 80]], method="newcombe")
    assert (round(lo, 4), round(hi, 4)) == (-0.1186, -0.0046)


def test_newcombe_coverage_simulation():
    # 95% Newcombe intervals for acc_A - acc_B with n = 80: coverage 93-97.5% over 1500 tables.
    rng = np.random.default_rng(0)
    probs = np.array([0.62, 0.15, 0.08, 0.15])  # both right, A only, B only, both wrong; true diff 0.07
    tables = rng.multinomial(80, probs, size=1500)
    cover = []
    for t in tables:
        lo, hi = paired_difference_interval(t.reshape(2, 2))
        cover.append(lo <= 0.07 <= hi)
    assert 0.93 <= np.mean(cover) <= 0.975


def test_mcnemar_bootstrap_interval_and_cochrans_q_parity():
    y, pa, pb = _random_predictions(3)
    r = mcnemar_test(y, pa, pb, ci_method="bootstrap", n_resamples=500, random_state=0)
    assert r.ci_low < r.effect < r.ci_high
    from statsmodels.stats.contingency_tables import cochrans_q as sm_q

    rng = np.random.default_rng(1)
    pc = np.where(rng.random(y.size) < 0.8, y, 1 - y)
    q = cochrans_q(y, pa, pb, pc)
    ref = sm_q(np.column_stack([pa == y, pb == y, pc == y]).astype(int))
    assert q.statistic == pytest.approx(ref.statistic, rel=1e-10) and q.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    mlx = pytest.importorskip("mlxtend.evaluate")
    mq, mp = mlx.cochrans_q(y, pa, pb, pc)
    assert q.statistic == pytest.approx(mq, rel=1e-10) and q.p_value == pytest.approx(mp, rel=1e-10)


# ---------------------------------------------------------------- 5x2cv: mlxtend parity and scores input
def _mlxtend_splits(n, seed):
    rng = np.random.RandomState(seed)
    splits = []
    for _ in range(5):
        i1, i2 = train_test_split(np.arange(n), test_size=0.5, random_state=rng.randint(low=0, high=32767))
        splits += [(i1, i2), (i2, i1)]
    return splits


def test_5x2cv_parity_with_mlxtend(cancer):
    mlx = pytest.importorskip("mlxtend.evaluate")
    X, y = cancer
    a = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    b = DecisionTreeClassifier(max_depth=3, random_state=0)
    t_ref, p_ref = mlx.paired_ttest_5x2cv(estimator1=a, estimator2=b, X=X, y=y, random_seed=3)
    f_ref, pf_ref = mlx.combined_ftest_5x2cv(estimator1=a, estimator2=b, X=X, y=y, random_seed=3)
    splits = _mlxtend_splits(len(y), 3)
    t = paired_t_5x2cv(a, b, X, y, cv=splits)
    f = f_test_5x2cv(a, b, X, y, cv=splits)
    assert t.statistic == pytest.approx(t_ref, rel=1e-8) and t.p_value == pytest.approx(p_ref, rel=1e-8)
    assert f.statistic == pytest.approx(f_ref, rel=1e-8) and f.p_value == pytest.approx(pf_ref, rel=1e-8)
    # The same test from fold scores the user already has (cross_validate output on those splits).
    ca = cross_validate(a, X, y, cv=splits)
    cb = cross_validate(b, X, y, cv=splits)
    t2 = paired_t_5x2cv(ca, cb)
    assert t2.statistic == pytest.approx(t.statistic, rel=1e-12)
    # ... and running its own seeded folds is reproducible.
    r1 = f_test_5x2cv(a, b, X, y, random_state=0)
    r2 = f_test_5x2cv(a, b, X, y, random_state=0)
    assert r1.statistic == r2.statistic


def test_5x2cv_hand_computed():
    d = np.array([0.03, 0.01, 0.03, 0.01, 0.02, 0.03, 0.02, 0.01, 0.02, 0.01])
    p = d.reshape(5, 2)
    s2 = ((p - p.mean(1, keepdims=True)) ** 2).sum(1)
    r = paired_t_5x2cv(d, np.zeros(10))
    assert r.statistic == pytest.approx(0.03 / np.sqrt(s2.sum() / 5), rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.t.sf(r.statistic, 5), rel=1e-12)
    f = f_test_5x2cv(d.reshape(5, 2), np.zeros((5, 2)))
    assert f.statistic == pytest.approx((d**2).sum() / (2 * s2.sum()), rel=1e-12)
    assert f.p_value == pytest.approx(stats.f.sf(f.statistic, 10, 5), rel=1e-12)
    with pytest.raises(ValidationError, match="10 fold scores"):
        paired_t_5x2cv(np.zeros(8), np.zeros(8))


def test_corrected_t_and_bayesian_by_formula():
    rng = np.random.default_rng(0)
    sa, sb = rng.normal(0.8, 0.03, 100), rng.normal(0.79, 0.03, 100)
    d = sa - sb
    r = corrected_resampled_t_test(sa, sb, n_train=90, n_test=10)
    se = np.sqrt((1 / 100 + 10 / 90) * d.var(ddof=1))
    assert r.statistic == pytest.approx(d.mean() / se, rel=1e-12)
    assert r.p_value == pytest.approx(2 * stats.t.sf(abs(d.mean() / se), 99), rel=1e-12)
    naive = corrected_resampled_t_test(sa, sb, corrected=False)
    assert naive.statistic == pytest.approx(d.mean() / np.sqrt(d.var(ddof=1) / 100), rel=1e-12)
    bay = bayesian_correlated_t_test(sa, sb, rho=0.1, rope=0.01)
    post = stats.t(99, loc=d.mean(), scale=np.sqrt((1 / 100 + 0.1 / 0.9) * d.var(ddof=1)))
    assert bay.details["p_left"] == pytest.approx(post.cdf(-0.01), rel=1e-12)
    assert bay.details["p_right"] == pytest.approx(post.sf(0.01), rel=1e-12)
    assert bay.details["p_left"] + bay.details["p_rope"] + bay.details["p_right"] == pytest.approx(1.0)
    with pytest.raises(ValidationError, match="n_train"):
        corrected_resampled_t_test(sa, sb)


def test_cv_tests_run_folds_themselves(cancer):
    X, y = cancer
    a = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    b = DecisionTreeClassifier(max_depth=2, random_state=0)
    r = corrected_resampled_t_test(a, b, X, y, n_splits=5, n_repeats=2, random_state=0)
    assert r.details["J"] == 10 and r.details["test_train_ratio"] == pytest.approx(0.25, rel=0.02)
    bay = bayesian_correlated_t_test(a, b, X, y, n_splits=5, n_repeats=2, random_state=0)
    assert bay.details["rho"] == pytest.approx(0.2, rel=0.02)


# ---------------------------------------------------------------- type-I error under a true null
def test_type_one_error_of_two_algorithm_tests():
    # 1000 null data sets, alpha = 0.05. Band for a valid test: 0.05 +- 3.5 MC SE (+-0.024); the
    # 5x2cv tests are known to be slightly conservative (Dietterich 1998; ~0.04 in references 2.10), so
    # their lower side is relaxed to 0.015 (it still catches a test that never rejects).
    R = 1000
    a10, b10 = null_cv_scores(R, 100, 10, 10, random_state=2024)
    a52, b52 = null_cv_scores(R, 100, 2, 5, random_state=2025)
    rej = {k: [] for k in ("naive", "nb", "bayes", "t52", "f52")}
    for r in range(R):
        rej["naive"].append(corrected_resampled_t_test(a10[r], b10[r], corrected=False).p_value < 0.05)
        nb = corrected_resampled_t_test(a10[r], b10[r], n_train=90, n_test=10)
        rej["nb"].append(nb.p_value < 0.05)
        bay = bayesian_correlated_t_test(a10[r], b10[r], rho=0.1, rope=0.0)
        rej["bayes"].append(max(bay.details["p_left"], bay.details["p_right"]) > 0.975)
        rej["t52"].append(paired_t_5x2cv(a52[r], b52[r]).p_value < 0.05)
        rej["f52"].append(f_test_5x2cv(a52[r], b52[r]).p_value < 0.05)
    rate = {k: float(np.mean(v)) for k, v in rej.items()}
    print("type-I error at alpha=0.05 over", R, "null data sets:", rate)
    assert rate["naive"] > 0.35, rate  # the naive 10x10 t-test: ~0.5-0.6 false positives
    assert 0.026 <= rate["nb"] <= 0.074, rate
    assert 0.015 <= rate["t52"] <= 0.074 and 0.015 <= rate["f52"] <= 0.074, rate
    # With rho = n_test / n and no ROPE, the Bayesian test's 97.5% decision IS the Nadeau-Bengio test.
    assert rej["bayes"] == rej["nb"]


# ---------------------------------------------------------------- many data sets
def test_friedman_parity_with_scipy_and_iman_davenport():
    rng = np.random.default_rng(0)
    S = rng.random((12, 4)) + [0.0, 0.1, 0.15, 0.3]
    S[3, :2] = 0.5  # a tie
    r = friedman_test(S)
    ref = stats.friedmanchisquare(*(-S).T)
    assert r.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert r.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    N, k = S.shape
    ff = (N - 1) * r.statistic / (N * (k - 1) - r.statistic)
    assert r.iman_davenport == pytest.approx(ff, rel=1e-12)
    assert r.iman_davenport_p_value == pytest.approx(stats.f.sf(ff, k - 1, (k - 1) * (N - 1)), rel=1e-12)
    expected = stats.rankdata(-S, axis=1).mean(axis=0)
    got = r.mean_ranks.set_index("name").loc[[f"algo_{j}" for j in range(k)], "mean_rank"].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert r.mean_ranks["mean_rank"].is_monotonic_increasing


def test_friedman_with_every_algorithm_tied_reports_no_evidence():
    # all ranks tied: scipy gives NaN; an Iman-Davenport p of 0 would claim the strongest possible difference
    with pytest.warns(RuntimeWarning, match="undefined"):
        r = friedman_test(np.ones((5, 3)))
    assert np.isnan(r.p_value) and np.isnan(r.iman_davenport) and np.isnan(r.iman_davenport_p_value)
    with np.errstate(invalid="ignore"):
        assert np.isnan(stats.friedmanchisquare(*np.ones((5, 3)).T).pvalue)
    # identical rankings on every data set: infinite F, and p the exact probability of that under H0,
    # (k!)^(1 - N) = 6^-5 (a real, perfectly consistent difference, but not p = 0 with 6 data sets)
    r = friedman_test(np.tile([0.9, 0.8, 0.7], (6, 1)))
    assert r.iman_davenport == np.inf and r.iman_davenport_p_value == pytest.approx(6.0 ** -5)


def test_nemenyi_critical_values_match_demsar_table():
    # Demsar (2006), Table 5(a): q_0.05 for k = 2..10.
    q05 = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
    for k, q in zip(range(2, 11), q05):
        assert critical_difference(k, 6, 0.05) == pytest.approx(q * np.sqrt(k * (k + 1) / 36), abs=2e-3)
    rng = np.random.default_rng(1)
    S = rng.random((20, 5)) + np.array([0, 0.02, 0.3, 0.5, 0.6])
    r = nemenyi_test(S)
    pair = r.pairwise.query("a == 'algo_0' and b == 'algo_4'").iloc[0]
    assert bool(pair["significant"]) == (abs(pair["rank_difference"]) >= r.critical_difference)
    # The p-value crosses alpha exactly where the rank difference crosses the CD.
    for _, row in r.pairwise.iterrows():
        assert (row["p_value"] < 0.05) == (abs(row["rank_difference"]) > r.critical_difference)


def test_wilcoxon_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(2)
    S = rng.random((15, 3)) + np.array([0, 0.05, 0.4])
    r = wilcoxon_holm_test(S, names=["a", "b", "c"])
    raw = [stats.wilcoxon(S[:, i], S[:, j]).pvalue for i, j in ((0, 1), (0, 2), (1, 2))]
    np.testing.assert_allclose(r.pairwise["p_value"], raw, rtol=1e-12)
    np.testing.assert_allclose(r.pairwise["p_adjusted"], multipletests(raw, method="holm")[1], rtol=1e-12)
    assert "wilcoxon" in repr(r)


def test_mcnemar_refuses_predictions_of_another_label_type():
    y = np.array([0, 1, 1, 0, 1])
    with pytest.raises(ValidationError, match="same kind"):
        mcnemar_test(y, y.astype(str), y)
    with pytest.raises(ValidationError, match="same kind"):
        cochrans_q(y, y, y.astype(str))
    s = np.array(["a", "b", "b", "a", "b"])
    assert mcnemar_test(s, s.astype(object), s).details["b"] == 0  # object strings compare with strings


def test_corrected_t_test_checks_split_sizes_and_takes_an_int_cv():
    d = np.ones(10) + np.arange(10) * 0.01
    for n_train, n_test in [(0, 5), (-10, -1), ("90", 10), (True, 1), (np.nan, 10)]:
        with pytest.raises(ValidationError, match="n_train"):
            corrected_resampled_t_test(d, np.ones(10), n_train=n_train, n_test=n_test)
    # mean sizes over unequal splits (as cv_scores_two returns them) are sizes too: only the ratio matters
    r = corrected_resampled_t_test(d, np.ones(10), n_train=90.5, n_test=10)
    assert r.details["test_train_ratio"] == pytest.approx(10 / 90.5)
    X, y = load_breast_cancer(return_X_y=True)
    X = X[:200, :5]
    y = y[:200]
    r = corrected_resampled_t_test(DecisionTreeClassifier(random_state=0), DecisionTreeClassifier(max_depth=1),
                                   X, y, cv=5)
    assert r.details["J"] == 5 and r.details["test_train_ratio"] == pytest.approx(0.25)  # cv=5: 5 folds, as sklearn


def test_test_result_arrays_are_read_only_copies_and_the_result_pickles():
    import pickle

    d = np.arange(10.0) * 0.01 + 1
    r = corrected_resampled_t_test(d, np.ones(10), n_train=90, n_test=10)
    with pytest.raises(ValueError):
        r.details["differences"][0] = 99.0
    assert pickle.loads(pickle.dumps(r)).p_value == r.p_value


# ---------------------------------------------------------------- audit: degenerate inputs
def _rounded_equal_differences():
    b = np.round(np.random.default_rng(0).uniform(0.5, 0.9, 10), 2)
    a = b + 0.07  # every difference is 0.07, up to ~1e-16 of rounding
    assert np.ptp(a - b) > 0
    return a, b


def test_equal_differences_up_to_rounding_are_zero_variance():
    a, b = _rounded_equal_differences()
    for f in (lambda: corrected_resampled_t_test(a, b, n_train=90, n_test=10),
              lambda: paired_t_5x2cv(a, b), lambda: f_test_5x2cv(a, b)):
        with pytest.raises(ValidationError, match="undefined"):
            f()  # was t ~ 1e15, p ~ 1e-136 from a variance of 1e-33
    r = bayesian_correlated_t_test(a, b, rho=0.1)
    assert r.details["scale"] == 0 and np.isnan(r.statistic)


def test_5x2cv_refuses_folds_by_replications_array():
    a = np.linspace(0.7, 0.9, 10)
    b = a - 0.05 * np.sin(np.arange(10))
    with pytest.raises(ValidationError, match=r"shape \(2, 5\)"):
        paired_t_5x2cv(a.reshape(2, 5), b.reshape(2, 5))
    paired_t_5x2cv(a.reshape(5, 2), b.reshape(5, 2))


def test_test_train_ratio_must_be_a_finite_number():
    d = [0.1, 0.2, 0.3]
    for bad in ("0.1", float("inf")):
        with pytest.raises(ValidationError, match="test_train_ratio"):
            corrected_resampled_t_test(d, [0.2, 0.3, 0.1], test_train_ratio=bad)


def test_bayesian_bad_n_train_names_n_train():
    with pytest.raises(ValidationError, match="n_train"):
        bayesian_correlated_t_test([0.1, 0.2, 0.3], [0.2, 0.3, 0.1], n_train=-5, n_test=10)


def test_newcombe_interval_stays_inside_minus_one_one():
    lo, hi = paired_difference_interval([[0, 25], [0, 0]], method="newcombe")
    assert hi <= 1.0 and lo >= -1.0
    assert mcnemar_test(table=[[0, 0], [25, 0]]).ci_low >= -1.0


def test_mcnemar_string_table_is_a_validation_error():
    with pytest.raises(ValidationError, match="table"):
        mcnemar_test(table=[["1", "2"], ["3", "4"]])


def test_cochrans_q_degenerate_inputs():
    with pytest.raises(ValidationError, match="at least 1 row"):
        cochrans_q(correct=np.ones((0, 3)))
    with pytest.warns(RuntimeWarning, match="undefined"):
        r = cochrans_q(correct=np.r_[np.ones((3, 3)), np.zeros((2, 3))])
    assert np.isnan(r.statistic) and np.isnan(r.p_value)


def test_friedman_with_every_algorithm_tied_warns_that_the_statistic_is_undefined():
    # 0/0 after the tie correction: NaN, and a warning says why (not a silent NaN)
    for fn in (friedman_test, nemenyi_test, wilcoxon_holm_test):
        with pytest.warns(RuntimeWarning, match=rf"{fn.__name__}: every algorithm ties on every data set.*"
                                                r"undefined \(0/0"):
            r = fn(np.full((4, 3), 0.7))
        assert np.isnan(r.statistic) and np.isnan(r.p_value)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ties on some data sets only: defined, no warning
        assert np.isfinite(friedman_test(np.array([[0.7, 0.7, 0.7], [0.9, 0.8, 0.7], [0.6, 0.8, 0.7]])).statistic)


def test_wald_interval_without_discordant_pairs_warns_and_suggests_newcombe():
    with pytest.warns(RuntimeWarning, match="degenerate.*newcombe"):
        lo, hi = paired_difference_interval([[40, 0], [0, 10]], method="wald")
    assert (lo, hi) == (0.0, 0.0)  # unchanged: the warning says what it is worth
    with pytest.warns(RuntimeWarning, match="Wald interval is degenerate"):
        mcnemar_test(table=[[40, 0], [0, 10]], ci_method="wald")
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # discordant pairs, or the other methods: no warning
        paired_difference_interval([[40, 1], [0, 10]], method="wald")
        paired_difference_interval([[40, 0], [0, 10]], method="newcombe")
        paired_difference_interval([[40, 0], [0, 10]], method="agresti-min")


class _BrokenFit(LogisticRegression):
    """Raises a ValueError from fit that has nothing to do with the split."""

    def fit(self, X, y, sample_weight=None):
        raise ValueError("a bug in the estimator")


def test_cv_scores_two_names_the_split_whose_training_set_cannot_be_fitted():
    from workbench.resample import cv_scores_two

    X = np.arange(12, dtype=float).reshape(6, 2)
    y = np.array([0, 0, 0, 1, 1, 1])
    ok = (np.array([0, 1, 3, 4]), np.array([2, 5]))
    one_class = (np.array([0, 1, 2]), np.array([3, 4, 5]))
    with pytest.raises(ValidationError, match=r"split 1 \(of 2.*estimator_a.*lacks class\(es\) \[1\].*"
                                              r"the fit failed: .*class") as info:
        cv_scores_two(LogisticRegression(), LogisticRegression(), X, y, cv=[ok, one_class])
    assert type(info.value.__cause__) is ValueError  # raised from scikit-learn's error
    empty = (np.array([], dtype=np.int64), np.arange(6))
    with pytest.raises(ValidationError, match=r"split 0 .*training set is empty.*the fit failed") as info:
        cv_scores_two(LogisticRegression(), LogisticRegression(), X, y, cv=[empty, ok])
    assert type(info.value.__cause__) is ValueError
    # an error that is not about the split passes through untouched
    with pytest.raises(ValueError, match="a bug in the estimator") as info:
        cv_scores_two(LogisticRegression(), _BrokenFit(), X, y, cv=[ok, ok])
    assert not isinstance(info.value, ValidationError)
