"""Options of workbench.active used together (feature-interaction audit): each test pins a property that
failed when two options met (scripts and traces in the audit report, /tmp/h6/reports/pairs_active.md)."""
import numpy as np
import pandas as pd
import pytest

from workbench._validation import ValidationError
from workbench.active import estimate_accuracies, select_model
from workbench.data import PredictionLog


def _zoo(H=5, N=300, C=3, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, C, N)
    probs = []
    for a in np.linspace(0.5, 0.75, H):
        pred = np.where(rng.random(N) < a, y, (y + rng.integers(1, C, N)) % C)
        p = rng.dirichlet(np.ones(C), N) * 0.4
        p[np.arange(N), pred] += 0.6
        probs.append(p)
    return np.stack(probs), y


# -- estimate_accuracies x model names -----------------------------------------------------------------
@pytest.mark.parametrize("strategy", ["random", "active_testing", "auto"])
def test_estimate_accuracies_refuses_a_log_with_the_models_reordered(strategy):
    # The replay cannot see the order of the models (random and active_testing ignore it, auto's q is
    # symmetric in them), so the pick's index named another model: reference 'b' for a run that picked 'd'.
    probs, y = _zoo()
    names = ["a", "b", "c", "d", "e"]
    log = PredictionLog(probs, model_names=names, labels=y)
    perm = [4, 2, 0, 1, 3]
    shuffled = PredictionLog(probs[perm], model_names=[names[k] for k in perm], labels=y)
    tr = select_model(log, None, 40, strategy=strategy, random_state=1)
    with pytest.raises(ValidationError, match="another order") as err:
        estimate_accuracies(tr, shuffled)
    assert err.value.field == "prediction_log" and err.value.n_bad == 5 and err.value.first == 0
    # the hint's recipe restores the run's order and the run's answer
    fixed = shuffled.subset_models([list(shuffled.model_names).index(m) for m in tr.model_names])
    out, again = estimate_accuracies(tr, log), estimate_accuracies(tr, fixed)
    assert out.attrs["reference"] == tr.final == again.attrs["reference"]
    assert out.equals(again)


def test_estimate_accuracies_refuses_a_log_naming_other_models():
    probs, y = _zoo()
    tr = select_model(PredictionLog(probs, model_names=list("abcde")), y, 20, strategy="random", random_state=0)
    with pytest.raises(ValidationError, match="other models") as err:
        estimate_accuracies(tr, PredictionLog(probs, model_names=list("abcdz")))
    assert (err.value.n_bad, err.value.first, err.value.n_total) == (1, 4, 5)


def test_estimate_accuracies_names_rows_by_the_run_when_one_side_is_unnamed():
    probs, y = _zoo()
    named = PredictionLog(probs, model_names=list("abcde"))
    tr = select_model(named, y, 30, strategy="auto", random_state=2)
    from_array = estimate_accuracies(tr, probs, reference=tr.final)  # the trace's name: was "not a model of the zoo"
    assert list(from_array["model"]) == list("abcde") and from_array.attrs["reference"] == tr.final
    assert from_array.equals(estimate_accuracies(tr, named, reference=tr.final))
    tr_arr = select_model(probs, y, 30, strategy="auto", random_state=2)  # default names model_0, ...
    out = estimate_accuracies(tr_arr, named)
    assert list(out["model"]) == list("abcde")
    np.testing.assert_array_equal(out["difference"], estimate_accuracies(tr_arr, probs)["difference"])


# -- benchmark_selection x strategy_options, benchmark_risk x estimator configs ---------------------------
def _count_runs(monkeypatch, module, name):
    calls = []
    real = getattr(module, name)
    monkeypatch.setattr(module, name, lambda *a, **k: (calls.append(k.get("strategy", k.get("method"))),
                                                       real(*a, **k))[1])
    return calls


@pytest.mark.parametrize("options, match", [({"flor": 0.2}, "not understood"), ({"floor": 2}, "floor"),
                                            ({"hysteresis": -1}, "hysteresis")])
def test_benchmark_selection_refuses_bad_options_before_any_run(monkeypatch, options, match):
    # a bad option of the last strategy failed inside its runs, after every run of the others
    from workbench.active import benchmark, benchmark_selection

    probs, y = _zoo(N=120)
    calls = _count_runs(monkeypatch, benchmark, "select_model")
    with pytest.raises(ValidationError, match=match):
        benchmark_selection([("t", PredictionLog(probs, labels=y))], ["random", "model_selector", "auto"],
                            budgets=10, seeds=4, strategy_options={"auto": options})
    assert calls.count("random") == 0 and calls.count("model_selector") == 0


def test_benchmark_selection_results_unchanged_by_the_option_check():
    # the check draws from a seed of its own: the runs are the docstring's recipe, seed for seed
    import zlib

    from workbench.active import benchmark_selection

    probs, y = _zoo(N=150)
    opts = {"floor": 0.2, "sharpness": 3.0}
    res = benchmark_selection([("A", PredictionLog(probs, labels=y))], ["auto"], budgets=[5, 15], seeds=4,
                              strategy_options={"auto": opts})
    acc = (probs.argmax(2) == y).mean(1)
    seeds = np.random.SeedSequence(0, spawn_key=(zlib.crc32(b"A"),)).spawn(4)
    picks = np.array([select_model(probs, y, 15, "auto", random_state=s, **opts).chosen for s in seeds])
    np.testing.assert_array_equal(res.curves["p_best"], (acc[picks] >= acc.max() - 1e-12).mean(0)[[4, 14]])


@pytest.mark.parametrize("cfg, match", [({"method": "lure", "floor": 2}, "floor"),
                                        ({"method": "dr", "surrogate": np.full((10, 3), 1 / 3)}, "surrogate"),
                                        ({"method": "ase", "interval": "wilson"}, "interval")])
def test_benchmark_risk_refuses_bad_configs_before_any_run(monkeypatch, cfg, match):
    # a bad value failed inside the runs, after the iid baseline's and the estimators' before it
    from workbench.active import benchmark, benchmark_risk

    probs, y = _zoo(N=120)
    calls = []
    real = benchmark._risk_chunk
    monkeypatch.setattr(benchmark, "_risk_chunk", lambda *a: (calls.append(a[2]["method"]), real(*a))[1])
    with pytest.raises(ValidationError, match=match):
        benchmark_risk(probs[0], y, {"lure": {"method": "lure"}, "bad": cfg}, 10, seeds=4)
    assert calls == []


# -- estimate_risk x classifier surrogate x DataFrame features ---------------------------------------------
def test_estimate_risk_fits_a_classifier_surrogate_on_dataframe_features_by_column_name():
    # features were turned into a bare array: a pipeline selecting columns by name could not be fitted
    # ("Specifying the columns using strings is only supported for dataframes", with a hint to refit later)
    from sklearn.compose import make_column_transformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from workbench.active import estimate_risk

    probs, y = _zoo(N=200)
    X = np.c_[np.random.default_rng(0).normal(size=200), probs[1][:, :2]]
    # rows by position (labels that are not 0..199: a reversed 0..199 index beside numpy probs is refused since
    # audit 31, its labels naming other rows than its positions)
    df = pd.DataFrame(X, columns=["age", "p0", "p1"], index=np.arange(200)[::-1] + 1000)
    by_name = make_pipeline(make_column_transformer((StandardScaler(), ["p0", "p1"])), LogisticRegression())
    by_pos = make_pipeline(make_column_transformer((StandardScaler(), [1, 2])), LogisticRegression())
    for method in ("lure", "dr", "ase"):
        a = estimate_risk(probs[0], y, 40, surrogate=by_name, features=df, method=method, random_state=0)
        b = estimate_risk(probs[0], y, 40, surrogate=by_pos, features=X, method=method, random_state=0)
        assert a.diagnostics["surrogate_fits"] == b.diagnostics["surrogate_fits"] == 4
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_allclose(a.estimates, b.estimates, rtol=1e-12)
    with pytest.raises(ValidationError, match="features"):  # numbers only, checked as an array is
        estimate_risk(probs[0], y, 10, surrogate=LogisticRegression(), features=df.assign(age=np.nan), random_state=0)


# -- select_model x partly labelled PredictionLog ----------------------------------------------------------
def test_select_model_partly_labelled_log_without_oracle_names_count_and_first_unlabelled_point():
    probs, y = _zoo(N=400)
    known = np.arange(400) < 100
    log = PredictionLog(probs, labels=np.where(known, y, -1), labelled=known)
    with pytest.raises(ValidationError, match="unlabelled") as err:
        select_model(log, None, 10, strategy="random", random_state=0)
    assert (err.value.field, err.value.n_bad, err.value.first, err.value.n_total) == ("oracle", 300, 100, 400)
    # with an oracle the log's partial labels are not used: the trace is the fully labelled log's
    a = select_model(log, y, 20, strategy="auto", random_state=0)
    b = select_model(PredictionLog(probs, labels=y), None, 20, strategy="auto", random_state=0)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.prob_best, b.prob_best)


# -- benchmark_risk x classifier surrogate x refit_schedule as a one-shot iterable x n_jobs -----------------
@pytest.mark.parametrize("n_jobs", [None, 2])
def test_benchmark_risk_reads_a_generator_refit_schedule_for_every_run(n_jobs):
    # the first run used the generator up and the others ran without refits; with n_jobs=2 the config
    # could not be pickled for the workers
    from sklearn.linear_model import LogisticRegression

    from workbench.active import benchmark_risk

    probs, y = _zoo(N=200)
    cfg = lambda s: {"lr": {"method": "lure", "surrogate": LogisticRegression(), "features": probs[1],  # noqa: E731
                            "refit_schedule": s}}
    ref = benchmark_risk(probs[0], y, cfg([5, 10, 20]), 30, seeds=4)
    got = benchmark_risk(probs[0], y, cfg(k for k in [5, 10, 20]), 30, seeds=4, n_jobs=n_jobs)
    pd.testing.assert_frame_equal(got, ref)


# -- SelectionTask x partly labelled PredictionLog -------------------------------------------------------
def test_selection_task_refuses_a_partly_labelled_zoo_with_count_and_first_row():
    # accepted before: accuracy counted the labelled points only, while repr / difficulty() failed in
    # labels_to_order_pair on the -1 markers, and benchmark_selection refused the task later
    from workbench.active import SelectionTask

    probs, y = _zoo(N=200)
    known = np.arange(200) < 50
    with pytest.raises(ValidationError, match="every pool point") as err:
        SelectionTask("p", PredictionLog(probs, labels=np.where(known, y, -1), labelled=known), "synthetic", None)
    assert (err.value.field, err.value.n_bad, err.value.first, err.value.n_total) == ("zoo", 150, 50, 200)
    with pytest.raises(ValidationError, match="has none"):
        SelectionTask("p", PredictionLog(probs), "synthetic", None)
    with pytest.raises(ValidationError, match="regression"):
        SelectionTask("p", PredictionLog(predictions=probs[:, :, 0], labels=y.astype(float)), "synthetic", None)
    with pytest.raises(ValidationError, match="ndarray"):
        SelectionTask("p", probs, "synthetic", None)
    assert SelectionTask("ok", PredictionLog(probs, labels=y), "synthetic", None).accuracy.shape == (5,)


# -- estimate_accuracies x budget = pool size x non-uniform designs --------------------------------------------
@pytest.mark.parametrize("strategy", ["active_testing", "auto"])
def test_estimate_accuracies_gives_exact_accuracies_once_every_point_is_labelled(strategy):
    # NaN before, beside differences marked exact: the design no longer matters when every label is known
    probs, y = _zoo(H=4, N=40)
    out = estimate_accuracies(select_model(probs, y, 40, strategy=strategy, random_state=0), probs)
    truth = (probs.argmax(2) == y).mean(1)
    np.testing.assert_array_equal(out["accuracy"], truth)
    np.testing.assert_array_equal(out["accuracy_se"], 0.0)
    # a known value's interval is it up to float rounding (4 machine epsilons each side), so other ways of
    # computing the same pool accuracy (1 - mean(losses)) fall inside too
    assert ((out["accuracy_ci_low"] <= truth) & (truth <= out["accuracy_ci_high"])).all()
    assert (out["accuracy_ci_high"] - out["accuracy_ci_low"]).max() <= 8 * np.finfo(float).eps
    part = estimate_accuracies(select_model(probs, y, 39, strategy=strategy, random_state=0), probs)
    assert part["accuracy"].isna().all()  # one point short: still not given under this design
