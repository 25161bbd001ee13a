"""Passwords (Argon2id) and bearer / device tokens (random, stored as SHA-256 only)."""

from __future__ import annotations

import hashlib
import secrets as _secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Argon2 verification; with no hash (unknown user) a dummy hash of the same cost is verified,
    so that the answer takes as long whether the user exists or not."""
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_hash() -> str:
    """A hash made by the current hasher (its cost is what real hashes cost), made once per hasher."""
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash(_secrets.token_urlsafe(16)))
    return _dummy[1]


def new_token(prefix: str) -> str:
    """A 256-bit random token; the prefix says what it is for (e.g. 'wxd_' device, 'wxu_' user)."""
    return prefix + _secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens carry 256 bits of entropy, so a fast unsalted hash is safe to store and look up."""
    return hashlib.sha256(token.encode()).hexdigest()
