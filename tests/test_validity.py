"""The validity report can fail: it finds a broken interval, flags the invalid test, and reproduces.

Bands used here are the report's own: observed share within nominal +- 3.5 Monte Carlo standard
errors, sqrt(c (1 - c) / R), for the replicate count R stated in each test.
"""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from workbench import ValidationError  # noqa: E402
from workbench.plotting import coverage_plot, type1_plot  # noqa: E402
from workbench.resample import bootstrap_ci, bootstrap_intervals  # noqa: E402
from workbench.validity import (SCENARIOS, TESTS, Scenario, active_interval_coverage, bernoulli_mean,  # noqa: E402
                                interval_coverage, mc_band, ope_interval_coverage, type1_error)

COVERAGE_COLUMNS = ["scenario", "n", "method", "coverage", "mc_se", "band_low", "band_high", "mean_width",
                    "n_replicates", "within_band", "level", "miss_low", "miss_high", "n_undefined", "truth"]


def test_band_matches_the_reference_protocol():
    # references 2.10: +-.017 at 95% and +-.024 at 90% for R = 2000
    lo, hi = mc_band(0.95, 2000)
    assert round(hi - 0.95, 3) == 0.017 and round(0.95 - lo, 3) == 0.017
    lo, hi = mc_band(0.90, 2000)
    assert abs((hi - 0.90) - 0.024) < 0.001 and abs((0.90 - lo) - 0.024) < 0.001


def test_scenario_truths_are_right_by_monte_carlo():
    # each registered truth against a 400,000-row draw (the statistic within 4 standard errors)
    rng = np.random.default_rng(0)
    for s in SCENARIOS.values():
        data = s.draw(rng, 400_000)
        if s.statistic == "mean":
            est, se = data.mean(), data.std() / np.sqrt(data.size)
        else:
            num, den = data
            est = num.mean() / den.mean()
            se = np.std((num - est * den) / den.mean()) / np.sqrt(num.size)
        assert abs(est - s.truth) < 4 * se, (s.name, est, s.truth, se)


def test_interval_coverage_columns_and_shared_bootstrap():
    cov = interval_coverage(["exponential-mean", "bernoulli-ratio"], n=(20, 40), n_replicates=30, n_resamples=99,
                            progress=False)
    assert set(COVERAGE_COLUMNS) <= set(cov.columns)
    assert len(cov) == 2 * 2 * 5 and (cov["n_replicates"] == 30).all()
    assert cov["coverage"].between(0, 1).all() and (cov["band_low"] < 0.95).all() and (cov["band_high"] > 0.95).all()
    assert (cov["miss_low"] + cov["miss_high"] + cov["n_undefined"] / 30 + cov["coverage"]).round(12).eq(1).all()


def test_the_report_measures_what_bootstrap_intervals_prints():
    # One replicate through the report's path equals the public bootstrap_intervals on the same data and seed.
    from workbench.validity import _draw_replicate, _replicate_intervals

    s = SCENARIOS["lognormal-ratio"]
    ss = np.random.SeedSequence(5)
    data, seed = _draw_replicate(s, 60, ss)
    methods = [(m, m) for m in ("percentile", "basic", "bca", "studentized", "normal")]
    lo, hi = _replicate_intervals(data, "ratio", seed, methods, tuple(m for m, _ in methods), 299, 0.05, "multinomial")
    ref = bootstrap_intervals(data, "ratio", methods=[m for m, _ in methods], n_resamples=299, random_state=seed)
    np.testing.assert_allclose(lo, ref["ci_low"], rtol=1e-12)
    np.testing.assert_allclose(hi, ref["ci_high"], rtol=1e-12)


def test_a_broken_interval_is_caught_out_of_band():
    # A plausible bug: passing the one-sided alpha, i.e. a 90% interval sold as 95%. Normal data,
    # n = 60, R = 600 (band 0.95 +- 0.031): the correct percentile interval is inside, the broken one
    # (true coverage ~0.90) is far below.
    def wrong_alpha(data, statistic, alpha, random_state):
        r = bootstrap_ci(data, statistic, method="percentile", n_resamples=299, alpha=2 * alpha,
                         random_state=random_state)
        return r.ci_low, r.ci_high

    def too_narrow(data, statistic, alpha, random_state):  # shrinks the correct interval by 40%
        r = bootstrap_ci(data, statistic, method="percentile", n_resamples=299, alpha=alpha,
                         random_state=random_state)
        c = r.estimate
        return c - 0.6 * (c - r.ci_low), c + 0.6 * (r.ci_high - c)

    cov = interval_coverage(["normal-mean"], methods=["percentile", wrong_alpha, ("narrow", too_narrow)], n=60,
                            n_replicates=600, n_resamples=299, random_state=3, progress=False).set_index("method")
    assert cov.loc["percentile", "within_band"], cov
    assert not cov.loc["wrong_alpha", "within_band"] and cov.loc["wrong_alpha", "coverage"] < 0.92, cov
    assert not cov.loc["narrow", "within_band"] and cov.loc["narrow", "coverage"] < 0.85, cov
    assert cov.loc["narrow", "mean_width"] < cov.loc["percentile", "mean_width"]


def test_lattice_truth_changes_with_open_or_closed_intervals():
    # p = 0.85 lies on the k/n lattice at n = 100: end points can equal the truth exactly, so open and
    # closed intervals disagree; the off-lattice truth 0.8537 cannot coincide with an end point.
    on = [bernoulli_mean(0.85)]
    kw = dict(methods=["percentile"], n=100, n_replicates=300, n_resamples=199, random_state=1, progress=False)
    closed = interval_coverage(on, closed=True, **kw)["coverage"].iloc[0]
    opened = interval_coverage(on, closed=False, **kw)["coverage"].iloc[0]
    assert closed - opened > 0.02
    off = ["bernoulli-mean"]
    assert (interval_coverage(off, closed=True, **kw)["coverage"].iloc[0]
            == interval_coverage(off, closed=False, **kw)["coverage"].iloc[0])


def test_seeds_reproduce_for_any_n_jobs_and_any_grid():
    kw = dict(methods=["percentile", "bca"], n_replicates=40, n_resamples=99, random_state=7, progress=False)
    a = interval_coverage(["exponential-mean", "normal-ratio"], n=(20, 30), chunk_size=7, **kw)
    b = interval_coverage(["exponential-mean", "normal-ratio"], n=(20, 30), n_jobs=2, chunk_size=13, **kw)
    assert a.equals(b)
    # a cell gives the same numbers whatever else is in the grid
    c = interval_coverage(["normal-ratio"], n=30, **kw)
    sub = a[(a["scenario"] == "normal-ratio") & (a["n"] == 30)].reset_index(drop=True)
    assert sub.equals(c)
    d = interval_coverage(["normal-ratio"], n=30, **{**kw, "random_state": 8})
    assert not d["mean_width"].equals(c["mean_width"])


def test_type1_naive_t_far_above_and_corrected_tests_near_alpha():
    # R = 400 null data sets: band 0.05 +- 0.038. The naive 10x10 t rejects ~57% (references 2.10).
    t1 = type1_error(["naive-resampled-t", "nadeau-bengio-t", "5x2cv-f", "bayesian-correlated-t"], n_datasets=400,
                     progress=False).set_index("test")
    assert {"rejection_rate", "mc_se", "nominal", "verdict"} <= set(t1.columns)
    assert t1.loc["naive-resampled-t", "rejection_rate"] > 0.4 and t1.loc["naive-resampled-t", "verdict"] == "liberal"
    for t in ("nadeau-bengio-t", "5x2cv-f"):
        assert t1.loc[t, "rejection_rate"] <= t1.loc[t, "band_high"], t1
    # ROPE 0 and P > 1 - alpha/2: the Bayesian decision coincides with the Nadeau-Bengio test
    assert abs(t1.loc["bayesian-correlated-t", "rejection_rate"] - t1.loc["nadeau-bengio-t", "rejection_rate"]) < 0.01


def test_type1_mcnemar_and_ranks():
    t1 = type1_error(["mcnemar-exact", "mcnemar-mid-p", "mcnemar-asymptotic", "friedman", "iman-davenport"],
                     n_datasets=300, progress=False, chunk_size=100).set_index("test")
    # the exact test's p-value is never below mid-p's on the same table, so it rejects no more often
    assert t1.loc["mcnemar-exact", "rejection_rate"] <= t1.loc["mcnemar-mid-p", "rejection_rate"]
    assert (t1["rejection_rate"] <= t1["band_high"]).all(), t1
    assert t1["setup"].str.len().gt(0).all()
    assert type1_error(["friedman"], n_datasets=50, progress=False).equals(
        type1_error(["friedman"], n_datasets=50, progress=False, n_jobs=2))


def test_ope_interval_coverage_runs_the_estimators():
    cov = ope_interval_coverage(estimators=["ips", "snips"], intervals=["percentile", "bernstein"], n=200,
                                n_replicates=30, n_bootstrap=100, progress=False)
    assert set(COVERAGE_COLUMNS) <= set(cov.columns)
    # bernstein only for IPS-type estimators
    assert cov["method"].tolist() == ["ips percentile", "snips percentile", "ips bernstein"]
    b = cov.set_index("method")
    # the finite-sample bound is wider than the bootstrap interval and covers
    assert b.loc["ips bernstein", "mean_width"] > b.loc["ips percentile", "mean_width"]
    assert b.loc["ips bernstein", "coverage"] >= 0.9


def test_active_interval_coverage_lure_and_iid_cover():
    # R = 300 acquisition runs on a fixed pool of 300 points: band 0.95 +- 0.044
    cov = active_interval_coverage(methods=["lure", "iid"], surrogates=["calibrated"], budgets=(30, 60),
                                   n_replicates=300, progress=False)
    assert set(COVERAGE_COLUMNS) <= set(cov.columns)
    assert cov["scenario"].tolist() == ["calibrated surrogate"] * 2 + ["uniform sampling"] * 2
    assert (cov["coverage"] >= cov["band_low"]).all(), cov
    # the biased "naive" mean under active acquisition is caught
    naive = active_interval_coverage(methods=["naive"], surrogates=["calibrated"], budgets=(60,), n_replicates=300,
                                     progress=False)
    assert not naive["within_band"].iloc[0] and naive["coverage"].iloc[0] < 0.85, naive


def test_bad_input_is_refused():
    with pytest.raises(ValidationError, match="scenarios"):
        interval_coverage(["cauchy-mean"], progress=False)
    with pytest.raises(ValidationError, match="methods"):
        interval_coverage(["normal-mean"], methods=["wald"], progress=False)
    with pytest.raises(ValidationError, match="n_replicates"):
        interval_coverage(["normal-mean"], n_replicates=0, progress=False)
    with pytest.raises(ValidationError, match="n"):
        interval_coverage(["normal-mean"], n=1, progress=False)
    with pytest.raises(ValidationError, match="alpha"):
        interval_coverage(["normal-mean"], alpha=1.5, progress=False)
    with pytest.raises(ValidationError, match="tests"):
        type1_error(["t-test"], progress=False)
    with pytest.raises(ValidationError, match="intervals"):
        ope_interval_coverage(intervals=["wald"], progress=False)
    with pytest.raises(ValidationError, match="surrogates"):
        active_interval_coverage(pool=(np.full((10, 2), 0.5), np.zeros(10, int)), surrogates=["calibrated"],
                                 budgets=(5,), progress=False)
    with pytest.raises(ValidationError, match="budgets"):
        active_interval_coverage(budgets=(10_000,), progress=False)
    with pytest.raises(ValidationError, match="statistic"):
        interval_coverage([Scenario("x", lambda rng, n: rng.random(n), "median", 0.5)], progress=False)
    assert set(TESTS) >= {"naive-resampled-t", "nadeau-bengio-t", "5x2cv-t", "5x2cv-f", "mcnemar-mid-p", "friedman"}


def test_plots_take_and_return_ax():
    cov = interval_coverage(["normal-mean", "lognormal-mean"], methods=["percentile", "bca"], n=(20, 40),
                            n_replicates=20, n_resamples=49, progress=False)
    t1 = type1_error(["naive-resampled-t", "nadeau-bengio-t"], n_datasets=40, progress=False)
    fig, (a1, a2) = plt.subplots(1, 2)
    assert coverage_plot(cov, ax=a1) is a1
    assert type1_plot(t1, ax=a2, log=True) is a2
    assert len(a1.get_yticklabels()) == 4
    assert coverage_plot(cov) is not None and type1_plot(t1) is not None
    plt.close("all")


def test_forest_plot_draws_an_interval_that_excludes_its_point_and_empty_inputs_open_no_figure():
    from workbench.plotting import critical_difference_diagram, forest_plot, weight_histogram

    plt.close("all")
    # DM's interval can sit a rounding error above its value; BCa's can exclude the point outright
    frame = pd.DataFrame({"estimator": ["dm", "bca"], "value": [0.29999999999999893, 0.5],
                          "ci_low": [0.29999999999999954, 0.55], "ci_high": [0.3000000000000001, 0.7]})
    ax = forest_plot(frame)
    assert len(ax.collections) == 1 and len(ax.collections[0].get_segments()) == 2
    plt.close("all")
    for call in (lambda: weight_histogram([]), lambda: critical_difference_diagram(mean_ranks={}),
                 lambda: forest_plot(frame.iloc[:0])):
        with pytest.raises(ValidationError):
            call()
    assert plt.get_fignums() == []


def test_sizes_are_checked_as_integers_and_diagnostics_cannot_shadow_estimate_columns():
    from workbench.results import Estimate

    for bad in (2.5, "x", [30, 40.5]):
        with pytest.raises(ValidationError, match=r"^n:"):
            interval_coverage(["normal-mean"], methods=["percentile"], n=bad, n_replicates=10, n_resamples=49,
                              progress=False)
    with pytest.raises(ValidationError, match="diagnostics"):
        Estimate(0.5, 0.4, 0.6, 0.05, n=100, diagnostics={"n": 3})
    d = {"ess": 10.0}
    e = Estimate(0.5, 0.4, 0.6, 0.05, diagnostics=d)
    d["ess"] = 0.0
    assert e.diagnostics["ess"] == 10.0


@pytest.mark.parametrize("args, field", [((1.5, 100), "level"), ((float("nan"), 100), "level"),
                                         ((-0.1, 100), "level"), ((0.95, 100, -1.0), "k")])
def test_mc_band_refuses_a_level_outside_0_1(args, field):
    """A level outside [0, 1] gave a NaN width, which max / min turned into the band (0, 1): every share passed."""
    with pytest.raises(ValidationError, match=f"^{field}: must be"):
        mc_band(*args)


def test_an_infinite_end_point_is_a_defined_interval_not_an_undefined_miss():
    """Studentized intervals keep t* = +-inf, so (-inf, x] is a real one-sided interval: it covers
    any truth <= x. It was counted as undefined (a miss), which put studentized coverage of a
    Bernoulli(0.9) mean at n = 8 near 0 while half of its intervals covered."""
    def one_sided(data, statistic, alpha, seed):
        return -np.inf, 10.0  # covers the truth 1.0 every time

    def unbounded(data, statistic, alpha, seed):
        return -np.inf, np.inf

    def undefined(data, statistic, alpha, seed):
        return np.nan, 10.0

    cov = interval_coverage(["normal-mean"], methods=[one_sided, unbounded, undefined], n=10, n_replicates=20,
                            n_resamples=9, progress=False).set_index("method")
    assert cov.loc["one_sided", "coverage"] == 1.0 and cov.loc["one_sided", "n_undefined"] == 0
    assert cov.loc["unbounded", "coverage"] == 1.0 and cov.loc["unbounded", "mean_width"] == np.inf
    assert cov.loc["undefined", "coverage"] == 0.0 and cov.loc["undefined", "n_undefined"] == 20
    assert np.isnan(cov.loc["undefined", "mean_width"])
    from workbench.validity import _coverage_row_vec

    row = _coverage_row_vec(np.array([-np.inf, 0.0, np.nan]), np.array([1.0, np.inf, 1.0]), np.array([0.5] * 3),
                            0.95)
    assert row["coverage"] == 2 / 3 and row["n_undefined"] == 1 and row["mean_width"] == np.inf
    # and the report says how many intervals covered by giving up
    assert row["n_unbounded"] == 2 and cov.loc["one_sided", "n_unbounded"] == 20
    assert cov.loc["undefined", "n_unbounded"] == 0


def test_coverage_table_names_a_missing_column_refuses_repeated_cells_and_marks_only_shares():
    from workbench.validity import coverage_table

    a = interval_coverage(["normal-mean"], methods=["percentile", "bca"], n=(20, 30), n_replicates=20,
                          n_resamples=29, progress=False)
    # an unknown index column made a nonsense one-column table instead of an error
    with pytest.raises(ValidationError, match=r"^frame: unknown column name\(s\) \['scen'\]"):
        coverage_table(a, index="scen")
    # index="scenario" alone: two n per (scenario, method); pivot_table kept the first silently
    with pytest.raises(ValidationError, match=r"^frame: must have one row per \(scenario, method\).*2 of 4 rows"):
        coverage_table(a, index="scenario")
    widths = coverage_table(a, value="mean_width")  # widths are not shares: no band marks
    assert not widths.stack().str.contains("[▼▲]").any()
    assert coverage_table(a).shape == (2, 2)
