"""The Open Bandit Dataset (Saito et al. 2021, ZOZOTOWN, CC BY 4.0): loader and the BTS policy.

The project ships the 10,000-row samples of the "all" campaign for both logging policies in
``data/open_bandit/``. ``path=`` points at any folder laid out like the public download:
``<behavior>/<campaign>/<campaign>.csv`` (or ``.csv.gz``) with ``item_context.csv`` beside it.
The BTS policy's Beta prior (``bts_prior.yaml``) is a file of the Open Bandit Pipeline's code, under
the Apache License 2.0 (see ``data/README.md``).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from .._random import check_random_state
from .._validation import ValidationError, check_choice, check_columns, check_int, raise_if_any
from .logs import BanditLog, _check_index, _series_values

BEHAVIORS = ("random", "bts")
CAMPAIGNS = ("all", "men", "women")
# Slots per recommendation in the Open Bandit Dataset (obp's len_list): the files number them 1..3.
LEN_LIST = 3


def data_dir() -> Path:
    """The project's ``data/`` folder (override with the ``WORKBENCH_DATA`` environment variable)."""
    env = os.environ.get("WORKBENCH_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


def _campaign_dir(behavior: str, campaign: str, path) -> Path:
    if path is not None and not isinstance(path, (str, os.PathLike)):  # path=5 was pathlib's TypeError
        raise ValidationError("path", f"must be a folder path (str or os.PathLike), got {type(path).__name__}")
    root = Path(path) if path is not None else data_dir() / "open_bandit"
    folder = root / behavior / campaign
    if not folder.is_dir():
        hint = ("the project ships only the 'all' campaign; download the full data set and pass path="
                if path is None else "expected <path>/<behavior>/<campaign>/")
        raise ValidationError("path", f"no folder {folder} ({hint})")
    return folder


def load_open_bandit(behavior: str = "random", campaign: str = "all", path=None) -> BanditLog:
    """Load an Open Bandit Dataset campaign as a :class:`BanditLog`.

    Parameters
    ----------
    behavior : {"random", "bts"}
        The logging policy: uniform random, or Bernoulli Thompson sampling.
    campaign : {"all", "men", "women"}
        The campaign. The shipped sample holds "all"; other campaigns need ``path``.
    path : path-like, optional
        Root of a folder laid out like the public data set.

    Returns
    -------
    BanditLog
        ``action`` = item id, ``position`` = slot - 1 (slots 1..3 in the files; always
        ``n_positions=3``, whichever slots a file holds), ``reward`` = click (0 or 1),
        ``propensity`` = logged propensity score, ``context`` = one-hot user features (first level
        of each feature dropped, as the Open Bandit Pipeline does; ``context_names`` are
        ``<feature>_<level>``, the columns of ``to_frame()``; None for a file without
        ``user_feature_*`` columns), ``action_context`` = item features
        (``item_feature_0`` numeric, the hashed categorical ones one-hot), ``timestamp`` (ISO 8601
        dates and times as naive UTC datetime64; a numeric column, e.g. epoch seconds, is kept as
        the numbers it holds: its unit is not guessed).

    The one-hot columns are built from the levels present in the file read, so logs from two files
    need not have the same columns: in the shipped sample the "random" log has 20 context columns
    and the "bts" log 22 (two user-feature levels occur only in the latter); align them by
    ``context_names`` before applying a model fitted on one to the other. The item features are
    hashed differently in the two files, so their ``action_context`` columns do not correspond.

    Examples
    --------
    >>> from workbench.data import load_open_bandit
    >>> log = load_open_bandit("random", campaign="all")
    >>> len(log), log.n_actions, log.n_positions
    (10000, 80, 3)
    """
    check_choice(behavior, "behavior", BEHAVIORS)
    check_choice(campaign, "campaign", CAMPAIGNS)
    folder = _campaign_dir(behavior, campaign, path)
    csv = next((folder / f"{campaign}{ext}" for ext in (".csv", ".csv.gz") if (folder / f"{campaign}{ext}").exists()),
               None)
    if csv is None:
        raise ValidationError("path", f"no {campaign}.csv or {campaign}.csv.gz in {folder}")
    items_csv = folder / "item_context.csv"
    if not items_csv.exists():
        raise ValidationError("path", f"no item_context.csv in {folder}")
    frame, items = _read_csv(csv), _read_csv(items_csv)
    check_columns(frame, ["timestamp", "item_id", "position", "click", "propensity_score"], field=str(csv.name))
    check_columns(items, ["item_id", "item_feature_0"], field=items_csv.name)
    items = items.sort_values("item_id")
    n_actions = len(items)
    if not np.array_equal(items["item_id"].to_numpy(), np.arange(n_actions)):
        ids = items["item_id"]
        dup = ids[ids.duplicated()]
        if len(dup):  # "must be 0..34" for 34 items listed once and item 0 twice named neither the rule nor the id
            raise ValidationError("item_context.item_id", f"must list each item once; {dup.nunique()} id(s) appear "
                                  f"more than once, first {dup.tolist()[0]!r}")
        raise ValidationError("item_context.item_id", f"must be 0..{n_actions - 1} with each item once (one row per "
                              f"item); the file's ids run from {ids.tolist()[0]!r} to {ids.tolist()[-1]!r}")

    user_cols = [c for c in frame.columns if c.startswith("user_feature")]
    _check_present(frame, user_cols, csv.name)
    context, context_names = _one_hot(frame, user_cols)
    item_cat = [c for c in items.columns if c.startswith("item_feature") and c != "item_feature_0"]
    # rows of ``items`` are sorted by item id: a row number reported below is the item id
    items = items.reset_index(drop=True)
    _check_present(items, item_cat, items_csv.name)
    item_dummies, _ = _one_hot(items, item_cat)
    action_context = _numeric(items, "item_feature_0", items_csv.name)[:, None]
    if item_dummies is not None:
        action_context = np.column_stack([action_context, item_dummies])
    # Slots are 1..3 in the files. A fixed map, not a dense rank: a file holding only slots 2 and 3
    # must keep them as positions 1 and 2 (a rank would relabel them 0 and 1, i.e. as other slots).
    position = _check_index(_numeric(frame, "position", csv.name), "position", 1, LEN_LIST + 1) - 1
    timestamp = _timestamps(frame["timestamp"], csv.name)
    click = _numeric(frame, "click", csv.name)
    # a click is 0 or 1: a 2 (a count, or a corrupted cell) was taken as a reward of 2, silently (NaN is
    # left to the container's finiteness rule)
    c = np.asarray(click, dtype=float)
    raise_if_any(~np.isnan(c) & (c != 0) & (c != 1), f"{csv.name}.click", "must be 0 or 1 (a click)", click)
    return BanditLog(action=_numeric(frame, "item_id", csv.name), reward=click,
                     propensity=_numeric(frame, "propensity_score", csv.name), n_actions=n_actions,
                     context=context, position=position, n_positions=LEN_LIST, action_context=action_context,
                     timestamp=timestamp, context_names=context_names or None)


def _read_csv(path: Path) -> pd.DataFrame:
    """A file of the public layout, whose first column is an unnamed row index; a file written without
    one (``to_csv(index=False)``) is read as it is. ``index_col=0`` took such a file's first column
    (timestamp, item_id) as the index, and the load failed saying the file had no such column."""
    frame = pd.read_csv(path)
    first = frame.columns[0] if len(frame.columns) else None
    if isinstance(first, str) and first.startswith("Unnamed: 0"):  # pandas' name for a blank header cell
        frame = frame.set_index(first)
    return frame


def _numeric(frame: pd.DataFrame, col: str, file: str) -> np.ndarray:
    """A column as float64; a value that is not a number (e.g. "abc") is an error naming its row.

    Missing values become NaN and are reported by the container's own checks.
    """
    s = frame[col]
    if pd.api.types.is_bool_dtype(s.dtype):
        return s.to_numpy()  # left to the container's rules (a boolean click is a 0/1 reward, a boolean id is refused)
    if pd.api.types.is_numeric_dtype(s.dtype):
        return s.to_numpy(dtype=float, na_value=np.nan)
    values = pd.to_numeric(s.astype(object), errors="coerce").astype(float)
    raise_if_any((values.isna() & s.notna()).to_numpy(), f"{file}.{col}", "must be numeric", s.to_numpy())
    return values.to_numpy()


def _one_hot(frame: pd.DataFrame, cols) -> tuple[np.ndarray | None, tuple]:
    """One-hot coding of categorical columns, first level of each dropped (as the Open Bandit Pipeline
    does); (None, ()) when there is no such column (pandas' get_dummies of no column raised a bare
    "No objects to concatenate" for a file without user features)."""
    if not cols:
        return None, ()
    dummies = pd.get_dummies(frame[cols].astype(str), drop_first=True)
    return dummies.to_numpy(dtype=float), tuple(map(str, dummies.columns))


def _check_present(frame: pd.DataFrame, cols, file: str) -> None:
    """Categorical feature columns must have no missing value (one-hot coding would silently make a
    missing value look like the dropped first level)."""
    for c in cols:
        raise_if_any(frame[c].isna().to_numpy(), f"{file}.{c}", "must not be missing")


def _timestamps(s: pd.Series, file: str) -> np.ndarray:
    """ISO 8601 timestamps as naive UTC datetime64. Each value is parsed on its own terms: a format
    inferred from the first row (pandas' default) would refuse a later ``00:00:35+00:00`` next to
    ``00:00:34.76+00:00``.

    Numbers are kept as numbers (BanditLog takes numeric timestamps): they were read as epoch
    nanoseconds, so epoch seconds (1574553634) became 1970-01-01 00:00:01.57, silently."""
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return _series_values(s.to_frame(), s.name)  # int64 as is (no float rounding); a missing value is NaN
    ts = pd.to_datetime(s, utc=True, errors="coerce", format="ISO8601")
    raise_if_any((ts.isna() & s.notna()).to_numpy(), f"{file}.timestamp", "must be an ISO 8601 date and time",
                 s.to_numpy())
    return ts.dt.tz_convert(None).to_numpy()


def _load_prior(campaign: str, prior_path=None) -> tuple[np.ndarray, np.ndarray]:
    import yaml

    if prior_path is not None and not isinstance(prior_path, (str, os.PathLike)):
        raise ValidationError("prior_path", f"must be a file path (str or os.PathLike), got {type(prior_path).__name__}")
    path = Path(prior_path) if prior_path is not None else data_dir() / "open_bandit" / "bts_prior.yaml"
    try:
        with open(path) as fh:
            prior = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:  # a missing file or bad YAML: named, not a bare traceback
        raise ValidationError("prior_path", f"{str(path)!r} could not be read as a YAML prior ({exc})") from None
    if not isinstance(prior, dict):
        raise ValidationError("bts_prior", f"{path} must map campaign names to {{alpha: [...], beta: [...]}}")
    if campaign not in prior:
        raise ValidationError("campaign", f"{campaign!r} has no prior in {path}; it has {sorted(map(str, prior))}")
    entry = prior[campaign]
    if not isinstance(entry, dict) or "alpha" not in entry or "beta" not in entry:
        raise ValidationError("bts_prior", f"the entry of {campaign!r} in {path} must have an alpha and a beta list")
    for key in ("alpha", "beta"):
        # numbers only: np.asarray(..., float) parsed quoted numbers ('1') and YAML booleans (true -> 1.0)
        vals = entry[key] if isinstance(entry[key], list) else None
        bad = None if vals is None else next((v for v in vals if isinstance(v, bool) or not isinstance(v, (int, float))),
                                              None)
        if vals is None or bad is not None:
            raise ValidationError("bts_prior", f"{key} of {campaign!r} in {path} must be a list of numbers"
                                  + ("" if vals is None else f"; it holds {bad!r} ({type(bad).__name__})"))
    alpha = np.asarray(entry["alpha"], dtype=float)
    beta = np.asarray(entry["beta"], dtype=float)
    if (alpha.ndim != 1 or alpha.shape != beta.shape or alpha.size == 0 or not np.isfinite(alpha).all()
            or not np.isfinite(beta).all() or (alpha <= 0).any() or (beta <= 0).any()):
        raise ValidationError("bts_prior", f"alpha and beta of {campaign!r} must be non-empty lists of finite "
                              "positive numbers of equal length")
    return alpha, beta


def open_bandit_bts_policy(campaign: str = "all", n_sim: int = 100_000, len_list: int = 3,
                           random_state=0, prior_path=None) -> np.ndarray:
    """The Bernoulli Thompson sampling policy of the Open Bandit Dataset, as action-by-position probabilities.

    Each simulation draws every item's score from its Beta(alpha, beta) prior (``bts_prior.yaml``,
    the ZOZOTOWN prior), ranks items by score and fills the ``len_list`` slots with the top items.
    The policy is context-free, so one (n_actions, len_list) matrix serves every round (broadcast it
    to (n, n_actions, len_list) for a log). It is the policy of this prior, not the ``propensity``
    column of ``load_open_bandit("bts")``, which the production policy logged round by round and
    which differs from it row by row (in the shipped sample the two correlate only weakly: over the
    10,000 logged (item, slot) pairs, Pearson 0.08 and Spearman 0.34 against this matrix, n_sim = 100,000).

    Returns
    -------
    ndarray, shape (n_actions, len_list)
        Probability that each item is shown in each slot (each column sums to 1). Monte Carlo
        error per entry is at most 0.5 / sqrt(n_sim).

    Examples
    --------
    >>> from workbench.data import open_bandit_bts_policy
    >>> dist = open_bandit_bts_policy("all", n_sim=10_000, random_state=0)
    >>> dist.shape
    (80, 3)
    """
    check_choice(campaign, "campaign", CAMPAIGNS)  # as load_open_bandit (["all"] was "unhashable type: 'list'")
    alpha, beta = _load_prior(campaign, prior_path)
    n_actions = alpha.size
    len_list = check_int(len_list, "len_list", low=1, high=n_actions)
    n_sim = check_int(n_sim, "n_sim", low=1)
    rng = check_random_state(random_state)
    counts = np.zeros((n_actions, len_list))
    chunk = 10_000
    for start in range(0, n_sim, chunk):  # chunks of simulations bound the memory, not a row loop
        m = min(chunk, n_sim - start)
        scores = rng.beta(alpha, beta, size=(m, n_actions))
        top = np.argpartition(-scores, len_list - 1, axis=1)[:, :len_list]
        order = np.argsort(-np.take_along_axis(scores, top, axis=1), axis=1)
        ranked = np.take_along_axis(top, order, axis=1)
        flat = ranked * len_list + np.arange(len_list)[None, :]
        counts += np.bincount(flat.ravel(), minlength=n_actions * len_list).reshape(n_actions, len_list)
    return counts / n_sim
