"""Login, register, refresh."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, security_scheme

from .deps import bearer_token, blocking, client_address, client_is_local, hub, json_body
from .openapi import RETRY_AFTER, document_operation
from .schemas import AccessToken, AuthError, Error, LoginBody, RegisterBody, Tokens

blueprint = Blueprint("auth", __name__, url_prefix="/api/v1")


@blueprint.post("/login")
@json_body(LoginBody)
@document_response(Tokens)
@document_response(AuthError, 401)
@document_response(Error, 400)
@document_response(AuthError, 429)
@document_operation({"responses": {"429": {
    "description": "Too many failed logins for this account or from this address", "headers": RETRY_AFTER}}})
async def login(body: LoginBody):
    """Authenticate a user and return JWT tokens.

    Failed logins slow down: per account, growing delays after a few wrong
    passwords in a row (capped, reset by a correct one); per client address, a
    limit per time window. Both answer 429 with Retry-After.
    """
    return await blocking(hub().accounts.login, body.username, body.secret, client_address())


@blueprint.post("/register")
@json_body(RegisterBody)
@document_response(Tokens)
@document_response(AuthError, 401)
@document_response(Error, 400)
@document_response(AuthError, 403)
@document_operation({"responses": {
    "400": {"description": "Invalid body, or a password that breaks the policy"},
    "401": {"description": "Username already taken"},
    "403": {"description": "Registration from the network is closed (no pairing window open)"},
}})
async def register(body: RegisterBody):
    """Create a user account and return JWT tokens.

    Open from the hub's own machine; from the network only while no account
    exists yet or while the desktop app's pairing window is open.
    """
    return await blocking(hub().accounts.register, body.username, body.password, local=client_is_local())


@blueprint.post("/refresh")
@security_scheme([{"bearer": []}])
@document_response(AccessToken)
@document_response(AuthError, 401)
async def refresh():
    """Trade a refresh token (in the Authorization header) for a new access token."""
    return await blocking(hub().accounts.refresh, bearer_token())
