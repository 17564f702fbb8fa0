"""workbench: decide which model or policy to deploy from the data you already have.

Pillars: :mod:`workbench.data` (validated logs, loaders, simulators), :mod:`workbench.resample`
(bootstrap, cross-validation, model comparison), :mod:`workbench.ope` (off-policy evaluation) and
:mod:`workbench.active` (active testing and label-efficient model selection).
"""
from importlib import import_module as _import_module

from . import data
from ._validation import ValidationError
from .results import Estimate

__version__ = "0.1.0"
__all__ = ["data", "resample", "ope", "active", "plotting", "scale", "validity", "Estimate", "ValidationError"]


def __getattr__(name):
    # The other pillars load on first use, so `import workbench` stays fast.
    if name in ("resample", "ope", "active", "plotting", "scale", "validity"):
        return _import_module(f".{name}", __name__)
    raise AttributeError(f"module 'workbench' has no attribute {name!r}")
