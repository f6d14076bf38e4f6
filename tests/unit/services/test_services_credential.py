from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from marconi.services.credential import hash_secret, new_secret, verify_secret


def test_new_secrets_are_long_and_distinct() -> None:
    secrets = {new_secret() for _ in range(100)}
    assert len(secrets) == 100
    assert all(len(s) == 43 for s in secrets)


def test_the_hash_is_not_the_secret_and_names_its_scheme() -> None:
    secret = new_secret()
    stored = hash_secret(secret)
    assert secret not in stored
    assert stored.startswith("hs256$")
    assert len(stored) == len("hs256$") + 64


@given(st.text(min_size=1), st.text(min_size=1))
def test_only_the_same_secret_verifies(secret: str, other: str) -> None:
    stored = hash_secret(secret)
    assert verify_secret(secret, stored)
    assert verify_secret(other, stored) == (other == secret)


def test_a_different_pepper_gives_a_different_hash() -> None:
    assert hash_secret("s") != hash_secret("s", pepper=b"other")
    assert not verify_secret("s", "not a hash at all ✓")
