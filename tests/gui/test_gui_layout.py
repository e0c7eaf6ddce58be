"""House rules of the desktop app's code."""

from __future__ import annotations

import re

from conftest import REPO

QT_IMPORT = re.compile(r"^\s*(from|import)\s+(PySide6|shiboken6|PyQt\d)\b", re.MULTILINE)


def test_only_the_qt_module_imports_qt():
    importers = sorted(p.name for p in (REPO / "gui").rglob("*.py") if QT_IMPORT.search(p.read_text("utf-8")))
    assert importers == ["qt.py"]


def test_the_app_never_opens_the_database_itself():
    """It goes through the hub's services (the store is theirs)."""
    for path in (REPO / "gui").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "sqlite" not in text.lower() and ".store" not in text, path.name
