"""The service end to end: HTTP in, SMPP to the simulator over loopback, webhooks out to a real
receiver; each test runs a fresh service on SQLite in a temporary directory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.e2e.harness import WebhookReceiver, running, settings_for

from marconi.simulator import Faults, Simulator, SimulatorConfig
from marconi.webhooks import verify
from marconi.webhooks.secret import secret_repository_for


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    r = WebhookReceiver()
    await r.start()
    yield r
    await r.aclose()


async def test_send_is_delivered_and_the_status_callback_is_signed(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    async with running(settings_for(tmp_path)) as svc:
        resp = await svc.client.post(
            "/v1/messages",
            json={
                "to": "+14155550100",
                "body": "Hello from Marconi",
                "status_callback": f"{receiver.url}/status",
            },
        )
        assert resp.status_code == 201, resp.text
        sent = resp.json()
        assert sent["status"] == "queued"
        got = await svc.wait_status(sent["id"], "delivered", within=1.0)
        assert [e["status"] for e in got["events"]] == ["queued", "sending", "sent", "delivered"]
        assert got["parts"][0]["receipt_stat"] == "DELIVRD"
        assert got["parts"][0]["smsc_message_id"]
        hook = await receiver.wait_for(lambda h: h.json()["status"] == "delivered")
        repo = secret_repository_for(svc.runtime.store)
        now = datetime.now(UTC)
        secret = await repo.get_or_create_secret(sent["account_sid"], now=now)
        verify(hook.body, hook.headers, list(secret.valid(now)))
        assert hook.json()["message_id"] == sent["id"]
        statuses = [h.json()["status"] for h in receiver.hooks]
        assert "sent" in statuses
        # the simulator's handset got the text
        assert svc.simulator.handset("14155550100")[-1].text == "Hello from Marconi"
        metrics = (await svc.client.get("/metrics")).text
        assert 'marconi_messages_submitted_total{connector="simulator"} 1.0' in metrics
        assert "marconi_messages_accepted_total 1.0" in metrics


async def test_long_unicode_message_is_delivered_whole(tmp_path: Path) -> None:
    body = "Grüße aus Marconi ✓ " * 6
    async with running(settings_for(tmp_path)) as svc:
        sent = (
            await svc.client.post("/v1/messages", json={"to": "+14155550101", "body": body})
        ).json()
        assert sent["segments"] == 2
        got = await svc.wait_status(sent["id"], "delivered")
        assert [p["status"] for p in got["parts"]] == ["delivered", "delivered"]
        assert svc.simulator.handset("14155550101")[-1].text == body


async def test_inbound_goes_to_the_numbers_webhook_and_the_reply_reaches_the_handset(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    receiver.answer = lambda hook: (200, "application/json", b'{"reply": "pong"}')
    async with running(settings_for(tmp_path)) as svc:
        resp = await svc.client.post(
            "/v1/numbers",
            json={"number": "+447700900777", "inbound_webhook_url": f"{receiver.url}/inbound"},
        )
        assert resp.status_code == 201, resp.text
        long_text = "ping " * 40  # two parts, reassembled before it is stored
        await svc.simulator.inject_mo(
            source="447700900123", destination="447700900777", text=long_text
        )
        hook = await receiver.wait_for(lambda h: h.path == "/inbound")
        body = hook.json()
        assert body["type"] == "message.received"
        assert body["from"] == "+447700900123"
        assert body["to"] == "+447700900777"
        assert body["body"] == long_text
        assert body["segments"] == 2
        async with asyncio.timeout(5):
            while True:
                replies = [m for m in svc.simulator.handset("447700900123") if m.text == "pong"]
                if replies:
                    break
                await asyncio.sleep(0.02)
        assert replies[0].peer == "447700900777"
        inbound = (await svc.client.get("/v1/messages", params={"direction": "inbound"})).json()
        assert inbound["items"][0]["status"] == "received"


FAILOVER = """
[[connectors]]
name = "refusing"
type = "smpp"
host = "127.0.0.1"
port = {port}
system_id = "marconi"
password = "x"

[[connectors]]
name = "simulator"
type = "simulator"

[[routes]]
connectors = ["refusing", "simulator"]
"""


async def test_failover_when_the_first_route_refuses_binds(tmp_path: Path) -> None:
    refusing = Simulator(SimulatorConfig(port=0, faults=Faults(reject_binds=0x0D)))
    await refusing.start()
    try:
        settings = settings_for(tmp_path, FAILOVER.format(port=refusing.port))
        async with running(settings) as svc:
            sent = (
                await svc.client.post("/v1/messages", json={"to": "+14155550102", "body": "x"})
            ).json()
            got = await svc.wait_status(sent["id"], "delivered")
            assert got["parts"][0]["connector"] == "simulator"
            assert refusing.counters.bind_failures >= 1
            assert refusing.counters.submits == 0
    finally:
        await refusing.aclose()


ONLY_REFUSING = """
[[connectors]]
name = "refusing"
type = "smpp"
host = "127.0.0.1"
port = {port}
system_id = "marconi"

[[connectors]]
name = "simulator"
type = "simulator"

[[routes]]
prefixes = ["+1"]
connectors = ["refusing"]

[[routes]]
prefixes = ["+44"]
connectors = ["simulator"]
"""


async def test_a_message_that_cannot_go_out_within_its_validity_expires(tmp_path: Path) -> None:
    refusing = Simulator(SimulatorConfig(port=0, faults=Faults(reject_binds=0x0D)))
    await refusing.start()
    try:
        settings = settings_for(tmp_path, ONLY_REFUSING.format(port=refusing.port))
        async with running(settings) as svc:
            sent = (
                await svc.client.post(
                    "/v1/messages",
                    json={"to": "+14155550103", "body": "x", "validity_period": 2},
                )
            ).json()
            got = await svc.wait_status(sent["id"], "expired", within=6)
            assert got["error_code"] == "validity_expired"
            assert refusing.counters.submits == 0
    finally:
        await refusing.aclose()


async def test_idempotent_retries_send_once(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path)) as svc:
        before = svc.simulator.counters.submits
        headers = {"Idempotency-Key": "order-42"}
        body = {"to": "+14155550105", "body": "once"}
        first = (await svc.client.post("/v1/messages", json=body, headers=headers)).json()
        second = (await svc.client.post("/v1/messages", json=body, headers=headers)).json()
        assert first["id"] == second["id"]
        await svc.wait_status(first["id"], "delivered")
        await asyncio.sleep(0.2)
        assert svc.simulator.counters.submits - before == 1


async def test_cancel_a_scheduled_message(tmp_path: Path) -> None:
    send_at = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    async with running(settings_for(tmp_path)) as svc:
        before = svc.simulator.counters.submits
        sent = (
            await svc.client.post(
                "/v1/messages", json={"to": "+14155550106", "body": "later", "send_at": send_at}
            )
        ).json()
        assert sent["status"] == "scheduled"
        canceled = await svc.client.post(f"/v1/messages/{sent['id']}/cancel")
        assert canceled.status_code == 200, canceled.text
        assert canceled.json()["status"] == "canceled"
        await asyncio.sleep(0.3)
        assert svc.simulator.counters.submits == before
