"""Every numpydoc ``Examples`` section in the package runs, and prints what it says it prints.

The docstrings promise runnable examples (scipy's style); this runs them as doctests, module by
module, so an example that drifts from the code fails here and not in a user's notebook.
"""
from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import workbench

MODULES = sorted(m.name for m in pkgutil.walk_packages(workbench.__path__, "workbench.")
                 if not m.name.endswith("__main__"))


def _examples(name):
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    return [t for t in finder.find(module, name) if t.examples]


def test_the_package_has_runnable_examples():
    # a guard on the walk itself: if discovery broke, every parametrised case below would vanish
    assert sum(len(_examples(name)) for name in MODULES) >= 40


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    if name.startswith("workbench.scale"):  # the scale extra: Parquet and Dask sources in its examples
        pytest.importorskip("pyarrow")
        pytest.importorskip("dask.dataframe")
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in _examples(name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} doctest lines failed in {name}"
