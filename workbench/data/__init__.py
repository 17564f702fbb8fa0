"""Logged data: validated containers, the Open Bandit Dataset sample, simulators with known truth."""
from .logs import BanditLog, PredictionLog, loss_matrix
from .open_bandit import load_open_bandit, open_bandit_bts_policy
from .simulate import BanditTruth, classification_to_bandit, simulate_bandit
from .zoo import make_model_zoo
from .continuous_log import ContinuousBanditLog
from .simulate_continuous import ContinuousTruth, PricingProblem, simulate_pricing
from .simulate_routing import ROUTING_MODELS, RoutingLog, RoutingTruth, simulate_routing
from .simulate_drift import DriftingStream, simulate_drifting_stream, train_historical_models

__all__ = ["BanditLog", "PredictionLog", "loss_matrix", "load_open_bandit", "open_bandit_bts_policy",
           "BanditTruth", "simulate_bandit", "classification_to_bandit", "make_model_zoo",
           "ContinuousBanditLog", "ContinuousTruth", "PricingProblem", "simulate_pricing",
           "ROUTING_MODELS", "RoutingLog", "RoutingTruth", "simulate_routing",
           "DriftingStream", "simulate_drifting_stream", "train_historical_models"]
