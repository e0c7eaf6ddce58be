"""Every error answers JSON: domain errors, HTTP errors and the unexpected.

Auth failures use {"msg": ...}, everything else {"error": ...}, as the contract does.
"""

from __future__ import annotations

import logging

from pydantic import ValidationError
from quart import Quart, jsonify
from quart_schema import RequestSchemaValidationError
from werkzeug.exceptions import HTTPException

from ..services.errors import ServiceError

log = logging.getLogger(__name__)
SLOW_BODY = "The request body did not arrive in time: send it at once, not slowly"


# pydantic's own words, where they would show a person a regular expression.
_READABLE = {"string_pattern_mismatch": "must be printable text, not blank, without control characters"}


def describe_validation(error: Exception) -> str:
    if isinstance(error, ValidationError):
        parts = []
        for item in error.errors()[:5]:
            where = ".".join(str(p) for p in item.get("loc", ())) or "body"
            parts.append(f"{where}: {_READABLE.get(item.get('type'), item.get('msg', 'invalid'))}")
        return "; ".join(parts)
    return str(error) or "Invalid request body"


def register_error_handlers(app: Quart) -> None:
    @app.errorhandler(ServiceError)
    async def service_error(error: ServiceError):
        response = jsonify({error.key: error.message})
        response.status_code = error.status
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            response.headers["Retry-After"] = str(max(1, int(retry_after + 0.999)))
        return response

    @app.errorhandler(RequestSchemaValidationError)
    async def invalid_body(error: RequestSchemaValidationError):
        return jsonify({"error": describe_validation(error.validation_error)}), 400

    @app.errorhandler(HTTPException)
    async def http_error(error: HTTPException):
        status = error.code or 500
        key = "msg" if status == 401 else "error"
        message = SLOW_BODY if status == 408 else error.description or error.name
        response = jsonify({key: message})
        response.status_code = status
        for name, value in error.get_headers():
            if name.lower() in ("allow", "retry-after"):
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    async def unexpected(error: Exception):
        log.exception("unexpected error")
        return jsonify({"error": "Internal server error"}), 500
