"""The OpenAPI document describes every body, parameter and error the server
answers, and the same models refuse what it does not allow."""

from __future__ import annotations

import json
import socket

import pytest

from .support import PASSWORD, bearer, http, register


@pytest.fixture
def alice(live_server) -> dict[str, str]:
    return bearer(register(live_server, "alice")["access_token"])


def test_document_describes_the_raw_upload_body_and_the_errors(live_server):
    doc = http.get(f"{live_server}/openapi.json").json()
    upload = doc["paths"]["/api/v1/upload_image"]["post"]
    assert upload["requestBody"]["required"] is True
    assert set(upload["requestBody"]["content"]) == {"application/octet-stream", "image/*"}
    assert upload["requestBody"]["content"]["application/octet-stream"]["schema"] == {
        "type": "string", "format": "binary"}
    assert {"200", "400", "401", "413", "415"} <= set(upload["responses"])
    login = doc["paths"]["/api/v1/login"]["post"]
    assert login["responses"]["429"]["headers"]["Retry-After"]["schema"] == {"type": "integer", "minimum": 1}
    assert "403" in doc["paths"]["/api/v1/register"]["post"]["responses"]
    (cid,) = doc["paths"]["/api/v1/delete_contact/{cid}"]["delete"]["parameters"]
    assert cid["in"] == "path" and cid["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if "requestBody" in operation:
                assert operation["requestBody"]["required"] is True, (method, path)
            for status, response in operation["responses"].items():
                assert response["description"] and "\n" not in response["description"], (method, path, status)


@pytest.mark.parametrize("cid", ["9223372036854775808", "99999999999999999999999", "-1", "1.5", "abc"])
def test_contact_ids_outside_sqlite_range_are_not_found_not_a_crash(live_server, alice, cid):
    """A cid beyond 64 bits used to reach SQLite and answer 500."""
    response = http.delete(f"{live_server}/api/v1/delete_contact/{cid}", headers=alice)
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("body", [
    {"cid": 2**63}, {"cid": -1}, {"cid": True}, {"cid": "1"}, {"cid": 1.5}, {"cid": 12.0}, {"cid": None},
    {"cid": 1, "vib_pattern": 2**32}, {"cid": 1, "vib_pattern": -1}, {"cid": 1, "vib_pattern": False},
    {"cid": 1, "name": ""}, {"cid": 1, "name": "   "}, {"cid": 1, "name": "a\x00b"}, {"cid": 1, "name": "x" * 65},
    {"cid": 1, "name": 5}, [], "text", None,
])
def test_invalid_edit_bodies_are_400(live_server, alice, body):
    response = http.patch(f"{live_server}/api/v1/edit_contact", json=body, headers=alice)
    assert response.status_code == 400
    assert set(response.json()) == {"error"}


@pytest.mark.parametrize("raw", [b"", b"{", b"\xff\xfe", b"[1]", b"null", b'{"username": "a"}'])
def test_login_bodies_that_are_not_the_documented_object_are_400(live_server, raw):
    response = http.post(f"{live_server}/api/v1/login", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and set(response.json()) == {"error"}


@pytest.mark.parametrize("body", [
    {"username": "alice", "password": None}, {"username": "alice", "password:": None},
    {"username": "alice", "password": 12345678},
])
def test_login_password_must_be_a_string(live_server, body):
    register(live_server, "alice")
    assert http.post(f"{live_server}/api/v1/login", json=body).status_code == 400


def test_both_documented_password_keys_log_in(live_server):
    register(live_server, "alice")
    for key in ("password", "password:"):
        assert http.post(f"{live_server}/api/v1/login", json={"username": "alice", key: PASSWORD}).status_code == 200


def test_json_bodies_are_limited_too(live_server, alice):
    big = {"cid": 1, "name": "x", "padding": "y" * (21 * 1024 * 1024)}
    response = http.patch(f"{live_server}/api/v1/edit_contact", json=big, headers=alice)
    assert response.status_code == 413 and set(response.json()) == {"error"}
    assert http.get(f"{live_server}/health").status_code == 200


def test_unknown_routes_and_methods_answer_json(live_server, alice):
    missing = http.get(f"{live_server}/api/v1/nope", headers=alice)
    assert missing.status_code == 404 and set(missing.json()) == {"error"}
    wrong = http.get(f"{live_server}/api/v1/upload_image", headers=alice)
    assert wrong.status_code == 405 and "POST" in wrong.headers["Allow"] and set(wrong.json()) == {"error"}


def json_operations(doc: dict) -> list[tuple[str, str]]:
    return [(method.upper(), path) for path, operations in doc["paths"].items()
            for method, operation in operations.items()
            if "application/json" in operation.get("requestBody", {}).get("content", {})]


def test_every_json_body_is_parsed_strictly_and_kept_small(live_server, alice):
    doc = http.get(f"{live_server}/openapi.json").json()
    operations = json_operations(doc)
    assert sorted(operations) == [("PATCH", "/api/v1/edit_contact"), ("POST", "/api/v1/create_contact"),
                                  ("POST", "/api/v1/login"), ("POST", "/api/v1/register")]
    bodies = {
        b"[" * 50_000: (400, "nested too deeply"),        # used to be a RecursionError: 500
        b'{"a": ' * 5_000 + b"1" + b"}" * 5_000: (400, "nested too deeply"),
        b'{"cid": NaN, "username": NaN}': (400, "valid JSON"),  # Python's extension, not JSON
        b'{"cid": Infinity}': (400, "valid JSON"),
        b'{"padding": "' + b"x" * (64 * 1024) + b'"}': (413, "64 KiB"),
    }
    for method, path in operations:
        assert {"400", "413"} <= set(doc["paths"][path][method.lower()]["responses"]), path
        for raw, (status, words) in bodies.items():
            response = http.request(method, live_server + path, content=raw,
                                    headers={**alice, "Content-Type": "application/json"})
            assert response.status_code == status, (path, raw[:20], response.text)
            assert set(response.json()) == {"error"} and words in response.json()["error"], path


def test_a_json_body_sent_in_chunks_is_cut_at_the_limit(live_server, alice):
    def pieces():
        yield b'{"cid": 1, "name": "'
        for _ in range(100):
            yield b"x" * 4096
        yield b'"}'

    response = http.patch(f"{live_server}/api/v1/edit_contact", content=pieces(),
                          headers={**alice, "Content-Type": "application/json"})
    assert response.status_code == 413 and set(response.json()) == {"error"}


def test_every_operation_with_a_body_documents_408_for_a_slow_one(live_server):
    doc = http.get(f"{live_server}/openapi.json").json()
    with_body = [(method, path) for path, operations in doc["paths"].items()
                 for method, operation in operations.items() if "requestBody" in operation]
    assert len(with_body) == 5
    for method, path in with_body:
        response = doc["paths"][path][method]["responses"]["408"]
        assert response["content"]["application/json"]["schema"]["required"] == ["error"], path



def send_in_two_parts(port: int, head: bytes, body: bytes) -> tuple[bytes, bytes, socket.socket]:
    """Send the head and a little of the body, check the server waits for the rest, send it;
    returns the answer's head and body, and the socket (still open, for a next request)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(head + b"Content-Length: %d\r\n\r\n" % len(body) + body[:1000])
    sock.settimeout(0.5)
    with pytest.raises(TimeoutError):  # no answer yet: the server is still reading
        sock.recv(1)
    sock.settimeout(10)
    sock.sendall(body[1000:])
    return *read_answer(sock), sock


def read_answer(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, payload = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.lower().split(b"\r\n")
                      if line.startswith(b"content-length")))
    while len(payload) < length:
        payload += sock.recv(65536)
    return head, payload


def assert_connection_still_serves(sock: socket.socket) -> None:
    with sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        head, payload = read_answer(sock)
    assert head.startswith(b"HTTP/1.1 200") and json.loads(payload)["status"] == "ok"


def test_a_json_body_a_little_too_large_is_read_to_its_end_before_the_413(live_server, alice):
    """A client still sending sees the 413, not a reset, and may go on using the connection."""
    port = int(live_server.rsplit(":", 1)[1])
    head, payload, sock = send_in_two_parts(port, (
        b"PATCH /api/v1/edit_contact HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Authorization: " + alice["Authorization"].encode() + b"\r\n"), b'{"name": "' + b"x" * 80_000 + b'"}')
    assert head.startswith(b"HTTP/1.1 413")
    assert json.loads(payload) == {"error": "JSON bodies are limited to 64 KiB"}
    assert_connection_still_serves(sock)


def test_an_upload_refused_before_its_body_is_read_still_gets_its_answer(live_server, identities):
    """A 401 (bad token) is decided from the headers alone; the photo still arriving is read and
    dropped, so the camera sees the 401, and the connection stays usable."""
    port = int(live_server.rsplit(":", 1)[1])
    photo = next(iter(identities.values()))[0].read_bytes()
    head, payload, sock = send_in_two_parts(port, (
        b"POST /api/v1/upload_image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
        b"Authorization: Bearer not-a-token\r\n"), photo)
    assert head.startswith(b"HTTP/1.1 401") and set(json.loads(payload)) == {"msg"}
    assert_connection_still_serves(sock)


def test_a_body_too_large_to_read_is_refused_at_once_and_the_connection_closed(live_server, alice):
    port = int(live_server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /api/v1/upload_image HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Authorization: " + alice["Authorization"].encode() + b"\r\n"
                     b"Content-Length: %d\r\n\r\n" % (21 * 1024 * 1024))
        head, payload = read_answer(sock)
        assert sock.recv(1) == b""  # closed by the server
    assert head.startswith(b"HTTP/1.1 413") and b"connection: close" in head.lower()
    assert set(json.loads(payload)) == {"error"}
