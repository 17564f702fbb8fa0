"""Parity of workbench.ope point estimates with obp 0.4.1 on identical data and reward-model predictions.

obp (the Open Bandit Pipeline) needs old numpy/pandas and imports torch at import time, so it lives
in its own virtual environment, built by :func:`ensure_obp_venv` in ``benchmarks/_peers/obp-venv``
(git-ignored; set ``WORKBENCH_OBP_VENV`` to put it elsewhere or to use an existing one):

    <this python> -m venv benchmarks/_peers/obp-venv
    pip install numpy==1.23.5 pandas==1.5.3 scikit-learn==1.3.2 scipy==1.11.4 matplotlib seaborn tqdm pyyaml
    pip install --no-deps --ignore-requires-python obp==0.4.1
    + an import-only ``torch`` stub package written by this script (obp's OPE estimators never call
      torch; only its neural policy learners do).

The venv is built with the interpreter running this script (``sys.executable``), which must be
Python <= 3.11: obp 0.4.1's pinned numpy 1.23.5 and pandas 1.5.3 have no wheels for later versions.
On a later Python, or when the build fails (no network, ...), the obp rows read
"peer unavailable: <reason>" and our side is still run and timed.

The obp side runs as a subprocess in that venv; data go both ways through .npz files.

Run: ``.venv/bin/python benchmarks/ope_obp_parity.py`` (writes benchmarks/results/ope_obp_parity.md).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import numpy as np

DEFAULT_OBP_VENV = Path(__file__).resolve().parent / "_peers" / "obp-venv"  # git-ignored
PEER_MAX_PYTHON = (3, 11)  # numpy 1.23.5 / pandas 1.5.3 (obp 0.4.1's pins) have no wheels beyond 3.11


class PeerUnavailable(RuntimeError):
    """The obp venv is missing and cannot be built here; the message says why."""


def obp_venv_path(environ=None) -> Path:
    """Where the obp venv lives: ``$WORKBENCH_OBP_VENV``, else ``benchmarks/_peers/obp-venv``."""
    environ = os.environ if environ is None else environ
    return Path(environ["WORKBENCH_OBP_VENV"]) if environ.get("WORKBENCH_OBP_VENV") else DEFAULT_OBP_VENV


def peer_build_python(executable: str | None = None, version_info=None) -> str:
    """The interpreter to build the obp venv with: this one, if it is Python <= 3.11; else PeerUnavailable."""
    executable = sys.executable if executable is None else executable
    version = tuple((sys.version_info if version_info is None else version_info)[:2])
    if version > PEER_MAX_PYTHON:
        raise PeerUnavailable(
            f"the obp 0.4.1 peer needs Python {'.'.join(map(str, PEER_MAX_PYTHON))} (its pinned numpy 1.23.5 and "
            f"pandas 1.5.3 have no wheels for Python {'.'.join(map(str, version))}); run this script with a "
            f"Python 3.11 interpreter, or set WORKBENCH_OBP_VENV to an existing obp 0.4.1 venv")
    return executable


OBP_VENV = obp_venv_path()
OBP_PY = OBP_VENV / "bin" / "python"
PINS = ["numpy==1.23.5", "pandas==1.5.3", "scikit-learn==1.3.2", "scipy==1.11.4", "matplotlib", "seaborn", "tqdm",
        "pyyaml", "mypy-extensions"]

# The stub makes `import torch` (and the few submodules obp touches at import time) succeed. Any real use
# (obp's NN policy learners, *_tensor methods) raises, so a parity run cannot silently go through it.
_TORCH_STUB = '''"""Import-only torch stub for running obp's numpy estimators (written by workbench benchmarks)."""
__version__ = "0.0-stub"


class _Missing:
    def __init__(self, name):
        self._name = name

    def __getattr__(self, attr):
        return _Missing(self._name + "." + attr)

    def __call__(self, *a, **k):
        raise RuntimeError("torch stub: " + self._name + " is not available")

    def __mro_entries__(self, bases):
        return (object,)


def __getattr__(name):
    return _Missing("torch." + name)
'''
_STUB_SUBMODULES = ["nn", "nn.functional", "optim", "utils", "utils.data", "distributions"]


def ensure_obp_venv(verbose: bool = True) -> Path:
    """Build the obp 0.4.1 venv (:data:`OBP_VENV`) if missing; return its python.

    Raises :class:`PeerUnavailable` when it cannot be built here: this Python is later than 3.11 (see
    :func:`peer_build_python`), or a build step failed (the message carries the pip output).
    """
    if OBP_PY.exists():
        check = subprocess.run([str(OBP_PY), "-c", "import obp, obp.ope; print(obp.__version__)"], capture_output=True,
                               text=True)
        if check.returncode == 0 and check.stdout.strip() == "0.4.1":
            return OBP_PY
    build_python = peer_build_python() if not OBP_PY.exists() else None
    try:
        OBP_VENV.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PeerUnavailable(f"cannot create {OBP_VENV.parent}: {exc} (set WORKBENCH_OBP_VENV)") from exc

    def run(cmd):
        if verbose:
            print("$", " ".join(map(str, cmd)), flush=True)
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            last = next((ln.strip() for ln in reversed((res.stderr or res.stdout).splitlines()) if ln.strip()), "")
            raise PeerUnavailable(f"building the obp venv in {OBP_VENV} failed (exit {res.returncode}): {last}\n"
                                  f"command: {' '.join(map(str, cmd))}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}")
        return res

    if build_python is not None:
        run([build_python, "-m", "venv", str(OBP_VENV)])
    run([str(OBP_PY), "-m", "pip", "install", "--quiet", *PINS])
    run([str(OBP_PY), "-m", "pip", "install", "--quiet", "--no-deps", "--ignore-requires-python", "obp==0.4.1"])
    site = run([str(OBP_PY), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    torch_dir = Path(site) / "torch"
    torch_dir.mkdir(exist_ok=True)
    (torch_dir / "__init__.py").write_text(_TORCH_STUB)
    for sub in _STUB_SUBMODULES:
        parts = sub.split(".")
        d = torch_dir.joinpath(*parts)
        d.mkdir(parents=True, exist_ok=True)
        (d / "__init__.py").write_text(_TORCH_STUB)
    run([str(OBP_PY), "-c", "import obp, obp.ope; print(obp.__version__)"])
    return OBP_PY


def run_obp(script: str, inputs: dict, timeout: float = 3600) -> dict:
    """Run ``script`` with obp's python. It reads ``IN`` (npz path) and writes ``OUT`` (json path)."""
    py = ensure_obp_venv()
    with tempfile.TemporaryDirectory() as tmp:
        inp, out, src = Path(tmp) / "in.npz", Path(tmp) / "out.json", Path(tmp) / "peer.py"
        np.savez(inp, **inputs)
        src.write_text(f"IN = {str(inp)!r}\nOUT = {str(out)!r}\n" + textwrap.dedent(script))
        res = subprocess.run([str(py), str(src)], capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise RuntimeError(f"obp subprocess failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}")
        return json.loads(out.read_text())


def peer_status() -> tuple[Path | None, str]:
    """(obp's python, "") when the peer is usable, else (None, why not): a report row, not a traceback."""
    try:
        return ensure_obp_venv(), ""
    except PeerUnavailable as exc:
        print(f"obp peer unavailable: {exc}", file=sys.stderr, flush=True)
        return None, str(exc)


def short_reason(reason: str, width: int = 160) -> str:
    """The first line of a reason, cut to ``width``, with no ``|`` (it goes in a Markdown table cell)."""
    first = reason.strip().splitlines()[0] if reason.strip() else "unknown reason"
    first = first.replace("|", "/")
    return first if len(first) <= width else first[:width - 3] + "..."


if __name__ == "__main__" and "--build-only" in sys.argv:
    try:
        print(ensure_obp_venv())
    except PeerUnavailable as exc:
        print(f"obp peer unavailable: {exc}", file=sys.stderr)
        sys.exit(1)


# ------------------------------------------------------------------------------------------------
# Parity run
# ------------------------------------------------------------------------------------------------
PEER_SCRIPT = """
import json
import numpy as np
from obp.ope import (OffPolicyEvaluation, InverseProbabilityWeighting, SelfNormalizedInverseProbabilityWeighting,
                     DirectMethod, DoublyRobust, SelfNormalizedDoublyRobust, SwitchDoublyRobust,
                     DoublyRobustWithShrinkage)
d = np.load(IN)
fb = dict(n_rounds=int(d["action"].shape[0]), n_actions=int(d["action_dist"].shape[1]), action=d["action"],
          reward=d["reward"], pscore=d["pscore"], position=d["position"])
ests = [InverseProbabilityWeighting(), SelfNormalizedInverseProbabilityWeighting(), DirectMethod(), DoublyRobust(),
        SelfNormalizedDoublyRobust(), SwitchDoublyRobust(tau=float(d["tau"])),
        DoublyRobustWithShrinkage(lambda_=float(d["lam"]))]
ope = OffPolicyEvaluation(bandit_feedback=fb, ope_estimators=ests)
vals = ope.estimate_policy_values(action_dist=d["action_dist"], estimated_rewards_by_reg_model=d["q_hat"])
json.dump({k: float(v) for k, v in vals.items()}, open(OUT, "w"))
"""

# obp estimator name -> ours
PAIRS = [("ipw", "ips"), ("snipw", "snips"), ("dm", "dm"), ("dr", "dr"), ("sndr", "sndr"), ("switch-dr", "switch-dr"),
         ("dr-os", "dr-os")]


def _datasets():
    from sklearn.linear_model import LogisticRegression

    import workbench as wb

    out = {}
    # 1. Synthetic: 100,000 rows, 10 actions, softmax logger, epsilon-greedy target; LR reward model, cross-fitted.
    log, truth = wb.data.simulate_bandit(100_000, n_actions=10, dim_context=5, random_state=0)
    target = wb.ope.EpsilonGreedyPolicy(lambda X: X @ np.linspace(-1, 1, 50).reshape(5, 10), 0.2)
    pe = target.action_dist(log)
    q = wb.ope.cross_fit_predict(log, LogisticRegression(max_iter=1000), n_folds=3, random_state=0)
    out["synthetic 100k x 10"] = (log, pe[:, :, None], q[:, :, None])
    # 2. Open Bandit sample (random -> BTS), 80 items x 3 slots, LR reward model, cross-fitted.
    log = wb.data.load_open_bandit("random", campaign="all")
    dist = wb.data.open_bandit_bts_policy("all", random_state=0)
    pe = np.ascontiguousarray(np.broadcast_to(dist, (len(log),) + dist.shape))
    q = wb.ope.cross_fit_predict(log, LogisticRegression(max_iter=1000), n_folds=3, random_state=0)
    out["Open Bandit random->BTS"] = (log, pe, q)
    return out


def main(quick: bool = False):
    import workbench as wb
    from workbench.ope import DoublyRobustWithShrinkage, SwitchDR

    tau, lam = 5.0, 10.0
    lines = ["| data | estimator | workbench | obp 0.4.1 | relative difference |", "|---|---|---|---|---|"]
    worst = 0.0
    _, unavailable = peer_status()
    for name, (log, pe, q) in _datasets().items():
        pos = np.zeros(len(log), dtype=np.int64) if log.position is None else np.asarray(log.position)
        peer = None if unavailable else run_obp(
            PEER_SCRIPT, dict(action=np.asarray(log.action), reward=np.asarray(log.reward),
                              pscore=np.asarray(log.propensity), position=pos, action_dist=pe, q_hat=q, tau=tau,
                              lam=lam))
        ests = ["ips", "snips", "dm", "dr", "sndr", SwitchDR(lambda_=tau), DoublyRobustWithShrinkage(lambda_=lam)]
        ours = {}
        for (obp_name, our_name), est in zip(PAIRS, ests):
            ours[our_name] = wb.ope.make_estimator(est).estimate_policy_value(log, pe if log.position is not None
                                                                              else pe[:, :, 0],
                                                                              q if log.position is not None
                                                                              else q[:, :, 0])
            label = our_name + (f" (lambda={tau:g})" if our_name == "switch-dr" else
                                f" (lambda={lam:g})" if our_name == "dr-os" else "")
            if peer is None:
                lines.append(f"| {name} | {label} | {ours[our_name]:.12g} | peer unavailable: "
                             f"{short_reason(unavailable)} | skipped |")
                continue
            rel = abs(ours[our_name] - peer[obp_name]) / abs(peer[obp_name])
            worst = max(worst, rel)
            lines.append(f"| {name} | {label} | {ours[our_name]:.12g} | {peer[obp_name]:.12g} | {rel:.2e} |")
    lines.append("")
    if unavailable:
        lines.append(f"obp rows skipped, peer unavailable: {short_reason(unavailable, 400)}. Parity not measured.")
    else:
        lines.append(f"Largest relative difference: {worst:.2e} (target: <= 1e-9). "
                     "Identical inputs: the same logs, target distribution and reward-model predictions.")
    table = "\n".join(lines)
    print(table)
    res = Path(__file__).resolve().parent / "results" / ("quick" if quick else "")  # quick: not over the figures
    res.mkdir(parents=True, exist_ok=True)
    (res / "ope_obp_parity.md").write_text("# workbench.ope vs obp 0.4.1: point estimates\n\n" + table + "\n")
    return worst


if __name__ == "__main__" and "--build-only" not in sys.argv:
    import argparse

    ap = argparse.ArgumentParser(description="workbench.ope vs obp 0.4.1: point estimates on identical inputs")
    ap.add_argument("--quick", action="store_true", help="accepted for run_all --quick: this run is already small")
    worst = main(ap.parse_args().quick)
    sys.exit(0 if worst <= 1e-9 else 1)
