"""Domain errors. The API maps each to one status code and JSON body, in one place."""

from __future__ import annotations


class ServiceError(Exception):
    status = 400
    key = "error"  # the contract answers auth failures as {"msg": ...}, the rest as {"error": ...}

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(ServiceError):
    status = 400


class Unauthorized(ServiceError):
    status = 401
    key = "msg"


class Forbidden(ServiceError):
    status = 403
    key = "msg"


class NotFound(ServiceError):
    status = 404


class TooManyRequests(ServiceError):
    status = 429
    key = "msg"

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after
