"""Walk of the cross-cutting layer (validity report, plots, result objects, notebook report) as a
demanding user would: each test pins a defect found on fresh inputs and fails on the code before
its fix."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from workbench import ValidationError  # noqa: E402
from workbench._report import execute_notebook, main, write_student_copies  # noqa: E402


def _notebook(folder, name, *sources, tags=()):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}")]
    for i, src in enumerate(sources):
        cell = nbformat.v4.new_code_cell(src)
        if i < len(tags) and tags[i]:
            cell.metadata["tags"] = list(tags[i])
        nb.cells.append(cell)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


# ------------------------------------------------------------------------------------------------
# _report
# ------------------------------------------------------------------------------------------------
def test_report_names_the_failing_cell_without_colour_codes_and_links_a_name_with_spaces(tmp_path, capsys):
    # A deep traceback (recursion, a long library stack) filled the kept tail: the failing cell was
    # never named, and the text (stderr and the index page) was full of ANSI colour codes.
    folder = tmp_path / "my notebooks"
    folder.mkdir()
    path = _notebook(folder, "02 deep #fail", "x = 1",
                     "def f(k):\n    return f(k - 1) if k else 1 / 0", "y = 2\nf(300)")
    out = tmp_path / "out dir"
    assert main([str(path), "--fast", "--timeout", "60", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    err = err[err.index("cell 4 of 4"):]  # after the kernel's own start-up warnings
    assert err.startswith("cell 4 of 4 (code cell 3, In [3]) failed: ZeroDivisionError: division by zero")
    assert err.splitlines()[2] == "    f(300)" and "\x1b[" not in err
    index = (out / "index.html").read_text()
    assert "cell 4 of 4" in index and "\x1b[" not in index
    assert 'href="02%20deep%20%23fail.html"' in index and (out / "02 deep #fail.html").exists()


def test_report_keeps_going_past_an_unreadable_notebook_and_refuses_a_missing_one(tmp_path, capsys):
    # A file that is not a notebook raised NotJSONError out of main: no index, no exit code of its
    # own; a missing path was a FileNotFoundError traceback after the other notebooks had run.
    bad = tmp_path / "03_bad.ipynb"
    bad.write_text("{not json")
    res = execute_notebook(bad)
    assert not res.ok and res.notebook is None and "cannot read" in res.error and "NotJSONError" in res.error
    from workbench._report import write_reports

    index = write_reports([res], tmp_path / "out").read_text()
    assert "03_bad" in index and "FAILED" in index and "cannot read" in index
    assert main([str(tmp_path / "nope.ipynb"), str(bad), "--out", str(tmp_path / "o")]) == 2
    assert "no such notebook file" in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_student_copies_refuse_to_overwrite_their_source(tmp_path, capsys):
    # --student --out <the notebooks' folder> overwrote each notebook with its solution-free copy:
    # the solutions were gone for good.
    src = _notebook(tmp_path, "05_ex", "x = 1", "answer = 42  # the solution", tags=[None, ["solution"]])
    with pytest.raises(ValueError, match="overwrite"):
        write_student_copies(tmp_path, [src])
    assert main([str(src), "--student", "--out", str(tmp_path)]) == 2
    assert "overwrite" in capsys.readouterr().err
    assert "answer = 42" in nbformat.read(src, as_version=4).cells[-1].source  # the source is intact
    (copy,) = write_student_copies(tmp_path / "student", [src])
    assert "answer" not in copy.read_text()


# ------------------------------------------------------------------------------------------------
# validity
# ------------------------------------------------------------------------------------------------
from workbench.validity import (Scenario, active_interval_coverage, interval_coverage,  # noqa: E402
                                ope_interval_coverage, synthetic_pool, type1_error)


def test_a_scenario_with_a_nan_truth_or_a_misshapen_draw_is_refused_not_scored():
    # NaN compares False with both ends: every interval "covered" it (coverage 1.0, verdict ok).
    with pytest.raises(ValidationError, match="scenario.truth"):
        Scenario("u", lambda rng, n: rng.random(n), "mean", float("nan"))
    with pytest.raises(ValidationError, match="scenario.truth"):
        Scenario("u", lambda rng, n: rng.random(n), "mean", "0.5")
    kw = dict(methods=["percentile"], n=20, n_replicates=5, n_resamples=49, progress=False)
    # (n, 2) for a mean was read by its first column; n + 1 rows were reported as n
    for draw in (lambda rng, n: rng.random((n, 2)), lambda rng, n: rng.random(n + 1),
                 lambda rng, n: (rng.random(n), rng.random(n))):
        with pytest.raises(ValidationError, match=r"draw: must return one array of shape \(n,\)"):
            interval_coverage([Scenario("u", draw, "mean", 0.5)], **kw)
    # one array for a ratio, or NaN data: every replicate "undefined", coverage 0, verdict undercovers
    with pytest.raises(ValidationError, match="pair"):
        interval_coverage([Scenario("r", lambda rng, n: rng.random(n), "ratio", 0.5)], **kw)
    with pytest.raises(ValidationError, match="finite"):
        interval_coverage([Scenario("u", lambda rng, n: np.r_[rng.random(n - 1), np.nan], "mean", 0.5)], **kw)
    # the documented layouts still run: a pair or an (n, 2) array for a ratio, a list for a mean
    ok = interval_coverage([Scenario("p", lambda rng, n: (rng.random(n) + 1, rng.random(n) + 1), "ratio", 1.0),
                            Scenario("m", lambda rng, n: np.c_[rng.random(n) + 1, rng.random(n) + 1], "ratio", 1.0),
                            Scenario("l", lambda rng, n: list(rng.random(n)), "mean", 0.5)], **kw)
    assert (ok["n_undefined"] == 0).all()


def test_active_coverage_on_a_zoo_member_with_default_surrogates_and_its_input_checks():
    from workbench.data import PredictionLog

    probs, labels, _ = synthetic_pool(120, 3, random_state=1)
    zoo = PredictionLog(np.stack([probs, probs[:, ::-1]]), labels=labels)
    # the docstring's zoo member: the default surrogates asked for "calibrated" and refused it
    cov = active_interval_coverage((zoo.probs[0], zoo.labels), methods=["lure"], budgets=[10], n_replicates=5,
                                   progress=False)
    assert list(cov["scenario"]) == ["self surrogate"]
    bad = labels.copy()
    bad[3] = 3  # the cross-entropy truth was an IndexError before any check
    with pytest.raises(ValidationError, match=r"classes in \[0, 3\).*row 3"):
        active_interval_coverage((probs, bad), methods=["lure"], budgets=[10], n_replicates=2,
                                 loss="cross_entropy", progress=False)
    with pytest.raises(ValidationError, match="methods: needs at least one"):  # an empty frame, then a KeyError
        active_interval_coverage(methods=[], budgets=[10], n_replicates=2, progress=False)
    with pytest.raises(ValidationError, match="unique"):  # the same rows twice
        active_interval_coverage(methods=["lure"], surrogates=["self", "self"], budgets=[10], n_replicates=2,
                                 progress=False)


def test_ope_coverage_checks_its_simulation_knobs_and_refuses_an_empty_grid():
    kw = dict(n=100, n_replicates=2, n_bootstrap=20, progress=False)
    with pytest.raises(ValidationError, match="n_actions: must be an integer"):  # 2.5 simulated 2 actions
        ope_interval_coverage(n_actions=2.5, **kw)
    with pytest.raises(ValidationError, match="beta: must be a finite number"):  # bare ValueError from float()
        ope_interval_coverage(beta="x", **kw)
    with pytest.raises(ValidationError, match="target_beta"):  # was 'policy: must not be NaN'
        ope_interval_coverage(target_beta=float("nan"), **kw)
    with pytest.raises(ValidationError, match="bernstein"):  # an empty frame without columns
        ope_interval_coverage(estimators=["snips"], intervals=["bernstein"], **kw)
    with pytest.raises(ValidationError, match="unique"):
        ope_interval_coverage(estimators=["ips", "ips"], intervals=["normal"], **kw)


def test_type1_error_checks_its_knobs():
    with pytest.raises(ValidationError, match="accuracy"):  # '<=' TypeError
        type1_error(["mcnemar-exact"], n_datasets=5, accuracy="0.8", progress=False)
    with pytest.raises(ValidationError, match="unique"):
        type1_error(["friedman", "friedman"], n_datasets=5, progress=False)


# ------------------------------------------------------------------------------------------------
# plotting
# ------------------------------------------------------------------------------------------------
from workbench.plotting import coverage_plot, forest_plot, type1_plot  # noqa: E402


def _t1_rows(test, R, nominal=0.05, rate=0.03):
    from workbench.validity import mc_band

    lo, hi = mc_band(nominal, R)
    return {"test": test, "rejection_rate": rate, "mc_se": np.sqrt(rate * (1 - rate) / R), "band_low": lo,
            "band_high": hi, "nominal": nominal, "n_datasets": R, "verdict": "ok"}


def test_type1_plot_draws_each_rows_own_band_when_frames_of_different_r_are_joined():
    # Rows of R = 100 and R = 1000 (e.g. notebook 10's exercise next to its main run): the first
    # row's band [0, 0.126] was drawn for all and the label said "share of 100 null data sets".
    frame = pd.DataFrame([_t1_rows("friedman", 100), _t1_rows("mcnemar-exact", 1000)])
    ax = type1_plot(frame)
    bands = sorted((round(p.get_x(), 4), round(p.get_x() + p.get_width(), 4)) for p in ax.patches
                   if p.get_facecolor()[:3] == pytest.approx((0.85, 0.85, 0.85)))
    assert bands == [(0.0, 0.1263), (0.0259, 0.0741)]
    assert ax.get_xlabel().startswith("share of 100-1000 null data sets rejected")
    plt.close("all")
    one = type1_plot(pd.DataFrame([_t1_rows("a", 200), _t1_rows("b", 200)]))  # one R: unchanged
    assert one.get_xlabel() == "share of 200 null data sets rejected (nominal 0.05; grey: pass band)"
    plt.close("all")


def test_coverage_plot_marks_each_lines_own_level_and_refuses_two_levels_on_one_line():
    base = {"scenario": "s", "method": "percentile", "coverage": 0.9, "within_band": True}
    frame = pd.DataFrame([{**base, "n": 30, "level": 0.95, "band_low": 0.926, "band_high": 0.974},
                          {**base, "n": 50, "level": 0.80, "band_low": 0.756, "band_high": 0.844}])
    ax = coverage_plot(frame)  # the dashed nominal line was at 95% for both lines, labelled "nominal 95%"
    assert [ln.get_xdata()[0] for ln in ax.lines if ln.get_linestyle() == "--"] == []
    (marks,) = [c for c in ax.collections if c.get_linestyle()[0][1] is not None]
    assert sorted(seg[0][0] for seg in marks.get_segments()) == [0.8, 0.95]
    assert "per line" in ax.get_xlabel()
    plt.close("all")
    with pytest.raises(ValidationError, match="different levels"):  # two bands merged into one grey bar
        coverage_plot(frame.assign(n=30))
    assert not plt.get_fignums()
    ax = coverage_plot(frame.assign(level=0.999))  # '{:.0%}' printed 99.9% as 100%
    assert "nominal 99.9%" in ax.get_xlabel()
    plt.close("all")


def test_forest_plot_draws_and_labels_an_infinite_estimate():
    # value inf with a finite interval: matplotlib dropped the point silently, with no label
    frame = pd.DataFrame({"estimator": ["a", "b"], "value": [np.inf, 0.5], "ci_low": [0.4, 0.3],
                          "ci_high": [0.6, 0.7]})
    ax = forest_plot(frame)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a (estimate +inf)", "b"]
    points = [ln for ln in ax.lines if ln.get_marker() == "o"][0]
    assert np.isfinite(points.get_xdata()).all() and points.get_xdata()[0] <= ax.get_xlim()[1]
    plt.close("all")


# ------------------------------------------------------------------------------------------------
# results, and a plot argument
# ------------------------------------------------------------------------------------------------
def test_estimate_takes_diagnostics_none_and_its_repr_never_raises():
    from workbench.results import Estimate

    e = Estimate(0.5, 0.4, 0.6, 0.05, name="a<b>", diagnostics=None)  # TypeError: 'NoneType' not iterable
    assert e.diagnostics == {} and list(e.to_frame().columns)[-1] == "n"
    odd = Estimate(0.5, 0.4, 0.6, 0.05, alpha=None)  # repr and _repr_html_ raised a TypeError
    assert "alpha=None" in repr(odd) and "alpha=None interval" in odd._repr_html_()
    assert repr(e).startswith("Estimate(a<b>: 0.5, 95% CI [0.4, 0.6]")


def test_critical_difference_diagram_refuses_a_cd_that_is_not_a_number():
    from workbench.plotting import critical_difference_diagram

    with pytest.raises(ValidationError, match="cd: must be a number"):
        critical_difference_diagram(mean_ranks={"a": 1.5, "b": 2.0}, cd="1")
    ax = critical_difference_diagram(mean_ranks={"a": 1.5, "b": 2.0}, cd=np.float32(1.0))
    assert ax.texts[-1].get_text() == "CD = 1.00"
    plt.close("all")
