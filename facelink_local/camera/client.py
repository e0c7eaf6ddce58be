"""The hub's API as the camera uses it: log in, keep the tokens fresh, upload frames.

Tokens are JWTs. The client reads their `exp` (and `iat`) claims without
verifying them, only to know when to refresh: the hub is the one that checks
signatures. A token's lifetime is taken as `exp - iat` and counted from the
moment the client received it on its own monotonic clock, so a camera whose
wall clock is wrong (no RTC, no NTP yet) still refreshes on time.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx
import jwt

API = "/api/v1"
REFRESH_AHEAD_MAX_S = 60.0   # refresh at most this long before a token expires...
REFRESH_AHEAD_MIN_S = 1.0    # ...and at least this long: claims have one-second resolution


class CameraError(Exception):
    """Something the camera cannot fix by waiting."""


class LoginRefused(CameraError):
    """The hub refused the username or password."""


class HubUnreachable(CameraError):
    """The hub cannot be reached or cannot take frames right now; worth retrying."""

    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status = status            # None: no answer at all
        self.retry_after = retry_after


class ServerError(HubUnreachable):
    """The hub answered 500 to a frame: it may be unwell for a moment, or this frame may trouble it."""


class FrameRejected(CameraError):
    """The hub refused this one frame (not an image, too large...); retrying will not help."""


@dataclass(frozen=True)
class Token:
    value: str
    received: float              # time.monotonic() when the hub issued it to us
    lifetime: float | None       # seconds; None when the token does not say

    @classmethod
    def parse(cls, value: str) -> "Token":
        return cls(value, time.monotonic(), token_lifetime(value))

    def stale(self, now: float | None = None) -> bool:
        """True from a little before expiry on: time to get a new one."""
        if self.lifetime is None:
            return False
        ahead = min(REFRESH_AHEAD_MAX_S, max(REFRESH_AHEAD_MIN_S, self.lifetime / 10))
        elapsed = (time.monotonic() if now is None else now) - self.received
        return elapsed >= self.lifetime - ahead


def token_lifetime(token: str) -> float | None:
    """Seconds a JWT is valid for, from its claims read WITHOUT verifying the signature."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, (int, float)):
        return None
    if isinstance(iat, (int, float)):
        return float(exp - iat)
    return float(exp - time.time())


@dataclass(frozen=True)
class SeenFace:
    status: str                  # matched | unknown | too_small
    box: tuple[int, ...]
    name: str | None = None
    cid: int | None = None
    distance: float | None = None

    @classmethod
    def from_json(cls, data: dict) -> "SeenFace":
        contact = data.get("contact") or {}
        return cls(status=str(data.get("status", "unknown")), box=tuple(data.get("box") or ()),
                   name=contact.get("name"), cid=contact.get("cid"), distance=data.get("distance"))

    @property
    def display_name(self) -> str:
        return self.name or f"contact {self.cid}"

    @property
    def label(self) -> str:
        """`Alice (0.38)` for a match."""
        return self.display_name if self.distance is None else f"{self.display_name} ({self.distance:.2f})"


@dataclass(frozen=True)
class UploadResult:
    """What the hub saw in one frame."""

    message: str
    faces: tuple[SeenFace, ...] | None   # None: the hub answered without the faces list

    @classmethod
    def from_json(cls, data: dict) -> "UploadResult":
        faces = data.get("faces")
        return cls(message=str(data.get("message", "")),
                   faces=None if faces is None else tuple(SeenFace.from_json(f) for f in faces))

    @property
    def names(self) -> list[str]:
        """Recognized contacts, closest match first."""
        return [f.display_name for f in self.matched]

    @property
    def matched(self) -> list[SeenFace]:
        """Recognized faces, closest match first."""
        return sorted((f for f in self.faces or () if f.status == "matched"), key=lambda f: f.distance or 0)

    def summary(self) -> str:
        """`Alice (0.38), unknown x1`, or `no face`."""
        if self.faces is None:
            return self.message or "uploaded"
        if not self.faces:
            return "no face"
        parts = [f.label for f in self.matched]
        for status, label in (("unknown", "unknown"), ("too_small", "too small")):
            count = sum(1 for f in self.faces if f.status == status)
            if count:
                parts.append(f"{label} x{count}")
        return ", ".join(parts)


@dataclass
class AuthCounts:
    """How often the client had to authenticate; for logs and tests."""

    logins: int = 0
    refreshes: int = 0
    unauthorized: int = 0        # uploads answered 401


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:200] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("msg") or body.get("error") or body)[:200]
    return str(body)[:200]


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


class CameraClient:
    """One camera's session with the hub. Thread-safe; one per camera."""

    def __init__(self, url: str, username: str, password: str, *, timeout: float = 30.0,
                 connect_timeout: float = 5.0, refresh_ahead: bool = True) -> None:
        self.url = url.rstrip("/")
        self.username = username
        self._password = password
        self.refresh_ahead = refresh_ahead
        self.http = httpx.Client(base_url=self.url, timeout=httpx.Timeout(timeout, connect=connect_timeout))
        self.counts = AuthCounts()
        self._access: Token | None = None
        self._refresh: Token | None = None
        self._lock = threading.Lock()

    # -- HTTP ------------------------------------------------------------------------------------

    def _post(self, path: str, **kwargs) -> httpx.Response:
        try:
            response = self.http.post(API + path, **kwargs)
        except httpx.TransportError as exc:
            raise HubUnreachable(f"cannot reach the hub at {self.url}: {exc or type(exc).__name__}") from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise HubUnreachable(f"the hub answered {response.status_code}: {_error_text(response)}",
                                 response.status_code, _retry_after(response))
        return response

    @staticmethod
    def _json(response: httpx.Response) -> dict:
        try:
            body = response.json()
        except ValueError as exc:
            raise CameraError(f"the hub answered {response.status_code} with something that is not JSON") from exc
        if not isinstance(body, dict):
            raise CameraError(f"the hub answered {response.status_code} with unexpected JSON")
        return body

    @staticmethod
    def _field(body: dict, name: str) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise CameraError(f"the hub's answer has no {name}")
        return value

    # -- tokens ----------------------------------------------------------------------------------

    def login(self) -> None:
        response = self._post("/login", json={"username": self.username, "password": self._password})
        if response.status_code == 401:
            raise LoginRefused(f"the hub refused the login of {self.username!r}: {_error_text(response)}")
        if response.status_code != 200:
            raise CameraError(f"login answered {response.status_code} at {self.url}{API}/login: "
                              f"{_error_text(response)} (is this a FaceLink hub?)")
        body = self._json(response)
        self._access = Token.parse(self._field(body, "access_token"))
        self._refresh = Token.parse(self._field(body, "refresh_token"))
        self.counts.logins += 1

    def _refresh_access(self) -> None:
        """A new access token from the refresh token; log in again when that is stale or refused."""
        if self._refresh is None or self._refresh.stale():
            self.login()
            return
        response = self._post("/refresh", headers={"Authorization": f"Bearer {self._refresh.value}"})
        if response.status_code != 200:
            self.login()
            return
        self._access = Token.parse(self._field(self._json(response), "access_token"))
        self.counts.refreshes += 1

    def access_token(self) -> str:
        """A usable access token, refreshed ahead of its expiry."""
        with self._lock:
            if self._access is None:
                self.login()
            elif self.refresh_ahead and self._access.stale():
                self._refresh_access()
            assert self._access is not None
            return self._access.value

    def _renew_after_401(self, refused: str) -> None:
        with self._lock:
            if self._access is not None and self._access.value == refused:  # not renewed by another thread
                self._refresh_access()

    # -- frames ----------------------------------------------------------------------------------

    def _send_frame(self, jpeg: bytes, token: str) -> httpx.Response:
        try:
            response = self._post("/upload_image", content=jpeg, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream"})
        except HubUnreachable as exc:
            if exc.status == 500:
                raise ServerError(str(exc), exc.status, exc.retry_after) from exc
            raise
        if response.status_code == 401:
            self.counts.unauthorized += 1
        return response

    def upload(self, jpeg: bytes) -> UploadResult:
        """Send one JPEG frame; the hub's answer says who it saw."""
        token = self.access_token()
        response = self._send_frame(jpeg, token)
        if response.status_code == 401:  # expired early, or the hub's secret was replaced: renew once
            self._renew_after_401(token)
            response = self._send_frame(jpeg, self.access_token())
            if response.status_code == 401:
                raise CameraError(f"the hub refused a fresh token: {_error_text(response)}")
        if response.status_code != 200:
            raise FrameRejected(f"the hub refused the frame ({response.status_code}): {_error_text(response)}")
        return UploadResult.from_json(self._json(response))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> "CameraClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
