"""Register, login, refresh and token misuse, one endpoint at a time."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import jwt
import pytest

from conftest import PASSWORD


async def register(client, username="ann", password=PASSWORD):
    return await client.post("/api/v1/register", json={"username": username, "password": password})


async def test_register_returns_both_tokens(client):
    response = await register(client)
    assert response.status_code == 200
    body = await response.get_json()
    assert set(body) == {"access_token", "refresh_token"}


async def test_taken_username_answers_401_as_documented(client):
    await register(client)
    response = await register(client, "ANN")  # usernames are case-insensitive
    assert response.status_code == 401
    assert await response.get_json() == {"msg": "Username already taken"}


@pytest.mark.parametrize("key", ["password", "password:"])
async def test_login_accepts_both_password_keys(client, key):
    await register(client)
    response = await client.post("/api/v1/login", json={"username": "ann", key: PASSWORD})
    assert response.status_code == 200
    assert set(await response.get_json()) == {"access_token", "refresh_token"}


@pytest.mark.parametrize("username,password", [("ann", "wrong password"), ("nobody", PASSWORD)])
async def test_bad_credentials_answer_401(client, username, password):
    await register(client)
    response = await client.post("/api/v1/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert await response.get_json() == {"msg": "Bad username or password"}


@pytest.mark.parametrize("path", ["/api/v1/login", "/api/v1/register"])
@pytest.mark.parametrize("body", [
    b"{not json", b"", b"[1, 2]", b'"text"', b'{"username": 5, "password": "x"}',
    b'{"username": "ann"}', b'{"password": "correct horse battery"}', b'{"username": null, "password": null}',
])
async def test_malformed_bodies_answer_400_json(client, path, body):
    response = await client.post(path, data=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert "error" in await response.get_json()


@pytest.mark.parametrize("password", ["short", "aaaaaaaaaaaa"])
async def test_weak_password_is_refused(client, password):
    response = await register(client, "bob", password)
    assert response.status_code == 400
    assert "password" in (await response.get_json())["error"]


async def test_refresh_gives_a_working_access_token(client):
    tokens = await (await register(client)).get_json()
    response = await client.post("/api/v1/refresh", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    assert response.status_code == 200
    access = (await response.get_json())["access_token"]
    contacts = await client.get("/api/v1/pull_contacts", headers={"Authorization": f"Bearer {access}"})
    assert contacts.status_code == 200


async def test_token_types_are_not_interchangeable(client):
    tokens = await (await register(client)).get_json()
    as_api = await client.get("/api/v1/pull_contacts", headers={"Authorization": f"Bearer {tokens['refresh_token']}"})
    as_refresh = await client.post("/api/v1/refresh", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert as_api.status_code == 401 and "msg" in await as_api.get_json()
    assert as_refresh.status_code == 401 and "msg" in await as_refresh.get_json()


def forged(hub, **overrides) -> str:
    now = datetime.now(timezone.utc)
    claims = {"sub": "1", "type": "access", "iat": now, "exp": now + timedelta(minutes=5), **overrides}
    return jwt.encode(claims, hub.settings.secret_path.read_bytes(), algorithm="HS256")


@pytest.mark.parametrize("make_token", [
    lambda hub: "not-a-jwt",
    lambda hub: jwt.encode({"sub": "1", "type": "access"}, b"another secret that is long enough!!", algorithm="HS256"),
    lambda hub: forged(hub, exp=datetime.now(timezone.utc) - timedelta(seconds=1)),
    lambda hub: forged(hub, sub="999"),  # a user that does not exist
    lambda hub: jwt.encode({"sub": "1", "type": "access", "iat": 0, "exp": 2**40}, None, algorithm="none"),
])
async def test_bad_tokens_answer_401(client, hub, make_token):
    await register(client)
    response = await client.get("/api/v1/pull_contacts", headers={"Authorization": f"Bearer {make_token(hub)}"})
    assert response.status_code == 401
    assert "msg" in await response.get_json()


@pytest.mark.parametrize(("header", "msg"), [
    (None, "Missing Authorization Header"), ("", "Missing Authorization Header"),
    ("Bearer", "The Authorization header must be 'Bearer <access token>'"),
    ("Basic abc", "The Authorization header must be 'Bearer <access token>'"),
    ("Bearer ", "The Authorization header must be 'Bearer <access token>'"),
])
async def test_missing_token_answers_401(client, header, msg):
    headers = {"Authorization": header} if header is not None else {}
    response = await client.get("/api/v1/pull_timeline", headers=headers)
    assert response.status_code == 401
    assert await response.get_json() == {"msg": msg}
