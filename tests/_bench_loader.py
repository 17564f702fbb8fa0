"""Import a script of ``benchmarks/`` as a module (the scripts are not a package), for the tests of their helpers."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import workbench

ROOT = Path(workbench.__file__).resolve().parents[1]  # the checkout under test (its benchmarks/ too)


def load_benchmark(name: str, prefix: str = "_bench"):
    """``benchmarks/<name>.py`` as a fresh module; its own directory is on ``sys.path`` while it runs (the scripts
    import each other)."""
    path = ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{prefix}_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(mod)
    finally:
        sys.path.remove(str(path.parent))
    return mod
