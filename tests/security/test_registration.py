"""Who may register: this machine always; the LAN only for the first account or
while the desktop app's pairing window is open."""

from __future__ import annotations

import asyncio
import time

import pytest

from facelink_local.api import create_app
from facelink_local.services.pairing import PairingChanged, PairingWindow, is_local_address

from .support import LAN, PASSWORD, register


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "::ffff:127.0.0.1", "0:0:0:0:0:0:0:1",
    None,  # no network peer: in-process client or Unix socket
])
def test_local_addresses(address):
    assert is_local_address(address)


@pytest.mark.parametrize("address", [
    "192.168.1.23", "10.0.0.5", "172.16.0.1", "0.0.0.0", "::", "::ffff:192.168.1.23", "fe80::1%eth0",
    "fd00::1", "128.0.0.1", "localhost", "", "not an address",
])
def test_lan_and_unparseable_addresses_are_not_local(address):
    assert not is_local_address(address)


def body(username: str) -> dict[str, str]:
    return {"username": username, "password": PASSWORD}


@pytest.fixture
async def app_client(hub):
    app = create_app(hub)
    async with app.test_app() as test_app:
        yield test_app.test_client()


async def test_lan_may_register_the_first_account_only(app_client, hub):
    first = await app_client.post("/api/v1/register", json=body("owner"), scope_base=LAN)
    assert first.status_code == 200
    second = await app_client.post("/api/v1/register", json=body("stranger"), scope_base=LAN)
    assert second.status_code == 403
    assert set(await second.get_json()) == {"msg"}
    assert "pairing" in (await second.get_json())["msg"]
    assert hub.accounts.usernames() == ["owner"]


@pytest.mark.parametrize("headers", [
    {"X-Forwarded-For": "127.0.0.1"}, {"X-Real-IP": "127.0.0.1"}, {"Remote-Addr": "127.0.0.1"},
    {"Forwarded": "for=127.0.0.1"}, {"Host": "127.0.0.1"},
])
async def test_forged_headers_do_not_make_a_lan_client_local(app_client, hub, headers):
    hub.accounts.register("owner", PASSWORD)
    response = await app_client.post("/api/v1/register", json=body("stranger"), scope_base=LAN, headers=headers)
    assert response.status_code == 403
    assert hub.accounts.usernames() == ["owner"]


@pytest.mark.parametrize("client", [("127.0.0.1", 40000), ("127.0.0.2", 40000), ("::1", 40000, 0, 0)])
async def test_this_machine_may_always_register(app_client, hub, client):
    hub.accounts.register("owner", PASSWORD)
    response = await app_client.post("/api/v1/register", json=body("second"), scope_base={"client": client})
    assert response.status_code == 200
    assert hub.accounts.usernames() == ["owner", "second"]


def test_real_tcp_client_on_loopback_is_local(hub, live_server):
    """Over a real socket the server reports 127.0.0.1, so this machine may register more accounts."""
    register(live_server, "owner")
    register(live_server, "second")
    assert hub.accounts.usernames() == ["owner", "second"]


async def test_pairing_window_opens_registration_for_a_while(app_client, hub):
    hub.accounts.register("owner", PASSWORD)
    events: list[PairingChanged] = []
    hub.events.subscribe(PairingChanged.TOPIC, events.append)
    hub.pairing.open(minutes=0.02)  # 1.2 s
    assert hub.pairing.is_open() and 0 < hub.pairing.remaining() <= 1.2
    assert events[-1].open and events[-1].closes_at is not None
    phone = await app_client.post("/api/v1/register", json=body("phone"), scope_base=LAN)
    assert phone.status_code == 200
    await asyncio.sleep(1.3)
    assert not hub.pairing.is_open() and hub.pairing.remaining() == 0
    late = await app_client.post("/api/v1/register", json=body("late"), scope_base=LAN)
    assert late.status_code == 403
    assert hub.accounts.usernames() == ["owner", "phone"]


async def test_closing_the_pairing_window_early(app_client, hub):
    hub.accounts.register("owner", PASSWORD)
    hub.pairing.open()
    hub.pairing.close()
    response = await app_client.post("/api/v1/register", json=body("phone"), scope_base=LAN)
    assert response.status_code == 403


@pytest.mark.parametrize("minutes", [0, -1, 60.01, 10_000])
def test_pairing_window_length_is_bounded(minutes):
    with pytest.raises(ValueError):
        PairingWindow().open(minutes)


def test_pairing_window_default_is_a_few_minutes():
    window = PairingWindow()
    window.open()
    assert 4 * 60 < window.remaining() <= 5 * 60


async def test_concurrent_lan_registrations_on_a_fresh_hub_make_exactly_one_account(app_client, hub):
    """The 'no account yet' check runs in the same transaction as the insert."""
    responses = await asyncio.gather(*[
        app_client.post("/api/v1/register", json=body(f"phone{i}"), scope_base=LAN) for i in range(6)
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200, 403, 403, 403, 403, 403]
    assert hub.accounts.user_count() == 1


async def test_refused_registration_costs_no_password_hash(app_client, hub):
    """A closed hub answers 403 at once instead of spending bcrypt time on strangers."""
    hub.accounts.register("owner", PASSWORD)  # in-process: local
    hub.accounts.bcrypt_rounds = 14  # about a second per hash on this machine
    started = time.perf_counter()
    response = await app_client.post("/api/v1/register", json=body("stranger"), scope_base=LAN)
    assert response.status_code == 403
    assert time.perf_counter() - started < 0.5


async def test_lan_login_is_still_allowed(app_client, hub):
    """Only registration is gated: an existing account logs in from anywhere."""
    hub.accounts.register("owner", PASSWORD)
    response = await app_client.post("/api/v1/login", json=body("owner"), scope_base=LAN)
    assert response.status_code == 200
