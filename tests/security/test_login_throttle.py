"""Failed logins: growing per-user delays (capped, reset by success), a per-address
window, and the password policy on registration."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from facelink_local.services.errors import TooManyRequests, Unauthorized
from facelink_local.services.throttle import LoginThrottle

from .support import http, LAN, PASSWORD, register


class Clock:
    """Time the test moves by hand (the throttle takes a clock like time.monotonic)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, username: str, address: str | None = None) -> None:
    with pytest.raises(Unauthorized):
        with throttle.attempt(username, address):
            raise Unauthorized("Bad username or password")


def succeed(throttle: LoginThrottle, username: str, address: str | None = None) -> None:
    with throttle.attempt(username, address):
        pass


def test_delays_double_after_the_free_failures_and_stop_at_the_cap():
    throttle = LoginThrottle(free_failures=3, backoff_base_s=1, backoff_max_s=8)
    assert [throttle.delay_after(n) for n in range(1, 9)] == [0, 0, 1, 2, 4, 8, 8, 8]
    assert throttle.delay_after(10_000) == 8  # no overflow, still the cap


def test_per_user_backoff_blocks_until_the_delay_passes_then_resets_on_success():
    clock = Clock()
    throttle = LoginThrottle(free_failures=3, backoff_base_s=1, backoff_max_s=8, clock=clock)
    for _ in range(3):
        fail(throttle, "alice")
    with pytest.raises(TooManyRequests) as blocked:  # even before the password is looked at
        succeed(throttle, "alice")
    assert blocked.value.retry_after == pytest.approx(1)
    clock.now += 1
    fail(throttle, "alice")  # 4th failure: 2 s
    with pytest.raises(TooManyRequests) as blocked:
        succeed(throttle, "alice")
    assert blocked.value.retry_after == pytest.approx(2)
    clock.now += 1.5
    with pytest.raises(TooManyRequests) as blocked:
        fail(throttle, "alice")
    assert blocked.value.retry_after == pytest.approx(0.5)
    assert throttle.failures_of("alice") == 4  # refused attempts do not count
    clock.now += 0.5
    succeed(throttle, "alice")
    assert throttle.failures_of("alice") == 0
    fail(throttle, "alice")  # free again after the reset
    succeed(throttle, "alice")


def test_the_owner_is_never_locked_out_for_good():
    clock = Clock()
    throttle = LoginThrottle(free_failures=2, backoff_base_s=1, backoff_max_s=60, clock=clock)
    for _ in range(200):  # a long guessing campaign
        try:
            fail(throttle, "alice")
        except TooManyRequests as exc:
            assert exc.retry_after <= 60
            clock.now += exc.retry_after
    with pytest.raises(TooManyRequests) as blocked:
        succeed(throttle, "alice")
    assert blocked.value.retry_after <= 60
    clock.now += 60
    succeed(throttle, "alice")  # at most the cap later, the right password works


def test_users_are_throttled_independently_and_case_insensitively():
    clock = Clock()
    throttle = LoginThrottle(free_failures=1, backoff_base_s=10, backoff_max_s=10, clock=clock)
    fail(throttle, "Alice")
    with pytest.raises(TooManyRequests):
        succeed(throttle, " alice ")
    succeed(throttle, "bob")


def test_failure_count_is_forgotten_after_a_quiet_time():
    clock = Clock()
    throttle = LoginThrottle(free_failures=2, backoff_base_s=1, backoff_max_s=4, failure_memory_s=3600,
                             clock=clock)
    for _ in range(2):
        fail(throttle, "alice")
    assert throttle.failures_of("alice") == 2
    clock.now += 3601
    fail(throttle, "alice")
    assert throttle.failures_of("alice") == 1


def test_parallel_guesses_cannot_slip_past_the_user_limit():
    """Attempts are counted before the (slow) password check, so a burst gets
    exactly the free failures through, not one per worker thread."""
    throttle = LoginThrottle(free_failures=3, backoff_base_s=30, backoff_max_s=30)
    start = threading.Barrier(20)
    checked, refused = [], []

    def guess() -> None:
        start.wait()
        try:
            with throttle.attempt("alice", None):
                checked.append(1)
                time.sleep(0.2)  # bcrypt
                raise Unauthorized("Bad username or password")
        except Unauthorized:
            pass
        except TooManyRequests:
            refused.append(1)

    threads = [threading.Thread(target=guess) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) == 3 and len(refused) == 17


def test_per_address_window_counts_failures_across_usernames():
    throttle = LoginThrottle(free_failures=100, address_failures=3, address_window_s=2)
    for name in ("a", "b", "c"):
        fail(throttle, name, "192.168.1.50")
    with pytest.raises(TooManyRequests) as blocked:
        succeed(throttle, "d", "192.168.1.50")
    assert 0 < blocked.value.retry_after <= 2
    succeed(throttle, "d", "192.168.1.51")  # another device is not affected
    time.sleep(blocked.value.retry_after + 0.1)
    succeed(throttle, "d", "192.168.1.50")


def test_successful_logins_do_not_use_up_the_address_window():
    throttle = LoginThrottle(address_failures=2, address_window_s=60)
    for _ in range(10):
        succeed(throttle, "alice", "192.168.1.50")
    fail(throttle, "x", "192.168.1.50")
    fail(throttle, "y", "192.168.1.50")
    with pytest.raises(TooManyRequests):
        succeed(throttle, "alice", "192.168.1.50")


def test_parallel_guesses_cannot_slip_past_the_address_limit():
    throttle = LoginThrottle(free_failures=1000, address_failures=4, address_window_s=60)
    start = threading.Barrier(16)
    checked = []

    def guess(i: int) -> None:
        start.wait()
        try:
            with throttle.attempt(f"user{i}", "192.168.1.50"):
                checked.append(i)
                time.sleep(0.2)
                raise Unauthorized("Bad username or password")
        except (Unauthorized, TooManyRequests):
            pass

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(checked) == 4


# --- through the real server on 127.0.0.1 ---------------------------------


def login(base: str, username: str, password: str) -> httpx.Response:
    return http.post(f"{base}/api/v1/login", json={"username": username, "password": password})


def test_backoff_over_http_answers_429_with_retry_after_and_lets_the_owner_back_in(make_hub, serve):
    hub = make_hub(login_free_failures=2, login_backoff_base_s=1, login_backoff_max_s=2)
    base = serve(hub).base
    register(base, "alice")
    assert login(base, "alice", "wrong password 1").status_code == 401
    assert login(base, "alice", "wrong password 2").status_code == 401
    refused = login(base, "alice", PASSWORD)  # right password, but too soon
    assert refused.status_code == 429
    assert set(refused.json()) == {"msg"} and "try again" in refused.json()["msg"]
    assert refused.headers["Retry-After"] == "1"
    time.sleep(1.05)
    assert login(base, "alice", "wrong password 3").status_code == 401
    refused = login(base, "alice", PASSWORD)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "2"
    time.sleep(2.05)
    assert login(base, "alice", PASSWORD).status_code == 200
    assert login(base, "alice", "wrong password 4").status_code == 401  # count was reset
    assert login(base, "alice", PASSWORD).status_code == 200


def test_unknown_and_known_usernames_are_throttled_alike(make_hub, serve):
    """The throttle must not reveal which accounts exist."""
    hub = make_hub(login_free_failures=2, login_backoff_base_s=30, login_backoff_max_s=30)
    base = serve(hub).base
    register(base, "alice")
    statuses = {name: [login(base, name, "not the password").status_code for _ in range(4)]
                for name in ("alice", "nobody-by-this-name")}
    assert statuses["alice"] == statuses["nobody-by-this-name"] == [401, 401, 429, 429]


async def test_per_address_limit_over_http_uses_the_client_address(make_hub):
    from facelink_local.api import create_app

    hub = make_hub(login_free_failures=100, login_address_failures=3, login_address_window_s=60)
    app = create_app(hub)
    async with app.test_app() as test_app:
        client = test_app.test_client()
        for i in range(3):
            response = await client.post("/api/v1/login", json={"username": f"u{i}", "password": "x" * 8},
                                         scope_base=LAN)
            assert response.status_code == 401
        # A forged header changes nothing: the limit follows the TCP peer.
        response = await client.post("/api/v1/login", json={"username": "u9", "password": "x" * 8},
                                     scope_base=LAN, headers={"X-Forwarded-For": "10.9.9.9"})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert set(await response.get_json()) == {"msg"}
        other = await client.post("/api/v1/login", json={"username": "u9", "password": "x" * 8},
                                  scope_base={"client": ("192.168.1.24", 40000)})
        assert other.status_code == 401
        assert (await client.get("/health")).status_code == 200


@pytest.mark.parametrize("password, accepted", [
    ("short", False),
    ("seven77", False),
    ("aaaaaaaa", False),            # 8 characters but only one distinct
    ("abababab", False),            # two distinct
    ("x" * 1025, False),            # over the maximum
    ("abcdefgh", True),             # exactly 8, 8 distinct
    ("correct horse battery", True),
    ("ünïcödé pässwörd", True),
    ("p" * 1000 + "q" + "r", True),  # long passwords (pre-hashed for bcrypt) are fine
])
def test_password_policy(make_hub, serve, password, accepted):
    hub = make_hub()
    base = serve(hub).base
    response = http.post(f"{base}/api/v1/register", json={"username": "alice", "password": password})
    if accepted:
        assert response.status_code == 200, response.text
        assert login(base, "alice", password).status_code == 200
    else:
        assert response.status_code == 400
        assert set(response.json()) == {"error"}
        assert hub.accounts.user_count() == 0


def test_long_passwords_differ_beyond_72_bytes(make_hub, serve):
    """bcrypt reads 72 bytes; the pre-hash keeps every character significant."""
    base = serve(make_hub()).base
    register(base, "alice", "a" * 80 + "XYZ-one")
    assert login(base, "alice", "a" * 80 + "XYZ-two").status_code == 401
    assert login(base, "alice", "a" * 80 + "XYZ-one").status_code == 200
