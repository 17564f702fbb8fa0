"""Logs larger than memory: stream a 20,000,000-row Parquet log through IPS/SNIPS/DR with 95% intervals.

What it measures (issue 6): peak resident memory and rows per second of

* ``streamed``  -- ``evaluate_policy(path, ...)``: pyarrow batches, one pass, one process;
* ``dask``      -- ``evaluate_policy(dd.read_parquet(path), ...)`` on a LocalCluster with two
  in-process workers (map_partitions + tree reduce);
* ``in-memory`` -- the whole log read into a BanditLog + arrays and ``evaluate_policy(log, ...)``
  (the baseline the others must equal; run on the same file).

All paths use 1,000 hashed-Poisson replicates shared by the three estimators and the same seed; the
script checks that their values and interval ends agree to 1e-9 relative. Each path runs in a fresh
subprocess and reports its own peak RSS from ``resource.getrusage`` (ru_maxrss of the process and
of its children). The log is written by this script, in chunks, to a temporary directory outside
the repository (deleted at the end unless --keep).

Run: ``.venv/bin/python benchmarks/scale_memory.py`` (writes benchmarks/results/scale_memory.md);
``--rows 2000000`` for a quick look.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
K = 4
ESTIMATORS = ["ips", "snips", "dr"]
PI = [f"pi_{j}" for j in range(K)]
Q = [f"q_{j}" for j in range(K)]


def write_log(path: Path, n_rows: int, chunk: int = 1_000_000, seed: int = 0) -> float:
    """Simulated uniform-logging log with a softmax target and a reward model, written chunk by chunk."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    coef = rng.normal(size=(2, K))
    writer = None
    for start in range(0, n_rows, chunk):
        m = min(chunk, n_rows - start)
        x = rng.normal(size=(m, 2))
        a = rng.integers(0, K, m)
        base = 0.1 + 0.05 * np.arange(K)
        p_click = np.clip(base[a] + 0.05 * x[:, 0], 0.01, 0.99)
        r = (rng.random(m) < p_click).astype(np.float64)
        logits = x @ coef
        pe = np.exp(logits - logits.max(1, keepdims=True))
        pe /= pe.sum(1, keepdims=True)
        q = np.clip(base[None, :] + 0.05 * x[:, :1], 0.01, 0.99)
        cols = {"action": a.astype(np.int64), "reward": r, "propensity": np.full(m, 1.0 / K)}
        cols.update({f"pi_{j}": pe[:, j] for j in range(K)})
        cols.update({f"q_{j}": q[:, j] for j in range(K)})
        table = pa.table(cols)
        if writer is None:
            writer = pq.ParquetWriter(path, table.schema, compression="snappy")
        writer.write_table(table, row_group_size=chunk // 4)
    writer.close()
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------------------------
# One path, run in a fresh interpreter (so ru_maxrss is that path's own peak)
# ------------------------------------------------------------------------------------------------
def run_path(kind: str, path: str, n_bootstrap: int, seed: int) -> dict:
    import resource
    import warnings

    import workbench as wb

    warnings.simplefilter("ignore")
    kw = dict(estimators=ESTIMATORS, n_bootstrap=n_bootstrap, random_state=seed, interval="percentile", warn=False)
    t0 = time.perf_counter()
    if kind == "streamed":
        out = wb.ope.evaluate_policy(path, PI, reward_model=Q, **kw)
    elif kind == "dask":
        import dask.dataframe as dd
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cl, \
                Client(cl):
            t0 = time.perf_counter()
            # split_row_groups: one partition per row group, so a partition stays a few dozen MB
            ddf = dd.read_parquet(path, columns=["action", "reward", "propensity", *PI, *Q], split_row_groups=True)
            out = wb.ope.evaluate_policy(ddf, PI, reward_model=Q, **kw)
    elif kind == "in-memory":
        import numpy as np
        import pyarrow.parquet as pq

        t = pq.read_table(path)
        log = wb.data.BanditLog(action=t["action"].to_numpy(), reward=t["reward"].to_numpy(),
                                propensity=t["propensity"].to_numpy(), n_actions=K)
        pe = np.column_stack([t[c].to_numpy() for c in PI])
        q = np.column_stack([t[c].to_numpy() for c in Q])
        del t
        out = wb.ope.evaluate_policy(log, pe, reward_model=q, **kw)
    else:
        raise ValueError(kind)
    secs = time.perf_counter() - t0
    rss_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"kind": kind, "seconds": secs, "n": int(out["n"].iloc[0]),
            "peak_rss_mib": max(rss_self, rss_children) / 1024.0,
            "values": out[["value", "ci_low", "ci_high"]].to_numpy().tolist()}


def _subprocess(kind, path, n_bootstrap, seed):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_path", kind, "--_file", path,
           "--replicates", str(n_bootstrap), "--seed", str(seed)]
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def _reference(results: list[dict]) -> dict:
    """The in-memory path's result, found by name (the paths run in the order --paths gives); else the first."""
    return next((r for r in results if r["kind"] == "in-memory"), results[0])


def table_lines(results: list[dict], rows: int, replicates: int, size_mib: float, write_secs: float,
                cpus: int | None = None) -> list[str]:
    """The Markdown report: per path its time, rate, rate relative to the in-memory path (found by name,
    wherever --paths put it; "-" without one) and its largest relative difference from the reference."""
    import numpy as np

    cpus = os.cpu_count() if cpus is None else cpus
    ref_row = _reference(results)
    ref = np.asarray(ref_row["values"])
    mem = [r for r in results if r["kind"] == "in-memory"]
    base_rate = mem[0]["n"] / mem[0]["seconds"] if mem else None
    lines = [f"### scale_memory: {rows:,}-row Parquet log, IPS + SNIPS + DR, 95% percentile intervals, "
             f"{replicates} Poisson replicates ({cpus} CPUs; dask: 2 in-process workers)", "",
             f"| path | seconds | rows / s | vs in-memory | peak RSS (MiB) | under 1 GiB | "
             f"max rel. diff vs {ref_row['kind']} |",
             "|---|---:|---:|---:|---:|---|---:|"]
    for r in results:
        rate = r["n"] / r["seconds"]
        vals = np.asarray(r["values"])
        diff = float(np.max(np.abs(vals - ref) / np.maximum(np.abs(ref), 1e-300)))
        ratio = f"{rate / base_rate:.2f}x" if base_rate else "-"
        lines.append(f"| {r['kind']} | {r['seconds']:.1f} | {rate:,.0f} | {ratio} | {r['peak_rss_mib']:.0f} | "
                     f"{'yes' if r['peak_rss_mib'] < 1024 else 'no'} | {diff:.1e} |")
    lines += ["", f"Parquet file: {size_mib:,.0f} MiB (snappy), written in {write_secs:.0f} s. Peak RSS is "
              "ru_maxrss of a fresh process per path (max of self and children). The in-memory path holds the whole "
              "log; it is the reference the streamed paths must equal (last column, 1e-9 required).", ""]
    return lines


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--replicates", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--paths", default="in-memory,streamed,dask")
    ap.add_argument("--keep", action="store_true", help="keep the Parquet file")
    ap.add_argument("--_path", help=argparse.SUPPRESS)
    ap.add_argument("--_file", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="200,000 rows, 200 replicates")
    args = ap.parse_args(argv)
    if args.quick:
        args.rows, args.replicates = 200_000, 200
    if args._path:
        print(json.dumps(run_path(args._path, args._file, args.replicates, args.seed)))
        return 0

    import numpy as np

    tmp = Path(tempfile.mkdtemp(prefix="workbench-scale-"))  # outside the repository
    try:
        path = tmp / "log.parquet"
        write_secs = write_log(path, args.rows)
        size_mib = path.stat().st_size / 2**20
        print(f"wrote {args.rows:,} rows ({size_mib:,.0f} MiB) in {write_secs:.1f} s to {path}", flush=True)
        results = []
        for kind in args.paths.split(","):
            r = _subprocess(kind, str(path), args.replicates, args.seed)
            print(f"{kind:>10}: {r['seconds']:.1f} s, peak RSS {r['peak_rss_mib']:.0f} MiB", flush=True)
            results.append(r)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)

    lines = table_lines(results, args.rows, args.replicates, size_mib, write_secs)
    table = "\n".join(lines)
    print(table)
    out = RESULTS / "quick" if args.quick else RESULTS  # a smoke run writes beside, not over, the figures
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale_memory.md").write_text(table + "\n")
    ref = np.asarray(_reference(results)["values"])
    worst = max(float(np.max(np.abs(np.asarray(r["values"]) - ref) / np.maximum(np.abs(ref), 1e-300)))
                for r in results)
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
