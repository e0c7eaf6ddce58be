"""Login, register, refresh."""

from __future__ import annotations

from quart import Blueprint
from quart_schema import document_response, security_scheme

from .deps import bearer_token, blocking, hub, json_body
from .schemas import AccessToken, AuthError, Error, LoginBody, RegisterBody, Tokens

blueprint = Blueprint("auth", __name__, url_prefix="/api/v1")


@blueprint.post("/login")
@json_body(LoginBody)
@document_response(Tokens)
@document_response(AuthError, 401)
@document_response(Error, 400)
async def login(body: LoginBody):
    """Authenticate a user and return JWT tokens."""
    return await blocking(hub().accounts.login, body.username, body.secret)


@blueprint.post("/register")
@json_body(RegisterBody)
@document_response(Tokens)
@document_response(AuthError, 401)
@document_response(Error, 400)
async def register(body: RegisterBody):
    """Create a user account and return JWT tokens."""
    return await blocking(hub().accounts.register, body.username, body.password)


@blueprint.post("/refresh")
@security_scheme([{"bearer": []}])
@document_response(AccessToken)
@document_response(AuthError, 401)
async def refresh():
    """Trade a refresh token (in the Authorization header) for a new access token."""
    return await blocking(hub().accounts.refresh, bearer_token())
