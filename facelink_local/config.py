"""Settings: fixed at start (paths, network, limits) and tunable at run time.

`Settings` comes from the command line / environment (click reads the
`FACELINK_*` variables). `Tuning` holds what the desktop app may change while
the hub runs; it is stored in the database and takes effect at once.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path

import platformdirs

DEFAULT_PORT = 5055
MiB = 1024 * 1024


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("FaceLink", appauthor=False))


def prepare_data_dir(path: Path) -> Path:
    """Create the data folder, owner-only: it holds biometric data. Files and
    folders already in it (from an older version, or copied in) become owner-only too."""
    path = Path(path).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    for entry in path.iterdir():
        if entry.is_symlink():
            continue
        os.chmod(entry, 0o700 if entry.is_dir() else 0o600)
    return path


@dataclass(frozen=True)
class Settings:
    data_dir: Path = field(default_factory=default_data_dir)
    host: str = "0.0.0.0"
    port: int = DEFAULT_PORT
    engine: str = "onnx"          # the fastest engine that passes the equality tests (docs/engines.md)
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=30)
    max_upload_bytes: int = 20 * MiB
    body_timeout_s: float = 30.0  # a request body must arrive within this (slow senders get 408)
    max_decode_side: int = 1600   # larger photos are shrunk while decoding
    min_face_px: int = 40         # smaller faces are reported "too_small", never matched or stored
    bcrypt_rounds: int = 12
    # Failed logins. Per user: `login_free_failures` wrong passwords in a row cost
    # nothing; each further one doubles the wait before the next attempt, from
    # `login_backoff_base_s` up to `login_backoff_max_s` (never a permanent lockout),
    # and a correct password resets it. Per client address: at most
    # `login_address_failures` failed logins within `login_address_window_s`.
    login_free_failures: int = 5
    login_backoff_base_s: float = 1.0
    login_backoff_max_s: float = 900.0
    login_failure_memory_s: float = 86400.0  # a user's failure count is forgotten after this quiet time
    login_address_failures: int = 30
    login_address_window_s: int = 900

    @property
    def db_path(self) -> Path:
        return self.data_dir / "facelink.db"

    @property
    def secret_path(self) -> Path:
        return self.data_dir / "jwt-secret.key"

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)


@dataclass(frozen=True)
class Tuning:
    """Run-time settings; the recognition defaults are chosen from measurements
    (`python -m bench.quality`, docs/quality.md): on half of the people, the
    threshold and margin that recognize the most photos with no stranger
    accepted and no wrong contact, and the clustering threshold with the best
    recall whose pairwise precision stays >= 0.99."""

    retention_days: float = 14.0
    match_threshold: float = 0.48
    match_margin: float = 0.04
    cluster_threshold: float = 0.56
    min_cluster_size: int = 1
    haptic_cooldown_s: float = 30.0
    haptic_repeat: int = 1          # times the wearable plays a pattern (1.6 s each)
    haptic_intensity: int = 200     # the motor's strength: PWM duty, 1-255
    serial_port: str = ""

    LIMITS = {
        "retention_days": (0.01, 3650.0),
        "match_threshold": (0.1, 1.5),
        "match_margin": (0.0, 1.0),
        "cluster_threshold": (0.1, 1.5),
        "min_cluster_size": (1, 1000),
        "haptic_cooldown_s": (0.0, 3600.0),
        "haptic_repeat": (1, 10),
        "haptic_intensity": (1, 255),
    }

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in fields(cls)]

    def validated(self, **changes) -> "Tuning":
        """A copy with `changes`, each checked for type and range."""
        clean = {}
        for name, value in changes.items():
            if name not in self.names():
                raise ValueError(f"unknown setting {name!r}")
            kind = type(getattr(self, name))
            if kind is str:
                if not isinstance(value, str):
                    raise ValueError(f"{name} must be a string")
            else:
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise ValueError(f"{name} must be a number")
                if kind is int and float(value) != int(value):
                    raise ValueError(f"{name} must be a whole number")
                low, high = self.LIMITS[name]
                if not low <= value <= high:
                    raise ValueError(f"{name} must be between {low} and {high}")
                value = kind(value)
            clean[name] = value
        return replace(self, **clean)

    def as_dict(self) -> dict:
        return asdict(self)
