"""Walk 7 (OPE, a user's own logs): regression tests for what the walk found.

Streamed reward models (workbench.scale.reward): a RewardModelScorer and callables must see the context
columns, and a fitted model of the wrong width is refused by name.
"""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

import workbench as wb
from workbench import ValidationError
from workbench.data import BanditLog

KW = dict(estimators=["dm", "dr"], n_bootstrap=100, random_state=0, warn=False)
COLS = ["value", "ci_low", "ci_high", "se"]


def _frame(dim_context=2, n=1200, n_actions=3, seed=5):
    log, _ = wb.data.simulate_bandit(n, n_actions=n_actions, dim_context=dim_context, random_state=seed)
    frame = log.to_frame()
    pi = [f"pi_{a}" for a in range(n_actions)]
    dist = wb.ope.SoftmaxPolicy(lambda X: X[:, [0, 1, 0]]).action_dist(log)
    frame[pi] = dist
    return log, frame, pi, dist


def test_streamed_reward_scorer_scores_the_context_columns():
    # d = 6 context columns = the 6 columns of the log's own (action, reward, propensity, 3 policy columns):
    # the scorer read those as its contexts, by position, and DM / DR were wrong with no error (0.353 / 0.395
    # for 0.372 / 0.372 in memory)
    log, frame, pi, dist = _frame(dim_context=6)
    scorer = wb.ope.fit_reward_scorer(log[:400], LogisticRegression())
    ctx = [f"x{j}" for j in range(6)]
    memory = wb.ope.evaluate_policy(log, dist, reward_model=scorer(log.context), **KW)
    streamed = wb.ope.evaluate_policy(frame, pi, reward_model=scorer, context=ctx, chunk_size=257, **KW)
    np.testing.assert_allclose(streamed[COLS].to_numpy(), memory[COLS].to_numpy(), rtol=1e-12, atol=1e-15)
    assert streamed["reward_model"].iloc[0] == "RewardModelScorer (fitted, given)"


def test_streamed_reward_scorer_needs_context_and_checks_names():
    log, frame, pi, _ = _frame()
    scorer = wb.ope.fit_reward_scorer(log[:400], LogisticRegression())
    with pytest.raises(ValidationError, match=r"^context: must name the feature columns .*fitted on 2 of them"):
        wb.ope.evaluate_policy(frame, pi, reward_model=scorer, **KW)
    named = BanditLog.from_frame(frame.rename(columns={"x0": "age", "x1": "score"}), context=["age", "score"])
    named_scorer = wb.ope.fit_reward_scorer(named[:400], LogisticRegression())
    swapped = frame.rename(columns={"x0": "age", "x1": "score"})
    with pytest.raises(ValidationError, match="same names in another order"):
        wb.ope.evaluate_policy(swapped, pi, reward_model=named_scorer, context=["score", "age"], **KW)


def test_streamed_callable_reward_model_sees_the_context_columns():
    log, frame, pi, dist = _frame()
    scorer = wb.ope.fit_reward_scorer(log[:400], LogisticRegression())
    seen = []

    def q(chunk):  # a user's function of the feature columns (it was a bare KeyError: 'x0')
        seen.append(list(chunk.columns))
        return scorer(chunk[["x0", "x1"]].to_numpy())

    memory = wb.ope.evaluate_policy(log, dist, reward_model=scorer(log.context), **KW)
    streamed = wb.ope.evaluate_policy(frame, pi, reward_model=q, context=["x0", "x1"], **KW)
    np.testing.assert_allclose(streamed[COLS].to_numpy(), memory[COLS].to_numpy(), rtol=1e-12, atol=1e-15)
    assert {"x0", "x1"} <= set(seen[0])


def test_streamed_fitted_model_of_another_width_is_refused_by_name():
    log, frame, pi, _ = _frame()
    raw = LogisticRegression().fit(log.context, log.reward)  # fitted on the 2 raw context columns
    with pytest.raises(ValidationError, match=r"^reward_model: is a fitted LogisticRegression with 2 features "
                                              r"\(the context columns alone.*3 actions: 11 columns"):
        wb.ope.evaluate_policy(frame, pi, reward_model=raw, context=["x0", "x1"], **KW)
    # a model fitted on the design is applied as before
    X = wb.ope.design_matrix(log.context, log.action, None, 3, None)
    ok = LogisticRegression().fit(X, log.reward)
    out = wb.ope.evaluate_policy(frame, pi, reward_model=ok, context=["x0", "x1"], **KW)
    assert np.isfinite(out["value"]).all()


# ----------------------------------------------------------------------------------------------
# BanditLog.from_frame: a text column of a numeric field is refused with its row, as when streamed
# ----------------------------------------------------------------------------------------------
def _user_frame():
    return pd.DataFrame({"item": ["apple", "banana", "apple", "cherry"], "click": [1.0, 0.0, 1.0, 0.0],
                         "p": [0.5, 0.25, 0.5, 0.25], "slot": [0, 1, 0, 1]})


def test_from_frame_text_action_ids_name_the_row_and_the_remedy():
    # was "action: must be numeric, got an object array (mixed or missing values?)": no count, no row
    with pytest.raises(ValidationError, match=r"^action: must be numeric; column 'item' has dtype .*; 4 of 4 rows "
                                              r"break the rule, first at row 0 \(value 'apple'\)\. .*pd\.factorize"):
        BanditLog.from_frame(_user_frame(), action="item", reward="click", propensity="p")
    cat = _user_frame().assign(item=lambda f: f["item"].astype("category"))
    with pytest.raises(ValidationError, match=r"^action: .*first at row 0 \(value 'apple'\)"):
        BanditLog.from_frame(cat, action="item", reward="click", propensity="p")
    codes, ids = pd.factorize(_user_frame()["item"])  # the remedy works
    log = BanditLog.from_frame(_user_frame().assign(item=codes), action="item", reward="click", propensity="p")
    assert log.n_actions == len(ids) == 3


@pytest.mark.parametrize("field, column", [("reward", "click"), ("propensity", "p"), ("position", "slot")])
def test_from_frame_text_numbers_are_refused_with_the_streamed_rule(field, column):
    frame = _user_frame().assign(item=[0, 1, 0, 2])
    frame[column] = frame[column].astype(str).where(frame.index != 2, "n/a")  # a CSV read as text
    kw = dict(action="item", reward="click", propensity="p", position="slot")
    with pytest.raises(ValidationError) as memory:
        BanditLog.from_frame(frame, **kw)
    assert str(memory.value).startswith(f"{field}: must be numeric; column '{column}' has dtype ")
    assert "4 of 4 rows break the rule, first at row 0" in str(memory.value)
    if field != "position":  # the streamed path has no slots; the same frame is refused alike there
        frame[["pi_0", "pi_1", "pi_2"]] = 1 / 3
        with pytest.raises(ValidationError) as streamed:
            wb.ope.evaluate_policy(frame, ["pi_0", "pi_1", "pi_2"], estimators=["ips"], action="item",
                                   reward="click", propensity="p", n_bootstrap=10)
        assert str(streamed.value) == str(memory.value)
    # an object column of numbers only is still refused (no silent cast), as a plain ValidationError
    frame = _user_frame().assign(item=[0, 1, 0, 2])
    frame[column] = frame[column].astype(object)
    with pytest.raises(ValidationError, match=f"^{field}: must be numeric; column '{column}' has dtype object") as e:
        BanditLog.from_frame(frame, **kw)
    assert type(e.value) is ValidationError


# ----------------------------------------------------------------------------------------------
# evaluate_policy on a BanditLog: the two near-miss forms of a target say what to pass instead
# ----------------------------------------------------------------------------------------------
def test_bandit_log_policy_forms_of_other_entry_points_are_explained():
    log, frame, pi, dist = _frame(n=300)
    with pytest.raises(ValidationError, match=r"^policy: is a list of column names \['pi_0', 'pi_1', 'pi_2'\], "
                                              r"the form of a tabular log.*frame\[columns\]\.to_numpy\(\)"):
        wb.ope.evaluate_policy(log, pi, estimators=["ips"], n_bootstrap=10)
    actions = dist.argmax(axis=1)  # one action per row, as BanditTruth.policy_value takes it
    with pytest.raises(ValidationError, match=r"^policy: must be an \(n, n_actions\) action distribution, got a "
                                              r"1-D array of shape \(300,\)\. For one action per row, pass "
                                              r"DeterministicPolicy\(actions\)"):
        wb.ope.evaluate_policy(log, actions, estimators=["ips"], n_bootstrap=10)
    # the remedies give the in-memory values of the same target
    kw = dict(estimators=["ips", "snips"], n_bootstrap=50, random_state=0)
    a = wb.ope.evaluate_policy(log, frame[pi].to_numpy(), **kw)
    b = wb.ope.evaluate_policy(log, dist, **kw)
    pd.testing.assert_frame_equal(a, b)
    c = wb.ope.evaluate_policy(log, wb.ope.DeterministicPolicy(actions), **kw)
    d = wb.ope.evaluate_policy(log, np.eye(3)[actions], **kw)
    pd.testing.assert_frame_equal(c, d)
