"""Answers given before the request body was read (a 401 or 415 for an upload, a 413).

Hypercorn closes a connection whose request body is still arriving when the answer is
complete, and a client still sending then gets a reset instead of the answer. So a small
unread body is read to its end and dropped before the answer goes out, and the connection
stays usable; a large, slow or refused one is answered with "Connection: close", so the
client knows not to send its next request down that connection.
"""

from __future__ import annotations

import asyncio

from quart import Quart, Response, g, request
from werkzeug.exceptions import HTTPException

DRAIN_LIMIT_BYTES = 1024 * 1024
DRAIN_TIMEOUT_S = 5.0
NEVER_DRAINED = {408, 413}  # too slow or too large: reading the rest is what was refused


def mark_body_read() -> None:
    """The route has read the whole body."""
    g.body_read = True


def _has_unread_body() -> bool:
    if g.get("body_read"):
        return False
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return chunked or (request.content_length or 0) > 0


async def _drained() -> bool:
    length = request.content_length
    if length is None or length > DRAIN_LIMIT_BYTES:
        return False
    try:
        async with asyncio.timeout(DRAIN_TIMEOUT_S):
            async for _ in request.body:
                pass
    except (TimeoutError, HTTPException):
        return False
    return True


async def finish_reading_body(response: Response) -> Response:
    if not _has_unread_body():
        return response
    if response.status_code in NEVER_DRAINED or not await _drained():
        response.headers["Connection"] = "close"
    return response


def register(app: Quart) -> None:
    app.after_request(finish_reading_body)
