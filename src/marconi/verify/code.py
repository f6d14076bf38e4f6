"""Codes: drawn from the operating system's CSPRNG, kept only as a salted hash, compared in
constant time.

A short numeric code falls to an offline search of its hash in moments whatever the hash; what
protects it is its short life and the attempt limit. The hash keeps it out of a casual look at
the database, its backups and its logs.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

__all__ = ["CODE_MAX", "CODE_MIN", "code_matches", "generate_code", "hash_code"]

CODE_MIN: Final = 4
CODE_MAX: Final = 10
_SALT_BYTES: Final = 16


def generate_code(length: int) -> str:
    """``length`` decimal digits, uniformly drawn (leading zeros included)."""
    if not CODE_MIN <= length <= CODE_MAX:
        raise ValueError(f"a code has {CODE_MIN} to {CODE_MAX} digits, not {length}")
    return f"{secrets.randbelow(10**length):0{length}d}"


def hash_code(code: str) -> str:
    """``salt$sha256`` in hex."""
    salt = secrets.token_bytes(_SALT_BYTES)
    return f"{salt.hex()}${_digest(salt, code)}"


def code_matches(code: str, stored: str) -> bool:
    """Whether ``code`` is the one ``stored`` was made from; the time taken does not depend on
    how much of it is right."""
    salt_hex, _, expected = stored.partition("$")
    try:
        salt = bytes.fromhex(salt_hex)
    except ValueError:
        return False
    return hmac.compare_digest(_digest(salt, code), expected)


def _digest(salt: bytes, code: str) -> str:
    return hashlib.sha256(salt + code.encode()).hexdigest()
