"""House rules that keep the project understandable."""

from __future__ import annotations

import re
import subprocess
import sys

from conftest import REPO


def test_the_server_never_imports_qt():
    code = ("import sys, facelink_local.cli, facelink_local.api, facelink_local.hub, facelink_local.server; "
            "print('PySide6' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.strip() == "False"
    for path in (REPO / "facelink_local").rglob("*.py"):
        assert "PySide6" not in path.read_text(encoding="utf-8"), path


def test_every_route_is_in_the_readme():
    from facelink_local.api import create_app
    from facelink_local.config import Settings
    from facelink_local.hub import Hub

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    routes = set()
    for module in ("auth_routes", "contact_routes", "image_routes", "timeline_routes", "health_routes"):
        source = (REPO / "facelink_local" / "api" / f"{module}.py").read_text(encoding="utf-8")
        prefix = "/api/v1" if "url_prefix=\"/api/v1\"" in source else ""
        routes |= {prefix + re.sub(r"<int:(\w+)>", r"<\1>", p) for p in re.findall(r'\.(?:get|post|patch|delete)\("([^"]+)"', source)}
    assert routes
    for route in routes:
        assert route.split("<")[0] in readme, f"{route} is not documented in README.md"
    del Hub, Settings, create_app


def test_every_cli_command_is_in_the_readme():
    from facelink_local.cli import main

    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in main.commands:
        assert f"facelink {name}" in readme, f"`facelink {name}` is not documented in README.md"
