"""warn=False silences the single-row / single-unit warning of evaluate_policy, in memory and streamed,
as it does every other diagnostics warning (the NaN intervals still report the case)."""
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.data import BanditLog
from workbench.ope import OPEDiagnosticWarning, evaluate_policy


def _messages(**kw):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = evaluate_policy(**kw)
    return out, [str(w.message) for w in rec if issubclass(w.category, OPEDiagnosticWarning)]


def _one_row():
    mem = BanditLog(action=[0], reward=[1.0], propensity=[0.5], n_actions=2)
    df = pd.DataFrame({"action": [0], "reward": [1.0], "propensity": [0.5], "pi_0": [0.5], "pi_1": [0.5]})
    return dict(log=mem, policy=np.array([[0.5, 0.5]])), dict(log=df, policy=["pi_0", "pi_1"])


def _one_unit():
    rng = np.random.default_rng(0)
    n = 60
    a = rng.integers(0, 2, n)
    r = rng.random(n)
    mem = BanditLog(action=a, reward=r, propensity=np.full(n, 0.5), n_actions=2, unit_id=np.full(n, 7))
    df = pd.DataFrame({"action": a, "reward": r, "propensity": 0.5, "pi_0": 0.5, "pi_1": 0.5, "user": 7})
    return (dict(log=mem, policy=np.tile([0.5, 0.5], (n, 1))),
            dict(log=df, policy=["pi_0", "pi_1"], unit_id="user"))


@pytest.mark.parametrize("case, words", [(_one_row, "single row"), (_one_unit, "single unit")])
@pytest.mark.parametrize("where", [0, 1], ids=["memory", "streamed"])
def test_single_row_or_unit_warning_obeys_warn(case, words, where):
    kw = dict(case()[where], estimators=["ips"], n_bootstrap=20)
    out, msgs = _messages(**kw)
    assert any(words in m for m in msgs)
    quiet, msgs = _messages(**kw, warn=False)
    assert msgs == []
    assert quiet[["ci_low", "ci_high", "se"]].isna().all(axis=None)  # the table still says it
    pd.testing.assert_frame_equal(quiet, out)


def test_estimate_interval_obeys_warn_for_one_unit():
    from workbench.ope import InverseProbabilityWeighting

    kw = _one_unit()[0]

    def run(**extra):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            est = InverseProbabilityWeighting().estimate_interval(kw["log"], kw["policy"], n_bootstrap=20, **extra)
        return est, [str(w.message) for w in rec if issubclass(w.category, OPEDiagnosticWarning)]

    loud, msgs = run()
    assert any("single unit" in m for m in msgs) and np.isnan(loud.ci_low)
    quiet, msgs = run(warn=False)
    assert msgs == [] and np.isnan(quiet.ci_low) and quiet.value == loud.value


def test_compare_policies_obeys_warn_for_one_unit():
    from workbench.ope import UniformPolicy, compare_policies

    kw = _one_unit()[0]
    pols = {"uniform": UniformPolicy(), "given": kw["policy"]}

    def run(**extra):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            cmp = compare_policies(kw["log"], pols, estimator="ips", n_bootstrap=20, **extra)
        return cmp, [str(w.message) for w in rec if issubclass(w.category, OPEDiagnosticWarning)]

    loud, msgs = run()
    assert any("single unit" in m for m in msgs)
    quiet, msgs = run(warn=False)
    assert msgs == [] and quiet.summary[["ci_low", "ci_high", "se", "prob_best"]].isna().all(axis=None)
    pd.testing.assert_frame_equal(quiet.summary, loud.summary)
    with pytest.raises(ValueError, match="warn"):
        compare_policies(kw["log"], pols, estimator="ips", warn="no")
