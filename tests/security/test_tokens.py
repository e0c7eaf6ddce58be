"""Tokens are HS256 only, of the right type, unexpired, for a living user, and
signed with the current secret; anything else is 401 {"msg"} on every endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import datetime, timedelta, timezone

import httpx
import jwt
import pytest

from .support import http, PASSWORD, bearer, facelink_cli, register

PROTECTED = [
    ("GET", "/api/v1/pull_contacts", None),
    ("GET", "/api/v1/pull_timeline", None),
    ("POST", "/api/v1/create_contact", {"cluster_id": "c_x", "contact_name": "X"}),
    ("PATCH", "/api/v1/edit_contact", {"cid": 1, "name": "X"}),
    ("DELETE", "/api/v1/delete_contact/1", None),
    ("POST", "/api/v1/upload_image", b"\xff\xd8\xff"),
]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def handmade(header: dict, claims: dict, sign) -> str:
    """A JWT assembled by hand (PyJWT refuses to make some of these)."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def claims_for(user_id: int, kind: str = "access", **changes) -> dict:
    now = int(time.time())
    claims = {"sub": str(user_id), "type": kind, "iat": now, "exp": now + 600, "jti": "t" * 32}
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def call(base: str, method: str, path: str, payload, token: str) -> httpx.Response:
    headers = bearer(token)
    if isinstance(payload, bytes):
        return http.request(method, base + path, content=payload,
                             headers={**headers, "Content-Type": "application/octet-stream"})
    return http.request(method, base + path, json=payload, headers=headers)


def forged_tokens(secret: bytes, user_id: int, valid: str) -> dict[str, str]:
    hs256 = lambda data: hmac.new(secret, data, hashlib.sha256).digest()  # noqa: E731
    header, payload, signature = valid.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    return {
        "alg none": handmade({"alg": "none", "typ": "JWT"}, claims_for(user_id), lambda _: b""),
        "alg None, HS256 signature": handmade({"alg": "None", "typ": "JWT"}, claims_for(user_id), hs256),
        "HS512 with the real secret": handmade({"alg": "HS512", "typ": "JWT"}, claims_for(user_id),
                                                lambda data: hmac.new(secret, data, hashlib.sha512).digest()),
        "HS384 with the real secret": jwt.encode(claims_for(user_id), secret, algorithm="HS384"),
        "RS256 header, HMAC with the secret as key": handmade({"alg": "RS256", "typ": "JWT"},
                                                               claims_for(user_id), hs256),
        "RS256 header, arbitrary signature": handmade({"alg": "RS256", "typ": "JWT"}, claims_for(user_id),
                                                      lambda _: bytes(256)),
        "ES256 header, HMAC with the secret": handmade({"alg": "ES256"}, claims_for(user_id), hs256),
        "wrong signature": f"{header}.{payload}.{flipped}",
        "no signature": f"{header}.{payload}.",
        "another secret": jwt.encode(claims_for(user_id), b"x" * 48, algorithm="HS256"),
        "refresh token as access": jwt.encode(claims_for(user_id, "refresh"), secret, algorithm="HS256"),
        "unknown type": jwt.encode(claims_for(user_id, "admin"), secret, algorithm="HS256"),
        "no type": jwt.encode(claims_for(user_id, type=None), secret, algorithm="HS256"),
        "expired": jwt.encode(claims_for(user_id, exp=int(time.time()) - 5, iat=int(time.time()) - 900),
                              secret, algorithm="HS256"),
        "no expiry": jwt.encode(claims_for(user_id, exp=None), secret, algorithm="HS256"),
        "not a number subject": jwt.encode(claims_for(user_id, sub="alice"), secret, algorithm="HS256"),
        "no subject": jwt.encode(claims_for(user_id, sub=None), secret, algorithm="HS256"),
        "user that never existed": jwt.encode(claims_for(user_id + 1000), secret, algorithm="HS256"),
        "kid header pointing elsewhere": jwt.encode(claims_for(user_id), b"y" * 48, algorithm="HS256",
                                                    headers={"kid": "../../dev/null"}),
        "garbage": "not.a.token",
        "empty segments": "..",
    }


def test_every_forged_or_unfit_token_is_refused_on_every_endpoint(hub, live_server):
    tokens = register(live_server, "alice")
    user_id = hub.accounts.authenticate(tokens["access_token"])
    secret = hub.settings.secret_path.read_bytes()
    # The real token works everywhere (so a 401 below means the token, nothing else).
    for method, path, payload in PROTECTED:
        assert call(live_server, method, path, payload, tokens["access_token"]).status_code != 401, path
    for name, token in forged_tokens(secret, user_id, tokens["access_token"]).items():
        for method, path, payload in PROTECTED:
            response = call(live_server, method, path, payload, token)
            assert response.status_code == 401, (name, path, response.text)
            assert set(response.json()) == {"msg"}, (name, path)


def test_a_correctly_signed_hs256_token_made_by_hand_is_accepted(hub, live_server):
    """Control: the hand-made tokens above fail for their flaw, not for being hand-made."""
    tokens = register(live_server, "alice")
    user_id = hub.accounts.authenticate(tokens["access_token"])
    secret = hub.settings.secret_path.read_bytes()
    token = handmade({"alg": "HS256", "typ": "JWT"}, claims_for(user_id),
                     lambda data: hmac.new(secret, data, hashlib.sha256).digest())
    assert http.get(f"{live_server}/api/v1/pull_contacts", headers=bearer(token)).status_code == 200


def test_refresh_needs_a_refresh_token(hub, live_server):
    tokens = register(live_server, "alice")
    url = f"{live_server}/api/v1/refresh"
    assert http.post(url, headers=bearer(tokens["access_token"])).status_code == 401
    refreshed = http.post(url, headers=bearer(tokens["refresh_token"]))
    assert refreshed.status_code == 200
    new_access = refreshed.json()["access_token"]
    assert http.get(f"{live_server}/api/v1/pull_contacts", headers=bearer(new_access)).status_code == 200
    secret = hub.settings.secret_path.read_bytes()
    user_id = hub.accounts.authenticate(new_access)
    expired = jwt.encode(claims_for(user_id, "refresh", exp=int(time.time()) - 1), secret, algorithm="HS256")
    response = http.post(url, headers=bearer(expired))
    assert response.status_code == 401 and response.json() == {"msg": "Token has expired"}
    for header in ({}, {"Authorization": "Basic YWxpY2U6cHc="}, {"Authorization": "Bearer"},
                   {"Authorization": tokens["refresh_token"]}):
        assert http.post(url, headers=header).status_code == 401


def test_an_access_token_expires_after_its_lifetime(make_hub, serve):
    hub = make_hub(access_token_ttl=timedelta(seconds=2))
    base = serve(hub).base
    tokens = register(base, "alice")
    assert http.get(f"{base}/api/v1/pull_contacts", headers=bearer(tokens["access_token"])).status_code == 200
    time.sleep(3.1)  # exp has one-second resolution
    response = http.get(f"{base}/api/v1/pull_contacts", headers=bearer(tokens["access_token"]))
    assert response.status_code == 401 and response.json() == {"msg": "Token has expired"}
    # The refresh token still gives a fresh access token.
    fresh = http.post(f"{base}/api/v1/refresh", headers=bearer(tokens["refresh_token"])).json()["access_token"]
    assert http.get(f"{base}/api/v1/pull_contacts", headers=bearer(fresh)).status_code == 200


def test_tokens_of_a_deleted_user_are_refused(hub, live_server):
    tokens = register(live_server, "alice")
    register(live_server, "bob")
    user_id = hub.accounts.authenticate(tokens["access_token"])
    hub.privacy.delete_user(user_id)
    for method, path, payload in PROTECTED:
        response = call(live_server, method, path, payload, tokens["access_token"])
        assert response.status_code == 401 and response.json() == {"msg": "User no longer exists"}
    response = http.post(f"{live_server}/api/v1/refresh", headers=bearer(tokens["refresh_token"]))
    assert response.status_code == 401
    # A new account never inherits the old id (AUTOINCREMENT), so old tokens stay dead.
    new = register(live_server, "alice")
    assert hub.accounts.authenticate(new["access_token"]) != user_id
    assert http.get(f"{live_server}/api/v1/pull_contacts",
                     headers=bearer(tokens["access_token"])).status_code == 401


def test_rotate_secret_logs_out_every_device_of_a_running_server(hub, live_server):
    """`facelink rotate-secret` in another process; the running server notices at once."""
    alice = register(live_server, "alice")
    bob = register(live_server, "bob")
    before = hub.settings.secret_path.read_bytes()
    result = facelink_cli("rotate-secret", "--data-dir", str(hub.settings.data_dir))
    assert result.returncode == 0, result.stderr
    assert hub.settings.secret_path.read_bytes() != before
    assert hub.settings.secret_path.stat().st_mode & 0o777 == 0o600
    for tokens in (alice, bob):
        assert http.get(f"{live_server}/api/v1/pull_contacts",
                         headers=bearer(tokens["access_token"])).status_code == 401
        assert http.post(f"{live_server}/api/v1/refresh",
                          headers=bearer(tokens["refresh_token"])).status_code == 401
    # Logging in again gives tokens under the new secret.
    again = http.post(f"{live_server}/api/v1/login", json={"username": "alice", "password": PASSWORD})
    assert again.status_code == 200
    assert http.get(f"{live_server}/api/v1/pull_contacts",
                     headers=bearer(again.json()["access_token"])).status_code == 200


def test_issued_tokens_say_hs256_and_carry_the_expected_claims(hub, live_server):
    tokens = register(live_server, "alice")
    for kind in ("access", "refresh"):
        token = tokens[f"{kind}_token"]
        assert jwt.get_unverified_header(token)["alg"] == "HS256"
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["type"] == kind
        lifetime = claims["exp"] - claims["iat"]
        ttl = hub.settings.access_token_ttl if kind == "access" else hub.settings.refresh_token_ttl
        assert lifetime == int(ttl.total_seconds())
        assert datetime.fromtimestamp(claims["exp"], timezone.utc) > datetime.now(timezone.utc)
