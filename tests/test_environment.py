"""pyproject.toml is the source of truth; environment.yml must list the same packages and bounds.

The comparison is strict, because everything it does not look at can drift unnoticed:

* every requirement is parsed whole (name, extras, version specifier, environment marker); a line the
  parser does not understand is a disagreement, not something to skip;
* a package listed twice within one file is a disagreement (the current files list each package once;
  a second line with another bound would silently win or lose);
* the ``pip:`` section of environment.yml holds the editable install ``-e .`` and nothing else (anything
  else there is installed by pip behind conda's back and is not compared with pyproject.toml);
* extras in brackets: conda has no extras. A pip extra is allowed only when :data:`CONDA_FOR_EXTRA` says
  which conda-forge package provides it, and environment.yml must list that package with the same bound
  (``dask[dataframe]`` -> ``dask``; ``dask[complete]``, not in the map, is a disagreement);
* environment markers (``; python_version < "3.12"``) cannot be written in environment.yml: any marker
  is a disagreement;
* ``requires-python`` must admit the environment's python, and its floor must be >= 3.11, since this
  test suite (and the project's tooling) imports ``tomllib``.

The checks are functions of the parsed files, tested on small in-memory examples below.
"""
from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import NamedTuple

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
# pip name -> conda-forge name, where they differ.
CONDA_NAME: dict[str, str] = {}
# (pip name, extra) -> the conda-forge package that provides the package with that extra. conda has no
# extras: conda-forge's ``dask`` is the metapackage with dask-core, pandas, pyarrow, distributed... (a
# superset of pip's ``dask[dataframe]``). An extra not listed here cannot be mirrored and fails the test.
CONDA_FOR_EXTRA: dict[tuple[str, str], str] = {("dask", "dataframe"): "dask"}
EDITABLE = "-e ."
MIN_PYTHON = (3, 11)  # tomllib

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._\-]*[A-Za-z0-9])?"
_SPEC = r"(?:===|==|!=|~=|<=|>=|<|>)\s*[A-Za-z0-9.*+!\-]+"
_PIP_REQ = re.compile(rf"^\s*(?P<name>{_NAME})\s*(?:\[(?P<extras>[^\]]*)\])?\s*"
                      rf"(?P<spec>{_SPEC}(?:\s*,\s*{_SPEC})*)?\s*(?:;(?P<marker>.*))?$")
_CONDA_REQ = re.compile(rf"^\s*(?P<name>{_NAME})\s*(?P<spec>(?:={_NAME}|{_SPEC}(?:\s*,\s*{_SPEC})*))?\s*$")


class Req(NamedTuple):
    name: str
    extras: tuple[str, ...]
    spec: str
    marker: str


def _norm_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _norm_spec(spec: str) -> str:
    """Whitespace out, clauses sorted: ``<2, >=1.25`` and ``>=1.25,<2`` are one bound."""
    return ",".join(sorted(p for p in spec.replace(" ", "").split(",") if p))


def parse_pip(req: str) -> Req:
    m = _PIP_REQ.match(req)
    if not m:
        raise ValueError(f"cannot parse requirement {req!r}")
    extras = tuple(sorted(_norm_name(e.strip()) for e in (m["extras"] or "").split(",") if e.strip()))
    return Req(_norm_name(m["name"]), extras, _norm_spec(m["spec"] or ""), (m["marker"] or "").strip())


def parse_conda(dep: str) -> Req:
    m = _CONDA_REQ.match(dep)
    if not m:  # channel::name, build strings, [key=value] match specs... : not mirrored from pip, so not allowed
        raise ValueError(f"cannot parse conda dependency {dep!r}")
    return Req(m["name"].lower(), (), _norm_spec(m["spec"] or ""), "")


def pyproject_requirements(meta: dict) -> tuple[list[tuple[str, Req]], list[str]]:
    """(where, requirement) for the core dependencies and every optional group, and parse problems."""
    out, problems = [], []
    groups = [("dependencies", meta.get("dependencies", []))]
    groups += [(f"optional-dependencies.{g}", reqs) for g, reqs in meta.get("optional-dependencies", {}).items()]
    for where, reqs in groups:
        for r in reqs:
            try:
                out.append((where, parse_pip(r)))
            except ValueError as exc:
                problems.append(f"pyproject.toml {where}: {exc}")
    return out, problems


def environment_requirements(env: dict) -> tuple[list[Req], list[str], list[str]]:
    """conda requirements, pip-section lines, and parse problems."""
    conda, pip, problems = [], [], []
    for dep in env.get("dependencies", []) or []:
        if isinstance(dep, dict):
            if set(dep) != {"pip"}:
                problems.append(f"environment.yml: unexpected mapping in dependencies: {sorted(dep)}")
            pip += list(dep.get("pip", []) or [])
            continue
        try:
            conda.append(parse_conda(str(dep)))
        except ValueError as exc:
            problems.append(f"environment.yml: {exc}")
    return conda, pip, problems


def disagreements(meta: dict, env: dict) -> list[str]:
    """Every way the ``[project]`` table ``meta`` and the conda environment ``env`` disagree ([] if none)."""
    py, problems = pyproject_requirements(meta)
    conda, pip, env_problems = environment_requirements(env)
    problems += env_problems

    other_pip = [p for p in pip if str(p).strip() != EDITABLE]
    if other_pip:
        problems.append(f"environment.yml pip section: only {EDITABLE!r} belongs there, found {other_pip} "
                        "(list conda packages instead, mirrored from pyproject.toml)")
    if pip.count(EDITABLE) != 1:
        problems.append(f"environment.yml pip section must hold {EDITABLE!r} exactly once (found {pip.count(EDITABLE)})")

    # pyproject side, mapped to the conda names it must appear under
    wanted: dict[str, tuple[str, Req]] = {}
    seen: dict[str, str] = {}
    for where, r in py:
        if r.name in seen:
            problems.append(f"pyproject.toml lists {r.name} twice ({seen[r.name]} and {where})")
            continue
        seen[r.name] = where
        if r.marker:
            problems.append(f"pyproject.toml {where}: {r.name} has the environment marker {r.marker!r}, "
                            "which environment.yml cannot express")
        conda_name = CONDA_NAME.get(r.name, r.name)
        for extra in r.extras:
            if (r.name, extra) not in CONDA_FOR_EXTRA:
                problems.append(f"pyproject.toml {where}: {r.name}[{extra}] has no conda counterpart "
                                f"(add it to CONDA_FOR_EXTRA in tests/test_environment.py if conda-forge has one)")
                continue
            conda_name = CONDA_FOR_EXTRA[(r.name, extra)]
        if len({CONDA_FOR_EXTRA.get((r.name, e)) for e in r.extras}) > 1:
            problems.append(f"pyproject.toml {where}: {r.name}{list(r.extras)} maps to several conda packages")
        if conda_name in wanted:
            problems.append(f"pyproject.toml: {r.name} and {wanted[conda_name][1].name} are both conda's {conda_name}")
            continue
        wanted[conda_name] = (where, r)

    have: dict[str, Req] = {}
    for r in conda:
        if r.name in have:
            problems.append(f"environment.yml lists {r.name} twice ({have[r.name].spec or 'any'} and {r.spec or 'any'})")
            continue
        have[r.name] = r
    for name in ("python", "pip"):
        if name not in have:
            problems.append(f"environment.yml must list {name}")
    have = {k: v for k, v in have.items() if k not in ("python", "pip")}

    missing = sorted(set(wanted) - set(have))
    extra = sorted(set(have) - set(wanted))
    if missing:
        problems.append(f"in pyproject.toml but not environment.yml: {missing}")
    if extra:
        problems.append(f"in environment.yml but not pyproject.toml: {extra}")
    for name in sorted(set(wanted) & set(have)):
        where, r = wanted[name]
        if r.spec != have[name].spec:
            problems.append(f"version bounds differ for {name}: pyproject.toml {r.spec or 'any'!r}, "
                            f"environment.yml {have[name].spec or 'any'!r}")
    problems += python_disagreements(meta, env)
    return problems


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def python_disagreements(meta: dict, env: dict) -> list[str]:
    """requires-python is one floor (``>=X.Y``) of at least 3.11 and admits environment.yml's python."""
    rp = str(meta.get("requires-python", "")).replace(" ", "")
    m = re.fullmatch(r">=(\d+(?:\.\d+)*)", rp)
    if not m:
        return [f"requires-python {rp!r}: expected one floor, '>=X.Y'"]
    floor = _version(m.group(1))
    problems = []
    if floor < MIN_PYTHON:
        problems.append(f"requires-python {rp!r} admits Python < {'.'.join(map(str, MIN_PYTHON))}, "
                        "but the project's tests and tooling import tomllib (3.11+)")
    conda, _, _ = environment_requirements(env)
    pys = [r for r in conda if r.name == "python"]
    if pys:
        pm = re.fullmatch(r"(?:=|==|>=)?(\d+(?:\.\d+)*)(?:\.\*)?", pys[0].spec)
        if not pm:
            problems.append(f"environment.yml python {pys[0].spec!r}: expected python=X.Y")
        elif _version(pm.group(1)) < floor:
            problems.append(f"environment.yml python {pm.group(1)} is below requires-python {rp!r}")
    return problems


def _real():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    return meta, env


# ---------------------------------------------------------------------------------------------- real files
def test_environment_yml_is_valid_conda_yaml():
    _, env = _real()
    assert env["name"] == "workbench"
    assert "conda-forge" in env["channels"]
    conda, pip, problems = environment_requirements(env)
    assert not problems, problems
    assert {"python", "pip"} <= {r.name for r in conda}
    assert EDITABLE in pip, "environment.yml must install the package itself with pip"


def test_same_packages_and_bounds():
    meta, env = _real()
    problems = disagreements(meta, env)
    assert not problems, "pyproject.toml and environment.yml disagree:\n" + "\n".join(problems)


def test_requires_python_admits_the_environment_python():
    meta, env = _real()
    problems = python_disagreements(meta, env)
    assert not problems, problems


# ------------------------------------------------------------------------------- the checks, in memory
def _good():
    meta = {"requires-python": ">=3.11",
            "dependencies": ["numpy>=1.25", "scipy >= 1.10"],
            "optional-dependencies": {"scale": ["dask[dataframe]>=2024.3", "pyarrow>=14,<30"],
                                      "test": ["pytest>=7.4"]}}
    env = {"name": "x", "channels": ["conda-forge"],
           "dependencies": ["python=3.11", "pip", "numpy>=1.25", "scipy>=1.10", "dask>=2024.3",
                            "pyarrow<30,>=14", "pytest >=7.4", {"pip": ["-e ."]}]}
    return meta, env


def test_a_matching_pair_passes():
    assert disagreements(*_good()) == []


@pytest.mark.parametrize("change, expected", [
    # pip section: anything besides the editable install
    (lambda m, e: e["dependencies"][-1]["pip"].append("requests>=2"), "pip section"),
    (lambda m, e: e["dependencies"][-1].update(pip=["numpy==1.24"]), "pip section"),
    # a package twice within one file (different bounds, or the same)
    (lambda m, e: m["optional-dependencies"]["test"].append("numpy>=1.25,<1.26"), "numpy twice"),
    (lambda m, e: m["optional-dependencies"]["test"].append("numpy>=1.25"), "numpy twice"),
    (lambda m, e: e["dependencies"].insert(3, "numpy<1.26"), "numpy twice"),
    (lambda m, e: e["dependencies"].insert(3, "numpy>=1.25"), "numpy twice"),
    # extras conda cannot express
    (lambda m, e: m["optional-dependencies"]["scale"].__setitem__(0, "dask[complete]>=2024.3"), "dask[complete]"),
    (lambda m, e: m["dependencies"].__setitem__(0, "numpy[dev]>=1.25"), "numpy[dev]"),
    # environment markers
    (lambda m, e: m["dependencies"].__setitem__(0, 'numpy>=1.25; python_version < "3.12"'), "marker"),
    # plain disagreements
    (lambda m, e: m["dependencies"].__setitem__(0, "numpy>=1.26"), "bounds differ"),
    (lambda m, e: m["dependencies"].append("pandas>=2"), "not environment.yml"),
    (lambda m, e: e["dependencies"].insert(3, "pandas>=2"), "not pyproject.toml"),
    (lambda m, e: e["dependencies"].insert(3, "conda-forge::pandas>=2"), "cannot parse"),
    (lambda m, e: m["dependencies"].append("pandas @ https://example.org/p.whl"), "cannot parse"),
    # python
    (lambda m, e: m.update({"requires-python": ">=3.10"}), "tomllib"),
    (lambda m, e: e["dependencies"].__setitem__(0, "python=3.10"), "below requires-python"),
])
def test_each_kind_of_disagreement_fails(change, expected):
    meta, env = _good()
    change(meta, env)
    problems = disagreements(meta, env)
    assert problems, "a disagreement went unnoticed"
    assert any(expected in p for p in problems), problems
