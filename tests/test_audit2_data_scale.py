"""Audit (adversarial inputs and scale) of workbench.data and workbench.scale: regression tests.

Each test failed before its fix: a raw numpy / pandas / scikit-learn error, a silently wrong number,
an endless loop, or (scale) an O(k^2) / O(n k^3) cost where O(n k) / O(n k^2) suffices.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench._validation import ValidationError
from workbench.data import (BanditLog, PredictionLog, PricingProblem, RoutingLog, classification_to_bandit,
                            loss_matrix, make_model_zoo, open_bandit_bts_policy, simulate_bandit,
                            simulate_drifting_stream, simulate_pricing, simulate_routing, train_historical_models)
from workbench.scale import (CoMoments, DaskSource, bootstrap_loss_matrix, compare_models_tabular,
                             evaluate_tabular)


# -- workbench.data ------------------------------------------------------------------------------

def test_prediction_log_refuses_a_2d_labelled_mask_by_name():
    probs = np.full((2, 5, 2), 0.5)
    with pytest.raises(ValidationError, match="labelled: must be 1-D"):  # was an IndexError
        PredictionLog(probs, labels=np.zeros(5, int), labelled=np.ones((5, 1), bool))


@pytest.mark.parametrize("eps", [2.0, 0.0, -1e-3, "a", np.nan])
def test_loss_matrix_checks_eps(eps):
    probs = np.array([[[0.9, 0.1], [0.4, 0.6]]])
    # eps=2 clipped every probability to 1, so every cross-entropy was 0; "a" raised a numpy UFuncTypeError
    with pytest.raises(ValidationError, match="eps"):
        loss_matrix(probs, [1, 0], "cross_entropy", eps=eps)


@pytest.mark.parametrize("loss", ["cross_entropy", "squared"])
def test_loss_matrix_refuses_scores_that_are_not_probabilities(loss):
    logits = np.array([[[5.0, -3.0], [0.2, 0.1]]])
    with pytest.raises(ValidationError, match="outputs: must be in \\[0, 1\\]"):  # was a loss of -0.0
        loss_matrix(logits, [0, 1], loss)
    with pytest.raises(ValidationError, match="outputs: must sum to 1"):
        loss_matrix(np.array([[[0.2, 0.2]]]), [0], loss)


def test_loss_matrix_brier_score_is_the_direct_one():
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=(3, 7))
    y = np.array([0, 3, 1, 2, 2, 0, 3])
    direct = ((probs - np.eye(4)[y][None]) ** 2).sum(axis=2)
    np.testing.assert_array_equal(loss_matrix(probs, y, "squared"), direct)


def test_classification_to_bandit_does_not_build_a_classes_by_classes_identity():
    # labels up to 10**6: np.eye(k)[y] asked for a (k, k) identity (7 TiB) to fill a (2, k) matrix
    X = np.array([[0.0, 1.0], [1.0, 0.0]])
    y = np.array([0, 10**6])
    log, truth = classification_to_bandit(X, y, behavior="uniform", random_state=0)
    assert truth.expected_reward.shape == (2, 10**6 + 1)
    assert truth.expected_reward.sum() == 2 and truth.expected_reward[1, 10**6] == 1
    assert truth.policy_value(y) == 1.0


def test_classification_to_bandit_one_hot_truth_unchanged():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((60, 2))
    y = rng.integers(0, 4, 60)
    _, truth = classification_to_bandit(X, y, random_state=0)
    np.testing.assert_array_equal(truth.expected_reward, np.eye(4)[y])


def test_classification_to_bandit_refuses_a_model_that_is_not_an_estimator():
    X = np.random.default_rng(0).standard_normal((20, 2))
    with pytest.raises(ValidationError, match="model: must be a scikit-learn classifier"):  # was sklearn's TypeError
        classification_to_bandit(X, (X[:, 0] > 0).astype(int), model="logistic")


def test_simulate_bandit_refuses_text_from_a_behavior_callable():
    with pytest.raises(ValidationError, match="behavior"):  # was "could not convert string to float"
        simulate_bandit(4, n_actions=2, behavior=lambda x: [["a", "b"]] * 4, random_state=0)


@pytest.mark.parametrize("n_nodes", [2.5, 0, "a"])
def test_logging_value_checks_n_nodes(n_nodes):
    _, truth = simulate_pricing(20, logging="uniform", random_state=0)
    # 2.5 made 3 cells of width L / 2.5 (a value 20% too high), 0 returned 0.0, "a" raised a TypeError
    with pytest.raises(ValidationError, match="n_nodes"):
        truth.logging_value(n_nodes=n_nodes)


@pytest.mark.parametrize("kw, field", [({"scale": 0.0}, "scale"), ({"spread": np.nan}, "spread"),
                                       ({"v0": "5"}, "v0")])
def test_pricing_problem_checks_its_constants(kw, field):
    with pytest.raises(ValidationError, match=field):  # scale=0 gave NaN revenues, NaN spread NaN everywhere
        PricingProblem.make(**kw)


def test_routing_log_refuses_fields_of_different_lengths():
    log, _ = simulate_routing(30, random_state=0)
    with pytest.raises(ValidationError, match="action: must have one row per prompt"):
        RoutingLog(log.prompts, log.context, log.action[:5], log.propensity, log.behavior_dist, log.quality,
                   log.cost, log.output_tokens, log.model_names, log.feature_names)


def test_model_zoo_refuses_a_single_class_by_name():
    X = np.random.default_rng(0).standard_normal((40, 2))
    with pytest.raises(ValidationError, match="y: holds a single class"):  # was sklearn's ValueError
        make_model_zoo(X, np.zeros(40, int), n_models=1, cache_dir=False, progress=False)


def test_model_zoo_names_the_member_whose_subsample_holds_one_class():
    from sklearn.datasets import load_iris

    X, _ = load_iris(return_X_y=True)
    y = np.zeros(150, int)
    y[:3] = 1  # a rare class: member 0's subsample (logistic regression) holds no positive at this seed
    with pytest.raises(ValidationError, match="model 'logreg_C0.001#0' could not be fitted"):
        make_model_zoo(X, y, n_models=1, cache_dir=False, progress=False, random_state=3)


def test_train_historical_models_refuses_a_model_without_predict_proba():
    from sklearn.linear_model import LinearRegression

    stream = simulate_drifting_stream(n_periods=3, points_per_period=20, random_state=0)
    with pytest.raises(ValidationError, match="model: must be a scikit-learn classifier with predict_proba"):
        train_historical_models(stream, model=LinearRegression())  # was an AttributeError after a fit
    with pytest.raises(ValidationError, match="stream: must be a DriftingStream"):
        train_historical_models("stream")


def test_bts_policy_names_an_unreadable_prior(tmp_path):
    with pytest.raises(ValidationError, match="prior_path"):  # was FileNotFoundError
        open_bandit_bts_policy(prior_path=tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("all: [1, 2")
    with pytest.raises(ValidationError, match="prior_path"):  # was yaml's ParserError
        open_bandit_bts_policy(prior_path=bad)


# -- workbench.scale -----------------------------------------------------------------------------

def test_streamed_bca_of_a_constant_column_matches_memory():
    from workbench.resample import bootstrap_ci

    x = np.column_stack([np.ones(10), np.arange(10.0)])
    # the streamed BCa divided 0 by 0 in Python floats: ZeroDivisionError
    streamed = bootstrap_loss_matrix([pd.DataFrame(x[:4], columns=["a", "b"]), pd.DataFrame(x[4:], columns=["a", "b"])],
                                     method="bca", n_resamples=50, random_state=0)
    memory = bootstrap_ci(x, method="bca", n_resamples=50, random_state=0, resampling="poisson")
    np.testing.assert_allclose(streamed.ci_low, memory.ci_low)
    np.testing.assert_allclose(streamed.ci_high, memory.ci_high)


def test_comoments_acceleration_of_constant_terms_is_zero():
    assert CoMoments.of(np.ones((5, 2))).acceleration(np.array([1.0, 0.0])) == 0.0  # was ZeroDivisionError


def test_streamed_bca_comparison_keeps_only_pairwise_third_moments_and_matches_memory():
    from workbench.resample import compare_models
    from workbench.scale.losses import stream_core

    X = np.random.default_rng(1).exponential(size=(500, 5))
    L = pd.DataFrame(X, columns=list("abcde"))
    chunks = [L.iloc[:123], L.iloc[123:400], L.iloc[400:]]
    core, _ = stream_core(chunks, list("abcde"), n_resamples=50, random_state=0, method="bca")
    # (m, m) third moments, not the (m, m, m) tensor whose einsum cost O(n m^3)
    assert not hasattr(core.moments, "m3") and core.moments.t3.shape == (5, 5)
    full = CoMoments.of(X)
    for g in (np.eye(5)[0], np.eye(5)[3], np.eye(5)[1] - np.eye(5)[4]):
        assert np.isclose(core.moments.acceleration(g), full.acceleration(g), rtol=1e-10)
    streamed = compare_models_tabular(chunks, method="bca", n_resamples=200, random_state=0)
    memory = compare_models(X, names=list("abcde"), method="bca", n_resamples=200, random_state=0,
                            resampling="poisson")
    for part in ("models", "differences"):
        np.testing.assert_allclose(getattr(streamed, part)[["ci_low", "ci_high"]].to_numpy(),
                                   getattr(memory, part)[["ci_low", "ci_high"]].to_numpy(), rtol=1e-12, atol=1e-14)


def test_chunks_with_integer_column_labels_are_read_by_default():
    from workbench.resample import bootstrap_ci

    X = np.random.default_rng(0).random((60, 3))
    chunks = [pd.DataFrame(X[:30]), pd.DataFrame(X[30:])]  # labels 0, 1, 2: "0" did not select column 0
    streamed = bootstrap_ci(chunks, n_resamples=50, random_state=0, resampling="poisson")
    memory = bootstrap_ci(X, n_resamples=50, random_state=0, resampling="poisson")
    assert streamed.names == ("0", "1", "2")
    np.testing.assert_allclose(streamed.ci_low, memory.ci_low)
    res = compare_models_tabular(chunks, [0, 2], n_resamples=50, random_state=0)
    assert list(res.models["name"]) == ["0", "2"]


def test_chunk_size_and_ragged_mapping_chunks_are_refused_by_name():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(ValidationError, match="chunk_size"):  # was int("a")'s ValueError
        bootstrap_loss_matrix(df, chunk_size="a")
    with pytest.raises(ValidationError, match="equal length"):  # was pandas' "All arrays must be ..."
        bootstrap_loss_matrix([{"a": [1.0, 2.0], "b": [1.0]}], n_resamples=10)


def test_dask_source_refuses_split_every_one():
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.from_pandas(pd.DataFrame({"a": np.arange(10.0)}), npartitions=3)
    with pytest.raises(ValidationError, match="split_every"):  # 1: the tree merge looped forever
        DaskSource(ddf, split_every=1)


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    n = 200
    return pd.DataFrame({"action": rng.integers(0, 2, n), "reward": rng.random(n), "propensity": 0.5,
                         "pi_0": 0.8, "pi_1": 0.2, "b0": 0.5, "b1": 0.5, "x1": rng.standard_normal(n)})


def test_evaluate_tabular_refuses_a_string_for_behavior(frame):
    with pytest.raises(ValidationError, match="behavior: for tabular logs must be the list"):
        evaluate_tabular(frame, ["pi_0", "pi_1"], ["ips"], behavior="b0")  # was columns "b" and "0"


def test_evaluate_tabular_reads_a_string_context_as_one_column(frame):
    out = evaluate_tabular(frame, ["pi_0", "pi_1"], ["dm"], context="x1", n_bootstrap=20)  # was columns "x", "1"
    ref = evaluate_tabular(frame, ["pi_0", "pi_1"], ["dm"], context=["x1"], n_bootstrap=20)
    assert out["value"].iloc[0] == ref["value"].iloc[0]


@pytest.mark.parametrize("ac, rule", [(np.eye(3), "one row per action"), (np.full((2, 2), np.nan), "finite")])
def test_evaluate_tabular_checks_action_context(frame, ac, rule):
    # 3 rows for 2 actions was an IndexError inside mips; NaN embeddings were used silently
    with pytest.raises(ValidationError, match=f"action_context: must .*{rule}"):
        evaluate_tabular(frame, ["pi_0", "pi_1"], ["mips"], behavior=["b0", "b1"], action_context=ac, n_bootstrap=20)


@pytest.mark.parametrize("value", ["a", np.nan, 0])
def test_evaluate_tabular_checks_reward_model_sample(frame, value):
    # "a" raised float()'s ValueError; NaN silently fitted on every row
    with pytest.raises(ValidationError, match="reward_model_sample: must be an integer"):
        evaluate_tabular(frame, ["pi_0", "pi_1"], ["dm"], context=["x1"], reward_model_sample=value)


# ---------------------------------------------------------------------------------------------
# Follow-ups to the audit
# ---------------------------------------------------------------------------------------------
def test_bandit_log_takes_context_names_from_a_frame_or_series():
    from workbench.data import BanditLog

    df = pd.DataFrame({"age": [1.0, 2.0, 3.0], "income": [3.0, 4.0, 5.0]}, index=[7, 3, 5])
    kw = dict(action=[0, 1, 0], reward=[1.0, 0.0, 1.0], propensity=[0.5, 0.5, 0.5], n_actions=2)
    log = BanditLog(context=df, **kw)
    # the names were dropped: to_frame came back with x0, x1
    assert log.context_names == ("age", "income")
    assert list(log.to_frame().columns[-2:]) == ["age", "income"]
    assert BanditLog(context=df["age"], **kw).context_names == ("age",)
    # explicit names win; a frame with a reserved column name is refused as explicit names are
    assert BanditLog(context=df, context_names=["a", "b"], **kw).context_names == ("a", "b")
    with pytest.raises(ValidationError, match=r"^context_names: must not use the reserved column names"):
        BanditLog(context=df.rename(columns={"age": "reward"}), **kw)


def test_pricing_problem_checks_the_context_width_and_the_prices():
    from workbench.data import PricingProblem

    prob = PricingProblem.make(dim_context=3)
    x = np.random.default_rng(0).standard_normal((4, 3))
    q = prob.expected_reward(x, np.full(4, 5.0))
    assert q.shape == (4,) and np.all((q > 0) & (q < 5))
    assert prob.expected_reward(x, np.full((4, 2), 5.0)).shape == (4, 2)
    with pytest.raises(ValidationError, match=r"^context: must have 3 columns .* got 2"):  # numpy's matmul error
        prob.expected_reward(x[:, :2], np.full(4, 5.0))
    with pytest.raises(ValidationError, match=r"^action: must have one row per context row \(4\), got 3"):
        prob.purchase_probability(x, np.full(3, 5.0))  # broadcast to a silently wrong (4,) or failed
    with pytest.raises(ValidationError, match=r"^action: must be"):
        prob.expected_reward(x, ["a"] * 4)
    with pytest.raises(ValidationError, match=r"^context: must be finite"):
        prob.willingness_to_pay(np.where(x > 1, np.nan, x))
