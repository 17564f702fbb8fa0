"""Building blocks of workbench.scale: mergeable co-moments, validation with global row numbers,
honest cross-fitting, and the cluster bootstrap's coverage on streamed data."""
import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench._engine import influence_values
from workbench.scale import CoMoments, evaluate_tabular
from workbench.scale.reward import CrossFittedRewardModel, make_reward_model
from workbench.scale.sources import as_source, is_tabular


def test_comoments_merge_equals_direct_and_gives_the_influence_acceleration():
    rng = np.random.default_rng(0)
    T = np.column_stack([rng.exponential(size=5000), rng.random(5000), rng.normal(size=5000)])
    direct = CoMoments.of(T)
    cuts = [0, 7, 1000, 1001, 3500, 5000]
    merged = CoMoments(3)
    for a, b in zip(cuts[:-1], cuts[1:]):
        merged = merged.merge(CoMoments.of(T[a:b]))
    np.testing.assert_allclose(merged.mean, direct.mean, rtol=1e-12)
    np.testing.assert_allclose(merged.m2, direct.m2, rtol=1e-10)
    np.testing.assert_allclose(merged.m3, direct.m3, rtol=1e-8, atol=1e-8 * np.abs(direct.m3).max())
    combine = lambda m: m[..., 0] / m[..., 1]  # noqa: E731  (a ratio, as SNIPS)
    U = influence_values(T[:, :2], T[:, :2].mean(0), combine)
    a_mem = (U**3).sum() / (6 * (U**2).sum() ** 1.5)
    g = np.array([1 / T[:, 1].mean(), -T[:, 0].mean() / T[:, 1].mean() ** 2, 0.0])
    assert merged.acceleration(g) == pytest.approx(a_mem, rel=1e-6)


def _frame(n=3000, k=3, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"action": rng.integers(0, k, n), "reward": rng.random(n), "propensity": np.full(n, 1 / k),
                       "x0": rng.normal(size=n)})
    pe = rng.dirichlet(np.ones(k), n)
    for j in range(k):
        df[f"pi_{j}"] = pe[:, j]
    return df, [f"pi_{j}" for j in range(k)]


def test_bad_rows_are_reported_with_their_global_row_number(tmp_path):
    df, pi = _frame()
    df.loc[2345, "propensity"] = 0.0
    df.to_parquet(tmp_path / "log.parquet", row_group_size=500)
    for data, kw in ((df, {"chunk_size": 1000}), (tmp_path / "log.parquet", {"chunk_size": 300}),
                     ([df.iloc[:2000], df.iloc[2000:]], {})):
        with pytest.raises(wb.ValidationError, match=r"propensity: must be in \(0, 1\].*first at row 2345"):
            evaluate_tabular(data, pi, ["ips"], n_bootstrap=50, **kw)
    df2, _ = _frame()
    df2.loc[10, "pi_0"] += 0.1
    with pytest.raises(wb.ValidationError, match="sum to 1.*first at row 10"):
        evaluate_tabular(df2, pi, ["ips"], n_bootstrap=50)
    with pytest.raises(wb.ValidationError, match="unknown column"):
        evaluate_tabular(df, ["pi_0", "nope"], ["ips"], n_bootstrap=50)
    with pytest.raises(wb.ValidationError, match="list of columns"):
        evaluate_tabular(df, "pi_0", ["ips"])
    with pytest.raises(wb.ValidationError, match="reward_model"):
        df3, _ = _frame()
        evaluate_tabular(df3, pi, ["dr"], reward_model=["pi_0"], n_bootstrap=50)


def test_input_kinds_are_recognised():
    df, _ = _frame(10)
    assert is_tabular(df) and is_tabular("x.parquet") and is_tabular([df, df]) and is_tabular(iter([df]))
    assert not is_tabular(np.zeros((3, 2))) and not is_tabular([1.0, 2.0]) and not is_tabular((np.ones(3), np.ones(3)))
    log = wb.data.BanditLog(action=[0, 1], reward=[1.0, 0.0], propensity=[0.5, 0.5])
    assert not is_tabular(log)
    with pytest.raises(wb.ValidationError, match="no such Parquet"):
        as_source("/nonexistent/dir")


def test_cross_fitting_never_predicts_a_row_with_a_model_that_saw_it():
    # 1-nearest-neighbour on a continuous context memorises its training rows: in-sample it would
    # return each row's own reward exactly. Cross-fitted, no sampled row gets its own reward back.
    from sklearn.neighbors import KNeighborsRegressor

    df, pi = _frame(2000)
    src = as_source(df)
    rm, name = make_reward_model(KNeighborsRegressor(n_neighbors=1), context=["x0"], action="action",
                                 reward="reward", n_actions=3, source=src, unit_id=None, seed=3, sample_size=10_000,
                                 n_folds=2)
    assert isinstance(rm, CrossFittedRewardModel) and "cross-fitted" in name
    ids = np.arange(len(df))
    q = rm.predict(df, 3, ids)
    own = q[ids, df["action"].to_numpy()]
    assert np.mean(np.isclose(own, df["reward"].to_numpy())) < 0.01
    # the same model fitted on all rows and applied in-sample memorises them (what cross-fitting avoids)
    fitted = KNeighborsRegressor(n_neighbors=1)
    from workbench.ope import design_matrix

    fitted.fit(design_matrix(df[["x0"]].to_numpy(), df["action"].to_numpy(), np.zeros(len(df), int), 3, None),
               df["reward"])
    rm_in, _ = make_reward_model(fitted, context=["x0"], action="action", reward="reward", n_actions=3, source=src,
                                 unit_id=None, seed=3, sample_size=10_000, n_folds=2)
    own_in = rm_in.predict(df, 3, ids)[ids, df["action"].to_numpy()]
    assert np.mean(np.isclose(own_in, df["reward"].to_numpy())) > 0.99


def test_cluster_bootstrap_on_chunks_covers_when_rows_are_correlated():
    # Rewards share a strong per-user effect. The row bootstrap ignores it and under-covers; the
    # hashed cluster bootstrap (unit_id=) covers. 150 replicates x 1200 rows in 60 users, 95% IPS
    # intervals from 200 Poisson replicates, streamed in 3 chunks. Band for the cluster bootstrap:
    # 88-99% (binomial sd of coverage ~1.8% at 150 replicates, plus percentile-interval under-coverage
    # with 60 clusters); the row bootstrap falls below 80%.
    rng = np.random.default_rng(1)
    k, n, users = 2, 1200, 60
    hits = {"rows": 0, "users": 0}
    R = 150
    truth = 0.5  # E[r] for every action, so the IPS target value is 0.5 under any policy
    for _ in range(R):
        u = rng.integers(0, users, n)
        effect = rng.normal(0, 0.3, users)[u]
        a = rng.integers(0, k, n)
        r = truth + effect + rng.normal(0, 0.1, n)
        df = pd.DataFrame({"action": a, "reward": r, "propensity": 0.5, "pi_0": 0.7, "pi_1": 0.3, "user": u})
        chunks = [df.iloc[:400], df.iloc[400:800], df.iloc[800:]]
        for key, uid in (("rows", None), ("users", "user")):
            out = evaluate_tabular(chunks, ["pi_0", "pi_1"], ["ips"], n_bootstrap=200, random_state=int(rng.integers(1e9)),
                                   unit_id=uid, warn=False)
            hits[key] += int(out["ci_low"].iloc[0] <= truth <= out["ci_high"].iloc[0])
    assert 0.88 <= hits["users"] / R <= 0.99, hits
    assert hits["rows"] / R < 0.80, hits


@pytest.mark.parametrize("propensity", [0.5, 1 / 3])
def test_diagnostics_warning_matches_in_memory(propensity):
    # a wrong propensity column (0.5 for 3 uniform actions) moves the mean weight away from 1
    df, pi = _frame(4000, seed=3)
    df["propensity"] = propensity
    log = wb.data.BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=3)
    import warnings

    msgs = []
    for data, pol in ((log, df[pi].to_numpy()), ([df.iloc[:1500], df.iloc[1500:]], pi)):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            wb.ope.evaluate_policy(data, pol, estimators=["ips", "snips"], n_bootstrap=50)
        msgs.append([str(w.message) for w in rec if issubclass(w.category, wb.ope.OPEDiagnosticWarning)])
    assert msgs[0] == msgs[1]
    assert bool(msgs[0]) == (propensity == 0.5)


def test_no_support_warning_is_the_same_streamed_and_in_memory():
    # a target that never plays the logged action: every weight is 0 (not a propensity problem)
    df, pi = _frame(3000, seed=4)
    zero = np.eye(3)[(df["action"].to_numpy() + 1) % 3]
    for j, c in enumerate(pi):
        df[c] = zero[:, j]
    log = wb.data.BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=3)
    import warnings

    msgs = []
    for data, pol in ((log, df[pi].to_numpy()), ([df.iloc[:1000], df.iloc[1000:]], pi)):
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            wb.ope.evaluate_policy(data, pol, estimators=["ips", "snips"], n_bootstrap=50)
        msgs.append([str(w.message) for w in rec if issubclass(w.category, wb.ope.OPEDiagnosticWarning)])
        # snips is NaN in every replicate here: no numpy noise on top of the explanation, either path
        assert not [w for w in rec if issubclass(w.category, RuntimeWarning)]
    assert msgs[0] == msgs[1] and len(msgs[0]) == 1 and "no support" in msgs[0][0]


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(1, 799), max_size=6, unique=True), seed=st.integers(0, 2**32 - 1))
def test_any_chunking_gives_the_same_answer(cuts, seed):
    df, pi = _frame(800, seed=1)
    df["q_0"], df["q_1"], df["q_2"] = 0.3, 0.5, 0.7
    edges = [0, *sorted(cuts), 800]
    chunks = [df.iloc[a:b] for a, b in zip(edges[:-1], edges[1:])]
    kw = dict(estimators=["ips", "snips", "sndr"], reward_model=["q_0", "q_1", "q_2"], n_bootstrap=60,
              random_state=seed, warn=False, interval="bca")
    whole = evaluate_tabular(df, pi, **kw)
    parts = evaluate_tabular(chunks, pi, **kw)
    cols = ["value", "ci_low", "ci_high", "se"]
    np.testing.assert_allclose(parts[cols].to_numpy(float), whole[cols].to_numpy(float), rtol=1e-9)


@pytest.mark.slow
def test_dr_with_sample_cross_fitted_model_is_unbiased():
    # DR with a reward model cross-fitted on a hashed sample, streamed in chunks, over 150 simulated
    # logs (3,000 rows each, 4 actions): the mean estimate is within 3 standard errors of the mean
    # true value of the target on those contexts.
    from sklearn.linear_model import LogisticRegression

    est, true = [], []
    for rep in range(150):
        log, truth = wb.data.simulate_bandit(3000, n_actions=4, dim_context=2, random_state=1000 + rep)
        target = np.tile([0.1, 0.2, 0.3, 0.4], (len(log), 1))
        df = log.to_frame()
        pi = [f"pi_{j}" for j in range(4)]
        df[pi] = target
        out = evaluate_tabular([df.iloc[:1000], df.iloc[1000:]], pi, ["dr"], reward_model=LogisticRegression(),
                               context=["x0", "x1"], n_bootstrap=20, random_state=rep, warn=False,
                               reward_model_sample=1500)
        est.append(out["value"].iloc[0])
        true.append(truth.policy_value(target))
    est, true = np.array(est), np.array(true)
    err = est - true
    assert abs(err.mean()) < 3 * err.std(ddof=1) / np.sqrt(len(err)), (err.mean(), err.std())


@pytest.mark.parametrize("interval", ["bca", "bernstein"])
def test_intervals_that_assume_independent_rows_are_refused_with_unit_ids(interval):
    # Streamed BCa takes its acceleration from per-row co-moments, and the Bernstein bound assumes
    # independent rows: with unit_id both would be computed for the wrong resampling unit.
    df, pi = _frame(300)
    df["user"] = np.arange(300) // 3
    with pytest.raises(wb.ValidationError, match=f"'{interval}'.*unit_id"):
        evaluate_tabular(df, pi, ["ips"], n_bootstrap=20, unit_id="user", interval=interval, reward_range=(0, 1))
    log = wb.data.BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=3,
                            unit_id=df["user"])
    if interval == "bernstein":  # in memory, BCa uses per-unit influence values (tests/test_engine.py)
        with pytest.raises(wb.ValidationError, match="'bernstein'.*unit_id"):
            wb.ope.evaluate_policy(log, df[pi].to_numpy(), ["ips"], n_bootstrap=20, interval=interval,
                                   reward_range=(0, 1))
        # one row per unit (e.g. event ids) is the independent case: the same bound as without ids
        own = wb.data.BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=3,
                                unit_id=np.arange(300) * 7)
        plain = wb.data.BanditLog(action=df["action"], reward=df["reward"], propensity=df["propensity"], n_actions=3)
        a, b = (wb.ope.evaluate_policy(x, df[pi].to_numpy(), ["sg-ips"], n_bootstrap=20, interval=interval,
                                       reward_range=(0, 1), warn=False) for x in (own, plain))
        assert np.isfinite(a[["ci_low", "ci_high"]].to_numpy(float)).all()
        np.testing.assert_allclose(a[["ci_low", "ci_high"]].to_numpy(float), b[["ci_low", "ci_high"]].to_numpy(float))
    else:
        out = wb.ope.evaluate_policy(log, df[pi].to_numpy(), ["ips"], n_bootstrap=20, interval=interval, warn=False)
        assert np.isfinite(out["ci_low"]).all()
