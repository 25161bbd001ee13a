"""Passwords (Argon2id) and bearer / device tokens (random, stored as SHA-256 only)."""
from __future__ import annotations

import hashlib
import secrets as _secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # Argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str) -> str:
    """A 256-bit random token; the prefix says what it is for (e.g. 'wxd_' device, 'wxu_' user)."""
    return prefix + _secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Tokens carry 256 bits of entropy, so a fast unsalted hash is safe to store and look up."""
    return hashlib.sha256(token.encode()).hexdigest()
