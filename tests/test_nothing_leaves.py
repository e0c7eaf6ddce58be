"""Nothing leaves the machine: the libraries the hub runs on keep no telemetry either."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from bench.hubprocess import REPO, child_env

pytestmark = pytest.mark.faces

EMBED_ONE_PHOTO = """
import sys
from pathlib import Path
from facelink_local.faces.engine import make_engine
from facelink_local.faces.image import decode_image
engine = make_engine("onnx", cache_dir=Path(sys.argv[1]))
engine.load()
faces = engine.analyze(decode_image(Path(sys.argv[2]).read_bytes()))
print(len(faces))
"""


def test_onnxruntime_writes_no_telemetry_while_the_hub_embeds_a_face(tmp_path, onnx_cache, identities):
    """onnxruntime 1.32's wheels keep a device id and a queue of usage events in ~/.cache/Microsoft
    unless told not to; the hub tells it not to, whatever the caller's environment says."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in child_env().items() if not k.startswith(("ORT_", "XDG_"))}
    env["HOME"] = str(home)
    photo = next(iter(identities.values()))[0]
    run = subprocess.run([sys.executable, "-c", EMBED_ONE_PHOTO, str(onnx_cache), str(photo)], cwd=REPO,
                         env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "1"  # the descriptor really ran
    assert [str(p.relative_to(home)) for p in home.rglob("*")] == []
