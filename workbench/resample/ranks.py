"""Many algorithms over many data sets (Demsar 2006): Friedman / Iman-Davenport and post-hoc tests.

Input: an (N data sets, k algorithms) matrix of scores (e.g. mean CV accuracy per data set).
Ranks are computed within each data set (1 = best, ties get average ranks; scores that differ only by
floating-point rounding, as equal mean accuracies averaged in another order do, are ties).

* :func:`friedman_test`: the Friedman chi-square with scipy's tie correction (equal to Demsar's
  formula when there are no ties) and the Iman-Davenport F, which Demsar recommends because
  the chi-square is conservative.
* :func:`nemenyi_test`: all-pairs comparison of mean ranks with the critical difference
  CD = q_alpha sqrt(k (k + 1) / (6 N)), q_alpha from scipy's studentized range / sqrt(2).
* :func:`wilcoxon_holm_test`: pairwise Wilcoxon signed-rank tests with Holm's correction
  (statsmodels). Benavoli et al. (2016) recommend it over mean-rank post-hocs, whose outcome for
  a pair depends on which other algorithms happen to be in the comparison.

:func:`workbench.plotting.critical_difference_diagram` draws either result.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import special, stats

from ..results import FrameFieldsCopied
from .._validation import (ValidationError, as_array, check_alpha, check_bool, check_choice, check_finite, check_int,
                           check_names)
from ._result import _frames_html, _frames_repr
from .bootstrap import numeric_values

__all__ = ["RankTestResult", "friedman_test", "nemenyi_test", "wilcoxon_holm_test", "critical_difference"]


def _score_matrix(scores, names):
    cols = getattr(scores, "columns", None)
    S = check_finite(as_array(numeric_values(scores, "scores"), "scores", ndim=2), "scores")
    N, k = S.shape
    if k < 2 or N < 2:
        raise ValidationError("scores", f"needs at least 2 data sets (rows) and 2 algorithms (columns), got {S.shape}")
    # (float64: an integer or boolean matrix has no rounding, and eps is that of float64)
    names = check_names(names, k, cols if cols is not None else [f"algo_{j}" for j in range(k)])
    return _merge_rounding_ties(np.asarray(S, dtype=np.float64)), names


def _merge_rounding_ties(S):
    """S with the scores of a data set that differ only by floating-point rounding made equal (each run of
    such values takes its smallest), so that they rank as ties and their Wilcoxon difference is 0.

    Equal mean accuracies averaged from different fold scores differ in the last bits (0.8166666666666668 vs
    0.8166666666666667: about 1 in 9 such ties in our check of 10-fold means); exact comparison ranked them
    1 and 2 instead of 1.5 each, and made a zero Wilcoxon difference the smallest nonzero one. Adjacent sorted
    values within 64 eps of their magnitude are merged (the rule of the CV tests' rounding tolerance); any
    real difference of scores is many orders larger."""
    order = np.argsort(S, axis=1, kind="stable")
    srt = np.take_along_axis(S, order, axis=1)
    gap = np.diff(srt, axis=1)
    tol = 64.0 * np.finfo(np.float64).eps * np.maximum(np.abs(srt[:, 1:]), np.abs(srt[:, :-1]))
    start = np.concatenate([np.ones((S.shape[0], 1), bool), gap > tol], axis=1)  # a run starts here
    if start.all():
        return S  # no rounding tie (the usual case): the data as given
    first = np.maximum.accumulate(np.where(start, np.arange(S.shape[1]), 0), axis=1)  # each run's first column
    out = np.empty_like(S)
    np.put_along_axis(out, order, np.take_along_axis(srt, first, axis=1), axis=1)
    return out


def _merge_rounding_magnitudes(d, scale: np.ndarray):
    """Differences whose magnitudes differ only by the rounding of the scores they come from made equal in
    magnitude (each run of such |d| takes its smallest; signs kept), so that the signed-rank test ranks them
    as ties. 0.95 - 0.77 = 0.17999999999999994 and 0.61 - 0.79 = -0.18000000000000005 were ranked 4 and 5, not
    4.5 each, and the p-value changed when the scores were given in percent (0.625 against 0.5). Runs are of
    adjacent sorted |d| within 64 eps of the larger magnitude of the scores they come from (``scale``, one per
    data set: the within-data-set rule of :func:`_merge_rounding_ties`; one scale for all data sets merged
    real differences of 1e-9 on data sets whose scores are 1e-9 when others' were 1e6)."""
    a = np.abs(d)
    order = np.argsort(a, kind="stable")
    srt = a[order]
    tol = 64.0 * np.finfo(np.float64).eps * np.asarray(scale, dtype=np.float64)[order]
    start = np.concatenate([[True], np.diff(srt) > np.maximum(tol[1:], tol[:-1])])
    if start.all():
        return d
    first = np.maximum.accumulate(np.where(start, np.arange(a.size), 0))
    merged = np.empty_like(a)
    merged[order] = srt[first]
    return np.sign(d) * merged


def _ranks(S, higher_is_better):
    return stats.rankdata(-S if higher_is_better else S, axis=1)


def critical_difference(k: int, n_datasets: int, alpha: float = 0.05) -> float:
    """Nemenyi critical difference of mean ranks: q_alpha sqrt(k (k+1) / (6 N)).

    q_alpha = studentized_range.ppf(1 - alpha, k, inf) / sqrt(2) (e.g. 2.343 for k = 3, 3.164 for
    k = 10 at alpha = 0.05, Demsar 2006 Table 5).

    Examples
    --------
    >>> from workbench.resample import critical_difference
    >>> round(critical_difference(3, n_datasets=14), 3)      # 2.343 * sqrt(3 * 4 / (6 * 14))
    0.886
    >>> round(critical_difference(10, n_datasets=14, alpha=0.05), 3)
    3.62
    """
    # Integers by the package's rule: int(2.5) was 2 in q but 2.5 in the square root, n_datasets=0 a bare
    # ZeroDivisionError and k=1 a silent NaN.
    k = check_int(k, "k", low=2)
    n_datasets = check_int(n_datasets, "n_datasets", low=1)
    q = stats.studentized_range.ppf(1 - check_alpha(alpha), k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n_datasets)))


@dataclass(frozen=True, repr=False, eq=False)  # identity: == of array / frame fields raised
class RankTestResult(FrameFieldsCopied):
    """Result of a rank-based comparison of k algorithms over N data sets.

    Attributes
    ----------
    test : str
    statistic, p_value : float
        Friedman chi-square (tie-corrected) and its p-value.
    iman_davenport, iman_davenport_p_value : float
        F_F = (N - 1) chi2 / (N (k - 1) - chi2) ~ F(k - 1, (k - 1)(N - 1)).
    mean_ranks : DataFrame
        name, mean_rank (1 = best), sorted best first.
    pairwise : DataFrame
        a, b, rank_difference, p_value, p_adjusted, significant (empty for the omnibus test).
    critical_difference : float
        Nemenyi CD (NaN for other post-hocs).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from workbench.resample import friedman_test
    >>> scores = pd.DataFrame(np.random.default_rng(0).random((10, 3)) + [0.0, 0.4, 0.8], columns=["a", "b", "c"])
    >>> r = friedman_test(scores)
    >>> round(r.p_value, 4)
    0.0017
    >>> r.to_frame()["name"].tolist()   # best first
    ['c', 'b', 'a']
    """

    test: str
    statistic: float
    p_value: float
    iman_davenport: float
    iman_davenport_p_value: float
    mean_ranks: pd.DataFrame
    pairwise: pd.DataFrame
    critical_difference: float
    alpha: float
    n_datasets: int
    higher_is_better: bool
    details: Mapping[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """The mean-rank table, a copy."""
        return self.mean_ranks.copy()

    def _summary(self) -> str:
        return (f"{self.test}: Friedman chi2={self.statistic:.4g} p={self.p_value:.3g}; "
                f"Iman-Davenport F={self.iman_davenport:.4g} p={self.iman_davenport_p_value:.3g}; "
                f"N={self.n_datasets}, CD={self.critical_difference:.4g}")

    def __repr__(self) -> str:
        frames = {"mean ranks": self.mean_ranks}
        if len(self.pairwise):
            frames["pairwise"] = self.pairwise
        return _frames_repr(f"RankTestResult({self._summary()})", frames)

    def _repr_html_(self) -> str:
        frames = {"mean ranks": self.mean_ranks}
        if len(self.pairwise):
            frames["pairwise"] = self.pairwise
        # the omnibus test in the caption, as in the repr: the HTML showed the ranks without the statistics
        # or p-values of the test they belong to
        return _frames_html(self._summary(), frames)


def _friedman(S, higher_is_better, caller="friedman_test"):
    higher_is_better = check_bool(higher_is_better, "higher_is_better")  # "False" is truthy: ranks upside down
    N, k = S.shape
    R = _ranks(S, higher_is_better)
    Rbar = R.mean(axis=0)
    chi2 = 12.0 * N / (k * (k + 1)) * (np.sum(Rbar**2) - k * (k + 1) ** 2 / 4.0)
    # Tie correction, as scipy.stats.friedmanchisquare applies it (1 when there are no ties).
    ties = 0.0
    for row in R:  # loop over data sets (N is small), not over rows of data
        _, counts = np.unique(row, return_counts=True)
        ties += np.sum(counts**3 - counts)
    c = 1.0 - ties / (N * k * (k * k - 1))
    chi2 = chi2 / c if c > 0 else np.nan
    p = float(stats.chi2.sf(chi2, k - 1))
    if np.isnan(chi2):  # every algorithm tied on every data set: no evidence either way (as scipy: NaN)
        warnings.warn(f"{caller}: every algorithm ties on every data set, so the Friedman statistic is undefined "
                      "(0/0 after the tie correction); statistic, p-value and Iman-Davenport F are NaN",
                      RuntimeWarning, stacklevel=3)
        return Rbar, float(chi2), float("nan"), float("nan"), float("nan")
    denom = N * (k - 1) - chi2
    # denom = 0 only when every data set ranks the algorithms identically: F is infinite and its F-distribution
    # p-value 0, which no finite N can give. Under H0 (each data set's ranking uniform over its M distinct
    # arrangements, independently) that event, the most extreme one, has probability M^(1 - N): the exact
    # p-value there (0.5 for N = 2, k = 2, where p = 0 was reported), which the F approximation tends to as N
    # grows. M = k! / prod_j t_j! for tie groups of sizes t_j (identical rankings share the tie pattern):
    # k! alone made the p-value of tied rankings 2-16x too small.
    # Identical rankings are recognised from the ranks, not from denom: with ties its rounding left 1e-15 > 0
    # (F = 7e15 and p = 3e-24 where the exact p is 1/12), in about one tie pattern in five.
    identical = bool(np.all(R == R[0]))
    ff = (N - 1) * chi2 / denom if denom > 0 and not identical else np.inf
    if np.isfinite(ff):
        pf = float(stats.f.sf(ff, k - 1, (k - 1) * (N - 1)))
        if ties == 0:
            # Without ties, P(statistic >= observed) is at least the probability of the most extreme outcome,
            # k!^(1 - N) (the p-value given above when every ranking is identical). Just below that extreme the
            # F approximation's tail is far too thin: N = 10, k = 3 with one ranking swapped gave 3.9e-10, below
            # the 9.9e-8 of the most extreme table (the exact value is 2.1e-6). Floored, the p-value keeps the
            # order of the outcomes; it is still the approximation's (Iman-Davenport is anti-conservative there).
            pf = max(pf, float(np.exp((1 - N) * special.gammaln(k + 1))))
    else:
        _, tie_sizes = np.unique(R[0], return_counts=True)
        log_m = special.gammaln(k + 1) - special.gammaln(tie_sizes + 1.0).sum()
        pf = float(np.exp((1 - N) * log_m))
    return Rbar, float(chi2), p, float(ff), pf


def _rank_frame(names, Rbar):
    return (pd.DataFrame({"name": names, "mean_rank": Rbar}).sort_values("mean_rank", kind="stable")
            .reset_index(drop=True))


_EMPTY_PAIRS = pd.DataFrame(columns=["a", "b", "rank_difference", "p_value", "p_adjusted", "significant"])


def friedman_test(scores, *, names: Sequence[str] | None = None, higher_is_better: bool = True,
                  alpha: float = 0.05) -> RankTestResult:
    """Friedman test (and Iman-Davenport F) that k algorithms perform equally over N data sets.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import friedman_test
    >>> S = np.array([[.80, .78, .70], [.90, .85, .84], [.75, .74, .70], [.88, .86, .80], [.70, .71, .65]])
    >>> round(friedman_test(S).statistic, 3)
    8.4
    """
    alpha = check_alpha(alpha)
    S, names = _score_matrix(scores, names)
    Rbar, chi2, p, ff, pf = _friedman(S, higher_is_better)
    return RankTestResult("friedman", chi2, p, ff, pf, _rank_frame(names, Rbar), _EMPTY_PAIRS.copy(), float("nan"),
                          alpha, S.shape[0], higher_is_better, {"k": S.shape[1]})


def nemenyi_test(scores, *, names: Sequence[str] | None = None, higher_is_better: bool = True,
                 alpha: float = 0.05) -> RankTestResult:
    """Friedman test followed by the Nemenyi all-pairs test on mean ranks (Demsar 2006).

    Two algorithms differ significantly when their mean ranks differ by at least the critical
    difference CD. Pairwise p-values use the studentized range distribution with infinite df:
    p = P(q > |R_i - R_j| sqrt(2) / sqrt(k (k+1) / (6 N))). Already family-wise: ``p_adjusted``
    equals ``p_value``.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import nemenyi_test
    >>> S = np.array([[.80, .78, .70], [.90, .85, .84], [.75, .74, .70], [.88, .86, .80], [.70, .71, .65]])
    >>> r = nemenyi_test(S, names=["a", "b", "c"])        # 5 data sets (rows), 3 algorithms
    >>> r.mean_ranks["name"].tolist(), r.mean_ranks["mean_rank"].round(2).tolist()
    (['a', 'b', 'c'], [1.2, 1.8, 3.0])
    >>> round(r.critical_difference, 3)
    1.482
    >>> r.pairwise.loc[r.pairwise["significant"], ["a", "b"]].values.tolist()   # |rank difference| >= CD
    [['a', 'c']]
    """
    alpha = check_alpha(alpha)
    S, names = _score_matrix(scores, names)
    N, k = S.shape
    Rbar, chi2, p, ff, pf = _friedman(S, higher_is_better, "nemenyi_test")
    se = np.sqrt(k * (k + 1) / (6.0 * N))
    rows = []
    for i in range(k):
        for j in range(i + 1, k):
            diff = Rbar[i] - Rbar[j]
            pv = float(stats.studentized_range.sf(abs(diff) / se * np.sqrt(2), k, np.inf))
            rows.append((names[i], names[j], diff, pv, pv, pv < alpha))
    pairs = pd.DataFrame(rows, columns=_EMPTY_PAIRS.columns)
    return RankTestResult("friedman + nemenyi", chi2, p, ff, pf, _rank_frame(names, Rbar), pairs,
                          critical_difference(k, N, alpha), alpha, N, higher_is_better, {"k": k})


def _signed_rank_permutation_p(d: np.ndarray, zero_method: str) -> float:
    """The two-sided p-value scipy.stats.wilcoxon gives with ties or zeros and n <= 13: the exact permutation
    distribution of R+ over all 2**n sign flips, 2 min(P(R+ <= r), P(R+ >= r)) capped at 1.

    Written here because scipy gets it from permutation_test over 8,192 sign vectors, 3.5-4 s per pair on this
    machine (40 s for five algorithms); midranks are multiples of 1/2, so the distribution of 2 R+ is a
    convolution of integer steps, the same p-value (equal to the last bit on 90 tied inputs) in ~0.1 ms."""
    zero = d == 0
    # "wilcox": zeros dropped before ranking; "pratt": zeros ranked, then left out; "zsplit": half their ranks on
    # each side whatever the signs, a constant that cancels in the comparison below
    r = stats.rankdata(np.abs(d[~zero] if zero_method == "wilcox" else d))
    if zero_method != "wilcox":
        r = r[~zero]
    d = d[~zero]
    steps = np.rint(2 * r).astype(np.int64)
    total = int(steps.sum())
    dist = np.zeros(total + 1)
    dist[0] = 1.0
    for v in steps:  # a loop over the (at most 13) differences, each a vector step: P(2 R+ = s)
        shifted = np.zeros_like(dist)
        shifted[v:] = dist[:total + 1 - v]
        dist = 0.5 * (dist + shifted)
    t = int(np.rint(2 * r[d > 0].sum()))
    return float(min(1.0, 2.0 * min(dist[:t + 1].sum(), dist[t:].sum())))


def _wilcoxon_p(d: np.ndarray, zero_method: str) -> float:
    """scipy.stats.wilcoxon's two-sided p-value (method "auto"), with its slow exact-permutation case computed
    by :func:`_signed_rank_permutation_p`."""
    n = d.size
    ties = np.unique(np.abs(d[d != 0])).size < np.count_nonzero(d)
    if n <= 13 and (ties or (d == 0).any()):
        return _signed_rank_permutation_p(np.asarray(d, dtype=np.float64), zero_method)
    return float(stats.wilcoxon(d, zero_method=zero_method).pvalue)


def wilcoxon_holm_test(scores, *, names: Sequence[str] | None = None, higher_is_better: bool = True,
                       alpha: float = 0.05, zero_method: str = "wilcox") -> RankTestResult:
    """Friedman test followed by pairwise Wilcoxon signed-rank tests with Holm's correction.

    Uses :func:`scipy.stats.wilcoxon` (two-sided) per pair of algorithms over the N data sets and
    :func:`statsmodels.stats.multitest.multipletests` with ``method="holm"``. A pair with equal scores
    on every data set gets p = 1 (no evidence of a difference), where scipy's test is undefined (NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import wilcoxon_holm_test
    >>> rng = np.random.default_rng(0)
    >>> S = rng.uniform(0.7, 0.9, (12, 1)) + [0.03, 0.0, 0.01] + rng.normal(0, 0.02, (12, 3))
    >>> r = wilcoxon_holm_test(S, names=["a", "b", "c"])    # 12 data sets, 3 algorithms
    >>> r.pairwise[["a", "b"]].values.tolist()
    [['a', 'b'], ['a', 'c'], ['b', 'c']]
    >>> r.pairwise[["p_value", "p_adjusted"]].round(3).values.tolist()
    [[0.002, 0.007], [0.064, 0.068], [0.034, 0.068]]
    >>> r.pairwise["significant"].tolist()       # b vs c: p = 0.034, but not after Holm's correction
    [True, False, False]
    """
    from statsmodels.stats.multitest import multipletests

    alpha = check_alpha(alpha)
    # scipy's own options; checked up front (scipy checks only when a pair differs, with a bare ValueError)
    check_choice(zero_method, "zero_method", ("wilcox", "pratt", "zsplit"))
    S, names = _score_matrix(scores, names)
    N, k = S.shape
    Rbar, chi2, p, ff, pf = _friedman(S, higher_is_better, "wilcoxon_holm_test")
    rows, pv = [], []
    for i in range(k):
        for j in range(i + 1, k):
            d = _merge_rounding_magnitudes(S[:, i] - S[:, j], np.maximum(np.abs(S[:, i]), np.abs(S[:, j])))
            if np.all(d == 0):
                pv.append(1.0)
            else:
                pv.append(_wilcoxon_p(d, zero_method))
            rows.append((names[i], names[j], Rbar[i] - Rbar[j]))
    reject, padj, _, _ = multipletests(pv, alpha=alpha, method="holm")
    pairs = pd.DataFrame(rows, columns=["a", "b", "rank_difference"])
    pairs["p_value"] = pv
    pairs["p_adjusted"] = padj
    pairs["significant"] = reject
    return RankTestResult("friedman + wilcoxon-holm", chi2, p, ff, pf, _rank_frame(names, Rbar), pairs,
                          float("nan"), alpha, N, higher_is_better, {"k": k})
