"""Slowing down password guessing: failed logins per user and per client address.

Per user (keyed by the normalized username, whether it exists or not, so the
throttle tells nothing about which accounts exist): the first
`free_failures` wrong passwords in a row cost nothing; from then on each
failure doubles the wait before the next attempt is even checked, from
`backoff_base_s` up to `backoff_max_s`. The cap means the owner is never locked
out for good, and a correct password resets the count.

Per client address: at most `address_failures` failed logins in a moving window
of `address_window_s` seconds (the `limits` library keeps the window).

An attempt is reserved before the password is checked, so a burst of parallel
requests cannot slip past either limit while bcrypt is busy.
"""

from __future__ import annotations

import math
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from .errors import TooManyRequests, Unauthorized

MAX_TRACKED_USERS = 10_000  # bounds memory when someone sprays made-up usernames


def user_key(username: str) -> str:
    """Usernames compare case-insensitively (the column is COLLATE NOCASE)."""
    return unicodedata.normalize("NFC", username.strip()).casefold()


def whole_seconds(seconds: float) -> int:
    return max(1, math.ceil(seconds))


@dataclass
class _UserState:
    failures: int = 0
    next_allowed: float = 0.0
    last_failure: float = 0.0


class LoginThrottle:
    def __init__(self, free_failures: int = 5, backoff_base_s: float = 1.0, backoff_max_s: float = 900.0,
                 failure_memory_s: float = 86400.0, address_failures: int = 30, address_window_s: int = 900,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if free_failures < 0 or backoff_base_s < 0 or backoff_max_s < backoff_base_s:
            raise ValueError("invalid login backoff settings")
        if address_failures < 1 or address_window_s < 1:
            raise ValueError("invalid per-address login limit")
        self.free_failures = free_failures
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.failure_memory_s = failure_memory_s
        self._clock = clock
        self._lock = threading.Lock()
        self._users: dict[str, _UserState] = {}
        self._address_limit = RateLimitItemPerSecond(address_failures, address_window_s)
        self._address_window = MovingWindowRateLimiter(MemoryStorage())
        self._address_pending: dict[str, int] = {}

    @classmethod
    def from_settings(cls, settings) -> "LoginThrottle":
        return cls(settings.login_free_failures, settings.login_backoff_base_s, settings.login_backoff_max_s,
                   settings.login_failure_memory_s, settings.login_address_failures,
                   settings.login_address_window_s)

    def delay_after(self, failures: int) -> float:
        """Seconds to wait after `failures` wrong passwords in a row."""
        if failures < self.free_failures or self.backoff_base_s == 0:
            return 0.0
        exponent = min(failures - self.free_failures, 64)
        return min(self.backoff_max_s, self.backoff_base_s * 2.0 ** exponent)

    def failures_of(self, username: str) -> int:
        with self._lock:
            state = self._users.get(user_key(username))
            return state.failures if state else 0

    # --- the two limits -------------------------------------------------

    def _reserve_address(self, address: str) -> None:
        stats = self._address_window.get_window_stats(self._address_limit, address)
        if stats.remaining - self._address_pending.get(address, 0) <= 0:
            wait = stats.reset_time - time.time()
            raise TooManyRequests(
                f"Too many failed logins from this address: try again in {whole_seconds(wait)} s", wait)
        self._address_pending[address] = self._address_pending.get(address, 0) + 1

    def _unreserve_address(self, address: str) -> None:
        left = self._address_pending.get(address, 0) - 1
        if left > 0:
            self._address_pending[address] = left
        else:
            self._address_pending.pop(address, None)

    def _reserve_user(self, key: str, now: float) -> _UserState:
        state = self._users.get(key)
        if state is not None and now - state.last_failure > self.failure_memory_s and now >= state.next_allowed:
            state = None  # a long quiet time: start afresh
        if state is None:
            self._prune(now)
            state = self._users[key] = _UserState()
        if now < state.next_allowed:
            wait = state.next_allowed - now
            raise TooManyRequests(
                f"Too many failed logins for this account: try again in {whole_seconds(wait)} s", wait)
        # Counted as a failure until the password proves right: parallel guesses see it at once.
        state.failures += 1
        state.last_failure = now
        state.next_allowed = now + self.delay_after(state.failures)
        return state

    def _prune(self, now: float) -> None:
        if len(self._users) < MAX_TRACKED_USERS:
            return
        for key in [k for k, s in self._users.items()
                    if now >= s.next_allowed and now - s.last_failure > self.backoff_max_s]:
            del self._users[key]
        while len(self._users) >= MAX_TRACKED_USERS:  # still full: forget the stalest
            del self._users[min(self._users, key=lambda k: self._users[k].last_failure)]

    @contextmanager
    def attempt(self, username: str, address: str | None = None) -> Iterator[None]:
        """Wrap one password check. Raises TooManyRequests (with `retry_after`)
        before the check when a limit is reached; an `Unauthorized` from the
        check counts as a failure, success resets the user's count."""
        key = user_key(username)
        with self._lock:
            if address is not None:
                self._reserve_address(address)
            try:
                self._reserve_user(key, self._clock())
            except TooManyRequests:
                if address is not None:
                    self._unreserve_address(address)
                raise
        failed = True
        try:
            yield
        except Unauthorized:
            raise
        except BaseException:
            failed = False  # not a wrong password (e.g. a database error): forget the attempt
            with self._lock:
                state = self._users.get(key)
                if state is not None:
                    state.failures = max(0, state.failures - 1)
                    state.next_allowed = state.last_failure + self.delay_after(state.failures)
            raise
        else:
            failed = False
            with self._lock:
                self._users.pop(key, None)
        finally:
            if address is not None:
                with self._lock:
                    self._unreserve_address(address)
                    if failed:
                        self._address_window.hit(self._address_limit, address)
