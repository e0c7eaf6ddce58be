"""House rules for firmware_bridge/: no Qt, and the firmware folder is what the README says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "firmware_bridge"


def test_the_bridge_never_imports_qt():
    modules = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")
    code = "; ".join(f"import firmware_bridge.{m}" for m in modules) + "; import sys; print('PySide6' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"
    for path in PACKAGE.rglob("*.py"):
        assert "PySide6" not in path.read_text(encoding="utf-8"), path


def test_the_readme_points_at_the_protocol_and_the_firmware():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for target in ("firmware_bridge/PROTOCOL.md", "firmware_bridge/firmware/facelink_wearable"):
        assert f"]({target})" in readme and (REPO / target).exists(), target
    for option in ("--serial", "--haptic-repeat", "--haptic-intensity", "--haptic-cooldown",
                   "python -m firmware_bridge.simulator", "python -m firmware_bridge.vectors",
                   "python -m bench.bench_haptics", "arduino-cli upload"):
        assert option in readme, option
