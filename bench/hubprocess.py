"""`facelink serve` as a child process on 127.0.0.1, for the benchmarks and
the reliability tests: its memory can be measured on its own, and it can be
killed with SIGKILL like a process losing power."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
_http = httpx.Client(timeout=2)  # one client: each new one spends ~70 ms loading CA certificates


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def child_env() -> dict[str, str]:
    """Child processes import this working tree's package, whatever is installed."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def wait_healthy(base: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if _http.get(f"{base}/health").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"server at {base} did not become healthy")
        time.sleep(0.05)


class HubProcess:
    """`python -m facelink_local serve --host 127.0.0.1` on a free port, healthy once constructed."""

    def __init__(self, data_dir: Path, log_path: Path, *extra_args: str) -> None:
        self.data_dir = Path(data_dir)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "facelink_local", "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--data-dir", str(self.data_dir), *extra_args],
            cwd=REPO, env=child_env(), stdout=self.log, stderr=subprocess.STDOUT,
        )
        try:
            wait_healthy(self.base, timeout=60)
        except BaseException:
            self.kill()
            raise

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_kib(self) -> int:
        """Resident memory of the server process now (Linux /proc)."""
        return _status_field(self.pid, "VmRSS")

    def peak_rss_kib(self) -> int:
        return _status_field(self.pid, "VmHWM")

    def reset_peak_rss(self) -> None:
        """Start measuring the peak (VmHWM) afresh from the current RSS (Linux >= 4.0)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as on a power cut of the process."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.log.close()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
        self.log.close()


def _status_field(pid: int, name: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)
