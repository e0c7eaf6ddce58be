"""Contacts endpoints and routing errors, one endpoint at a time."""

from __future__ import annotations

import pytest

from conftest import PASSWORD


@pytest.fixture
async def auth(client):
    response = await client.post("/api/v1/register", json={"username": "ann", "password": PASSWORD})
    return {"Authorization": f"Bearer {(await response.get_json())['access_token']}"}


def make_contact(hub, user_id=1, name="Alice", pattern=0b1011) -> int:
    """A contact with no faces, inserted through the store (as create_contact would)."""
    with hub.store.write() as db:
        return db["contacts"].insert({"user_id": user_id, "name": name, "vib_pattern": pattern,
                                      "last_seen": None, "created_at": "2026-01-01T00:00:00.000Z"}).last_pk


async def test_pull_contacts_lists_the_users_contacts(client, hub, auth):
    assert await (await client.get("/api/v1/pull_contacts", headers=auth)).get_json() == []
    cid = make_contact(hub)
    body = await (await client.get("/api/v1/pull_contacts", headers=auth)).get_json()
    assert body == [{"cid": cid, "name": "Alice", "last_seen": None, "vib_pattern": 0b1011}]


@pytest.mark.parametrize("changes", [{"name": "  Alicia "}, {"vib_pattern": 4294967295}, {"vib_pattern": 0},
                                     {"name": "Zoë 佐藤", "vib_pattern": 7}])
async def test_edit_contact_accepts_any_subset(client, hub, auth, changes):
    cid = make_contact(hub)
    response = await client.patch("/api/v1/edit_contact", json={"cid": cid, **changes}, headers=auth)
    assert response.status_code == 200
    assert await response.get_json() == {"message": "Updated successfully"}
    contact = hub.contacts.get(1, cid)
    if "name" in changes:
        assert contact["name"] == changes["name"].strip()
    if "vib_pattern" in changes:
        assert contact["vib_pattern"] == changes["vib_pattern"]


@pytest.mark.parametrize("body", [
    {"cid": "1"}, {"cid": 1.5}, {"cid": True}, {}, {"cid": 1, "vib_pattern": -1}, {"cid": 1, "vib_pattern": 2**32},
    {"cid": 1, "vib_pattern": 1.0}, {"cid": 1, "vib_pattern": "7"}, {"cid": 1, "name": "   "},
    {"cid": 1, "name": "x" * 65}, {"cid": 1, "name": 42},
])
async def test_edit_contact_rejects_bad_values(client, hub, auth, body):
    make_contact(hub)
    response = await client.patch("/api/v1/edit_contact", json=body, headers=auth)
    assert response.status_code == 400
    assert "error" in await response.get_json()
    assert hub.contacts.get(1, 1)["vib_pattern"] == 0b1011  # nothing changed


@pytest.mark.parametrize("name", ["   ", "tab\there"])
async def test_a_blank_or_control_character_name_is_explained_in_words(client, hub, auth, name):
    make_contact(hub)
    response = await client.patch("/api/v1/edit_contact", json={"cid": 1, "name": name}, headers=auth)
    assert response.status_code == 400
    assert await response.get_json() == {
        "error": "name: must be printable text, not blank, without control characters"}


async def test_edit_unknown_contact_answers_404(client, auth):
    response = await client.patch("/api/v1/edit_contact", json={"cid": 77, "name": "x"}, headers=auth)
    assert response.status_code == 404
    assert await response.get_json() == {"error": "Contact not updated successfully"}


async def test_delete_contact(client, hub, auth):
    cid = make_contact(hub)
    response = await client.delete(f"/api/v1/delete_contact/{cid}", headers=auth)
    assert response.status_code == 200
    assert await response.get_json() == {"message": "Contact deleted successfully"}
    again = await client.delete(f"/api/v1/delete_contact/{cid}", headers=auth)
    assert again.status_code == 404
    assert await again.get_json() == {"error": "Contact not found or could not be deleted"}


async def test_create_contact_needs_both_fields(client, auth):
    for body in ({"cluster_id": "c_x"}, {"contact_name": "Bob"}, {"cluster_id": 5, "contact_name": "Bob"}):
        response = await client.post("/api/v1/create_contact", json=body, headers=auth)
        assert response.status_code == 400
        assert "error" in await response.get_json()


async def test_create_contact_from_unknown_cluster_answers_404(client, auth):
    response = await client.post("/api/v1/create_contact", json={"cluster_id": "c_nope", "contact_name": "Bob"},
                                 headers=auth)
    assert response.status_code == 404
    assert await response.get_json() == {"error": "Cluster not found"}


@pytest.mark.parametrize("method,path,status", [
    ("DELETE", "/api/v1/delete_contact/abc", 404),
    ("GET", "/api/v1/no_such_thing", 404),
    ("GET", "/api/v1/login", 405),
    ("POST", "/api/v1/pull_contacts", 405),
    ("PUT", "/api/v1/edit_contact", 405),
])
async def test_routing_errors_answer_json(client, auth, method, path, status):
    response = await client.open(path, method=method, headers=auth)
    assert response.status_code == status
    assert "error" in await response.get_json()


async def test_another_users_contact_is_not_found(client, hub, auth):
    other = await client.post("/api/v1/register", json={"username": "eve", "password": PASSWORD})
    eve = {"Authorization": f"Bearer {(await other.get_json())['access_token']}"}
    cid = make_contact(hub, user_id=1)
    assert (await client.patch("/api/v1/edit_contact", json={"cid": cid, "name": "x"}, headers=eve)).status_code == 404
    assert (await client.delete(f"/api/v1/delete_contact/{cid}", headers=eve)).status_code == 404
    assert await (await client.get("/api/v1/pull_contacts", headers=eve)).get_json() == []
    assert hub.contacts.get(1, cid)["name"] == "Alice"


async def test_health_and_openapi(client):
    health = await (await client.get("/health")).get_json()
    assert health["status"] == "ok" and health["version"]
    spec = await (await client.get("/openapi.json")).get_json()
    for path in ("/api/v1/login", "/api/v1/register", "/api/v1/refresh", "/api/v1/pull_contacts",
                 "/api/v1/create_contact", "/api/v1/edit_contact", "/api/v1/delete_contact/{cid}",
                 "/api/v1/upload_image", "/api/v1/pull_timeline"):
        assert path in spec["paths"], path
