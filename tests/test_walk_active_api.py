"""Findings of a walk through workbench.active and the model zoo (stop 26): pandas inputs paired by position
without an index check, opaque objects given as arrays, unchecked options, setup time counted per step."""
import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.active import benchmark_risk, difficulty_table, estimate_risk, select_model
from workbench.active.tasks import SelectionTask, labels_to_order_pair
from workbench.data import PredictionLog, make_model_zoo

RNG = np.random.default_rng(0)
P = RNG.dirichlet(np.ones(3), size=50)
Y = RNG.integers(0, 3, 50)
DF = pd.DataFrame(P, columns=["a", "b", "c"])


def test_estimate_risk_refuses_labels_or_surrogates_paired_by_position_across_indexes():
    with pytest.raises(ValidationError, match="^oracle: index must equal the index of probs"):
        estimate_risk(DF, pd.Series(Y, index=DF.index[::-1]), 10, random_state=0)
    with pytest.raises(ValidationError, match=r"^surrogate: must have the class columns of probs in the same order"):
        estimate_risk(DF, Y, 10, surrogate=DF[["c", "b", "a"]], random_state=0)
    with pytest.raises(ValidationError, match="^labels: index must equal the index of probs"):
        benchmark_risk(DF, pd.Series(Y, index=DF.index[::-1]), {"x": {"method": "lure"}}, 5, seeds=2)
    # same index, or arrays: accepted, and the same as by position
    a = estimate_risk(DF, pd.Series(Y), 10, random_state=0)
    b = estimate_risk(P, Y, 10, random_state=0)
    assert np.array_equal(a.estimates, b.estimates)


def test_per_model_frames_must_list_the_same_points_in_the_same_order():
    with pytest.raises(ValidationError, match=r"^probs\[1\]: index must equal the index of probs\[0\]"):
        PredictionLog([DF, DF.iloc[::-1]], labels=Y)


def test_labels_to_order_pair_and_make_model_zoo_check_indexes():
    with pytest.raises(ValidationError, match="^pred_b: index must equal"):
        labels_to_order_pair(pd.Series([0, 0, 0, 1]), pd.Series([1, 1, 0, 0], index=[3, 2, 1, 0]), np.zeros(4, int))
    X = pd.DataFrame(RNG.normal(size=(60, 2)))
    with pytest.raises(ValidationError, match="^y: index must equal the index of X"):
        make_model_zoo(X, pd.Series(RNG.integers(0, 2, 60), index=X.index[::-1]), n_models=2, cache_dir=False)


@pytest.mark.parametrize("value", [True, 0, 1.5])
def test_make_model_zoo_refuses_a_cache_dir_that_is_not_a_path(value):
    X = RNG.normal(size=(60, 2))
    with pytest.raises(ValidationError, match="^cache_dir: must be a directory path"):
        make_model_zoo(X, RNG.integers(0, 2, 60), n_models=2, cache_dir=value, random_state=np.random.default_rng(0))


@pytest.mark.parametrize("make", [lambda: map(int, Y), lambda: dict(enumerate(Y)), lambda: (int(v) for v in Y)])
def test_opaque_objects_as_labels_are_a_named_error(make):
    with pytest.raises(ValidationError, match="^oracle: must be an array or list of numbers, got a"):
        estimate_risk(P, make(), 5)


def test_select_model_options_and_names_are_checked():
    Z = np.stack([P, np.roll(P, 1, axis=1), P[:, ::-1]])
    with pytest.raises(ValidationError, match="^eps_criterion:"):
        select_model(Z, Y, 5, strategy="model_selector", eps=0.4, eps_criterion="middle")
    with pytest.raises(ValidationError, match="^eps_criterion:"):
        select_model(Z, Y, 5, strategy="model_selector", eps_criterion="middle")
    with pytest.raises(ValidationError, match="^model_names: must be a sequence of 1 names"):
        PredictionLog(P[None], model_names=5)


def test_difficulty_table_takes_one_task():
    zoo = PredictionLog(np.stack([P, P[:, ::-1]]), labels=Y)
    task = SelectionTask(name="toy", zoo=zoo, dataset="toy", shift=None)
    assert difficulty_table(task).equals(difficulty_table([task]))


def test_seconds_per_step_leaves_out_the_setup(monkeypatch):
    # a fake clock, not wall time: the setup (building the strategy, eps tuning included) costs 100 "seconds",
    # each step 0 (no timing assertion on real time)
    import workbench.active.selection as S

    clock = [0.0]
    monkeypatch.setattr(S.time, "perf_counter", lambda: clock[0])
    make = S._make_strategy

    def slow_setup(*args, **kwargs):
        clock[0] += 100.0
        return make(*args, **kwargs)

    monkeypatch.setattr(S, "_make_strategy", slow_setup)
    Z = RNG.dirichlet(np.ones(3), size=(10, 400))
    y = RNG.integers(0, 3, 400)
    tuned = select_model(Z, y, 5, strategy="model_selector", random_state=0)
    assert tuned.diagnostics["setup_seconds"] == 100.0 and tuned.seconds_per_step == 0.0  # was 20.0: setup / 5


def test_extreme_strategy_options_are_refused_or_run_instead_of_crashing():
    Z = RNG.dirichlet(np.ones(3), size=(4, 50))
    y = RNG.integers(0, 3, 50)
    t = select_model(Z, y, 5, strategy="auto", prior_sigma=1e155, random_state=0)  # was an OverflowError
    assert t.diagnostics["prior_labels"] == 0.0  # as prior_sigma = inf: the consensus is worth nothing
    for kw, field in ((dict(strategy="model_selector", eps=1e-308), "eps"),
                      (dict(strategy="model_selector", eps_grid=[1e-305, 0.3]), "eps_grid"),
                      (dict(strategy="auto", prior_labels=1e308), "prior_labels"),
                      (dict(strategy="auto", coda_weight=1e308), "coda_weight")):
        with pytest.raises(ValidationError, match=f"^{field}:"):
            select_model(Z, y, 5, random_state=0, **kw)


def test_benchmark_options_may_not_set_select_models_own_arguments():
    from workbench.active import benchmark_selection

    zoo = PredictionLog(RNG.dirichlet(np.ones(3), size=(4, 50)), labels=RNG.integers(0, 3, 50))
    for key in ("budget", "strategy", "oracle", "prediction_log"):
        with pytest.raises(ValidationError, match=f"^strategy_options: options of 'auto' must not set \\['{key}'\\]"):
            benchmark_selection(zoo, "auto", budgets=3, seeds=1, strategy_options={"auto": {key: 5}})
