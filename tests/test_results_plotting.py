"""Plots and result objects on the edge cases a notebook user meets: NaN and infinite intervals,
one row, missing columns, repeated indices, HTML-special names."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from workbench import ValidationError  # noqa: E402
from workbench import plotting  # noqa: E402
from workbench.results import Estimate, frame_to_html  # noqa: E402


pytestmark = pytest.mark.usefixtures("close_figures")


def test_forest_plot_clips_an_infinite_end_to_the_edge_with_an_arrow_and_labels_undefined_rows():
    frame = pd.DataFrame({"estimator": ["ok", "nan", "one-sided", "no-ci"], "value": [0.5, np.nan, 0.4, 0.45],
                          "ci_low": [0.4, np.nan, -np.inf, np.nan], "ci_high": [0.6, np.nan, 0.45, np.nan]})
    fig, ax = plt.subplots()
    assert plotting.forest_plot(frame, ax=ax) is ax
    assert plt.get_fignums() == [fig.number]  # no figure of its own when given an ax
    segs = ax.collections[0].get_segments()  # one per row with a defined interval (NaN ones are empty)
    drawn = [s for s in segs if len(s) and not np.isnan(s).any()]
    # matplotlib silently skipped the (-inf, 0.45] segment: a one-sided interval vanished
    assert len(drawn) == 2 and all(np.isfinite(s).all() for s in drawn)
    one_sided = [s for s in drawn if s[0, 1] == 1][0]
    assert ax.get_xlim()[0] < one_sided[0, 0] < 0.4 and one_sided[1, 0] == 0.45  # runs to the edge of the view
    arrows = [line for line in ax.lines if line.get_marker() == "<"]
    assert len(arrows) == 1 and arrows[0].get_ydata().tolist() == [1]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["ok", "nan (undefined)", "one-sided", "no-ci (no interval)"]


def test_forest_plot_missing_column_names_it_and_opens_no_figure():
    frame = pd.DataFrame({"policy": ["a"], "value": [0.5], "ci_low": [0.4], "ci_high": [0.6]})
    with pytest.raises(ValidationError, match=r"^frame: unknown column name\(s\) \['estimator'\]"):
        plotting.forest_plot(frame)
    with pytest.raises(ValidationError, match=r"\['hi'\]"):
        plotting.forest_plot(frame, label="policy", high="hi")
    assert plt.get_fignums() == []
    ax = plotting.forest_plot(frame, label="policy", reference=0.55)  # one row, with a reference
    assert len(ax.get_yticklabels()) == 1


def test_weight_histogram_refuses_nan_and_inf_weights_with_row():
    # NaN was left out of the bars but drew a "mean nan" line; inf raised matplotlib's range error
    with pytest.raises(ValidationError, match=r"^weights: must be finite.*1 of 3 rows breaks the rule, first at row 1"):
        plotting.weight_histogram([1.0, np.nan, 2.0])
    with pytest.raises(ValidationError, match=r"first at row 2 \(value inf\)"):
        plotting.weight_histogram([1.0, 2.0, np.inf])
    assert plt.get_fignums() == []


def test_budget_curve_checks_columns_and_band_keeps_missing_hue_and_clips_infinite_band():
    f = pd.DataFrame({"labels": [1, 2, 3, 1, 2, 3], "value": [1.0, 2, 3, 1, 2, 3],
                      "strategy": ["a", "a", "a", None, None, None],
                      "lo": [0.5, -np.inf, 2, 0.5, 1.5, 2.5], "hi": [1.5, 2.5, 3.5, 1.5, 2.5, np.inf]})
    with pytest.raises(ValidationError, match=r"^high: a band needs both"):
        plotting.budget_curve(f, low="lo")  # the band was silently left out
    with pytest.raises(ValidationError, match=r"^frame: unknown column name\(s\) \['ci_low'\]"):
        plotting.budget_curve(f, low="ci_low", high="hi")
    with pytest.raises(ValidationError, match=r"^frame: has no rows"):
        plotting.budget_curve(f.iloc[:0])
    assert plt.get_fignums() == []
    fig, ax = plt.subplots()
    plotting.budget_curve(f, low="lo", high="hi", ax=ax)
    assert len(ax.lines) == 2  # the rows with a missing strategy were dropped by groupby
    lo, hi = ax.get_ylim()
    assert np.isfinite([lo, hi]).all() and lo < 0.5 and hi > 3.5
    for poly in ax.collections:
        v = poly.get_paths()[0].vertices
        assert np.isfinite(v).all()
    # the infinite ends reach the edges of the view
    ys = np.concatenate([p.get_paths()[0].vertices[:, 1] for p in ax.collections])
    assert ys.min() == pytest.approx(lo) and ys.max() == pytest.approx(hi)


def test_identification_curve_and_risk_trace_plot_refuse_what_would_be_an_empty_plot():
    cur = pd.DataFrame({"labels": [10, 20], "p_best": [0.5, 0.6], "p_best_se": [0.1, 0.1], "strategy": "a",
                        "task": "t"})
    with pytest.raises(ValidationError, match=r"^task: has no rows.*'zzz'.*\['t'\]"):
        plotting.identification_curve(cur, task="zzz")
    with pytest.raises(ValidationError, match=r"^curves: unknown column name\(s\) \['p_within_1pt'"):
        plotting.identification_curve(cur, y="p_within_1pt")
    with pytest.raises(ValidationError, match=r"^traces: is empty"):
        plotting.risk_trace_plot([])
    assert plt.get_fignums() == []


def test_risk_trace_plot_on_real_traces_with_an_infinite_end():
    from dataclasses import replace

    from workbench.active import estimate_risk
    from workbench.validity import synthetic_pool

    probs, labels, _ = synthetic_pool(60, random_state=0)
    t = estimate_risk(probs, labels, 8, method="iid", random_state=0)
    lo = np.array(t.ci_low, float)
    lo[0] = -np.inf
    t_inf = replace(t, ci_low=lo)
    fig, ax = plt.subplots()
    assert plotting.risk_trace_plot([t, t_inf], truth=0.3, ax=ax) is ax and plt.get_fignums() == [fig.number]
    assert np.isfinite(ax.get_ylim()).all()
    v = ax.collections[1].get_paths()[0].vertices
    assert np.isfinite(v).all()
    # matplotlib left the first label's band out (a gap); now it runs to the bottom edge
    assert np.isclose(v[:, 1][v[:, 0] == 1], ax.get_ylim()[0]).any()


def test_critical_difference_diagram_draws_no_clique_without_a_test():
    # mean ranks alone: a bar joining every model claimed "not significantly different" with no test
    ax = plotting.critical_difference_diagram(mean_ranks={"a": 1.0, "b": 2.5, "c": 3.5})
    thick = [c for c in ax.collections if c.get_linewidth()[0] == 4]
    assert thick == []
    ax = plotting.critical_difference_diagram(mean_ranks={"a": 1.0, "b": 2.5, "c": 3.5}, cd=np.inf)
    assert len([c for c in ax.collections if c.get_linewidth()[0] == 4]) == 1
    plt.close("all")
    with pytest.raises(ValidationError, match=r"^mean_ranks: must be finite.*value nan"):
        plotting.critical_difference_diagram(mean_ranks={"a": 1.0, "b": np.nan})
    with pytest.raises(ValidationError, match=r"^cd: must be >= 0"):
        plotting.critical_difference_diagram(mean_ranks={"a": 1.0, "b": 2.0}, cd=-0.5)
    assert plt.get_fignums() == []


def test_critical_difference_diagram_reads_a_holm_result_passed_as_pairwise_and_checks_its_names():
    from workbench.resample import friedman_test, wilcoxon_holm_test

    rng = np.random.default_rng(0)
    scores = pd.DataFrame(rng.random((12, 3)) + [0.5, 0.0, 0.0], columns=["a", "b", "c"])
    holm = wilcoxon_holm_test(scores)
    thick = lambda ax: len([c for c in ax.collections if c.get_linewidth()[0] == 4])  # noqa: E731
    # the whole result (TypeError: object of type 'RankTestResult' has no len()) or its frame: one picture
    n_whole = thick(plotting.critical_difference_diagram(friedman_test(scores), pairwise=holm))
    n_frame = thick(plotting.critical_difference_diagram(friedman_test(scores), pairwise=holm.pairwise))
    assert n_whole == n_frame
    # b and c do not differ: one bar joins them, a alone (clearly ahead) is not joined
    assert n_frame == 1
    plt.close("all")
    # names spelt differently used to be skipped, and every unlisted pair counted as "not significant"
    bad = holm.pairwise.assign(a=holm.pairwise["a"].str.upper())
    with pytest.raises(ValidationError, match=r"^pairwise: names models not in the diagram: \['A', 'B'\]"):
        plotting.critical_difference_diagram(friedman_test(scores), pairwise=bad)
    with pytest.raises(ValidationError, match=r"^pairwise: must be a pandas DataFrame or a RankTestResult"):
        plotting.critical_difference_diagram(friedman_test(scores), pairwise=[("a", "b", True)])
    assert plt.get_fignums() == []


def test_risk_trace_plot_takes_one_trace_as_well_as_several():
    from workbench.active import estimate_risk
    from workbench.validity import synthetic_pool

    probs, labels, _ = synthetic_pool(60, random_state=0)
    t = estimate_risk(probs, labels, 8, method="iid", random_state=0)
    ax = plotting.risk_trace_plot(t)  # TypeError: 'RiskTrace' object is not iterable
    assert ax.get_legend_handles_labels()[1] == ["iid"] and len(ax.lines) == 1
    plt.close("all")


def test_coverage_plot_on_concatenated_frames_and_missing_columns():
    from workbench.validity import interval_coverage, type1_error

    kw = dict(methods=["percentile", "bca"], n=20, n_replicates=20, n_resamples=29, progress=False)
    both = pd.concat([interval_coverage(["normal-mean"], **kw), interval_coverage(["lognormal-mean"], **kw)])
    assert both.index.has_duplicates
    fig, ax = plt.subplots()
    assert plotting.coverage_plot(both, label="scenario", ax=ax) is ax  # IndexError before
    pts = np.concatenate([c.get_offsets() for c in ax.collections if len(c.get_offsets())])
    assert len(pts) == 4
    assert plt.get_fignums() == [fig.number]
    with pytest.raises(ValidationError, match=r"^frame: unknown column name\(s\) \['within_band'\]"):
        plotting.coverage_plot(both.drop(columns="within_band"))
    t1 = type1_error(["mcnemar-exact"], n_datasets=20, progress=False)
    with pytest.raises(ValidationError, match=r"\['mc_se'\]"):
        plotting.type1_plot(t1.drop(columns="mc_se"))
    with pytest.raises(ValidationError, match=r"has no rows"):
        plotting.type1_plot(t1.iloc[:0])
    assert plt.get_fignums() == [fig.number]


def test_frame_to_html_keeps_a_meaningful_index_escaped_and_hides_row_numbers():
    pt = pd.DataFrame({"a": ["<r1>", "r&2"], "b": ["c1", "c2"], "v": [1.0, 2.0]}).pivot(index="a", columns="b",
                                                                                          values="v")
    out = frame_to_html(pt)
    assert "&lt;r1&gt;" in out and "r&amp;2" in out and "<r1>" not in out  # the row labels were dropped
    plain = frame_to_html(pd.DataFrame({"x": [1.0, 2.0, 3.0]}).iloc[1:])
    assert plain.count("<th>") == 1  # row numbers are not data


def test_estimate_repr_and_html_with_nan_inf_and_html_special_names():
    e = Estimate(float("nan"), -np.inf, 1e300, 1e-300, method="studentized", n=3, name='<b>"x" & y</b>',
                 diagnostics={"<k>": "<v>"})
    r = repr(e)
    assert "nan" in r and "[-inf, 1e+300]" in r and "se 1e-300" in r
    h = e._repr_html_()
    assert "<b>\"x\"" not in h and "&lt;b&gt;" in h and "&lt;k&gt;" in h and "&lt;v&gt;" in h
    assert "-inf" in h and "1e+300" in h and "NaN" in h
    assert list(e.to_frame().columns[:8]) == ["name", "value", "ci_low", "ci_high", "se", "alpha", "method", "n"]
