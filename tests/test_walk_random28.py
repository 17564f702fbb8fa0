"""Stop 28 walk of random_state and joblib handling: each test failed before its fix."""
import threading
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.active import load_task


def test_synthetic_task_with_no_seed_leaves_numpys_global_state_alone():
    np.random.seed(123)
    expected = np.random.random()
    np.random.seed(123)
    load_task("synthetic", n_models=1, random_state=None, cache_dir=False, progress=False)
    assert np.random.random() == expected  # make_classification(random_state=None) drew from the global state


@pytest.mark.parametrize("seed", [2**32, 2**63])
def test_synthetic_task_takes_every_seed_the_package_takes(seed):
    # scikit-learn's make_classification refuses seeds >= 2**32 (InvalidParameterError); make_model_zoo takes them
    a = load_task("synthetic", n_models=1, random_state=seed, cache_dir=False, progress=False)
    b = load_task("synthetic", n_models=1, random_state=seed, cache_dir=False, progress=False)
    np.testing.assert_array_equal(a.zoo.probs, b.zoo.probs)
    with pytest.raises(wb.ValidationError, match="random_state"):
        load_task("synthetic", n_models=1, random_state=-1, cache_dir=False, progress=False)


def test_seeds_below_2_32_give_the_zoos_they_always_gave():
    # the suite's cached zoos (random_state 0-3) keep their data set: the int goes to scikit-learn as before
    from sklearn.datasets import make_classification

    from workbench.active.tasks import SYNTHETIC_PARAMS, _dataset

    X, y = _dataset("synthetic", 3)
    X0, y0 = make_classification(**SYNTHETIC_PARAMS, random_state=3)
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


@pytest.fixture(scope="module")
def parquet_dir(tmp_path_factory):
    rng = np.random.default_rng(0)
    n = 400
    frame = pd.DataFrame({"action": rng.integers(0, 2, n), "reward": rng.random(n), "propensity": 0.5,
                          "pi_0": 0.3, "pi_1": 0.7, "x0": rng.normal(size=n), "x1": rng.normal(size=n)})
    d = tmp_path_factory.mktemp("pq")
    for i in range(4):  # four files of 100 rows, row groups of 50
        frame.iloc[100 * i:100 * (i + 1)].to_parquet(d / f"part{i}.parquet", row_group_size=50)
    return d


def test_parquet_answers_do_not_depend_on_n_jobs_to_the_bit(parquet_dir):
    out = {}
    for n_jobs in (None, 1, 2):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = wb.scale.evaluate_tabular(str(parquet_dir), ["pi_0", "pi_1"], ["ips"], n_bootstrap=100,
                                          random_state=0, n_jobs=n_jobs, chunk_size=50, warn=False)
        out[n_jobs] = r[["value", "se", "ci_low", "ci_high"]].to_numpy()
    np.testing.assert_array_equal(out[None], out[2])  # 2e-16 apart: one running total against merged runs
    np.testing.assert_array_equal(out[1], out[2])


def test_parquet_reading_and_the_sample_models_folds_follow_the_users_parallel_config(parquet_dir):
    from sklearn.linear_model import LinearRegression

    seen = set()

    def reward_model(chunk):
        seen.add(threading.current_thread().name)
        return np.full((len(chunk), 2), 0.5)

    with joblib.parallel_config(backend="threading", n_jobs=2):
        wb.scale.evaluate_tabular(str(parquet_dir), ["pi_0", "pi_1"], ["dr"], reward_model=reward_model,
                                  n_bootstrap=20, random_state=0, chunk_size=50, warn=False)
    assert seen and "MainThread" not in seen  # n_jobs=None never reached joblib

    class Spy(LinearRegression):
        def fit(self, X, y, **kw):
            seen.add(threading.current_thread().name)
            return super().fit(X, y, **kw)

    seen.clear()
    with joblib.parallel_config(backend="threading", n_jobs=2):
        wb.scale.evaluate_tabular(str(parquet_dir), ["pi_0", "pi_1"], ["dr"], reward_model=Spy(),
                                  context=["x0", "x1"], n_bootstrap=20, random_state=0, warn=False)
    assert seen and "MainThread" not in seen  # Parallel(n_jobs=1) overrode the config


def test_pricing_world_is_apart_from_the_log_drawn_with_the_same_seed():
    log, truth = wb.data.simulate_pricing(500, random_state=7, problem_seed=7)
    first = log.context[0] / np.linalg.norm(log.context[0])
    assert not np.allclose(first, truth.problem.coef)  # it was the coefficient direction itself
    # the world still depends on problem_seed only
    again = wb.data.simulate_pricing(50, random_state=1, problem_seed=7)[1]
    np.testing.assert_array_equal(again.problem.coef, truth.problem.coef)


def _deterministic_and_global_free(call):
    np.random.seed(1)
    ref = np.random.random()
    np.random.seed(1)
    a = call()
    touched = np.random.random() != ref
    np.random.seed(2)  # another global state: an unseeded model drew from it and gave another answer
    b = call()
    return a == b and not touched


def _rf():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=4)  # random_state left at None, as users often do


def _rf2():
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=3, max_depth=2)


@pytest.fixture(scope="module")
def xy():
    from sklearn.datasets import make_classification

    return make_classification(90, 5, random_state=0)


@pytest.mark.parametrize("name", ["repeated_cv", "nested_cv", "ncv_interval", "bootstrap_error", "paired_t_5x2cv",
                                  "corrected_resampled_t_test", "learning_curve_ci"])
def test_an_unseeded_model_gives_the_same_answer_for_the_same_random_state(name, xy):
    from sklearn.linear_model import LogisticRegression

    from workbench import resample as R

    X, y = xy
    calls = {
        "repeated_cv": lambda: R.repeated_cv(_rf(), X, y, n_splits=3, n_repeats=2, random_state=0).scores.tolist(),
        "nested_cv": lambda: str(R.nested_cv(_rf(), X, y, outer_cv=3, random_state=0)),
        "ncv_interval": lambda: str(R.ncv_interval(_rf(), X, y, n_folds=3, n_reps=2, random_state=0,
                                                   progress=False)),
        "bootstrap_error": lambda: str(R.bootstrap_error(_rf(), X, y, n_splits=4, random_state=0, progress=False)),
        "paired_t_5x2cv": lambda: R.paired_t_5x2cv(_rf(), _rf2(), X, y, random_state=0, progress=False).p_value,
        "corrected_resampled_t_test": lambda: R.corrected_resampled_t_test(
            _rf(), LogisticRegression(C=0.01), X, y, n_splits=3, n_repeats=2, random_state=0, progress=False).p_value,
        "learning_curve_ci": lambda: str(R.learning_curve_ci(_rf(), X, y, train_sizes=(0.5, 1.0), n_splits=3,
                                                             n_repeats=1, random_state=0)),
    }
    assert _deterministic_and_global_free(calls[name])


def test_an_unseeded_reward_model_gives_the_same_estimate_for_the_same_random_state():
    from sklearn.ensemble import RandomForestRegressor

    log, _ = wb.data.simulate_bandit(300, n_actions=3, random_state=0)
    assert _deterministic_and_global_free(lambda: wb.ope.evaluate_policy(
        log, wb.ope.UniformPolicy(), ["dr"], reward_model=RandomForestRegressor(n_estimators=3), n_bootstrap=20,
        random_state=0, warn=False).value[0])
    clog, _ = wb.data.simulate_pricing(200, random_state=0)
    assert _deterministic_and_global_free(lambda: wb.ope.ContinuousRewardModel(
        RandomForestRegressor(n_estimators=3), random_state=0).fit(clog).predict(clog.action).tolist())


def test_seed_unseeded_fills_only_unset_seeds_and_draws_nothing():
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from workbench._random import seed_unseeded

    seeded = RandomForestClassifier(random_state=3)
    assert seed_unseeded(seeded, 0) is seeded  # the user's own seed stands (and no copy is made)
    search = GridSearchCV(make_pipeline(StandardScaler(), RandomForestClassifier()), {"randomforestclassifier__"
                                                                                      "max_depth": [1, 2]})
    out = seed_unseeded(search, 0)
    assert out is not search and search.get_params()["estimator__randomforestclassifier__random_state"] is None
    s = out.get_params()["estimator__randomforestclassifier__random_state"]
    assert isinstance(s, int) and s == seed_unseeded(search, 0).get_params()[
        "estimator__randomforestclassifier__random_state"]
    assert s != seed_unseeded(search, 1).get_params()["estimator__randomforestclassifier__random_state"]
    gen = np.random.default_rng(7)
    before = gen.bit_generator.state
    seed_unseeded(RandomForestClassifier(), gen)
    assert gen.bit_generator.state == before  # the call's own draws (splits, resamples) are as before
    ss = np.random.SeedSequence(5)
    seed_unseeded(RandomForestClassifier(), ss)
    assert ss.n_children_spawned == 0


def test_unseeded_members_of_one_ensemble_get_their_own_seeds():
    from sklearn.ensemble import RandomForestClassifier, VotingClassifier

    from workbench._random import seed_unseeded

    vote = VotingClassifier([("rf1", RandomForestClassifier(n_estimators=3)),
                             ("rf2", RandomForestClassifier(n_estimators=3))], voting="soft")
    p = seed_unseeded(vote, 0).get_params()
    assert p["rf1__random_state"] != p["rf2__random_state"]  # one shared seed made the members copies


def test_the_estimator_route_and_the_repeated_cv_route_of_a_two_algorithm_test_agree(xy):
    from sklearn.linear_model import LogisticRegression

    from workbench import resample as R

    X, y = xy
    kw = dict(n_splits=3, n_repeats=2, random_state=0)
    direct = R.corrected_resampled_t_test(LogisticRegression(), _rf2(), X, y, progress=False, **kw).p_value
    ra = R.repeated_cv(LogisticRegression(), X, y, **kw)
    rb = R.repeated_cv(_rf2(), X, y, **kw)
    assert direct == R.corrected_resampled_t_test(ra, rb).p_value


def test_parquet_and_joblib_work_under_the_multiprocessing_backend(parquet_dir):
    # joblib's multiprocessing backend cannot return a generator: every reduce failed under it
    from sklearn.linear_model import LogisticRegression

    from workbench.resample import repeated_cv

    ref = wb.scale.evaluate_tabular(str(parquet_dir), ["pi_0", "pi_1"], ["ips"], n_bootstrap=50, random_state=0,
                                    chunk_size=50, warn=False)
    X, y = np.random.default_rng(0).normal(size=(40, 2)), np.r_[np.zeros(20, int), np.ones(20, int)]
    with joblib.parallel_config(backend="multiprocessing", n_jobs=2):
        got = wb.scale.evaluate_tabular(str(parquet_dir), ["pi_0", "pi_1"], ["ips"], n_bootstrap=50, random_state=0,
                                        chunk_size=50, warn=False)
        cv = repeated_cv(LogisticRegression(), X, y, n_splits=2, n_repeats=2, random_state=0)
    np.testing.assert_array_equal(ref[["value", "ci_low", "ci_high"]].to_numpy(),
                                  got[["value", "ci_low", "ci_high"]].to_numpy())
    np.testing.assert_array_equal(cv.scores, repeated_cv(LogisticRegression(), X, y, n_splits=2, n_repeats=2,
                                                         random_state=0).scores)


@pytest.mark.parametrize("where", ["bootstrap_ci indices", "prepare_inputs", "ContinuousRewardModel callable"])
def test_an_unused_random_state_is_still_checked(where):
    from workbench.ope import ContinuousRewardModel, UniformPolicy, prepare_inputs
    from workbench.resample import bootstrap_ci

    rng = np.random.default_rng(0)
    x, idx = rng.random(30), rng.integers(0, 30, (20, 30))
    log, _ = wb.data.simulate_bandit(50, n_actions=3, random_state=0)
    calls = {
        "bootstrap_ci indices": lambda rs: bootstrap_ci(x, resampling="indices", indices=idx, random_state=rs),
        "prepare_inputs": lambda rs: prepare_inputs(log, UniformPolicy(), estimators=["ips"], random_state=rs),
        "ContinuousRewardModel callable": lambda rs: ContinuousRewardModel(lambda c, a: np.zeros(len(a)),
                                                                           random_state=rs),
    }
    calls[where](0)  # a good seed runs
    for bad in ("0", 1.5, np.random.RandomState(0), -1, True):
        with pytest.raises(wb.ValidationError, match="random_state"):
            calls[where](bad)
