"""Signing and verifying, against the Standard Webhooks reference vector and by property."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.webhooks.signature import (
    WebhookVerificationError,
    generate_secret,
    secret_key,
    sign,
    signature_header,
    verify,
)

# The example published with the Standard Webhooks specification.
VECTOR_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
VECTOR_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
VECTOR_TIMESTAMP = 1614265330
VECTOR_BODY = '{"test": 2432232314}'
VECTOR_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(signature: str, *, timestamp: int = VECTOR_TIMESTAMP) -> dict[str, str]:
    return {
        "webhook-id": VECTOR_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_the_reference_vector_signs_as_published() -> None:
    got = sign(
        secret_key(VECTOR_SECRET),
        webhook_id=VECTOR_ID,
        timestamp=VECTOR_TIMESTAMP,
        payload=VECTOR_BODY,
    )
    assert got == VECTOR_SIGNATURE


def test_the_reference_vector_verifies() -> None:
    verify(VECTOR_BODY, _headers(VECTOR_SIGNATURE), VECTOR_SECRET, now=VECTOR_TIMESTAMP + 10)


def test_headers_are_case_insensitive() -> None:
    headers = {k.upper(): v for k, v in _headers(VECTOR_SIGNATURE).items()}
    verify(VECTOR_BODY, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)


@pytest.mark.parametrize(
    ("body", "signature", "secret", "now", "message"),
    [
        (VECTOR_BODY + " ", VECTOR_SIGNATURE, VECTOR_SECRET, VECTOR_TIMESTAMP, "no webhook-sig"),
        (VECTOR_BODY, VECTOR_SIGNATURE, generate_secret(), VECTOR_TIMESTAMP, "no webhook-sig"),
        (VECTOR_BODY, "v1,AAAA", VECTOR_SECRET, VECTOR_TIMESTAMP, "no webhook-sig"),
        (VECTOR_BODY, "v2," + VECTOR_SIGNATURE[3:], VECTOR_SECRET, VECTOR_TIMESTAMP, "no webhook"),
        (VECTOR_BODY, VECTOR_SIGNATURE, VECTOR_SECRET, VECTOR_TIMESTAMP + 301, "300 s away"),
        (VECTOR_BODY, VECTOR_SIGNATURE, VECTOR_SECRET, VECTOR_TIMESTAMP - 301, "300 s away"),
    ],
    ids=["body", "secret", "signature", "version", "late", "early"],
)
def test_a_forgery_or_a_stale_request_is_refused(
    body: str, signature: str, secret: str, now: int, message: str
) -> None:
    with pytest.raises(WebhookVerificationError, match=message):
        verify(body, _headers(signature), secret, now=now)


def test_missing_and_malformed_headers_are_named() -> None:
    headers = _headers(VECTOR_SIGNATURE)
    del headers["webhook-id"]
    with pytest.raises(WebhookVerificationError, match="webhook-id header is missing"):
        verify(VECTOR_BODY, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)
    headers = _headers(VECTOR_SIGNATURE)
    headers["webhook-timestamp"] = "soon"
    with pytest.raises(WebhookVerificationError, match="not a whole number"):
        verify(VECTOR_BODY, headers, VECTOR_SECRET, now=VECTOR_TIMESTAMP)


def test_a_secret_that_is_not_base64_is_refused() -> None:
    with pytest.raises(WebhookVerificationError, match="base64"):
        secret_key("whsec_not*base64")
    with pytest.raises(WebhookVerificationError, match="empty"):
        secret_key("whsec_")


def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = generate_secret(), generate_secret()
    header = signature_header(
        [secret_key(new), secret_key(old)], webhook_id="WH1", timestamp=100, payload=b"{}"
    )
    assert len(header.split()) == 2
    verify(
        b"{}",
        {"webhook-id": "WH1", "webhook-timestamp": "100", "webhook-signature": header},
        old,
        now=100,
    )
    verify(
        b"{}",
        {"webhook-id": "WH1", "webhook-timestamp": "100", "webhook-signature": header},
        [generate_secret(), new],
        now=100,
    )
    with pytest.raises(WebhookVerificationError):
        verify(
            b"{}",
            {"webhook-id": "WH1", "webhook-timestamp": "100", "webhook-signature": header},
            generate_secret(),
            now=100,
        )


def test_generated_secrets_are_32_random_bytes() -> None:
    a, b = generate_secret(), generate_secret()
    assert a.startswith("whsec_")
    assert a != b
    assert len(base64.b64decode(a.removeprefix("whsec_"))) == 32


@given(
    payload=st.binary(max_size=2000),
    webhook_id=st.from_regex(r"[A-Za-z0-9_]{1,40}", fullmatch=True),
    timestamp=st.integers(min_value=0, max_value=2**40),
)
def test_what_is_signed_verifies_and_any_changed_byte_does_not(
    payload: bytes, webhook_id: str, timestamp: int
) -> None:
    secret = "whsec_" + base64.b64encode(b"k" * 32).decode()
    headers = {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            secret_key(secret), webhook_id=webhook_id, timestamp=timestamp, payload=payload
        ),
    }
    verify(payload, headers, secret, now=timestamp)
    with pytest.raises(WebhookVerificationError):
        verify(payload + b"x", headers, secret, now=timestamp)
    if payload:
        flipped = bytes([payload[0] ^ 1]) + payload[1:]
        with pytest.raises(WebhookVerificationError):
            verify(flipped, headers, secret, now=timestamp)
