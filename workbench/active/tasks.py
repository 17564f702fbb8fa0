"""The model-selection task suite: model zoos on real and synthetic data, with shifted pools.

Every task is a :class:`~workbench.data.PredictionLog` made by
:func:`workbench.data.make_model_zoo` (cached as .npz, so only the first call fits models), with the
pool's true labels as the oracle. Difficulty is measured by the top-1/top-2 accuracy gap and the
number of models within one accuracy point of the best, and by whether the pool's best model is
also the best on the most contested points (see :func:`contested_points`), and by the labels an
unbiased comparison of the top two models needs (:func:`labels_to_order_pair`).

A shifted task is its unshifted task's zoo scored on a shifted pool: for the "noise" and "prior"
shifts (``digits_noise``, ``breast_cancer_noise``, ``synthetic_noise``, ``synthetic_prior``)
:func:`~workbench.data.make_model_zoo` fits the same models as for the unshifted task and draws the
shift after them, so ``digits`` and ``digits_noise`` compare the same 40 models before and after
the shift. ``digits_missing_class`` keeps the pool and the models' seeds but draws each model's
subsample without the removed class: other models.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from .._validation import ValidationError, as_array, check_real, check_same_index, raise_if_any

# name -> (data set, shift, shift_strength); the synthetic data set's size is SYNTHETIC_PARAMS["n_samples"].
# A shifted task ("_noise", "_prior") holds its unshifted task's models on a shifted pool (make_model_zoo
# draws the shift after the models); "_missing_class" keeps the pool and the seeds, not the subsamples.
TASKS = {
    "digits": ("digits", None, 1.0),
    "digits_noise": ("digits", "noise", 1.0),
    "digits_missing_class": ("digits", "missing_class", 1.0),
    "breast_cancer": ("breast_cancer", None, 1.0),
    "breast_cancer_noise": ("breast_cancer", "noise", 0.7),
    "synthetic": ("synthetic", None, 1.0),
    "synthetic_prior": ("synthetic", "prior", 1.0),
    "synthetic_noise": ("synthetic", "noise", 0.7),
}
# scikit-learn's make_classification arguments for the synthetic data set (its random_state is the task's)
SYNTHETIC_PARAMS = {"n_samples": 2000, "n_features": 20, "n_informative": 8, "n_redundant": 4, "n_classes": 4,
                    "n_clusters_per_class": 2, "class_sep": 0.8, "flip_y": 0.03}
DEFAULT_SUITE = ("digits", "digits_noise", "digits_missing_class", "breast_cancer", "breast_cancer_noise", "synthetic",
                 "synthetic_prior")


def _dataset(name: str, random_state):
    from sklearn import datasets

    from .._random import check_random_state

    if name == "digits":
        return datasets.load_digits(return_X_y=True)
    if name == "breast_cancer":
        return datasets.load_breast_cancer(return_X_y=True)
    if name == "synthetic":
        if isinstance(random_state, bool) or not (isinstance(random_state, (int, np.integer))
                                                  and 0 <= random_state < 2**32):
            # scikit-learn takes a seed in [0, 2**32) or None, and None meant numpy's global state (which the
            # package never touches). Anything else the package accepts (None, a Generator, a SeedSequence,
            # a larger int) gives one draw of our own as the seed; what it refuses is refused by our check.
            random_state = int(check_random_state(random_state).integers(2**32))
        return datasets.make_classification(**SYNTHETIC_PARAMS, random_state=random_state)
    raise ValidationError("dataset", f"unknown data set {name!r}")


def _vote_entropy(predicted: np.ndarray) -> np.ndarray:
    """(N,) entropy of the models' hard votes at each point, from (n_models, N) class indices.

    One path for every class numbering, computed from each point's vote counts alone: points with
    the same multiset of counts get bit-identical entropies whatever their classes are called. (Two
    paths, one column per class id for small ids and a sorted one for large ids, gave entropies 1 ulp
    apart, and a quantile cut through such a tie in contested_points then depended on the ids.)"""
    H, N = predicted.shape
    # A point has at most H distinct votes, found by sorting its votes: O(N H) memory (one column per class
    # id took 8 GB per point for a raw class id of 1e9, and 400 MB for 1000 classes on 50k points).
    srt = np.sort(predicted.T, axis=1)  # (N, H)
    start = np.ones((N, H), bool)  # first vote of each run of equal classes
    start[:, 1:] = srt[:, 1:] != srt[:, :-1]
    count = np.bincount(np.cumsum(start.ravel()) - 1)  # votes per run, runs in row-major order
    counts = np.zeros((N, H), np.intp)
    counts[start] = count  # at its run's first column
    counts = np.sort(counts, axis=1)  # each point's counts, zeros first, then smallest to largest
    # the term -p log p of a share of c votes, c = 0..H (0 log 0 = 0); the share as np.add.at summed it
    # before (1/H added c times in sequence, np.cumsum is sequential)
    share = np.cumsum(np.full(H, 1.0 / H))
    term = np.concatenate([[0.0], -share * np.log(share)])
    terms = term[counts]  # (N, H)
    # Summed column by column in one fixed order, smallest share first: an exact function of the counts (the
    # zeros add nothing). With fewer than 8 classes this is the order and the value of the former one-column-
    # per-class path (numpy sums fewer than 8 terms in sequence); with more, values can move by an ulp or so.
    out = np.zeros(N)
    for j in range(H):
        out += terms[:, j]
    return out


def contested_points(predicted: np.ndarray, share: float = 0.1) -> np.ndarray:
    """Mask of the pool's most contested points: the top ``share`` by vote entropy of the models'
    hard predictions, among the points where they do not all agree.

    Samplers that favour disagreement (``uncertainty``, ``margin``, and CODA, whose information
    gain ranks points almost exactly by vote entropy) label mostly these points, and counting
    agreements there picks the model that is best *there*. When that is not the pool's best model
    (``difficulty()["contested_best_rank"] > 0``) such a sampler can settle on the wrong model;
    when it is, the same bias speeds it up.

    Examples
    --------
    Three models' hard predictions on five points: they agree on points 0 and 2, two of three
    agree on point 1, and all three differ on points 3 and 4.

    >>> import numpy as np
    >>> from workbench.active import contested_points
    >>> predicted = np.array([[0, 0, 1, 2, 1],
    ...                       [0, 0, 1, 0, 2],
    ...                       [0, 1, 1, 1, 0]])
    >>> contested_points(predicted, share=0.5)
    array([False, False, False,  True,  True])
    """
    predicted = as_array(predicted, "predicted", ndim=2)
    if not np.issubdtype(predicted.dtype, np.integer) or predicted.size == 0 or predicted.min() < 0:
        raise ValidationError("predicted", f"must be a non-empty (n_models, n_points) array of class indices >= 0, "
                                           f"got dtype {predicted.dtype}, shape {predicted.shape}")
    share = check_real(share, "share")  # not a bare comparison: "0.5" raised a TypeError, True passed as 1
    if not 0 < share <= 1:
        raise ValidationError("share", f"must be in (0, 1], got {share}")
    vent = _vote_entropy(predicted)
    disagree = ~(predicted == predicted[0]).all(axis=0)
    if not disagree.any():
        return np.zeros(predicted.shape[1], bool)
    cut = np.quantile(vent[disagree], 1.0 - share)
    return disagree & (vent >= cut)


def labels_to_order_pair(pred_a, pred_b, labels, level: float = 0.9) -> float:
    """Labels, drawn uniformly without replacement from the points where two models predict
    differently, for the difference in their correct counts to favour the more accurate one
    (``a``) with probability ``level`` (normal approximation, finite-population corrected).

    Only those points separate the two models (elsewhere both are right or both wrong), and they
    are known before any label, so this is what an unbiased design that knew the pair would need.
    With D_i = 1{a right} - 1{b right} on those N_d points (mean g > 0, S^2 their variance with
    divisor N_d - 1), the mean of n draws has variance (S^2 / n)(1 - n / N_d), which must not
    exceed (g / z)^2: n = S^2 / ((g / z)^2 + S^2 / N_d), rounded up, at least 1 and at most N_d.
    NaN when ``a`` is not more accurate than ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.zeros(1000, int)
    >>> a = np.zeros(1000, int); a[60:100] = 1  # a is wrong on 40 points
    >>> b = np.zeros(1000, int); b[:60] = 1  # b is wrong on 60 others: a leads by 20 of the 100 disputed points
    >>> labels_to_order_pair(a, b, y)
    29.0
    """
    check_same_index([("pred_a", pred_a), ("pred_b", pred_b), ("labels", labels)])  # paired by position
    a = as_array(pred_a, "pred_a", ndim=1)
    b = as_array(pred_b, "pred_b", ndim=1)
    y = as_array(labels, "labels", ndim=1)
    for name, v in (("pred_b", b), ("labels", y)):
        if v.shape != a.shape:
            raise ValidationError(name, f"must have the shape of pred_a {a.shape}, got {v.shape}")
    for name, v in (("pred_a", a), ("pred_b", b), ("labels", y)):
        if not np.issubdtype(v.dtype, np.integer):
            raise ValidationError(name, f"must hold class indices (integers), got dtype {v.dtype}")
        bad = np.flatnonzero(v < 0)
        if bad.size:  # e.g. -1 marking an unlabelled point: it would silently count as an error of both
            raise ValidationError(name, f"must be class indices >= 0 (every point labelled); {bad.size} rows are "
                                        f"negative, first at row {bad[0]}: {v[bad[0]]}")
    level = check_real(level, "level")  # not a bare comparison: "0.9" raised a TypeError
    if not 0.5 < level < 1:
        raise ValidationError("level", f"must be in (0.5, 1), got {level}")
    differ = a != b
    d = (a[differ] == y[differ]).astype(float) - (b[differ] == y[differ])
    if d.size == 0 or d.mean() <= 0:
        return float("nan")
    z = special.ndtri(level)
    s2 = d.var(ddof=1) if d.size > 1 else 0.0  # the finite population's S^2 (divisor N_d - 1)
    n = s2 / ((d.mean() / z) ** 2 + s2 / d.size)
    return float(min(d.size, max(1, np.ceil(n - 1e-9))))


@dataclass(frozen=True)
class SelectionTask:
    """One model-selection problem: a zoo's predictions on a pool with known labels.

    Examples
    --------
    A toy zoo of four models, each right on a random share of the pool (0.8 on its predicted class):

    >>> import numpy as np
    >>> from workbench.data import PredictionLog
    >>> from workbench.active import SelectionTask
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 3, 200)
    >>> right = rng.random((4, 200)) < np.array([[0.6], [0.7], [0.8], [0.9]])
    >>> pred = np.where(right, y, (y + 1) % 3)
    >>> probs = np.where(np.arange(3) == pred[..., None], 0.8, 0.1)
    >>> task = SelectionTask("toy", PredictionLog(probs, labels=y), dataset="synthetic", shift=None)
    >>> task
    SelectionTask('toy': 4 models, 200 points, top-2 0.915/0.840, 1 within 1 point)
    >>> task.best, task.accuracy.round(3).tolist()
    (3, [0.565, 0.715, 0.84, 0.915])
    >>> d = task.difficulty()
    >>> round(d["gap_points"], 1), d["contested_best_rank"], d["labels_to_order_top2"]
    (7.5, 0, 11.0)
    """

    name: str
    zoo: object  # PredictionLog
    dataset: str
    shift: str | None

    def __post_init__(self):
        # The labels are the oracle and the truth: with some missing, ``accuracy`` counted the labelled
        # points only, while ``difficulty()`` (and so the repr) failed in labels_to_order_pair on the -1
        # markers and benchmark_selection refused the task later. Refused here, with the count and first row.
        from ..data import PredictionLog

        zoo = self.zoo
        if not isinstance(zoo, PredictionLog) or zoo.probs is None:
            got = "a regression PredictionLog" if isinstance(zoo, PredictionLog) else type(zoo).__name__
            raise ValidationError("zoo", f"must be a classification PredictionLog (class probabilities), got {got}")
        if zoo.labels is None:
            raise ValidationError("zoo", "needs the label of every pool point (the oracle and the truth); it has none")
        raise_if_any(~zoo.labelled, "zoo", "needs the label of every pool point (the oracle and the truth)",
                     hint="Label every point, or keep the labelled ones: zoo.subset_points(zoo.labelled)")

    @property
    def accuracy(self) -> np.ndarray:
        """Each model's accuracy on the task's pool."""
        return self.zoo.accuracy().to_numpy()

    @property
    def best(self) -> int:
        """Index of the most accurate model (the first of models tied for it; ``difficulty()["n_tied_best"]``
        counts them, and benchmark_selection's ``p_best`` counts a pick of any of them as best)."""
        return int(np.argmax(self.accuracy))

    def difficulty(self, contested_share: float = 0.1) -> dict:
        """Top-1/top-2 accuracy and gap (points), models within 1 point of the best, exact ties,
        the zoo consensus's accuracy, the disagreement rate, and on the ``contested_share`` most
        contested points (:func:`contested_points`): the pool best's rank there
        (``contested_best_rank``, 0 = still best; with models tied for the pool's best, the best
        rank among them) and the pool regret, in points, of the model that
        is best there (``contested_best_regret``; the mean over models tied there). Last, how hard
        the top two are to order from labels: the share of the pool where they predict differently
        (``top2_disagreement_rate``) and the labels an unbiased design that knew the pair would need
        (``labels_to_order_top2``, :func:`labels_to_order_pair`; NaN for an exact tie). The top two
        are the first two of a stable sort by accuracy: among models tied for first or second place
        the one listed first in the zoo is taken, so with such ties these two entries depend on
        the order of the models. With one
        model, ``top2``, ``gap_points`` and both top-2 entries are NaN."""
        accuracy = self.accuracy
        order = np.argsort(-accuracy, kind="stable")
        acc = accuracy[order]
        # a one-model zoo has no second model: the top-2 entries are NaN
        first, second = (order[0], order[1]) if order.size > 1 else (order[0], None)
        preds = self.zoo.predicted
        disagree = float((~(preds == preds[0]).all(axis=0)).mean())
        hard = contested_points(preds, contested_share)
        if hard.any():
            acc_hard = (preds[:, hard] == self.zoo.labels[hard]).mean(axis=1)
            # with models tied for the pool's best (any of them is "the best", as in benchmark_selection's
            # p_best), the best rank among them: not the first one's, which depended on the models' order
            # (and could be > 0 with contested_best_regret 0)
            best_there = acc_hard[accuracy >= accuracy.max() - 1e-12].max()
            rank = int((acc_hard > best_there + 1e-12).sum())
            # ties there are broken at random by a counting pick: the expected regret over the tied models
            regret = 100 * float(accuracy.max() - accuracy[acc_hard >= acc_hard.max() - 1e-12].mean())
        else:  # every model predicts the same labels: no contested point
            rank, regret = 0, 0.0
        top2 = float(acc[1]) if second is not None else float("nan")
        return {"task": self.name, "n_models": self.zoo.n_models, "n_points": self.zoo.n_points,
                "n_classes": self.zoo.n_classes, "top1": float(acc[0]), "top2": top2,
                "gap_points": 100 * float(acc[0] - top2),
                # 1e-12: a gap of exactly one point (0.9 - 0.89 = 0.010000000000000009) is within it, as
                # in benchmark_selection's "within 1 point"
                "n_within_1pt": int((acc >= acc[0] - 0.01 - 1e-12).sum()),
                "n_tied_best": int((acc >= acc[0] - 1e-12).sum()),
                "consensus_acc": float((self.zoo.probs.mean(0).argmax(1) == self.zoo.labels).mean()),
                "disagreement_rate": disagree, "contested_best_rank": rank, "contested_best_regret": regret,
                "top2_disagreement_rate": float((preds[first] != preds[second]).mean()) if second is not None
                else float("nan"),
                "labels_to_order_top2": labels_to_order_pair(preds[first], preds[second], self.zoo.labels)
                if second is not None else float("nan")}

    def __repr__(self) -> str:
        d = self.difficulty()
        return (f"SelectionTask({self.name!r}: {d['n_models']} models, {d['n_points']} points, top-2 "
                f"{d['top1']:.3f}/{d['top2']:.3f}, {d['n_within_1pt']} within 1 point)")


def _check_task_name(name, field: str, first=None) -> None:
    """A name of :data:`TASKS`: a str (a list was a bare TypeError "unhashable type" from the lookup)."""
    at = "" if first is None else f" (entry {first})"
    if not isinstance(name, str):
        raise ValidationError(field, f"must be a task name (a str) from {list(TASKS)}; got {type(name).__name__} "
                                     f"{name!r}{at}", first=first)
    if name not in TASKS:
        raise ValidationError(field, f"must be one of {list(TASKS)}, got {name!r}{at}", first=first)


def load_task(name: str, n_models: int = 40, random_state=0, cache_dir=None, n_jobs=None,
              progress: bool = True) -> SelectionTask:
    """Build (or load from the cache) one task of :data:`TASKS`.

    ``random_state`` seeds the synthetic data set and the zoo's models and splits. An int is
    part of the cache key (the task loads from the cache after its first build); a Generator or
    None is accepted but not cached (a new zoo is fitted on each call), and for the synthetic
    data set a Generator's first draw seeds the data. ``progress``: the zoo's fitting bar (tqdm).

    Examples
    --------
    >>> from workbench.active.tasks import load_task
    >>> task = load_task("breast_cancer", n_models=8, cache_dir=False)  # fitted now, not cached
    >>> task
    SelectionTask('breast_cancer': 8 models, 284 points, top-2 0.972/0.951, 1 within 1 point)
    """
    from ..data import make_model_zoo

    _check_task_name(name, "task")
    data, shift, strength = TASKS[name]
    X, y = _dataset(data, random_state)
    zoo = make_model_zoo(X, y, n_models=n_models, shift=shift, shift_strength=strength, random_state=random_state,
                         cache_dir=cache_dir, n_jobs=n_jobs, progress=progress)
    return SelectionTask(name=name, zoo=zoo, dataset=data, shift=shift)


def task_suite(names=DEFAULT_SUITE, n_models: int = 40, random_state: int = 0, cache_dir=None,
               n_jobs=None, progress: bool = True) -> list:
    """The tasks named in ``names`` (default :data:`DEFAULT_SUITE`).

    Each task is built by :func:`load_task` with the same arguments: the first call fits the
    zoos, and later calls with an int ``random_state`` load them from the cache (``cache_dir``;
    False disables it). Every name is checked (a str of :data:`TASKS`, no repeats) before the
    first zoo is fitted.

    Examples
    --------
    Two small zoos on the breast cancer data (bundled with scikit-learn), cached in a temporary
    directory rather than in ``~/.cache/workbench``:

    >>> import shutil, tempfile
    >>> import numpy as np
    >>> from workbench.active import task_suite
    >>> cache = tempfile.mkdtemp()
    >>> tasks = task_suite(["breast_cancer", "breast_cancer_noise"], n_models=2, cache_dir=cache)
    >>> [(t.name, t.shift, t.zoo.n_models, t.zoo.n_points) for t in tasks]
    [('breast_cancer', None, 2, 284), ('breast_cancer_noise', 'noise', 2, 284)]
    >>> again = task_suite(["breast_cancer"], n_models=2, cache_dir=cache)  # loaded from the cache
    >>> np.array_equal(again[0].zoo.probs, tasks[0].zoo.probs)
    True
    >>> shutil.rmtree(cache)
    """
    names = [names] if isinstance(names, str) else names  # one name, not its letters
    if not isinstance(names, (list, tuple)):
        try:  # any other iterable of names (a generator, a dict's keys), read once here
            names = list(names)
        except TypeError:
            raise ValidationError("names", f"must be a task name or a sequence of task names, got "
                                           f"{type(names).__name__}") from None
    # Every name checked before any zoo is fitted: a typo in the last name failed only after the zoos of the
    # others had been fitted (minutes, uncached), and a repeated name fitted or loaded its zoo twice.
    seen = {}
    for i, n in enumerate(names):
        _check_task_name(n, "names", first=i)
        if n in seen:
            raise ValidationError("names", f"must be distinct; {n!r} appears at entries {seen[n]} and {i}", first=i)
        seen[n] = i
    return [load_task(n, n_models=n_models, random_state=random_state, cache_dir=cache_dir, n_jobs=n_jobs,
                      progress=progress) for n in names]


def difficulty_table(tasks, contested_share: float = 0.1) -> pd.DataFrame:
    """One row per task: top-1/top-2 accuracy, gap in points, models within 1 point, ..., and how
    the pool's best fares on the most contested points (see :meth:`SelectionTask.difficulty`).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.data import PredictionLog
    >>> from workbench.active import SelectionTask, difficulty_table
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 300)
    >>> def toy_task(name, accuracies):  # each model right on a random share of the pool
    ...     right = rng.random((len(accuracies), y.size)) < np.asarray(accuracies)[:, None]
    ...     pred = np.where(right, y, 1 - y)
    ...     return SelectionTask(name, PredictionLog(np.eye(2)[pred] * 0.8 + 0.1, labels=y), "synthetic", None)
    >>> tab = difficulty_table([toy_task("easy", [0.6, 0.9]), toy_task("hard", [0.8, 0.81, 0.82])])
    >>> tab.shape
    (2, 15)
    >>> tab["task"].tolist(), tab["n_models"].tolist()
    (['easy', 'hard'], [2, 3])
    >>> tab["gap_points"].round(1).tolist(), tab["n_tied_best"].tolist()
    ([36.0, 0.0], [1, 2])
    """
    if isinstance(tasks, SelectionTask):  # one task, as benchmark_selection and task_suite take it
        tasks = [tasks]
    if isinstance(tasks, (str, bytes, dict)) or not hasattr(tasks, "__iter__"):
        raise ValidationError("tasks", f"must be a SelectionTask or a sequence of them (task_suite's), got "
                                       f"{type(tasks).__name__}")
    tasks = list(tasks)  # read once (a generator)
    # a number or a PredictionLog among them was an AttributeError ('int' object has no attribute 'difficulty')
    bad = [j for j, t in enumerate(tasks) if not isinstance(t, SelectionTask)]
    if bad:
        raise ValidationError("tasks", f"must hold SelectionTasks only; {len(bad)} of {len(tasks)} entries are not, "
                                       f"first at entry {bad[0]} ({type(tasks[bad[0]]).__name__})",
                              hint="wrap a PredictionLog as SelectionTask(name, log, dataset, shift), or use "
                                   "task_suite()")
    return pd.DataFrame([t.difficulty(contested_share) for t in tasks])
