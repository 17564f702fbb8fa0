"""Fresh-eyes walk through workbench.ope: regressions for defects a user on new data would hit."""
import warnings

import numpy as np
import pytest

import workbench as wb
from workbench.ope import OPEDiagnosticWarning, UniformPolicy, cross_fit_predict, evaluate_policy


def _one_click_log(n=400, seed=0):
    rng = np.random.default_rng(seed)
    r = np.zeros(n)
    r[rng.integers(n)] = 1.0  # a single click: whichever fold holds it, the other folds train on zeros only
    return wb.data.BanditLog(action=rng.integers(0, 3, n), reward=r, propensity=np.full(n, 1 / 3),
                             context=rng.normal(size=(n, 2)))


def test_default_reward_model_on_a_one_click_log():
    # The default model (logistic for 0/1 rewards) raised "could not be fitted on fold k" with a hint to use
    # fewer folds, which cannot help: the fold that holds the only click leaves zeros to train on.
    from sklearn.linear_model import LogisticRegression
    from sklearn.tree import DecisionTreeClassifier

    log = _one_click_log()
    click = int(np.flatnonzero(log.reward)[0])
    q = cross_fit_predict(log, LogisticRegression(), n_folds=5, random_state=3)
    assert q[click].tolist() == [0.0, 0.0, 0.0]  # trained on zeros only: the classifier's expected reward is 0
    assert np.all((q > 0) & (q < 1) | (q == 0))
    # the same as a classifier that accepts one class gives (a tree predicts probability 1 for it)
    tree = cross_fit_predict(log, DecisionTreeClassifier(), n_folds=5, random_state=3)
    assert tree[click].tolist() == [0.0, 0.0, 0.0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", OPEDiagnosticWarning)
        out = evaluate_policy(log, UniformPolicy(), estimators=["dm", "dr"], n_bootstrap=50)
    assert np.isfinite(out["value"]).all() and (out["value"] > 0).all()
