"""Opt-out compliance end to end: a handset sends STOP, START and HELP over real SMPP through the
simulator; the service acts before the application's webhook, which is still told; sends to an
opted-out handset are refused and never reach the SMSC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.e2e.harness import Hook, Service, WebhookReceiver, running, settings_for

NUMBER = "+447700900777"
HANDSET = "447700900123"


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    r = WebhookReceiver()
    await r.start()
    yield r
    await r.aclose()


async def _texts_to_handset(svc: Service, count: int, within: float = 5.0) -> list[str]:
    async with asyncio.timeout(within):
        while True:
            texts = [m.text for m in svc.simulator.handset(HANDSET) if m.direction == "received"]
            if len(texts) >= count:
                return texts
            await asyncio.sleep(0.02)


def _keyword_of(word: str) -> object:
    return lambda hook: hook.json().get("body") == word


async def test_stop_then_send_is_refused_and_start_restores(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    # The application answers every inbound message, STOP included; that answer must not go out.
    receiver.answer = lambda hook: (200, "application/json", b'{"reply": "We will miss you"}')
    async with running(settings_for(tmp_path)) as svc:
        created = await svc.client.post(
            "/v1/numbers", json={"number": NUMBER, "inbound_webhook_url": f"{receiver.url}/in"}
        )
        assert created.status_code == 201, created.text

        await svc.simulator.inject_mo(source=HANDSET, destination=NUMBER, text="Stop.")
        hook: Hook = await receiver.wait_for(lambda h: h.json()["body"] == "Stop.")
        assert hook.json()["keyword"] == {"action": "opt_out", "keyword": "STOP", "language": "en"}
        texts = await _texts_to_handset(svc, 1)
        assert texts[0].startswith("You have been unsubscribed")

        submits = svc.simulator.counters.submits
        refused = await svc.client.post(
            "/v1/messages", json={"to": "+" + HANDSET, "from": NUMBER, "body": "Big sale!"}
        )
        assert refused.status_code == 422
        assert refused.json()["code"] == "destination_opted_out"
        listed = (await svc.client.get("/v1/optouts")).json()["items"]
        assert [(o["to"], o["from"], o["keyword"]) for o in listed] == [
            ("+" + HANDSET, NUMBER, "STOP")
        ]
        await asyncio.sleep(0.5)  # room for the application's reply, were it sent
        assert svc.simulator.counters.submits == submits
        assert await _texts_to_handset(svc, 1) == texts[:1]

        await svc.simulator.inject_mo(source=HANDSET, destination=NUMBER, text="start")
        hook = await receiver.wait_for(lambda h: h.json()["body"] == "start")
        assert hook.json()["keyword"]["action"] == "opt_in"
        sent = await svc.client.post(
            "/v1/messages", json={"to": "+" + HANDSET, "from": NUMBER, "body": "Welcome back"}
        )
        assert sent.status_code == 201, sent.text
        await svc.wait_status(sent.json()["id"], "delivered")
        texts = await _texts_to_handset(svc, 3)
        assert "You have been subscribed again. Reply STOP to unsubscribe." in texts
        assert "Welcome back" in texts
        assert (await svc.client.get("/v1/optouts")).json()["items"] == []


async def test_help_replies_and_configured_keywords_work_in_their_language(
    tmp_path: Path, receiver: WebhookReceiver
) -> None:
    async with running(settings_for(tmp_path)) as svc:
        await svc.client.post(
            "/v1/numbers", json={"number": NUMBER, "inbound_webhook_url": f"{receiver.url}/in"}
        )
        await svc.simulator.inject_mo(source=HANDSET, destination=NUMBER, text=" HELP ")
        texts = await _texts_to_handset(svc, 1)
        assert texts == ["Reply STOP to unsubscribe, START to subscribe again."]
        hook = await receiver.wait_for(lambda h: h.json()["body"] == " HELP ")
        assert hook.json()["keyword"]["action"] == "help"

        english = (await svc.client.get("/v1/optouts/keywords")).json()["languages"][0]
        spanish = {
            "language": "es",
            "opt_out": ["BAJA"],
            "help": ["AYUDA"],
            "replies": {"opt_out": "Te has dado de baja.", "help": "Responde BAJA."},
        }
        put = await svc.client.put("/v1/optouts/keywords", json={"languages": [english, spanish]})
        assert put.status_code == 200, put.text
        await svc.simulator.inject_mo(source=HANDSET, destination=NUMBER, text="¡Baja!")
        texts = await _texts_to_handset(svc, 2)
        assert texts[1] == "Te has dado de baja."
        refused = await svc.client.post(
            "/v1/messages", json={"to": "+" + HANDSET, "from": NUMBER, "body": "x"}
        )
        assert refused.json()["code"] == "destination_opted_out"
        # an ordinary text is no keyword and changes nothing
        await svc.simulator.inject_mo(source=HANDSET, destination=NUMBER, text="baja please")
        hook = await receiver.wait_for(lambda h: h.json()["body"] == "baja please")
        assert hook.json()["keyword"] is None
