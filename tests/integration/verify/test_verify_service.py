"""Verify's use-cases over real stores: codes, states, limits, the fraud guard, isolation."""

from __future__ import annotations

import asyncio
import re

import pytest
from tests.integration.verify.conftest import World, make_account

from marconi.errors import NotFound, ValidationError
from marconi.services import SendRequest
from marconi.store.model import Submitted, SubmittedPart
from marconi.store.verify import SqlVerifyStore
from marconi.store.verify_model import BlockReason, VerificationStatus
from marconi.verify import (
    VERIFY_PRIORITY,
    ServiceSettings,
    VerificationBlocked,
    VerificationClosed,
    VerificationService,
)


def code_in(body: str | None) -> str:
    assert body is not None
    found = re.search(r"\b(\d{4,10})\b", body)
    assert found is not None, body
    return found.group(1)


def wrong(code: str) -> str:
    return str((int(code) + 1) % 10 ** len(code)).zfill(len(code))


async def test_a_code_is_sent_in_the_priority_class_and_approved(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme", code_length=7))
    started = await world.verify.start(a, svc.id, "+1 (555) 010-0123")
    v = started.verification
    assert v.status is VerificationStatus.PENDING
    assert v.to_addr == "+15550100123"
    assert v.country == "US"
    message = started.message
    assert message.priority == VERIFY_PRIORITY
    assert message.body is not None
    assert message.body.startswith("Your Acme verification code is: ")
    code = code_in(message.body)
    assert len(code) == 7
    assert code not in v.code_hash  # only its salted hash is kept
    assert message.expires_at == v.expires_at  # the text is worthless once the code is

    bad = await world.verify.check(a, svc.id, wrong(code), verification_id=v.id)
    assert (bad.valid, bad.verification.status, bad.verification.attempts) == (
        False,
        VerificationStatus.PENDING,
        1,
    )
    good = await world.verify.check(a, svc.id, code, to="+15550100123")
    assert good.valid
    assert good.verification.status is VerificationStatus.APPROVED
    with pytest.raises(VerificationClosed) as closed:
        await world.verify.check(a, svc.id, code, verification_id=v.id)
    assert closed.value.code == "verification_approved"


async def test_a_resend_sends_the_same_code_and_counts_against_the_send_limit(
    world: World,
) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme", max_sends=2))
    first = await world.verify.start(a, svc.id, "+447700900123")
    world.clock.advance(30)
    again = await world.verify.start(a, svc.id, "+447700900123")
    assert again.resent
    assert again.verification.id == first.verification.id
    assert again.verification.sends == 2
    assert again.message.id != first.message.id
    assert again.message.body == first.message.body
    with pytest.raises(VerificationBlocked) as blocked:
        await world.verify.start(a, svc.id, "+447700900123")
    assert blocked.value.reason is BlockReason.DESTINATION_LIMIT
    blocks = await world.verify.list_blocks(a, svc.id)
    assert [(b.reason, b.to_addr) for b in blocks] == [
        (BlockReason.DESTINATION_LIMIT, "+447700900123")
    ]
    # The window slides: an hour later the number may have codes again.
    world.clock.advance(3600)
    later = await world.verify.start(a, svc.id, "+447700900123")
    assert not later.resent
    assert later.verification.id != first.verification.id


async def test_a_code_expires_with_the_clock(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme", ttl=60))
    started = await world.verify.start(a, svc.id, "+447700900123")
    code = code_in(started.message.body)
    world.clock.advance(60)
    got = await world.verify.get(a, svc.id, started.verification.id)
    assert got.status is VerificationStatus.EXPIRED
    with pytest.raises(VerificationClosed) as closed:
        await world.verify.check(a, svc.id, code, verification_id=started.verification.id)
    assert closed.value.code == "verification_expired"
    assert closed.value.verification.attempts == 0
    # A start after expiry draws a new code for a new verification.
    fresh = await world.verify.start(a, svc.id, "+447700900123")
    assert not fresh.resent
    assert fresh.verification.id != started.verification.id


async def test_attempts_run_out(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme", max_attempts=3))
    started = await world.verify.start(a, svc.id, "+447700900123")
    code = code_in(started.message.body)
    vid = started.verification.id
    results = [await world.verify.check(a, svc.id, wrong(code), verification_id=vid) for _ in "abc"]
    assert [r.verification.status for r in results] == [
        VerificationStatus.PENDING,
        VerificationStatus.PENDING,
        VerificationStatus.MAX_ATTEMPTS_REACHED,
    ]
    with pytest.raises(VerificationClosed) as closed:
        await world.verify.check(a, svc.id, code, verification_id=vid)  # even the right one
    assert closed.value.code == "verification_max_attempts_reached"


async def test_cancel(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme"))
    started = await world.verify.start(a, svc.id, "+447700900123")
    canceled = await world.verify.cancel(a, svc.id, started.verification.id)
    assert canceled.status is VerificationStatus.CANCELED
    with pytest.raises(VerificationClosed):
        await world.verify.check(
            a, svc.id, code_in(started.message.body), verification_id=canceled.id
        )
    with pytest.raises(VerificationClosed):
        await world.verify.cancel(a, svc.id, started.verification.id)


async def test_the_guard_blocks_a_burst_to_one_prefix_while_ordinary_traffic_goes_on(
    world: World,
) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme", prefix_limit=3))
    for n in range(3):
        await world.verify.start(a, svc.id, f"+4477009001{n:02d}")
    with pytest.raises(VerificationBlocked) as blocked:
        await world.verify.start(a, svc.id, "+447700900199")
    assert blocked.value.reason is BlockReason.PREFIX_LIMIT
    assert "+447700900XXX" in str(blocked.value)
    # Another range, and ordinary messages to the blocked one, still go.
    await world.verify.start(a, svc.id, "+447700901100")
    sent = await world.services.messages.send(a, SendRequest(to="+447700900199", body="hi"))
    assert sent.priority == 0
    blocks = await world.verify.list_blocks(a, svc.id)
    assert [b.reason for b in blocks] == [BlockReason.PREFIX_LIMIT]


async def test_allowed_countries_and_the_country_limit(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(
        a, ServiceSettings(name="Acme", allowed_countries=("GB", "FR"), country_limit=2)
    )
    with pytest.raises(VerificationBlocked) as blocked:
        await world.verify.start(a, svc.id, "+15550100123")
    assert blocked.value.reason is BlockReason.COUNTRY_NOT_ALLOWED
    await world.verify.start(a, svc.id, "+447700900123")
    await world.verify.start(a, svc.id, "+447700901234")
    with pytest.raises(VerificationBlocked) as limited:
        await world.verify.start(a, svc.id, "+447700902345")
    assert limited.value.reason is BlockReason.COUNTRY_LIMIT
    await world.verify.start(a, svc.id, "+33612345678")  # France has its own count
    reasons = [b.reason for b in await world.verify.list_blocks(a, svc.id)]
    assert reasons == [BlockReason.COUNTRY_LIMIT, BlockReason.COUNTRY_NOT_ALLOWED]


async def test_concurrent_starts_never_pass_a_limit_together(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme", prefix_limit=4))
    results = await asyncio.gather(
        *(world.verify.start(a, svc.id, f"+4477009002{n:02d}") for n in range(12)),
        return_exceptions=True,
    )
    started = [r for r in results if not isinstance(r, BaseException)]
    blocked = [r for r in results if isinstance(r, VerificationBlocked)]
    assert (len(started), len(blocked)) == (4, 8)


async def test_another_account_sees_nothing(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme"))
    started = await world.verify.start(a, svc.id, "+447700900123")
    other = await make_account(world.store, world.services, "other", "+15550000002")
    b = other.id
    with pytest.raises(NotFound):
        await world.verify.get_service(b, svc.id)
    with pytest.raises(NotFound):
        await world.verify.start(b, svc.id, "+447700900123")
    with pytest.raises(NotFound):
        await world.verify.get(b, svc.id, started.verification.id)
    with pytest.raises(NotFound):
        await world.verify.check(b, svc.id, "123456", verification_id=started.verification.id)
    with pytest.raises(NotFound):
        await world.verify.list_blocks(b, svc.id)
    assert await world.verify.list_services(b) == []


async def test_settings_are_checked(world: World) -> None:
    a = world.account.id
    for settings, field in (
        (ServiceSettings(name="x", code_length=3), "code_length"),
        (ServiceSettings(name="x", code_length=11), "code_length"),
        (ServiceSettings(name="x", ttl=5), "ttl"),
        (ServiceSettings(name="x", template="no code here"), "template"),
        (ServiceSettings(name="x", template="{code} {secret}"), "template"),
        (ServiceSettings(name="x", locale="xx"), "locale"),
        (ServiceSettings(name="x", allowed_countries=("USA",)), "allowed_countries"),
        (ServiceSettings(name="x", from_="not a sender!"), "from"),
        (ServiceSettings(), "name"),
    ):
        with pytest.raises(ValidationError) as invalid:
            await world.verify.create_service(a, settings)
        assert invalid.value.field == field, settings


async def test_a_sender_not_owned_is_refused_and_leaves_no_live_code(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="x", from_="+15559999999"))
    with pytest.raises(ValidationError) as invalid:
        await world.verify.start(a, svc.id, "+447700900123")
    assert invalid.value.code == "sender_not_owned"
    # refused before anything is stored: no verification, no send counted
    with pytest.raises(NotFound):
        await world.verify.check(a, svc.id, "123456", to="+447700900123")


async def test_a_locale_and_a_template(world: World) -> None:
    a = world.account.id
    fr = await world.verify.create_service(a, ServiceSettings(name="Acme", locale="fr-CA"))
    started = await world.verify.start(a, fr.id, "+33612345678")
    assert started.message.body is not None
    assert started.message.body.startswith("Votre code de vérification Acme est : ")
    own = await world.verify.create_service(
        a, ServiceSettings(name="Acme", template="{code} is your code, valid {ttl_minutes} min")
    )
    other = await world.verify.start(a, own.id, "+33612345679")
    assert other.message.body is not None
    assert other.message.body.endswith(" is your code, valid 10 min")
    changed = await world.verify.update_service(a, own.id, ServiceSettings(locale="de"))
    assert changed.template.startswith("Ihr ")


async def test_concurrent_checks_of_the_right_code_approve_it_once(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme"))
    started = await world.verify.start(a, svc.id, "+447700900123")
    code = code_in(started.message.body)
    results = await asyncio.gather(
        *(
            world.verify.check(a, svc.id, code, verification_id=started.verification.id)
            for _ in range(8)
        ),
        return_exceptions=True,
    )
    approved = [r for r in results if not isinstance(r, BaseException) and r.valid]
    closed = [r for r in results if isinstance(r, VerificationClosed)]
    assert (len(approved), len(closed)) == (1, 7)
    assert approved[0].verification.attempts == 1


async def send_out(world: World) -> None:
    """The dispatcher's part: claim what is queued and record it as submitted."""
    claimed = await world.store.claim_batch(10, now=world.clock(), worker_id="w")
    await world.store.record_submit_results(
        [
            Submitted(
                message_id=m.id,
                connector="c",
                parts=(SubmittedPart(part_number=1, smsc_message_id=f"r-{m.id}"),),
            )
            for m in claimed
        ],
        now=world.clock(),
    )


async def test_the_codes_text_is_erased_once_sent_and_no_longer_needed(world: World) -> None:
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme"))
    first = await world.verify.start(a, svc.id, "+447700900123")
    code = code_in(first.message.body)
    await send_out(world)
    again = await world.verify.start(a, svc.id, "+447700900123")
    assert again.message.body == first.message.body
    old = await world.services.messages.get_message(a, first.message.id)
    assert old.body is None  # the resend carries the code now
    assert old.redacted_at is not None
    await send_out(world)
    approved = await world.verify.check(a, svc.id, code, to="+447700900123")
    assert approved.valid
    latest = await world.services.messages.get_message(a, again.message.id)
    assert latest.body is None


async def test_a_service_changed_elsewhere_is_used_as_it_is_now(world: World) -> None:
    """A start prepares its message from the service as last seen; when another node changed
    the service meanwhile, the code follows the stored settings all the same."""
    a = world.account.id
    svc = await world.verify.create_service(a, ServiceSettings(name="Acme", code_length=6))
    first = await world.verify.start(a, svc.id, "+447700900123")  # the service is now seen
    assert len(code_in(first.message.body)) == 6
    elsewhere = VerificationService(
        store=SqlVerifyStore(world.store), messages=world.services.messages, clock=world.clock
    )
    world.clock.advance(1)
    await elsewhere.update_service(
        a, svc.id, ServiceSettings(code_length=8, template="{code} opens {name}")
    )
    started = await world.verify.start(a, svc.id, "+447700900124")
    assert started.message.body is not None
    code = code_in(started.message.body)
    assert started.message.body == f"{code} opens Acme"
    assert len(code) == 8
    assert started.message.priority == VERIFY_PRIORITY
    assert started.verification.message_id == started.message.id
    stored = await world.services.messages.get_message(a, started.message.id)
    assert stored.body == started.message.body
    checked = await world.verify.check(a, svc.id, code, verification_id=started.verification.id)
    assert checked.valid
