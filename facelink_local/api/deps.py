"""What every route needs: the hub, the caller's user id, a validated body,
and a way to run blocking work off the event loop."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from quart import current_app, request
from quart_schema import RequestSchemaValidationError
from quart_schema.documentation import document_request

from ..hub import Hub
from ..services.errors import BadRequest, ServiceError, Unauthorized
from ..services.pairing import is_local_address
from .openapi import document_operation

M = TypeVar("M", bound=BaseModel)


def hub() -> Hub:
    return current_app.extensions["facelink_hub"]


async def blocking(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run SQLite, bcrypt or model work on a worker thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Missing Authorization Header")
    return token.strip()


def client_address() -> str | None:
    """The TCP peer's address, from the ASGI scope itself: never from a header
    (X-Forwarded-For, or a forged "Remote-Addr" sent by the client)."""
    client = request.scope.get("client")
    return str(client[0]) if client else None


def client_is_local() -> bool:
    """The request comes from this machine (loopback address)."""
    return is_local_address(client_address())


async def current_user() -> int:
    return await blocking(hub().accounts.authenticate, bearer_token())


def json_body(model: type[M]) -> Callable:
    """Parse the body as JSON whatever its Content-Type, validate it against
    `model` (documented in the OpenAPI document), pass it as `body=`."""

    def decorator(func: Callable) -> Callable:
        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            raw = await request.get_data(as_text=False)
            try:
                data = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                raise BadRequest("Request body must be valid JSON") from exc
            if not isinstance(data, dict):
                raise BadRequest("Request body must be a JSON object")
            try:
                parsed = model.model_validate(data)
            except ValidationError as exc:
                raise RequestSchemaValidationError(exc) from exc
            return await func(*args, body=parsed, **kwargs)

        return document_operation({"requestBody": {"required": True}})(document_request(model)(wrapper))

    return decorator


class UnsupportedMediaType(ServiceError):
    status = 415


class BinaryBody:
    """A raw request body (e.g. image bytes) of the given media types: one
    definition both documents it (`document`) and checks it (`read`).

    A "type/*" entry accepts the whole family; a request without Content-Type
    counts as application/octet-stream. The size limit is the app's
    MAX_CONTENT_LENGTH (413).
    """

    def __init__(self, media_types: tuple[str, ...], description: str) -> None:
        self.media_types = media_types
        self.description = description
        self._families = tuple(m[:-1] for m in media_types if m.endswith("/*"))
        self._exact = {m for m in media_types if not m.endswith("/*")}

    def document(self, func: Callable) -> Callable:
        content = {m: {"schema": {"type": "string", "format": "binary"}} for m in self.media_types}
        return document_operation(
            {"requestBody": {"required": True, "description": self.description, "content": content}}
        )(func)

    async def read(self) -> bytes:
        mimetype = (request.mimetype or "application/octet-stream").lower()
        if mimetype not in self._exact and not mimetype.startswith(self._families):
            raise UnsupportedMediaType(
                f"Content-Type {mimetype} is not accepted: send {' or '.join(self.media_types)}")
        return await request.get_data(as_text=False)
