"""Pairwise Wilcoxon signed-rank tests with ties on few data sets: workbench against scipy, one run, same inputs.

With ties (or zero differences) and at most 13 data sets, scipy.stats.wilcoxon computes the exact p-value by
permutation_test over all 2**n sign flips, seconds per pair; ``wilcoxon_holm_test`` gets the same p-value
from the convolution of the signed-rank distribution. The peer here is the per-pair scipy loop the test ran
before (scipy on the same, rounding-merged, differences).

Run: .venv/bin/python benchmarks/rank_tests_speed.py [--quick]
Writes benchmarks/results/rank_tests_speed.md (git-ignored) and prints the same Markdown.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from scipy import stats

from workbench.resample import wilcoxon_holm_test
from workbench.resample.ranks import _merge_rounding_magnitudes


def scipy_pairs(S):
    k = S.shape[1]
    out = []
    for i in range(k):
        for j in range(i + 1, k):
            d = _merge_rounding_magnitudes(S[:, i] - S[:, j], np.maximum(np.abs(S[:, i]), np.abs(S[:, j])))
            out.append(1.0 if np.all(d == 0) else float(stats.wilcoxon(d).pvalue))
    return np.array(out)


def main(quick: bool = False) -> str:
    rows = ["| data sets x algorithms | workbench (s) | scipy per pair (s) | ratio | max abs p difference |",
            "|---|---|---|---|---|"]
    shapes = [(10, 4)] if quick else [(10, 4), (13, 5), (13, 8)]
    for n, k in shapes:
        S = np.round(np.random.default_rng(0).random((n, k)), 1)  # one-decimal scores: ties
        t0 = time.perf_counter()
        ours = wilcoxon_holm_test(S).pairwise["p_value"].to_numpy()
        t1 = time.perf_counter()
        ref = scipy_pairs(S)
        t2 = time.perf_counter()
        rows.append(f"| {n} x {k} | {t1 - t0:.3f} | {t2 - t1:.2f} | {(t2 - t1) / (t1 - t0):.0f}x | "
                    f"{np.max(np.abs(ours - ref)):.1e} |")
    text = "## Pairwise Wilcoxon signed-rank tests with ties\n\n" + "\n".join(rows) + "\n"
    out = Path(__file__).resolve().parent / "results" / ("quick" if quick else "")
    out.mkdir(parents=True, exist_ok=True)
    (out / "rank_tests_speed.md").write_text(text)
    print(text)
    return text


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    main(ap.parse_args().quick)
