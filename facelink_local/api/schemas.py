"""Request and response bodies. The same models validate requests and
produce the OpenAPI document at /openapi.json."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

MAX_PATTERN = 4294967295
MAX_INT64 = 2**63 - 1  # SQLite INTEGER
# Printable text with at least one non-space character: no C0/C1 control characters.
PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def _one_of_the_passwords(schema: dict) -> None:
    """Document LoginBody as it validates: either key, a string, never null."""
    schema["anyOf"] = [{"required": ["password"]}, {"required": ["password:"]}]
    for key in ("password", "password:"):
        schema["properties"][key].pop("default", None)
    schema["examples"] = [{"username": "alice", "password:": "correct horse battery"}]


class LoginBody(Body):
    """The contract documents the password key as "password:" (sic); both spellings work."""

    model_config = ConfigDict(json_schema_extra=_one_of_the_passwords)

    username: StrictStr = Field(min_length=1, max_length=256)
    # Optional keys but never null: at least one of the two must be a string.
    password: StrictStr = Field(default=None, max_length=1024)  # type: ignore[assignment]
    password_colon: StrictStr = Field(default=None, alias="password:", max_length=1024)  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_password(self) -> "LoginBody":
        if self.password is None and self.password_colon is None:
            raise ValueError("password is required")
        return self

    @property
    def secret(self) -> str:
        return self.password if self.password is not None else self.password_colon  # type: ignore[return-value]


class RegisterBody(Body):
    model_config = ConfigDict(json_schema_extra={
        "examples": [{"username": "alice", "password": "correct horse battery"}]})

    username: StrictStr = Field(min_length=1, max_length=64, pattern=PRINTABLE)
    password: StrictStr = Field(
        min_length=8, max_length=1024,
        description="At least 8 characters, not just one or two different ones; a weak password answers 400",
    )


class Tokens(BaseModel):
    access_token: str
    refresh_token: str


class AccessToken(BaseModel):
    access_token: str


class Contact(BaseModel):
    cid: int
    name: str
    last_seen: str | None = Field(description="ISO-8601 UTC, or null if never seen")
    vib_pattern: int = Field(ge=0, le=MAX_PATTERN)


class CreateContactBody(Body):
    model_config = ConfigDict(json_schema_extra={
        "examples": [{"cluster_id": "c_4Xk2pQ9sLm1vR7tB", "contact_name": "Aunt Maria"}]})

    cluster_id: StrictStr = Field(min_length=1, max_length=128)
    contact_name: StrictStr = Field(min_length=1, max_length=64, pattern=PRINTABLE)


class ContactCreated(BaseModel):
    message: str
    contact_name: str
    cid: int


class EditContactBody(Body):
    model_config = ConfigDict(json_schema_extra={
        "examples": [{"cid": 1, "name": "Maria", "vib_pattern": 1365}]})

    cid: StrictInt = Field(ge=0, le=MAX_INT64)
    name: StrictStr | None = Field(default=None, min_length=1, max_length=64, pattern=PRINTABLE)
    vib_pattern: StrictInt | None = Field(
        default=None, ge=0, le=MAX_PATTERN,
        description="32 slots of 50 ms: bit i (least significant first) = motor on in slot i; 0 is silent",
    )


class Message(BaseModel):
    message: str


class Error(BaseModel):
    error: str


class AuthError(BaseModel):
    msg: str


class SeenContact(BaseModel):
    cid: int
    name: str


class SeenFace(BaseModel):
    box: list[int] = Field(description="[x, y, width, height] in the upright photo's pixels")
    status: Literal["matched", "unknown", "too_small"]
    contact: SeenContact | None
    distance: float | None


class UploadResult(BaseModel):
    message: str
    faces: list[SeenFace]


class Health(BaseModel):
    status: str
    version: str
