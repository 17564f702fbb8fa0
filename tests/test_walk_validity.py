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
    res = execute_notebook(path, fast=True, timeout=60)
    assert not res.ok
    assert res.error.startswith("cell 4 of 4 (code cell 3, In [3]) failed: ZeroDivisionError: division by zero")
    assert "    f(300)" in res.error.splitlines()[2] and "\x1b[" not in res.error
    out = tmp_path / "out dir"
    assert main([str(path), "--fast", "--out", str(out)]) == 1
    assert "failed: ZeroDivisionError" in capsys.readouterr().err
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
