"""Parallel work: joblib tasks with a progress bar.

Everything goes through ``joblib.Parallel`` (also with ``n_jobs=None``), so a user's
``joblib.parallel_config(backend="dask")`` moves the work onto a cluster. Callers seed each task
from ``SeedSequence(seed).spawn(k)`` *before* dispatch, so results do not depend on the backend.
"""
from __future__ import annotations

from ._validation import ValidationError, check_bool, check_int


def check_n_jobs(n_jobs):
    """None or a non-zero integer (joblib's convention: -1 all cores, -2 all but one, ...).

    Not 1.5 (joblib would run it as 1), "2" or True; 0 has no meaning. The rule of
    ``workbench.active.benchmark``'s own check, applied here to every caller of :func:`run_delayed`.
    """
    if n_jobs is None:
        return None
    n_jobs = check_int(n_jobs, "n_jobs")
    if n_jobs == 0:
        raise ValidationError("n_jobs", "must be None or a non-zero integer (-1: all cores), got 0")
    return n_jobs


def run_delayed(jobs, n_jobs=None, progress: bool = True, desc: str | None = None) -> list:
    """Run ``joblib.delayed`` calls in order, with a tqdm.auto bar over finished calls."""
    from joblib import Parallel
    from tqdm.auto import tqdm

    n_jobs = check_n_jobs(n_jobs)  # before any job is built or dispatched
    jobs = list(jobs)
    it = Parallel(n_jobs=n_jobs, return_as="generator" if generator_supported() else "list")(jobs)
    return list(tqdm(it, total=len(jobs), desc=desc, leave=False, disable=not progress_enabled(progress)))


def generator_supported() -> bool:
    """Whether joblib's backend in effect (a user's ``parallel_config``, or joblib's default) can
    return results as a generator (``return_as="generator"``); joblib's multiprocessing backend cannot."""
    try:
        from joblib.parallel import get_active_backend

        backend, _ = get_active_backend()
    except Exception:  # noqa: BLE001 - a joblib without the helper: ask for a list, which every backend gives
        return False
    return bool(getattr(backend, "supports_return_generator", False))


def progress_enabled(progress: bool = True) -> bool:
    """Whether to show a progress bar: ``progress``, unless the ``TQDM_DISABLE`` environment variable is
    set (the report runner sets it for offline HTML). Checked here because tqdm.auto's notebook
    widget ignores that variable and would leave frozen "0%" bars in the reports."""
    import os

    disabled = os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes")
    return check_bool(progress, "progress") and not disabled  # "no" is truthy: refused


def run_tasks(tasks, n_jobs=None, progress: bool = True, desc: str | None = None) -> list:
    """Run ``(function, args)`` tasks with joblib, in order, with a tqdm.auto bar over finished tasks.

    ``progress=False`` hides the bar; otherwise tqdm's own default applies (and ``TQDM_DISABLE``,
    which the report runner sets for offline HTML).
    """
    from joblib import delayed

    return run_delayed([delayed(fn)(*args) for fn, args in tasks], n_jobs=n_jobs, progress=progress, desc=desc)
