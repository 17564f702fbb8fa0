"""A varied zoo of scikit-learn classifiers scored on a held-out pool, cached to disk."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from .._parallel import run_tasks
from .._random import check_random_state
from .._validation import (ValidationError, as_array, check_bool, check_choice, check_finite, check_int,
                           check_integer_in_range, check_real, check_same_index)
from .logs import PredictionLog

SHIFTS = (None, "noise", "prior", "missing_class")


def _check_cache_dir(cache_dir):
    """None (the default place), False (no cache) or a path: True or 0 were a TypeError from pathlib (or went
    unnoticed with a Generator seed, which is never cached)."""
    if cache_dir is None or cache_dir is False or isinstance(cache_dir, (str, os.PathLike)):
        return cache_dir
    raise ValidationError("cache_dir", f"must be a directory path, None (the default cache) or False (no cache), "
                                       f"got {cache_dir!r}")


def _cache_dir(cache_dir) -> Path | None:
    if cache_dir is False:
        return None
    if cache_dir is None:
        # an empty WORKBENCH_CACHE (``export WORKBENCH_CACHE=``) is unset: Path("") cached into the current directory
        cache_dir = os.environ.get("WORKBENCH_CACHE") or Path.home() / ".cache" / "workbench"
    return Path(cache_dir).expanduser() / "zoo"


def _save_atomic(zoo, cache_file: Path) -> None:
    """Write ``zoo`` to ``cache_file`` through a temporary file of this writer's own in the same folder, then
    os.replace it into place. A fixed temporary name made two processes (or threads) filling the same cache
    entry at once collide: the second os.replace found the first one's file gone (FileNotFoundError). Every
    writer of an entry writes the same zoo, so the last one to replace wins; the temporary file is removed
    if anything fails."""
    import secrets

    cache_file.parent.mkdir(parents=True, exist_ok=True)
    while True:
        # "<key>.<random>.tmp.npz": matched by .gitignore's *.tmp.npz, never read as an entry ("<key>.npz").
        # Reserved by an exclusive create (as tempfile.mkstemp does) but with the umask's permissions, not
        # mkstemp's 0600, which os.replace would have carried to the entry of a cache folder shared by a team.
        tmp = cache_file.with_name(f"{cache_file.stem}.{secrets.token_hex(8)}.tmp.npz")
        try:
            open(tmp, "xb").close()
            break
        except FileExistsError:  # another writer drew the same 64 random bits
            continue
    try:
        zoo.save(tmp)  # writes through an open file object: np.savez adds no ".npz" of its own
        os.replace(tmp, cache_file)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _zoo_members(n_models: int, rng: np.random.Generator):
    """A list of (name, unfitted estimator): families cycled, hyper-parameters varied."""
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.tree import DecisionTreeClassifier

    seeds = rng.integers(0, 2**31 - 1, size=n_models)
    families = [
        lambda i, s: (f"logreg_C{[0.001, 0.01, 0.1, 1.0, 10.0][i % 5]:g}",
                      make_pipeline(StandardScaler(), LogisticRegression(C=[0.001, 0.01, 0.1, 1.0, 10.0][i % 5],
                                                                         max_iter=2000))),
        lambda i, s: (f"tree_depth{[2, 4, 8, None][i % 4]}",
                      DecisionTreeClassifier(max_depth=[2, 4, 8, None][i % 4], random_state=s)),
        lambda i, s: (f"forest_{[5, 20, 50][i % 3]}",
                      RandomForestClassifier(n_estimators=[5, 20, 50][i % 3], max_depth=[4, None, 8][i % 3],
                                             random_state=s, n_jobs=1)),
        lambda i, s: (f"knn_{[1, 5, 15, 40][i % 4]}",
                      make_pipeline(StandardScaler(), KNeighborsClassifier(n_neighbors=[1, 5, 15, 40][i % 4]))),
        lambda i, s: ("gaussian_nb", GaussianNB(var_smoothing=[1e-9, 1e-3, 1e-1][i % 3])),
        lambda i, s: (f"mlp_{[8, 32, 64][i % 3]}",
                      make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=([8, 32, 64][i % 3],),
                                                                    alpha=[1e-4, 1e-2, 1.0][i % 3], max_iter=300,
                                                                    random_state=s))),
        lambda i, s: ("lda", LinearDiscriminantAnalysis(solver="lsqr", shrinkage=[None, 0.1, 0.5][i % 3])),
        lambda i, s: (f"extra_trees_{[10, 40][i % 2]}",
                      ExtraTreesClassifier(n_estimators=[10, 40][i % 2], max_depth=[6, None][i % 2], random_state=s,
                                           n_jobs=1)),
    ]
    out = []
    for j in range(n_models):
        fam, rep = j % len(families), j // len(families)
        name, est = families[fam](rep, int(seeds[j]))
        out.append((f"{name}#{j}", est))
    return out


def make_model_zoo(X, y, n_models: int = 16, shift: str | None = None, pool_size: float = 0.5,
                   train_fraction: float = 0.7, shift_strength: float = 1.0, random_state=0, cache_dir=None,
                   n_jobs: int | None = None, progress: bool = True) -> PredictionLog:
    """Fit a varied zoo of scikit-learn classifiers and log their probabilities on a held-out pool.

    The data are split into a training part and a pool (``pool_size``). Each model is trained on a
    random ``train_fraction`` subsample of the training part (so even same-family members differ);
    families (logistic regression, trees, forests, k-NN, naive Bayes, MLP, LDA, extra trees) are
    cycled with varied hyper-parameters.

    Parameters
    ----------
    X, y : arrays (n, d) and (n,) with integer classes 0..k-1
    n_models : int
    pool_size : float
        Share of the points held out as the pool, in (0, 1).
    train_fraction : float
        Share of the training part each model is fitted on, in (0, 1].
    shift : {None, "noise", "prior", "missing_class"}
        Distribution shift between training and pool. "noise": Gaussian noise of
        ``shift_strength`` feature standard deviations added to the pool's features (covariate
        shift); "prior": the pool is subsampled so the class frequencies become geometric (label
        shift); "missing_class": the last class is removed from the training data (every model is
        blind to it).
        A "noise" or "prior" shift keeps the models: the zoo is the ``shift=None`` zoo of the same
        ``random_state`` (same splits, seeds and training subsamples, so the same fitted models),
        scored on the shifted pool. The shift's own random draws (the noise, or which pool points
        are kept) come after the models' in the random stream. So ``digits`` against
        ``digits_noise`` compares the same models before and after the shift; under "prior" each
        kept point's probabilities equal the unshifted zoo's at that point. "missing_class" draws
        nothing extra either: its pool and its models' seeds are those of ``shift=None``, but each
        model's training subsample is drawn from the training part without the removed class, so
        its models differ.
    shift_strength : float
        Size of the "noise" or "prior" shift, >= 0. 0 is no shift: the zoo is then the one
        ``shift=None`` gives (same splits, models and probabilities). Ignored by the other shifts.
    cache_dir : path, None or False
        Where fitted zoos' predictions are cached as .npz (default ``$WORKBENCH_CACHE``, or
        ``~/.cache/workbench`` when it is unset or empty; ``~`` is expanded); False disables caching.
        The key hashes the data and every argument that changes the zoo (not ``n_jobs`` or
        ``progress``: the zoo is the same). Concurrent callers filling the same entry each write a
        temporary file of their own, and the last to finish replaces the entry (every one of them
        writes the same zoo). Only an int ``random_state`` is cached; a Generator or SeedSequence
        fits a new zoo on every call. A zoo loaded from the cache equals the freshly fitted one,
        array for array.
    n_jobs : int, optional
        Models are fitted in parallel with joblib (``joblib.parallel_config`` applies).
    progress : bool
        Show a progress bar while fitting (cached zoos load instantly).

    Returns
    -------
    PredictionLog
        ``probs`` (n_models, n_pool, n_classes), the pool's true ``labels`` (all labelled) and its
        ``features``.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from workbench.data import make_model_zoo
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> zoo = make_model_zoo(X, y, n_models=4, random_state=0, cache_dir=False)
    >>> zoo.n_models, zoo.n_classes
    (4, 2)
    """
    check_same_index([("X", X), ("y", y)])  # read by position: a y sorted on its own fitted the wrong rows
    cache_dir = _check_cache_dir(cache_dir)
    X = check_finite(as_array(X, "X", ndim=2), "X")
    y = check_integer_in_range(y, "y", 0, None)
    if y.shape[0] != X.shape[0]:
        raise ValidationError("y", f"must have one label per row of X: got {y.shape[0]}, expected {X.shape[0]}")
    check_choice(shift, "shift", SHIFTS)
    n_models = check_int(n_models, "n_models", low=1)  # int(2.5) would silently fit 2 models
    progress = check_bool(progress, "progress")  # before any fit: "no" is truthy
    # Fractions, checked here by name (out of range, scikit-learn or numpy raised their own errors, or a
    # pool_size of 1 left nothing to train on). A shift strength is a number of feature standard
    # deviations ("noise") or the exponent of the geometric class priors ("prior"): >= 0, 0 meaning
    # no shift; a negative "prior" strength would keep every point, silently.
    pool_size = check_real(pool_size, "pool_size", low=0.0, high=1.0)
    if not 0 < pool_size < 1:
        raise ValidationError("pool_size", f"must be a fraction in (0, 1), got {pool_size!r}")
    train_fraction = check_real(train_fraction, "train_fraction", low=0.0, high=1.0)
    if train_fraction == 0:
        raise ValidationError("train_fraction", f"must be in (0, 1], got {train_fraction!r}")
    shift_strength = check_real(shift_strength, "shift_strength", low=0.0)
    if shift in ("noise", "prior") and shift_strength == 0:
        shift = None  # no shift: the same zoo (same random draws) as shift=None, not another draw of it
    if shift not in ("noise", "prior"):
        shift_strength = 1.0  # unused: one cache entry (the default's key) for every value
    # Checked before the cache is read: random_state=True would otherwise load the zoo of seed 1.
    rng = check_random_state(random_state)
    seed = random_state if isinstance(random_state, (int, np.integer)) else None
    cdir = _cache_dir(cache_dir) if seed is not None else None
    cache_file = None
    if cdir is not None:
        import sklearn

        h = hashlib.sha256()
        h.update(np.ascontiguousarray(X).tobytes())
        h.update(np.ascontiguousarray(y).tobytes())
        # zoo-v2: shifted zoos keep the unshifted models (other zoos than v1's); the others are as in v1
        version = "zoo-v2" if shift in ("noise", "prior") else "zoo-v1"
        h.update(repr((n_models, shift, pool_size, train_fraction, shift_strength, int(seed), sklearn.__version__,
                       version)).encode())
        cache_file = cdir / f"{h.hexdigest()[:24]}.npz"
        if cache_file.exists():
            try:
                return PredictionLog.load(cache_file)
            except ValidationError as exc:
                # a damaged cache entry (an interrupted copy of the cache folder, a full disk) made every
                # later call fail until the file was found and deleted; it is only a cache: refit, overwrite
                import warnings

                warnings.warn(f"make_model_zoo: the cached zoo could not be read, so it is refitted and the "
                              f"cache entry replaced ({exc})", RuntimeWarning, stacklevel=2)

    n_classes = int(y.max()) + 1
    if np.unique(y).size < 2:  # every classifier's fit would refuse it, from inside a worker
        raise ValidationError("y", "holds a single class: a zoo of classifiers needs labels of at least two classes")
    perm = rng.permutation(X.shape[0])
    n_pool = int(round(pool_size * X.shape[0]))
    if not 1 <= n_pool < X.shape[0]:
        raise ValidationError("pool_size", f"leaves {n_pool} of {X.shape[0]} points in the pool: both the pool "
                              "and the training part need at least one point")
    pool_idx, train_idx = perm[:n_pool], perm[n_pool:]
    X_train, y_train = X[train_idx], y[train_idx]
    X_pool, y_pool = X[pool_idx].copy(), y[pool_idx]
    if shift == "missing_class":
        if n_classes < 3:
            raise ValidationError("shift", f"'missing_class' needs at least 3 classes (got {n_classes}): "
                                  "removing one class from a binary task leaves nothing to learn")
        keep = y_train != n_classes - 1
        X_train, y_train = X_train[keep], y_train[keep]
    members = _zoo_members(n_models, rng)
    size = max(n_classes * 2, int(train_fraction * len(y_train)))
    if size > len(y_train):
        raise ValidationError("pool_size", f"leaves {len(y_train)} training points, fewer than the {size} each "
                              f"model is trained on (at least 2 per class)", hint="use a smaller pool_size or more data")
    subsets = [rng.choice(len(y_train), size=size, replace=False) for _ in members]
    # The shift's draws come after the models' (seeds, subsamples): a shifted zoo holds the unshifted zoo's
    # models on a shifted pool, so a task and its shifted variant compare the same models. (Until zoo-v2 the
    # shift was drawn first and every shifted zoo held other draws of the models.)
    if shift == "noise":
        X_pool = X_pool + shift_strength * X_train.std(axis=0) * rng.standard_normal(X_pool.shape)
    elif shift == "prior":
        # Keep each pool point of class c with probability 0.5**(c * shift_strength): geometric priors.
        keep = rng.random(len(y_pool)) < 0.5 ** (y_pool * shift_strength)
        if not keep.any():
            # an empty pool failed inside the first model's predict_proba (scikit-learn's "Found array with 0
            # sample(s)"), naming neither the shift nor the pool: a strong shift on a small pool with no class 0
            counts = np.bincount(y_pool, minlength=n_classes).tolist()
            raise ValidationError("shift_strength", f"'prior' with strength {shift_strength:g} kept none of the "
                                  f"{len(y_pool)} pool points (class counts {counts})",
                                  hint="use a smaller shift_strength or a larger pool_size")
        X_pool, y_pool = X_pool[keep], y_pool[keep]

    def fit_predict(est, rows, name):
        import warnings

        from sklearn.exceptions import ConvergenceWarning

        with warnings.catch_warnings():
            # Under-trained members are wanted in a varied zoo; their convergence warnings are noise.
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                est.fit(X_train[rows], y_train[rows])
            except ValueError as exc:
                # A rare class can leave a member's random subsample with a single class (3 positives in
                # 150 points did for some seeds): trees and k-NN fit it, logistic regression or LDA
                # refuse, and scikit-learn's error came from inside a worker without the member's name.
                counts = np.bincount(y_train[rows], minlength=n_classes).tolist()
                raise ValidationError("y", f"model {name!r} could not be fitted on its training subsample "
                                      f"(class counts {counts}): {exc}",
                                      hint="use a larger train_fraction, another random_state or more points "
                                           "of the rare classes") from None
        proba = np.zeros((X_pool.shape[0], n_classes))
        proba[:, est.classes_.astype(int)] = est.predict_proba(X_pool)
        return proba

    probs = np.stack(run_tasks([(fit_predict, (est, rows, name)) for (name, est), rows in zip(members, subsets)],
                               n_jobs=n_jobs, progress=progress, desc="fitting the zoo"))
    probs /= probs.sum(axis=2, keepdims=True)  # guard against float drift in predict_proba (1e-16 scale)
    zoo = PredictionLog(probs=probs, model_names=[name for name, _ in members], labels=y_pool, features=X_pool)
    if cache_file is not None:
        _save_atomic(zoo, cache_file)
    return zoo
