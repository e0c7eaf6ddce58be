"""Accounts: register, log in, refresh, and who a token belongs to."""

from __future__ import annotations

import sqlite3
import unicodedata

from ..auth.passwords import DUMMY_HASH, hash_password, verify_password
from ..auth.tokens import TokenError, TokenIssuer
from ..store import Store
from ..timefmt import iso, now_utc
from .errors import BadRequest, Forbidden, Unauthorized
from .gallery import GalleryCache
from .pairing import PairingWindow
from .throttle import LoginThrottle

MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_USERNAME = 64


def clean_username(username: str) -> str:
    name = unicodedata.normalize("NFC", username.strip())
    if not 1 <= len(name) <= MAX_USERNAME or any(unicodedata.category(c).startswith("C") for c in name):
        raise BadRequest(f"username must be 1-{MAX_USERNAME} printable characters")
    return name


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(f"password must have at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadRequest(f"password must have at most {MAX_PASSWORD} characters")
    if len(set(password)) < 3:
        raise BadRequest("password is too weak: use at least 3 different characters")


class AccountService:
    def __init__(self, store: Store, tokens: TokenIssuer, bcrypt_rounds: int = 12,
                 throttle: LoginThrottle | None = None, pairing: PairingWindow | None = None,
                 gallery: GalleryCache | None = None) -> None:
        self.store = store
        self.gallery = gallery
        self.tokens = tokens
        self.bcrypt_rounds = bcrypt_rounds
        self.throttle = throttle or LoginThrottle()
        self.pairing = pairing or PairingWindow()

    def _token_pair(self, user_id: int) -> dict[str, str]:
        return {
            "access_token": self.tokens.issue(user_id, "access"),
            "refresh_token": self.tokens.issue(user_id, "refresh"),
        }

    def user_count(self) -> int:
        return self.store.read().execute("SELECT count(*) FROM users").fetchone()[0]

    def usernames(self) -> list[str]:
        return [r[0] for r in self.store.read().execute("SELECT username FROM users ORDER BY id")]

    def _check_may_register(self, local: bool, db=None) -> None:
        if local or self.pairing.is_open():
            return
        users = (db or self.store.read()).execute("SELECT count(*) FROM users").fetchone()[0]
        if users:
            raise Forbidden("Registration from the network is closed: "
                            "open the pairing window in the FaceLink desktop app, then try again")

    def register(self, username: str, password: str, *, local: bool = True) -> dict[str, str]:
        """Create an account. `local`: the request comes from this machine (in-process
        callers are); otherwise registration needs the pairing window open, or no account yet."""
        self._check_may_register(local)  # before bcrypt: refused callers cost nothing
        name = clean_username(username)
        check_password_policy(password)
        password_hash = hash_password(password, self.bcrypt_rounds)  # slow: outside the write lock
        try:
            with self.store.write() as db:
                self._check_may_register(local, db)  # again, atomically with the insert
                user_id = db["users"].insert(
                    {"username": name, "password_hash": password_hash, "created_at": iso(now_utc())}
                ).last_pk
        except sqlite3.IntegrityError as exc:
            raise Unauthorized("Username already taken") from exc
        return self._token_pair(user_id)

    def user_id_for(self, username: str) -> int | None:
        row = self.store.read().execute("SELECT id FROM users WHERE username = ?", [username.strip()]).fetchone()
        return row[0] if row else None

    def check_credentials(self, username: str, password: str) -> int:
        row = self.store.read().execute(
            "SELECT id, password_hash FROM users WHERE username = ?", [username.strip()]
        ).fetchone()
        if row is None:
            verify_password(password, DUMMY_HASH)  # same cost as a wrong password
            raise Unauthorized("Bad username or password")
        if not verify_password(password, row[1]):
            raise Unauthorized("Bad username or password")
        return row[0]

    def login(self, username: str, password: str, address: str | None = None) -> dict[str, str]:
        """Tokens for the right password; failed logins are throttled per user
        and per client `address` (TooManyRequests)."""
        with self.throttle.attempt(username, address):
            user_id = self.check_credentials(username, password)
        return self._token_pair(user_id)

    def _existing_user(self, token: str, kind: str) -> int:
        try:
            user_id = self.tokens.verify(token, kind)
        except TokenError as exc:
            raise Unauthorized(str(exc)) from exc
        if self.store.read().execute("SELECT 1 FROM users WHERE id = ?", [user_id]).fetchone() is None:
            if self.gallery is not None:  # deleted by `facelink delete-user`: forget its faces here too
                self.gallery.invalidate(user_id)
            raise Unauthorized("User no longer exists")
        return user_id

    def refresh(self, refresh_token: str) -> dict[str, str]:
        user_id = self._existing_user(refresh_token, "refresh")
        return {"access_token": self.tokens.issue(user_id, "access")}

    def authenticate(self, access_token: str) -> int:
        return self._existing_user(access_token, "access")
