"""Bootstrap intervals for 20 models x 100,000 samples x 2,000 resamples: workbench vs scipy / mlxtend.

Run:  .venv/bin/python benchmarks/bootstrap_speed.py [--models-for-peers 20] [--skip-scipy-bca] [--rows N]
      [--quick]   (--quick: 10,000 rows, peers on 2 models, no scipy BCa; a smoke run)

Everything is timed in this one run on this machine, and the table of ratios is printed and
written to benchmarks/results/bootstrap_speed.md. Peers looped over fewer models than 20
(``--models-for-peers``) are extrapolated linearly to 20 and marked as such.

* ours: ``bootstrap_ci(L, n_resamples=2000)`` on the (n, 20) loss matrix: one set of weights for
  all models, one matrix product per chunk (Poisson hashed weights, and the classic multinomial);
* numpy reference: random Poisson(1) weights from a 16-bit lookup table (uint8) plus ONE float32
  matrix product (B x n) @ (n x 20), a plain vectorised weighted bootstrap (fresh, not hashed,
  weights; float32). Not a lower bound: ours, in float64 with hashed weights, is faster through
  numba's fused loop that never forms the (B x n) weight matrix;
* scipy: ``scipy.stats.bootstrap`` per model (percentile) and in paired mode for one pair, with
  ``batch=200`` as for its BCa (the default batch=None forms the whole B x n resample array, 3.2 GB
  per model here, and ran 3x slower: not a like-for-like setting);
* mlxtend: ``mlxtend.evaluate.bootstrap`` per model, when installed (else its row says it was skipped);
* BCa at n = 100,000: ours (O(n) influence values) vs scipy's O(n^2) jackknife.

The headline ratio is like for like: scipy (multinomial resampling, one model at a time) against our
multinomial scheme. Our default Poisson scheme is another resampling scheme; its ratios are listed
too, labelled "different scheme". Ratios whose peer time was extrapolated are marked as in the raw table.
scipy's seed argument is ``rng=`` from scipy 1.15 and ``random_state=`` before (pyproject allows 1.10).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workbench._random import POISSON1_TABLE  # noqa: E402
from workbench.resample import bootstrap_ci  # noqa: E402

N, M, B = 100_000, 20, 2000
SCIPY_BATCH = 200


def timed(fn, repeat=1):
    """Best of ``repeat`` calls. Every row is timed once (repeat=1) after a warm-up of ours (numba's first
    call compiles or loads its kernels), so no side gets a best-of-several the other does not."""
    best = np.inf
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def scipy_seed_kwargs(seed, version: str = scipy.__version__) -> dict:
    """The seed argument of ``scipy.stats.bootstrap``: ``rng=`` from scipy 1.15, ``random_state=`` before
    (1.10-1.14 reject ``rng=``; both take a Generator)."""
    major, minor = (int(x) for x in version.split(".")[:2])
    return {"rng" if (major, minor) >= (1, 15) else "random_state": np.random.default_rng(seed)}


def ratio_lines(t: dict, k_peer: int, m: int = M) -> list[str]:
    """The ratio table. ``t``: seconds by key (floor, pois, mult, scipy, bca_p, bca_m; mlx and bca_s may
    be None). The headline is like for like (scipy's multinomial resampling vs our multinomial); Poisson
    ratios are labelled "different scheme"; ratios over a peer time extrapolated from ``k_peer`` < ``m``
    models are marked as the raw table marks the time."""
    ext = "" if k_peer == m else f"peer time extrapolated from {k_peer} of {m} models"
    diff = "different scheme: our Poisson weights vs the peer's multinomial resamples"

    def note(*parts):
        return "; ".join(p for p in parts if p)

    lines = ["| ratio | value | target | note |", "|---|---:|---|---|",
             f"| scipy loop / ours (multinomial, like for like) | {t['scipy'] / t['mult']:.1f}x | >= 30x | "
             f"{note('headline', ext)} |",
             f"| scipy loop / ours (poisson, different scheme) | {t['scipy'] / t['pois']:.1f}x | | {note(diff, ext)} |",
             f"| ours (poisson) / numpy reference | {t['pois'] / t['floor']:.2f}x | | |"]
    if t.get("mlx") is not None:
        lines += [f"| mlxtend loop / ours (multinomial, like for like) | {t['mlx'] / t['mult']:.1f}x | | {ext} |",
                  f"| mlxtend loop / ours (poisson, different scheme) | {t['mlx'] / t['pois']:.1f}x | | "
                  f"{note(diff, ext)} |"]
    else:
        lines.append("| mlxtend loop / ours | - | | mlxtend not installed: row skipped |")
    if t.get("bca_s") is not None:
        lines += [f"| scipy BCa / ours BCa (multinomial, like for like) | {t['bca_s'] / t['bca_m']:.1f}x | | |",
                  f"| scipy BCa / ours BCa (poisson, different scheme) | {t['bca_s'] / t['bca_p']:.1f}x | | {diff} |"]
    return lines


def numpy_reference(L32, rng):
    W = POISSON1_TABLE[rng.integers(0, 65536, (B, L32.shape[0]), dtype=np.uint16)]
    return W.astype(np.float32) @ L32


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models-for-peers", type=int, default=20)
    ap.add_argument("--skip-scipy-bca", action="store_true")
    ap.add_argument("--rows", type=int, default=N)
    ap.add_argument("--quick", action="store_true", help="10,000 rows, peers on 2 models, no scipy BCa")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.models_for_peers, args.skip_scipy_bca = 10_000, 2, True
    n = args.rows
    k_peer = max(1, min(M, args.models_for_peers))
    rng = np.random.default_rng(0)
    L = rng.exponential(size=(n, M))
    rows = []

    for method in ("percentile", "bca"):  # warm-up: numba's kernels are compiled or loaded on the first call
        for scheme in ("poisson", "multinomial"):
            bootstrap_ci(L[:1000, :2], method=method, n_resamples=50, random_state=0, resampling=scheme)
    t_floor, _ = timed(lambda: numpy_reference(L.astype(np.float32), np.random.default_rng(1)))
    t_pois, r_pois = timed(lambda: bootstrap_ci(L, n_resamples=B, random_state=0, resampling="poisson"))
    t_mult, r_mult = timed(lambda: bootstrap_ci(L, n_resamples=B, random_state=0, resampling="multinomial"))
    rows += [("numpy reference: lookup-table Poisson weights + one f32 matmul", t_floor, ""),
             ("workbench bootstrap_ci, poisson (20 models at once)", t_pois, ""),
             ("workbench bootstrap_ci, multinomial (20 models at once)", t_mult, "")]

    def scipy_loop():
        for j in range(k_peer):
            stats.bootstrap((L[:, j],), np.mean, method="percentile", n_resamples=B, batch=SCIPY_BATCH,
                            **scipy_seed_kwargs(j))

    t_scipy, _ = timed(scipy_loop)
    t_scipy *= M / k_peer
    rows.append((f"scipy.stats.bootstrap percentile (batch={SCIPY_BATCH}), loop over models", t_scipy,
                 "" if k_peer == M else f"extrapolated from {k_peer}"))
    t_pair, _ = timed(lambda: stats.bootstrap((L[:, 0], L[:, 1]), lambda x, y, axis=-1: np.mean(x - y, axis=axis),
                                              paired=True, method="percentile", n_resamples=B, batch=SCIPY_BATCH,
                                              **scipy_seed_kwargs(0)))
    rows.append(("scipy.stats.bootstrap paired=True, ONE pair", t_pair, "190 pairs for 20 models"))
    try:
        from mlxtend.evaluate import bootstrap as mlx_bootstrap

        def mlx_loop():
            for j in range(k_peer):
                mlx_bootstrap(L[:, j], func=np.mean, num_rounds=B, seed=j)

        t_mlx, _ = timed(mlx_loop)
        t_mlx *= M / k_peer
        rows.append(("mlxtend.evaluate.bootstrap, loop over models", t_mlx,
                     "" if k_peer == M else f"extrapolated from {k_peer}"))
    except ImportError:
        t_mlx = None
        print("mlxtend not installed: row skipped", flush=True)

    x = L[:, 0]
    t_bca_p, _ = timed(lambda: bootstrap_ci(x, method="bca", n_resamples=B, random_state=0, resampling="poisson"))
    t_bca_m, _ = timed(lambda: bootstrap_ci(x, method="bca", n_resamples=B, random_state=0))
    rows += [(f"workbench BCa, n={n:,}, poisson", t_bca_p, "O(n) influence values"),
             (f"workbench BCa, n={n:,}, multinomial (scipy's indices)", t_bca_m, "")]
    t_bca_s = None
    if not args.skip_scipy_bca:
        t_bca_s, _ = timed(lambda: stats.bootstrap((x,), np.mean, method="BCa", n_resamples=B, batch=SCIPY_BATCH,
                                                   **scipy_seed_kwargs(0)))
        rows.append((f"scipy BCa, n={n:,} (batch={SCIPY_BATCH})", t_bca_s, "O(n^2) jackknife"))

    lines = [f"# bootstrap_speed: {M} models x {n:,} samples x {B:,} resamples "
             f"({os.cpu_count()} CPUs, numpy {np.__version__})", "",
             "| computation | seconds | note |", "|---|---:|---|"]
    lines += [f"| {name} | {t:.2f} | {note} |" for name, t, note in rows]
    if t_mlx is None:
        lines.append("| mlxtend.evaluate.bootstrap, loop over models | - | mlxtend not installed: row skipped |")
    lines += [""] + ratio_lines(dict(floor=t_floor, pois=t_pois, mult=t_mult, scipy=t_scipy, mlx=t_mlx,
                                     bca_p=t_bca_p, bca_m=t_bca_m, bca_s=t_bca_s), k_peer)
    diff = np.max(np.abs(np.asarray(r_pois.standard_error) / np.asarray(r_mult.standard_error) - 1))
    lines += ["", f"Poisson vs multinomial standard errors: max relative difference {diff:.3f} over {M} models."]
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).resolve().parent / "results" / ("quick" if args.quick else "")  # quick: not over the figures
    out.mkdir(parents=True, exist_ok=True)
    (out / "bootstrap_speed.md").write_text(text + "\n")


if __name__ == "__main__":
    main()
