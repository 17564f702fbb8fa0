"""pyproject.toml is the source of truth; environment.yml must list the same packages and bounds."""
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
# pip name -> conda-forge name, where they differ (extras in brackets are dropped first).
CONDA_NAME = {}


def _split(req: str) -> tuple[str, str]:
    req = req.split(";")[0].strip()
    m = re.match(r"^([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", req)
    name, spec = m.group(1), m.group(3).replace(" ", "")
    name = name.lower().replace("_", "-")
    return CONDA_NAME.get(name, name), spec


def _pyproject() -> dict[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    return dict(_split(r) for r in reqs)


def _environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, []
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip += dep.get("pip", [])
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(.*)$", dep)
        conda[m.group(1).lower()] = m.group(2).replace(" ", "").lstrip("=") if m.group(2).startswith("=") \
            and not m.group(2).startswith("==") else m.group(2).replace(" ", "")
    return env, conda, pip


def test_environment_yml_is_valid_conda_yaml():
    env, conda, pip = _environment()
    assert env["name"] == "workbench"
    assert "conda-forge" in env["channels"]
    assert "python" in conda and "pip" in conda
    assert "-e ." in pip, "environment.yml must install the package itself with pip"


def test_same_packages_and_bounds():
    py = _pyproject()
    _, conda, _ = _environment()
    conda = {k: v for k, v in conda.items() if k not in ("python", "pip")}
    missing = sorted(set(py) - set(conda))
    extra = sorted(set(conda) - set(py))
    assert not missing, f"in pyproject.toml but not environment.yml: {missing}"
    assert not extra, f"in environment.yml but not pyproject.toml: {extra}"
    differ = {k: (py[k], conda[k]) for k in py if py[k] != conda[k]}
    assert not differ, f"version bounds differ (pyproject, environment.yml): {differ}"


def test_requires_python_admits_the_environment_python():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    _, conda, _ = _environment()
    lowest = tuple(int(x) for x in meta["requires-python"].lstrip(">=").split("."))
    assert tuple(int(x) for x in conda["python"].split(".")) >= lowest
