"""Contacts: pull, create from a cluster, edit, delete."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, security_scheme

from .deps import blocking, current_user, hub, json_body
from .schemas import AuthError, Contact, ContactCreated, CreateContactBody, EditContactBody, Error, Message

blueprint = Blueprint("contacts", __name__, url_prefix="/api/v1")


@blueprint.get("/pull_contacts")
@security_scheme([{"bearer": []}])
@document_response(list[Contact])
@document_response(AuthError, 401)
async def pull_contacts():
    """All contacts of the authenticated user."""
    user_id = await current_user()
    return await blocking(hub().contacts.list, user_id)


@blueprint.post("/create_contact")
@security_scheme([{"bearer": []}])
@json_body(CreateContactBody)
@document_response(ContactCreated)
@document_response(Error, 400)
@document_response(AuthError, 401)
@document_response(Error, 404)
async def create_contact(body: CreateContactBody):
    """Turn a timeline cluster into a contact (one transaction)."""
    user_id = await current_user()
    created = await blocking(hub().contacts.create_from_cluster, user_id, body.cluster_id, body.contact_name)
    return {"message": "Contact created successfully", "contact_name": created["contact_name"], "cid": created["cid"]}


@blueprint.patch("/edit_contact")
@security_scheme([{"bearer": []}])
@json_body(EditContactBody)
@document_response(Message)
@document_response(Error, 400)
@document_response(AuthError, 401)
@document_response(Error, 404)
async def edit_contact(body: EditContactBody):
    """Change a contact's name and/or vibration pattern."""
    user_id = await current_user()
    await blocking(hub().contacts.edit, user_id, body.cid, body.name, body.vib_pattern)
    return {"message": "Updated successfully"}


@blueprint.delete("/delete_contact/<int(max=9223372036854775807):cid>")  # SQLite INTEGER range
@security_scheme([{"bearer": []}])
@document_response(Message)
@document_response(AuthError, 401)
@document_response(Error, 404)
async def delete_contact(cid: int):
    """Delete a contact and every face kept of it."""
    user_id = await current_user()
    await blocking(hub().contacts.delete, user_id, cid)
    return {"message": "Contact deleted successfully"}
