"""Secrets of API keys and account auth tokens: made with :mod:`secrets`, stored as keyed hashes.

A secret is 32 random bytes, so a fast keyed hash (HMAC-SHA256) is as strong as a slow password
hash would be, and checking it costs a microsecond on every request. Stored hashes carry a scheme
prefix (``hs256$``) so the scheme can change later without a migration of the column.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

__all__ = ["SECRET_BYTES", "hash_secret", "new_secret", "verify_secret"]

SECRET_BYTES: Final = 32
_SCHEME: Final = "hs256$"
# Domain separation between what the hash protects; not a secret of its own.
_DEFAULT_PEPPER: Final = b"marconi.credential.v1"


def new_secret() -> str:
    """43 URL-safe characters: 32 bytes from the operating system's CSPRNG."""
    return secrets.token_urlsafe(SECRET_BYTES)


def hash_secret(secret: str, *, pepper: bytes = _DEFAULT_PEPPER) -> str:
    digest = hmac.new(pepper, secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return _SCHEME + digest


def verify_secret(secret: str, stored_hash: str, *, pepper: bytes = _DEFAULT_PEPPER) -> bool:
    """Constant-time comparison of ``secret``'s hash with ``stored_hash``."""
    return hmac.compare_digest(
        hash_secret(secret, pepper=pepper).encode("ascii"),
        stored_hash.encode("ascii", "replace"),
    )
