"""The public API keeps the package's style promises, checked by introspection over every ``__all__``.

- every public function and class has a numpydoc docstring with an ``Examples`` section, and every
  public method, property and classmethod defined on a public class has a docstring;
- anything that draws random numbers (a replicate / split / seed count in its signature, or a summary
  line that says it draws, samples, resamples or shuffles) takes ``random_state``;
- every result type is a frozen dataclass with its own ``__repr__``, ``_repr_html_`` and ``to_frame``,
  and one instance of each, built by a small call, renders as a DataFrame and as HTML;
- one concept, one parameter name: ``alpha`` (never ``confidence_level`` / ``level``), ``random_state``
  (never ``seed`` / ``rng``), ``n_jobs``, ``progress``; ``n_bootstrap`` / ``n_resamples`` split by pillar.

Deliberate exceptions are listed below, each with its reason.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import re

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

PACKAGES = ["workbench", "workbench.data", "workbench.resample", "workbench.ope", "workbench.active",
            "workbench.scale", "workbench.plotting", "workbench.validity", "workbench.results"]


def _public():
    """(qualified name, object) for every public name, first spelling of each object only."""
    seen, out = set(), []
    for pkg in PACKAGES:
        mod = importlib.import_module(pkg)
        for name in getattr(mod, "__all__", []):  # a missing __all__ fails its own test below
            obj = getattr(mod, name)
            if id(obj) in seen or inspect.ismodule(obj):
                continue
            seen.add(id(obj))
            out.append((f"{pkg}.{name}", obj))
    return out


PUBLIC = _public()
FUNCS_AND_CLASSES = [(n, o) for n, o in PUBLIC if inspect.isclass(o) or inspect.isfunction(o)]
CLASSES = [(n, o) for n, o in PUBLIC if inspect.isclass(o)]


def _methods(cls):
    """(name, object) for the public methods, properties, class- and staticmethods defined on ``cls``."""
    for name, attr in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(attr, (classmethod, staticmethod)):
            yield name, attr.__func__
        elif isinstance(attr, property) or inspect.isfunction(attr):
            yield name, attr


METHODS = [(f"{n}.{m}", f) for n, cls in CLASSES for m, f in _methods(cls)]


def _params(obj) -> set[str]:
    if isinstance(obj, property):
        return set()
    try:
        return set(inspect.signature(obj).parameters)
    except (TypeError, ValueError):  # exception classes have no introspectable signature
        return set()


# ------------------------------------------------------------------------------------------------
# the walk itself
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("pkg", PACKAGES)
def test_every_package_declares_its_public_names(pkg):
    mod = importlib.import_module(pkg)
    assert isinstance(getattr(mod, "__all__", None), list), f"{pkg} has no __all__"
    missing = [n for n in mod.__all__ if not hasattr(mod, n)]
    assert not missing, f"{pkg}.__all__ names what the module does not define: {missing}"
    assert len(set(mod.__all__)) == len(mod.__all__), f"{pkg}.__all__ has duplicates"


def test_the_walk_finds_the_api():
    # a guard on discovery: if the walk broke, every parametrised case below would silently vanish
    assert len(FUNCS_AND_CLASSES) >= 150 and len(METHODS) >= 100


# ------------------------------------------------------------------------------------------------
# docstrings
# ------------------------------------------------------------------------------------------------
EXAMPLES = re.compile(r"^Examples\n-{3,}\n", re.M)

@pytest.mark.parametrize("name, obj", FUNCS_AND_CLASSES, ids=[n for n, _ in FUNCS_AND_CLASSES])
def test_public_function_or_class_has_an_examples_section(name, obj):
    doc = inspect.getdoc(obj)
    assert doc, f"{name} has no docstring"
    assert EXAMPLES.search(doc), f"{name}'s docstring has no numpydoc 'Examples' section"


@pytest.mark.parametrize("name, func", METHODS, ids=[n for n, _ in METHODS])
def test_public_method_has_a_docstring(name, func):
    # inspect.getdoc lets an override inherit the docstring of the method it overrides (as Sphinx does):
    # an estimator's ``terms`` is documented once, on OffPolicyEstimator
    assert inspect.getdoc(func), f"{name} has no docstring"


# ------------------------------------------------------------------------------------------------
# randomness: whatever draws takes random_state
# ------------------------------------------------------------------------------------------------
RANDOM_PARAMS = {"n_bootstrap", "n_resamples", "n_draws", "n_sim", "seeds", "shuffle", "n_splits"}
RANDOM_WORDS = re.compile(r"\b(draw|draws|drawn|drawing|sample|samples|sampled|sampling|resample|resamples|"
                          r"resampled|resampling|shuffle|shuffles|shuffled|shuffling)\b", re.I)

# deliberate exceptions: (name) -> why it does not take random_state
NO_RANDOM_STATE = {
    # result containers record a finished run: their n_resamples / n_splits / n_bootstrap is a field, not a draw
    "workbench.resample.BootstrapResult": "a result: records n_resamples and the seed used",
    "workbench.resample.ModelComparison": "a result: records n_resamples and the seed used",
    "workbench.resample.ModelConfidenceSet": "a result: records n_resamples and the seed used",
    "workbench.resample.BootstrapErrorResult": "a result: records n_splits",
    "workbench.ope.OffPolicyCDF": "a result: records n_bootstrap; its replicates were drawn by off_policy_cdf",
    "workbench.ope.PolicyComparison": "a result: its summary says what compare_policies resampled",
    # the replicate-weight spec itself: it holds the concrete integer seed that hashed Poisson weights need
    # (a Generator could not be hashed per row); Resampling.make takes random_state and builds it
    "workbench.scale.Resampling": "holds the int seed of the hashed weights; Resampling.make takes random_state",
    # 'sample' / 'drawn' in these summaries is not a draw made by the call
    "workbench.data.PricingProblem": "a fixed problem; its coefficients are drawn by make(problem_seed=...)",
    "workbench.resample.temporal_scores": "'out-of-sample' losses; deterministic",
    "workbench.ope.weight_diagnostics": "'effective sample size'; deterministic",
    "workbench.active.labels_to_order_pair": "a design count for labels drawn by someone else; deterministic",
    # seeded otherwise, on purpose
    "workbench.data.PricingProblem.make": "the world's own seed, problem_seed, kept apart from the log's random_state",
    "workbench.resample.BootstrapSplit.split": "scikit-learn's splitter protocol: random_state is the splitter's",
}


def _draws(name, obj) -> bool:
    summary = (inspect.getdoc(obj) or "").split("\n\n")[0]
    # ":mod:`workbench.resample`" and the like name the subpackage, not a draw
    summary = re.sub(r"workbench\.\w+(\.\w+)*", "", summary)
    return bool(_params(obj) & RANDOM_PARAMS) or bool(RANDOM_WORDS.search(summary))


RANDOM_CALLABLES = [(n, o) for n, o in FUNCS_AND_CLASSES + METHODS if _draws(n, o)]


def test_the_random_walk_finds_the_random_functions():
    assert len(RANDOM_CALLABLES) >= 40


@pytest.mark.parametrize("name, obj", RANDOM_CALLABLES, ids=[n for n, _ in RANDOM_CALLABLES])
def test_random_functions_take_random_state(name, obj):
    if name in NO_RANDOM_STATE:
        assert "random_state" not in _params(obj), f"{name} takes random_state now: drop its exception"
        return
    assert "random_state" in _params(obj), f"{name} draws random numbers but takes no random_state"


def test_every_random_state_exception_is_still_needed():
    names = {n for n, _ in RANDOM_CALLABLES}
    assert not set(NO_RANDOM_STATE) - names, f"stale exceptions: {set(NO_RANDOM_STATE) - names}"


# ------------------------------------------------------------------------------------------------
# result types
# ------------------------------------------------------------------------------------------------
def _own_repr(cls) -> bool:
    """``__repr__`` written for the class: neither object's nor the one @dataclass generates (which prints
    every array in full); the generated one is compiled from a string, under a reprlib wrapper."""
    rep = vars(cls).get("__repr__")
    return rep is not None and inspect.unwrap(rep).__code__.co_filename != "<string>"


def _holds_arrays(cls) -> bool:
    return any(re.search(r"ndarray|DataFrame", str(f.type)) for f in dataclasses.fields(cls))


ARRAY_DATACLASSES = [(n, c) for n, c in CLASSES if dataclasses.is_dataclass(c) and _holds_arrays(c)]


@pytest.mark.parametrize("name, cls", ARRAY_DATACLASSES, ids=[n for n, _ in ARRAY_DATACLASSES])
def test_public_dataclass_holding_arrays_has_a_readable_repr(name, cls):
    # not only results: OPEInputs (from prepare_inputs) printed ~2,000 lines for a 1,000-row log
    assert _own_repr(cls), f"{name} holds arrays but prints with the generated dataclass repr"


RESULT_NAME = re.compile(r"(Result|Trace|Comparison|Benchmark)$")
RESULT_EXTRA = {"Estimate", "OffPolicyCDF", "ModelConfidenceSet"}
RESULT_TYPES = {n: o for n, o in CLASSES if RESULT_NAME.search(o.__name__) or o.__name__ in RESULT_EXTRA}


def _toy():
    from workbench.data import PredictionLog, simulate_bandit

    rng = np.random.default_rng(0)
    log = simulate_bandit(300, n_actions=3, random_state=0)[0]
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    probs = rng.dirichlet(np.ones(3), size=(4, 120))
    labels = rng.integers(0, 3, 120)
    return dict(log=log, X=X, y=y, probs=probs, labels=labels, losses=rng.random((50, 3)),
                scores=pd.DataFrame(rng.random((8, 3)), columns=["a", "b", "c"]), zoo=PredictionLog(probs, labels=labels))


def _builders():
    """A small call returning one instance of each result type."""
    from sklearn.dummy import DummyClassifier
    from sklearn.model_selection import GridSearchCV

    from workbench import active, ope, resample
    from workbench.data import simulate_bandit
    from workbench.results import Estimate

    t = _toy()
    uniform = ope.UniformPolicy()
    return {
        "Estimate": lambda: Estimate(0.5, 0.4, 0.6, 0.05, 0.05, "percentile", 100, "ips"),
        "BootstrapResult": lambda: resample.bootstrap_ci(t["losses"][:, 0], n_resamples=50, random_state=0),
        "ModelComparison": lambda: resample.compare_models(t["losses"], n_resamples=50, random_state=0),
        "ModelConfidenceSet": lambda: resample.model_confidence_set(t["losses"], n_resamples=50, random_state=0),
        "CVResult": lambda: resample.repeated_cv(DummyClassifier(), t["X"], t["y"], n_splits=2, n_repeats=1,
                                                 random_state=0),
        "NestedCVResult": lambda: resample.nested_cv(
            GridSearchCV(DummyClassifier(), {"strategy": ["prior", "uniform"]}, cv=2), t["X"], t["y"], outer_cv=2,
            random_state=0),
        "TestResult": lambda: resample.mcnemar_test(t["y"], t["y"], 1 - t["y"]),
        "BootstrapErrorResult": lambda: resample.bootstrap_error(DummyClassifier(), t["X"], t["y"], n_splits=5,
                                                                 random_state=0, progress=False),
        "RankTestResult": lambda: resample.friedman_test(t["scores"]),
        "OffPolicyCDF": lambda: ope.off_policy_cdf(t["log"], uniform, n_bootstrap=20),
        "SlopeResult": lambda: ope.slope_select(t["log"], uniform, ope.threshold_family("ips", [float("inf"), 5]),
                                                n_bootstrap=20),
        "PolicyComparison": lambda: ope.compare_policies(
            t["log"], {"uniform": uniform, "first": ope.DeterministicPolicy(np.zeros(300, int), 3)}, estimator="ips",
            n_bootstrap=20),
        "EstimatorBenchmark": lambda: ope.benchmark_estimators(
            lambda s: simulate_bandit(200, n_actions=3, random_state=s), uniform, ["ips"], n_replicates=2,
            n_bootstrap=20),
        "RiskTrace": lambda: active.estimate_risk(t["probs"][0], t["labels"], 10, method="lure", random_state=0),
        "SelectionTrace": lambda: active.select_model(t["probs"], t["labels"], 10, strategy="random", random_state=0),
        "SelectionBenchmark": lambda: active.benchmark_selection([("toy", t["zoo"])], ["random"], budgets=5, seeds=2),
    }


def test_every_result_type_has_a_builder():
    # a new result type must join the rendering checks below
    found = {o.__name__ for o in RESULT_TYPES.values()}
    assert found == set(_builders()), f"no builder for {found - set(_builders())}; stale: {set(_builders()) - found}"


@pytest.mark.parametrize("name", sorted(RESULT_TYPES), ids=sorted(RESULT_TYPES))
def test_result_type_is_a_frozen_dataclass_with_reprs(name):
    cls = RESULT_TYPES[name]
    assert dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen, f"{name} is not a frozen dataclass"
    assert _own_repr(cls), f"{name} has no __repr__ of its own"
    assert callable(getattr(cls, "_repr_html_", None)), f"{name} has no _repr_html_"
    assert callable(getattr(cls, "to_frame", None)), f"{name} has no to_frame"


@pytest.fixture(scope="module")
def results():
    import warnings

    with warnings.catch_warnings():  # toy sizes: interval and diagnostic warnings are expected and beside the point
        warnings.simplefilter("ignore")
        return {name: build() for name, build in _builders().items()}


@pytest.mark.parametrize("name", sorted(_builders()))
def test_result_instance_renders(results, name):
    r = results[name]
    assert type(r).__name__ == name
    frame = r.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) > 0, f"{name}.to_frame() is not a non-empty DataFrame"
    html = r._repr_html_()
    assert isinstance(html, str) and ("<table" in html or "<div" in html), f"{name}._repr_html_() is not HTML"
    first = r.to_frame()
    first[first.columns[0]] = "edited"  # a frozen result hands out a copy: editing it must not edit the result
    assert not (r.to_frame()[first.columns[0]].astype(str) == "edited").all(), f"{name}.to_frame() is not a copy"
    text = repr(r)
    assert text.startswith(name) or name in text.splitlines()[0], f"{name}'s repr does not say what it is"
    assert len(text) < 4000, f"{name}'s repr is {len(text)} characters: not readable"


# ------------------------------------------------------------------------------------------------
# one concept, one name
# ------------------------------------------------------------------------------------------------
ALL_SIGNATURES = [(n, _params(o)) for n, o in FUNCS_AND_CLASSES + METHODS]

# parameter names that spell a concept the package names otherwise
FORBIDDEN = {
    "confidence_level": "alpha", "confidence": "alpha", "conf_level": "alpha", "ci_level": "alpha",
    "seed": "random_state", "rng": "random_state", "random_seed": "random_state", "generator": "random_state",
    "verbose": "progress", "show_progress": "progress", "n_workers": "n_jobs", "n_cores": "n_jobs",
    "n_boot": "n_bootstrap / n_resamples", "n_bootstraps": "n_bootstrap / n_resamples",
    "n_bootstrap_samples": "n_bootstrap / n_resamples",
}
# ``level`` is allowed only where it is not an interval's miscoverage
LEVEL_ALLOWED = {
    "workbench.ope.OffPolicyCDF.cvar": "the tail share of the CVaR",
    "workbench.validity.mc_band": "the nominal rate whose Monte Carlo band is returned",
    "workbench.active.labels_to_order_pair": "the probability of ordering the pair correctly (a design target)",
    "workbench.plotting.identification_curve": "the identification probability the curve is read at",
}
SEED_ALLOWED = {  # results record the integer seed a run used; Resampling holds the int its hashes need
    "workbench.resample.BootstrapResult", "workbench.resample.ModelComparison", "workbench.resample.ModelConfidenceSet",
    "workbench.scale.Resampling",
}


@pytest.mark.parametrize("name, params", ALL_SIGNATURES, ids=[n for n, _ in ALL_SIGNATURES])
def test_parameter_names_are_the_package_names(name, params):
    bad = {p: FORBIDDEN[p] for p in params & set(FORBIDDEN) if not (p == "seed" and name in SEED_ALLOWED)}
    assert not bad, f"{name}: rename {bad} (the package's name for the concept)"
    if "level" in params:
        assert name in LEVEL_ALLOWED, f"{name} takes 'level': the package's miscoverage is 'alpha'"


# The replicate count has two names, by pillar: ``n_resamples`` where the package mirrors
# scipy.stats.bootstrap (workbench.resample and what forwards to it), ``n_bootstrap`` in off-policy
# evaluation (workbench.ope and what forwards to evaluate_policy). Renaming either would break users;
# this pins the rule so a new function picks its pillar's name.
N_RESAMPLES_ELSEWHERE = {"workbench.scale.bootstrap_loss_matrix", "workbench.scale.compare_models_tabular",
                         "workbench.validity.interval_coverage"}
N_BOOTSTRAP_ELSEWHERE = {"workbench.scale.evaluate_tabular", "workbench.validity.ope_interval_coverage"}


def test_replicate_count_name_follows_the_pillar():
    wrong = []
    for name, params in ALL_SIGNATURES:
        if "n_resamples" in params and not (name.startswith("workbench.resample.") or name in N_RESAMPLES_ELSEWHERE):
            wrong.append((name, "n_resamples"))
        if "n_bootstrap" in params and not (name.startswith("workbench.ope.") or name in N_BOOTSTRAP_ELSEWHERE):
            wrong.append((name, "n_bootstrap"))
        if {"n_resamples", "n_bootstrap"} <= params:
            wrong.append((name, "both"))
    assert not wrong, f"replicate-count name outside its pillar: {wrong}"


def test_intervals_are_set_by_alpha():
    # every public callable returning an interval takes alpha; spot-check by the interval knobs
    knobs = {"interval", "n_bootstrap", "n_resamples", "ci_method", "band"}
    missing = [n for n, p in ALL_SIGNATURES
               if p & knobs and "alpha" not in p and n not in NO_ALPHA]
    assert not missing, f"interval without alpha: {missing}"
    stale = [n for n in NO_ALPHA if not (dict(ALL_SIGNATURES)[n] & knobs) or "alpha" in dict(ALL_SIGNATURES)[n]]
    assert not stale, f"stale NO_ALPHA entries: {stale}"


NO_ALPHA = {
    "workbench.ope.slope_select": "SLOPE's own width constant c; alpha is not its knob",
}


def test_n_jobs_defaults_to_none_so_parallel_config_decides():
    # joblib reads a user's parallel_config(n_jobs=..., backend="dask") only when the call leaves n_jobs
    # to it: an explicit default of 1 (benchmark_estimators had one) pinned that function to one worker
    objs = dict(FUNCS_AND_CLASSES) | dict(METHODS)
    pinned = []
    for name, obj in objs.items():
        try:
            sig = inspect.signature(obj)
        except (TypeError, ValueError):
            continue
        p = sig.parameters.get("n_jobs")
        if p is not None and p.default is not None:
            pinned.append((name, p.default))
    assert not pinned, f"n_jobs default is not None: {pinned}"
