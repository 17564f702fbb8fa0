"""Comparing two learning ALGORITHMS from cross-validation scores.

Every test accepts either

* fold scores the user already has: arrays, or the dicts returned by
  :func:`sklearn.model_selection.cross_validate` (the ``test_score`` entry, or ``key=``), or
  :func:`scores_from_cv_results` applied to a search's ``cv_results_`` (never refit); or
* two :class:`~workbench.resample.CVResult` from :func:`~workbench.resample.repeated_cv` run with
  the same arguments and ``random_state`` for both algorithms (the split sizes come with them); or
* two unfitted estimators plus ``X, y``: the folds are then run here, on identical splits for
  both estimators (scikit-learn's splitters, not re-implemented). With the same ``random_state``
  these are the splits of :func:`~workbench.resample.repeated_cv` (``n_splits=2, n_repeats=5`` for
  the 5x2cv tests), so both routes give the same result. ``groups=`` (one id per row) keeps each
  group within one fold, as ``repeated_cv(groups=...)`` does, or goes to a group splitter given as
  ``cv`` (``GroupKFold``...); it is refused with fold scores, whose splits are already made.

The differences are always ``score_a - score_b`` (positive: A better for a score, worse for a loss).

Why the naive paired t-test on repeated CV is wrong: the J = k r fold differences share training
data, so they are positively correlated, and sigma^2 / J badly underestimates the variance of their
mean. Under a true null it rejects far more often than alpha (about 57% at alpha = 0.05 for 10x10
CV in our simulation). The 5x2cv tests and the Nadeau-Bengio correction keep the size near alpha.
"""
from __future__ import annotations

import numbers

import numpy as np
from joblib import delayed
from scipy import stats

from .._parallel import check_n_jobs, run_delayed
from .._random import seed_unseeded
from .._validation import (ValidationError, as_array, check_alpha, check_bool, check_finite, check_int, check_real,
                           check_same_index, check_unit_ids)
from ._result import TestResult
from .bootstrap import numeric_values
from .oob import check_single_scoring, check_xy

__all__ = ["cv_scores_two", "scores_from_cv_results", "paired_t_5x2cv", "f_test_5x2cv",
           "corrected_resampled_t_test", "bayesian_correlated_t_test"]


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------
def _is_estimator(obj) -> bool:
    return hasattr(obj, "fit") and hasattr(obj, "get_params")


def scores_from_cv_results(cv_results, candidate: int, metric: str = "score") -> np.ndarray:
    """Per-split test scores of one candidate from a search's ``cv_results_`` (no refit).

    Returns the values of ``split0_test_<metric>``, ``split1_test_<metric>``, ... in split order.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV, KFold
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.resample import corrected_resampled_t_test, scores_from_cv_results
    >>> X, y = load_iris(return_X_y=True)
    >>> cv = KFold(n_splits=5, shuffle=True, random_state=0)
    >>> search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3]}, cv=cv).fit(X, y)
    >>> deep = scores_from_cv_results(search.cv_results_, 1)     # candidate 1: max_depth=3
    >>> stump = scores_from_cv_results(search.cv_results_, 0)    # candidate 0: max_depth=1
    >>> deep.shape
    (5,)
    >>> bool(np.isclose(deep.mean(), search.cv_results_["mean_test_score"][1]))
    True

    Both candidates were scored on the same splits, so their scores can be compared directly:

    >>> r = corrected_resampled_t_test(deep, stump, n_train=120, n_test=30)
    >>> r.df, r.p_value < 0.05
    (4, True)
    """
    keys = []
    i = 0
    while f"split{i}_test_{metric}" in cv_results:
        keys.append(f"split{i}_test_{metric}")
        i += 1
    if not keys:
        raise ValidationError("cv_results", f"has no 'split0_test_{metric}' entry; keys: {sorted(cv_results)[:8]} ...")
    n_cand = len(cv_results[keys[0]])
    # an index into the candidates (negative counts from the end, as in numpy); 5 of 2 or 1.5 was an IndexError
    candidate = check_int(candidate, "candidate", low=-n_cand, high=n_cand - 1)
    return np.array([np.asarray(cv_results[k])[candidate] for k in keys], dtype=np.float64)


def _scores(obj, field: str, key: str | None) -> np.ndarray:
    if isinstance(obj, dict):
        k = key or "test_score"
        if k not in obj:
            tests = [c for c in obj if c.startswith("test_")]
            raise ValidationError(field, f"has no {k!r} entry; pass key= one of {tests}")
        obj = obj[k]
    return check_finite(as_array(numeric_values(obj, field), field, ndim=(1, 2)), field)


def _flat_pair(sa, sb):
    """The two score arrays flattened in the same (row-major) order, after checking that they pair fold by
    fold: two 2-D arrays of other shapes, e.g. (10, 3) against (3, 10), would pair unrelated folds."""
    if sa.ndim == 2 and sb.ndim == 2 and sa.shape != sb.shape:
        raise ValidationError("scores_b", f"must match scores_a fold by fold: shape {sb.shape} vs {sa.shape} (a "
                              "transposed array pairs unrelated folds)")
    sa, sb = sa.reshape(-1), sb.reshape(-1)
    if sa.shape != sb.shape:
        raise ValidationError("scores_b", f"must match scores_a fold by fold: {sb.size} scores vs {sa.size}")
    return sa, sb


def _rounding_tol(sa, sb) -> float:
    """Spread of score differences that is only floating-point rounding: differences of scores of
    size s are exact to about eps * s, so equal true differences (e.g. 0.83 - 0.76 and 0.91 - 0.84)
    can differ by ~1e-16. A variance built from such noise would give t ~ 1e15 and p ~ 1e-100."""
    scale = max(float(np.max(np.abs(sa), initial=0.0)), float(np.max(np.abs(sb), initial=0.0)))
    return 64.0 * np.finfo(np.float64).eps * scale


def _default_cv(estimator, n_splits, n_repeats, random_state, groups=None):
    """The splits :func:`workbench.resample.repeated_cv` makes with the same arguments and seed
    ((stratified) repeated k-fold), so its scores for two estimators feed these tests and give the
    same result as passing the estimators here."""
    from .cv import _cv_seed, _default_splitter

    return _default_splitter(estimator, n_splits, n_repeats, _cv_seed(random_state), groups)


def _fit_score(est_a, est_b, scorer, X, y, train, test, fit_params, split=None, n_splits=None):
    from sklearn.utils import _safe_indexing

    from .oob import fit_on_split, split_fit_params

    Xtr, Xte = _safe_indexing(X, train), _safe_indexing(X, test)
    ytr, yte = _safe_indexing(y, train), _safe_indexing(y, test)
    params = split_fit_params(fit_params, X, train)  # per-row values at the training rows, as repeated_cv
    out = []
    for which, est in (("estimator_a", est_a), ("estimator_b", est_b)):
        e = fit_on_split(est, Xtr, ytr, params, y, f"split {split} (of {n_splits}, numbered from 0), {which}")
        out.append(scorer(e, Xte, yte))
    return out


def cv_scores_two(estimator_a, estimator_b, X, y, *, cv, scoring=None, n_jobs=None, fit_params=None, groups=None,
                  progress: bool = True, random_state=None):
    """Fit both estimators on identical splits; returns (scores_a, scores_b, n_train, n_test).

    ``cv`` is a scikit-learn splitter, an int (k folds) or an iterable of (train, test) index pairs.
    ``groups`` (one id per row) goes to the splitter's ``split`` (e.g. ``GroupKFold``); with an int
    ``cv`` it keeps each group within one fold (``StratifiedGroupKFold`` for a classifier,
    ``GroupKFold`` otherwise), since the plain k-fold splitters would ignore it.
    ``n_train`` and ``n_test`` are the mean training and test sizes over the splits (floats).
    ``scoring=None`` scores each model with its own ``score`` (accuracy, R^2, a search's scoring):
    two models whose own scores are different metrics are refused (pass ``scoring=``).
    ``progress=False`` hides the bar over the fits (the tests below pass theirs on).
    ``random_state`` seeds a copy of a model whose own ``random_state`` is None (a random forest, also
    inside a pipeline or search), as :func:`~workbench.resample.repeated_cv` does: the same
    ``random_state`` gives the same scores, and numpy's global state is never drawn from (None: fresh
    seeds on every call, as everywhere). A model seeded by the user is used as given; the splits are
    ``cv``'s own.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.resample import corrected_resampled_t_test, cv_scores_two
    >>> X, y = load_iris(return_X_y=True)
    >>> tree = DecisionTreeClassifier(max_depth=3, random_state=0)
    >>> stump = DecisionTreeClassifier(max_depth=1, random_state=0)
    >>> sa, sb, n_train, n_test = cv_scores_two(tree, stump, X, y, cv=5)   # 5 stratified folds
    >>> sa.shape, sb.shape, n_train, n_test
    ((5,), (5,), 120.0, 30.0)
    >>> bool((sa > sb).all())
    True
    >>> r = corrected_resampled_t_test(sa, sb, test_train_ratio=n_test / n_train)
    >>> round(r.effect, 3), r.p_value < 0.05
    (0.293, True)
    """
    from sklearn.base import is_classifier
    from sklearn.metrics import check_scoring
    from sklearn.model_selection import check_cv

    from .cv import check_cv_arg, check_same_default_score  # (cv imports this module)
    from .oob import check_estimator

    check_estimator(estimator_a, "estimator_a")  # a string was scikit-learn's AttributeError '__sklearn_tags__'
    check_estimator(estimator_b, "estimator_b")
    check_xy(X, y, groups, [estimator_a, estimator_b])
    progress = check_bool(progress, "progress")  # "no" is truthy
    n_jobs = check_n_jobs(n_jobs)
    cv = check_cv_arg(cv, len(y))  # cv=1 and cv="x" were scikit-learn's messages, naming no argument
    # unseeded randomised models seeded from random_state (read, not drawn), as repeated_cv seeds them: they
    # drew from numpy's global state, and the same call gave other scores
    estimator_a, estimator_b = seed_unseeded(estimator_a, random_state), seed_unseeded(estimator_b, random_state)
    scorer_a = check_scoring(estimator_a, scoring=check_single_scoring(scoring))  # before any fit
    # scoring=None is each model's own score() (scorer_a passes through to it): the same metric for both?
    check_same_default_score([("estimator_a", estimator_a), ("estimator_b", estimator_b)], scoring)
    if groups is not None:
        groups = check_unit_ids(groups, "groups", len(y), ref="sample")  # the package's one id rule
        if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
            from sklearn.model_selection import GroupKFold, StratifiedGroupKFold

            cv = (StratifiedGroupKFold if is_classifier(estimator_a) else GroupKFold)(n_splits=int(cv))
    # an int means k folds (stratified for classifiers), as in scikit-learn; iterables of splits are kept
    splits = list(check_cv(cv, y, classifier=is_classifier(estimator_a)).split(X, y, groups))
    if len(splits) < 2:
        raise ValidationError("cv", f"needs at least 2 splits, got {len(splits)}")
    res = run_delayed((delayed(_fit_score)(estimator_a, estimator_b, scorer_a, X, y, tr, te, fit_params, i,
                                           len(splits))
                       for i, (tr, te) in enumerate(splits)), n_jobs=n_jobs, progress=progress, desc="CV fits")
    res = np.asarray(res, dtype=np.float64)
    n_train = float(np.mean([len(tr) for tr, _ in splits]))
    n_test = float(np.mean([len(te) for _, te in splits]))
    return res[:, 0], res[:, 1], n_train, n_test


def _five_two_splits(estimator, X, y, random_state, groups=None):
    # five replications of 2-fold CV: the splits of repeated_cv(n_splits=2, n_repeats=5) with this seed
    return list(_default_cv(estimator, 2, 5, random_state, groups).split(X, y, groups))


def _cv_results(a, b):
    """Two :class:`workbench.resample.CVResult` (from :func:`repeated_cv`) -> (scores_a, scores_b,
    n_train, n_test); anything else passes through with sizes None."""
    from .cv import CVResult

    ra, rb = isinstance(a, CVResult), isinstance(b, CVResult)
    if not (ra or rb):
        return a, b, None, None
    if not (ra and rb):
        raise ValidationError("scores_b" if ra else "scores_a", "pass two CVResults (repeated_cv with the same "
                              "splits and seed for both estimators), or fold scores for both")
    if a.scores.shape != b.scores.shape or a.n_train != b.n_train or a.n_test != b.n_test:
        raise ValidationError("scores_b", f"comes from other splits than scores_a: {a.scores.shape} scores, "
                              f"n_train {a.n_train:g}, n_test {a.n_test:g} vs {b.scores.shape}, {b.n_train:g}, "
                              f"{b.n_test:g}; run repeated_cv with the same arguments and random_state for both")
    if a.scoring != b.scoring:
        raise ValidationError("scores_b", f"uses scoring {b.scoring!r}, scores_a {a.scoring!r}")
    da, db = a.diagnostics.get("default_score"), b.diagnostics.get("default_score")
    if da is not None and db is not None and da != db:  # both "score", but each model's own: other metrics
        raise ValidationError("scores_b", f"is scored by its model's own score(), {db!r}, and scores_a by {da!r}: "
                                          "the test would set one metric against another",
                              hint="run repeated_cv with the same scoring= for both")
    ka, kb = a.diagnostics.get("splits_key"), b.diagnostics.get("splits_key")
    if ka is not None and kb is not None and ka != kb:  # (a CVResult made by hand has no key: not checked)
        # same shape and sizes, other rows in the folds: the differences would pair unrelated folds
        raise ValidationError("scores_b", "comes from other splits than scores_a: the folds have the same shape and "
                              "sizes but hold other rows (another random_state, groups or cv); run repeated_cv with "
                              "the same arguments and random_state for both")
    return a.scores, b.scores, a.n_train, a.n_test


def _refuse_run_arguments(run_only):
    """Arguments that only shape folds run here, given with scores already computed: they would change nothing,
    silently (a scoring, cv, X or fit_params the user believed applied). Refused as ``groups`` is."""
    for name, value in (run_only or {}).items():
        if value is not None:
            raise ValidationError(name, "applies when the folds are run here (two estimators with X and y); fold "
                                        "scores were computed on splits already made, so it would change nothing")


def _pair(a, b, X, y, *, key, scoring, n_jobs, cv_maker, fit_params, groups=None, progress=True, run_only=None):
    """(scores_a, scores_b, n_train, n_test) from scores, from two CVResults or by running folds.
    ``run_only``: {name: value or None} of the caller's other fold-running arguments (None: not given)."""
    run_only = {"X": X, "y": y, "scoring": scoring, "fit_params": fit_params, **(run_only or {})}
    a, b, ntr_cv, nte_cv = _cv_results(a, b)
    if ntr_cv is not None:
        _refuse_run_arguments(run_only)
        sa, sb = _flat_pair(_scores(a, "scores_a", None), _scores(b, "scores_b", None))
        return sa, sb, ntr_cv, nte_cv
    if _is_estimator(a) or _is_estimator(b):
        if not (_is_estimator(a) and _is_estimator(b)):
            raise ValidationError("estimators", "pass two estimators, or two arrays of fold scores")
        if X is None or y is None:
            raise ValidationError("X", "X and y are needed to run the folds")
        check_xy(X, y, groups, [a, b])  # before the default splits are made from X and y
        sa, sb, ntr, nte = cv_scores_two(a, b, X, y, cv=cv_maker(a, y), scoring=scoring, n_jobs=n_jobs,
                                         fit_params=fit_params, groups=groups, progress=progress)
        return sa, sb, ntr, nte
    if groups is not None:
        raise ValidationError("groups", "applies when the folds are run here (two estimators with X and y); fold "
                              "scores were computed on splits already made")
    _refuse_run_arguments(run_only)
    check_same_index([("scores_a", a), ("scores_b", b)])  # two Series of fold scores are paired by position
    sa, sb = _flat_pair(_scores(a, "scores_a", key), _scores(b, "scores_b", key))
    return sa, sb, None, None


# --------------------------------------------------------------------------------------------
# 5x2cv tests
# --------------------------------------------------------------------------------------------
def _checked_five_two_cv(cv, estimator, X, y, groups):
    """A user's ``cv`` for the 5x2cv tests, as its list of splits, after checking that they are five
    replications of two complementary halves (each fold's test rows are the other fold's training rows).
    The tests' variance estimate s_i^2 rests on that pairing; ``cv=10`` ran 10-fold CV and reported a
    "5x2cv" t of -11 silently."""
    from .cv import _user_cv

    splits = list(_user_cv(cv, y, estimator, groups).split(X, y, groups))
    if len(splits) != 10:
        raise ValidationError("cv", f"5x2cv needs 10 splits (5 replications x 2 folds), got {len(splits)}")
    n = len(y)
    for r in range(5):
        (tr1, te1), (tr2, te2) = splits[2 * r], splits[2 * r + 1]
        halves = (np.array_equal(np.sort(te1), np.sort(tr2)) and np.array_equal(np.sort(te2), np.sort(tr1))
                  and len(te1) + len(te2) == n)
        if not halves:
            raise ValidationError("cv", f"must give 5 replications of 2-fold CV in order (rep1-fold1, rep1-fold2, "
                                        f"...): splits {2 * r} and {2 * r + 1} are not two complementary halves of "
                                        f"the {n} rows", hint="use e.g. RepeatedStratifiedKFold(n_splits=2, "
                                                              "n_repeats=5), or leave cv=None")
    return splits


def _five_two(a, b, X, y, scoring, random_state, cv, key, n_jobs, fit_params, groups=None, progress=True):
    if cv is not None and _is_estimator(a) and X is not None and y is not None:
        check_xy(X, y, groups, [a, b])
        cv = _checked_five_two_cv(cv, a, X, y, groups)
    maker = (lambda est, yy: cv) if cv is not None else (
        lambda est, yy: _five_two_splits(est, X, yy, random_state, groups))
    # unseeded randomised models seeded from random_state (read, not drawn): same random_state, same test, and
    # the same fits as repeated_cv with that random_state gives each (the two routes agree)
    a, b = seed_unseeded(a, random_state), seed_unseeded(b, random_state)
    sa, sb, _, _ = _pair(a, b, X, y, key=key, scoring=scoring, n_jobs=n_jobs, cv_maker=maker, fit_params=fit_params,
                         run_only={"cv": cv},
                         groups=groups, progress=progress)
    if sa.size != 10:
        raise ValidationError("scores", f"5x2cv needs 10 fold scores (5 replications x 2 folds, in order "
                              f"rep1-fold1, rep1-fold2, ...), got {sa.size}")
    from .cv import CVResult

    for obj, name in ((a, "scores_a"), (b, "scores_b")):
        obj = obj.scores if isinstance(obj, CVResult) else obj  # (n_repeats, n_splits): (5, 2) for 5x2 CV
        shape = np.shape(obj.get(key or "test_score") if isinstance(obj, dict) else obj)
        # a (2, 5) array (folds x replications) would be read in the wrong order, silently
        if not _is_estimator(obj) and len(shape) == 2 and shape != (5, 2):
            raise ValidationError(name, f"must be 10 scores of shape (10,) or (5, 2) (replication x fold), got "
                                  f"shape {shape}")
    p = (sa - sb).reshape(5, 2)
    s2 = ((p - p.mean(axis=1, keepdims=True)) ** 2).sum(axis=1)
    if np.max(np.abs(p[:, 0] - p[:, 1])) <= _rounding_tol(sa, sb):
        s2 = np.zeros(5)  # equal differences up to rounding: zero variance, not 1e-33
    return p, s2, sa.reshape(5, 2), sb.reshape(5, 2)


def paired_t_5x2cv(a, b, X=None, y=None, *, scoring=None, random_state=None, cv=None, key: str | None = None,
                   n_jobs=None, fit_params=None, alpha: float = 0.05, groups=None,
                   progress: bool = True) -> TestResult:
    """Dietterich's (1998) 5x2cv paired t-test of equal expected performance of two algorithms.

    t = p_1^(1) / sqrt(sum_i s_i^2 / 5) ~ t_5, where p_i^(j) is the score difference on fold j of
    replication i and s_i^2 = sum_j (p_i^(j) - mean_j p_i^(j))^2. Only the FIRST difference enters
    the numerator (Dietterich's definition; the test is valid but uses the data inefficiently; see
    :func:`f_test_5x2cv`, which uses all ten).

    Parameters
    ----------
    a, b : estimators, or 10 fold scores each (arrays (10,) / (5, 2), or ``cross_validate`` dicts)
        Scores must be ordered replication by replication, fold 1 then fold 2.
    X, y : data, needed only when ``a`` and ``b`` are estimators.
    scoring : scikit-learn scoring (default: the estimator's ``score``: accuracy / R^2).
    random_state : seeds the 5 two-fold splits (stratified for classifiers): the splits of
        ``repeated_cv(estimator, X, y, n_splits=2, n_repeats=5, random_state=random_state)``.
    cv : optional list of 10 (train, test) pairs to use instead (e.g. another tool's splits).
    progress : show a progress bar over the fits (when ``a`` and ``b`` are estimators).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import paired_t_5x2cv
    >>> a = [0.81, 0.80, 0.83, 0.79, 0.82, 0.80, 0.81, 0.82, 0.80, 0.79]
    >>> b = [0.78, 0.79, 0.80, 0.78, 0.80, 0.77, 0.79, 0.81, 0.78, 0.78]
    >>> round(paired_t_5x2cv(a, b).statistic, 4)
    2.8604
    """
    alpha = check_alpha(alpha)
    p, s2, sa, sb = _five_two(a, b, X, y, scoring, random_state, cv, key, n_jobs, fit_params, groups,
                              check_bool(progress, "progress"))
    denom = np.sqrt(s2.sum() / 5.0)
    if denom == 0:
        raise ValidationError("scores", "the fold differences have zero variance within every replication; "
                              "the 5x2cv t statistic is undefined")
    t = p[0, 0] / denom
    pval = 2 * stats.t.sf(abs(t), 5)
    return TestResult("5x2cv paired t", float(t), float(pval), 5, effect=float(p.mean()), alpha=alpha,
                      details={"differences": p, "scores_a": sa, "scores_b": sb, "s2": s2})


def f_test_5x2cv(a, b, X=None, y=None, *, scoring=None, random_state=None, cv=None, key: str | None = None,
                 n_jobs=None, fit_params=None, alpha: float = 0.05, groups=None,
                 progress: bool = True) -> TestResult:
    """Alpaydin's (1999) combined 5x2cv F-test: F = sum_ij p_ij^2 / (2 sum_i s_i^2) ~ F(10, 5).

    Same inputs as :func:`paired_t_5x2cv`. Uses all ten differences, so it does not depend on which
    fold comes first; Alpaydin found lower type-I error and higher power than the 5x2cv t-test.

    Examples
    --------
    >>> from workbench.resample import f_test_5x2cv
    >>> a = [0.81, 0.80, 0.83, 0.79, 0.82, 0.80, 0.81, 0.82, 0.80, 0.79]   # rep 1 fold 1, rep 1 fold 2, ...
    >>> b = [0.78, 0.79, 0.80, 0.78, 0.80, 0.77, 0.79, 0.81, 0.78, 0.78]
    >>> r = f_test_5x2cv(a, b)
    >>> round(r.statistic, 3), round(r.p_value, 3), r.df
    (3.909, 0.073, (10, 5))

    With two estimators the five 2-fold splits are run here (stratified for classifiers):

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X, y = load_iris(return_X_y=True)
    >>> r = f_test_5x2cv(DecisionTreeClassifier(max_depth=3, random_state=0),
    ...                  DecisionTreeClassifier(max_depth=1, random_state=0), X, y, random_state=0)
    >>> r.details["differences"].shape, r.p_value < 0.05
    ((5, 2), True)
    """
    alpha = check_alpha(alpha)
    p, s2, sa, sb = _five_two(a, b, X, y, scoring, random_state, cv, key, n_jobs, fit_params, groups,
                              check_bool(progress, "progress"))
    if s2.sum() == 0:
        raise ValidationError("scores", "the fold differences have zero variance within every replication; "
                              "the 5x2cv F statistic is undefined")
    F = (p**2).sum() / (2.0 * s2.sum())
    pval = stats.f.sf(F, 10, 5)
    return TestResult("5x2cv combined F", float(F), float(pval), (10, 5), effect=float(p.mean()), alpha=alpha,
                      details={"differences": p, "scores_a": sa, "scores_b": sb, "s2": s2})


# --------------------------------------------------------------------------------------------
# Repeated-CV tests: Nadeau-Bengio and the Bayesian correlated t-test
# --------------------------------------------------------------------------------------------
def _check_size(v, name) -> float:
    """A training or test size: a positive number of rows, or a mean over splits of unequal size
    (cv_scores_two returns those, e.g. 112.5 for 4 folds of 150 rows)."""
    v = check_real(v, name)
    if not v > 0:
        raise ValidationError(name, f"must be > 0, got {v}")
    return v


def _check_size_arguments(n_train, n_test, other, other_name, known, ntr_run, nte_run):
    """Refuse size arguments that would be silently dropped: ``other`` (test_train_ratio or rho) together
    with n_train / n_test, one of n_train / n_test alone, or any of them disagreeing with the sizes the
    folds had (``known``: (value of other implied by the sizes), when the folds were run here or come
    from two CVResults)."""
    if other is not None and (n_train is not None or n_test is not None):
        raise ValidationError(other_name, f"pass {other_name}, or n_train and n_test, not both (one would be "
                              "ignored)")
    if (n_train is None) != (n_test is None):
        missing = "n_test" if n_test is None else "n_train"
        raise ValidationError(missing, "pass n_train and n_test together (the correction uses their ratio)")
    if ntr_run is None:
        return
    where = f"the folds' own sizes (n_train {ntr_run:g}, n_test {nte_run:g})"
    if n_train is not None:
        n_train, n_test = _check_size(n_train, "n_train"), _check_size(n_test, "n_test")
        if not (np.isclose(n_train, ntr_run) and np.isclose(n_test, nte_run)):
            raise ValidationError("n_train", f"n_train {n_train:g}, n_test {n_test:g} disagree with {where}; leave "
                                  "them out (they are known), or pass fold scores as arrays to use other sizes")
    if other is not None:
        v = check_real(other, other_name)
        if not np.isclose(v, known):
            raise ValidationError(other_name, f"{v:g} disagrees with {known:g} from {where}; leave it out (it is "
                                  "known), or pass fold scores as arrays to use another value")


def _test_train_ratio(n_train, n_test, test_train_ratio, ntr_run, nte_run):
    _check_size_arguments(n_train, n_test, test_train_ratio, "test_train_ratio",
                          None if ntr_run is None else nte_run / ntr_run, ntr_run, nte_run)
    if test_train_ratio is not None:
        r = check_real(test_train_ratio, "test_train_ratio")  # finite; a string "0.1" is not parsed
    elif n_train is not None and n_test is not None:
        n_train = _check_size(n_train, "n_train")
        r = _check_size(n_test, "n_test") / n_train
    elif ntr_run is not None:
        r = nte_run / ntr_run
    else:
        raise ValidationError("n_train", "with fold scores, pass n_train and n_test (or test_train_ratio): the "
                              "correction needs the test/train size ratio")
    if not r > 0:
        raise ValidationError("test_train_ratio", f"must be positive, got {r}")
    return r


def _repeated_pair(a, b, X, y, *, cv, n_splits, n_repeats, random_state, key, scoring, n_jobs, fit_params,
                   groups=None, progress=True):
    def maker(est, yy):
        if cv is not None:
            return cv
        return _default_cv(est, n_splits, n_repeats, random_state, groups)

    a, b = seed_unseeded(a, random_state), seed_unseeded(b, random_state)  # as in _five_two
    # n_splits / n_repeats: flagged only when not the default (10), the one value that cannot be told apart
    sa, sb, ntr, nte = _pair(a, b, X, y, key=key, scoring=scoring, n_jobs=n_jobs, cv_maker=maker,
                             fit_params=fit_params, groups=groups, progress=progress,
                             run_only={"cv": cv, "n_splits": None if n_splits == 10 else n_splits,
                                       "n_repeats": None if n_repeats == 10 else n_repeats})
    d = sa - sb
    if d.size < 2:
        raise ValidationError("scores", f"needs at least 2 fold differences, got {d.size}")
    return d, sa, sb, ntr, nte


def corrected_resampled_t_test(a, b, X=None, y=None, *, n_train=None, n_test=None, test_train_ratio=None,
                               corrected: bool = True, cv=None, n_splits: int = 10, n_repeats: int = 10,
                               scoring=None, random_state=None, key: str | None = None, n_jobs=None,
                               fit_params=None, alpha: float = 0.05, groups=None,
                               progress: bool = True) -> TestResult:
    """Nadeau & Bengio's (2003) corrected resampled t-test on J = k r fold differences.

    t = mean(d) / sqrt((1/J + n_test/n_train) s^2), df = J - 1, with s^2 the sample variance of
    the differences. The n_test/n_train term accounts for the overlap of training sets; without it
    (``corrected=False``, the naive test, for demonstrations only) the test rejects a true null far
    too often. The interval mean(d) +- t_{J-1} se is for the expected difference of the two
    algorithms trained on n_train rows.

    Parameters
    ----------
    a, b : estimators, fold scores (arrays or ``cross_validate`` dicts) on the same splits, or two
        ``CVResult`` of :func:`repeated_cv` (same arguments and seed; their sizes are used).
    n_train, n_test or test_train_ratio : needed with fold scores (sizes of one split).
    cv : scikit-learn splitter (default: (Stratified) RepeatedKFold(n_splits, n_repeats), seeded
        as :func:`repeated_cv` seeds it: the same splits for the same ``random_state``).
    progress : show a progress bar over the fits (when ``a`` and ``b`` are estimators).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import corrected_resampled_t_test
    >>> rng = np.random.default_rng(0)
    >>> d = rng.normal(0.01, 0.02, 100)
    >>> r = corrected_resampled_t_test(d, np.zeros(100), n_train=90, n_test=10)
    >>> r.df
    99
    """
    alpha = check_alpha(alpha)
    corrected = check_bool(corrected, "corrected")  # "no" is truthy
    if not corrected:  # checked before any fit
        given = [name for name, v in (("n_train", n_train), ("n_test", n_test), ("test_train_ratio", test_train_ratio))
                 if v is not None]
        if given:  # the naive test has no correction to apply them to: they would be dropped silently
            raise ValidationError(given[0], f"applies to the corrected test only; corrected=False ignores "
                                            f"{', '.join(given)} (leave them out)")
    d, sa, sb, ntr, nte = _repeated_pair(a, b, X, y, cv=cv, n_splits=n_splits, n_repeats=n_repeats,
                                         random_state=random_state, key=key, scoring=scoring, n_jobs=n_jobs,
                                         fit_params=fit_params, groups=groups,
                                         progress=check_bool(progress, "progress"))
    J = d.size
    ratio = _test_train_ratio(n_train, n_test, test_train_ratio, ntr, nte) if corrected else 0.0
    var = d.var(ddof=1) if np.ptp(d) > _rounding_tol(sa, sb) else 0.0
    se = np.sqrt((1.0 / J + ratio) * var)
    mean = d.mean()
    if se == 0:
        raise ValidationError("scores", "all fold differences are equal; the t statistic is undefined")
    t = mean / se
    pval = 2 * stats.t.sf(abs(t), J - 1)
    q = stats.t.ppf(1 - alpha / 2, J - 1)
    name = "corrected resampled t (Nadeau-Bengio)" if corrected else "naive resampled t (invalid: ignores overlap)"
    return TestResult(name, float(t), float(pval), J - 1, effect=float(mean), ci_low=float(mean - q * se),
                      ci_high=float(mean + q * se), alpha=alpha,
                      details={"J": J, "test_train_ratio": ratio, "se": float(se), "differences": d})


def bayesian_correlated_t_test(a, b, X=None, y=None, *, rope: float = 0.01, rho=None, n_train=None, n_test=None,
                               cv=None, n_splits: int = 10, n_repeats: int = 10, scoring=None, random_state=None,
                               key: str | None = None, n_jobs=None, fit_params=None,
                               alpha: float = 0.05, groups=None, progress: bool = True) -> TestResult:
    """Bayesian correlated t-test with a region of practical equivalence (Benavoli et al. 2017).

    The posterior of the expected difference mu (A minus B) is a Student t with J - 1 degrees of
    freedom, location mean(d) and scale sqrt((1/J + rho/(1 - rho)) s^2), where rho = n_test / n
    is the correlation between fold differences (Corani & Benavoli 2015; for k-fold CV rho = 1/k).
    Reports P(mu < -rope) ("b better" for scores), P(|mu| <= rope) ("practically equivalent") and
    P(mu > rope) ("a better"). ``p_value`` is NaN: this is not a frequentist test. ``ci_low`` /
    ``ci_high`` is the equal-tailed (1 - alpha) credible interval. Inputs (estimators, fold
    scores, two ``CVResult``) and the default splits are those of :func:`corrected_resampled_t_test`.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import bayesian_correlated_t_test
    >>> d = np.random.default_rng(0).normal(0.03, 0.02, 100)
    >>> r = bayesian_correlated_t_test(d, np.zeros(100), rho=0.1, rope=0.01)
    >>> r.details["p_right"] > 0.9
    True
    """
    alpha = check_alpha(alpha)
    # not float(), which parsed the string "0.01" (and [0.1] was a bare TypeError); inf is a legal rope
    rope = check_real(rope, "rope", low=0.0, allow_inf=True)
    d, sa, sb, ntr, nte = _repeated_pair(a, b, X, y, cv=cv, n_splits=n_splits, n_repeats=n_repeats,
                                         random_state=random_state, key=key, scoring=scoring, n_jobs=n_jobs,
                                         fit_params=fit_params, groups=groups,
                                         progress=check_bool(progress, "progress"))
    J = d.size
    _check_size_arguments(n_train, n_test, rho, "rho", None if ntr is None else nte / (nte + ntr), ntr, nte)
    if rho is None:
        if n_train is not None and n_test is not None:
            n_train, n_test = _check_size(n_train, "n_train"), _check_size(n_test, "n_test")
            rho = n_test / (n_test + n_train)
        elif ntr is not None:
            rho = nte / (nte + ntr)
        else:
            raise ValidationError("rho", "with fold scores, pass rho (= n_test / n, 1/k for k-fold) or n_train and n_test")
    rho = check_real(rho, "rho")
    if not 0 <= rho < 1:
        raise ValidationError("rho", f"must be in [0, 1), got {rho}")
    mean = d.mean()
    var = d.var(ddof=1) if np.ptp(d) > _rounding_tol(sa, sb) else 0.0
    scale = np.sqrt((1.0 / J + rho / (1.0 - rho)) * var)
    if scale == 0:  # all differences equal: the posterior is a point mass at the mean
        p_left, p_right = float(mean < -rope), float(mean > rope)
        lo = hi = float(mean)
    else:
        post = stats.t(J - 1, loc=mean, scale=scale)
        p_left, p_right = float(post.cdf(-rope)), float(post.sf(rope))
        lo, hi = (float(v) for v in post.ppf([alpha / 2, 1 - alpha / 2]))
    p_rope = max(0.0, 1.0 - p_left - p_right)
    return TestResult("Bayesian correlated t", float(mean / scale) if scale > 0 else float("nan"), float("nan"),
                      J - 1, effect=float(mean), ci_low=lo, ci_high=hi, alpha=alpha,
                      details={"p_left": p_left, "p_rope": p_rope, "p_right": p_right, "rope": rope, "rho": rho,
                               "scale": float(scale), "differences": d})
