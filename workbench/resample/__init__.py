"""Resampling, cross-validation and statistical comparison of models and learning algorithms.

* :func:`bootstrap_ci`, :func:`bootstrap_intervals`: bootstrap intervals (percentile, basic, BCa
  in O(n), studentized, normal) for means, ratios and any statistic; multinomial, Poisson and
  cluster bootstrap on the shared engine.
* :func:`compare_models`, :func:`model_confidence_set`: many models on one test set.
* :func:`mcnemar_test`, :func:`cochrans_q`: classifiers on one test set.
* :func:`paired_t_5x2cv`, :func:`f_test_5x2cv`, :func:`corrected_resampled_t_test`,
  :func:`bayesian_correlated_t_test`: two learning algorithms.
* :func:`friedman_test`, :func:`nemenyi_test`, :func:`wilcoxon_holm_test`: many algorithms over
  many data sets (critical-difference diagram in :mod:`workbench.plotting`).
* :class:`BootstrapSplit`, :func:`bootstrap_error` (OOB, .632, .632+).
* :func:`repeated_cv`, :func:`nested_cv`, :func:`ncv_interval`, :func:`learning_curve_ci`.
"""
from .bootstrap import METHODS, BootstrapResult, bootstrap_ci, bootstrap_intervals
from .compare import ModelComparison, ModelConfidenceSet, compare_models, model_confidence_set
from ._result import TestResult

__all__ = ["METHODS", "BootstrapResult", "bootstrap_ci", "bootstrap_intervals", "ModelComparison",
           "ModelConfidenceSet", "compare_models", "model_confidence_set", "TestResult"]
