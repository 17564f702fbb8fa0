"""Classifiers on one test set: McNemar's test with an interval for the accuracy difference, and
Cochran's Q for many classifiers.

McNemar's test only uses the discordant pairs: b = #(A right, B wrong), c = #(A wrong, B right).
statsmodels offers the exact and chi-square versions; it has no mid-p version (Fagerland et al.
2013 recommend it: closer to nominal size than the conservative exact test) and no interval for
the accuracy difference, so both are written here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from .._random import check_random_state
from .._validation import (ValidationError, as_array, check_alpha, check_choice, check_int, check_real,
                           check_same_index, raise_if_any)
from ._result import TestResult
from .bootstrap import numeric_values

__all__ = ["mcnemar_table", "mcnemar_test", "paired_difference_interval", "tango_score_statistic",
           "cochrans_q"]

MCNEMAR_METHODS = ("exact", "mid-p", "asymptotic", "corrected")
CI_METHODS = ("newcombe", "tango", "wald", "agresti-min", "bootstrap")
TABLE_CI_METHODS = CI_METHODS[:4]


def _labels(y, field):
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValidationError(field, f"must be 1-D, got shape {y.shape}")
    if y.dtype == object:
        # pd.isna, vectorised, knows pandas' NA and NaT too: a nullable "string" column's <NA> passed as a label
        # and was refused as "mixed" labels, not as the missing value it is
        raise_if_any(np.asarray(pd.isna(y), dtype=bool), field, "must not be missing", y)
    elif y.dtype.kind == "f":
        raise_if_any(np.isnan(y), field, "must not be NaN", y)
    return y


def _label_kind(v: np.ndarray) -> str:
    if v.dtype.kind in "biuf":
        return "numbers"
    if v.dtype.kind in "US":
        return "strings"
    inferred = pd.api.types.infer_dtype(v, skipna=False)  # one C pass over the objects
    # "boolean": True / False held as objects (a pandas Series after dropna), counted like numpy bools
    return {"string": "strings", "integer": "numbers", "floating": "numbers", "boolean": "numbers",
            "mixed-integer-float": "numbers"}.get(inferred, "mixed")


def _correct(y_true, pred, field="predictions"):
    # field: the argument's own name (pred_a, pred_b, predictions[j]): "predictions" alone did not say which
    y_true = _labels(y_true, "y_true")
    pred = _labels(pred, field)
    if pred.shape != y_true.shape:
        raise ValidationError(field, f"must have one prediction per label ({y_true.shape[0]}), "
                              f"got {pred.shape[0]}")
    # 1 never equals "1": comparing numbers with strings would count every prediction as wrong, silently
    kt, kp = _label_kind(y_true), _label_kind(pred)
    if kt != kp or kt == "mixed":
        raise ValidationError(field, f"must be labels of the same kind as y_true to be compared: y_true "
                                     f"holds {kt} ({y_true.dtype}), the predictions {kp} ({pred.dtype})")
    if kt == "numbers" and pred.dtype.kind not in "biu":  # float, or numbers held as objects
        # Integer class labels against fractional predictions (predict_proba's column passed as predictions):
        # no fraction ever equals a label, so every such prediction counted as wrong, silently (p = 2e-6 for
        # two models of 19% and 0% "accuracy"), as numbers against strings did.
        yt = np.asarray(y_true, dtype=np.float64)
        if np.all(yt == np.round(yt)):
            pv = pred.astype(np.float64)
            raise_if_any(pv != np.round(pv), field, "must be class labels like y_true's (whole numbers); "
                         "fractions look like probabilities: pass the predicted labels (predict, or the argmax of "
                         "predict_proba), not the probabilities", pv)
    return y_true == pred


def mcnemar_table(y_true, pred_a, pred_b) -> np.ndarray:
    """2x2 table [[both right, A right & B wrong], [A wrong & B right, both wrong]].

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import mcnemar_table, mcnemar_test
    >>> y_true = np.array([0, 1, 1, 0, 1, 0, 1, 1, 0, 1])
    >>> pred_a = np.array([0, 1, 1, 0, 0, 0, 1, 1, 0, 1])     # 9 of 10 right
    >>> pred_b = np.array([0, 1, 0, 1, 1, 0, 0, 1, 0, 1])     # 7 of 10 right
    >>> table = mcnemar_table(y_true, pred_a, pred_b)
    >>> table.tolist()
    [[6, 3], [1, 0]]
    >>> round(mcnemar_test(table=table, method="exact").p_value, 3)   # only b = 3 and c = 1 count
    0.625
    """
    check_same_index([("y_true", y_true), ("pred_a", pred_a), ("pred_b", pred_b)])  # paired by position
    ca, cb = _correct(y_true, pred_a, "pred_a"), _correct(y_true, pred_b, "pred_b")
    return np.array([[np.sum(ca & cb), np.sum(ca & ~cb)], [np.sum(~ca & cb), np.sum(~ca & ~cb)]], dtype=np.int64)


def _check_table(table):
    t = as_array(table, "table")
    if t.dtype == bool or not np.issubdtype(t.dtype, np.number):
        raise ValidationError("table", f"must hold numeric counts, got dtype {t.dtype}")
    if t.shape != (2, 2):
        raise ValidationError("table", f"must be 2x2, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(t < 0) or np.any(t != np.round(t)):
        raise ValidationError("table", f"must hold non-negative integer counts, got {t.tolist()}")
    if float(np.sum(t, dtype=np.float64)) >= 2.0 ** 53:
        # beyond 2**53 the counts are not exact in the float arithmetic of the tests, and 2**62-size counts
        # overflowed the int64 total (n < 0, p = 0, an accuracy of -0.5, with only numpy's overflow warning)
        raise ValidationError("table", f"counts must total less than 2**53, got {t.tolist()}")
    t = t.astype(np.int64)
    if t.sum() == 0:
        raise ValidationError("table", "is empty")
    return t


def _wilson(x, n, z):
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _tango_restricted_p21(b, c, n, delta):
    """Restricted MLE of p21 (= P(A wrong, B right)) under acc_A - acc_B = p12 - p21 = delta.

    Maximising b log(p21 + delta) + c log p21 + (n - b - c) log(1 - 2 p21 - delta) gives the
    quadratic 2n p^2 + B p + C = 0 with B = -b - c + (2n - b + c) delta, C = -c delta (1 - delta)
    (Tango 1998); its non-negative root is the MLE.
    """
    B = -b - c + (2 * n - b + c) * delta
    C = -c * delta * (1 - delta)
    disc = max(B * B - 8 * n * C, 0.0)
    return max((-B + np.sqrt(disc)) / (4 * n), 0.0)


def tango_score_statistic(b, c, n, delta) -> float:
    """Tango's (1998) score statistic for H0: acc_A - acc_B = delta on a paired 2x2 table.

    T(delta) = (b - c - n delta) / sqrt(n (2 p21~ + delta (1 - delta))), with p21~ the restricted
    MLE (:func:`_tango_restricted_p21`); approximately N(0, 1) under H0. The variance uses the
    null-restricted estimate, not the observed one; that is what keeps the interval inside
    [-1, 1] and sensible when b + c is small.

    Examples
    --------
    >>> from workbench.resample import paired_difference_interval, tango_score_statistic
    >>> b, c, n = 12, 3, 100        # A right & B wrong, A wrong & B right, number of test rows
    >>> round(tango_score_statistic(b, c, n, 0.0), 3)     # at delta = 0: McNemar's z = (b - c) / sqrt(b + c)
    2.324

    The "tango" interval of :func:`paired_difference_interval` is where |T(delta)| <= z_{1 - alpha/2}:

    >>> lo, hi = paired_difference_interval([[50, b], [c, 35]], method="tango")
    >>> round(tango_score_statistic(b, c, n, lo), 3), round(tango_score_statistic(b, c, n, hi), 3)
    (1.96, -1.96)
    """
    # counts by the package's integer rule (n = 0 was a NaN with a numpy warning, b > n a number, "3" a
    # TypeError); delta is a difference of two accuracies
    n = check_int(n, "n", low=1)
    b = check_int(b, "b", low=0)
    c = check_int(c, "c", low=0)
    if b + c > n:
        raise ValidationError("n", f"must be at least b + c = {b + c} (the discordant pairs are rows), got {n}")
    return _tango_t(b, c, n, check_real(delta, "delta", low=-1.0, high=1.0))


def _tango_t(b, c, n, delta) -> float:
    """:func:`tango_score_statistic` without the checks, for the root-finding of the interval."""
    p21 = _tango_restricted_p21(b, c, n, delta)
    var = n * (2 * p21 + delta * (1 - delta))
    num = b - c - n * delta
    if var <= 0:
        return 0.0 if num == 0 else float(np.sign(num) * np.inf)
    return float(num / np.sqrt(var))


def _tango_interval(b, c, n, z):
    """Invert |T(delta)| <= z. T is decreasing in delta (from +inf near -1 to -inf near 1 unless a
    boundary is the MLE), so each limit is the single root of T = +-z on its side of the estimate;
    scipy's brentq finds it (there is no closed form)."""
    est = (b - c) / n
    eps = 1e-12

    def f(d, target):
        return _tango_t(b, c, n, d) - target

    if c == n:  # all discordant pairs favour B: estimate -1 is on the boundary
        lo = -1.0
    else:
        a0 = -1.0 + eps
        lo = -1.0 if f(a0, z) <= 0 else optimize.brentq(f, a0, est, args=(z,), xtol=1e-13, rtol=1e-13)
    if b == n:
        hi = 1.0
    else:
        b0 = 1.0 - eps
        hi = 1.0 if f(b0, -z) >= 0 else optimize.brentq(f, est, b0, args=(-z,), xtol=1e-13, rtol=1e-13)
    return float(lo), float(hi)


def paired_difference_interval(table, alpha: float = 0.05, method: str = "newcombe") -> tuple[float, float]:
    """Interval for the difference of two paired proportions acc_A - acc_B = (b - c) / n.

    ``method``:

    * "newcombe" (Newcombe 1998, method 10): Wilson intervals for each accuracy combined with the
      continuity-corrected phi correlation; stays inside [-1, 1], good coverage at small n.
    * "tango" (Tango 1998): the asymptotic score interval, all delta whose score test
      :func:`tango_score_statistic` is not rejected at level alpha, found by root-finding. Inside
      [-1, 1], never degenerate (with b = c = 0 it still has width ~ 2 z^2 / n), and recommended
      by Fagerland, Lydersen & Laake (2013) together with Newcombe's; in our simulations its
      coverage is close to nominal on average, slightly conservative where Newcombe's is slightly
      liberal.
    * "wald" (simple, undercovers when b + c is small) and "agresti-min" (Wald after adding 1/2 to
      every cell, Agresti & Min 2005).

    Each promises approximate (asymptotic) 1 - alpha coverage of the difference in expected
    accuracy of the two fixed classifiers on the population the test rows were drawn from.

    Examples
    --------
    >>> from workbench.resample import paired_difference_interval
    >>> lo, hi = paired_difference_interval([[59, 6], [16, 80]], method="tango")
    >>> round(lo, 4) < -0.0621 < round(hi, 4)
    True
    """
    t = _check_table(table)
    alpha = check_alpha(alpha)
    check_choice(method, "method", TABLE_CI_METHODS)
    z = special.ndtri(1 - alpha / 2)
    if method == "tango":
        return _tango_interval(int(t[0, 1]), int(t[1, 0]), int(t.sum()), z)
    if method == "agresti-min":
        t = t + 0.5
    a, b, c, d = (float(v) for v in t.ravel())
    n = a + b + c + d
    diff = (b - c) / n
    if method in ("wald", "agresti-min"):
        var = max((b + c) - (b - c) ** 2 / n, 0.0)
        if method == "wald" and var == 0:
            import warnings

            # The Wald SE is 0 without discordant pairs, and also when every pair is discordant in one
            # direction (b = n or c = n: it said (1, 1) for 7 of 7, silently): a zero-width interval that
            # claims certainty.
            what = "no discordant pairs (b = c = 0)" if b + c == 0 else \
                f"every pair discordant in one direction ({'b' if b else 'c'} = n = {n:g})"
            warnings.warn(f"paired_difference_interval: {what}, so the Wald interval is degenerate "
                          f"({diff:g}, {diff:g}), a zero-width interval that claims certainty; use method='newcombe' "
                          "(or 'tango')", RuntimeWarning, stacklevel=2)
        half = z * np.sqrt(var) / n
        return float(max(diff - half, -1.0)), float(min(diff + half, 1.0))  # floats, as the other methods give
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = _wilson(a + b, n, z)
    l2, u2 = _wilson(a + c, n, z)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    # Newcombe's phi for method 10 is continuity-corrected: ad - bc is shrunk by n/2 towards 0 when
    # positive (and set to 0 if that crosses 0); a plain phi makes the interval too narrow.
    ad_bc = a * d - b * c
    if denom <= 0:
        phi = 0.0
    elif ad_bc > n / 2:
        phi = (ad_bc - n / 2) / np.sqrt(denom)
    elif ad_bc >= 0:
        phi = 0.0
    else:
        phi = ad_bc / np.sqrt(denom)
    lo = diff - np.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    hi = diff + np.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    # rounding can push a limit at the boundary just past it (1.0000000000000002 for b = n)
    return float(max(lo, -1.0)), float(min(hi, 1.0))


def mcnemar_test(y_true=None, pred_a=None, pred_b=None, *, table=None, method: str = "mid-p",
                 alpha: float = 0.05, ci_method: str = "newcombe", n_resamples: int = 2000,
                 random_state=None) -> TestResult:
    """McNemar's test of equal accuracy of two classifiers on the same test set, with an interval.

    Parameters
    ----------
    y_true, pred_a, pred_b : arrays of shape (n,)
        True labels and the two classifiers' predictions. Alternatively pass ``table``. With 0/1
        correctness vectors ``right_a``, ``right_b`` (e.g. out-of-fold results) pass
        ``y_true=np.ones(n), pred_a=right_a, pred_b=right_b``.
    table : 2x2 array
        [[both right, A right & B wrong], [A wrong & B right, both wrong]] (see
        :func:`mcnemar_table`).
    method : {"mid-p", "exact", "asymptotic", "corrected"}
        "exact": two-sided binomial test on the discordant pairs, p = min(1, 2 P(X <= min(b, c)))
        with X ~ Bin(b + c, 1/2) (conservative). "mid-p": 2 P(X < min) + P(X = min), recommended by
        Fagerland et al. (2013). "asymptotic": chi2 = (b - c)^2 / (b + c), 1 df. "corrected":
        Edwards' continuity correction (|b - c| - 1)^2 / (b + c), with the numerator set to 0 when
        b = c (the correction never moves the statistic past no difference; statsmodels reports
        1 / (b + c) there). With b + c = 0 the p-value is 1.
    ci_method : {"newcombe", "tango", "wald", "agresti-min", "bootstrap"}
        Interval for acc_A - acc_B (see :func:`paired_difference_interval`); "bootstrap" is the
        paired percentile bootstrap of the per-sample correctness difference (needs the label
        arrays).

    Returns
    -------
    TestResult
        statistic (min(b, c) for exact/mid-p, chi2 otherwise), p_value, effect = acc_A - acc_B,
        ci_low/ci_high, details b, c, n.

    Examples
    --------
    >>> from workbench.resample import mcnemar_test
    >>> mcnemar_test(table=[[50, 12], [3, 35]], method="exact").p_value  # doctest: +ELLIPSIS
    0.035...
    """
    check_choice(method, "method", MCNEMAR_METHODS)
    check_choice(ci_method, "ci_method", CI_METHODS)
    alpha = check_alpha(alpha)
    check_random_state(random_state)  # whether or not the interval uses it (a string or a RandomState passed)
    diffs = None
    given = [name for name, v in (("y_true", y_true), ("pred_a", pred_a), ("pred_b", pred_b)) if v is not None]
    if table is not None and given:
        # one or the other: the labels were ignored silently (the test ran on the table, whatever the labels
        # said), and ci_method='bootstrap' then said it needed the labels that had been passed
        raise ValidationError("table", f"pass either y_true, pred_a and pred_b, or table, not both (got table and "
                                       f"{', '.join(given)})")
    if table is None:
        if y_true is None or pred_a is None or pred_b is None:
            raise ValidationError("table", "pass either y_true, pred_a and pred_b, or table")
        check_same_index([("y_true", y_true), ("pred_a", pred_a), ("pred_b", pred_b)])  # paired by position
        ca, cb = _correct(y_true, pred_a, "pred_a"), _correct(y_true, pred_b, "pred_b")
        diffs = ca.astype(float) - cb.astype(float)
        table = np.array([[np.sum(ca & cb), np.sum(ca & ~cb)], [np.sum(~ca & cb), np.sum(~ca & ~cb)]])
    t = _check_table(table)
    b, c = int(t[0, 1]), int(t[1, 0])
    n = int(t.sum())
    N = b + c
    df = None
    if method in ("exact", "mid-p"):
        k = min(b, c)
        stat = float(k)
        if N == 0:
            p = 1.0
        elif method == "exact":
            p = min(1.0, 2.0 * stats.binom.cdf(k, N, 0.5))
        else:
            p = min(1.0, 2.0 * stats.binom.cdf(k, N, 0.5) - stats.binom.pmf(k, N, 0.5))
    else:
        df = 1
        if N == 0:
            stat, p = 0.0, 1.0
        else:
            num = (abs(b - c) - 1.0) ** 2 if method == "corrected" else float(b - c) ** 2
            if method == "corrected" and abs(b - c) < 1:
                num = 0.0
            stat = num / N
            p = float(stats.chi2.sf(stat, 1))
    if ci_method == "bootstrap":
        if diffs is None:
            raise ValidationError("ci_method", "'bootstrap' needs y_true, pred_a and pred_b (not a table)")
        from .bootstrap import bootstrap_ci

        res = bootstrap_ci(diffs, method="percentile", n_resamples=n_resamples, alpha=alpha,
                           random_state=random_state)
        lo, hi = res.ci_low, res.ci_high
        if b + c == 0 or b == n or c == n:
            import warnings

            # every row's difference is the same: each resample gives it, and the interval has width 0, as the
            # Wald interval does (which warns); the score intervals do not degenerate
            what = "no discordant pairs (b = c = 0)" if b + c == 0 else \
                f"every pair discordant in one direction ({'b' if b else 'c'} = n = {n})"
            warnings.warn(f"mcnemar_test: {what}, so the bootstrap interval is degenerate ({lo:g}, {hi:g}), a "
                          "zero-width interval that claims certainty; use ci_method='newcombe' (or 'tango')",
                          RuntimeWarning, stacklevel=2)
    else:
        lo, hi = paired_difference_interval(t, alpha, ci_method)
    return TestResult(f"mcnemar-{method}", float(stat), float(p), df, effect=(b - c) / n, ci_low=float(lo),
                      ci_high=float(hi), alpha=alpha,
                      details={"b": b, "c": c, "n": n, "ci_method": ci_method,
                               "accuracy_a": (t[0, 0] + b) / n, "accuracy_b": (t[0, 0] + c) / n})


def cochrans_q(y_true=None, *predictions, correct=None) -> TestResult:
    """Cochran's Q test that k classifiers have equal accuracy on the same test set.

    Pass ``y_true`` and k >= 2 prediction arrays, or ``correct``: an (n, k) 0/1 matrix of which
    classifier got which row right. Uses :func:`statsmodels.stats.contingency_tables.cochrans_q`.
    Follow a rejection with pairwise :func:`mcnemar_test` and a Holm correction
    (``statsmodels.stats.multitest.multipletests(p, method="holm")``), as Raschka (2018) suggests.

    Examples
    --------
    >>> import numpy as np
    >>> from workbench.resample import cochrans_q
    >>> y = np.array([0, 1] * 50)
    >>> r = cochrans_q(y, y, np.where(np.arange(100) < 30, 1 - y, y), 1 - y)
    >>> r.p_value < 0.001
    True
    """
    from statsmodels.stats.contingency_tables import cochrans_q as sm_cochrans_q

    if correct is None:
        if y_true is None or len(predictions) < 2:
            raise ValidationError("predictions", "pass y_true and at least two prediction arrays, or correct=")
        check_same_index([("y_true", y_true)] + [(f"predictions[{k}]", p) for k, p in enumerate(predictions)])
        C = np.column_stack([_correct(y_true, p, f"predictions[{j}]")
                             for j, p in enumerate(predictions)]).astype(np.int64)
    else:
        if y_true is not None or predictions:
            # one of the two would be ignored (the predictions were, silently)
            raise ValidationError("correct", "pass y_true and the predictions, or correct=, not both")
        C = as_array(numeric_values(correct, "correct"), "correct", ndim=2)  # (a nullable boolean frame too)
        raise_if_any(~np.isin(C, (0, 1)), "correct", "must hold only 0/1 (or booleans)")
        C = C.astype(np.int64)
        if C.shape[1] < 2:
            raise ValidationError("correct", f"needs at least 2 classifiers (columns), got {C.shape[1]}")
    if C.shape[0] < 1:
        raise ValidationError("correct", "needs at least 1 row (test point), got 0")
    row_sums = C.sum(axis=1)
    if np.all((row_sums == 0) | (row_sums == C.shape[1])):
        # Q = 0/0: no row where the classifiers disagree, so the data say nothing about a difference
        import warnings

        warnings.warn("cochrans_q: every classifier is right (or wrong) on the same rows; Q is undefined "
                      "(0/0), statistic and p-value are NaN", RuntimeWarning, stacklevel=2)
        return TestResult("cochrans-q", float("nan"), float("nan"), int(C.shape[1] - 1),
                          details={"n": int(C.shape[0]), "k": int(C.shape[1]), "accuracies": C.mean(axis=0)})
    res = sm_cochrans_q(C)
    acc = C.mean(axis=0)
    return TestResult("cochrans-q", float(res.statistic), float(res.pvalue), int(res.df),
                      details={"n": int(C.shape[0]), "k": int(C.shape[1]), "accuracies": acc})
