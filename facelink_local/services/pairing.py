"""Who may create an account, and the desktop app's pairing window.

The hub holds biometric data, so not everyone on the home network may open
an account on it. Registration is always open from the hub's own machine (a
loopback client address). From the LAN it is open only while no account exists
yet (first set-up from a phone) or while the owner has opened the pairing window
in the desktop app for a few minutes.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

DEFAULT_MINUTES = 5.0
MAX_MINUTES = 60.0


def is_local_address(address: str | None) -> bool:
    """True for a client on this machine: 127.0.0.0/8, ::1 or IPv4-mapped ::ffff:127.x.

    None means the request has no network peer at all (an in-process test
    client, or a Unix socket, which only this machine can reach): local too.
    Hypercorn always gives TCP clients their address. Anything else is the LAN.
    """
    if address is None:
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


@dataclass(frozen=True)
class PairingChanged:
    """The pairing window opened or closed (the desktop app shows a countdown)."""

    TOPIC = "pairing"
    open: bool
    closes_at: datetime | None
    at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))


class PairingWindow:
    """A few minutes during which devices on the LAN may register.

    `open(minutes)` starts (or restarts) it, `close()` ends it early,
    `is_open()` and `remaining()` tell its state. Not persisted: a restart closes it.
    """

    def __init__(self, publish: Callable[[PairingChanged], None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._publish = publish
        self._clock = clock
        self._lock = threading.Lock()
        self._until = 0.0

    def open(self, minutes: float = DEFAULT_MINUTES) -> datetime:
        """Open for `minutes` (at most MAX_MINUTES); returns when it closes (UTC)."""
        if not 0 < minutes <= MAX_MINUTES:
            raise ValueError(f"the pairing window stays open between 0 and {MAX_MINUTES:g} minutes")
        with self._lock:
            self._until = self._clock() + minutes * 60
        closes_at = datetime.now(timezone.utc) + timedelta(minutes=minutes)
        self._notify(PairingChanged(True, closes_at))
        return closes_at

    def close(self) -> None:
        with self._lock:
            self._until = 0.0
        self._notify(PairingChanged(False, None))

    def remaining(self) -> float:
        """Seconds until it closes; 0 when closed."""
        with self._lock:
            return max(0.0, self._until - self._clock())

    def is_open(self) -> bool:
        return self.remaining() > 0

    def _notify(self, event: PairingChanged) -> None:
        if self._publish is not None:
            self._publish(event)

