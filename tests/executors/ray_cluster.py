"""A real Ray cluster on loopback for the tests: a head node and a worker node.

Both are started with ``ray start --block`` in their own process groups, so tearing down
ends exactly the processes this test started (never ``ray stop``, which would end every Ray
process on the machine).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


_READY_PROBE = """
import time, ray
deadline = time.monotonic() + {timeout}
while True:
    try:
        ray.init(address={address!r}, log_to_driver=False)
        break
    except Exception:
        if time.monotonic() > deadline:
            raise
        time.sleep(1.0)
while sum(n["Alive"] for n in ray.nodes()) < {nodes}:
    if time.monotonic() > deadline:
        raise SystemExit("the Ray worker node did not join")
    time.sleep(0.5)
"""


class LocalRayCluster:
    def __init__(self, cpus_per_node: int = 2) -> None:
        self.cpus = cpus_per_node
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")  # short: socket paths
        self.procs: list[subprocess.Popen[bytes]] = []
        repo = str(Path(__file__).resolve().parents[2])
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            filter(None, [repo, os.environ.get("PYTHONPATH")])), "RAY_USAGE_STATS_ENABLED": "0",
            "RAY_AUTH_MODE": "disabled"}

    def _ray(self, *args: str) -> subprocess.Popen[bytes]:
        ray = str(Path(sys.executable).with_name("ray"))
        proc = subprocess.Popen([ray, "start", "--block", *args], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def start(self, timeout: float = 180.0) -> LocalRayCluster:
        common = ["--node-ip-address=127.0.0.1", f"--num-cpus={self.cpus}", "--num-gpus=0",
                  "--disable-usage-stats"]
        self._ray("--head", f"--port={self.port}", f"--temp-dir={self.temp_dir}",
                  "--include-dashboard=false", *common)
        try:
            self._wait_for_nodes(1, timeout)
            self._ray(f"--address={self.address}", *common)
            self._wait_for_nodes(2, timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_for_nodes(self, nodes: int, timeout: float) -> None:
        """Wait, from a throwaway driver process, until ``nodes`` nodes are alive (this
        process never imports Ray: see ``ray_driver.py``)."""
        probe = _READY_PROBE.format(address=self.address, nodes=nodes, timeout=timeout)
        try:
            done = subprocess.run([sys.executable, "-c", probe], check=False, env=self.env,
                                  capture_output=True, text=True, timeout=timeout + 60)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"the Ray cluster did not come up in {timeout:g}s") from None
        if done.returncode != 0:
            raise RuntimeError(f"the Ray cluster did not come up: {done.stderr[-2000:]}")

    def run(self, *args: str, timeout: float = 600.0) -> str:
        """Run ``ray_driver.py`` with ``args`` against this cluster; its stdout, or fail with
        its stderr."""
        driver = str(Path(__file__).with_name("ray_driver.py"))
        done = subprocess.run([sys.executable, driver, *args], check=False, env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, done.stderr[-4000:]
        return done.stdout

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in reversed(self.procs):
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
        shutil.rmtree(self.temp_dir, ignore_errors=True)
