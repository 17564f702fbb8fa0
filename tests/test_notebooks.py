"""Every case study runs end to end in fast mode; notebooks are committed clean and follow the shape."""
import json
from pathlib import Path

import nbformat
import pytest

from workbench._report import execute_notebook, main, notebook_paths, write_student_copies

NOTEBOOKS = notebook_paths()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_in_fast_mode(path):
    res = execute_notebook(path, fast=True, timeout=300)
    assert res.ok, f"{path.name} failed after {res.seconds:.1f} s:\n{res.error}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_clean_with_parameters_cell(path):
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and not c.get("execution_count") for c in code), "strip outputs before commit"
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert params and "WORKBENCH_FAST" in "".join(params[0]["source"]), "first code cell: parameters reading FAST"
    assert nb["cells"][0]["cell_type"] == "markdown", "a notebook opens with its question"


def test_report_marks_failures_and_exits_nonzero(tmp_path, tiny_notebook):
    good = tiny_notebook(tmp_path, "01_good", "import os\nassert os.environ['WORKBENCH_FAST'] == '1'\nprint('hi')")
    bad = tiny_notebook(tmp_path, "02_bad", "raise RuntimeError('boom')")
    out = tmp_path / "reports"
    assert main([str(good), "--fast", "--out", str(out)]) == 0
    assert main([str(good), str(bad), "--fast", "--out", str(out)]) == 1
    index = (out / "index.html").read_text()
    assert "01_good" in index and "FAILED" in index and "boom" in index
    assert (out / "01_good.html").exists() and (out / "02_bad.html").exists()


def test_student_copies_drop_solutions_only(tmp_path):
    nb = nbformat.v4.new_notebook()
    sol = nbformat.v4.new_code_cell("answer = 42")
    sol.metadata["tags"] = ["solution"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Exercise: compute the answer"), nbformat.v4.new_code_cell("x = 1"), sol]
    src = tmp_path / "01_x.ipynb"
    nbformat.write(nb, src)
    (out,) = write_student_copies(tmp_path / "student", [src])
    cells = nbformat.read(out, as_version=4).cells
    assert [c.source for c in cells] == ["# Exercise: compute the answer", "x = 1"]
