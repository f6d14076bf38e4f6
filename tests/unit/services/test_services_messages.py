from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tests.unit.services.conftest import FakeClock

from marconi.errors import NotFound, ValidationError
from marconi.services import MessageConflict, SendRequest, Services
from marconi.services.message import BODY_MAX, parse_time
from marconi.store.model import Direction, MessageStatus
from marconi.store.sql import SqlStore

TO = "+14155550100"


async def _admin(services: Services) -> str:
    return (await services.accounts.admin_account()).id


async def test_a_message_is_queued_with_its_encoding_and_segments(services: Services) -> None:
    admin = await _admin(services)
    message = await services.messages.send(
        admin, SendRequest(to="+1 415 555 0100", body="Hello € " * 30, metadata={"order": 7})
    )
    assert message.status is MessageStatus.QUEUED
    assert message.to_addr == TO
    assert message.from_addr == "Marconi"  # the admin's default sender
    assert message.encoding == "gsm7"
    assert message.segments == 2
    assert dict(message.metadata) == {"order": 7}
    ucs2 = await services.messages.send(admin, SendRequest(to=TO, body="Привет"))
    assert (ucs2.encoding, ucs2.segments) == ("ucs2", 1)


async def test_scheduled_and_validity(services: Services, clock: FakeClock) -> None:
    admin = await _admin(services)
    at = clock() + timedelta(hours=1)
    message = await services.messages.send(
        admin, SendRequest(to=TO, body="later", send_at=at, validity_period=600)
    )
    assert message.status is MessageStatus.SCHEDULED
    assert message.send_at == at
    assert message.expires_at == at + timedelta(seconds=600)
    now_one = await services.messages.send(admin, SendRequest(to=TO, body="x", validity_period=60))
    assert now_one.expires_at == clock() + timedelta(seconds=60)


async def test_smart_encoding_stores_the_replaced_text(services: Services) -> None:
    admin = await _admin(services)
    message = await services.messages.send(
        admin, SendRequest(to=TO, body="“Quoted” — text", smart_encoding=True)
    )
    assert message.encoding == "gsm7"
    assert message.body == '"Quoted" - text'


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"to": "12"}, "invalid_phone_number", "to"),
        ({"to": ""}, "missing_field", "to"),
        ({"body": ""}, "missing_field", "body"),
        ({"body": "x" * (BODY_MAX + 1)}, "body_too_long", "body"),
        ({"body": "Привет", "encoding": "gsm7"}, "body_not_encodable", "body"),
        ({"encoding": "latin9"}, "invalid_value", "encoding"),
        ({"from_": "Nobody"}, "sender_not_owned", "from"),
        ({"from_": "Way too long sender"}, "invalid_sender", "from"),
        ({"status_callback": "not a url"}, "invalid_url", "status_callback"),
        ({"validity_period": 0}, "invalid_value", "validity_period"),
        ({"validity_period": 10**9}, "invalid_value", "validity_period"),
        ({"send_at_delta": -1}, "send_at_in_past", "send_at"),
        ({"send_at_delta": 36 * 86400}, "send_at_too_far", "send_at"),
        ({"metadata": {"k": "v" * 3000}}, "metadata_too_large", "metadata"),
        ({"idempotency_key": "x" * 256}, "invalid_idempotency_key", "Idempotency-Key"),
    ],
)
async def test_invalid_requests_name_the_code_and_field(
    services: Services, clock: FakeClock, changes: dict[str, Any], code: str, field: str
) -> None:
    admin = await _admin(services)
    fields: dict[str, Any] = {"to": TO, "body": "hi"}
    delta = changes.pop("send_at_delta", None)
    if delta is not None:
        fields["send_at"] = clock() + timedelta(seconds=delta)
    fields.update(changes)
    with pytest.raises(ValidationError) as caught:
        await services.messages.send(admin, SendRequest(**fields))
    assert (caught.value.code, caught.value.field) == (code, field)


async def test_an_account_without_numbers_must_name_a_sender(services: Services) -> None:
    admin = await _admin(services)
    sub, _ = await services.accounts.create_subaccount(admin)
    with pytest.raises(ValidationError) as caught:
        await services.messages.send(sub.account.id, SendRequest(to=TO, body="hi"))
    assert (caught.value.code, caught.value.field) == ("missing_field", "from")
    await services.numbers.add_number(sub.account.id, "+14155550142")
    message = await services.messages.send(
        sub.account.id, SendRequest(to=TO, body="hi", from_="+1 415 555 0142")
    )
    assert message.from_addr == "+14155550142"


async def test_idempotency_returns_the_first_message_and_refuses_a_different_one(
    services: Services,
) -> None:
    admin = await _admin(services)
    first = await services.messages.send(admin, SendRequest(to=TO, body="a", idempotency_key="k1"))
    again = await services.messages.send(admin, SendRequest(to=TO, body="a", idempotency_key="k1"))
    assert again.id == first.id
    with pytest.raises(MessageConflict) as caught:
        await services.messages.send(admin, SendRequest(to=TO, body="b", idempotency_key="k1"))
    assert caught.value.code == "idempotency_key_reused"
    page = await services.messages.list_messages(admin)
    assert [m.id for m in page.items] == [first.id]
    # keys belong to an account: another account may use the same one
    sub, _ = await services.accounts.create_subaccount(admin)
    await services.numbers.add_number(sub.account.id, "Sub")
    other = await services.messages.send(
        sub.account.id, SendRequest(to=TO, body="a", idempotency_key="k1")
    )
    assert other.id != first.id


async def test_cancel_and_redact(services: Services, store: SqlStore, clock: FakeClock) -> None:
    admin = await _admin(services)
    message = await services.messages.send(admin, SendRequest(to=TO, body="secret"))
    with pytest.raises(MessageConflict) as refused:
        await services.messages.redact(admin, message.id)
    assert refused.value.code == "not_redactable"
    canceled = await services.messages.cancel(admin, message.id)
    assert canceled.status is MessageStatus.CANCELED
    redacted = await services.messages.redact(admin, message.id)
    assert redacted.body is None
    assert redacted.redacted_at == clock()
    with pytest.raises(MessageConflict) as again:
        await services.messages.cancel(admin, message.id)
    assert again.value.code == "not_cancelable"
    detail = await services.messages.get_detail(admin, message.id)
    assert [e.status for e in detail.events] == [MessageStatus.QUEUED, MessageStatus.CANCELED]
    assert detail.parts == []
    claimed = await services.messages.send(admin, SendRequest(to=TO, body="going"))
    await store.claim_batch(10, now=clock(), worker_id="w")
    with pytest.raises(MessageConflict):
        await services.messages.cancel(admin, claimed.id)


async def test_other_accounts_messages_are_not_found(services: Services) -> None:
    admin = await _admin(services)
    sub, _ = await services.accounts.create_subaccount(admin)
    await services.numbers.add_number(sub.account.id, "Sub")
    theirs = await services.messages.send(sub.account.id, SendRequest(to=TO, body="mine"))
    for call in (
        services.messages.get_message,
        services.messages.get_detail,
        services.messages.cancel,
        services.messages.redact,
    ):
        with pytest.raises(NotFound):
            await call(admin, theirs.id)
    assert (await services.messages.list_messages(admin)).items == []


async def test_list_filters_and_pages(services: Services, clock: FakeClock) -> None:
    admin = await _admin(services)
    await services.numbers.add_number(admin, "+14155550111")
    sent = []
    for i in range(5):
        clock.advance(1)
        sent.append(
            await services.messages.send(
                admin,
                SendRequest(
                    to=f"+1415555020{i}", body=str(i), from_="+14155550111" if i % 2 else None
                ),
            )
        )
    first = await services.messages.list_messages(admin, limit=2)
    assert [m.id for m in first.items] == [sent[4].id, sent[3].id]
    assert first.next_cursor is not None
    second = await services.messages.list_messages(admin, limit=2, cursor=first.next_cursor)
    assert [m.id for m in second.items] == [sent[2].id, sent[1].id]
    third = await services.messages.list_messages(admin, limit=2, cursor=second.next_cursor)
    assert [m.id for m in third.items] == [sent[0].id]
    assert third.next_cursor is None
    by_to = await services.messages.list_messages(admin, to="+1 415 555 0203")
    assert [m.id for m in by_to.items] == [sent[3].id]
    by_from = await services.messages.list_messages(admin, from_="+14155550111")
    assert {m.id for m in by_from.items} == {sent[1].id, sent[3].id}
    queued = await services.messages.list_messages(
        admin, statuses=frozenset({MessageStatus.QUEUED}), direction=Direction.OUTBOUND
    )
    assert len(queued.items) == 5
    window = await services.messages.list_messages(
        admin, created_after=sent[1].created_at, created_before=sent[3].created_at
    )
    assert [m.id for m in window.items] == [sent[2].id, sent[1].id]
    with pytest.raises(ValidationError) as bad:
        await services.messages.list_messages(admin, limit=0)
    assert bad.value.field == "limit"
    with pytest.raises(ValidationError) as bad_cursor:
        await services.messages.list_messages(admin, cursor="!!")
    assert bad_cursor.value.code == "invalid_cursor"


def test_preview_measures_without_sending(services: Services) -> None:
    analysis = services.messages.preview("Hello")
    assert (analysis.encoding, analysis.segments, analysis.remaining) == ("gsm7", 1, 155)
    with pytest.raises(ValidationError):
        services.messages.preview("")


@pytest.mark.parametrize("text", ["2026-05-01", "yesterday", "2026-05-01T09:30:00", "T"])
def test_times_need_rfc3339_with_an_offset(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_time(text, field="send_at")
    assert caught.value.code == "invalid_datetime"


def test_rfc3339_times_parse() -> None:
    assert parse_time("2026-05-01T09:30:00Z", field="x").utcoffset() == timedelta(0)
    assert parse_time("2026-05-01T09:30:00+02:00", field="x").utcoffset() == timedelta(hours=2)


async def test_the_senders_status_callback_is_the_default(services: Services) -> None:
    admin = await _admin(services)
    number = await services.numbers.add_number(
        admin, "+14155550177", status_callback_url="https://hooks.test/status"
    )
    plain = await services.messages.send(admin, SendRequest(to=TO, body="x", from_="+14155550177"))
    assert plain.status_callback == "https://hooks.test/status"
    own = await services.messages.send(
        admin,
        SendRequest(to=TO, body="x", from_="+14155550177", status_callback="https://mine.test/s"),
    )
    assert own.status_callback == "https://mine.test/s"
    await services.numbers.update_number(admin, number.id, status_callback_url=None)
    cleared = await services.messages.send(
        admin, SendRequest(to=TO, body="x", from_="+14155550177")
    )
    assert cleared.status_callback is None
