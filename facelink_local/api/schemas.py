"""Request and response bodies. The same models validate requests and
produce the OpenAPI document at /openapi.json."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

MAX_PATTERN = 4294967295


class Body(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class LoginBody(Body):
    """The contract documents the password key as "password:" (sic); both spellings work."""

    username: StrictStr = Field(min_length=1, max_length=256)
    password: StrictStr | None = Field(default=None, max_length=1024)
    password_colon: StrictStr | None = Field(default=None, alias="password:", max_length=1024)

    @model_validator(mode="after")
    def _one_password(self) -> "LoginBody":
        if self.password is None and self.password_colon is None:
            raise ValueError("password is required")
        return self

    @property
    def secret(self) -> str:
        return self.password if self.password is not None else self.password_colon  # type: ignore[return-value]


class RegisterBody(Body):
    username: StrictStr = Field(min_length=1, max_length=64)
    password: StrictStr = Field(max_length=1024)


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
    cluster_id: StrictStr = Field(min_length=1, max_length=128)
    contact_name: StrictStr = Field(max_length=1024)


class ContactCreated(BaseModel):
    message: str
    contact_name: str
    cid: int


class EditContactBody(Body):
    cid: StrictInt = Field(ge=0, le=2**63 - 1)
    name: StrictStr | None = Field(default=None, max_length=1024)
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
