"""The desktop app's own choices, kept in the data folder as `desktop.json`.

Which account the app shows, the port and the face engine chosen in the Status
view (used at the next start unless `--port` / `--engine` is given), and
whether closing the window keeps the hub serving from a tray icon. Hub-wide
settings live in the hub's tuning, not here.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from facelink_local.faces import ENGINES

log = logging.getLogger(__name__)

FILENAME = "desktop.json"


@dataclass(frozen=True)
class Prefs:
    username: str | None = None
    port: int | None = None
    keep_serving_in_tray: bool = False
    engine: str | None = None       # a key of facelink_local.faces.ENGINES

    @classmethod
    def load(cls, data_dir: Path) -> Prefs:
        path = Path(data_dir) / FILENAME
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.warning("ignoring unreadable %s: %s", path, exc)
            return cls()
        if not isinstance(stored, dict):
            return cls()
        prefs = cls()
        for f in fields(cls):
            value = stored.get(f.name)
            if f.name == "username" and isinstance(value, str) and value:
                prefs = replace(prefs, username=value)
            elif f.name == "port" and isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
                prefs = replace(prefs, port=value)
            elif f.name == "keep_serving_in_tray" and isinstance(value, bool):
                prefs = replace(prefs, keep_serving_in_tray=value)
            elif f.name == "engine" and isinstance(value, str) and value in ENGINES:
                prefs = replace(prefs, engine=value)
        return prefs

    def save(self, data_dir: Path) -> None:
        """Atomically, owner-only (the data folder's rule)."""
        path = Path(data_dir) / FILENAME
        fd, tmp = tempfile.mkstemp(prefix=".desktop-", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(asdict(self), fh, indent=2)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def with_(self, **changes) -> Prefs:
        return replace(self, **changes)


def startup_engine(data_dir: Path, engine: str, given: bool) -> str:
    """The face engine `facelink gui` starts with: `engine` when it was given
    (`--engine` or FACELINK_ENGINE), else the one chosen in the app last time, else `engine`."""
    if given:
        return engine
    return Prefs.load(data_dir).engine or engine
