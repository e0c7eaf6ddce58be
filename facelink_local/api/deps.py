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
from quart_schema import RequestSchemaValidationError, document_response
from quart_schema.documentation import document_request
from werkzeug.exceptions import RequestTimeout

from ..hub import Hub
from ..services.errors import BadRequest, ServiceError, Unauthorized
from ..services.pairing import is_local_address
from .openapi import document_operation
from .schemas import Error
from .unread_bodies import DRAIN_LIMIT_BYTES, mark_body_read

M = TypeVar("M", bound=BaseModel)
MAX_JSON_BYTES = 64 * 1024  # the largest valid body is a few kilobytes


def hub() -> Hub:
    return current_app.extensions["facelink_hub"]


async def blocking(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run SQLite, bcrypt or model work on a worker thread."""
    return await asyncio.to_thread(fn, *args, **kwargs)


def bearer_token() -> str:
    header = request.headers.get("Authorization", "").strip()
    if not header:
        raise Unauthorized("Missing Authorization Header")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be 'Bearer <access token>'")
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


async def _read_json_bytes() -> bytes:
    """The body, at most MAX_JSON_BYTES of it (413 beyond). A body a little too large is
    still read to its end first (see unread_bodies); a much larger one is refused at once."""
    if request.content_length is not None and request.content_length > DRAIN_LIMIT_BYTES:
        raise _json_too_large()
    raw, received = bytearray(), 0
    try:
        async with asyncio.timeout(request.body_timeout):
            async for chunk in request.body:
                received += len(chunk)
                if received > DRAIN_LIMIT_BYTES:
                    raise _json_too_large()
                if received <= MAX_JSON_BYTES:
                    raw += chunk
    except TimeoutError as exc:
        raise RequestTimeout() from exc
    mark_body_read()
    if received > MAX_JSON_BYTES:
        raise _json_too_large()
    return bytes(raw)


def _json_too_large() -> PayloadTooLarge:
    return PayloadTooLarge(f"JSON bodies are limited to {MAX_JSON_BYTES // 1024} KiB")


def _document_slow_body(func: Callable) -> Callable:
    """Every route that reads a body answers 408 when it has not arrived within BODY_TIMEOUT."""
    return document_operation({"responses": {"408": {"description": "The body did not arrive in time"}}})(
        document_response(Error, 408)(func))


def _not_json(constant: str) -> None:
    """NaN and Infinity are Python's extension, not JSON."""
    raise ValueError(f"{constant} is not JSON")


def json_body(model: type[M]) -> Callable:
    """Parse the body as JSON whatever its Content-Type, validate it against
    `model` (documented in the OpenAPI document), pass it as `body=`."""

    def decorator(func: Callable) -> Callable:
        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            raw = await _read_json_bytes()
            try:
                data = json.loads(raw, parse_constant=_not_json)
            except (ValueError, UnicodeDecodeError) as exc:
                raise BadRequest("Request body must be valid JSON") from exc
            except RecursionError as exc:  # "[[[[..." nested deeper than the parser goes
                raise BadRequest("Request body is nested too deeply") from exc
            if not isinstance(data, dict):
                raise BadRequest("Request body must be a JSON object")
            try:
                parsed = model.model_validate(data)
            except ValidationError as exc:
                raise RequestSchemaValidationError(exc) from exc
            return await func(*args, body=parsed, **kwargs)

        documented = _document_slow_body(document_response(Error, 413)(document_request(model)(wrapper)))
        return document_operation({"requestBody": {"required": True}, "responses": {"413": {
            "description": f"The body is larger than {MAX_JSON_BYTES // 1024} KiB"}}})(documented)

    return decorator


class UnsupportedMediaType(ServiceError):
    status = 415


class PayloadTooLarge(ServiceError):
    status = 413


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
        )(_document_slow_body(func))

    async def read(self) -> bytes:
        mimetype = (request.mimetype or "application/octet-stream").lower()
        if mimetype not in self._exact and not mimetype.startswith(self._families):
            raise UnsupportedMediaType(
                f"Content-Type {mimetype} is not accepted: send {' or '.join(self.media_types)}")
        data = await request.get_data(as_text=False)
        mark_body_read()
        return data
