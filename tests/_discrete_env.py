"""A discrete bandit environment with an exact answer, shared by the OPE evidence tests:
5 context types (probabilities P_X), 4 actions, click probabilities Q, logging policy PI_B and
target PI_E per context type."""
import numpy as np

P_X = np.array([0.3, 0.25, 0.2, 0.15, 0.1])
Q = np.array([[0.10, 0.30, 0.50, 0.20],
              [0.40, 0.20, 0.10, 0.60],
              [0.05, 0.15, 0.35, 0.25],
              [0.50, 0.45, 0.30, 0.10],
              [0.20, 0.60, 0.40, 0.30]])
PI_B = np.array([[0.4, 0.3, 0.2, 0.1],
                 [0.1, 0.2, 0.3, 0.4],
                 [0.25, 0.25, 0.25, 0.25],
                 [0.6, 0.2, 0.1, 0.1],
                 [0.1, 0.1, 0.1, 0.7]])
PI_E = np.array([[0.05, 0.15, 0.7, 0.1],
                 [0.1, 0.0, 0.1, 0.8],
                 [0.0, 0.2, 0.6, 0.2],
                 [0.7, 0.2, 0.1, 0.0],
                 [0.1, 0.8, 0.05, 0.05]])
