"""Off-policy evaluation of a tabular log in one streaming pass (frames, chunks, Parquet, Dask).

Every estimator here is a smooth function of the means of a few per-row terms (see
:mod:`workbench._engine`). The terms of all requested estimators are built together, one
column per distinct term (IPS and SNIPS share ``w r``), and reduced in one pass to the plain
sums and the B hashed-Poisson replicate sums. So all estimators share one set of resamples,
SNIPS/SNDR are re-normalised within each replicate, and the answer does not depend on how the
rows are chunked or partitioned: a row's bootstrap weight is a hash of (seed, row number or unit
id, replicate).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .._engine import Resampling, influence_values
from .._intervals import interval
from .._validation import (SUM_TOL, ValidationError, check_alpha, check_choice, check_finite,
                           check_integer_in_range, check_probability, raise_if_any)
from .reduce import TermReducer
from .reward import RewardModel, make_reward_model
from .sources import as_source

INTERVAL_METHODS = ("percentile", "basic", "bca", "normal")


@dataclass(frozen=True)
class TabularEstimator:
    """A streaming estimator: which named per-row terms it needs and how their means combine.

    ``terms`` names columns produced by :class:`_TermBuilder` ("wr", "w", "dm", "wres", ...).
    ``combine(means)`` maps an array (..., len(terms)) of term means to the statistic.
    """

    name: str
    terms: tuple
    combine: Callable
    needs_reward_model: bool = False


def _ratio(m):
    return m[..., 0] / m[..., 1]


def _first(m):
    return m[..., 0]


def _sndr(m):
    return m[..., 0] + m[..., 1] / m[..., 2]


def _builtin(name: str) -> TabularEstimator:
    if name == "ips":
        return TabularEstimator("ips", ("wr",), _first)
    if name == "snips":
        return TabularEstimator("snips", ("wr", "w"), _ratio)
    if name == "dm":
        return TabularEstimator("dm", ("dm",), _first, True)
    if name == "dr":
        return TabularEstimator("dr", ("dr",), _first, True)
    if name == "sndr":
        return TabularEstimator("sndr", ("dm", "wres", "w"), _sndr, True)
    raise ValidationError("estimators", f"{name!r} is not available for tabular (streamed) logs; use one of "
                          f"{list(BUILTIN)} or an estimator object with per-row terms")


BUILTIN = ("dm", "ips", "snips", "dr", "sndr")


class _TermBuilder:
    """Builds the distinct term columns for one chunk, validating it (picklable for Dask)."""

    def __init__(self, action, reward, propensity, policy_cols, term_names, reward_model: RewardModel | None,
                 extra_columns=()):
        self.action, self.reward, self.propensity = action, reward, propensity
        self.policy_cols = list(policy_cols)
        self.term_names = list(term_names)
        self.reward_model = reward_model
        self.columns = list(dict.fromkeys([action, reward, propensity, *self.policy_cols, *extra_columns,
                                           *(reward_model.columns if reward_model is not None else [])]))

    def __call__(self, chunk: pd.DataFrame, ids: np.ndarray):
        k = len(self.policy_cols)
        a = check_integer_in_range(chunk[self.action].to_numpy(), self.action, 0, k)
        r = check_finite(chunk[self.reward].to_numpy(), self.reward)
        p = check_probability(chunk[self.propensity].to_numpy(), self.propensity)
        pi = chunk[self.policy_cols].to_numpy(dtype=np.float64)
        raise_if_any(np.isnan(pi) | (pi < 0) | (pi > 1), "policy", "action probabilities must be in [0, 1]", None)
        sums = pi.sum(axis=1)
        raise_if_any(np.abs(sums - 1) > SUM_TOL, "policy",
                     f"action probabilities must sum to 1 over the columns {self.policy_cols} (tolerance {SUM_TOL:g})",
                     sums)
        rows = np.arange(len(a))
        w = pi[rows, a] / p
        cols = {"w": w, "wr": w * r}
        if self.reward_model is not None:
            q = self.reward_model.predict(chunk, k, ids)  # (m, n_actions)
            dm = np.einsum("ij,ij->i", pi, q)
            wres = w * (r - q[rows, a])
            cols.update(dm=dm, wres=wres, dr=dm + wres)
        terms = np.column_stack([cols[t] for t in self.term_names])
        side = {"sum_w2": float(np.dot(w, w)), "max_w": float(w.max()),
                "n_w_zero": float(np.count_nonzero(w == 0))}
        return terms, side


def _resolve_estimators(estimators) -> list[TabularEstimator]:
    if isinstance(estimators, (str, TabularEstimator)):
        estimators = [estimators]
    out = []
    for e in estimators:
        if isinstance(e, TabularEstimator):
            out.append(e)
        elif isinstance(e, str):
            out.append(_builtin(e.lower()))
        else:
            raise ValidationError("estimators", f"must be names or TabularEstimator objects, got {type(e).__name__}")
    names = [e.name for e in out]
    if len(set(names)) != len(names):
        raise ValidationError("estimators", f"names must be unique, got {names}")
    return out


def evaluate_tabular(data, policy, estimators=("ips", "snips"), *, action: str = "action", reward: str = "reward",
                     propensity: str = "propensity", reward_model=None, context: Sequence[str] | None = None,
                     alpha: float = 0.05, n_bootstrap: int = 1000, method: str = "percentile", random_state=0,
                     unit_id: str | None = None, chunk_size: int | None = None, n_jobs: int | None = None,
                     reward_model_sample: int = 200_000, reward_model_folds: int = 2) -> pd.DataFrame:
    """Evaluate a target policy on a tabular log, in one streaming pass over its rows.

    Parameters
    ----------
    data : DataFrame, iterable of chunks, Parquet path, pyarrow dataset or dask DataFrame
        The log, one row per round. Only the named columns are read.
    policy : list of str
        Columns holding the target policy's probability of each action (column j is action j);
        each row must sum to 1.
    estimators : sequence of str or TabularEstimator
        Any of "dm", "ips", "snips", "dr", "sndr".
    action, reward, propensity : str
        Column names of the logged action (integer in [0, len(policy))), the reward and the
        logging policy's probability of the logged action.
    reward_model : None, list of str, callable, or scikit-learn estimator
        Needed by "dm", "dr", "sndr". A list of column names holding q(x, a) per action; a callable
        ``f(chunk) -> (m, n_actions)`` applied per chunk/partition; a fitted scikit-learn model
        applied per partition to ``context`` columns plus a one-hot action; or an unfitted one,
        then cross-fitted on a hashed sample of ``reward_model_sample`` rows in
        ``reward_model_folds`` folds (each row is predicted by a model that never saw it).
    alpha : float
        Miscoverage of the intervals.
    n_bootstrap : int
        Number of hashed-Poisson replicates shared by all estimators.
    method : {"percentile", "basic", "bca", "normal"}
        Interval method. "percentile"/"basic"/"bca" are bootstrap intervals (asymptotic
        coverage 1 - alpha); "normal" uses the bootstrap standard error.
    random_state : int or Generator
        Seed of the hashed weights: the same seed gives the same intervals for any input kind.
    unit_id : str, optional
        Column of unit ids (user, session): rows of a unit share their bootstrap weights
        (cluster bootstrap). Default: rows are the units (ids are global row numbers).
    chunk_size : int, optional
        Rows per chunk for frames and Parquet. Does not change the answer.
    n_jobs : int, optional
        Parquet only: reduce runs of row groups in parallel through joblib.

    Returns
    -------
    DataFrame with one row per estimator and columns ``estimator, value, ci_low, ci_high, se,
    alpha, method, n, n_bootstrap, ess, max_weight, mean_weight``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> n = 1000
    >>> df = pd.DataFrame({"action": rng.integers(0, 2, n), "reward": rng.random(n), "propensity": 0.5,
    ...                    "pi_0": 0.8, "pi_1": 0.2})
    >>> out = evaluate_tabular(df, ["pi_0", "pi_1"], ["ips", "snips"], n_bootstrap=200, random_state=0)
    >>> list(out["estimator"])
    ['ips', 'snips']
    """
    alpha = check_alpha(alpha)
    check_choice(method, "method", INTERVAL_METHODS)
    policy_cols = _policy_columns(policy)
    ests = _resolve_estimators(estimators)
    source = as_source(data, chunk_size=chunk_size)
    resampling = Resampling.make(n_bootstrap, "poisson", random_state)
    rm = None
    if any(e.needs_reward_model for e in ests):
        if reward_model is None:
            need = [e.name for e in ests if e.needs_reward_model]
            raise ValidationError("reward_model", f"is required by {need}: give prediction columns, a callable, or a "
                                  "scikit-learn model with context=")
        rm = make_reward_model(reward_model, context=context, action=action, reward=reward, n_actions=len(policy_cols),
                               source=source, unit_id=unit_id, seed=resampling.seed, sample_size=reward_model_sample,
                               n_folds=reward_model_folds)
    term_names = list(dict.fromkeys(t for e in ests for t in e.terms))
    builder = _TermBuilder(action, reward, propensity, policy_cols, term_names, rm)
    reducer = TermReducer(builder.columns, builder, len(term_names), resampling,
                          side_ops={"sum_w2": "sum", "max_w": "max", "n_w_zero": "sum"}, moments=(method == "bca"))
    part = source.reduce(reducer, unit_id=unit_id, n_jobs=n_jobs)
    return _finish(part, ests, term_names, alpha, method, resampling)


def _policy_columns(policy) -> list[str]:
    if isinstance(policy, str) or not isinstance(policy, Sequence) or len(policy) < 1 or \
            not all(isinstance(c, str) for c in policy):
        raise ValidationError("policy", "for tabular logs must be the list of columns holding the target policy's "
                              f"probability of each action, e.g. ['pi_0', 'pi_1', ...]; got {policy!r}")
    if len(set(policy)) != len(policy):
        raise ValidationError("policy", f"column names must be unique, got {list(policy)}")
    return list(policy)


def _finish(part, ests, term_names, alpha, method, resampling) -> pd.DataFrame:
    acc = part.acc
    if acc.n == 0:
        raise ValidationError("data", "has no rows")
    means = acc.means
    rep_means = acc.replicate_means
    idx = {t: j for j, t in enumerate(term_names)}
    sum_w = acc.total[idx["w"]] if "w" in idx else np.nan
    rows = []
    for e in ests:
        cols = [idx[t] for t in e.terms]
        theta = float(np.asarray(e.combine(means[cols][None, :]))[0])
        reps = np.asarray(e.combine(rep_means[:, cols]), dtype=np.float64)
        se = float(np.nanstd(reps, ddof=1))
        if method == "bca":
            lo, hi = _bca_streamed(theta, reps, part.moments, cols, means, e.combine, alpha)
        elif method == "normal":
            lo, hi = interval("normal", theta, reps, alpha, se=se)
        else:
            lo, hi = interval(method, theta, reps, alpha)
        rows.append({"estimator": e.name, "value": theta, "ci_low": float(lo), "ci_high": float(hi), "se": se,
                     "alpha": alpha, "method": method, "n": int(acc.n), "n_bootstrap": resampling.n_replicates})
    out = pd.DataFrame(rows)
    sum_w2 = part.side["sum_w2"]
    # Weight diagnostics are the same for every estimator (they describe the log and the policy).
    if "w" in idx:
        out["ess"] = sum_w**2 / sum_w2 if sum_w2 > 0 else np.nan
        out["mean_weight"] = sum_w / acc.n
    else:
        out["ess"] = np.nan
        out["mean_weight"] = np.nan
    out["max_weight"] = part.side["max_w"]
    return out


def _bca_streamed(theta, reps, moments, cols, means, combine, alpha):
    """BCa from streamed co-moments: the same acceleration as influence values computed in memory."""
    from scipy import special

    # Gradient of combine at the means, by the same central differences as influence_values
    # (evaluated on a 1-row dummy so both paths share one gradient rule).
    k = len(cols)
    sub = _SubMoments(moments, cols)
    m = means[cols]
    h = 1e-6 * np.maximum(np.abs(m), 1e-3)
    pts = np.repeat(m[None, :], 2 * k, axis=0)
    pts[np.arange(k), np.arange(k)] += h
    pts[k + np.arange(k), np.arange(k)] -= h
    vals = np.asarray(combine(pts), dtype=np.float64)
    grad = (vals[:k] - vals[k:]) / (2 * h)
    a = sub.acceleration(grad)
    reps = np.asarray(reps, dtype=np.float64)
    valid = ~np.isnan(reps)
    nb = valid.sum()
    below = ((reps < theta) & valid).sum()
    at_or_below = ((reps <= theta) & valid).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        z0 = special.ndtri((below + at_or_below) / (2.0 * nb))
    zs = special.ndtri(np.array([alpha / 2, 1 - alpha / 2]))
    adj = special.ndtr(z0 + (z0 + zs) / (1 - a * (z0 + zs)))
    if not np.all(np.isfinite(adj)):
        return np.nan, np.nan
    lo, hi = np.nanpercentile(reps, adj * 100)
    return lo, hi


class _SubMoments:
    def __init__(self, moments, cols):
        c = np.asarray(cols)
        self.m2 = moments.m2[np.ix_(c, c)]
        self.m3 = moments.m3[np.ix_(c, c, c)]

    def acceleration(self, g):
        s2 = float(g @ self.m2 @ g)
        s3 = float(np.einsum("ijk,i,j,k->", self.m3, g, g, g))
        with np.errstate(divide="ignore", invalid="ignore"):
            a = s3 / (6.0 * s2**1.5)
        return a if np.isfinite(a) else 0.0
