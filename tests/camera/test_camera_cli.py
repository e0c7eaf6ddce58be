"""`facelink camera`, run as a user would: in-process with CliRunner, and as a process for Ctrl+C."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from facelink_local.camera.command import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_LOGIN_REFUSED, EXIT_UNREACHABLE
from facelink_local.cli import main

from .camera_helpers import PASSWORD, USERNAME, folder_of, free_port

pytestmark = [pytest.mark.faces, pytest.mark.model]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def password_file(tmp_path) -> Path:
    path = tmp_path / "password"
    path.write_text(PASSWORD + "\n")
    return path


def camera(*args: str, input: str | None = None):
    return CliRunner().invoke(main, ["camera", "--username", USERNAME, *args], input=input)


def test_feeds_a_folder_and_prints_one_line_per_frame(live_server, account, people, no_face, password_file, tmp_path):
    folder = folder_of(tmp_path, people["bill_gates"][0], people["bill_gates"][0], no_face)
    result = camera("--url", live_server, "--password-file", str(password_file), "--folder", str(folder),
                    "--interval", "0")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == f"Feeding {live_server} as {USERNAME}, one frame every 0 s (Ctrl+C stops)"
    assert [line.split(" ", 1)[1] for line in lines[1:4]] == [
        "frame 1 (01_bill_gates_01.jpg): unknown x1",
        "frame 2 (02_bill_gates_01.jpg): same as frame 1, not sent",
        "frame 3 (03_edge_no_face_cat.jpg): no face",
    ]
    assert lines[4] == "done: 3 frames, 2 sent, 1 similar skipped"


def test_asks_for_the_password_without_a_password_file(live_server, account, people, tmp_path):
    folder = folder_of(tmp_path, people["bill_gates"][0])
    result = camera("--url", live_server, "--folder", str(folder), input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "frame 1 (01_bill_gates_01.jpg): unknown x1" in result.stdout


def test_a_wrong_password_is_a_clear_error_with_its_own_exit_code(live_server, account, people, tmp_path):
    (tmp_path / "wrong").write_text("not the password\n")
    folder = folder_of(tmp_path, people["bill_gates"][0])
    result = camera("--url", live_server, "--password-file", str(tmp_path / "wrong"), "--folder", str(folder))
    assert result.exit_code == EXIT_LOGIN_REFUSED == 3
    assert result.stderr == ("Error: the hub refused the login of 'wearer': Bad username or password. "
                             "Check --username and the password.\n")


def test_an_unreachable_hub_fails_clearly_after_the_timeout(people, password_file, tmp_path):
    folder = folder_of(tmp_path, people["bill_gates"][0])
    url = f"http://127.0.0.1:{free_port()}"
    result = camera("--url", url, "--password-file", str(password_file), "--folder", str(folder),
                    "--interval", "0.1", "--max-backoff", "0.2", "--give-up-after", "0.5")
    assert result.exit_code == EXIT_UNREACHABLE == 4
    assert f"cannot reach the hub at {url}" in result.stdout          # while retrying
    assert result.stderr.startswith("Error: gave up after 0.")
    assert result.stdout.splitlines()[-1] == "stopped: 1 frames, 0 sent, 0 similar skipped, 1 unsent"


def test_a_missing_camera_is_an_error(password_file):
    result = camera("--password-file", str(password_file), "--device", "99")
    assert result.exit_code == EXIT_ERROR
    assert "Error: cannot open camera 99" in result.stderr


@pytest.mark.parametrize("args, message", [
    ([], "choose one source"),
    (["--device", "0", "--folder", "."], "choose one source"),
    (["--device", "0", "--loop"], "--loop applies to --video and --folder"),
    (["--url", "127.0.0.1:5055", "--device", "0"], "must start with http:// or https://"),
])
def test_usage_errors(args, message, password_file):
    result = camera("--password-file", str(password_file), *args)
    assert result.exit_code == 2 and message in result.output


def test_an_empty_password_file_is_a_usage_error(tmp_path):
    (tmp_path / "empty").write_text("")
    result = camera("--password-file", str(tmp_path / "empty"), "--folder", str(tmp_path))
    assert result.exit_code == 2 and "is empty" in result.output


def test_ctrl_c_stops_with_a_summary(live_server, account, people, password_file, tmp_path):
    folder = folder_of(tmp_path, people["bill_gates"][0], people["colin_powell"][0])
    process = subprocess.Popen(
        [sys.executable, "-m", "facelink_local", "camera", "--url", live_server, "--username", USERNAME,
         "--password-file", str(password_file), "--folder", str(folder), "--loop", "--interval", "0.2"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for line in process.stdout:
            if "frame 1 " in line:
                break
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=20)
    finally:
        process.kill()
    assert process.returncode == EXIT_INTERRUPTED == 130, err
    assert out.splitlines()[-1].startswith("stopped: ")
    assert "Traceback" not in err
