"""Audit 31: the notebook report (failure banners, stale pages, the index header, the cell timeout) and
the benchmark scripts' helpers (obp peer venv, bootstrap ratio table, scale_memory table, the command line
active_selection reports). No network, no venv build: the peer's build commands are recorded, not run."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from _bench_loader import ROOT, load_benchmark  # tests/ is on sys.path (pytest prepends it)

from workbench import _report
from workbench._report import RunResult, execute_notebook, main, write_reports


def _notebook(folder: Path, name: str, *sources: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Title of {name}")] + [nbformat.v4.new_code_cell(s) for s in sources]
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _page(res: RunResult, tmp_path: Path) -> str:
    out = tmp_path / "out"
    write_reports([res], out)
    return (out / f"{res.path.stem}.html").read_text()


def _banner_first(page: str, needle: str) -> None:
    assert needle in page, f"{needle!r} not on the page"
    assert "FAILED: cell" in page
    # the banner is the page's first cell: before the notebook's own title
    assert page.index("FAILED: cell") < page.index("Title of"), "the failure banner is not at the top"


# ---------------------------------------------------------------------------------------- 4a. banners
def test_a_failed_cell_puts_a_banner_with_cell_and_error_at_the_top_of_its_page(tmp_path):
    path = _notebook(tmp_path / "nb", "01_raise", "x = 1", "raise ValueError('boom-31')", "print('after')")
    res = execute_notebook(path, fast=True, timeout=60)
    assert not res.ok
    assert res.error.startswith("cell 3 of 4 (code cell 2")  # the index text is unchanged
    _banner_first(_page(res, tmp_path), "FAILED: cell 3 of 4, ValueError: boom-31")


def test_a_timed_out_cell_says_so_at_the_top_of_its_page(tmp_path):
    path = _notebook(tmp_path / "nb", "02_slow", "import time\ntime.sleep(30)")
    res = execute_notebook(path, fast=True, timeout=2)
    assert not res.ok and res.seconds < 25
    _banner_first(_page(res, tmp_path), "timed out after 2 s")


def test_a_dead_kernel_says_so_at_the_top_of_its_page(tmp_path):
    path = _notebook(tmp_path / "nb", "03_exit", "print('before')", "import os\nos._exit(1)")
    res = execute_notebook(path, fast=True, timeout=60)
    assert not res.ok
    page = _page(res, tmp_path)
    _banner_first(page, "FAILED: cell 3 of 3, DeadKernelError")
    assert "before" in page


# ---------------------------------------------------------------------------------------- 4b. stale pages
def _fake(path: Path, ok=True) -> RunResult:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# Title of {path.stem}")]
    return RunResult(path, ok, 0.1, "" if ok else "failed", notebook=nb)


def test_pages_of_an_earlier_run_are_removed_and_other_files_are_kept(tmp_path):
    out = tmp_path / "reports"
    write_reports([_fake(tmp_path / "01_a.ipynb"), _fake(tmp_path / "02_b.ipynb")], out)
    assert (out / "02_b.html").exists()
    mine = out / "notes.html"  # someone else's page in the folder: not written by the tool
    mine.write_text("<!doctype html><p>my notes</p>")
    write_reports([_fake(tmp_path / "01_a.ipynb")], out)  # a subset run into the same folder
    assert (out / "01_a.html").exists() and (out / "index.html").exists()
    assert not (out / "02_b.html").exists(), "a page of the earlier run survived and looks current"
    assert mine.read_text() == "<!doctype html><p>my notes</p>"
    assert "02_b" not in (out / "index.html").read_text()


def test_an_unreadable_notebook_does_not_keep_its_earlier_page(tmp_path):
    out = tmp_path / "reports"
    write_reports([_fake(tmp_path / "01_a.ipynb")], out)
    write_reports([RunResult(tmp_path / "01_a.ipynb", False, 0.0, "cannot read it")], out)
    assert not (out / "01_a.html").exists()


# ---------------------------------------------------------------------------------------- 4b. index header
def test_the_index_header_names_the_mode_and_the_notebooks_of_a_subset_run(tmp_path):
    path = _notebook(tmp_path / "nb", "01_one", "x = 1")
    out = tmp_path / "out"
    assert main([str(path), "--fast", "--timeout", "60", "--out", str(out)]) == 0
    index = (out / "index.html").read_text()
    assert "make notebooks" not in index  # it was not run by `make notebooks`, and not over all case studies
    assert "Mode: fast" in index
    assert "1 notebook chosen on the command line (not the full set of case studies): 01_one.ipynb" in index
    assert "python -m workbench._report" in index and "--fast" in index


def test_the_index_header_of_a_full_run_says_full():
    res = _fake(Path("/nowhere/01_a.ipynb"))
    header = _report._run_header([res], "full", "python -m workbench._report")
    assert "Mode: full" in header and "1 notebook chosen" in header


# ---------------------------------------------------------------------------------------- 4c. timeout
def test_the_default_cell_timeout_leaves_room_for_the_slowest_full_mode_cell():
    slowest = 210  # s: notebook 10, cell 5, full mode, on a 2-core machine
    assert _report.CELL_TIMEOUT >= 1200 >= 5 * slowest
    assert execute_notebook.__defaults__[-1] == _report.CELL_TIMEOUT


# ---------------------------------------------------------------------------------------- benchmarks
def _bench(name: str):
    return load_benchmark(name, prefix="_bench31")


@pytest.fixture
def obp():
    return _bench("ope_obp_parity")


def test_obp_venv_defaults_inside_the_repo_in_a_git_ignored_folder(obp):
    assert obp.obp_venv_path({}) == ROOT / "benchmarks" / "_peers" / "obp-venv"
    assert obp.obp_venv_path({"WORKBENCH_OBP_VENV": "/elsewhere/venv"}) == Path("/elsewhere/venv")
    ignored = (ROOT / ".gitignore").read_text().splitlines()
    assert "benchmarks/_peers/" in ignored


def test_obp_venv_is_built_with_this_python_up_to_3_11_and_refused_after(obp):
    assert obp.peer_build_python("/opt/py311/bin/python", (3, 11, 7)) == "/opt/py311/bin/python"
    assert obp.peer_build_python("/opt/py310/bin/python", (3, 10, 0)) == "/opt/py310/bin/python"
    with pytest.raises(obp.PeerUnavailable, match="needs Python 3.11"):
        obp.peer_build_python("/opt/py312/bin/python", (3, 12, 1))
    assert "numpy==1.23.5" in obp.PINS and "pandas==1.5.3" in obp.PINS  # the peer's pins are kept


def test_ensure_obp_venv_runs_the_build_with_sys_executable_and_writes_the_stub(obp, monkeypatch, tmp_path):
    venv = tmp_path / "peers" / "obp-venv"
    monkeypatch.setattr(obp, "OBP_VENV", venv)
    monkeypatch.setattr(obp, "OBP_PY", venv / "bin" / "python")
    calls = []
    (tmp_path / "site").mkdir()  # the venv's site-packages, as pip would leave it

    def fake_run(cmd, **kw):  # records, never downloads
        calls.append([str(c) for c in cmd])
        out = str(tmp_path / "site") if "sysconfig" in " ".join(map(str, cmd)) else ""
        return subprocess.CompletedProcess(cmd, 0, stdout=out, stderr="")

    monkeypatch.setattr(obp.subprocess, "run", fake_run)
    assert obp.ensure_obp_venv(verbose=False) == venv / "bin" / "python"
    assert calls[0] == [sys.executable, "-m", "venv", str(venv)]
    assert any("numpy==1.23.5" in c for c in calls[1]) and "obp==0.4.1" in calls[2]
    assert (tmp_path / "site" / "torch" / "__init__.py").exists()


def test_a_later_python_reports_the_peer_unavailable_instead_of_a_traceback(obp, monkeypatch, tmp_path, capsys):
    venv = tmp_path / "obp-venv"
    monkeypatch.setattr(obp, "OBP_VENV", venv)
    monkeypatch.setattr(obp, "OBP_PY", venv / "bin" / "python")
    monkeypatch.setattr(obp, "peer_build_python", lambda *a, **k: (_ for _ in ()).throw(
        obp.PeerUnavailable("the obp 0.4.1 peer needs Python 3.11 (test)")))
    monkeypatch.setattr(obp.subprocess, "run", lambda *a, **k: pytest.fail("nothing may run"))
    py, reason = obp.peer_status()
    assert py is None and "needs Python 3.11" in reason
    assert "peer unavailable" in capsys.readouterr().err
    assert obp.short_reason("a | b\nsecond line") == "a / b"


@pytest.fixture
def boot():
    return _bench("bootstrap_speed")


def test_bootstrap_seed_argument_follows_the_scipy_version(boot):
    import numpy as np
    from scipy import stats

    assert set(boot.scipy_seed_kwargs(0, "1.10.1")) == {"random_state"}
    assert set(boot.scipy_seed_kwargs(0, "1.14.1")) == {"random_state"}
    assert set(boot.scipy_seed_kwargs(0, "1.15.0")) == {"rng"}
    assert set(boot.scipy_seed_kwargs(0, "2.0.0rc1")) == {"rng"}
    x = np.arange(20.0)
    stats.bootstrap((x,), np.mean, n_resamples=20, **boot.scipy_seed_kwargs(0))  # the installed scipy accepts it


def test_bootstrap_headline_is_like_for_like_and_extrapolations_are_flagged(boot):
    t = dict(floor=1.0, pois=1.0, mult=4.0, scipy=80.0, mlx=160.0, bca_p=1.0, bca_m=2.0, bca_s=20.0)
    lines = boot.ratio_lines(t, k_peer=2, m=20)
    rows = [ln for ln in lines[2:] if ln.startswith("|")]
    assert rows[0].startswith("| scipy loop / ours (multinomial, like for like) | 20.0x | >= 30x |")
    poisson = [r for r in rows if "(poisson" in r and not r.startswith("| ours")]
    assert poisson and all("different scheme" in r and ">= 30x" not in r for r in poisson)
    peer_rows = [r for r in rows if r.startswith(("| scipy loop", "| mlxtend loop"))]
    assert len(peer_rows) == 4 and all("extrapolated from 2 of 20" in r for r in peer_rows)
    assert not any("extrapolated" in r for r in boot.ratio_lines(t, k_peer=20, m=20))
    no_mlx = boot.ratio_lines(dict(t, mlx=None), k_peer=20, m=20)
    assert any("mlxtend not installed: row skipped" in r for r in no_mlx)


def test_scale_memory_finds_the_in_memory_path_by_name_and_reports_the_cpu_count():
    sm = _bench("scale_memory")
    res = [{"kind": "streamed", "seconds": 2.0, "n": 1000, "peak_rss_mib": 100.0, "values": [[1.0, 0.9, 1.1]]},
           {"kind": "in-memory", "seconds": 1.0, "n": 1000, "peak_rss_mib": 900.0, "values": [[1.0, 0.9, 1.1]]},
           {"kind": "dask", "seconds": 4.0, "n": 1000, "peak_rss_mib": 300.0, "values": [[1.0, 0.9, 1.1]]}]
    text = "\n".join(sm.table_lines(res, 1000, 10, 1.0, 0.5, cpus=7))
    assert "(2 cores)" not in text and "7 CPUs" in text
    assert "| streamed | 2.0 | 500 | 0.50x |" in text
    assert "| in-memory | 1.0 | 1,000 | 1.00x |" in text and "| dask | 4.0 | 250 | 0.25x |" in text
    assert "max rel. diff vs in-memory" in text


def test_active_selection_header_shows_the_command_actually_run():
    act = _bench("active_selection")
    assert act.command_line(["--quick"]) == ".venv/bin/python benchmarks/active_selection.py --quick"
    assert act.command_line([]) == ".venv/bin/python benchmarks/active_selection.py"
