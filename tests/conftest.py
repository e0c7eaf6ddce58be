"""Shared fixtures: the shared photo set (skipped without it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _shared_faces_dir() -> Path:
    configured = os.environ.get("FACELINK_SHARED_FACES")
    return Path(configured) if configured else REPO.parent / "shared" / "faces"


@pytest.fixture(scope="session")
def shared_faces() -> Path:
    """The shared labeled photos (identities/, edge/), read in place, never copied."""
    folder = _shared_faces_dir()
    if not (folder / "identities").is_dir():
        pytest.skip(f"shared photo set not found at {folder} (set FACELINK_SHARED_FACES to use another)")
    return folder
