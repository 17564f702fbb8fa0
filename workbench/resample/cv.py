"""Thin, honest helpers on scikit-learn's cross-validation (splitters are scikit-learn's own).

What each interval estimates (Bates, Hastie & Tibshirani 2023):

* Err_XY: the prediction error of THE model fitted to the data at hand;
* Err: the average of Err_XY over training sets of the same size from the same population;
* CV point estimates track Err (averaged over training sets of size n (K-1)/K) better than Err_XY.

``repeated_cv`` reports the Nadeau-Bengio corrected interval for the algorithm's expected score
(Err at the training-set size) and, next to it, the naive interval that treats fold scores as
independent (too narrow). ``ncv_interval`` is the nested-CV interval of Bates et al. for the
prediction error, next to the naive CV interval. ``nested_cv`` gives an honest outer estimate of
a whole selection procedure (e.g. a ``GridSearchCV``), and ``learning_curve_ci`` intervals per
training-set size.
"""
from __future__ import annotations

import math
import numbers
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from joblib import delayed
from scipy import special, stats

from ..results import FrameFieldsCopied
from .._engine import unit_index
from .._parallel import check_n_jobs, run_delayed
from .._random import check_random_state, seed_key, seed_unseeded
from .._validation import (ValidationError, as_array, check_alpha, check_bool, check_finite, check_int,
                           check_unit_ids, raise_if_any)
from ._result import _frames_html, _frames_repr
from .oob import (_pointwise, _resolve_loss, check_estimator, check_single_scoring, check_xy, fit_on_split,
                  split_fit_params)

__all__ = ["CVResult", "repeated_cv", "NestedCVResult", "nested_cv", "ncv_interval", "learning_curve_ci"]


def _cv_seed(random_state):
    # scikit-learn takes seeds in [0, 2**32). A key below that is used as is (an int seed keeps its splits);
    # a larger one is hashed into the range: modulo 2**32 gave seeds 0 and 2**32 the same splits (and modulo
    # 2**32 - 1, before, 2**32 - 1 and 0)
    key = seed_key(random_state)
    return key if key < 2**32 else int(np.random.SeedSequence(key).generate_state(1)[0])


def _splitter(estimator, n_splits, n_repeats, seed):
    from sklearn.base import is_classifier
    from sklearn.model_selection import KFold, RepeatedKFold, RepeatedStratifiedKFold, StratifiedKFold

    if n_repeats == 1:
        return (StratifiedKFold if is_classifier(estimator) else KFold)(n_splits=n_splits, shuffle=True,
                                                                        random_state=seed)
    cls = RepeatedStratifiedKFold if is_classifier(estimator) else RepeatedKFold
    return cls(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)


class _RepeatedGroupKFold:
    """Repeated k-fold that keeps every group in one fold (scikit-learn has no repeated group splitter):
    per repeat, ``StratifiedGroupKFold`` (shuffled) for classifiers, else the groups in random order
    dealt round-robin to the folds."""

    def __init__(self, n_splits, n_repeats, seed, classifier):
        self.n_splits, self.n_repeats, self.seed, self.classifier = n_splits, n_repeats, seed, classifier

    def split(self, X, y, groups):
        from sklearn.model_selection import StratifiedGroupKFold

        codes, n_groups = unit_index(check_unit_ids(groups, "groups", len(y), ref="sample"))  # the package's one id rule
        if n_groups < self.n_splits:
            raise ValidationError("groups", f"has {n_groups} distinct groups, fewer than n_splits={self.n_splits}")
        # one independent seed per (seed, repeat): seed + r made repeat r of seed s the repeat r - 1 of seed s + 1,
        # so studies looping over consecutive seeds shared splits
        rep_seeds = np.random.SeedSequence(int(self.seed)).generate_state(self.n_repeats)
        for r in range(self.n_repeats):
            seed = int(rep_seeds[r])
            if self.classifier:
                yield from StratifiedGroupKFold(self.n_splits, shuffle=True, random_state=seed).split(X, y, codes)
            else:
                fold_of_group = np.empty(n_groups, np.int64)
                fold_of_group[np.random.default_rng(seed).permutation(n_groups)] = np.arange(n_groups) % self.n_splits
                fold = fold_of_group[codes]
                for f in range(self.n_splits):
                    yield np.flatnonzero(fold != f), np.flatnonzero(fold == f)


def _check_folds(n_splits, n_repeats, y, stratified: bool = False):
    """The package's integer rule for the default splitter's sizes (3.0 is 3; 2.5, "3" and True are refused),
    with a ValidationError where scikit-learn raised a bare ValueError, or later, deep in the splitting.
    ``stratified``: the default splitter stratifies (a classifier without groups), and then needs a class with
    at least ``n_splits`` members (scikit-learn's StratifiedKFold raised a bare ValueError; with only some
    classes smaller it warns, and that warning is left as it is)."""
    n_splits = check_int(n_splits, "n_splits", low=2)
    n_repeats = check_int(n_repeats, "n_repeats", low=1)
    n = len(y)
    if n_splits > n:
        raise ValidationError("n_splits", f"must be at most the number of samples ({n}), got {n_splits}")
    if stratified:
        classes, counts = np.unique(np.asarray(y), return_counts=True)
        if n_splits > counts.max():
            big = int(counts.argmax())
            label = classes[big].item() if isinstance(classes[big], np.generic) else classes[big]
            raise ValidationError("n_splits", f"is {n_splits}, but stratified folds (the default for a classifier) "
                                              f"need a class with at least {n_splits} members; the largest, {label!r}, "
                                              f"has {int(counts[big])} of the {n} samples",
                                  hint=f"use n_splits <= {int(counts.max())}, or pass cv= a splitter of your own")
    return n_splits, n_repeats


def _stratifies(estimator, groups) -> bool:
    """Whether the default splitter stratifies by class (a classifier without groups: see :func:`_splitter`)."""
    from sklearn.base import is_classifier

    return groups is None and is_classifier(estimator)


def _default_splitter(estimator, n_splits, n_repeats, seed, groups):
    """Our default splitter; with ``groups``, one that keeps each group within a fold (the usual
    scikit-learn splitters would silently ignore the groups)."""
    from sklearn.base import is_classifier

    if groups is None:
        return _splitter(estimator, n_splits, n_repeats, seed)
    return _RepeatedGroupKFold(n_splits, n_repeats, seed, is_classifier(estimator))


def check_cv_arg(cv, n: int, field: str = "cv"):
    """A user's ``cv`` by the package's rules, before scikit-learn sees it: a number of folds (an integer >= 2,
    at most the number of samples; 3.0 is 3), a splitter (an object with ``split``) or an iterable of (train,
    test) index pairs. ``cv=1`` and ``cv="x"`` were scikit-learn's bare messages, naming neither argument."""
    if isinstance(cv, numbers.Real) and not isinstance(cv, (bool, np.bool_)):
        k = check_int(cv, field, low=2)
        if k > n:
            raise ValidationError(field, f"must be at most the number of samples ({n}), got {k}")
        return k
    if hasattr(cv, "split") and not isinstance(cv, (str, bytes)):
        return cv
    if hasattr(cv, "__iter__") and not isinstance(cv, (str, bytes, dict)):
        return cv  # (train, test) pairs: scikit-learn's check_cv takes them as they are
    raise ValidationError(field, f"must be a number of folds (an integer >= 2), a scikit-learn splitter or an "
                                 f"iterable of (train, test) index pairs, got {type(cv).__name__}: {cv!r}")


def _user_cv(cv, y, estimator, groups):
    """A user's ``cv`` as a splitter: an int k is k folds (stratified for classifiers), as in scikit-learn."""
    from sklearn.base import is_classifier
    from sklearn.model_selection import GroupKFold, StratifiedGroupKFold, check_cv

    cv = check_cv_arg(cv, len(y))
    if groups is not None and isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        # k folds that keep each group within one fold, as cv_scores_two (and so the CV tests) make them:
        # the (stratified) k-fold splitter check_cv builds ignores groups, and groups met in training
        # and test folds (scikit-learn only warned)
        cv = (StratifiedGroupKFold if is_classifier(estimator) else GroupKFold)(n_splits=int(cv))
    return check_cv(cv, y, classifier=is_classifier(estimator))


def _cv_shape(cv, n_scores: int) -> tuple:
    """(n_repeats, n_splits) of a user's splitter whose layout is known, else (1, n_scores).

    Only scikit-learn's RepeatedKFold / RepeatedStratifiedKFold (exactly those classes): they yield
    repeat by repeat, n_splits folds each (cvargs["n_splits"]), as our own default splitter does, so
    ``cv=RepeatedStratifiedKFold(n_splits=2, n_repeats=5)`` gives the (5, 2) the 5x2cv tests read. Any
    other splitter (a subclass may reorder its folds) keeps one row: its fold order is not ours to guess.
    """
    from sklearn.model_selection import RepeatedKFold, RepeatedStratifiedKFold

    if type(cv) in (RepeatedKFold, RepeatedStratifiedKFold):
        # both attributes are set and checked as integers by these classes (n_splits by the KFold each split
        # builds, so by now it was valid); the count check is the reshape's own guard
        n_repeats, n_splits = int(cv.n_repeats), int(cv.cvargs["n_splits"])
        if n_repeats * n_splits == n_scores:
            return n_repeats, n_splits
    return 1, n_scores


def splits_key(splits) -> str:
    """A fingerprint of the (train, test) row indices of every split, in order. Two CVResults are paired fold
    by fold only when their folds hold the same rows; shape and mean sizes agree for any seed, so the CV tests
    compare this key (another random_state, groups or splitter paired unrelated folds, silently)."""
    import hashlib

    h = hashlib.blake2b(digest_size=12)
    for tr, te in splits:  # one update per split, each a vectorised byte copy
        for idx in (tr, te):
            idx = np.asarray(idx, dtype=np.int64)
            h.update(np.int64(idx.size).tobytes())
            h.update(idx.tobytes())
    return h.hexdigest()


def _inner_cv_keeping_groups(proc, X, y, groups, name, record):
    """A scikit-learn search whose own ``cv`` keeps each group on one side of every inner split.

    With ``groups``, a search's int (or default) ``cv`` is a (stratified) k-fold that ignores them: the
    inner scores then come from groups also seen in training and the selection favours whatever
    memorises a group (1-nearest neighbour). Such a ``cv`` becomes k group folds, as an int
    ``outer_cv`` does (``record[name]`` says which); a splitter object that puts a group on both sides
    is refused; anything else is left as it is."""
    from sklearn.base import clone

    # other estimators with a cv (RidgeCV: cv=None is leave-one-out) are left alone (see _route_groups)
    if not _is_search(proc):
        return proc
    cv = proc.get_params(deep=False)["cv"]
    if cv is None or (isinstance(cv, numbers.Integral) and not isinstance(cv, bool)):
        k = 5 if cv is None else int(cv)  # scikit-learn's default for cv=None
        splitter = _user_cv(k, y, proc, groups)  # stratified for a classifier search (is_classifier delegates)
        record[name] = repr(splitter)
        return clone(proc).set_params(cv=splitter)
    if hasattr(cv, "split") and not isinstance(cv, str):
        # checked on all rows: a splitter that keeps groups whole there keeps them whole on any subset
        _check_user_splits_keep_groups(list(cv.split(X, y, groups)), groups, len(y),
                                       f"estimators[{name!r}].cv" if name != "model" else "estimators.cv")
    return proc


def _is_search(proc) -> bool:
    """A hyper-parameter search by its parameters (GridSearchCV, RandomizedSearchCV, the halving ones), not by
    scikit-learn's private base class. Its fit(X, y, **params) routes ``groups`` to its own ``cv``."""
    params = proc.get_params(deep=False) if hasattr(proc, "get_params") else {}
    return "cv" in params and bool({"param_grid", "param_distributions"} & set(params))


def _fit_takes_groups(proc) -> bool:
    import inspect

    try:
        params = inspect.signature(proc.fit).parameters
    except (TypeError, ValueError, AttributeError):
        return False
    # Not every fit(X, y, **params) with a cv: RidgeCV, LassoCV, LogisticRegressionCV, CalibratedClassifierCV
    # refuse groups= unless metadata routing is enabled (every outer fit of nested_cv failed)
    return "groups" in params or (_is_search(proc) and any(p.kind is p.VAR_KEYWORD for p in params.values()))


def _best_params(est):
    """A fitted search's ``best_params_``, also when the search is a step of a Pipeline (None: no search)."""
    if hasattr(est, "best_params_"):
        return est.best_params_
    for _, step in getattr(est, "steps", None) or []:
        found = _best_params(step)
        if found is not None:
            return found
    return None


def _route_groups(proc, X, y, groups, name, record, prefix=""):
    """(procedure, fit-parameter names that receive ``groups``) for nested CV: a search's own cv made to keep
    groups whole (:func:`_inner_cv_keeping_groups`) and given the groups, also as a step of a Pipeline
    (``step__groups``, scikit-learn's routing of pipeline fit parameters; a search after a scaler is still
    the selection procedure). An estimator that selects with its own cv but cannot take groups (RidgeCV's
    leave-one-out) is left as it is, with a warning: its selection sees groups on both sides."""
    from sklearn.base import clone

    if _is_search(proc):
        return _inner_cv_keeping_groups(proc, X, y, groups, name, record), [prefix + "groups"]
    steps = getattr(proc, "steps", None)
    if isinstance(steps, list) and hasattr(proc, "set_params"):
        keys, replaced = [], {}
        for step_name, step in steps:
            if step is None or isinstance(step, str):  # "passthrough"
                continue
            new, k = _route_groups(step, X, y, groups, name, record, f"{prefix}{step_name}__")
            keys += k
            if new is not step:
                replaced[step_name] = new
        return (clone(proc).set_params(**replaced) if replaced else proc), keys
    if _fit_takes_groups(proc):
        return proc, [prefix + "groups"]
    params = proc.get_params(deep=False) if hasattr(proc, "get_params") else {}
    if "cv" in params:
        where = f"{name!r}" + (f" (step {prefix[:-2]!r})" if prefix else "")
        warnings.warn(f"nested_cv: {type(proc).__name__} in {where} selects with its own cv={params['cv']!r}, which "
                      "cannot take the groups: its inner scores come from groups also seen in training. Wrap the "
                      "model in a GridSearchCV (its cv then keeps the groups whole)", RuntimeWarning, stacklevel=4)
    return proc, []


_FAILED_RE = re.compile(r"(\d+) fits failed out of a total of (\d+)")
_DELIMITER = "-" * 80 + "\n"


def _exception_line(traceback_text: str) -> str | None:
    """The last non-blank line of a traceback ("ValueError: ..."), None when there is no traceback."""
    lines = [ln.strip() for ln in traceback_text.splitlines() if ln.strip()]
    return lines[-1] if len(lines) > 1 else None


def _first_error_line(message: str) -> str | None:
    """The exception line ("ValueError: ...") of the first error block of a FitFailedWarning."""
    blocks = message.split(_DELIMITER)
    return _exception_line(blocks[1]) if len(blocks) > 1 else None


def _cross_validate(caller, label, estimator, X, y, *, error_score, **kw):
    """scikit-learn's ``cross_validate`` that also counts failed fits and unscored folds and says so.

    ``cross_validate`` (with a numeric ``error_score``) gives a failed fit the score ``error_score``
    (NaN by default, which makes every interval NaN) and explains it only in a FitFailedWarning; a
    scorer that raises after a successful fit (``scoring="f1"`` with string labels: pos_label=1 is not
    a label) gets the same score with only a UserWarning ("Scoring failed"), and a scorer may also
    return NaN (R^2 on a one-row test fold). Its warnings are passed on unchanged; then a RuntimeWarning
    names how many of how many fits failed and the first failure, and another how many folds were
    fitted but not scored, and why. Returns (out, diagnostics) with ``failed_fits``, ``n_fits``,
    ``first_fit_error``, ``failed_scores`` and ``first_score_error``.
    """
    from sklearn.exceptions import FitFailedWarning
    from sklearn.model_selection import cross_validate

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = cross_validate(estimator, X, y, error_score=error_score, **kw)
    s = np.asarray(out["test_score"], dtype=np.float64)
    failed, first, bad, fit_warned = 0, None, np.empty(0, np.int64), False
    score_raised, first_score = 0, None
    for w in caught:  # passed on as they came, after the run (the user's filters apply as usual)
        text = str(w.message)
        if issubclass(w.category, FitFailedWarning):
            fit_warned = True
            m = _FAILED_RE.search(text)
            failed += int(m.group(1)) if m else 0
            first = first or _first_error_line(text)
        elif text.startswith("Scoring failed"):  # scikit-learn's UserWarning, one per fold, with the traceback
            score_raised += 1
            first_score = first_score or _exception_line(text)
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    unscored = 0
    if error_score != "raise":
        bad = np.flatnonzero(np.isnan(s) if np.isnan(error_score) else s == error_score)
        if fit_warned and not failed:  # the message format is scikit-learn's; the scores are a fallback
            failed = max(int(bad.size) - score_raised, 0)
        # the folds whose fit ran but whose score is missing: the scorer raised, or returned NaN. They were
        # counted as failed fits, with "see the FitFailedWarning" where there was none. With a numeric
        # error_score only the scorer errors seen count: a fold may truly score error_score (an F1 of 0)
        unscored = max(int(bad.size) - failed, 0) if np.isnan(error_score) else score_raised
    worker_nan = False
    if unscored and not first_score and np.isnan(error_score):
        # No "Scoring failed" warning reached us: either the scorer returned NaN, or it raised in a worker
        # process (n_jobs > 1), whose warnings stay there. Re-run the first such folds here, with
        # error_score="raise", to tell the two apart and name the error (an extra fit on the error path only).
        first_score, worker_nan = _rescore_here(estimator, X, y, kw, bad)
    diag = {"failed_fits": int(failed), "n_fits": int(s.size), "first_fit_error": first,
            "failed_scores": int(unscored), "first_score_error": first_score if unscored else None}
    if failed or unscored:
        effect = ("their scores are NaN, so the intervals are NaN" if np.isnan(error_score) else
                  f"their scores are set to error_score={error_score!r} and enter the intervals as if measured")
    if failed:
        # the first bad fold is this failure's only when no fold went unscored (the two are not told apart)
        fold = f" (fold {int(bad[0])})" if bad.size and not unscored else ""
        warnings.warn(f"{caller}: {failed} of {s.size} fits (folds) failed{label}; {effect}. First failure"
                      f"{fold}: {first or 'see the FitFailedWarning'}. Pass error_score='raise' to stop at the "
                      "first failure with its traceback (diagnostics['failed_fits'] has the count)",
                      RuntimeWarning, stacklevel=3)
    if unscored:
        fold = f" (fold {int(bad[0])})" if not failed and np.isnan(error_score) else ""
        if first_score:
            why = (f"the fits succeeded but the scorer raised; first error{fold}: {first_score}. Pass "
                   "error_score='raise' to stop at it with its traceback")
        elif worker_nan:  # re-run here: the scorer returns NaN on that fold, it does not raise
            why = f"the fits succeeded but the scorer gave NaN{fold}"
        else:  # the re-run could not tell (its fit failed this time, or the scorer raised only there)
            why = (f"the fits succeeded but the scorer gave NaN{fold} (or raised in a worker process: run with "
                   "n_jobs=None and error_score='raise' to see it)")
        warnings.warn(f"{caller}: {unscored} of {s.size} folds have no score{label}: {why}; {effect} "
                      "(diagnostics['failed_scores'] has the count)", RuntimeWarning, stacklevel=3)
    return out, diag


def _rescore_here(estimator, X, y, kw, bad, tries: int = 3):
    """(first scorer error line or None, whether a re-run gave NaN without raising) for the first ``tries``
    folds in ``bad``, each re-run in this process by ``cross_validate`` with ``error_score="raise"`` (public
    API only: the fold's rows, groups and fit params are routed as in the first run)."""
    from sklearn.model_selection import cross_validate

    splits = kw.get("cv")
    if not isinstance(splits, list):
        return None, False
    one = {k: v for k, v in kw.items() if k not in ("cv", "n_jobs", "return_estimator")}
    gave_nan = False
    for k in bad[:tries]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the first run's warnings were passed on already
            try:
                again = cross_validate(estimator, X, y, cv=[splits[int(k)]], n_jobs=None, error_score="raise", **one)
            except Exception as exc:  # noqa: BLE001 - the user's scorer or fit: any error is the answer
                tb = getattr(exc, "__traceback__", None)
                if tb is not None and _raised_in_scoring(tb):
                    return f"{type(exc).__name__}: {exc}", False
                continue  # the fit raised (a failed fit, told by its FitFailedWarning): try the next fold
        gave_nan = gave_nan or bool(np.isnan(np.asarray(again["test_score"], dtype=np.float64)).any())
    return None, gave_nan


def _raised_in_scoring(tb) -> bool:
    """Whether a traceback passes through scikit-learn's scoring step (``_score``), not only the fit."""
    import traceback

    return any(f.name == "_score" for f in traceback.extract_tb(tb))


def _no_spread(scores) -> bool:
    """Whether the fold scores are all equal up to floating-point rounding (the rule of the CV tests:
    equal accuracies averaged in another order differ in the last bits, and their sd is then ~1e-17)."""
    from .cvtests import _rounding_tol  # the tests' own tolerance, so both call the same scores constant

    s = np.asarray(scores, dtype=np.float64)
    return s.size > 1 and bool(np.isfinite(s).all()) and float(np.ptp(s)) <= _rounding_tol(s, s)


def _warn_no_spread(caller: str, scores, what: str = "") -> None:
    """A zero-width t interval from equal fold scores claims a certainty the folds cannot give (accuracy 1
    on every small test fold does not make the expected accuracy 1): said, as the corrected t-test refuses
    such scores."""
    if _no_spread(scores):
        s = np.asarray(scores, dtype=np.float64)
        warnings.warn(f"{caller}: all {s.size} fold scores{what} are equal ({s[0]:g}), so the t interval has zero "
                      "width, a certainty that equal scores on finite test folds do not give; read it as 'no spread "
                      "observed' (more rows per fold, or a bootstrap of the pooled out-of-fold losses, give a "
                      "non-degenerate interval)", RuntimeWarning, stacklevel=3)


def _t_interval(scores, alpha, ratio):
    J = scores.size
    m = scores.mean()
    # equal scores up to rounding have no spread: sd 0, not ~1e-17 (a 'width' made of rounding)
    sd = (0.0 if _no_spread(scores) else scores.std(ddof=1)) if J > 1 else np.nan
    se = math.sqrt((1.0 / J + ratio) * sd * sd) if J > 1 else np.nan
    q = stats.t.ppf(1 - alpha / 2, J - 1) if J > 1 else np.nan
    return m, m - q * se, m + q * se, se


# Scorers whose values are known to lie in [0, 1] (or to be <= 1, or <= 0). A t interval knows
# nothing about this, so near a bound it can cross it (e.g. accuracy 0.99 +- 0.02); we clip the
# limits to the range and flag the row ("clipped"), never the point estimate.
_UNIT_SCORERS = ("accuracy", "balanced_accuracy", "roc_auc", "average_precision", "f1", "precision", "recall",
                 "jaccard", "top_k_accuracy", "matthews_corrcoef", "explained_variance", "r2", "d2_")


def _final_estimator(estimator):
    """The estimator whose score() a Pipeline's score() is: its last step (pipelines nested any depth)."""
    while hasattr(estimator, "steps") and estimator.steps:
        estimator = estimator.steps[-1][1]
    return estimator


def _refit_metric(own, refit):
    """A search's scoring as the one metric its score() uses: the refit metric of a multi-metric search
    (None when that is not a name)."""
    if isinstance(own, dict):
        return own.get(refit) if isinstance(refit, str) else None
    if isinstance(own, (list, tuple, set)):
        return refit if isinstance(refit, str) else None
    return own


def default_score_name(estimator) -> str | None:
    """What ``scoring=None`` scores ``estimator`` by (its own ``score``), when that is known: "accuracy" for a
    classifier, "r2" for a regressor, a hyper-parameter search's scoring name (its refit metric when several;
    a search without scoring: its estimator's). None when it cannot be told: a model whose score() may or
    may not use its own ``scoring=`` (RidgeCV's is R^2 whatever it says, LogisticRegressionCV's follows it,
    TunedThresholdClassifierCV's is accuracy), a search scored by a callable. Procedures compared with
    scoring=None whose names are both known must agree: a GridSearchCV(scoring="neg_log_loss") against a plain
    classifier compared a log loss with an accuracy (t = -57, "significant")."""
    from sklearn.base import is_classifier, is_regressor

    estimator = _final_estimator(estimator)
    if _is_search(estimator):
        own = getattr(estimator, "scoring", None)
        if own is None:
            return default_score_name(estimator.estimator)
        own = _refit_metric(own, getattr(estimator, "refit", None))
        return own if isinstance(own, str) else None
    if getattr(estimator, "scoring", None) is not None:
        return None
    if is_classifier(estimator):
        return "accuracy"
    return "r2" if is_regressor(estimator) else None


def check_same_default_score(named, scoring) -> None:
    """With ``scoring=None`` every procedure is scored by its own ``score``: refuse procedures whose scores are
    known to be different metrics (:func:`default_score_name`), naming both. Unknown ones are not refused."""
    if scoring is not None:
        return
    known = [(field, name) for field, name in ((f, default_score_name(est)) for f, est in named) if name is not None]
    for field, name in known[1:]:
        if name != known[0][1]:
            raise ValidationError("scoring", f"is None, so each model is scored by its own score(): {known[0][0]} by "
                                             f"{known[0][1]!r} and {field} by {name!r}; the comparison would set one "
                                             "metric against another",
                                  hint="pass scoring= (a scikit-learn scorer name or callable), used for both")


def _score_range(scoring, estimator):
    """(low, high) bounds of a scorer's values when known, else (-inf, inf)."""
    from sklearn.base import is_classifier, is_regressor

    inf = float("inf")
    if scoring is None:  # estimator.score: accuracy for classifiers, R^2 for regressors
        estimator = _final_estimator(estimator)
        own = getattr(estimator, "scoring", None)
        if own is not None:
            # a search's score() is its own scoring's (GridSearchCV(scoring="neg_log_loss") scores <= 0: the
            # classifier's [0, 1] clipped an interval around -0.074 to [0, 0]); the refit metric of a
            # multi-metric search. Another model's scoring= (LogisticRegressionCV's, RidgeCV's) may or may
            # not be what its score() uses: range unknown, never clipped
            if not (hasattr(estimator, "refit") and hasattr(estimator, "estimator")):
                return -inf, inf
            own = _refit_metric(own, getattr(estimator, "refit", None))
            return _score_range(own, estimator.estimator) if isinstance(own, str) else (-inf, inf)
        est = getattr(estimator, "estimator", estimator)  # a search's underlying model
        if is_classifier(est):
            return 0.0, 1.0
        return (-inf, 1.0) if is_regressor(est) else (-inf, inf)
    if not isinstance(scoring, str):
        return -inf, inf
    if scoring.startswith("neg_"):
        return -inf, 0.0
    if scoring in ("r2", "explained_variance") or scoring.startswith("d2_"):
        return -inf, 1.0
    if scoring == "matthews_corrcoef":
        return -1.0, 1.0
    if any(scoring == k or scoring.startswith(k + "_") for k in _UNIT_SCORERS):
        return 0.0, 1.0
    return -inf, inf


# The range of each named per-sample loss (oob.LOSSES): a callable loss's is unknown, so never clipped.
_LOSS_RANGE = {"zero_one": (0.0, 1.0), "squared": (0.0, np.inf), "absolute": (0.0, np.inf), "log_loss": (0.0, np.inf)}


def _clip_interval(lo, hi, bounds):
    c_lo, c_hi = float(np.clip(lo, *bounds)), float(np.clip(hi, *bounds))
    # a NaN limit (a failed fit, an unscored fold) is not clipped: NaN != NaN flagged it as clipped
    return c_lo, c_hi, bool((c_lo != lo and not np.isnan(lo)) or (c_hi != hi and not np.isnan(hi)))


@dataclass(frozen=True, repr=False, eq=False)  # identity: == of array / frame fields raised
class CVResult(FrameFieldsCopied):
    """Cross-validation scores with intervals.

    ``scores`` has shape (n_repeats, n_splits) (one row per repetition). ``intervals`` is a tidy
    frame: interval ("nadeau-bengio" or "naive"), value, ci_low, ci_high, se, alpha, J (the number of
    fold scores), estimand, clipped (limits clipped to the scorer's known range).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.resample import repeated_cv
    >>> X, y = load_iris(return_X_y=True)
    >>> r = repeated_cv(DecisionTreeClassifier(max_depth=2, random_state=0), X, y, n_splits=5, n_repeats=2, random_state=0)
    >>> r.scores.shape, round(r.mean, 3)
    ((2, 5), 0.933)
    >>> r.to_frame()["interval"].tolist()
    ['nadeau-bengio', 'naive']
    """

    scores: np.ndarray
    intervals: pd.DataFrame
    n_train: float
    n_test: float
    scoring: str
    alpha: float
    diagnostics: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        # frozen means the scores too: a write through r.scores[:] changed mean but not intervals (a copy, so a
        # caller's array passed in stays writable)
        scores = np.array(self.scores, dtype=np.float64)
        scores.setflags(write=False)
        object.__setattr__(self, "scores", scores)

    @property
    def mean(self) -> float:
        """Mean score over every fold and repeat."""
        return float(self.scores.mean())

    def to_frame(self) -> pd.DataFrame:
        """The interval table, a copy."""
        return self.intervals.copy()

    def _summary(self) -> str:
        return (f"{self.scoring}: {self.scores.shape[0]} x {self.scores.shape[1]} folds, "
                f"n_train~{self.n_train:.0f}, n_test~{self.n_test:.0f}")

    def __repr__(self) -> str:
        return _frames_repr(f"CVResult({self._summary()})", {"intervals": self.intervals})

    def _repr_html_(self) -> str:
        # the scorer and the fold layout, as in the repr (the HTML did not say which score it was)
        return _frames_html(f"cross-validation ({self._summary()})", {"intervals": self.intervals})


def repeated_cv(estimator, X, y, *, scoring=None, n_splits: int = 10, n_repeats: int = 10, cv=None, groups=None,
                alpha: float = 0.05, random_state=None, n_jobs=None, fit_params=None,
                error_score=np.nan) -> CVResult:
    """Repeated k-fold cross-validation with a Nadeau-Bengio corrected interval.

    The interval mean +- t_{J-1} sqrt((1/J + n_test/n_train) s^2) is for the expected score of the
    algorithm trained on n_train = n (k-1)/k rows (Err at that size, averaged over training
    sets), not for the model you would deploy. The naive interval (1/J instead) is shown next to
    it because it is what people compute; it treats the J overlapping folds as independent and is
    far too narrow. When the scorer's range is known (accuracy-like scores in [0, 1], R^2 <= 1,
    ``neg_*`` <= 0) the limits are clipped to it and ``clipped`` says so.
    Fold scores that are all equal (accuracy 1 on every fold, a constant predictor on stratified
    folds) give a zero-width interval, with a RuntimeWarning: no spread observed is not certainty.

    ``cv`` overrides the splitter (any scikit-learn splitter, e.g. ``GroupKFold`` or
    ``TimeSeriesSplit``, or an int k for k folds, group k-folds with ``groups`` as in
    :func:`~workbench.resample.cv_scores_two`; then ``n_splits``/``n_repeats`` are ignored and the scores
    come back as one row, except for scikit-learn's ``RepeatedKFold`` / ``RepeatedStratifiedKFold``, whose
    scores are shaped (n_repeats, n_splits) as with the default splitter, so
    ``cv=RepeatedStratifiedKFold(n_splits=2, n_repeats=5)`` feeds the 5x2cv tests).
    With ``groups`` and no ``cv``, every repeat keeps each group within one fold (stratified by class for
    classifiers), so no group is both trained and tested on. A ``cv`` splitter given with ``groups`` must
    keep them apart too: one that puts a group on both sides of a split (KFold, TimeSeriesSplit, which
    ignore ``groups``; scikit-learn only warns) is refused, naming the split and the first shared group.

    ``error_score`` is scikit-learn's (``cross_validate``): the score of a fold whose fit fails (NaN
    by default, which makes the intervals NaN), or ``"raise"``. Failed fits are counted in
    ``diagnostics["failed_fits"]`` (of ``diagnostics["n_fits"]``, with ``first_fit_error``) and
    announced by a RuntimeWarning that names the first failure. Folds that were fitted but have no
    score (the scorer raised, e.g. ``scoring="f1"`` with string labels, whose pos_label=1 is not a
    label: pass ``make_scorer(f1_score, pos_label=...)``; or it returned NaN) are counted apart, in
    ``diagnostics["failed_scores"]`` with ``first_score_error``, and announced by their own warning.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from workbench.resample import repeated_cv
    >>> X, y = load_iris(return_X_y=True)
    >>> r = repeated_cv(LogisticRegression(max_iter=500), X, y, n_splits=5, n_repeats=2, random_state=0)
    >>> r.intervals["interval"].tolist()
    ['nadeau-bengio', 'naive']
    """
    check_estimator(estimator)  # a string or a list of models was scikit-learn's AttributeError '__sklearn_tags__'
    check_xy(X, y, groups, [estimator])  # by name, before any split or fit (scikit-learn's error named neither)
    check_single_scoring(scoring)
    alpha = check_alpha(alpha)
    n_jobs = check_n_jobs(n_jobs)  # 0 was joblib's own error, after the splits were made
    if cv is not None:  # an int means k folds, as in scikit-learn's cross_validate
        cv = _user_cv(cv, y, estimator, groups)
    else:
        n_splits, n_repeats = _check_folds(n_splits, n_repeats, y, stratified=_stratifies(estimator, groups))
    estimator = seed_unseeded(estimator, random_state)  # same random_state, same scores (read, not drawn)
    splitter = cv if cv is not None else _default_splitter(estimator, n_splits, n_repeats, _cv_seed(random_state),
                                                           groups)
    splits = list(splitter.split(X, y, groups))
    if groups is not None and cv is not None:
        _check_user_splits_keep_groups(splits, groups, len(y), "cv")
    out, fails = _cross_validate("repeated_cv", "", estimator, X, y, error_score=error_score, scoring=scoring,
                                 cv=splits, n_jobs=n_jobs, params=fit_params)
    s = np.asarray(out["test_score"], dtype=np.float64)
    n_train = float(np.mean([len(tr) for tr, _ in splits]))
    n_test = float(np.mean([len(te) for _, te in splits]))
    shape = (n_repeats, n_splits) if cv is None else _cv_shape(cv, s.size)
    scores = s.reshape(shape)
    _warn_no_spread("repeated_cv", s)
    rows = []
    bounds = _score_range(scoring, estimator)
    for name, ratio, est in (("nadeau-bengio", n_test / n_train,
                              f"expected score of the algorithm trained on ~{n_train:.0f} rows (Err)"),
                             ("naive", 0.0, "nothing valid: treats overlapping folds as independent")):
        m, lo, hi, se = _t_interval(s, alpha, ratio)
        lo, hi, clipped = _clip_interval(lo, hi, bounds)
        rows.append({"interval": name, "value": m, "ci_low": lo, "ci_high": hi, "se": se, "alpha": alpha,
                     "J": s.size, "estimand": est, "clipped": clipped})
    scoring_name = scoring if isinstance(scoring, str) else ("score" if scoring is None else "scorer")
    # what "score" stands for, so that two CVResults of different own scores are not compared (cvtests)
    default = default_score_name(estimator) if scoring is None else None
    return CVResult(scores, pd.DataFrame(rows), n_train, n_test, scoring_name, alpha,
                    {"fit_time": float(np.sum(out["fit_time"])), **fails, "splits_key": splits_key(splits),
                     "default_score": default})


# --------------------------------------------------------------------------------------------
# Nested cross-validation: an honest estimate of a selection procedure
# --------------------------------------------------------------------------------------------
@dataclass(frozen=True, repr=False, eq=False)  # identity: == of array / frame fields raised
class NestedCVResult(FrameFieldsCopied):
    """Outer-fold scores of one or more selection procedures on identical outer splits.

    ``scores``: algorithm, fold, score, best_params. ``summary``: algorithm, value (mean outer
    score), ci_low, ci_high (Nadeau-Bengio corrected t over the outer folds), se, alpha,
    n_outer_folds, clipped. ``diagnostics``: per algorithm, ``failed_fits`` (outer folds whose fit
    failed), ``n_fits`` and ``first_fit_error``, ``failed_scores`` (outer folds fitted but not scored)
    and ``first_score_error``. ``n_train`` / ``n_test``: the mean outer training
    and test sizes, which the corrected CV tests need with these fold scores.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.resample import nested_cv
    >>> X, y = load_iris(return_X_y=True)
    >>> search = GridSearchCV(DecisionTreeClassifier(random_state=0), {"max_depth": [1, 3]}, cv=3)
    >>> r = nested_cv(search, X, y, outer_cv=3, random_state=0)
    >>> r.to_frame()[["algorithm", "n_outer_folds"]].values.tolist()
    [['model', 3]]
    """

    scores: pd.DataFrame
    summary: pd.DataFrame
    alpha: float
    diagnostics: Mapping[str, Any] = field(default_factory=dict)
    n_train: float | None = None
    n_test: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """The summary table (one row per algorithm), a copy."""
        return self.summary.copy()

    def __repr__(self) -> str:
        return _frames_repr("NestedCVResult", {"summary": self.summary})

    def _repr_html_(self) -> str:
        return _frames_html("nested cross-validation", {"summary": self.summary, "outer folds": self.scores})


def nested_cv(estimators, X, y, *, outer_cv=5, scoring=None, groups=None, alpha: float = 0.05, random_state=None,
              n_jobs=None, error_score=np.nan) -> NestedCVResult:
    """Nested cross-validation: each outer training set runs the whole selection procedure.

    ``estimators`` is a selection procedure (e.g. ``GridSearchCV(model, grid, cv=inner)``) or a
    dict ``{name: procedure}`` to compare several algorithms (each tuned by its own inner CV) on
    identical outer splits (a list of procedures is refused: the summary names each row, so name them
    in a dict). The outer scores estimate how well the *procedure* (tuning included)
    performs on new data; the inner ``best_score_`` of a search is optimistically biased and is
    never used here. The t interval over few outer folds can cross a bound of the score (accuracy
    0.97 +- 0.05); when the scorer's range is known (default ``score`` of a classifier, accuracy,
    roc_auc, f1, ... in [0, 1]; R^2 <= 1; ``neg_*`` <= 0) the limits are clipped to it and the
    ``clipped`` column says so. ``outer_cv``: an int (stratified for classifiers, shuffled with
    ``random_state``; with ``groups``, group k-fold) or any scikit-learn splitter. ``groups`` are also
    passed to each procedure's ``fit`` when it takes them (a ``GridSearchCV``, also as a step of a
    Pipeline); a model that selects with its own cv but cannot take groups (RidgeCV, LassoCV,
    LogisticRegressionCV) is fitted without them, with a warning that its inner selection sees groups
    on both sides. With ``scoring=None`` the procedures of a dict must share their own score's metric
    (a search scored by log loss beside one scored by accuracy is refused). An ``outer_cv``
    splitter that puts a group on both sides of a split is refused. So is a search whose own ``cv``
    is such a splitter (KFold), and a search's int or default ``cv`` becomes group folds
    (StratifiedGroupKFold for classifiers, else GroupKFold; ``diagnostics["inner_cv"]`` names the
    replacement per procedure): scikit-learn's k-fold there ignores the groups, the inner scores
    come from groups seen in training and the search favours a model that memorises them (on
    clustered data, 1-nearest neighbour in every outer fold).
    ``error_score`` is scikit-learn's, for the outer fits (see :func:`repeated_cv`);
    failed outer fits are counted in ``diagnostics["failed_fits"]`` and announced by a RuntimeWarning, as are
    unscored outer folds (``diagnostics["failed_scores"]``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.model_selection import GridSearchCV
    >>> from sklearn.svm import SVC
    >>> from workbench.resample import nested_cv
    >>> X, y = load_iris(return_X_y=True)
    >>> r = nested_cv(GridSearchCV(SVC(), {"C": [0.1, 1, 10]}, cv=3), X, y, outer_cv=3, random_state=0)
    >>> r.summary["algorithm"].tolist()
    ['model']
    """
    if isinstance(estimators, (list, tuple)):
        # several procedures are named (the summary has one row per name): a list was scikit-learn's
        # AttributeError '__sklearn_tags__'
        raise ValidationError("estimators", f"must be one selection procedure or a dict {{name: procedure}}, got a "
                                            f"{type(estimators).__name__} of {len(estimators)}",
                              hint="name them, e.g. {'a': estimators[0], 'b': estimators[1]}")
    procs = estimators if isinstance(estimators, dict) else {"model": estimators}
    if not procs:
        raise ValidationError("estimators", "is empty")
    for k, v in procs.items():
        check_estimator(v, f"estimators[{k!r}]" if isinstance(estimators, dict) else "estimators")
    check_xy(X, y, groups, list(procs.values()))
    check_single_scoring(scoring)
    alpha = check_alpha(alpha)
    n_jobs = check_n_jobs(n_jobs)
    # same random_state, same scores: an unseeded randomised model (or a search's) is seeded from it (read, not drawn)
    procs = {k: seed_unseeded(v, random_state) for k, v in procs.items()}
    first = next(iter(procs.values()))
    # the summary sets the algorithms side by side: with scoring=None their own scores must be one metric
    check_same_default_score([(f"estimators[{k!r}]", v) for k, v in procs.items()], scoring)
    if isinstance(outer_cv, numbers.Real):  # a number of folds: 3.0 is 3 (it was an AttributeError), 2.5 refused
        k = check_int(outer_cv, "outer_cv", low=2)
        if k > len(y):
            raise ValidationError("outer_cv", f"must be at most the number of samples ({len(y)}), got {k}")
        splitter = _default_splitter(first, k, 1, _cv_seed(random_state), groups)
    elif hasattr(outer_cv, "split") and not isinstance(outer_cv, str):  # str.split is not a splitter
        splitter = outer_cv
    else:
        raise ValidationError("outer_cv", f"must be a number of folds or a scikit-learn splitter, got {outer_cv!r}")
    splits = list(splitter.split(X, y, groups))
    if groups is not None and splitter is outer_cv:
        _check_user_splits_keep_groups(splits, groups, len(y), "outer_cv")
    n_train = float(np.mean([len(tr) for tr, _ in splits]))
    n_test = float(np.mean([len(te) for _, te in splits]))
    rows, summ = [], []
    diag = {"failed_fits": {}, "n_fits": {}, "first_fit_error": {}, "failed_scores": {}, "first_score_error": {},
            "inner_cv": {}}
    for name, proc in procs.items():
        params = None
        if groups is not None:
            # a search's inner CV needs the groups too (each outer training set's rows, sliced by cross_validate)
            proc, keys = _route_groups(proc, X, y, groups, name, diag["inner_cv"])
            params = {k: groups for k in keys} or None
        label = f" for {name!r}" if len(procs) > 1 else ""
        out, fails = _cross_validate("nested_cv", label, proc, X, y, error_score=error_score, scoring=scoring,
                                     cv=splits, n_jobs=n_jobs, return_estimator=True, params=params)
        for key, v in fails.items():
            diag[key][name] = v
        s = np.asarray(out["test_score"], dtype=np.float64)
        for f, (sc, est) in enumerate(zip(s, out["estimator"])):
            rows.append({"algorithm": name, "fold": f, "score": sc,
                         "best_params": repr(_best_params(est))})
        _warn_no_spread("nested_cv", s, f" of {name!r}" if len(procs) > 1 else "")
        m, lo, hi, se = _t_interval(s, alpha, n_test / n_train)
        lo, hi, clipped = _clip_interval(lo, hi, _score_range(scoring, proc))
        summ.append({"algorithm": name, "value": m, "ci_low": lo, "ci_high": hi, "se": se, "alpha": alpha,
                     "n_outer_folds": s.size, "clipped": clipped})
    return NestedCVResult(pd.DataFrame(rows), pd.DataFrame(summ), alpha, diag, n_train=n_train, n_test=n_test)


# --------------------------------------------------------------------------------------------
# Bates, Hastie & Tibshirani's nested-CV interval for prediction error
# --------------------------------------------------------------------------------------------
def _fold_ids(n, K, rng):
    return rng.permutation(np.arange(n) % K)


def _group_fold_ids(X, y, codes, K, n_runs, seed, classifier) -> np.ndarray:
    """(n_runs, n) fold number of each row in each run, from ``_RepeatedGroupKFold`` (the group splitter of
    repeated_cv and nested_cv, so there is one rule for keeping a group within a fold). Refuses a run with
    an empty fold: StratifiedGroupKFold can leave one (with few groups), and the nested-CV pivots
    need the mean error of every fold."""
    fold = np.empty((n_runs, codes.size), np.int64)
    for j, (_, test) in enumerate(_RepeatedGroupKFold(K, n_runs, seed, classifier).split(X, y, codes)):
        fold[j // K, test] = j % K  # the splitter yields run by run, K test folds each
    counts = np.stack([np.bincount(f, minlength=K) for f in fold])
    empty = counts.min(axis=1) == 0
    if empty.any():
        r = int(np.argmax(empty))
        raise ValidationError("groups", f"the group folds of run {r} leave fold {int(np.argmin(counts[r]))} of "
                                        f"n_folds={K} empty (stratifying {int(codes.max()) + 1} groups by class)",
                              hint="use fewer folds or more groups")
    return fold


def _design_effect(row_err, codes, n_groups) -> float:
    """Design effect of the mean of per-row errors under clustering: the cluster-robust variance of the
    mean (G / (G - 1) sum_g (sum of the group's centred errors)^2 / n^2) over the independent-rows
    variance var(errors) / n. Exactly 1 when every group is one row; 1.0 when the errors have no spread."""
    n = row_err.size
    d = row_err - row_err.mean()
    v_iid = float(np.dot(d, d)) / (n - 1) / n
    if not v_iid > 0:
        return 1.0
    tot = np.bincount(codes, weights=d, minlength=n_groups)
    v_cl = n_groups / (n_groups - 1) * float(np.dot(tot, tot)) / (n * n)
    return v_cl / v_iid


def _pair_task(estimator, X, y, fold_id, f1, f2, loss_fn, name, fit_params, rep=None):
    from sklearn.utils import _safe_indexing

    train = np.flatnonzero((fold_id != f1) & (fold_id != f2))
    # through fit_on_split, as bootstrap_error and the CV tests: a training set without a class names the split
    est = fit_on_split(estimator, _safe_indexing(X, train), _safe_indexing(y, train),
                       split_fit_params(fit_params, X, train), y,  # per-row values at the training rows
                       f"{_rep_text(rep)}folds {f1} and {f2} held out (numbered from 0)", field="n_folds")
    out = []
    for f in (f1, f2):
        idx = np.flatnonzero(fold_id == f)
        out.append(_pointwise(loss_fn, name, est, _safe_indexing(X, idx), _safe_indexing(y, idx), None))
    return out


def _cv_task(estimator, X, y, fold_id, f, loss_fn, name, fit_params, rep=None):
    from sklearn.utils import _safe_indexing

    train = np.flatnonzero(fold_id != f)
    test = np.flatnonzero(fold_id == f)
    est = fit_on_split(estimator, _safe_indexing(X, train), _safe_indexing(y, train),
                       split_fit_params(fit_params, X, train), y,
                       f"{_rep_text(rep)}fold {f} held out (numbered from 0)", field="n_folds")
    return _pointwise(loss_fn, name, est, _safe_indexing(X, test), _safe_indexing(y, test), None)


def _rep_text(rep):
    return "" if rep is None else f"repetition {rep}, "


def ncv_interval(estimator, X, y, *, loss=None, n_folds: int = 10, n_reps: int = 50, bias_reps: int | None = None,
                 alpha: float = 0.10, random_state=None, n_jobs=None, fit_params=None,
                 progress: bool = True, groups=None) -> pd.DataFrame:
    """The nested-CV interval for prediction error (Bates, Hastie & Tibshirani 2023), next to the naive one.

    Follows the authors' reference implementation (R package ``nestedcv``, ``nested_cv``, as of its
    last revision, 2022; written here from its description, not translated):

    * each of ``n_reps`` repetitions draws a random K-fold assignment and fits the model on every
      set of K - 2 folds (K (K - 1) / 2 fits), giving held-out errors e(g | g, f out), and on every
      set of K - 1 folds (K fits), giving e_out(f), the ordinary CV errors on fold f;
    * per outer fold f, the pivot a_f = mean of the inner-CV errors e(g | g, f out) over the other
      folds g minus mean e_out(f), and b_f = var(e_out(f)) / |fold f|; their averages over all
      repetitions and folds estimate the MSE of a CV estimate, MSE = mean(a^2) - mean(b);
    * the standard-error inflation ``sqrt(max(0, MSE)) / (sd(errors) / sqrt(n_sub))``, with
      n_sub = floor(n (K - 1) / K) and ``errors`` all the nested-CV errors e(g | g, f out), is
      clamped to [1, sqrt(K)], so the NCV standard error is 1 to sqrt(K) times sd(errors) / sqrt(n),
      the naive standard error of those same errors (not the "naive" row's, which comes from one
      ordinary K-fold run: the ratio of the two rows' ``se`` can leave [1, sqrt(K)]). The
      ``inflation`` column is its square (the variance factor, in [1, K]); ``inflation_raw`` is the
      square before the clamp;
    * bias: ``(mean NCV error - mean of ordinary K-fold CV errors) * (1 + ((K-2)/K)^1.5)``,
      with ``bias_reps`` (default ceil(n_reps / 5)) ordinary CV runs;
    * interval: (mean NCV error - bias) +- z sd(errors) / sqrt(n) sqrt(inflation).

    One difference: when K does not divide n, the R code leaves the n mod K extra rows out of every
    fold (always in training); here every row is in a fold (fold sizes differ by at most one).
    Until 2026-12-01 this function used an earlier version of that code (pivot against a random
    other fold's K - 2-fold model, variance ratio of fold means, bias multiplier with K - 1):
    its standard error could be 1.5x the authors' (n = 200, K = 5).

    What each row estimates: "ncv" targets Err_XY, the error of the model fitted to these data
    (the paper shows it covers approximately at the nominal level, and covers Err, the average
    over training sets, too). "naive" is mean +- z sd / sqrt(n) over the n CV errors of one K-fold
    run; it is usually read as an interval for Err_XY but undercovers both Err_XY and Err, because
    the errors of different folds are correlated. Cost: n_reps (K (K-1)/2 + K) + max(bias_reps, 1) K
    fits (the naive row needs one K-fold run even with ``bias_reps=0``).

    Clustered rows (several per patient, user, site): pass ``groups``. Random row folds put a group's
    rows on both sides of a split, so the model is scored on groups it has seen; the error estimate
    is optimistic for new groups and the interval under-covers (31-42% for a nominal 90% in
    simulations of a random group effect with 20-30 groups of 4-5 rows and a nearest-neighbour
    model, tests/test_groups_ncv_learning_curve.py). With ``groups`` every fold assignment (nested
    and ordinary) keeps each group within one fold, from the splitter :func:`repeated_cv` uses
    (stratified by class for classifiers), and the standard error of the "ncv" row is also
    multiplied by sqrt(design_effect): sd(errors) / sqrt(n) assumes independent rows, and the
    design effect, the cluster-robust variance of the mean of the rows' nested-CV errors over its
    independent-rows value, restores the within-group correlation (exactly 1 when every group is
    one row; floored at 1, as the inflation is, and reported before the floor as
    ``design_effect_raw``). In those simulations group folds alone covered 75-83%, and 87-92% with
    the design effect. The target is then the error of the model fitted to these data on rows of
    new groups. The "naive" row uses the group folds of the first ordinary CV run but keeps its
    independent-rows standard error: it is the naive interval, and with clustered errors it
    under-covers all the more (65% in the 30-group simulation).

    Parameters
    ----------
    loss : per-sample loss as in :func:`bootstrap_error` (default zero_one / squared).
    alpha : the paper's default level is 90% (alpha = 0.10).
    progress : show a progress bar over the nested-CV fits.
    groups : array-like of shape (n_samples,), optional
        Cluster id of each row (integers or strings, none missing; the rule of :func:`repeated_cv`).
        Whole groups go to one side of every split; at least ``n_folds`` distinct groups are needed.
        ``None`` (default): rows are independent, and the result is that of the function without
        this argument.

    Returns
    -------
    DataFrame with rows "ncv" and "naive": interval, value, ci_low, ci_high, se, alpha, estimand,
    plus the NCV diagnostics (inflation, inflation_raw, design_effect and design_effect_raw (1.0 and
    NaN without ``groups``, and always in the "naive" row), bias, raw_mean), the loss's name,
    n_fits (the fits behind the row) and clipped: the named losses are >= 0 (``zero_one`` also <= 1),
    so limits beyond that range are clipped to it and flagged, as :func:`repeated_cv` does (the value
    and se are unchanged; a callable loss's range is unknown and never clipped).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.resample import ncv_interval
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> tab = ncv_interval(DecisionTreeClassifier(max_depth=3, random_state=0), X, y, n_folds=5, n_reps=2,
    ...                    random_state=0)
    >>> tab["interval"].tolist(), tab["loss"].tolist()
    (['ncv', 'naive'], ['zero_one', 'zero_one'])
    >>> ncv = tab.iloc[0]
    >>> int(ncv["n_fits"])                          # n_reps (K (K-1)/2 + K) + bias_reps K = 2 * 15 + 1 * 5
    35
    >>> bool(1 <= ncv["inflation"] <= 5)            # infl in [1, K]: the se is 1 to sqrt(K) times sd(errors)/sqrt(n)
    True
    >>> bool(ncv["ci_low"] < ncv["value"] < ncv["ci_high"])
    True
    """
    check_estimator(estimator)
    check_xy(X, y, groups, [estimator])  # by name, before any fit, as repeated_cv
    alpha = check_alpha(alpha)
    n_jobs = check_n_jobs(n_jobs)
    # the package's integer rule: n_folds=3.5 silently ran 3 folds, "3" and n_reps=2.5 were bare TypeErrors,
    # bias_reps=-1 silently meant no bias correction
    K = check_int(n_folds, "n_folds", low=3)
    progress = check_bool(progress, "progress")  # before any fit: "no" is truthy
    n_reps = check_int(n_reps, "n_reps", low=2)
    loss_fn, _, name = _resolve_loss(loss, estimator)
    y_arr = np.asarray(y)
    n = y_arr.shape[0]
    if K > n:  # an empty fold: a scikit-learn error about 0 samples deep in the fits
        raise ValidationError("n_folds", f"must be at most the number of samples ({n}), got {K}")
    estimator = seed_unseeded(estimator, random_state)  # same random_state, same interval (read, not drawn)
    rng = check_random_state(random_state)
    z = special.ndtri(1 - alpha / 2)
    bias_reps = int(math.ceil(n_reps / 5)) if bias_reps is None else check_int(bias_reps, "bias_reps", low=0)

    n_cv_runs = max(bias_reps, 1)
    if groups is None:
        assignments = [_fold_ids(n, K, rng) for _ in range(n_reps)]
    else:
        from sklearn.base import is_classifier

        codes, n_groups = unit_index(check_unit_ids(groups, "groups", n, ref="sample"))  # repeated_cv's id rule
        if n_groups < K:
            raise ValidationError("groups", f"has {n_groups} distinct groups, fewer than n_folds={K}")
        # every fold assignment, nested and ordinary, made by the group splitter up front from one draw
        group_folds = _group_fold_ids(X, y_arr, codes, K, n_reps + n_cv_runs, int(rng.integers(0, 2**32 - 1)),
                                      is_classifier(estimator))
        assignments, cv_assignments = list(group_folds[:n_reps]), list(group_folds[n_reps:])
        row_err_sum = np.zeros(n)  # each row's nested-CV errors, summed, for the design effect
    pairs = [(f1, f2) for f1 in range(K) for f2 in range(f1 + 1, K)]
    jobs = [(r, f1, f2) for r in range(n_reps) for f1, f2 in pairs]
    res = run_delayed((delayed(_pair_task)(estimator, X, y, assignments[r], f1, f2, loss_fn, name, fit_params, r)
                       for r, f1, f2 in jobs), n_jobs=n_jobs, progress=progress, desc="nested-CV fits")
    # the outer errors e_out(f): each fold scored by the model fitted on all the other folds
    outer = run_delayed((delayed(_cv_task)(estimator, X, y, assignments[r], f, loss_fn, name, fit_params, r)
                         for r in range(n_reps) for f in range(K)), n_jobs=n_jobs, progress=progress,
                        desc="outer fits")
    a_terms, b_terms, all_errs = [], [], []
    it, it_out = iter(res), iter(outer)
    for r in range(n_reps):  # loops over repetitions and folds (K^2 per repetition), not over rows
        inner_sum = np.zeros((K, K))  # [f, g]: sum of the errors on fold g, folds f and g left out
        inner_cnt = np.zeros((K, K))
        for f1, f2 in pairs:
            e1, e2 = next(it)
            inner_sum[f2, f1], inner_cnt[f2, f1] = e1.sum(), e1.size  # errors on f1, f2 also out
            inner_sum[f1, f2], inner_cnt[f1, f2] = e2.sum(), e2.size
            all_errs += [e1, e2]
            if groups is not None:  # the fold's rows in the order _pair_task scored them (flatnonzero)
                row_err_sum[assignments[r] == f1] += e1
                row_err_sum[assignments[r] == f2] += e2
        for f in range(K):
            e_out = next(it_out)
            # the inner CV without fold f: every error on the other folds, pooled (the R code's mean)
            a_terms.append(inner_sum[f].sum() / inner_cnt[f].sum() - e_out.mean())
            b_terms.append(np.var(e_out, ddof=1) / e_out.size if e_out.size > 1 else 0.0)
    errs = np.concatenate(all_errs)
    mse_cv = float(np.mean(np.square(a_terms)) - np.mean(b_terms))  # MSE of a CV estimate
    n_sub = math.floor(n * (K - 1) / K)
    sd_errs = errs.std(ddof=1)
    # sd 0 (every error equal): no inflation to measure
    sd_ratio = math.sqrt(max(0.0, mse_cv)) / (sd_errs / math.sqrt(n_sub)) if sd_errs > 0 else 1.0
    infl_raw = sd_ratio ** 2  # on the variance scale, as reported
    infl = float(np.clip(sd_ratio, 1.0, math.sqrt(K)) ** 2)

    # clustered rows: sd(errors) / sqrt(n) assumes independent rows; the design effect of the rows' mean
    # nested-CV errors scales it to the cluster-robust variance of the mean (the inflation is a ratio
    # of fold-mean variances, which already carry the clustering, so the two compose). Floored at 1, as
    # the inflation is: an estimate below 1 (errors of a group that cancel, or few groups' noise) would
    # make the interval narrower than with independent rows
    deff_raw = np.nan if groups is None else _design_effect(row_err_sum / (n_reps * (K - 1)), codes, n_groups)
    deff = 1.0 if groups is None else max(deff_raw, 1.0)
    cv_means = []
    naive_errs = None
    for b in range(n_cv_runs):
        fid = _fold_ids(n, K, rng) if groups is None else cv_assignments[b]
        e = np.concatenate(run_delayed((delayed(_cv_task)(estimator, X, y, fid, f, loss_fn, name, fit_params)
                                            for f in range(K)), n_jobs=n_jobs, progress=False))
        cv_means.append(e.mean())
        if naive_errs is None:
            naive_errs = e
    raw = float(errs.mean())
    bias = (raw - float(np.mean(cv_means))) * (1 + ((K - 2) / K) ** 1.5) if bias_reps > 0 else 0.0
    est = raw - bias
    se_ncv = errs.std(ddof=1) / math.sqrt(n) * math.sqrt(infl)
    if groups is not None:  # a separate step, so that groups=None stays bit-identical
        se_ncv *= math.sqrt(deff)
    naive_mean = float(naive_errs.mean())
    se_naive = naive_errs.std(ddof=1) / math.sqrt(n)
    # the named losses are >= 0 (zero_one also <= 1): a normal interval near 0 crossed the bound (an error rate of
    # 0.017 reported as [-0.019, 0.052]); its limits are clipped and flagged, as repeated_cv's are
    bounds = _LOSS_RANGE.get(name, (-np.inf, np.inf)) if isinstance(loss, (str, type(None))) else (-np.inf, np.inf)
    ncv_lo, ncv_hi, ncv_clipped = _clip_interval(est - z * se_ncv, est + z * se_ncv, bounds)
    nv_lo, nv_hi, nv_clipped = _clip_interval(naive_mean - z * se_naive, naive_mean + z * se_naive, bounds)
    return pd.DataFrame([
        {"interval": "ncv", "value": est, "ci_low": ncv_lo, "ci_high": ncv_hi, "se": se_ncv,
         "alpha": alpha, "estimand": "Err_XY: error of the model fitted to these data (Bates et al. 2023)" +
                                     ("" if groups is None else ", on new groups"),
         "inflation": infl, "inflation_raw": float(infl_raw), "design_effect": deff,
         "design_effect_raw": deff_raw, "bias": float(bias), "raw_mean": raw, "loss": name,
         "n_fits": len(jobs) + n_reps * K + n_cv_runs * K, "clipped": ncv_clipped},
        {"interval": "naive", "value": naive_mean, "ci_low": nv_lo, "ci_high": nv_hi, "se": se_naive, "alpha": alpha,
         "estimand": "read as Err_XY, but undercovers: ignores correlation between folds",
         "inflation": 1.0, "inflation_raw": np.nan, "design_effect": 1.0, "design_effect_raw": np.nan,
         "bias": 0.0, "raw_mean": naive_mean, "loss": name,
         "n_fits": K, "clipped": nv_clipped},
    ])


# --------------------------------------------------------------------------------------------
# Learning curves
# --------------------------------------------------------------------------------------------
def _check_groups_whole(splits, codes, groups, field: str = "cv") -> None:
    """Refuse a user's splitter that put a group on both sides of a split (KFold ignores ``groups``): its
    test scores would be those of seen groups, the leak that ``groups`` is passed to prevent."""
    for j, (train, test) in enumerate(splits):
        both = np.intersect1d(codes[train], codes[test])
        if both.size:
            first = np.asarray(groups)[np.flatnonzero(codes == both[0])[0]]
            first = first.item() if isinstance(first, np.generic) else first
            raise ValidationError(field, f"split {j} has {both.size} groups in both its training and test rows "
                                        f"(first: group {first!r}); the splitter ignores groups",
                                  hint="pass a group splitter (GroupKFold, StratifiedGroupKFold, "
                                       "LeaveOneGroupOut, ...) or an int")


def _check_user_splits_keep_groups(splits, groups, n, field: str) -> None:
    """:func:`_check_groups_whole` for repeated_cv / nested_cv, whose user splitters get the groups as given:
    with ``groups`` and a splitter that ignores them (KFold, TimeSeriesSplit, ...) scikit-learn only warns,
    and the scores were those of groups seen in training (a silent leak)."""
    codes, _ = unit_index(check_unit_ids(groups, "groups", n, ref="sample"))
    _check_groups_whole(splits, codes, groups, field)


def _group_prefix_splits(splits, codes, seed):
    """The splits with each training set's rows ordered group by group (groups in random order, rows in
    random order within their group), the split with the fewest training rows first.

    scikit-learn's ``learning_curve`` (shuffle=False) trains on the first s rows of each training set, s
    taken from the first split's size: ordered this way, those are whole groups except the last one, which
    can be cut, and every split has at least s rows (a shorter later training set would give fewer rows,
    silently)."""
    rng = np.random.default_rng(seed)
    out = []
    for train, test in splits:
        train = np.asarray(train)
        group_key = rng.permutation(int(codes.max()) + 1)  # a random rank per group
        order = np.lexsort((rng.random(train.size), group_key[codes[train]]))  # by group, random within
        out.append((train[order], np.asarray(test)))
    first = int(np.argmin([tr.size for tr, _ in out]))
    return [out[first]] + out[:first] + out[first + 1:]


def _check_train_sizes(train_sizes) -> np.ndarray:
    """Shares of a training fold in (0, 1] or row counts >= 1, as scikit-learn reads them (integers are counts,
    floats shares); checked here, by name and row: scikit-learn turned a NaN into a training set of one row."""
    raw = as_array(train_sizes, "train_sizes", ndim=1)
    if raw.size == 0:
        raise ValidationError("train_sizes", "must hold at least one size")
    if raw.dtype != bool and np.issubdtype(raw.dtype, np.integer):
        raise_if_any(raw < 1, "train_sizes", "row counts must be >= 1", raw)
        return raw.astype(np.int64)
    ts = check_finite(raw, "train_sizes")
    raise_if_any(ts <= 0, "train_sizes", "must be > 0 (a share of the training fold in (0, 1], or a row count)", ts)
    if (ts <= 1).all():
        return ts
    if (ts >= 1).all() and (ts == np.round(ts)).all():
        return ts.astype(np.int64)  # whole numbers written as floats: counts (scikit-learn refuses 2.0 as a share)
    raise ValidationError("train_sizes", f"must be all shares in (0, 1] or all whole row counts, got {ts.tolist()}")


def _check_train_counts(train_sizes: np.ndarray, n_max: int) -> None:
    """Row counts (integer ``train_sizes``) must fit in the training set scikit-learn reads them against."""
    if np.issubdtype(train_sizes.dtype, np.integer):
        raise_if_any(train_sizes > n_max, "train_sizes", f"row counts must be at most the training set's "
                                                         f"{n_max} rows", train_sizes,
                     hint="pass shares in (0, 1] to scale with the training folds")


def learning_curve_ci(estimator, X, y, *, train_sizes=(0.1, 0.325, 0.55, 0.775, 1.0), n_splits: int = 5,
                      n_repeats: int = 4, scoring=None, alpha: float = 0.05, random_state=None, n_jobs=None,
                      cv=None, groups=None) -> pd.DataFrame:
    """Learning curve (scikit-learn's ``learning_curve``) with an interval per training-set size.

    For each size s the J = n_splits n_repeats test scores get the Nadeau-Bengio corrected t
    interval with ratio n_test / s: an interval for the algorithm's expected score when trained on
    s rows. (The correction was derived for random training sets of one size; here the size-s
    subsets are prefixes of overlapping training folds, so treat it as approximate.) ``cv``
    overrides the repeated (stratified) K-fold splitter: a scikit-learn splitter, or an int for
    that many folds. The default splits are those of :func:`repeated_cv` with the same
    ``n_splits``, ``n_repeats`` and ``random_state``, so at ``train_size`` 1.0 the row equals
    :func:`repeated_cv`'s Nadeau-Bengio row when every training fold has the same size; otherwise
    they differ slightly (scikit-learn takes the sizes from the first split and trims larger
    training folds to them).

    Clustered rows (several per patient, user, site): pass ``groups``. Row folds would score the
    model on groups it was trained on, so every point of the curve would be optimistic for new
    groups. With ``groups`` the default splits are :func:`repeated_cv`'s group splits (each group
    within one fold; stratified by class for classifiers); an int ``cv`` is group k-fold, as in
    :func:`repeated_cv`, and a splitter ``cv`` that puts a group on both sides of a split is refused.
    The size-s training sets are subsets of whole groups too: each training set is ordered group by
    group (groups in random order, rows in random order within a group) and its first s rows are
    used, so all but the last group are whole and that one can be cut. (scikit-learn's row shuffle,
    used without ``groups``, would draw s rows from most training groups, more groups than s rows of
    the same population hold, and so describe a more varied training set than the one you would
    collect.) The sizes are then taken from the smallest training set, which is placed first, so
    that every split trains on exactly s rows (the training sets differ in size, as groups do).

    Parameters
    ----------
    groups : array-like of shape (n_samples,), optional
        Cluster id of each row (integers or strings, none missing; the rule of :func:`repeated_cv`).
        ``None`` (default): rows are independent, and the result is that of the function without
        this argument.

    Returns
    -------
    DataFrame: train_size, value (mean test score), ci_low, ci_high, se, train_score, alpha, J,
    clipped (limits clipped to the scorer's known range, as in :func:`repeated_cv`).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> from workbench.resample import learning_curve_ci
    >>> X, y = load_iris(return_X_y=True)
    >>> lc = learning_curve_ci(DecisionTreeClassifier(max_depth=3, random_state=0), X, y,
    ...                        train_sizes=(0.2, 0.6, 1.0), n_splits=5, n_repeats=1, random_state=0)
    >>> lc["train_size"].tolist(), lc["J"].tolist()      # sizes out of the 120 training rows of a fold
    ([24, 72, 120], [5, 5, 5])
    >>> bool(((lc["ci_low"] <= lc["value"]) & (lc["value"] <= lc["ci_high"]) & (lc["ci_high"] <= 1)).all())
    True
    """
    from sklearn.model_selection import learning_curve

    check_estimator(estimator)
    check_xy(X, y, groups, [estimator])  # by name, before any split or fit
    check_single_scoring(scoring)
    alpha = check_alpha(alpha)
    n_jobs = check_n_jobs(n_jobs)
    train_sizes = _check_train_sizes(train_sizes)
    if groups is not None:  # repeated_cv's id rule, before any split; the codes are what the splitters see
        codes, _ = unit_index(check_unit_ids(groups, "groups", len(y), ref="sample"))
    if cv is not None:  # an int means k folds, as in repeated_cv and scikit-learn (it crashed after every fit)
        cv = _user_cv(cv, y, estimator, groups)
    # one seed for the splits and the shuffle (a Generator or None gave each its own draw); the splits are
    # those of repeated_cv with the same random_state
    estimator = seed_unseeded(estimator, random_state)  # as repeated_cv seeds it (before the seed is drawn)
    seed = _cv_seed(random_state)
    if cv is None:
        n_splits, n_repeats = _check_folds(n_splits, n_repeats, y, stratified=_stratifies(estimator, groups))
    splitter = cv if cv is not None else _default_splitter(estimator, n_splits, n_repeats, seed, groups)
    if groups is None:
        # scikit-learn reads row counts against the first split's training set (its "must be within (0, 32]"
        # named no argument): checked here, by name
        _check_train_counts(train_sizes, len(next(iter(splitter.split(X, y)))[0]))
        sizes, train_scores, test_scores = learning_curve(estimator, X, y, train_sizes=train_sizes,
                                                          cv=splitter, scoring=scoring, n_jobs=n_jobs, shuffle=True,
                                                          random_state=seed)
        n = np.asarray(y).shape[0]
        n_test = n / n_splits if cv is None else float(np.mean([len(te) for _, te in splitter.split(X, y)]))
    else:
        splits = list(splitter.split(X, y, codes))
        if cv is not None:
            _check_groups_whole(splits, codes, groups)
        # scikit-learn's row shuffle would build each size-s training set from rows of many more groups
        # than s rows of whole groups hold; the prefixes of group-ordered training rows are whole groups
        splits = _group_prefix_splits(splits, codes, seed)
        _check_train_counts(train_sizes, len(splits[0][0]))  # the smallest training set, placed first
        sizes, train_scores, test_scores = learning_curve(estimator, X, y, train_sizes=train_sizes,
                                                          cv=splits, scoring=scoring, n_jobs=n_jobs, shuffle=False)
        n_test = float(np.mean([len(te) for _, te in splits]))
    nan_per_size = np.isnan(np.asarray(test_scores, dtype=np.float64)).sum(axis=1)
    if nan_per_size.any():
        # scikit-learn's FitFailedWarning counts failures over all sizes together ("1 fits failed out of a
        # total of 20"); which rows of the table it made NaN is said here
        where = ", ".join(f"{int(c)} of {len(te)} at train_size {int(s)}"
                          for s, c, te in zip(sizes, nan_per_size, test_scores) if c)
        warnings.warn(f"learning_curve_ci: test scores are NaN ({where}): a fit failed (e.g. a small training "
                      "subset without every class) or the scorer failed; those rows' value and interval are NaN",
                      RuntimeWarning, stacklevel=2)
    rows = []
    bounds = _score_range(scoring, estimator)
    for s, tr, te in zip(sizes, train_scores, test_scores):
        _warn_no_spread("learning_curve_ci", te, f" at train_size {int(s)}")
        m, lo, hi, se = _t_interval(np.asarray(te, float), alpha, n_test / s)
        lo, hi, clipped = _clip_interval(lo, hi, bounds)
        rows.append({"train_size": int(s), "value": m, "ci_low": lo, "ci_high": hi, "se": se,
                     "train_score": float(np.mean(tr)), "alpha": alpha, "J": len(te), "clipped": clipped})
    return pd.DataFrame(rows)
