"""Audit 31: the zoo cache (concurrent writers, WORKBENCH_CACHE), task names, vote entropy, benchmark inputs."""
import fnmatch
import threading
from pathlib import Path

import numpy as np
import pytest

from workbench._validation import ValidationError
from workbench.active import benchmark_selection, contested_points, task_suite
from workbench.active.tasks import _vote_entropy, load_task
from workbench.data import PredictionLog, make_model_zoo

REPO = Path(__file__).resolve().parents[1]


def _tiny_data():
    from sklearn.datasets import make_classification

    return make_classification(n_samples=120, n_features=5, n_informative=3, n_redundant=0, n_classes=3,
                               random_state=0)


def _same_zoo(a, b):
    return (a.model_names == b.model_names and np.array_equal(a.probs, b.probs)
            and np.array_equal(a.labels, b.labels) and np.array_equal(a.features, b.features))


# 1. two writers of one cache entry ------------------------------------------------------------------------

def test_zoo_cache_two_concurrent_writers_of_one_entry_both_succeed(tmp_path, monkeypatch):
    X, y = _tiny_data()
    barrier = threading.Barrier(2)
    written = []
    orig_save = PredictionLog.save

    def slow_save(self, path):
        out = orig_save(self, path)
        written.append(Path(path).name)
        barrier.wait(timeout=60)  # both writers have written their temporary file before either replaces it
        return out

    monkeypatch.setattr(PredictionLog, "save", slow_save)
    errors, zoos = [], []

    def work():
        try:
            zoos.append(make_model_zoo(X, y, n_models=2, random_state=0, cache_dir=tmp_path, progress=False))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(repr(exc))
            barrier.abort()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(written) == 2 and written[0] != written[1]  # a temporary file of each writer's own
    # .gitignore's pattern still covers them
    assert "*.tmp.npz" in (REPO / ".gitignore").read_text().split()
    assert all(fnmatch.fnmatch(name, "*.tmp.npz") for name in written)
    monkeypatch.setattr(PredictionLog, "save", orig_save)
    files = sorted(p.name for p in (tmp_path / "zoo").iterdir())
    assert len(files) == 1 and not files[0].endswith(".tmp.npz")  # one entry, no temporary file left
    fresh = make_model_zoo(X, y, n_models=2, random_state=0, cache_dir=False, progress=False)
    assert _same_zoo(PredictionLog.load(tmp_path / "zoo" / files[0]), fresh)
    assert all(_same_zoo(z, fresh) for z in zoos)
    assert _same_zoo(make_model_zoo(X, y, n_models=2, random_state=0, cache_dir=tmp_path, progress=False), fresh)


def test_zoo_cache_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    X, y = _tiny_data()
    orig_save = PredictionLog.save

    def failing_save(self, path):
        orig_save(self, path)
        raise OSError("disk full")

    monkeypatch.setattr(PredictionLog, "save", failing_save)
    with pytest.raises(OSError, match="disk full"):
        make_model_zoo(X, y, n_models=2, random_state=0, cache_dir=tmp_path, progress=False)
    assert list((tmp_path / "zoo").iterdir()) == []  # neither an entry nor a temporary file


# 2. WORKBENCH_CACHE --------------------------------------------------------------------------------------

def _files(root: Path):
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.mark.parametrize("value", ["", "~/wb"])
def test_zoo_cache_env_empty_is_unset_and_tilde_is_expanded(tmp_path, monkeypatch, value):
    X, y = _tiny_data()
    home, cwd = tmp_path / "home", tmp_path / "cwd"
    home.mkdir()
    cwd.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("WORKBENCH_CACHE", value)
    monkeypatch.chdir(cwd)
    make_model_zoo(X, y, n_models=2, random_state=0, progress=False)  # cache_dir=None: the default place
    assert _files(cwd) == []  # not "./zoo/<key>.npz" nor "./~/wb/zoo/<key>.npz"
    where = home / (".cache/workbench" if value == "" else "wb") / "zoo"
    assert len(list(where.glob("*.npz"))) == 1


# 3. task names -------------------------------------------------------------------------------------------

@pytest.fixture
def no_fit(monkeypatch):
    """make_model_zoo replaced: a test that reaches it fails (the names must be refused before any fit)."""
    import workbench.data

    def fit(*args, **kwargs):
        raise AssertionError("a zoo was fitted before the names were checked")

    monkeypatch.setattr(workbench.data, "make_model_zoo", fit)


@pytest.mark.parametrize("names, first, match", [
    (["breast_cancer", "brest_cancer"], 1, "'brest_cancer'"),
    (["breast_cancer", "digits", "breast_cancer"], 2, "'breast_cancer' appears at entries 0 and 2"),
    (["breast_cancer", ["digits"]], 1, r"a task name \(a str\).*got list \['digits'\]"),
    (["synthetic", 1], 1, "got int 1"),
])
def test_task_suite_checks_every_name_before_fitting(no_fit, names, first, match):
    with pytest.raises(ValidationError, match=match) as err:
        task_suite(names, n_models=2, cache_dir=False, progress=False)
    assert err.value.field == "names" and err.value.first == first


def test_load_task_refuses_a_non_str_name(no_fit):
    with pytest.raises(ValidationError, match=r"must be a task name \(a str\).*got list \['digits'\]") as err:
        load_task(["digits"], n_models=2, cache_dir=False)
    assert err.value.field == "task"


# 4. vote entropy: a function of the vote counts only -----------------------------------------------------

def _relabelled_cases():
    rng = np.random.default_rng(0)
    for _ in range(150):
        H, C = int(rng.integers(2, 30)), int(rng.integers(2, 12))
        p = rng.integers(0, C, (H, 300))  # 300 points: many share a vote pattern (ties in the entropy)
        renamed = {"large ids": p * 1000003 + 7, "permuted": rng.permutation(C)[p],
                   "permuted, large": rng.permutation(C)[p] * 97 + 1000}
        yield p, renamed


def test_contested_points_do_not_depend_on_class_numbering():
    # large ids took another code path (a sorted one) than ids <= n_models (one column per id): entropies
    # 1 ulp apart, and a quantile cut through equal-entropy patterns then gave other masks (16 here)
    mismatches = [(how, share) for p, renamed in _relabelled_cases() for how, q in renamed.items()
                  for share in (0.05, 0.1, 0.3, 0.5)
                  if not np.array_equal(contested_points(q, share), contested_points(p, share))]
    assert mismatches == []


def test_vote_entropy_is_a_function_of_the_vote_counts():
    for p, renamed in _relabelled_cases():
        e = _vote_entropy(p)
        for how, q in renamed.items():
            assert np.array_equal(_vote_entropy(q), e), how
        # equal vote-count patterns, bit-identical entropies
        by_pattern = {}
        for i, v in enumerate(e):
            by_pattern.setdefault(tuple(sorted(np.unique(p[:, i], return_counts=True)[1])), set()).add(float(v))
        assert all(len(v) == 1 for v in by_pattern.values())


def test_vote_entropy_values():
    from scipy.stats import entropy as scipy_entropy

    p = np.array([[0, 0, 1, 2], [0, 1, 1, 0], [0, 2, 1, 1]])
    want = [scipy_entropy(np.bincount(p[:, i])) for i in range(p.shape[1])]
    np.testing.assert_allclose(_vote_entropy(p), want, rtol=0, atol=1e-13)
    np.testing.assert_allclose(_vote_entropy(p * 10**9), want, rtol=0, atol=1e-13)


# 5. benchmark_selection inputs ---------------------------------------------------------------------------

def _toy_zoo(seed=0):
    rng = np.random.default_rng(seed)
    return PredictionLog(rng.dirichlet(np.ones(3), size=(3, 40)), labels=rng.integers(0, 3, 40))


def test_benchmark_budgets_zero_dim_array_is_the_int():
    zoo = _toy_zoo()
    a = benchmark_selection([("t", zoo)], ["random"], budgets=np.array(5), seeds=2)
    b = benchmark_selection([("t", zoo)], ["random"], budgets=5, seeds=2)
    assert a.curves["labels"].tolist() == [1, 2, 3, 4, 5]
    drop = ["ms_per_step", "setup_ms"]
    assert a.curves.equals(b.curves) and a.summary.drop(columns=drop).equals(b.summary.drop(columns=drop))
    with pytest.raises(ValidationError, match="budgets"):
        benchmark_selection([("t", zoo)], ["random"], budgets=np.array(0), seeds=2)


def test_benchmark_task_names_must_differ_as_text():
    zoo, other = _toy_zoo(0), _toy_zoo(1)
    with pytest.raises(ValidationError, match=r"1, '1' have the same text '1'") as err:
        benchmark_selection([(1, zoo), ("1", other)], ["random"], budgets=3, seeds=2)
    assert err.value.field == "tasks" and err.value.first == 1
    with pytest.raises(ValidationError, match=r"task 2 repeats an earlier name: 'b' appears 2 times") as err:
        benchmark_selection([("a", zoo), ("b", zoo), ("b", zoo), ("a", zoo)], ["random"], budgets=3, seeds=2)
    assert err.value.first == 2  # the first repeat, not the first name repeated later
    # distinct texts still run
    res = benchmark_selection([(1, zoo), ("2", other)], ["random"], budgets=3, seeds=2)
    assert res.summary["task"].tolist() == [1, "2"]


# 6. a "noise" or "prior" shift keeps the models (zoo-v2; until then it drew other models) ----------------

def test_shifted_zoo_holds_the_unshifted_models():
    X, y = _tiny_data()
    kw = dict(n_models=3, random_state=0, cache_dir=False, progress=False)
    plain = make_model_zoo(X, y, **kw)
    assert _same_zoo(make_model_zoo(X, y, shift="noise", shift_strength=0.0, **kw), plain)
    for shift in ("noise", "prior"):
        tiny = make_model_zoo(X, y, shift=shift, shift_strength=1e-9, **kw)
        assert tiny.model_names == plain.model_names
        assert np.array_equal(tiny.labels, plain.labels)  # the same pool (to 1e-9 in the features) ...
        assert np.abs(tiny.features - plain.features).max() < 1e-6
        assert np.abs(tiny.probs - plain.probs).max() < 1e-6, shift  # ... and the same models
    # a real prior shift: the kept points' probabilities are the unshifted zoo's at those points
    prior = make_model_zoo(X, y, shift="prior", shift_strength=1.0, **kw)
    assert prior.n_points < plain.n_points
    rows = [int(np.flatnonzero((plain.features == f).all(axis=1))[0]) for f in prior.features]
    assert np.array_equal(prior.probs, plain.probs[:, rows]) and np.array_equal(prior.labels, plain.labels[rows])
    # a real noise shift: same labels, moved features, no model more accurate by more than noise (model identity
    # itself is checked at strength 1e-9 above: the draws are the same whatever the strength)
    noisy = make_model_zoo(X, y, shift="noise", shift_strength=1.0, **kw)
    assert np.array_equal(noisy.labels, plain.labels) and np.abs(noisy.features - plain.features).max() > 0.1
    assert (noisy.accuracy().to_numpy() <= plain.accuracy().to_numpy() + 0.05).all()


def test_shifted_zoo_cache_key_is_not_the_old_one(tmp_path):
    # a v1 cache entry of a shifted zoo holds other models: it must not be served as the new zoo
    import hashlib

    import sklearn

    X, y = _tiny_data()
    kw = dict(n_models=2, random_state=0, progress=False)
    plain = make_model_zoo(X, y, cache_dir=tmp_path, **kw)
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(X).tobytes())
    h.update(np.ascontiguousarray(y).tobytes())
    h.update(repr((2, "prior", 0.5, 0.7, 1.0, 0, sklearn.__version__, "zoo-v1")).encode())
    decoy = PredictionLog(probs=np.full((2, 3, 3), 1 / 3), labels=np.array([0, 1, 2]), features=np.zeros((3, 5)))
    decoy.save(tmp_path / "zoo" / f"{h.hexdigest()[:24]}.npz")  # what an old version cached under that key
    shifted = make_model_zoo(X, y, shift="prior", cache_dir=tmp_path, **kw)
    assert len(list((tmp_path / "zoo").glob("*.npz"))) == 3
    rows = [int(np.flatnonzero((plain.features == f).all(axis=1))[0]) for f in shifted.features]
    assert np.array_equal(shifted.probs, plain.probs[:, rows])
    again = make_model_zoo(X, y, shift="prior", cache_dir=tmp_path, **kw)  # the new entry is served
    assert _same_zoo(again, shifted)
