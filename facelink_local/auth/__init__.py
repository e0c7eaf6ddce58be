"""Passwords (bcrypt) and tokens (JWT, HS256 pinned)."""

from .passwords import hash_password, verify_password
from .tokens import TokenError, TokenIssuer

__all__ = ["TokenError", "TokenIssuer", "hash_password", "verify_password"]
