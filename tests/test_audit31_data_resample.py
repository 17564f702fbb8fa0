"""Audit 31: data simulators and resampling wrappers (random_state for model fits, construction-time checks of
hand-built truths and logs, the CV wrappers' bare exceptions, and smaller items)."""
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.ensemble import RandomForestClassifier  # noqa: E402
from sklearn.tree import DecisionTreeClassifier  # noqa: E402

import workbench.resample as r  # noqa: E402
from workbench._validation import ValidationError  # noqa: E402
from workbench.data import simulate_drifting_stream, simulate_routing, train_historical_models  # noqa: E402
from workbench.data.simulate import BanditTruth  # noqa: E402
from workbench.data.simulate_drift import DriftingStream  # noqa: E402
from workbench.data.simulate_routing import RoutingLog  # noqa: E402


@pytest.fixture
def xy():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    return X, (X[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(int)


def _global_state_untouched(fn):
    """Whether ``fn()`` leaves numpy's global random state as it found it."""
    np.random.seed(12345)
    expected = np.random.random()
    np.random.seed(12345)
    fn()
    return np.random.random() == expected


# -- 1. model fits seeded from random_state ------------------------------------------------------------------------

def test_cv_scores_two_seeds_unseeded_models_from_random_state(xy):
    X, y = xy
    forest = RandomForestClassifier(n_estimators=5, max_features=1)
    run = lambda: r.cv_scores_two(forest, forest, X, y, cv=3, progress=False, random_state=0)  # noqa: E731
    a, b = run(), run()
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert _global_state_untouched(run)
    assert forest.random_state is None  # the user's model is not changed (a seeded copy is fitted)


def test_train_historical_models_seeds_an_unseeded_model_from_random_state():
    stream = simulate_drifting_stream(n_periods=3, points_per_period=30, random_state=0)
    forest = RandomForestClassifier(n_estimators=5)
    run = lambda: train_historical_models(stream, forest, random_state=0)[0]  # noqa: E731
    np.testing.assert_array_equal(run().probs, run().probs)
    assert _global_state_untouched(run)
    with pytest.raises(ValidationError, match="^random_state"):
        train_historical_models(stream, random_state="x")


# -- 2. McNemar's df stacks into a numeric column ------------------------------------------------------------------

def test_mcnemar_to_frame_df_is_numeric_for_every_method():
    rng = np.random.default_rng(0)
    y, a, b = (rng.integers(0, 2, 60) for _ in range(3))
    frames = [r.mcnemar_test(y, a, b, method=m).to_frame() for m in ("exact", "mid-p", "asymptotic")]
    assert frames[0]["df"].dtype == np.float64 and np.isnan(frames[0]["df"].iloc[0])
    stacked = pd.concat(frames, ignore_index=True)
    assert pd.api.types.is_numeric_dtype(stacked["df"])
    assert stacked["df"].iloc[2] == 1


# -- 3. period_losses refuses an array period ------------------------------------------------------------------------

def test_period_losses_refuses_an_array_period():
    log, avail = train_historical_models(simulate_drifting_stream(n_periods=4, points_per_period=30, random_state=0))
    with pytest.raises(ValidationError, match=r"^period: must be a scalar \(one of the log's periods\), got shape "
                                              r"\(3,\)"):
        r.period_losses(log, avail, period=np.array([3, 2, 1]))
    assert r.period_losses(log, avail, period=np.int64(3)).shape == r.period_losses(log, avail).shape


# -- 4. n_resamples conflicting with indices -------------------------------------------------------------------------

def test_bootstrap_ci_refuses_an_n_resamples_other_than_the_indices_rows():
    rng = np.random.default_rng(0)
    x = rng.random(30)
    idx = rng.integers(0, 30, (5, 30))
    with pytest.raises(ValidationError, match=r"^n_resamples: is 20, but indices has 5 rows"):
        r.bootstrap_ci(x, resampling="indices", indices=idx, n_resamples=20)
    with pytest.raises(ValidationError, match=r"^n_resamples: is 20, but indices has 5 rows"):
        r.bootstrap_intervals(x, resampling="indices", indices=idx, n_resamples=20)
    assert r.bootstrap_ci(x, resampling="indices", indices=idx).n_resamples == 5  # left unset: the indices' count
    assert r.bootstrap_ci(x, resampling="indices", indices=idx, n_resamples=5).n_resamples == 5
    assert r.bootstrap_ci(x, random_state=0).n_resamples == 2000  # the default, as before


# -- 5. truths and logs checked at construction ----------------------------------------------------------------------

@pytest.mark.parametrize("kw, field", [
    (dict(expected_reward=np.full((5, 3), np.nan)), "expected_reward"),
    (dict(expected_reward=np.full((5, 3), 1.5)), "expected_reward"),
    (dict(behavior_dist=np.full((5, 3), 0.5)), "behavior_dist"),
    (dict(behavior_dist=np.full((5, 2), 0.5)), "behavior_dist"),
    (dict(reward_type="bin"), "reward_type"),
])
def test_bandit_truth_is_validated_at_construction(kw, field):
    args = dict(expected_reward=np.full((5, 3), 0.5), behavior_dist=np.full((5, 3), 1 / 3)) | kw
    with pytest.raises(ValidationError, match=f"^{field}:"):
        BanditTruth(**args)


def test_bandit_truth_continuous_rewards_may_leave_0_1():
    truth = BanditTruth(np.full((4, 2), 1.5), np.full((4, 2), 0.5), "continuous")
    assert truth.behavior_value == 1.5 and "behavior value 1.5" in repr(truth)


def _routing_fields():
    log, _ = simulate_routing(20, random_state=0)
    return dict(prompts=log.prompts, context=log.context, action=log.action, propensity=log.propensity,
                behavior_dist=log.behavior_dist, quality=log.quality, cost=log.cost,
                output_tokens=log.output_tokens, model_names=log.model_names, feature_names=log.feature_names)


def test_routing_log_refuses_duplicate_names_negative_cost_and_fractional_tokens():
    f = _routing_fields()
    RoutingLog(**f)  # valid
    with pytest.raises(ValidationError, match=r"^model_names: must be unique; 'm' appears more than once"):
        RoutingLog(**(f | {"model_names": ("m",) * len(f["model_names"])}))
    cost = f["cost"].copy()
    cost[2] = -1.0
    with pytest.raises(ValidationError, match=r"^cost: must be >= 0.*first at row 2"):
        RoutingLog(**(f | {"cost": cost}))
    tokens = f["output_tokens"].astype(float)
    tokens[3] = 1.5
    with pytest.raises(ValidationError, match=r"^output_tokens: must be whole numbers.*first at row 3"):
        RoutingLog(**(f | {"output_tokens": tokens}))


def _stream(**kw):
    rng = np.random.default_rng(0)
    base = dict(X=rng.normal(size=(20, 2)), y=np.tile([0, 1], 10), period=np.repeat([0, 1], 10),
                concept=np.ones((2, 2)), corrupted=np.zeros(2, bool))
    return DriftingStream(**(base | kw))


@pytest.mark.parametrize("kw, match", [
    (dict(y=np.r_[np.zeros(10), np.ones(9)]), r"^y: must have one row per X row"),
    (dict(y=np.r_[np.zeros(10), np.ones(9), np.nan]), r"^y: must be integers.*first at row 19"),
    (dict(y=np.tile([0, 2], 10)), r"^y: must be in \[0, 2\).*first at row 1"),
    (dict(period=np.repeat([0, 1], 10) + 0.5), r"^period: must be integers"),
    (dict(period=np.repeat([0, 2], 10)), r"^period: must be in \[0, 2\)"),
    (dict(X=np.full((20, 2), np.nan)), r"^X: must be finite"),
    (dict(corrupted=np.zeros(3, bool)), r"^corrupted: must have one flag per period"),
])
def test_a_hand_built_drifting_stream_is_validated(kw, match):
    with pytest.raises(ValidationError, match=match):
        _stream(**kw)


def test_a_valid_hand_built_stream_trains():
    log, avail = train_historical_models(_stream())
    assert avail.tolist() == [1] and log.n_points == 20


# -- 6. the CV wrappers' bare exceptions -----------------------------------------------------------------------------

def test_nested_cv_refuses_a_list_of_estimators_and_asks_for_a_dict(xy):
    X, y = xy
    est = DecisionTreeClassifier(max_depth=1, random_state=0)
    with pytest.raises(ValidationError, match=r"^estimators: must be one selection procedure or a dict .*Name them"):
        r.nested_cv([est, est], X, y, outer_cv=2, random_state=0)
    with pytest.raises(ValidationError, match=r"^estimators\['a'\]: must be a scikit-learn estimator"):
        r.nested_cv({"a": "tree"}, X, y, outer_cv=2, random_state=0)


_TREE = DecisionTreeClassifier(max_depth=1, random_state=0)


@pytest.mark.parametrize("call, match", [
    (lambda X, y: r.repeated_cv("tree", X, y, n_splits=2, n_repeats=2),
     r"^estimator: must be a scikit-learn estimator.*'tree'"),
    (lambda X, y: r.repeated_cv(_TREE, X[:, 0], y, n_splits=2, n_repeats=2), r"^X: must be 2-D .*reshape\(-1, 1\)"),
    (lambda X, y: r.repeated_cv(_TREE, X, y, n_splits=2, n_repeats=2, n_jobs=0),
     r"^n_jobs: must be None or a non-zero integer"),
    (lambda X, y: r.repeated_cv(_TREE, X, y, n_splits=2, n_repeats=2, scoring="acuracy"),
     r"^scoring: unknown scorer name 'acuracy'\. Did you mean 'accuracy'"),
    (lambda X, y: r.repeated_cv(_TREE, X, y, cv=1), r"^cv: must be an integer >= 2"),
    (lambda X, y: r.cv_scores_two(_TREE, _TREE, X, y, cv=1, progress=False), r"^cv: must be an integer >= 2"),
    (lambda X, y: r.cv_scores_two(_TREE, _TREE, X, y, cv="x", progress=False),
     r"^cv: must be a number of folds .* got str: 'x'"),
    (lambda X, y: r.cv_scores_two(_TREE, "tree", X, y, cv=2, progress=False),
     r"^estimator_b: must be a scikit-learn estimator"),
    (lambda X, y: r.learning_curve_ci(_TREE, X, y, train_sizes=[5, 500], n_splits=2, n_repeats=1, random_state=0),
     r"^train_sizes: row counts must be at most the training set's 20 rows.*first at row 1 \(value 500\)"),
    (lambda X, y: r.learning_curve_ci(_TREE, X, y, n_splits=2, n_repeats=1, n_jobs=0), r"^n_jobs"),
    (lambda X, y: r.nested_cv({"a": _TREE}, X, y, outer_cv=2, n_jobs=0), r"^n_jobs"),
], ids=["rcv-str-estimator", "rcv-1d-X", "rcv-n_jobs-0", "rcv-scoring-misspelt", "rcv-cv-1", "two-cv-1", "two-cv-x",
        "two-str-estimator", "lc-count-too-big", "lc-n_jobs-0", "ncv-n_jobs-0"])
def test_cv_wrappers_refuse_bad_arguments_by_name(xy, call, match):
    X, y = xy
    with pytest.raises(ValidationError, match=match):
        call(X, y)


@pytest.mark.filterwarnings("ignore:repeated_cv. all 2 fold scores are equal:RuntimeWarning")
def test_a_one_d_text_x_for_a_vectorizer_pipeline_still_runs():
    from sklearn.feature_extraction.text import CountVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    docs = ["good fine", "bad awful", "fine good great", "awful bad poor"] * 5
    labels = np.tile([1, 0], 10)
    res = r.repeated_cv(make_pipeline(CountVectorizer(), LogisticRegression()), docs, labels, n_splits=2,
                        n_repeats=1, random_state=0)
    assert res.scores.shape == (1, 2)


# -- 7. difficulty_table and the benchmark's timings ------------------------------------------------------------------

def test_difficulty_table_refuses_entries_that_are_not_tasks():
    from workbench.active import difficulty_table

    with pytest.raises(ValidationError, match=r"^tasks: must hold SelectionTasks only; 2 of 2 entries are not, first "
                                              r"at entry 0 \(int\)"):
        difficulty_table([1, 2])


def test_selection_benchmark_documents_its_timing_columns():
    from workbench.active import SelectionBenchmark

    doc = SelectionBenchmark.__doc__
    assert "wall-clock" in doc and "reproducible" in doc and "setup_ms" in doc


# -- 8. forest_plot ----------------------------------------------------------------------------------------------------

def test_forest_plot_refuses_a_reversed_interval_and_warns_of_a_nan_value():
    from workbench.plotting import forest_plot

    frame = pd.DataFrame({"estimator": ["a", "b"], "value": [0.3, 0.2], "ci_low": [0.1, 0.5], "ci_high": [0.4, 0.3]})
    with pytest.raises(ValidationError, match=r"^frame\['ci_low'\]: must be <= frame\['ci_high'\].*first at row 1 "
                                              r"\(value 0.5\)\. Row 1 \(estimator 'b'\)"):
        forest_plot(frame)
    assert plt.get_fignums() == []
    with pytest.warns(RuntimeWarning, match=r"forest_plot: 1 of 2 rows have a NaN value \('a'\)"):
        ax = forest_plot(frame.assign(value=[np.nan, 0.2], ci_low=[0.1, 0.1]))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a (undefined)", "b"]
    plt.close("all")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        forest_plot(frame.assign(ci_low=[0.1, 0.1]))  # valid: no warning
    plt.close("all")


def test_a_one_d_numeric_x_is_accepted_for_a_model_that_takes_one():
    # IsotonicRegression takes a 1-D X (its scikit-learn tags say so): the 1-D refusal refused it (review, stop 31)
    from sklearn.isotonic import IsotonicRegression
    from sklearn.linear_model import LinearRegression

    from workbench.resample import repeated_cv

    rng = np.random.default_rng(0)
    x = rng.normal(size=60)
    y = x + rng.normal(scale=0.3, size=60)
    res = repeated_cv(IsotonicRegression(out_of_bounds="clip"), x, y, n_splits=3, n_repeats=1, scoring="r2",
                      random_state=0)
    assert np.isfinite(res.scores).all()
    with pytest.raises(ValidationError, match="X: must be 2-D"):
        repeated_cv(LinearRegression(), x, y, n_splits=3, n_repeats=1, scoring="r2", random_state=0)
