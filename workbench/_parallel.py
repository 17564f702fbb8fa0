"""Parallel work: joblib tasks with a progress bar.

Everything goes through ``joblib.Parallel`` (also with ``n_jobs=None``), so a user's
``joblib.parallel_config(backend="dask")`` moves the work onto a cluster. Callers seed each task
from ``SeedSequence(seed).spawn(k)`` *before* dispatch, so results do not depend on the backend.
"""
from __future__ import annotations


def run_delayed(jobs, n_jobs=None, progress: bool = True, desc: str | None = None) -> list:
    """Run ``joblib.delayed`` calls in order, with a tqdm.auto bar over finished calls."""
    from joblib import Parallel
    from tqdm.auto import tqdm

    jobs = list(jobs)
    it = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    kw = {} if progress else {"disable": True}
    return list(tqdm(it, total=len(jobs), desc=desc, leave=False, **kw))


def run_tasks(tasks, n_jobs=None, progress: bool = True, desc: str | None = None) -> list:
    """Run ``(function, args)`` tasks with joblib, in order, with a tqdm.auto bar over finished tasks.

    ``progress=False`` hides the bar; otherwise tqdm's own default applies (and ``TQDM_DISABLE``,
    which the report runner sets for offline HTML).
    """
    from joblib import delayed

    return run_delayed([delayed(fn)(*args) for fn, args in tasks], n_jobs=n_jobs, progress=progress, desc=desc)
