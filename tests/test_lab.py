"""`make lab` smoke test: JupyterLab on localhost serves the notebooks, starts a kernel, refuses no-token requests."""
import os
import secrets
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    port, token = _free_port(), secrets.token_hex(16)
    tmp = tmp_path_factory.mktemp("jupyter")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp / "config"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
               JUPYTER_DATA_DIR=str(tmp / "data"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", "--ServerApp.port_retries=0",
           f"--ServerApp.root_dir={ROOT / 'notebooks'}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"token {token}"}
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if requests.get(f"{base}/api/status", headers=headers, timeout=2).status_code == 200:
                break
        except requests.ConnectionError:
            pass
        if proc.poll() is not None:
            pytest.fail(f"jupyter lab exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("jupyter lab did not start within 60 s")
    yield base, headers
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_lab_serves_the_notebooks_and_starts_a_kernel(lab):
    base, headers = lab
    listing = requests.get(f"{base}/api/contents", headers=headers, timeout=10).json()
    names = {item["name"] for item in listing["content"]}
    assert "00_getting_started.ipynb" in names
    assert requests.get(f"{base}/lab", headers=headers, timeout=10).status_code == 200
    kernel = requests.post(f"{base}/api/kernels", headers=headers, json={"name": "python3"}, timeout=30)
    assert kernel.status_code == 201
    assert requests.delete(f"{base}/api/kernels/{kernel.json()['id']}", headers=headers, timeout=30).status_code == 204


def test_lab_refuses_requests_without_the_token(lab):
    base, _ = lab
    assert requests.get(f"{base}/api/contents", timeout=10).status_code == 403
    assert requests.get(f"{base}/api/contents", headers={"Authorization": "token wrong"}, timeout=10).status_code == 403
