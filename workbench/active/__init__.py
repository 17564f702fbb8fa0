"""Active testing and label-efficient model selection.

- :func:`estimate_risk`: one model's risk from few actively acquired labels (LURE, iid, ASE).
- :func:`select_model`: pick the best of many models with few labels (random, uncertainty, margin,
  active_testing, model_selector, coda, and our ``auto``).
- :func:`consensus_accuracy`: each model's label-free expected accuracy if labels followed the zoo's
  consensus (geometric: the score behind ``auto``'s prior; or arithmetic), a ranking before any label.
- :func:`estimate_accuracies`: the models' accuracy differences from the pick (and accuracies), unbiased,
  from the labels a selection bought (LURE on its acquisition probabilities, replayed).
- :func:`benchmark_selection`: identification curves, labels-to-90%, regret, time per step.
- :mod:`workbench.active.tasks`: the task suite (cached model zoos on real and synthetic data).
"""
from .risk import RiskTrace, estimate_risk

__all__ = ["estimate_risk", "RiskTrace"]
from .selection import STRATEGIES, SelectionTrace, consensus_accuracy, geometric_consensus, select_model

__all__ += ["select_model", "SelectionTrace", "STRATEGIES", "geometric_consensus", "consensus_accuracy"]
from .trace_accuracy import estimate_accuracies

__all__ += ["estimate_accuracies"]
from .benchmark import SelectionBenchmark, benchmark_risk, benchmark_selection
from .tasks import SelectionTask, contested_points, difficulty_table, labels_to_order_pair, load_task, task_suite

__all__ += ["benchmark_selection", "benchmark_risk", "SelectionBenchmark", "SelectionTask", "load_task", "task_suite",
            "difficulty_table", "contested_points", "labels_to_order_pair"]
