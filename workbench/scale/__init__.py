"""Logs larger than memory, and clusters: one-pass estimators over chunks, Parquet and Dask.

Every interval this package reports for a sum-type statistic (IPS, SNIPS, DR-family with a
given or sample-fitted reward model, means and differences of losses) is computed in one pass:
each chunk of rows reduces to mergeable sufficient statistics (plain sums and hashed-Poisson
replicate sums of per-row terms, see :mod:`workbench._engine`), and partial results add. A row's
bootstrap weight is a hash of (seed, row number or unit id, replicate), so the same call with the
same seed gives the same values and intervals for a pandas frame, an iterable of chunks, a
Parquet file or directory, a ``pyarrow.dataset.Dataset`` or a ``dask.dataframe.DataFrame``,
whatever the chunk sizes or partition counts, up to floating-point rounding (partial sums add in
another order: ~1e-14 relative, up to ~1.7e-13 measured; not bit for bit).

Entry points: :func:`evaluate_tabular` (what :func:`workbench.ope.evaluate_policy` calls for
tabular inputs) and :func:`bootstrap_loss_matrix`; the building blocks :func:`as_source`,
:class:`TermReducer` and :class:`Partial` serve any other sum-type statistic
(:class:`Resampling`, how the replicate weights are drawn, is the reducer's first argument).
"""
from .._engine import Resampling
from .losses import bootstrap_loss_matrix, compare_models_tabular
from .ope import bca_from_moments, evaluate_tabular
from .reduce import CoMoments, Partial, TermReducer
from .sources import (DaskSource, FrameSource, IterableSource, ParquetSource, Source, as_source, is_tabular)

__all__ = ["evaluate_tabular", "bootstrap_loss_matrix", "compare_models_tabular", "bca_from_moments", "as_source", "is_tabular", "Source",
           "FrameSource", "IterableSource", "ParquetSource", "DaskSource", "TermReducer", "Partial", "CoMoments",
           "Resampling"]
