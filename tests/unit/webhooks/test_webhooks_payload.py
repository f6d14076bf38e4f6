"""The JSON bodies, the reply shapes and the secrets' lifecycle (in memory)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
import pytest

from marconi.store.model import MessageStatus, StatusChange
from marconi.webhooks.payload import inbound_payload, status_payload
from marconi.webhooks.reply import MAX_REPLY_BYTES, parse_reply
from marconi.webhooks.secret import MemorySecretRepository, SigningKeys
from marconi.webhooks.signature import secret_key

T0 = datetime(2026, 3, 1, 12, 0, 5, 250000, tzinfo=UTC)


def _change(status: MessageStatus, **extra: object) -> StatusChange:
    values: dict[str, object] = {
        "message_id": "SM" + "a" * 32,
        "account_id": "AC" + "b" * 32,
        "status": status,
        "sequence": 4,
        "at": T0,
        "to_addr": "+447700900123",
        "from_addr": "Marconi",
        "segments": 2,
        "connector": "smsc-1",
        "error_code": None,
        "error_message": None,
        "details": {"parts": 2},
    }
    values.update(extra)
    return StatusChange(**values)  # type: ignore[arg-type]


def test_a_status_callback_carries_what_a_receiver_needs() -> None:
    body = orjson.loads(status_payload(_change(MessageStatus.DELIVERED)))
    assert body == {
        "type": "message.status",
        "message_id": "SM" + "a" * 32,
        "account_id": "AC" + "b" * 32,
        "status": "delivered",
        "previous_status": "sent",
        "sequence": 4,
        "timestamp": "2026-03-01T12:00:05.250000Z",
        "to": "+447700900123",
        "from": "Marconi",
        "segments": 2,
        "connector": "smsc-1",
        "error_code": None,
        "error_message": None,
        "details": {"parts": 2},
    }


@pytest.mark.parametrize(
    ("status", "previous"),
    [
        (MessageStatus.DELIVERED, "sent"),
        (MessageStatus.UNDELIVERED, "sent"),
        (MessageStatus.PARTIALLY_DELIVERED, "sent"),
        (MessageStatus.SENT, None),  # from sending, or from queued after a stale hand-back
        (MessageStatus.FAILED, None),
    ],
)
def test_previous_status_is_given_only_where_it_is_certain(
    status: MessageStatus, previous: str | None
) -> None:
    assert orjson.loads(status_payload(_change(status)))["previous_status"] == previous


def test_an_error_is_carried() -> None:
    body = orjson.loads(
        status_payload(_change(MessageStatus.FAILED, error_code="0x0b", error_message="bad dest"))
    )
    assert (body["error_code"], body["error_message"]) == ("0x0b", "bad dest")


def test_an_inbound_message_body() -> None:
    body = orjson.loads(
        inbound_payload(
            message_id="SM1",
            account_id="AC1",
            from_addr="+14155550100",
            to_addr="+14155550199",
            body="héllo ☃",
            encoding="ucs2",
            segments=1,
            received_at=T0,
            connector="sim",
            number_id="PN1",
        )
    )
    assert body["type"] == "message.received"
    assert (body["from"], body["to"], body["body"]) == ("+14155550100", "+14155550199", "héllo ☃")
    assert (body["encoding"], body["segments"], body["sequence"]) == ("ucs2", 1, 1)
    assert body["received_at"] == "2026-03-01T12:00:05.250000Z"


@pytest.mark.parametrize(
    ("content_type", "body", "reply"),
    [
        ("application/json", b'{"reply": "Thanks \\u2603"}', "Thanks ☃"),
        ("application/problem+json", b'{"reply": "x"}', "x"),
        ("application/json", b'{"reply": null}', None),
        ("application/json", b'{"reply": 5}', None),
        ("application/json", b'["reply"]', None),
        ("application/json", b"{not json", None),
        ("text/plain", "Grüße".encode(), "Grüße"),
        ("text/plain", b"\xff\xfe", None),
        ("text/plain", b"   \n", None),
        ("text/xml", b"<Response><Message>hi</Message></Response>", None),
        (None, b"hello", None),
        ("text/plain", b"x" * (MAX_REPLY_BYTES + 1), None),
    ],
)
def test_reply_shapes(content_type: str | None, body: bytes, reply: str | None) -> None:
    assert parse_reply(content_type, body) == reply


async def test_a_secret_is_made_once_and_rotation_keeps_the_old_one_for_the_grace() -> None:
    repository = MemorySecretRepository()
    first = await repository.get_or_create_secret("AC1", now=T0)
    assert first == await repository.get_or_create_secret("AC1", now=T0 + timedelta(days=1))
    assert first.secret not in repr(first)  # secrets stay out of logs
    rotated = await repository.rotate_secret("AC1", now=T0, grace=timedelta(hours=1))
    assert rotated.secret != first.secret
    assert rotated.valid(T0 + timedelta(minutes=59)) == (rotated.secret, first.secret)
    assert rotated.valid(T0 + timedelta(hours=1)) == (rotated.secret,)


async def test_signing_keys_are_cached_for_their_ttl() -> None:
    repository = MemorySecretRepository()
    clock = [0.0]
    keys = SigningKeys(repository=repository, ttl=5.0, monotonic=lambda: clock[0])
    first = await keys.keys("AC1", now=T0)
    assert first == (secret_key(repository.secrets["AC1"].secret),)
    await repository.rotate_secret("AC1", now=T0, grace=timedelta(hours=1))
    assert await keys.keys("AC1", now=T0) == first  # still cached
    clock[0] = 5.0
    assert len(await keys.keys("AC1", now=T0)) == 2
    await repository.rotate_secret("AC1", now=T0, grace=timedelta(0))
    keys.forget("AC1")
    assert await keys.keys("AC1", now=T0) == (secret_key(repository.secrets["AC1"].secret),)
