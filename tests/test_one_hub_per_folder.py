"""One hub per port and per data folder: a second `facelink serve`, or a command that would
change the faces under a running hub, stops with one clear line and touches nothing."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from bench.hubprocess import REPO, HubProcess, child_env

pytestmark = pytest.mark.slow


def facelink(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "facelink_local", *args], cwd=REPO, env=child_env(),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def running(tmp_path):
    hub = HubProcess(tmp_path / "data", tmp_path / "hub.log")
    yield hub
    hub.stop()


def test_a_second_hub_on_a_taken_port_says_so_in_one_line(running, tmp_path):
    result = facelink("serve", "--host", "127.0.0.1", "--port", str(running.port),
                      "--data-dir", str(tmp_path / "other"))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"Error: Port {running.port} is in use by another FaceLink hub. "
                                     "Choose another with --port (or FACELINK_PORT).")
    assert "reach the hub" not in result.stdout  # no addresses it does not serve
    assert not (tmp_path / "other").exists()  # nothing made for a hub that never ran


def test_a_second_hub_on_the_same_data_folder_is_refused(running):
    result = facelink("serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(running.data_dir))
    assert result.returncode == 1
    assert result.stderr.strip() == (f"Error: a FaceLink hub (process {running.pid}) is already running with the "
                                     f"data folder {running.data_dir}: stop it first, or use another --data-dir.")


def test_reembedding_waits_for_the_hub_to_stop_but_looking_does_not(running):
    refused = facelink("reembed", "--engine", "dlib", "--data-dir", str(running.data_dir))
    assert refused.returncode == 1 and "already running" in refused.stderr
    assert "`reembed --status` works beside it" in refused.stderr
    assert facelink("recluster", "--username", "ann", "--data-dir", str(running.data_dir)).returncode == 1
    status = facelink("reembed", "--status", "--engine", "dlib", "--data-dir", str(running.data_dir))
    assert status.returncode == 0 and "stored faces made by it" in status.stdout
    running.stop()
    done = facelink("reembed", "--engine", "dlib", "--data-dir", str(running.data_dir))
    assert done.returncode == 0, done.stderr


def test_a_port_taken_by_another_program_is_named_so(tmp_path):
    with socket.socket() as other:  # listens, never answers HTTP
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        result = facelink("serve", "--host", "127.0.0.1", "--port", str(port), "--data-dir", str(tmp_path / "d"))
    assert result.returncode == 1
    assert result.stderr.strip().startswith(f"Error: Port {port} is in use by another program.")
