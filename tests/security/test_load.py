"""Load: several cameras, each `CameraClient` (the device client of `facelink
camera`), upload real photos at once to `facelink serve` on 127.0.0.1. No
error, nothing lost, memory within bounds. A short run without timing
assertions; the throughput, latency and memory figures in docs/reliability.md
come from the long run of `python -m bench.bench_load`."""

from __future__ import annotations

import os

import pytest

from bench.bench_load import device_photos, lost_uploads, run_load

from .support import ServerProcess, register

pytestmark = [pytest.mark.model, pytest.mark.faces, pytest.mark.slow]

SECONDS = float(os.environ.get("FACELINK_LOAD_SECONDS", "8"))
CAMERAS = 3
MEMORY_BUDGET_MIB = 600  # the long run levels off near 350 MiB


def test_several_cameras_at_once_lose_nothing(tmp_path, shared_faces):
    server = ServerProcess(tmp_path / "data", tmp_path / "hub.log")
    try:
        accounts = [(f"camera{i}", f"camera {i} password") for i in range(CAMERAS)]
        for username, password in accounts:
            register(server.base, username, password)
        result = run_load(server.base, accounts, device_photos(shared_faces, CAMERAS), SECONDS, server.rss_kib)
        assert server.proc.poll() is None
    finally:
        server.stop()
    latency, memory = result.latency(), result.memory()
    print(f"\n{CAMERAS} cameras, {result.seconds:.0f} s: {result.uploads} uploads, "
          f"p50 {latency['p50']:.0f} ms, p95 {latency['p95']:.0f} ms; memory {memory['warm']:.0f} -> "
          f"{memory['end']:.0f} MiB (peak {memory['peak']:.0f})")
    assert result.errors == []
    assert all(log.latencies_ms for log in result.devices)  # every camera got answers
    assert lost_uploads(tmp_path / "data" / "facelink.db", result) == []
    assert memory["peak"] < MEMORY_BUDGET_MIB
