"""Templates end to end: rendered text is what the handset gets over real SMPP; a request with a
hole in it is refused and nothing reaches the SMSC."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.e2e.harness import running, settings_for

TO = "+14155550123"


async def test_a_template_message_reaches_the_handset_rendered(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path)) as svc:
        created = await svc.client.post(
            "/v1/templates",
            json={
                "name": "order_shipped",
                "body": "Hello {{first_name}}, your order {{order}} ships today",
            },
        )
        assert created.status_code == 201, created.text
        german = await svc.client.post(
            "/v1/templates/order_shipped/versions",
            json={
                "locale": "de",
                "body": "Hallo {{first_name}}, Bestellung {{order}} ist unterwegs",
            },
        )
        assert german.status_code == 201, german.text
        variables = {"first_name": "Jürgen", "order": 1042}
        preview = (
            await svc.client.post(
                "/v1/messages/preview",
                json={"template": "order_shipped", "locale": "de-AT", "variables": variables},
            )
        ).json()
        assert preview["body"] == "Hallo Jürgen, Bestellung 1042 ist unterwegs"
        assert (preview["encoding"], preview["segments"]) == ("gsm7", 1)

        before = svc.simulator.counters.submits
        hole = await svc.client.post(
            "/v1/messages",
            json={"to": TO, "template": "order_shipped", "variables": {"first_name": "Ada"}},
        )
        assert hole.status_code == 400
        assert hole.json()["field"] == "variables.order"

        sent = await svc.client.post(
            "/v1/messages",
            json={"to": TO, "template": "order_shipped", "locale": "de-AT", "variables": variables},
        )
        assert sent.status_code == 201, sent.text
        await svc.wait_status(sent.json()["id"], "delivered")
        await asyncio.sleep(0.1)
        assert svc.simulator.counters.submits - before == 1
        assert svc.simulator.handset(TO[1:])[-1].text == preview["body"]
