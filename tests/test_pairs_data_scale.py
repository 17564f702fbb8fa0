"""Options of workbench.data and workbench.scale used together (a feature-interaction audit).

Each test pins one pair of options whose combination was found broken: the single options pass their
own tests.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench import ValidationError
from workbench.scale import bootstrap_loss_matrix, compare_models_tabular, evaluate_tabular


def _log_frame(n=120, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"action": rng.integers(0, 2, n), "reward": rng.random(n), "propensity": 0.5,
                         "pi_0": 0.7, "pi_1": 0.3, "user": rng.integers(0, 10, n)})


# -- pandas frames with repeated column names x streaming -----------------------------------------------
# frame["a"] is a frame of two columns when two columns are named "a": the stream failed with an
# AttributeError ('DataFrame' object has no attribute 'dtype') or a numpy broadcast error, where
# BanditLog.from_frame refuses the frame by name ("column names must be unique").

def _losses_with_repeat():
    rng = np.random.default_rng(0)
    L = pd.DataFrame({"a": rng.random(100), "b": rng.random(100), "g": rng.integers(0, 10, 100)})
    return L, pd.concat([L, L[["a"]]], axis=1), pd.concat([L, L[["g"]]], axis=1)


@pytest.mark.parametrize("chunked", [False, True])
def test_repeated_loss_column_is_refused_by_name(chunked):
    _, dup, _ = _losses_with_repeat()
    data = [dup.iloc[:50], dup.iloc[50:]] if chunked else dup
    with pytest.raises(ValidationError, match=r"column names must be unique; \['a'\] name several columns") as e:
        bootstrap_loss_matrix(data, ["a", "b"], n_resamples=50)
    assert e.value.field == "data"
    with pytest.raises(ValidationError, match=r"\['a'\] name several columns"):
        compare_models_tabular(data, ["a", "b"], n_resamples=50)


def test_repeated_loss_column_of_a_dask_frame_is_refused_by_name():
    dd = pytest.importorskip("dask.dataframe")
    _, dup, _ = _losses_with_repeat()
    with pytest.raises(ValidationError, match=r"\['a'\] name several columns"):
        bootstrap_loss_matrix(dd.from_pandas(dup, npartitions=2), ["a", "b"], n_resamples=50)


def test_repeated_groups_column_is_refused_by_name():
    _, _, dup = _losses_with_repeat()
    with pytest.raises(ValidationError, match=r"\['g'\] name several columns"):
        bootstrap_loss_matrix([dup.iloc[:50], dup.iloc[50:]], ["a", "b"], groups="g", n_resamples=50)


@pytest.mark.parametrize("name", ["reward", "user"])
def test_repeated_log_column_is_refused_by_name(name):
    df = _log_frame()
    dup = pd.concat([df, df[[name]]], axis=1)
    for data in (dup, [dup.iloc[:60], dup.iloc[60:]]):
        with pytest.raises(ValidationError, match=rf"\['{name}'\] name several columns"):
            evaluate_tabular(data, ["pi_0", "pi_1"], ["ips"], n_bootstrap=50, unit_id="user")


def test_repeated_column_the_call_does_not_read_is_accepted():
    # only the columns a call reads must be unique (as from_frame checks only the named ones)
    L, _, _ = _losses_with_repeat()
    extra = pd.concat([L, L[["b"]].rename(columns={"b": "z"}), L[["b"]].rename(columns={"b": "z"})], axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = bootstrap_loss_matrix(extra, ["a", "b"], n_resamples=50, random_state=0)
        want = bootstrap_loss_matrix(L, ["a", "b"], n_resamples=50, random_state=0)
    assert np.array_equal(got.ci_low, want.ci_low)


# -- integer column labels (pd.DataFrame(array)) x groups x streaming ------------------------------------
# The loss columns of chunks may be labelled 0, 1, ... and the in-memory bootstrap takes groups=2 for
# such a frame; the stream refused groups=2 ("must be the name of the cluster-id column ..., got int").

def test_integer_groups_label_streams_as_in_memory():
    from workbench.resample import bootstrap_ci, compare_models

    rng = np.random.default_rng(0)
    A = pd.DataFrame(np.column_stack([rng.random(300), rng.random(300), rng.integers(0, 20, 300)]))
    chunks = [A.iloc[:150], A.iloc[150:]]
    kw = dict(groups=2, n_resamples=100, random_state=0, resampling="poisson")
    mem, got = bootstrap_ci(A, **kw), bootstrap_ci(chunks, **kw)
    assert got.names == mem.names == ("0", "1") and got.n_groups == mem.n_groups == 20
    np.testing.assert_allclose([got.ci_low, got.ci_high], [mem.ci_low, mem.ci_high], rtol=1e-12)
    cm, cs = compare_models(A, **kw), compare_models(chunks, **kw)
    np.testing.assert_allclose(cs.differences[["difference", "ci_low", "ci_high"]].to_numpy(float),
                               cm.differences[["difference", "ci_low", "ci_high"]].to_numpy(float), rtol=1e-12)


@pytest.mark.parametrize("groups", [True, 2.0, ["g"]])
def test_groups_that_are_no_column_label_are_still_refused(groups):
    L, _, _ = _losses_with_repeat()
    with pytest.raises(ValidationError, match="must be the name of the cluster-id column"):
        bootstrap_loss_matrix([L.iloc[:50], L.iloc[50:]], ["a", "b"], groups=groups, n_resamples=50)


# -- a tabular log x unit_id given as per-row ids (the BanditLog habit) ------------------------------------
# evaluate_tabular takes the *name* of the unit-id column; an array or Series of ids failed with numpy's /
# pandas' "The truth value of an array ... is ambiguous" (a bare ValueError naming no field).

@pytest.mark.parametrize("kind", ["array", "series", "list"])
def test_unit_ids_given_as_values_are_refused_by_name(kind):
    from workbench.ope import evaluate_policy

    df = _log_frame()
    uid = {"array": df["user"].to_numpy(), "series": df["user"], "list": ["user"]}[kind]
    for call in (evaluate_tabular, evaluate_policy):
        with pytest.raises(ValidationError, match="unit_id: for tabular logs must be the name of the column") as e:
            call(df, ["pi_0", "pi_1"], ["ips"], n_bootstrap=20, unit_id=uid)
        assert e.value.field == "unit_id" and "df['name'] = values" in str(e.value)


def test_unit_id_column_name_still_streams_as_in_memory():
    from workbench.data import BanditLog
    from workbench.ope import evaluate_policy

    df = _log_frame(400)
    log = BanditLog(action=df["action"].to_numpy(), reward=df["reward"].to_numpy(),
                    propensity=df["propensity"].to_numpy(), unit_id=df["user"].to_numpy(), n_actions=2)
    mem = evaluate_policy(log, df[["pi_0", "pi_1"]].to_numpy(), ["ips"], n_bootstrap=100, random_state=0)
    got = evaluate_tabular([df.iloc[:150], df.iloc[150:]], ["pi_0", "pi_1"], ["ips"], n_bootstrap=100,
                           random_state=0, unit_id="user")
    np.testing.assert_allclose(got[["value", "ci_low", "ci_high"]].to_numpy(float),
                               mem[["value", "ci_low", "ci_high"]].to_numpy(float), rtol=1e-12)


# -- a tabular log x action / reward / propensity / context given as values ---------------------------------
# The same habit for the other column arguments: an array reached a set of column names and failed with a
# bare TypeError ("unhashable type: 'numpy.ndarray'").

@pytest.mark.parametrize("field", ["action", "reward", "propensity", "context"])
def test_column_arguments_given_as_values_are_refused_by_name(field):
    df = _log_frame().assign(x=0.5)
    values = df[["x"]].to_numpy() if field == "context" else df[field].to_numpy()
    with pytest.raises(ValidationError, match=rf"^{field}: for tabular logs must be the (name of a column|list of "
                                              r"feature column names), got an array of shape") as e:
        evaluate_tabular(df, ["pi_0", "pi_1"], ["ips", "dm"], n_bootstrap=20, n_folds=2, **{field: values})
    assert e.value.field == field


@pytest.mark.parametrize("context", ["x", ("x",), np.array(["x"]), pd.Index(["x"]), []])
def test_context_names_in_any_sequence_are_still_accepted(context):
    df = _log_frame().assign(x=np.linspace(0, 1, 120))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = evaluate_tabular(df, ["pi_0", "pi_1"], ["dm"], n_bootstrap=20, n_folds=2, context=context)
    assert np.isfinite(out["value"]).all()


# -- n_folds x estimators that fit no reward model ------------------------------------------------------------
# evaluate_policy checks n_folds for a BanditLog whatever the estimators; the stream checked it only when
# cross-fitting, so n_folds="a", 2.5 or True was accepted with ips alone.

@pytest.mark.parametrize("n_folds", ["a", 2.5, True])
def test_n_folds_is_checked_whatever_the_estimators_as_in_memory(n_folds):
    from workbench.data import BanditLog
    from workbench.ope import evaluate_policy

    df = _log_frame()
    log = BanditLog(action=df["action"].to_numpy(), reward=df["reward"].to_numpy(),
                    propensity=df["propensity"].to_numpy(), n_actions=2)
    with pytest.raises(ValidationError) as mem:
        evaluate_policy(log, df[["pi_0", "pi_1"]].to_numpy(), ["ips"], n_folds=n_folds, n_bootstrap=20)
    with pytest.raises(ValidationError) as got:
        evaluate_tabular(df, ["pi_0", "pi_1"], ["ips"], n_folds=n_folds, n_bootstrap=20)
    assert str(got.value) == str(mem.value) and got.value.field == "n_folds"


def test_n_folds_below_two_is_still_accepted_when_no_model_is_fitted():
    # memory accepts it there too (the fold count is read only when a model is cross-fitted)
    df = _log_frame()
    out = evaluate_tabular(df, ["pi_0", "pi_1"], ["ips"], n_folds=1, n_bootstrap=20)
    assert np.isfinite(out["value"]).all()


@pytest.mark.parametrize("n_bootstrap", ["a", 2.5, 1, True])
def test_n_bootstrap_is_named_as_in_memory(n_bootstrap):
    # the stream named it "n_replicates" (Resampling.make's parameter), an argument neither function has
    from workbench.data import BanditLog
    from workbench.ope import evaluate_policy

    df = _log_frame()
    log = BanditLog(action=df["action"].to_numpy(), reward=df["reward"].to_numpy(),
                    propensity=df["propensity"].to_numpy(), n_actions=2)
    with pytest.raises(ValidationError) as mem:
        evaluate_policy(log, df[["pi_0", "pi_1"]].to_numpy(), ["ips"], n_bootstrap=n_bootstrap)
    with pytest.raises(ValidationError) as got:
        evaluate_tabular(df, ["pi_0", "pi_1"], ["ips"], n_bootstrap=n_bootstrap)
    assert str(got.value) == str(mem.value) and got.value.field == "n_bootstrap"


# -- compare_models on chunks x groups given as per-row ids ----------------------------------------------------
# bootstrap_ci refused them by name; compare_models listed the loss columns first (c != groups) and failed
# with numpy's bare "truth value of an array ... is ambiguous".

@pytest.mark.parametrize("call", ["compare_models", "compare_models_tabular", "bootstrap_ci"])
def test_group_ids_given_as_values_on_chunks_are_refused_by_name(call):
    from workbench import resample

    L, _, _ = _losses_with_repeat()
    chunks = [L.iloc[:50][["a", "b"]], L.iloc[50:][["a", "b"]]]
    fn = {"compare_models": resample.compare_models, "bootstrap_ci": resample.bootstrap_ci,
          "compare_models_tabular": compare_models_tabular}[call]
    kw = {} if call == "compare_models_tabular" else {"resampling": "poisson"}
    with pytest.raises(ValidationError, match="groups: must be the name of the cluster-id column for tabular "
                                              "data, got ndarray"):
        fn(chunks, groups=L["g"].to_numpy(), n_resamples=50, **kw)


# -- bootstrap_loss_matrix x names ----------------------------------------------------------------------------
# Checked after the pass by a rule of its own ("names: must have 2 entries, got 1"; names=5 a TypeError);
# now before it, by bootstrap_ci's rule (check_names), with the same message as in memory.

@pytest.mark.parametrize("names", [["x"], ["x", "y", "z"], 5, ["x", "x"]])
def test_loss_matrix_names_are_checked_as_in_memory(names):
    from workbench.resample import bootstrap_ci

    L, _, _ = _losses_with_repeat()
    L = L[["a", "b"]]
    with pytest.raises(ValidationError) as mem:
        bootstrap_ci(L, names=names, resampling="poisson", n_resamples=20)
    with pytest.raises(ValidationError) as got:
        bootstrap_loss_matrix([L.iloc[:50], L.iloc[50:]], names=names, n_resamples=20)
    assert str(got.value) == str(mem.value)


def test_loss_matrix_names_are_checked_before_a_one_shot_iterator_is_read():
    L, _, _ = _losses_with_repeat()
    gen = (L.iloc[i:i + 25][["a", "b"]] for i in range(0, 100, 25))
    with pytest.raises(ValidationError, match="names: must be 2 distinct names"):
        bootstrap_loss_matrix(gen, names=["x"], n_resamples=20)


@pytest.mark.parametrize("names", [None, ["x", "y"], [1, 2]])
def test_loss_matrix_valid_names_are_those_of_memory(names):
    from workbench.resample import bootstrap_ci

    L, _, _ = _losses_with_repeat()
    L = L[["a", "b"]]
    mem = bootstrap_ci(L, names=names, resampling="poisson", n_resamples=20, random_state=0)
    got = bootstrap_loss_matrix([L.iloc[:50], L.iloc[50:]], names=names, n_resamples=20, random_state=0)
    assert got.names == mem.names
    np.testing.assert_allclose(got.ci_low, mem.ci_low, rtol=1e-12)


# -- explicit loss columns x groups -----------------------------------------------------------------------------
# The cluster-id column listed among the loss columns was bootstrapped as a model (mean loss = mean id 2.95);
# the default columns leave it out, and in memory groups= takes it out of the frame.

@pytest.mark.parametrize("fn", [bootstrap_loss_matrix, compare_models_tabular])
def test_groups_column_listed_as_a_loss_is_refused(fn):
    L, _, _ = _losses_with_repeat()
    with pytest.raises(ValidationError, match="columns: must not include the groups column 'g'"):
        fn([L.iloc[:50], L.iloc[50:]], ["a", "g"], groups="g", n_resamples=20)


def test_default_columns_with_groups_still_leave_the_groups_out():
    L, _, _ = _losses_with_repeat()
    out = bootstrap_loss_matrix([L.iloc[:50], L.iloc[50:]], groups="g", n_resamples=20)
    assert out.names == ("a", "b")


# -- cross-fitted reward model x a NaN / inf context value ------------------------------------------------------
# Checked on a subset of rows, the value was named by its place there: among its fold's rows in the main pass
# (row 1260 for row 1500), or in the reward model's sample (row 60 of 115 for row 1045).

def _context_frame(n=2000):
    rng = np.random.default_rng(0)
    return pd.DataFrame({"action": rng.integers(0, 2, n), "reward": rng.random(n), "propensity": 0.5,
                         "pi_0": 0.5, "pi_1": 0.5, "x": rng.random(n)})


def _sampled_rows(n, frac, random_state):
    from workbench._engine import Resampling
    from workbench.scale.reward import _SAMPLE_SALT, hash_uniform

    seed = Resampling.make(20, "poisson", random_state).seed
    return np.flatnonzero(hash_uniform(np.arange(n), seed, _SAMPLE_SALT) < frac)


@pytest.mark.parametrize("sampled", [False, True])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_bad_context_value_is_named_by_its_global_row_when_cross_fitting(sampled, value):
    df = _context_frame()
    in_sample = _sampled_rows(len(df), 100 / len(df), 0)
    later = np.setdiff1d(np.arange(1001, len(df)), in_sample)
    row = int(in_sample[in_sample > 1000][0] if sampled else later[len(later) // 2])
    df.loc[row, "x"] = value
    with pytest.raises(ValidationError) as e:
        evaluate_tabular([df.iloc[:1000], df.iloc[1000:]], ["pi_0", "pi_1"], ["dm"], context=["x"], n_bootstrap=20,
                         n_folds=2, reward_model_sample=100, random_state=0)
    assert e.value.field == "context" and e.value.first == row


def test_cross_fitted_predictions_unchanged_by_the_whole_chunk_context_check():
    # the fold models see the same rows as before: the same values as a run on one chunk
    df = _context_frame()
    kw = dict(context=["x"], n_bootstrap=50, n_folds=3, reward_model_sample=500, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        one = evaluate_tabular(df, ["pi_0", "pi_1"], ["dm", "dr"], **kw)
        many = evaluate_tabular([df.iloc[i:i + 300] for i in range(0, 2000, 300)], ["pi_0", "pi_1"], ["dm", "dr"],
                                **kw)
    np.testing.assert_allclose(many[["value", "ci_low", "ci_high"]].to_numpy(float),
                               one[["value", "ci_low", "ci_high"]].to_numpy(float), rtol=1e-12)


# -- BanditLog.subset x BanditTruth.subset on an empty selection ------------------------------------------------
# The log refuses it; the truth returned a 0-row truth whose behavior_value and policy_value were NaN, silently.

@pytest.mark.parametrize("idx", [np.zeros(50, bool), slice(10, 10), np.array([], dtype=np.int64)])
def test_empty_selection_is_refused_by_truth_as_by_log(idx):
    from workbench.data import simulate_bandit

    log, truth = simulate_bandit(50, random_state=0)
    with pytest.raises(ValidationError):
        log.subset(idx)
    with pytest.raises(ValidationError, match="index: selects no row; a BanditTruth needs at least one") as e:
        truth.subset(idx)
    assert e.value.field == "index"


def test_routing_bandit_truth_subset_keeps_its_rows_and_refuses_none():
    from workbench.data import simulate_routing

    log, truth = simulate_routing(60, random_state=0)
    bt = truth.bandit_truth(0.2)
    keep = np.arange(60) % 3 == 0
    part = bt.subset(keep)
    assert len(part) == 20 and part.quality.shape[0] == 20
    assert part.policy_value(np.zeros(20, int)) == pytest.approx(float(bt.expected_reward[keep, 0].mean()))
    with pytest.raises(ValidationError, match="selects no row"):
        bt.subset(np.zeros(60, bool))


# -- make_model_zoo: shift="prior" x a strong shift on a small pool ---------------------------------------------
# Every pool point dropped: the first model's predict_proba failed with scikit-learn's "Found array with 0
# sample(s)", naming neither the shift nor the pool.

def test_prior_shift_that_empties_the_pool_is_refused_by_name():
    from workbench.data import make_model_zoo

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = np.r_[np.zeros(2, int), np.ones(29, int), np.full(29, 2)]
    with pytest.raises(ValidationError, match=r"shift_strength: 'prior' with strength 5 kept none of the 6 pool "
                                              r"points \(class counts \[0, 4, 2\]\)"):
        make_model_zoo(X, y, n_models=2, shift="prior", shift_strength=5.0, pool_size=0.1, random_state=0,
                       cache_dir=False, progress=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zoo = make_model_zoo(X, y, n_models=2, shift="prior", shift_strength=0.5, pool_size=0.1, random_state=0,
                             cache_dir=False, progress=False)
    assert 1 <= zoo.n_points < 6  # a milder shift keeps some points, as before (3 of 6 with these draws)
