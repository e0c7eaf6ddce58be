"""The OpenAPI document: quart-schema's, completed where it cannot see.

quart-schema documents JSON bodies and responses from the pydantic models.
This provider adds what it leaves out: raw (binary) request bodies, response
headers such as Retry-After, the range of integer path parameters, and a
description for every response. Routes attach extras with `document_operation`.
"""

from __future__ import annotations

import http
from collections.abc import Callable
from typing import Any, TypeVar, get_origin

from quart_schema.openapi import OpenAPIProvider
from werkzeug.routing import IntegerConverter

T = TypeVar("T", bound=Callable)
EXTRA_ATTRIBUTE = "_facelink_openapi_extra"


def _merge(into: dict, extra: dict) -> dict:
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value
    return into


def document_operation(extra: dict[str, Any]) -> Callable[[T], T]:
    """Merge `extra` (an OpenAPI operation fragment) into the route's operation."""

    def decorator(func: T) -> T:
        merged = _merge(dict(getattr(func, EXTRA_ATTRIBUTE, {})), extra)
        setattr(func, EXTRA_ATTRIBUTE, merged)
        return func

    return decorator


RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    }
}


class FaceLinkOpenAPI(OpenAPIProvider):
    def build_path_parameter(self, name: str, converter) -> dict[str, Any]:
        parameter = super().build_path_parameter(name, converter)
        if isinstance(converter, IntegerConverter):
            if converter.min is not None:
                parameter["schema"]["minimum"] = converter.min
            elif not converter.signed:
                parameter["schema"]["minimum"] = 0
            if converter.max is not None:
                parameter["schema"]["maximum"] = converter.max
        return parameter

    def build_response_object(self, model, headers_model) -> tuple[dict, dict]:
        response, components = super().build_response_object(model, headers_model)
        if get_origin(model) is not None:  # list[...] / dict[...]: not the builtin's docstring
            response["description"] = ""
        return response, components

    def build_paths(self, rule) -> tuple[dict, dict]:
        paths, components = super().build_paths(rule)
        extra = getattr(self._app.view_functions[rule.endpoint], EXTRA_ATTRIBUTE, None)
        for operations in paths.values():
            for method, operation in list(operations.items()):
                operation = operations[method] = _merge(
                    {**operation, "responses": {str(k): dict(v) for k, v in operation["responses"].items()}},
                    extra or {},
                )
                for status, response in operation["responses"].items():
                    if not response.get("description"):
                        response["description"] = http.HTTPStatus(int(status)).phrase
        return paths, components
