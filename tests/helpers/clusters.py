"""Launcher tests' shared pieces: the skip (or, in CI, failure) naming a launcher's missing extra, and
a real two-node Ray cluster on this machine (tests/test_launchers.py, tests/test_ray_two_node.py)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from .cli import ROOT
from .timing import scaled_timeout


def need(launcher: str) -> None:
    """Skip (fail in CI) when the launcher's plugin is not installed, naming the extra."""
    from harness.app import missing_launcher_plugin

    reason = missing_launcher_plugin(launcher)
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI: .ci/run installs every launcher extra)")
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process, log, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"ray start exited {process.returncode}: {log.read_text()[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"the Ray head did not listen on {port} within {seconds:.0f} s: {log.read_text()[-3000:]}")


WAIT_FOR_NODES = """import ray, sys, time
ray.init(address=sys.argv[1])
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:
    alive = [n for n in ray.nodes() if n['Alive']]
    if len(alive) == 2: sys.exit(print(sum(n['Resources']['CPU'] for n in alive)))
    time.sleep(0.5)
sys.exit(f'{len(alive)} node(s) alive')
"""


@contextlib.contextmanager
def two_node_cluster(*, homes: tuple[Path, Path] | None = None, env: dict | None = None):
    """A real two-node Ray cluster on this machine: a head and one worker node (two raylets), 1 CPU
    each, in their own temp dir and process groups (ended by id at the end, never `ray stop`, which
    would end every Ray on the machine, another test's too). Token authentication on (Ray's default
    for `ray start` where it has it). ``homes``: the directories the head's and the worker's
    `ray start` run in (default: this process's); ``env``: more variables for both nodes.
    Yields {"address", "client" (ray://), "temp" (Ray's --temp-dir, with the nodes' logs)}."""
    need("ray")
    ray = shutil.which("ray", path=str(ROOT / ".venv" / "bin")) or shutil.which("ray")
    if ray is None:
        pytest.skip("the `ray` command is not installed (pip install -e '.[ray]')")
    temp = Path(tempfile.mkdtemp(prefix="ray"))  # short: Ray's socket paths must fit 107 characters
    port, client_port = free_port(), free_port()
    common = ["--block", "--node-ip-address=127.0.0.1", "--num-cpus=1", f"--temp-dir={temp}",
              "--disable-usage-stats"]
    nodes = []
    with pytest.MonkeyPatch.context() as patch:  # this process's too: a driver started from here needs the token
        for key, value in {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(16),
                           "RAY_USAGE_STATS_ENABLED": "0"}.items():
            patch.setenv(key, value)
        patch.delenv("RAY_ADDRESS", raising=False)
        node_env = {**os.environ, **(env or {})}
        try:
            for i, (name, args) in enumerate((
                    ("head", ["--head", f"--port={port}", f"--ray-client-server-port={client_port}",
                              "--include-dashboard=false", f"--dashboard-port={free_port()}"]),
                    ("worker", [f"--address=127.0.0.1:{port}"]))):
                log = temp / f"{name}.log"
                with log.open("w") as out:
                    nodes.append(subprocess.Popen(
                        [ray, "start", *args, *common, f"--dashboard-agent-listen-port={free_port()}"],
                        stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env=node_env,
                        cwd=homes[i] if homes else None))
                if name == "head":
                    wait_for_port(port, nodes[0], log, scaled_timeout(120))
            ready = subprocess.run([sys.executable, "-c", WAIT_FOR_NODES, f"127.0.0.1:{port}",
                                    str(scaled_timeout(120))], capture_output=True, text=True,
                                   timeout=scaled_timeout(300))
            assert ready.returncode == 0, ready.stderr[-3000:] + (temp / "worker.log").read_text()[-2000:]
            assert float(ready.stdout.split()[-1]) == 2.0  # two nodes, one CPU each
            yield {"address": f"127.0.0.1:{port}", "client": f"ray://127.0.0.1:{client_port}", "temp": temp}
        finally:
            for process in reversed(nodes):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            for process in reversed(nodes):
                with contextlib.suppress(subprocess.TimeoutExpired):
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)  # whatever of its group outlived SIGTERM
                process.wait()
            shutil.rmtree(temp, ignore_errors=True)


def nodes_that_ran_jobs(temp) -> set[str]:
    """The raylets (one log per node) whose worker processes ran a sweep job (Ray's task _run_job)."""
    import re

    started = {}  # worker pid -> the raylet log of the node that started it
    for raylet in temp.glob("session_*/logs/raylet*.out"):
        for pid in re.findall(r"Started worker process with pid (\d+)", raylet.read_text(errors="replace")):
            started[pid] = raylet.name
    ran = set()
    for worker in temp.glob("session_*/logs/worker-*.out"):
        if ":task_name:_run_job" in worker.read_text(errors="replace"):
            ran.add(started.get(worker.stem.rsplit("-", 1)[-1], f"unknown node ({worker.name})"))
    return ran
