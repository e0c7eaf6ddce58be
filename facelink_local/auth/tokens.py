"""JWT access and refresh tokens.

HS256 only, pinned on decode (a token saying `alg: none` or RS256 is refused).
The signing secret is random, made on first start and kept in the data folder
with owner-only permissions. `rotate()` replaces it; a running server notices
the new file on its next request, so every earlier token stops working.
"""

from __future__ import annotations

import os
import secrets
import threading
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import jwt

ALGORITHM = "HS256"
SECRET_BYTES = 48


class TokenError(Exception):
    """A token is missing, malformed, forged, expired or of the wrong type."""


def write_secret(path: Path) -> bytes:
    """Atomically write a fresh random secret, readable by the owner only."""
    secret = secrets.token_bytes(SECRET_BYTES)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(secret)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    return secret


class TokenIssuer:
    def __init__(self, secret_path: Path, access_ttl: timedelta, refresh_ttl: timedelta) -> None:
        self.secret_path = Path(secret_path)
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl
        self._lock = threading.Lock()
        self._secret: bytes | None = None
        self._stamp: tuple[int, int] | None = None
        if not self.secret_path.exists():
            write_secret(self.secret_path)

    def _current_secret(self) -> bytes:
        """The secret on disk, re-read only when the file changed."""
        stat = self.secret_path.stat()
        stamp = (stat.st_mtime_ns, stat.st_ino)
        with self._lock:
            if stamp != self._stamp or self._secret is None:
                self._secret = self.secret_path.read_bytes()
                self._stamp = stamp
            return self._secret

    def rotate(self) -> None:
        write_secret(self.secret_path)

    def issue(self, user_id: int, kind: str) -> str:
        now = datetime.now(timezone.utc)
        ttl = self.access_ttl if kind == "access" else self.refresh_ttl
        claims = {
            "sub": str(user_id),
            "type": kind,
            "iat": now,
            "exp": now + ttl,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._current_secret(), algorithm=ALGORITHM)

    def verify(self, token: str, kind: str) -> int:
        """The user id a valid token of `kind` names, else TokenError."""
        try:
            claims = jwt.decode(
                token,
                self._current_secret(),
                algorithms=[ALGORITHM],
                options={"require": ["sub", "type", "exp", "iat"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("Token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenError("Invalid token") from exc
        if claims.get("type") != kind:
            raise TokenError(f"Only {kind} tokens are allowed")
        try:
            return int(claims["sub"])
        except (TypeError, ValueError) as exc:
            raise TokenError("Invalid token") from exc
