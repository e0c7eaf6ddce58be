"""bcrypt password hashes.

bcrypt reads at most 72 bytes; longer passwords are pre-hashed with SHA-256
(base64) so that every character counts and bcrypt never raises on length.
"""

from __future__ import annotations

import base64
import hashlib

import bcrypt

ROUNDS = 12


def _prepare(password: str) -> bytes:
    raw = password.encode("utf-8")
    if len(raw) > 72:
        raw = base64.b64encode(hashlib.sha256(raw).digest())
    return raw


def hash_password(password: str, rounds: int = ROUNDS) -> str:
    return bcrypt.hashpw(_prepare(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(_prepare(password), password_hash.encode("ascii"))
    except ValueError:
        return False


# Compared against when the username does not exist, so that a login for an
# unknown user costs the same time as one with a wrong password.
DUMMY_HASH = hash_password("facelink-dummy-password", rounds=ROUNDS)
