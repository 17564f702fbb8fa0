"""Execute the case-study notebooks headlessly and render them to HTML (the main job).

Run as ``python -m workbench._report [--fast] [--timeout SECONDS] [notebooks ...]``
(``--student`` writes copies without the cells tagged ``solution`` to ``student/`` instead). A folder
among the notebooks stands for the ``*.ipynb`` files in it, sorted; none given means the case studies
in ``notebooks/``. Writes ``reports/<name>.html`` and ``reports/index.html`` (status, run time and a
thumbnail of each case study's main figure; its header names the mode and the notebooks run) and exits
non-zero if any notebook fails or none is found. A failed notebook's own page opens with a banner naming
the failing cell and the error (or the timeout, or the dead kernel). Pages in the output folder that an
earlier run of this tool wrote (they carry :data:`PAGE_MARKER`) and this run did not are deleted, so the
folder never mixes runs; other files there are left alone.
``<name>`` is the notebook's file name without ``.ipynb``, prefixed by its folder(s) (``folder__name``)
only where two notebooks would otherwise share a name. Fast mode sets ``WORKBENCH_FAST=1``, which every
notebook's ``parameters`` cell reads to shrink its sizes.
"""
from __future__ import annotations

import argparse
import html
import os
import re
import sys
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
# Seconds per cell: an explicit bound, so a hung cell fails instead of hanging the job. Not tight: the
# slowest full-mode cell (notebook 10, cell 5) took ~210 s on a 2-core machine shared with other work, so
# 300 s left only ~1.4x of margin and a busy machine could fail a healthy run; 1200 s gives ~5.7x.
CELL_TIMEOUT = 1200
# Written into every page this tool writes: how a later run recognises its own earlier pages (and deletes
# the ones it did not rewrite) without touching any other file in the output folder.
PAGE_MARKER = "<!-- written by workbench._report; a later run into this folder replaces or deletes this page -->"
BANNER_TAG = "workbench-report-failure"


@dataclass
class RunResult:
    path: Path
    ok: bool
    seconds: float
    error: str = ""
    notebook: object = None

    @property
    def name(self) -> str:
        return self.path.stem


def notebook_paths(directory: Path = NOTEBOOK_DIR) -> list[Path]:
    return sorted(p for p in Path(directory).glob("[0-9][0-9]_*.ipynb"))


def output_names(paths) -> list[str]:
    """One output name per notebook: its stem, unique and the same on every run for the same paths.

    Two notebooks with one file name in different folders wrote one HTML file (the second run's page
    replaced the first, and both index rows linked to it). Only names that collide are prefixed with
    their parent folder, then the grandparent..., joined by ``__``; the same file given twice has one
    name. A collision that survives every folder (names that themselves hold ``__``) gets ``-2``, ``-3``...
    in the order given.
    """
    full = [Path(p).resolve() for p in paths]
    depth = [0] * len(full)

    def name(i):
        folders = full[i].parent.parts[1:]  # not the root ("/"), which is no folder name
        return "__".join([*folders[len(folders) - depth[i]:], full[i].stem] if depth[i] else [full[i].stem])

    while True:
        names = [name(i) for i in range(len(full))]
        owners = {}
        for i, nm in enumerate(names):
            owners.setdefault(nm, set()).add(full[i])
        grow = [i for i, nm in enumerate(names)
                if len(owners[nm]) > 1 and depth[i] < len(full[i].parent.parts) - 1]
        if not grow:
            break
        for i in grow:
            depth[i] += 1
    seen, out = {}, []
    for p, nm in zip(full, names):  # last resort, deterministic: numbered in the order given
        firsts = seen.setdefault(nm, [])
        if p not in firsts:
            firsts.append(p)
        k = firsts.index(p) + 1
        out.append(nm if k == 1 else f"{nm}-{k}")
    return out


def expand_paths(paths) -> list[Path]:
    """Notebook arguments as files: a folder is the ``*.ipynb`` files in it, sorted; the same file
    reached twice (named and inside a given folder) is run once, where it first appears."""
    out, seen = [], set()
    for p in map(Path, paths):
        for f in (sorted(q for q in p.glob("*.ipynb") if q.is_file()) if p.is_dir() else [p]):
            if f.resolve() not in seen:
                seen.add(f.resolve())
                out.append(f)
    return out


def _kernel_env(fast: bool) -> dict:
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # Agg would drop inline figures from the report
    env["TQDM_DISABLE"] = "1"  # widget progress bars need JavaScript from the network; keep reports offline
    env["WORKBENCH_FAST"] = "1" if fast else "0"
    env["PYTHONWARNINGS"] = env.get("PYTHONWARNINGS", "ignore::DeprecationWarning")
    return env


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # IPython colours its tracebacks; text reports show the codes raw


def _failure_summary(nb, index, exc) -> str:
    """Which cell failed and how, first: the traceback tail alone (a deep recursion, a long
    library stack) need not show the notebook's own cell at all."""
    text = _ANSI.sub("", str(exc))
    if index is None:
        return text[-4000:]
    cell = nb.cells[index]
    count = cell.get("execution_count")
    name = getattr(exc, "ename", None) or type(exc).__name__
    value = _ANSI.sub("", str(getattr(exc, "evalue", "") or "")) if hasattr(exc, "ename") else ""
    what = f"{name}: {value}" if value else name
    source = cell.source.splitlines()
    shown = "\n".join("    " + line for line in source[:8]) + ("\n    ..." if len(source) > 8 else "")
    n_code = sum(c.cell_type == "code" for c in nb.cells[:index + 1])
    head = (f"cell {index + 1} of {len(nb.cells)} (code cell {n_code}{f', In [{count}]' if count else ''}) "
            f"failed: {what}\n{shown}\n")
    return head + "\n" + text[-(4000 - min(len(head), 2000)):]


def _failure_banner(nb, index, exc, timeout) -> str:
    """One markdown line for the top of a failed notebook's page: which cell, and what happened."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    n = len(nb.cells)
    where = f"cell {index + 1} of {n}" if index is not None else "before the first cell"
    if isinstance(exc, CellTimeoutError):
        what = f"timed out after {timeout} s (the per-cell limit, `--timeout`)"
    elif isinstance(exc, DeadKernelError):
        what = "DeadKernelError: the kernel died (crashed, was killed, or the code exited the process)"
    else:
        name = getattr(exc, "ename", None) or type(exc).__name__
        value = _ANSI.sub("", str(getattr(exc, "evalue", "") or "")) if hasattr(exc, "ename") else ""
        what = f"{name}: {value}" if value else name
    what = " ".join(what.split())[:300]
    return (f"**FAILED: {where}, {what}.** This page shows the notebook as far as it ran; cells after the "
            "failing one did not run.")


def execute_notebook(path: Path, fast: bool = False, timeout: int = CELL_TIMEOUT) -> RunResult:
    """Execute one notebook in a fresh kernel (cwd = its folder); never raises on cell errors.

    A failure's ``error`` starts with the failing cell (its position, first lines and the
    exception), then the traceback without terminal colour codes, and the notebook gets a first
    markdown cell (tagged ``workbench-report-failure``) saying so, for its HTML page. A file that cannot be read as
    a notebook is a failed run too (``notebook`` is then None), so one bad file does not stop a
    report over many.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    start = time.perf_counter()
    try:
        nb = nbformat.read(path, as_version=4)
    except (OSError, ValueError, nbformat.reader.NotJSONError, nbformat.ValidationError) as exc:
        return RunResult(Path(path), False, time.perf_counter() - start,
                         f"cannot read {path} as a notebook: {type(exc).__name__}: {exc}"[:4000])
    old = dict(os.environ)
    os.environ.clear()
    os.environ.update(_kernel_env(fast))  # the kernel inherits the launching process's environment
    current = {"index": None}

    def on_cell_start(cell, cell_index, **_):  # remembered so a failure can name its cell
        current["index"] = cell_index

    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", on_cell_start=on_cell_start,
                                resources={"metadata": {"path": str(Path(path).parent)}})
        client.execute()
        return RunResult(Path(path), True, time.perf_counter() - start, notebook=nb)
    except (CellExecutionError, CellTimeoutError, DeadKernelError, RuntimeError) as exc:
        error = _failure_summary(nb, current["index"], exc)
        banner = nbformat.v4.new_markdown_cell(_failure_banner(nb, current["index"], exc, timeout))
        banner.metadata["tags"] = [BANNER_TAG]
        nb.cells.insert(0, banner)
        return RunResult(Path(path), False, time.perf_counter() - start, error, notebook=nb)
    finally:
        os.environ.clear()
        os.environ.update(old)


def _title(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return ""


def _thumbnail(nb) -> str | None:
    """The main figure: the first output image of a cell tagged ``main-figure``, else the first image."""
    images = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        tagged = "main-figure" in cell.get("metadata", {}).get("tags", [])
        for out in cell.get("outputs", []):
            png = out.get("data", {}).get("image/png")
            if png:
                if tagged:
                    return png
                images.append(png)
    return images[0] if images else None


def _mark(page: str) -> str:
    """``page`` with :data:`PAGE_MARKER` on its second line (after the doctype), where a later run looks."""
    head, sep, rest = page.partition("\n")
    if head.lstrip().lower().startswith("<!doctype"):
        return head + "\n" + PAGE_MARKER + "\n" + rest
    return PAGE_MARKER + "\n" + page


def is_report_page(path: Path) -> bool:
    """True if ``path`` is a page written by this tool (it carries :data:`PAGE_MARKER` near its start)."""
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return PAGE_MARKER in fh.read(4096)
    except OSError:
        return False


def remove_stale_pages(out_dir: Path, keep) -> list[Path]:
    """Delete the ``*.html`` pages in ``out_dir`` that an earlier run of this tool wrote and that are not in
    ``keep`` (the pages of this run): a page of a notebook not in this run would otherwise look current.
    Files without :data:`PAGE_MARKER` are never touched."""
    keep = {Path(k).resolve() for k in keep}
    removed = []
    for page in sorted(Path(out_dir).glob("*.html")):
        if page.resolve() not in keep and page.is_file() and is_report_page(page):
            page.unlink()
            removed.append(page)
    return removed


def _run_header(results, mode: str | None, command: str | None) -> str:
    """The index's header: when, by what command, in which mode, and which notebooks (all or a subset)."""
    names = [r.path.name for r in results]
    all_cases = {p.resolve() for p in notebook_paths()}
    complete = bool(all_cases) and {Path(r.path).resolve() for r in results} == all_cases
    scope = (f"all {len(names)} case studies in <code>notebooks/</code>" if complete else
             f"{len(names)} notebook{'s' if len(names) != 1 else ''} chosen on the command line "
             f"(not the full set of case studies): {html.escape(', '.join(names))}")
    mode_text = {"fast": "fast (<code>WORKBENCH_FAST=1</code>, shrunken sizes)",
                 "full": "full (<code>WORKBENCH_FAST=0</code>)"}.get(mode, html.escape(mode or "not recorded"))
    cmd = f" by <code>{html.escape(command)}</code>" if command else ""
    return (f"<p>Generated {time.strftime('%Y-%m-%d %H:%M')}{cmd}.</p>\n"
            f"<p class='run'>Mode: {mode_text}. Notebooks run: {scope}.</p>")


def write_reports(results: list[RunResult], out_dir: Path, mode: str | None = None,
                  command: str | None = None) -> Path:
    """Write one page per notebook and ``index.html`` into ``out_dir``; return the index's path.

    ``mode`` ("fast" or "full") and ``command`` go in the index's header with the notebooks run. Pages
    from an earlier run of this tool that this run did not write are deleted (see :func:`remove_stale_pages`).
    """
    from nbconvert import HTMLExporter

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter(template_name="lab")
    rows, written = [], []
    for res, name in zip(results, output_names([r.path for r in results])):
        if res.notebook is None:  # could not be read: a row with the reason, no page
            link, title, thumb = html.escape(name), "", None
        else:
            body, _ = exporter.from_notebook_node(res.notebook)
            (out_dir / f"{name}.html").write_text(_mark(body), encoding="utf-8")
            written.append(out_dir / f"{name}.html")
            # a file name is not a URL: spaces, '#', '?' or quotes in it would break the link
            href = html.escape(urllib.parse.quote(f"{name}.html"), quote=True)
            link = f'<a href="{href}">{html.escape(name)}</a>'
            title, thumb = _title(res.notebook), _thumbnail(res.notebook)
        img = f'<img src="data:image/png;base64,{thumb}" width="220">' if thumb else ""
        status = "ok" if res.ok else "FAILED"
        # the failing cell is named at the start of the error: keep the start, not only the tail
        err_text = res.error if len(res.error) <= 3000 else res.error[:1500] + "\n...\n" + res.error[-1500:]
        err = f"<pre>{html.escape(err_text)}</pre>" if res.error else ""
        rows.append(f"<tr><td>{link}</td>"
                    f"<td>{html.escape(title)}</td><td class='{status}'>{status}</td>"
                    f"<td>{res.seconds:.1f} s</td><td>{img}</td></tr>"
                    + (f"<tr><td colspan=5>{err}</td></tr>" if err else ""))
    index = f"""<!doctype html>
{PAGE_MARKER}
<html><head><meta charset="utf-8"><title>workbench case studies</title>
<style>body{{font-family:sans-serif;margin:2em}} td{{padding:.4em 1em;vertical-align:middle}}
.ok{{color:#137333}} .FAILED{{color:#b3261e;font-weight:bold}} pre{{font-size:small;white-space:pre-wrap}}</style>
</head><body><h1>workbench case studies</h1>
{_run_header(results, mode, command)}
<table><tr><th>notebook</th><th>question</th><th>status</th><th>run time</th><th>main figure</th></tr>
{''.join(rows)}</table></body></html>"""
    path = out_dir / "index.html"
    path.write_text(index, encoding="utf-8")
    remove_stale_pages(out_dir, [*written, path])
    return path


def write_student_copies(out_dir: Path, paths=None) -> list[Path]:
    """Copies of the notebooks without the cells tagged ``solution`` (exercises stay, answers go)."""
    import nbformat

    out_dir = Path(out_dir)
    paths = list(paths or notebook_paths())
    # unique names, as the HTML pages: two "01_x.ipynb" from different folders wrote one copy
    targets = [out_dir / f"{name}.ipynb" for name in output_names(paths)]
    # A copy written over its source would delete the solutions for good: refuse before writing any.
    clash = [str(p) for p, t in zip(paths, targets) if t.resolve() == Path(p).resolve()]
    if clash:
        raise ValueError(f"--out {out_dir} is the folder of the notebooks: the student copies would overwrite "
                         f"{clash[0]}" + (f" and {len(clash) - 1} more" if len(clash) > 1 else "")
                         + " and delete its solutions; pick another folder")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for path, target in zip(paths, targets):
        nb = nbformat.read(path, as_version=4)
        nb.cells = [c for c in nb.cells if "solution" not in c.get("metadata", {}).get("tags", [])]
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, target)
        written.append(target)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebook files or folders (a folder: its *.ipynb, sorted); default the case studies")
    parser.add_argument("--fast", action="store_true", help="shrink sizes (WORKBENCH_FAST=1)")
    parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT, help="per-cell timeout in seconds")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default reports/ or student/)")
    parser.add_argument("--student", action="store_true", help="write copies without solution cells instead")
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parser.parse_args(argv)
    missing = [str(p) for p in args.notebooks if not (Path(p).is_file() or Path(p).is_dir())]
    if missing:  # before any kernel starts: a typo should not cost a run of the others first
        print(f"no such notebook file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    paths = expand_paths(args.notebooks) if args.notebooks else notebook_paths()
    if not paths:  # both modes: nothing to run or copy is a failure (--student exited 0 having written nothing)
        where = ", ".join(map(str, args.notebooks)) if args.notebooks else NOTEBOOK_DIR
        print(f"no notebooks found in {where}", file=sys.stderr)
        return 1
    if args.student:
        try:
            written = write_student_copies(args.out or ROOT / "student", paths)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"wrote {len(written)} student notebooks to {args.out or ROOT / 'student'}")
        return 0
    args.out = args.out or ROOT / "reports"
    results = []
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover
        tqdm = lambda x, **k: x  # noqa: E731
    for path in tqdm(paths, desc="notebooks", disable=None):
        res = execute_notebook(path, fast=args.fast, timeout=args.timeout)
        print(f"{'ok    ' if res.ok else 'FAILED'} {res.seconds:6.1f} s  {path.name}", flush=True)
        if not res.ok:
            err = res.error if len(res.error) <= 3000 else res.error[:1500] + "\n...\n" + res.error[-1500:]
            print(err, file=sys.stderr)
        results.append(res)
    import shlex

    index = write_reports(results, args.out, mode="fast" if args.fast else "full",
                          command=shlex.join(["python", "-m", "workbench._report", *argv]))
    n_bad = sum(not r.ok for r in results)
    print(f"{len(results) - n_bad}/{len(results)} notebooks ran; report: {index}")
    return 1 if n_bad else 0


if __name__ == "__main__":
    sys.exit(main())
