"""The streamed ``ess_terms`` equals the in-memory one whatever the rewards' offset and magnitude.

``ess_terms`` = (sum |t|)^2 / sum t^2 with t = w (r - c), c the lowest or highest weighted reward
(:func:`workbench.ope.evaluate.informative_terms`). The streamed route kept raw sums of w r, w^2 r, w^2 r^2
and expanded the square: rewards 1e8 + {0, 1} gave 38.4 for 47.17 (cancellation), and rewards or weights
beyond ~1e154 (or below ~1e-154) gave NaN (overflow, underflow). It now keeps, per piece, sums relative to
the piece's own extreme reward, in units of powers of two, re-referenced when pieces merge.
"""
import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.data import BanditLog
from workbench.ope import InverseProbabilityWeighting, OPEDiagnosticWarning, SwitchDR, evaluate_policy
from workbench.ope import evaluate as ev
from workbench.scale import evaluate_tabular

K = 3
POLICY = [f"pi_{a}" for a in range(K)]
QCOLS = [f"q_{a}" for a in range(K)]
# every kind of weights: the logged ones (ips, snips, dr), clipped (own array), switched, and none (dm: NaN)
ESTS = ["ips", "snips", "dm", "dr", InverseProbabilityWeighting(clip=2.0), SwitchDR(lambda_=3.0)]


def _log(n=120, seed=0, binary=True, offset=0.0, scale=1.0, prop_scale=1.0):
    rng = np.random.default_rng(seed)
    action = rng.integers(0, K, n)
    prop = rng.uniform(0.25, 1.0, n) * prop_scale
    base = (rng.random(n) < 0.15).astype(float) if binary else rng.random(n)
    reward = (offset + base) * scale
    target = rng.dirichlet(np.ones(K), n)  # unequal weights, some rows near 0
    q = np.full((n, K), float(np.mean(reward)))
    return action, reward, prop, target, q


def _frame(action, reward, prop, target, q):
    return pd.concat([pd.DataFrame({"action": action, "reward": reward, "propensity": prop}),
                      pd.DataFrame(target, columns=POLICY), pd.DataFrame(q, columns=QCOLS)], axis=1)


def _caught(fn, *args, **kwargs):
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        out = fn(*args, **kwargs)
    return out, [str(w.message) for w in rec if issubclass(w.category, OPEDiagnosticWarning)]


def _in_memory(action, reward, prop, target, q, ests=ESTS):
    log = BanditLog(action=action, reward=reward, propensity=prop, n_actions=K)
    return evaluate_policy(log, target, estimators=ests, reward_model=q, n_bootstrap=20, warn=False)


def _streamed(chunks, ests=ESTS, **kw):
    return evaluate_tabular(chunks, POLICY, estimators=ests, reward_model=QCOLS, n_bootstrap=20, warn=False, **kw)


def _chunkings(df):
    """Whole, uneven chunks, single-row chunks, and the uneven chunks in reverse (reversed merge order)."""
    cuts = [0, 1, 8, 50, 51, 90, len(df)]
    uneven = [df.iloc[a:b] for a, b in zip(cuts[:-1], cuts[1:])]
    return {"whole": [df], "uneven": uneven, "single rows": [df.iloc[i:i + 1] for i in range(len(df))],
            "reversed": uneven[::-1]}


def _check(mem, st, rtol=1e-12):
    got, want = st["ess_terms"].to_numpy(), mem["ess_terms"].to_numpy()
    assert np.isnan(got[2]) and np.isnan(want[2])  # dm: no weights
    keep = np.arange(len(want)) != 2
    assert np.all(np.isfinite(got[keep])) and np.all(want[keep] > 1)
    np.testing.assert_allclose(got[keep], want[keep], rtol=rtol, atol=0)
    # and the weights' own diagnostics (an OverflowError for weights near 2**600, 0 for weights near 2**-600)
    for col in ("ess", "mean_weight", "max_weight"):
        np.testing.assert_allclose(st[col], mem[col], rtol=rtol, atol=0, err_msg=col)


def test_any_reward_offset_any_chunking():
    # single-row chunks (120 pieces, ~0.3 s per log) on three representative logs: no offset, the offset
    # that cancelled (1e8, continuous rewards) and a large negative one; the other chunkings on all ten
    single_rows = {(True, 0.0), (False, 1e8), (True, -1e12)}
    for binary in (True, False):
        for offset in (0.0, 1e4, 1e8, 1e12, -1e12):
            args = _log(binary=binary, offset=offset)
            mem = _in_memory(*args)
            df = _frame(*args)
            for name, chunks in _chunkings(df).items():
                if name != "single rows" or (binary, offset) in single_rows:
                    _check(mem, _streamed(chunks))


@pytest.mark.parametrize("scale", [2.0**-600, 2.0**600, 2.0**1000, -(2.0**1000)])
def test_rewards_of_any_magnitude(scale):
    args = _log(binary=False, offset=0.25, scale=scale)
    mem = _in_memory(*args)
    # ess_terms does not depend on the rewards' units (in memory, to rounding)
    np.testing.assert_allclose(mem["ess_terms"], _in_memory(*_log(binary=False, offset=0.25))["ess_terms"],
                               rtol=1e-12)
    df = _frame(*args)
    for name, chunks in _chunkings(df).items():
        _check(mem, _streamed(chunks))


@pytest.mark.parametrize("prop_scale", [2.0**-600, 2.0**-1000])
def test_weights_of_any_magnitude(prop_scale):
    # tiny propensities: weights near 2**600 and 2**1000, whose squares overflowed
    args = _log(binary=True, prop_scale=prop_scale)
    mem = _in_memory(*args, ests=["ips", "snips", "dm"])
    df = _frame(*args)
    for name, chunks in _chunkings(df).items():
        _check(mem, _streamed(chunks, ests=["ips", "snips", "dm"]))
    # one chunk with rows of weight 0: the same sums of w and w^2 over the same rows in the same order,
    # divided by powers of two, so ess and the mean weight to the bit (sums over the weighted rows only,
    # another grouping of numpy's pairwise sum, differed in the last bits)
    action, reward, prop, target, q = args
    zero = np.arange(len(action)) % 3 == 0
    target = np.where(zero[:, None], np.eye(K)[(action + 1) % K], target)  # probability 0 for the logged action
    mem = _in_memory(action, reward, prop, target, q, ests=["ips", "snips", "dm"])
    whole = _streamed([_frame(action, reward, prop, target, q)], ests=["ips", "snips", "dm"])
    for col in ("ess", "mean_weight"):
        np.testing.assert_array_equal(whole[col], mem[col], err_msg=col)
    # the diagnostics warning too (it raised an OverflowError)
    action, reward, prop, target, _ = args
    log = BanditLog(action=action, reward=reward, propensity=prop, n_actions=K)
    _, mm = _caught(evaluate_policy, log, target, estimators=["ips", "snips"], n_bootstrap=20)
    _, ms = _caught(evaluate_tabular, df, POLICY, estimators=["ips", "snips"], n_bootstrap=20, chunk_size=7)
    assert ms == mm != []


def test_tiny_weights():
    # the target gives the logged actions probability ~2**-600: weights near 2**-600, whose squares underflowed
    action, reward, prop, _, q = _log(binary=False, offset=3.0)
    target = np.zeros((len(action), K))
    target[:, 0] = 1.0
    target[:, 1] = 2.0**-600 * (1 + (np.arange(len(action)) % 5))  # sums to 1 in floating point
    action = np.where(np.arange(len(action)) % 4 == 0, 0, 1)  # a few rows of weight ~1, most ~2**-600
    mem = _in_memory(action, reward, prop, target, q, ests=["ips", "snips", "dm"])
    df = _frame(action, reward, prop, target, q)
    for chunks in _chunkings(df).values():
        _check(mem, _streamed(chunks, ests=["ips", "snips", "dm"]))
    # only the rows of weight ~2**-600
    on = action == 1
    mem = _in_memory(action[on], reward[on], prop[on], target[on], q[on], ests=["ips", "snips", "dm"])
    df = _frame(action[on], reward[on], prop[on], target[on], q[on])
    for chunks in _chunkings(df).values():
        _check(mem, _streamed(chunks, ests=["ips", "snips", "dm"]))
    # the diagnostics warning too (sum w^2 underflowed to 0: a log without weighted rows, said the warning)
    log = BanditLog(action=action[on], reward=reward[on], propensity=prop[on], n_actions=K)
    _, mm = _caught(evaluate_policy, log, target[on], estimators=["ips", "snips"], n_bootstrap=20)
    _, ms = _caught(evaluate_tabular, df, POLICY, estimators=["ips", "snips"], n_bootstrap=20, chunk_size=7)
    assert ms == mm != []


def test_the_diagnostics_warning_reads_the_same_value():
    # few clicks on a large offset: the warning's ess_terms (of the logged weights) is the in-memory one
    rng = np.random.default_rng(3)
    n = 2000
    action = rng.integers(0, K, n)
    prop = np.full(n, 1.0 / K)
    reward = 1e8 + (rng.random(n) < 0.01)
    target = np.zeros((n, K))
    target[:, 0] = 1.0
    q = np.full((n, K), 1e8)
    log = BanditLog(action=action, reward=reward, propensity=prop)
    _, mm = _caught(evaluate_policy, log, target, estimators=["ips", "snips"], n_bootstrap=20)
    _, ms = _caught(evaluate_tabular, _frame(action, reward, prop, target, q), POLICY, estimators=["ips", "snips"],
                    n_bootstrap=20, chunk_size=77)
    assert [m for m in ms if "ess_terms" in m] == [m for m in mm if "ess_terms" in m] != []


def test_merge_tree_and_order_do_not_matter():
    # the side statistic merges pairwise in any tree (chunks reduced on different workers)
    from workbench.scale.ope import _InformativeSums

    rng = np.random.default_rng(5)
    for offset, scale in [(1e12, 1.0), (0.5, 2.0**1000), (1e8, 2.0**-900)]:
        n = 400
        w = rng.exponential(size=n) * (rng.random(n) < 0.7) * scale
        r = offset + (rng.random(n) < 0.2) * rng.random(n)
        want = ev.informative_terms(w, r)
        cuts = np.sort(rng.choice(np.arange(1, n), 30, replace=False))
        pieces = [_InformativeSums.of(a, b) for a, b in zip(np.split(w, cuts), np.split(r, cuts))]
        for order in range(4):
            todo = list(pieces) if order % 2 == 0 else list(pieces[::-1])
            while len(todo) > 1:  # random pairwise merges: any tree, any order within a pair
                i, j = sorted(rng.choice(len(todo), 2, replace=False))
                a, b = todo.pop(j), todo.pop(i)
                todo.append(a.merge(b) if rng.random() < 0.5 else b.merge(a))
            assert todo[0].value() == pytest.approx(want, rel=1e-12)


def test_edge_cases_match_in_memory():
    from workbench.scale.ope import _InformativeSums

    def streamed(w, r, cut):
        w, r = np.asarray(w, float), np.asarray(r, float)
        return _InformativeSums.of(w[:cut], r[:cut]).merge(_InformativeSums.of(w[cut:], r[cut:])).value()

    cases = [([0.0, 0.0], [0.0, 1.0]),                       # no weighted row: 0
             ([1.0, 2.0, 0.0], [5.0, 5.0, 9.0]),             # weighted rows share one reward: 0
             ([1.0, 1.0, 1.0, 1.0], [-1e308, 1e308, 1e308, 1e308]),  # span beyond the float range
             ([1e200, 1e200, 1e200], [0.0, 1.0, 1.0]),
             ([1e-300, 1e-300], [0.0, 1e-300])]
    for w, r in cases:
        for cut in range(len(w) + 1):
            assert streamed(w, r, cut) == pytest.approx(ev.informative_terms(w, r), rel=1e-12)
    # a non-finite or negative weight (refused in memory): not determined
    assert np.isnan(streamed([1.0, np.inf], [0.0, 1.0], 1))
    assert np.isnan(streamed([1.0, -1.0, 2.0], [0.0, 1.0, 1.0], 2))


def test_parquet_and_dask_sources(tmp_path):
    # pieces reduced per partition / row group and merged in a tree (dask: 23 partitions > split_every=8)
    dd = pytest.importorskip("dask.dataframe")
    pytest.importorskip("pyarrow")
    args = _log(n=600, binary=False, offset=1e8, seed=4)
    mem = _in_memory(*args)
    df = _frame(*args)
    df.iloc[:250].to_parquet(tmp_path / "part-0.parquet", row_group_size=37)
    df.iloc[250:].to_parquet(tmp_path / "part-1.parquet", row_group_size=101)
    _check(mem, _streamed(str(tmp_path)))
    _check(mem, _streamed(tmp_path, chunk_size=29))
    _check(mem, _streamed(dd.from_pandas(df, npartitions=23)))
    _check(mem, _streamed(dd.from_pandas(df.iloc[::-1], npartitions=5)))


def test_weights_beyond_2_to_the_1023():
    # propensities 1e-308: weights 1e308, whose sum overflows. The in-memory weight_sums divides them by
    # 2**1023 (its scale's cap: 2**1024 is no float); the streamed evaluation must give the same
    # diagnostics (ess 23, ess_terms 15.67) whatever the chunking (its ess / ess_terms were NaN)
    n = 50
    rng = np.random.default_rng(0)
    action, reward, prop = rng.integers(0, 2, n), rng.random(n), np.full(n, 1e-308)
    target = np.tile([1.0, 0.0], (n, 1))
    log = BanditLog(action=action, reward=reward, propensity=prop, n_actions=2)
    mem, mm = _caught(evaluate_policy, log, target, estimators=["ips", "snips"], n_bootstrap=20)
    assert mem["ess"].to_numpy() == pytest.approx([23.0] * 2, rel=1e-12)  # the 23 rows of weight 1e308
    assert mem["ess_terms"].to_numpy() == pytest.approx([15.67056215273209] * 2, rel=1e-12)
    df = pd.DataFrame({"action": action, "reward": reward, "propensity": prop, "pi_0": 1.0, "pi_1": 0.0})
    for chunk_size in (None, 7, 1):
        out, ms = _caught(evaluate_tabular, df, ["pi_0", "pi_1"], estimators=["ips", "snips"], n_bootstrap=20,
                          chunk_size=chunk_size)
        for col in ("value", "ess", "mean_weight", "max_weight", "ess_terms"):
            np.testing.assert_allclose(out[col], mem[col], rtol=1e-12, atol=0, err_msg=col)
        assert ms == mm != []  # the diagnostics warning (a mean weight of 4.6e307) reads the same numbers


def test_few_terms_clause_when_the_weights_sum_overflows():
    # weights 1e308 (their plain sum is inf) with 3 clicks among the weighted rows: ess_terms 3, so the
    # warning's few-informative-rows clause, in memory and streamed alike (the streamed one dropped it: it
    # read "some estimator weighs rows" from a finite plain sum of the weights)
    n = 50
    rng = np.random.default_rng(0)
    action, prop = rng.integers(0, 2, n), np.full(n, 1e-308)
    reward = np.zeros(n)
    reward[np.flatnonzero(action == 0)[:3]] = 1.0
    log = BanditLog(action=action, reward=reward, propensity=prop, n_actions=2)
    mem, mm = _caught(evaluate_policy, log, np.tile([1.0, 0.0], (n, 1)), estimators=["ips", "snips"], n_bootstrap=20)
    assert mem["ess_terms"].to_numpy() == pytest.approx([3.0] * 2, rel=1e-12)
    assert len(mm) == 1 and ev.few_terms_message(3.0) in mm[0]
    df = pd.DataFrame({"action": action, "reward": reward, "propensity": prop, "pi_0": 1.0, "pi_1": 0.0})
    for chunk_size in (None, 7):
        _, ms = _caught(evaluate_tabular, df, ["pi_0", "pi_1"], estimators=["ips", "snips"], n_bootstrap=20,
                        chunk_size=chunk_size)
        assert ms == mm
