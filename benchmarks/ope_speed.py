"""Speed: IPS + SNIPS + DR with 95% bootstrap intervals on 1,000,000 rows x 10 actions, ours vs obp 0.4.1.

Both sides get the identical log, target distribution and reward-model predictions (q-hat is the
true expected reward plus noise, so no model fitting is timed) and the same number of resamples.
obp: ``OffPolicyEvaluation.estimate_intervals(n_bootstrap_samples=B)`` (a Python loop of
``choice(n)`` per resample and estimator, SN estimators normalised once); workbench:
``evaluate_policy(..., n_bootstrap=B)`` (hashed Poisson weights (a numba kernel) in cache-sized blocks times the (n, 4) term matrix,
one set of resamples for the three estimators, SNIPS re-normalised per replicate). Our peak memory
is the tracemalloc peak of the call (numpy allocations included) and the process' peak RSS.

Run: ``.venv/bin/python benchmarks/ope_speed.py [--rows 1000000] [--resamples 100 1000] [--repeats 3]``
(obp runs in its own venv, see ope_obp_parity.py; writes benchmarks/results/ope_speed.md). When that venv
cannot be built here (Python > 3.11, no network...), the obp columns read "peer unavailable: <reason>"
and our side is still timed.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ope_obp_parity import peer_status, short_reason  # noqa: E402

PEER = """
import json, sys, time
import numpy as np
from obp.ope import (OffPolicyEvaluation, InverseProbabilityWeighting, SelfNormalizedInverseProbabilityWeighting,
                     DoublyRobust)
d = np.load(sys.argv[1])
fb = dict(n_rounds=int(d["action"].shape[0]), n_actions=int(d["action_dist"].shape[1]), action=d["action"],
          reward=d["reward"], pscore=d["pscore"], position=d["position"])
ope = OffPolicyEvaluation(bandit_feedback=fb, ope_estimators=[InverseProbabilityWeighting(),
                          SelfNormalizedInverseProbabilityWeighting(), DoublyRobust()])
out = {}
# obp's interval dict reports the MEAN OF ITS REPLICATES as "mean"; its point estimate comes from
# estimate_policy_values (untimed), so that the table sets point estimate beside point estimate
point = ope.estimate_policy_values(action_dist=d["action_dist"], estimated_rewards_by_reg_model=d["q_hat"])
for B in [int(b) for b in sys.argv[3].split(",")]:
    times = []
    for _ in range(int(sys.argv[4]) if B <= 100 else 1):
        t = time.perf_counter()
        res = ope.estimate_intervals(action_dist=d["action_dist"], estimated_rewards_by_reg_model=d["q_hat"],
                                     n_bootstrap_samples=B, alpha=0.05, random_state=0)
        times.append(time.perf_counter() - t)
    out[B] = {"seconds": float(np.median(times)), "times": times,
              "intervals": {k: [float(point[k]), v["95.0% CI (lower)"], v["95.0% CI (upper)"]] for k, v in res.items()}}
json.dump(out, open(sys.argv[2], "w"))
"""

OURS = """
import json, resource, sys, time, tracemalloc
import numpy as np
import workbench as wb
d = np.load(sys.argv[1])
log = wb.data.BanditLog(action=d["action"], reward=d["reward"], propensity=d["pscore"], n_actions=d["action_dist"].shape[1])
pe, q = d["action_dist"][:, :, 0], d["q_hat"][:, :, 0]
out = {}
t = time.perf_counter()
# warm-up; the first call in a process also imports numba and loads (or compiles) the weight kernel
wb.ope.evaluate_policy(log, pe, ["ips", "snips", "dr"], reward_model=q, n_bootstrap=10, warn=False)
out["first_call_seconds"] = time.perf_counter() - t
for B in [int(b) for b in sys.argv[3].split(",")]:
    # Timed without tracemalloc (it hooks every allocation and would slow the many small blocks
    # of the engine); the memory peak comes from a second, traced call.
    times = []
    for _ in range(int(sys.argv[4]) if B <= 100 else 1):
        t = time.perf_counter()
        res = wb.ope.evaluate_policy(log, pe, ["ips", "snips", "dr"], reward_model=q, n_bootstrap=B,
                                     random_state=0, warn=False)
        times.append(time.perf_counter() - t)
    sec = float(np.median(times))
    tracemalloc.start()
    wb.ope.evaluate_policy(log, pe, ["ips", "snips", "dr"], reward_model=q, n_bootstrap=B, random_state=0, warn=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    out[B] = {"seconds": sec, "times": times, "peak_bytes": peak,
              "intervals": {r.estimator: [r.value, r.ci_low, r.ci_high] for r in res.itertuples()}}
out["max_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
json.dump(out, open(sys.argv[2], "w"))
"""


def make_data(n_rows: int, path: Path):
    import workbench as wb

    log, truth = wb.data.simulate_bandit(n_rows, n_actions=10, dim_context=5, random_state=0)
    target = wb.ope.EpsilonGreedyPolicy(lambda X: X @ np.linspace(-1, 1, 50).reshape(5, 10), 0.2)
    pe = target.action_dist(log)
    rng = np.random.default_rng(1)
    q = np.clip(truth.expected_reward + 0.05 * rng.standard_normal(truth.expected_reward.shape), 0, 1)
    np.savez(path, action=np.asarray(log.action), reward=np.asarray(log.reward), pscore=np.asarray(log.propensity),
             position=np.zeros(n_rows, dtype=np.int64), action_dist=pe[:, :, None], q_hat=q[:, :, None])
    return truth.policy_value(pe)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--resamples", type=int, nargs="+", default=[100, 1000])
    ap.add_argument("--repeats", type=int, default=3, help="timed calls per side at <= 100 resamples (median reported)")
    ap.add_argument("--quick", action="store_true", help="100,000 rows, 100 resamples, 1 call per side")
    args = ap.parse_args()
    if args.quick:
        args.rows, args.resamples, args.repeats = 100_000, [100], 1
    Bs = ",".join(map(str, args.resamples))
    py, unavailable = peer_status()
    load0 = tuple(round(x, 1) for x in os.getloadavg())
    with tempfile.TemporaryDirectory() as tmp:
        data, ours_out, peer_out = Path(tmp) / "d.npz", Path(tmp) / "o.json", Path(tmp) / "p.json"
        truth = make_data(args.rows, data)
        (Path(tmp) / "ours.py").write_text(OURS)
        (Path(tmp) / "peer.py").write_text(PEER)
        env = dict(os.environ)
        subprocess.run([sys.executable, str(Path(tmp) / "ours.py"), str(data), str(ours_out), Bs, str(args.repeats)], check=True,
                       env=env)
        if py is not None:
            subprocess.run([str(py), str(Path(tmp) / "peer.py"), str(data), str(peer_out), Bs, str(args.repeats)],
                           check=True)
        ours = json.loads(ours_out.read_text())
        peer = json.loads(peer_out.read_text()) if py is not None else None
    skipped = f"peer unavailable: {short_reason(unavailable)}"
    lines = [f"IPS + SNIPS + DR with 95% bootstrap intervals, {args.rows:,} rows x 10 actions "
             f"(truth {truth:.5f}); {os.cpu_count()} CPUs, load average before / after: {load0} / "
             f"{tuple(round(x, 1) for x in os.getloadavg())} (other work on the machine slows both sides). "
             f"Median of {args.repeats} calls per side at <= 100 resamples, one call above; ours after one "
             f"warm-up call (the first call of a process took {ours['first_call_seconds']:.2f} s: numba import "
             "and kernel load or compile).", "",
             "| resamples | workbench (s) | obp 0.4.1 (s) | speed-up | our peak memory in the call (MiB) |",
             "|---|---|---|---|---|"]
    for B in args.resamples:
        o = ours[str(B)]
        if peer is None:
            lines.append(f"| {B} | {o['seconds']:.2f} | {skipped} | skipped | {o['peak_bytes'] / 2**20:.0f} |")
            continue
        p = peer[str(B)]
        lines.append(f"| {B} | {o['seconds']:.2f} | {p['seconds']:.2f} | {p['seconds'] / o['seconds']:.1f}x | "
                     f"{o['peak_bytes'] / 2**20:.0f} |")
    lines += ["", f"Peak RSS of our whole process (data included): {ours['max_rss_bytes'] / 2**20:.0f} MiB.", "",
              "Point estimate [95% interval]; obp's point estimate from estimate_policy_values (its interval "
              "table's 'mean' is the mean of the bootstrap replicates, another quantity).", "",
              "| resamples | estimator | workbench [low, high] | obp [low, high] |", "|---|---|---|---|"]
    names = {"ips": "ipw", "snips": "snipw", "dr": "dr"}
    for B in args.resamples:
        for ours_name, peer_name in names.items():
            v, lo, hi = ours[str(B)]["intervals"][ours_name]
            if peer is None:
                lines.append(f"| {B} | {ours_name} | {v:.5f} [{lo:.5f}, {hi:.5f}] | {skipped} |")
                continue
            pv, plo, phi = peer[str(B)]["intervals"][peer_name]
            lines.append(f"| {B} | {ours_name} | {v:.5f} [{lo:.5f}, {hi:.5f}] | {pv:.5f} [{plo:.5f}, {phi:.5f}] |")
    if peer is None:
        lines += ["", f"obp columns skipped, peer unavailable: {short_reason(unavailable, 400)}."]
    table = "\n".join(lines)
    print(table)
    res = Path(__file__).resolve().parent / "results" / ("quick" if args.quick else "")  # quick: not over the figures
    res.mkdir(parents=True, exist_ok=True)
    (res / "ope_speed.md").write_text("# workbench.ope vs obp 0.4.1: interval speed\n\n" + table + "\n")


if __name__ == "__main__":
    main()
