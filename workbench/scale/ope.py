"""Off-policy evaluation of a tabular log in one streaming pass (frames, chunks, Parquet, Dask).

The estimators are those of :mod:`workbench.ope.estimators`: each defines its per-row
``terms(inputs)`` and a ``combine`` of their means. Here every chunk of rows becomes an
:class:`workbench.ope.OPEInputs` of its own, each estimator builds that chunk's terms, the terms
of all estimators are stacked (in the same order as the in-memory
:func:`workbench.ope.estimate_from_inputs`) and reduced to plain sums and B hashed-Poisson
replicate sums, and partial results merge by addition. So all estimators share one set of
resamples, self-normalised ones are re-normalised inside each replicate, and the answer equals
the in-memory one (to rounding) whatever the chunking or partitioning: a row's bootstrap weight
is a hash of (seed, global row number or unit id, replicate).

What cannot be streamed is refused or done in an extra pass, never approximated silently:
``resampling="multinomial"`` needs all rows at once (refused); sg-ips with a data-driven
``lambda_`` needs E_n[w^2] first (one light pre-pass); an unfitted reward model is cross-fitted
on a hashed sample (one sampling pass; see :mod:`workbench.scale.reward`).
"""
from __future__ import annotations

import math
import numbers
import types
import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import special

from .._engine import Resampling, combine_gradient, replicate_sd
from .._intervals import bca_z0
from .._parallel import check_n_jobs
from .._validation import (SUM_TOL, ValidationError, as_array, check_alpha, check_bool, check_choice,
                           check_distribution, check_finite, check_int, check_integer_in_range, check_probability,
                           raise_if_any)
from ..data.logs import _PROPENSITY_RTOL  # what a BanditLog accepts
from .losses import _is_label
from .reduce import TermReducer, warn_acceleration_rounding
from .reward import RewardModel, make_reward_model
from .sources import as_source, column_values, numeric_block

_SIDE_SUM, _SIDE_MAX, _SIDE_MIN = "sum", "max", "min"
# the field, rule and hint of prepare_inputs' refusal of an infinite weight, word for word
_WEIGHT_RULE = ("must be finite, but the target's probability of the logged action / the propensity overflows the "
                "float range")
_WEIGHT_HINT = ("the value shown is the row's propensity; check the propensity column (a probability this small is "
                "most likely an error in the logging pipeline)")
_MERGE = "merge"  # an object merged by its own ``merge`` (see TermReducer's side_ops)


def _ope():
    # Imported lazily: workbench.ope imports this module's entry point in its dispatch.
    from .. import ope
    from ..ope import estimators, evaluate

    return ope, estimators, evaluate


class _ChunkTerms:
    """Turns one chunk into validated :class:`OPEInputs` and the stacked terms of all estimators.

    Picklable (no closures), so Dask and joblib workers can run it.
    """

    def __init__(self, *, action, reward, propensity, policy_cols, behavior_cols, action_context, estimators,
                 reward_model: RewardModel | None, reward_range, unit_id, bernstein: bool = False):
        self.action, self.reward, self.propensity = action, reward, propensity
        # the Bernstein bound's rule, checked per chunk where the rows are known: a reward outside the given
        # reward_range (only its min and max were named after the pass, with no row or count)
        self.bernstein = bernstein
        self.policy_cols = list(policy_cols)
        self.behavior_cols = None if behavior_cols is None else list(behavior_cols)
        self.action_context = action_context
        self.estimators = list(estimators)
        self.reward_model = reward_model
        self.reward_range = reward_range
        cols = [action, reward, propensity, *self.policy_cols, *(self.behavior_cols or [])]
        if reward_model is not None:
            cols += list(reward_model.columns)
        self.columns = list(dict.fromkeys(cols))

    @property
    def side_ops(self) -> dict:
        # "if" / "if_j": the _InformativeSums (ess_terms, and the sums of w and w^2 behind ess and the mean
        # weight) of the logged weights (the call's diagnostics message) / of estimator j's weights (its row)
        ops = {"if": _MERGE, "max_w": _SIDE_MAX, "n_zero_support": _SIDE_SUM, "n_nonbinary": _SIDE_SUM,
               "rare": _MERGE}
        for j, _ in enumerate(self.estimators):
            ops.update({f"if_{j}": _MERGE, f"maxw_{j}": _SIDE_MAX, f"tb_lo_{j}": _SIDE_MIN, f"tb_hi_{j}": _SIDE_MAX})
        return ops

    def inputs(self, chunk: pd.DataFrame, ids):
        ope, est_mod, ev = _ope()
        k = len(self.policy_cols)
        # column_values: a text column is refused with its first (global) row, not as a bare "object array"
        a = _check_actions(column_values(chunk, self.action, "action"), self.policy_cols)
        r = check_finite(column_values(chunk, self.reward, "reward"), "reward")
        if self.bernstein and self.reward_range is not None:
            lo, hi = self.reward_range
            raise_if_any((r < lo) | (r > hi), "reward", f"must lie in reward_range [{lo}, {hi}] for the Bernstein "
                         "bound", r)  # the in-memory rule (evaluate._reward_range), word for word
        p = check_probability(column_values(chunk, self.propensity, "propensity"), "propensity")
        # boolean columns are read as 0 / 1, as check_distribution reads a boolean array in memory (a one-hot
        # mask is a deterministic policy; two Trues in a row fail the sum): they were refused as "not numeric"
        pi = check_distribution(numeric_block(chunk, self.policy_cols, "policy"), "policy", axis=1, tol=SUM_TOL)
        m = len(a)
        rows = np.arange(m)
        behavior = None
        if self.behavior_cols is not None:
            pb = check_distribution(numeric_block(chunk, self.behavior_cols, "behavior_dist"), "behavior_dist", axis=1)
            at = pb[rows, a]
            # The rule of a BanditLog (workbench.data.logs), so a log is accepted or refused alike in
            # memory and streamed. (An absolute 1e-5 accepted a propensity off by a factor of 2 when
            # the behaviour probabilities are small, and one where behavior_dist gives the logged action 0.)
            raise_if_any(at <= 0, "propensity", "must match behavior_dist, which gives the logged action (and "
                         "position) probability 0: the logger could not have taken it", p)
            raise_if_any(np.abs(at - p) > _PROPENSITY_RTOL * at + 1e-12, "propensity",
                         f"must equal behavior_dist at the logged action (and position) within relative "
                         f"tolerance {_PROPENSITY_RTOL:g}", p)
            behavior = pb[:, :, None]
        with np.errstate(over="ignore"):  # detected below, with the row (numpy's warning came before NaN / -inf)
            weight = pi[rows, a] / p
        # The in-memory rule (workbench.ope.evaluate.prepare_inputs): a subnormal propensity (1e-320) under an
        # ordinary target probability overflows the weight. Streamed it went on to an ips of NaN and a dr-os
        # of -inf with numpy's overflow warnings; refused here with the chunk's row, made global by the source.
        raise_if_any(~np.isfinite(weight), "weights", _WEIGHT_RULE, p, hint=_WEIGHT_HINT)
        q_hat = q_logged = q_policy = None
        if self.reward_model is not None:
            q = self.reward_model.predict(chunk, k, ids)
            q_hat = q[:, :, None]
            q_logged = q[rows, a]
            q_policy = np.einsum("ij,ij->i", pi, q)
        return est_mod.OPEInputs(reward=r, pscore=p, weight=weight, action=a, position=np.zeros(m, dtype=np.int64),
                                 action_dist=pi[:, :, None], q_logged=q_logged, q_policy=q_policy, q_hat=q_hat,
                                 behavior_dist=behavior, action_context=self.action_context)

    def __call__(self, chunk: pd.DataFrame, ids):
        inputs = self.inputs(chunk, ids)
        blocks = []
        side = {}
        w = inputs.weight
        # the weights' sums (ess_terms, ess) of the logged weights, shared by the estimators that apply them as they are
        logged = _InformativeSums.of(w, inputs.reward)
        rr = self.reward_range if self.reward_range is not None else (0.0, 1.0)
        for j, e in enumerate(self.estimators):
            blocks.append(_ope()[2].estimator_terms(e, inputs))  # an overflow refused, with the chunk's row
            ew = e.weights(inputs) if hasattr(e, "weights") else None
            if ew is None:
                side.update({f"if_{j}": None, f"maxw_{j}": np.nan})  # no weights: NaN (DM)
            else:
                own = ew is not w
                ew = np.asarray(ew, dtype=np.float64)
                side.update({f"if_{j}": _InformativeSums.of(ew, inputs.reward) if own else logged,
                             f"maxw_{j}": float(ew.max())})
            b = e.term_bounds(inputs, rr) if blocks[-1].shape[1] == 1 else None
            side.update({f"tb_lo_{j}": np.nan if b is None else float(b[0]),
                         f"tb_hi_{j}": np.nan if b is None else float(b[1])})
        r = inputs.reward
        side.update({"if": logged, "max_w": float(w.max()),
                     "n_nonbinary": float(np.count_nonzero(~np.isin(r, (0.0, 1.0))))})
        if inputs.behavior_dist is not None:
            pe, pb = inputs.action_dist[:, :, 0], inputs.behavior_dist[:, :, 0]
            side["n_zero_support"] = float(np.count_nonzero(((pe > 0) & (pb <= 0)).any(axis=1)))
            side["rare"] = _WeightLevels.of(pe, pb)
        else:
            side["n_zero_support"], side["rare"] = np.nan, None
        return np.hstack(blocks), side


class _WeightLevels:
    """The sums behind the rare-draws clause (:func:`workbench.ope.evaluate.undersampled_mass`), mergeable: the
    target's and the logger's probability mass per power-of-two bin of the weights pi_e / pi_b over every
    (row, action) cell. In memory a log of over 2**15 rows is read every k-th row (a diagnostic, kept cheap);
    a stream reads each cell once anyway, so its share is that of every row (equal to memory's below 2**15 rows,
    close above)."""

    def __init__(self, exps, mass, drawn, n):
        self.exps, self.mass, self.drawn, self.n = exps, mass, drawn, n

    @classmethod
    def of(cls, pe: np.ndarray, pb: np.ndarray) -> "_WeightLevels":
        _, _, ev = _ope()
        return cls(*ev.weight_level_sums(pe, pb), pe.shape[0])

    def merge(self, other: "_WeightLevels") -> "_WeightLevels":
        exps, at = np.unique(np.concatenate([self.exps, other.exps]), return_inverse=True)
        at = np.reshape(at, -1)
        add = lambda a, b: np.bincount(at, weights=np.concatenate([a, b]), minlength=exps.size)  # noqa: E731
        return _WeightLevels(exps, add(self.mass, other.mass), add(self.drawn, other.drawn), self.n + other.n)

    def share(self) -> float:
        _, _, ev = _ope()
        return ev.undersampled_share(self.exps, self.mass, self.drawn)


def _informative(side: dict, suffix: str) -> float:
    """ess_terms of the logged weights (suffix "") or of estimator j's (suffix "_j"); NaN for DM (no weights)."""
    s = side[f"if{suffix}"]
    return float("nan") if s is None else s.value()


# Numbers m * 2**e as pairs (m, e), m = 0 or 0.5 <= m < 1 (Python int e): the sums below span any range
# of magnitudes (weights near 2**1000 squared, rewards near 1e-300 squared) without leaving the float
# range, and scaling by a power of two is exact. Only non-negative values are added, so no digit is lost.
_ZERO = (0.0, 0)


def _xnum(m: float, e: int = 0) -> tuple:
    f, k = math.frexp(m)
    return (f, int(e) + k) if f else _ZERO


def _xadd(x: tuple, y: tuple) -> tuple:
    if not x[0]:
        return y
    if not y[0]:
        return x
    e = max(x[1], y[1])
    return _xnum(math.ldexp(x[0], x[1] - e) + math.ldexp(y[0], y[1] - e), e)


def _xmul(x: tuple, y: tuple) -> tuple:
    return _xnum(x[0] * y[0], x[1] + y[1])


def _exponent(x: float) -> int:
    """The e with x < 2**e for finite x > 0 (0 for 0): :func:`workbench._engine.pow2_exponent` of one float."""
    return math.frexp(x)[1] if x else 0


def _xdiff(hi: float, lo: float) -> tuple:
    """hi - lo (>= 0) as a pair; from the halves when it overflows (e.g. 1e308 - (-1e308))."""
    d = hi - lo
    return _xnum(d) if math.isfinite(d) else _xnum(hi * 0.5 - lo * 0.5, 1)


class _InformativeSums:
    """What ``ess_terms`` needs of some rows, mergeable: for each centring c (the lowest weighted reward,
    and the highest), sum t and sum t^2 of t = w |r - c| over the rows with w > 0.

    The chunks' raw sums of w r, w^2 r, w^2 r^2 lost every digit to cancellation in
    (sum w^2 r^2 - 2 c sum w^2 r + c^2 sum w^2) once the rewards' offset dwarfed their spread (rewards
    1e8 + {0, 1}: 38.4 for 47.17), and overflowed for rewards or weights beyond ~1e154 (NaN). Instead each
    piece keeps its sums relative to its own extreme reward x0 (d = x - x0 >= 0): W = sum w, S0 = sum w^2,
    A = sum w d, S1 = sum w^2 d, S2 = sum w^2 d^2; merging re-references the piece with the larger x0 to the
    smaller, by delta = x0_piece - x0 >= 0 (A += delta W, S2 += 2 delta S1 + delta^2 S0, S1 += delta S0):
    sums of non-negative terms, so every digit is kept whatever the offset. The highest reward is the
    lowest of -r. Every sum is a (mantissa, exponent) pair (exact powers of two, like
    :class:`workbench.scale.CoMoments`' units); ess_terms = min (A^2 / S2) does not depend on the units of
    w or of r - c.

    W and S0 are also the streamed weight sums behind ``ess`` and the mean weight (:func:`_weight_sums`): over
    every row of a piece, zeros included, so that each piece's W and S0 are its plain sum w.sum() and
    w @ w to the bit (divided by an exact power of two), and two pieces merge as their plain sums add,
    wherever those stay in the float range. They are kept after a negative or non-finite weight too (inf or
    NaN, as the plain sums).
    """

    __slots__ = ("bad", "w", "w2", "sides")

    def __init__(self, bad=False, w=_ZERO, w2=_ZERO, sides=()):
        self.bad = bad  # a negative or non-finite weight: ess_terms is not determined (NaN)
        self.w, self.w2 = w, w2  # sum w, sum w^2 (over every row)
        self.sides = sides  # ((x0, A, S1, S2) for x = r, then for x = -r); () when no row has weight

    @classmethod
    def of(cls, w: np.ndarray, r: np.ndarray) -> "_InformativeSums":
        """The sums of one chunk's weights ``w`` and rewards ``r`` (rows with w = 0 add nothing)."""
        w = np.asarray(w, dtype=np.float64)
        top = float(w.max()) if w.size else 0.0  # (NaN after a NaN weight)
        ew = _exponent(top) if 0 < top < math.inf else 0
        # w / 2**ew in [0, 1) (exact): squares neither overflow nor (for the largest) underflow. W and S0 from
        # every row, as the plain sums add them (dropping the zeros would regroup numpy's pairwise sum)
        ws = np.ldexp(w, -ew) if ew else w
        with np.errstate(over="ignore", invalid="ignore"):  # inf or NaN weights: inf or NaN sums
            sums = {"w": _xnum(float(ws.sum()), ew), "w2": _xnum(float(np.dot(ws, ws)), 2 * ew)}
        on = w > 0
        if not on.any():
            return cls(bad=not (w >= 0).all(), **sums)  # (NaN >= 0 is False)
        if not (math.isfinite(top) and (w >= 0).all()):
            return cls(bad=True, **sums)
        ws, rv = ws[on], np.asarray(r, dtype=np.float64)[on]
        lo0, hi0 = lo, hi = float(rv.min()), float(rv.max())
        span, h = hi - lo, 0
        if not math.isfinite(span):  # a span beyond the float range: the halves' (exact), in units of 2
            rv, lo, hi, h = rv * 0.5, lo * 0.5, hi * 0.5, 1
            span = hi - lo
        # d = r - lo and hi - r (the second is -r - (-hi): the lowest of -r), in units of 2**ed, at most 1
        ed = _exponent(span)
        d = np.ldexp(np.stack([rv - lo, hi - rv]), -ed)
        t = d * ws
        # the terms w d in units 2**u, the largest in [0.5, 1): its square neither overflows nor underflows
        # (as in memory, which divides the terms by their maximum); 0 when every weighted reward is equal
        et = [_exponent(float(m)) for m in t.max(axis=1)]
        t = np.ldexp(t, -np.array(et)[:, None])
        a, s1, s2 = t.sum(axis=1), t @ ws, np.einsum("ij,ij->i", t, t)
        sides = []
        for i, x0 in enumerate((lo0, -hi0)):
            u = ew + ed + et[i] + h
            sides.append((x0, _xnum(float(a[i]), u), _xnum(float(s1[i]), ew + u),
                          _xnum(float(s2[i]), 2 * u)))
        return cls(sides=tuple(sides), **sums)

    def _side_at(self, i: int, x0: float) -> tuple:
        """Side i's (A, S1, S2) re-referenced to x0 <= its own."""
        own, a, s1, s2 = self.sides[i]
        if own == x0:
            return a, s1, s2
        delta = _xdiff(own, x0)
        dw2 = _xmul(delta, self.w2)
        return (_xadd(a, _xmul(delta, self.w)), _xadd(s1, dw2),
                _xadd(s2, _xadd(_xmul((2.0 * delta[0], delta[1]), s1), _xmul(delta, dw2))))

    def merge(self, other: "_InformativeSums") -> "_InformativeSums":
        w, w2 = _xadd(self.w, other.w), _xadd(self.w2, other.w2)
        if self.bad or other.bad:
            return _InformativeSums(bad=True, w=w, w2=w2)
        if not (self.sides and other.sides):  # a piece without weighted rows adds no side
            return _InformativeSums(w=w, w2=w2, sides=self.sides or other.sides)
        sides = []
        for i in range(2):
            x0 = min(self.sides[i][0], other.sides[i][0])
            a, b = self._side_at(i, x0), other._side_at(i, x0)
            sides.append((x0, *(_xadd(u, v) for u, v in zip(a, b))))
        return _InformativeSums(w=w, w2=w2, sides=tuple(sides))

    def value(self) -> float:
        """ess_terms: min over the two centrings of (sum t)^2 / sum t^2 (0 when no row has weight or the
        weighted rows share one reward, as in memory; NaN after a negative or non-finite weight)."""
        if self.bad:
            return float("nan")
        if not self.sides or self.sides[0][0] == -self.sides[1][0]:
            return 0.0
        out = []
        for _, (am, ae), _, (qm, qe) in self.sides:
            # A^2 / S2 in [1, rows]; 0 when every term is 0 (as in memory)
            out.append(math.ldexp(am * am / qm, 2 * ae - qe) if am else 0.0)
        return min(out)


def _weight_sums(side: dict, suffix: str) -> tuple:
    """(sum w / scale, sum (w / scale)^2, scale) of the logged weights (suffix "") or estimator j's ("_j"),
    as :func:`workbench.ope.evaluate.weight_sums` gives them in memory, from the :class:`_InformativeSums`'
    W and S0 (kept in units of powers of two): the plain sums (scale 1) unless they leave the float range
    (weights beyond ~1e154 or below ~1e-140: an OverflowError, or a log taken for one without weighted
    rows), then the sums divided by the power of two just above the largest weight. NaN without weights (DM)."""
    sums = side[f"if{suffix}"]
    if sums is None:
        return float("nan"), float("nan"), 1.0
    big = side["max_w"] if suffix == "" else side[f"maxw{suffix}"]
    with np.errstate(over="ignore"):  # the plain sums: inf beyond the float range, as summing them gave
        sw, sw2 = float(np.ldexp(*sums.w)), float(np.ldexp(*sums.w2))
    e = _ope()[2].weight_scale_exponent(sw, sw2, big)
    if e is None:
        return sw, sw2, 1.0
    return math.ldexp(sums.w[0], sums.w[1] - e), math.ldexp(sums.w2[0], sums.w2[1] - 2 * e), math.ldexp(1.0, e)


def _shown(value) -> str:
    """The offending value for a message: an array's shape, not its repr (which printed a 10,000 x 80
    policy over a dozen lines)."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return f"an array of shape {tuple(value.shape)}"
    return repr(value)


# The hint for a column argument given its values (the BanditLog habit): name the column instead.
_VALUES_HINT = "add the values to the data as a column (df['name'] = values) and pass that name"

# The hint for the most likely mistake: a DataFrame log (log.to_frame()) with an in-memory target array.
_ARRAY_HINT = ("To evaluate an array, give a BanditLog (BanditLog.from_frame(frame, ...)) instead of the frame, "
               "or add the array's columns to the frame and name them")


def _named_columns(cols, field: str, what: str) -> list:
    if isinstance(cols, str) or not isinstance(cols, Sequence) or len(cols) < 1:
        raise ValidationError(field, f"for tabular logs must be the list of columns holding {what}, got "
                                     f"{_shown(cols)}", hint=_ARRAY_HINT if hasattr(cols, "shape") else None)
    return list(cols)


def _policy_columns(policy) -> list[str]:
    if isinstance(policy, str) or not isinstance(policy, Sequence) or len(policy) < 1 or \
            not all(isinstance(c, str) for c in policy):
        raise ValidationError("policy", "for tabular logs must be the list of columns holding the target policy's "
                              f"probability of each action, e.g. ['pi_0', 'pi_1', ...]; got {_shown(policy)}",
                              hint=_ARRAY_HINT if hasattr(policy, "shape") else None)
    if len(set(policy)) != len(policy):
        raise ValidationError("policy", f"column names must be unique, got {list(policy)}")
    return list(policy)


class _WeightMoments:
    """Pre-pass reducer: n and sum of w^2 (for sg-ips' data-driven lambda)."""

    def __init__(self, builder: _ChunkTerms, resampling):
        self.builder = builder
        self.columns = builder.columns
        self.resampling = resampling

    def start(self):
        return _Moments2()

    def consume(self, partial, chunk, ids):
        inputs = self.builder.inputs(chunk, ids)
        partial.add(inputs.n, inputs.weight)


class _Moments2:
    """n and the Euclidean norm of the weights seen: norms merge with math.hypot, which does not overflow
    where the plain sum of w^2 did (weights beyond ~1e154: sg-ips' lambda came out 0, plain IPS)."""

    def __init__(self):
        self.n, self.norm = 0, 0.0

    def add(self, n, w):
        _, s2, scale = _ope()[2].weight_sums(np.asarray(w, dtype=float))
        self.n += n
        self.norm = math.hypot(self.norm, scale * math.sqrt(s2))

    def merge(self, other):
        out = _Moments2()
        out.n, out.norm = self.n + other.n, math.hypot(self.norm, other.norm)
        return out

    def rms(self) -> float:
        """The root mean square weight, sqrt(sum w^2 / n)."""
        return self.norm / math.sqrt(max(self.n, 1))


def evaluate_tabular(data, policy, estimators=("dm", "ips", "snips", "dr"), *, reward_model=None,
                     alpha: float = 0.05, n_bootstrap: int = 1000, interval: str = "percentile", random_state=0,
                     resampling: str = "poisson", reward_range=None, n_folds: int = 5, warn: bool = True,
                     action: str = "action", reward: str = "reward", propensity: str = "propensity",
                     context: Sequence[str] | None = None, behavior: Sequence[str] | None = None,
                     action_context=None, unit_id: str | None = None, chunk_size: int | None = None,
                     n_jobs: int | None = None, reward_model_sample: int = 200_000) -> pd.DataFrame:
    """Evaluate a target policy on a tabular log, streaming its rows (what ``evaluate_policy`` calls).

    Same estimators, intervals, diagnostics and output columns as
    :func:`workbench.ope.evaluate_policy`; with the same seed and the same rows the values and
    intervals equal those of the in-memory call on a :class:`~workbench.data.BanditLog` up to
    floating-point rounding, for every kind of input and every chunk size or partition count: the
    bootstrap weights are the same, but partial sums add in another order, so results agree to about
    1e-14 relative (differences up to ~1.7e-13 have been measured), not bit for bit.

    Parameters
    ----------
    data : DataFrame, iterable of chunks, Parquet path, pyarrow dataset or dask DataFrame
        One row per logged round. Only the named columns are read; memory is O(chunk), not O(n).
    policy : list of str
        Columns holding the target policy's probability of each action (column j is action j);
        every row must sum to 1 within 1e-6.
    estimators, alpha, n_bootstrap, interval, random_state, reward_range, warn
        As in :func:`workbench.ope.evaluate_policy`.
    resampling : "poisson"
        Only the hashed Poisson bootstrap streams (its weights do not depend on the chunking).
    reward_model : None, list of str, callable or scikit-learn estimator
        For DM and the DR family:

        * a list of columns holding q(x, a) for each action (your own predictions);
        * a callable ``f(chunk) -> (m, n_actions)`` applied to every chunk / partition (the chunk
          holds the ``context`` columns besides the log's own);
        * a :class:`~workbench.ope.RewardModelScorer` (:func:`workbench.ope.fit_reward_scorer`), applied
          to the ``context`` columns in the order given (required), as to a log's contexts in memory;
        * a *fitted* scikit-learn model, applied per partition to the design of
          :func:`workbench.ope.design_matrix` on the ``context`` columns (with the context x action
          interactions: fit it on that design; a model with another number of features is refused);
        * an *unfitted* model (or None: logistic regression for 0/1 rewards, else ridge, as in
          memory), cross-fitted in ``n_folds`` folds on a hashed sample of about
          ``reward_model_sample`` rows (``n_folds`` defaults to 5, as in
          :func:`workbench.ope.evaluate_policy`, so both entry points fit the same folds); every
          row is predicted by a model fitted on other folds, so none is predicted by a model that
          saw it. With ``unit_id`` the folds are hashes of the unit ids, so a unit's rows share one
          fold (as in memory), and ``n_folds`` may not exceed the sample's units. Its design is the in-memory one (interactions only up to
          ``MAX_AUTO_INTERACTIONS`` columns). Differs from the in-memory K-fold fit (a sample, not
          all rows), so DM/DR values match in memory only with given predictions.
    action, reward, propensity : str
        Column names (defaults "action", "reward", "propensity").
    context : list of str, optional
        Feature columns for a scikit-learn reward model.
    behavior : list of str, optional
        Columns with the logging policy's full distribution (for mips, the zero-support share and
        the Bernstein bound's weight bound).
    action_context : array (n_actions, d_a), optional
        Action embeddings (for mips).
    unit_id : str, optional
        Column of unit ids (user, session): a unit's rows share bootstrap weights (clustered
        bootstrap) and reward-model folds. Default: rows are the units (global row numbers).
        With ``unit_id``, ``interval`` must be "percentile" or "normal": "bca" and "bernstein"
        read per-row moments, which do not describe the resampled units.
    chunk_size : int, optional
        Rows per chunk for frames and Parquet; changes the answer only by floating-point rounding
        (sums added in another order; ~1e-13 at most measured).
    n_jobs : int, optional
        Parquet: reduce runs of row groups in parallel through joblib (a Dask backend set with
        ``joblib.parallel_config(backend="dask")`` sends them to the cluster).

    Returns
    -------
    DataFrame
        One row per estimator, columns ``estimator, value, ci_low, ci_high, se, alpha, interval,
        n, ess, mean_weight, max_weight, zero_support_share, n_bootstrap, resampling,
        reward_model, ess_terms``.

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
    ope, est_mod, ev = _ope()
    alpha = check_alpha(alpha)
    warn = check_bool(warn, "warn")  # "no" is truthy
    n_jobs = check_n_jobs(n_jobs)  # refused for every source, also those that read sequentially
    check_choice(interval, "interval", ev.INTERVALS)
    if resampling != "poisson":
        raise ValidationError("resampling", f"must be 'poisson' for tabular (chunked or distributed) logs, got "
                              f"{resampling!r}", hint="the multinomial bootstrap needs all rows in memory: build a "
                              "BanditLog for it")
    policy_cols = _policy_columns(policy)
    specs = est_mod.estimator_specs(estimators)
    ests = [est_mod.make_estimator(e) for e in specs]
    labels = est_mod.estimator_labels(specs, ests)
    if any(e.requires_behavior_dist for e in ests) and behavior is None:
        bad = [lab for lab, e in zip(labels, ests) if e.requires_behavior_dist]
        raise ValidationError("behavior_dist", f"is required by {bad} but no behavior= columns were given",
                              hint="name the columns holding the logging policy's probability of each action")
    if behavior is not None:
        # a string is refused as policy= is: len("b0") == 2 passed for two actions, then list("b0")
        # asked for the columns "b" and "0"
        behavior = _named_columns(behavior, "behavior", "the logging policy's probability of each action")
    if behavior is not None and len(behavior) != len(policy_cols):
        raise ValidationError("behavior", f"must name one column per action ({len(policy_cols)}), got {len(behavior)}")
    # Column names, not the values (the BanditLog habit: action=df["a"].to_numpy()): an array reached a set of
    # column names and failed with a bare TypeError ("unhashable type: 'numpy.ndarray'") naming no field.
    for field, value in (("action", action), ("reward", reward), ("propensity", propensity)):
        if not _is_label(value):
            raise ValidationError(field, f"for tabular logs must be the name of a column, got {_shown(value)}",
                                  hint=_VALUES_HINT)
    if isinstance(context, str):  # one column, as BanditLog.from_frame reads it (list("x1") is "x", "1")
        context = [context]
    if context is not None and (not hasattr(context, "__iter__") or np.ndim(context) != 1
                                or not all(_is_label(c) for c in context)):
        raise ValidationError("context", f"for tabular logs must be the list of feature column names, got "
                                         f"{_shown(context)}", hint=_VALUES_HINT)
    if action_context is not None:
        # the rule of a BanditLog: finite, one row per action (else an IndexError inside mips, or NaN
        # embeddings that silently made every action its own category)
        action_context = check_finite(as_array(action_context, "action_context", ndim=2), "action_context")
        if action_context.shape[0] != len(policy_cols):
            raise ValidationError("action_context", f"must have one row per action ({len(policy_cols)}), got "
                                  f"{action_context.shape[0]}")
    reward_model_sample = check_int(reward_model_sample, "reward_model_sample", low=1)
    # checked whatever the estimators, as evaluate_policy checks it for a BanditLog: n_folds="a" or 2.5 was
    # accepted when no estimator fits a reward model (_cross_fit checks it, with low=2, only when fitting)
    n_folds = check_int(n_folds, "n_folds")
    # by its own name, as evaluate_policy checks it (Resampling.make named it "n_replicates", no argument here)
    n_bootstrap = check_int(n_bootstrap, "n_bootstrap", low=2)
    if reward_range is not None:
        reward_range = ev.check_reward_range(reward_range)  # the in-memory rule: finite numbers, low < high
    if unit_id is not None and not _is_label(unit_id):
        # the in-memory habit (BanditLog(unit_id=ids)): an array of ids reached `unit_id not in columns` and
        # failed there with numpy's / pandas' "truth value ... is ambiguous", naming no field
        raise ValidationError("unit_id", f"for tabular logs must be the name of the column holding the unit ids, "
                                         f"got {_shown(unit_id)}", hint=_VALUES_HINT)
    if unit_id is not None and interval in ("bca", "bernstein"):
        # Both read per-row co-moments of the streamed terms: BCa's acceleration must skew over
        # the units resampled (a unit's rows may sit in several chunks), and the Bernstein bound
        # assumes independent rows.
        hint = "use 'percentile' or 'normal' (both resample whole units)" + (
            ", or evaluate an in-memory BanditLog with unit_id, where 'bca' uses per-unit influence values"
            if interval == "bca" else "")
        raise ValidationError("interval", f"{interval!r} is not available for a streamed log with unit_id "
                                          "(it reads per-row moments)", hint=hint)
    source = as_source(data, chunk_size=chunk_size)
    rs = Resampling.make(n_bootstrap, "poisson", random_state)
    # context= and reward_model= are checked whatever the estimators (names of columns that exist, a reward model
    # of an accepted kind), with the messages of their use: context=["x_typo"] or reward_model="ridge" passed
    # silently when no estimator of the call needed a reward model
    _check_named_columns(source, context, reward_model)
    if not any(e.requires_reward_model for e in ests):
        _check_unused_reward_model(reward_model, context=context, action=action, reward=reward,
                                   n_actions=len(policy_cols), unit_id=unit_id, n_folds=n_folds)

    rm = None
    model_name = "none"
    if any(e.requires_reward_model for e in ests):
        try:
            rm, model_name = make_reward_model(reward_model, context=context, action=action, reward=reward,
                                               n_actions=len(policy_cols), source=source, unit_id=unit_id,
                                               seed=rs.seed, sample_size=reward_model_sample, n_folds=n_folds)
        except ValidationError as exc:
            # the reward model's sampling pass checks the actions first, against the number of policy columns
            # ("action: must be in [0, 1)"): an action beyond them is the policy's columns' business, said as
            # the main pass says it (read again, the action column alone)
            if exc.field == "action" and isinstance(exc.value, numbers.Real) and exc.value >= len(policy_cols):
                source.reduce(_ActionCheck(action, policy_cols), unit_id=unit_id)
            raise
    builder = _ChunkTerms(action=action, reward=reward, propensity=propensity, policy_cols=policy_cols,
                          behavior_cols=behavior, action_context=action_context, estimators=ests, reward_model=rm,
                          reward_range=reward_range, unit_id=unit_id, bernstein=interval == "bernstein")
    needs_prepass = any(isinstance(e, est_mod.SubGaussianIPS) and e.lambda_ is None for e in ests)
    if needs_prepass and not source.reusable:
        raise ValidationError("data", "is a one-shot iterator of chunks, but sg-ips with lambda_=None needs a first "
                              "pass for E_n[w^2]", hint="pass a list of chunks, a Parquet path or a Dask frame, or "
                              "give sg-ips a fixed lambda_: SubGaussianIPS(lambda_=...)")
    if needs_prepass:
        # sg-ips' default lambda depends on E_n[w^2] over all rows: one light pass first, then the
        # resolved lambda is held fixed, exactly as in memory.
        mom = source.reduce(_WeightMoments(builder, rs), unit_id=unit_id, n_jobs=n_jobs)
        probe = types.SimpleNamespace(weight=np.array([mom.rms()]), n=mom.n)
        ests = [type(e)(lambda_=e.resolved_lambda(probe), delta=e.delta)
                if isinstance(e, est_mod.SubGaussianIPS) and e.lambda_ is None else e for e in ests]
        builder.estimators = ests
    widths = _term_widths(ests, builder, source)
    reducer = TermReducer(builder.columns, builder, int(sum(widths)), rs, side_ops=builder.side_ops,
                          moments=interval in ("bca", "bernstein"))
    part = source.reduce(reducer, unit_id=unit_id, n_jobs=n_jobs)
    if part.acc.n == 0:
        raise ValidationError("data", "has no rows")
    return _finish(part, ests, labels, widths, alpha, interval, rs, reward_range, model_name, warn, unit_id)


def _check_actions(values, policy_cols) -> np.ndarray:
    """The logged actions as int64: integers >= 0 (field ``action``), and each below the number of policy columns,
    which are the actions 0..k-1 (field ``policy``: with fewer columns than the log's actions the refusal read
    "action: must be in [0, 1)", as if the log, not the list of columns, were wrong)."""
    a = check_integer_in_range(values, "action", 0, None)
    k = len(policy_cols)
    shown = policy_cols if k <= 4 else [*policy_cols[:3], "...", policy_cols[-1]]
    raise_if_any(a >= k, "policy", f"lists {k} column(s) {shown}, one per action (actions 0..{k - 1}), but the log "
                 f"has actions beyond {k - 1}", a,
                 hint="the value shown is the logged action; name one column per action of the log, in the order "
                      "of the actions (or check the action column)")
    return a


class _ActionCheck:
    """Reducer of the action column alone: :func:`_check_actions` on every chunk (rows made global by the source)."""

    def __init__(self, action, policy_cols):
        self.columns = [action]
        self.action, self.policy_cols = action, list(policy_cols)

    def start(self):
        return _Nothing()

    def consume(self, partial, chunk, ids):
        _check_actions(column_values(chunk, self.action, "action"), self.policy_cols)


class _Nothing:
    def merge(self, other):
        return self


def _check_named_columns(source, context, reward_model) -> None:
    """The ``context`` columns and a reward model's prediction columns exist in the data (its schema, or its first
    chunk), checked before any pass and whatever the estimators. (Read per chunk, a missing one was refused as
    "columns: unknown column name(s)" only when some estimator read it; with ips alone a typo passed silently.)"""
    named = [("context", list(context) if context is not None else [])]
    if isinstance(reward_model, (list, tuple)) and reward_model and all(isinstance(c, str) for c in reward_model):
        named.append(("reward_model", list(reward_model)))
    if not any(cols for _, cols in named):
        return
    have = source.column_names()
    if not have:  # no chunk at all: the pass says "has no rows"
        return
    have_set = set(have)
    for field, cols in named:
        missing = [c for c in cols if c not in have_set]
        if missing:
            shown = ", ".join(map(repr, have[:12])) + (" ..." if len(have) > 12 else "")
            raise ValidationError(field, f"unknown column name(s) {missing}; the data has {shown}")


def _check_unused_reward_model(reward_model, **kw) -> None:
    """A reward model no estimator of the call uses, checked as it is when used (:func:`make_reward_model`'s
    refusals: not a kind a tabular log takes, the wrong number of prediction columns, a fitted model of the wrong
    width, a scorer without context=), without fitting anything: an unfitted scikit-learn model (or None) is
    cross-fitted only when used, so it is not fitted here."""
    from .reward import _is_fitted

    if reward_model is None or isinstance(reward_model, RewardModel):
        return
    if hasattr(reward_model, "fit") and hasattr(reward_model, "predict") and not _is_fitted(reward_model):
        return
    # every other kind is built without reading the data (no source, no seed needed)
    make_reward_model(reward_model, source=None, seed=0, sample_size=1, **kw)


def _term_widths(ests, builder, source):
    """Number of term columns of each estimator, from a 1-row dummy chunk (terms' shape never depends on data)."""
    k = len(builder.policy_cols)
    pi = np.full((1, k, 1), 1.0 / k)
    q = np.zeros(1)
    _, est_mod, _ = _ope()
    inputs = est_mod.OPEInputs(reward=np.zeros(1), pscore=np.ones(1), weight=np.ones(1), action=np.zeros(1, int),
                               position=np.zeros(1, int), action_dist=pi, q_logged=q, q_policy=q,
                               q_hat=np.zeros((1, k, 1)), behavior_dist=pi if builder.behavior_cols else None,
                               action_context=builder.action_context)
    out = []
    for e in ests:
        t = np.asarray(e.terms(inputs))
        out.append(1 if t.ndim == 1 else t.shape[1])
    return out


def _finish(part, ests, labels, widths, alpha, interval, rs, reward_range, model_name, warn, unit_id=None):
    _, _, ev = _ope()
    acc, side = part.acc, part.side
    n = acc.n
    # One row, or one unit: every resample holds the same data, so the intervals would have width 0
    # (a false certainty). NaN instead, with the in-memory warning (single_unit_message).
    one_unit = part.single_unit and interval != "bernstein"
    if one_unit and warn:  # warn=False silences every diagnostics warning (the NaN intervals still say it)
        warnings.warn(ev.single_unit_message(unit_id is not None), ev.OPEDiagnosticWarning, stacklevel=4)
    means, rep_means = acc.means, acc.replicate_means
    offsets = np.concatenate([[0], np.cumsum(widths)])
    zero_share = side["n_zero_support"] / n if np.isfinite(side["n_zero_support"]) else float("nan")
    if interval == "bernstein":
        rr = _stream_reward_range(side, reward_range)
    rows = []
    for j, e in enumerate(ests):
        sl = slice(offsets[j], offsets[j + 1])
        cols = list(range(offsets[j], offsets[j + 1]))
        theta = float(np.asarray(e.combine(means[None, sl]))[0])
        reps = np.asarray(e.combine(rep_means[:, sl]), dtype=np.float64)
        se = replicate_sd(reps)

        def bernstein(j=j, cols=cols):
            if widths[j] != 1 or not np.isfinite(side[f"tb_lo_{j}"]):
                raise ev.bernstein_unavailable(labels[j], "behavior= columns", zero_share)
            return _bernstein(part.moments, cols[0], side[f"tb_lo_{j}"], side[f"tb_hi_{j}"], alpha, rr)

        if part.single_unit:
            # no resample differs from the log: the replicates' spread (0) is no standard error,
            # also for "bernstein" (whose bound below needs no resampling), as in memory
            se = float("nan")
        if one_unit:
            lo = hi = float("nan")
        else:
            lo, hi = ev.interval_from_replicates(
                interval, theta, reps, se, alpha,
                bca=lambda: bca_from_moments(theta, reps, part.moments, cols, means, e.combine, alpha),
                bernstein=bernstein)
        sw, sw2, scale = _weight_sums(side, f"_{j}")
        if np.isfinite(sw):
            diag = {"ess": sw**2 / sw2 if sw2 > 0 else 0.0, "mean_weight": sw / n * scale,
                    "max_weight": side[f"maxw_{j}"]}
        else:
            diag = {"ess": np.nan, "mean_weight": np.nan, "max_weight": np.nan}
        row = {"estimator": labels[j], "value": theta, "ci_low": float(lo), "ci_high": float(hi), "se": se,
               "alpha": alpha, "interval": interval, "n": int(n)}
        row.update(diag)
        row.update({"zero_support_share": zero_share, "n_bootstrap": rs.n_replicates, "resampling": rs.scheme,
                    "reward_model": model_name,
                    # appended: the in-memory column order (NaN for DM, whose sums are NaN)
                    "ess_terms": _informative(side, f"_{j}")})
        rows.append(row)
    if warn:
        # the few-informative-rows clause only when some estimator weighs rows (not for DM alone): its ess is a
        # number, the in-memory rule (evaluate._weighted). (The plain sum of the weights was asked to be finite:
        # weights near 1e308 lost the clause.)
        weighted = any(not math.isnan(r["ess"]) for r in rows)
        sw, sw2, scale = _weight_sums(side, "")
        # the rare-draws clause as in memory (with behavior= columns: NaN, so no clause, without them)
        rare = side["rare"].share() if weighted and side["rare"] is not None else None
        msg = ev.diagnostics_message(n, sw, sw2, side["max_w"], zero_share, scale,
                                     ess_terms=_informative(side, "") if weighted else None, rare_mass=rare)
        if msg:
            warnings.warn(msg, ev.OPEDiagnosticWarning, stacklevel=3)
        # (not when no row has weight: the diagnostics' "no support" warning above says it)
        msg = None if n and sw2 <= 0 else ev.zero_width_message(
            [(r["estimator"], r["value"], r["ci_low"], r["ci_high"], r["n"], interval) for r in rows])
        if msg:
            warnings.warn(msg, ev.OPEDiagnosticWarning, stacklevel=3)
    return pd.DataFrame(rows)


def _stream_reward_range(side, reward_range):
    if reward_range is None:
        if side["n_nonbinary"] == 0:
            return (0.0, 1.0)
        raise ValidationError("reward_range", "is needed for interval='bernstein' when rewards are not all 0/1",
                              hint="pass the a-priori (low, high) bounds of the reward, e.g. reward_range=(0, 5)")
    return reward_range  # every reward lies in it: _ChunkTerms.inputs refused any other with its row


def _bernstein(moments, col, low, high, alpha, rr):
    """Empirical-Bernstein interval from streamed moments: the formula of
    :func:`workbench.ope.bernstein_interval` with the mean and unbiased variance of the term."""
    n = moments.n
    if n < 2:
        return low, high
    m = float(moments.mean[col])
    var = float(moments.m2[col, col]) / (n - 1)
    log_term = math.log(4.0 / alpha)
    half = math.sqrt(2.0 * var * log_term / n) + 7.0 * (high - low) * log_term / (3.0 * (n - 1))
    return max(low, m - half), min(high, m + half)


def bca_from_moments(theta, reps, moments, cols, means, combine, alpha):
    """BCa interval whose acceleration comes from streamed co-moments of the terms.

    Same z0 (mid-rank) and the same acceleration sum U^3 / (6 (sum U^2)^1.5) as
    :func:`workbench._intervals.bca_interval` with the influence values of
    :func:`workbench._engine.influence_values` (gradient of ``combine`` by the same central
    differences), but U is never materialised: sum U^2 = g' M2 g and sum U^3 = M3[g, g, g].

    Examples
    --------
    A BCa interval for the mean of a skewed column, streamed in chunks of 128 rows: ``theta`` and
    ``reps`` are the statistic and its replicates, ``moments`` the :class:`CoMoments` of the
    terms, ``cols`` the term columns the statistic reads, ``means`` all term means and
    ``combine`` maps (B, len(cols)) means to (B,) statistics. It equals the in-memory BCa
    interval of :func:`workbench.resample.bootstrap_ci` with the same Poisson weights.

    >>> import numpy as np, pandas as pd
    >>> from workbench._engine import Resampling
    >>> from workbench.resample import bootstrap_ci
    >>> from workbench.scale import FrameSource, TermReducer, bca_from_moments
    >>> x = np.random.default_rng(0).exponential(size=500)
    >>> reducer = TermReducer(["x"], lambda chunk, ids: (chunk["x"].to_numpy(), {}), k=1,
    ...                       resampling=Resampling.make(999, "poisson", random_state=0), moments=True)
    >>> part = FrameSource(pd.DataFrame({"x": x}), chunk_size=128).reduce(reducer)
    >>> theta, reps = float(part.acc.means[0]), part.acc.replicate_means[:, 0]
    >>> lo, hi = bca_from_moments(theta, reps, part.moments, [0], part.acc.means, lambda m: m[:, 0], 0.05)
    >>> bool(lo < theta < hi)
    True
    >>> ref = bootstrap_ci(x, method="bca", n_resamples=999, random_state=0, resampling="poisson")
    >>> bool(np.allclose([lo, hi], [ref.ci_low, ref.ci_high]))
    True
    """
    if not np.isfinite(theta):
        # a NaN estimate (snips when no row has weight) has NaN replicates: no interval, and no gradient taken
        # at NaN means (numpy's "invalid value" warnings, which blamed the interval), as in memory
        return np.nan, np.nan
    cols = list(cols)
    g = combine_gradient(np.asarray(means, dtype=np.float64)[cols], combine)
    full = np.zeros(moments.k)
    np.add.at(full, cols, g)  # a column named twice adds its two gradients, as g' M g did
    a = moments.acceleration(full)  # 0 for constant terms (e.g. ips when no row has weight), as in memory
    if np.isnan(a):
        warn_acceleration_rounding()
        return np.nan, np.nan
    reps = np.asarray(reps, dtype=np.float64)
    _, _, z0 = bca_z0(theta, reps)  # the in-memory rule (ties within rounding of theta)
    zs = special.ndtri(np.array([alpha / 2, 1 - alpha / 2]))
    adj = special.ndtr(z0 + (z0 + zs) / (1 - a * (z0 + zs)))
    if not np.all(np.isfinite(adj)):
        return np.nan, np.nan
    lo, hi = np.nanpercentile(reps, adj * 100)
    return lo, hi
