"""Verify end to end: HTTP in, the code over real SMPP to the simulator's handset, checked back
over HTTP; and a code that does not wait behind a bulk backlog on a throttled link."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from tests.e2e.harness import Service, running, settings_for

from marconi.services import SendRequest


async def code_on_handset(svc: Service, number: str, within: float = 5.0) -> tuple[str, float]:
    """The code the handset received, and the wall-clock time it arrived."""
    async with asyncio.timeout(within):
        while True:
            for message in svc.simulator.handset(number):
                found = re.search(r"code is: (\d+)", message.text)
                if found:
                    return found.group(1), message.at
            await asyncio.sleep(0.005)


async def test_a_code_reaches_the_handset_and_is_approved(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path)) as svc:
        client = svc.client
        service = (await client.post("/v1/verify/services", json={"name": "Acme"})).json()
        base = f"/v1/verify/services/{service['id']}"
        started = await client.post(f"{base}/verifications", json={"to": "+447700900123"})
        assert started.status_code == 201, started.text
        v = started.json()
        code, _ = await code_on_handset(svc, "447700900123")
        assert len(code) == 6
        message = await svc.wait_status(v["message_id"], "delivered")
        assert message["from"] == "Marconi"

        wrong = str((int(code) + 1) % 10**6).zfill(6)
        bad = await client.post(f"{base}/check", json={"to": "+447700900123", "code": wrong})
        assert bad.json()["valid"] is False
        good = await client.post(f"{base}/check", json={"to": "+447700900123", "code": code})
        assert good.json()["valid"] is True
        assert good.json()["verification"]["status"] == "approved"
        erased = (await client.get(f"/v1/messages/{v['message_id']}")).json()
        assert erased["body"] is None  # the code's text is not kept once it is approved
        replay = await client.post(f"{base}/check", json={"to": "+447700900123", "code": code})
        assert replay.status_code == 409


THROTTLED = """
[[connectors]]
name = "simulator"
type = "simulator"
throughput = {rate}
"""


@pytest.mark.slow
async def test_a_code_does_not_wait_behind_a_bulk_backlog(tmp_path: Path) -> None:
    rate, bulk = 100, 2000  # twenty seconds of ordinary traffic queued ahead of the code
    async with running(settings_for(tmp_path, THROTTLED.format(rate=rate))) as svc:
        services = svc.runtime.services
        admin = (await services.accounts.admin_account()).id
        for start in range(0, bulk, 250):
            await asyncio.gather(
                *(
                    services.messages.send(
                        admin, SendRequest(to=f"+1415555{n:04d}", body=f"bulk {n}")
                    )
                    for n in range(start, start + 250)
                )
            )
        await asyncio.sleep(0.5)  # the dispatcher has claimed the backlog onto the link
        service = (await svc.client.post("/v1/verify/services", json={"name": "Acme"})).json()
        asked = time.time()
        started = await svc.client.post(
            f"/v1/verify/services/{service['id']}/verifications", json={"to": "+447700900123"}
        )
        assert started.status_code == 201
        _, arrived = await code_on_handset(svc, "447700900123")
        latency = arrived - asked
        delivered_bulk = sum(1 for n in svc.simulator.handset_numbers() if n.startswith("1415"))
        assert latency < 1.0, latency  # the backlog needs some fifteen seconds more
        assert delivered_bulk < bulk / 2


async def test_a_burst_to_one_range_is_blocked_while_ordinary_traffic_goes_on(
    tmp_path: Path,
) -> None:
    async with running(settings_for(tmp_path)) as svc:
        client = svc.client
        service = (
            await client.post("/v1/verify/services", json={"name": "Acme", "prefix_limit": 3})
        ).json()
        base = f"/v1/verify/services/{service['id']}"
        answers = [
            (await client.post(f"{base}/verifications", json={"to": f"+4477009011{n:02d}"}))
            for n in range(10)
        ]
        assert [a.status_code for a in answers] == [201] * 3 + [429] * 7
        assert {a.json()["code"] for a in answers[3:]} == {"prefix_limit"}
        for n in range(3):
            await code_on_handset(svc, f"4477009011{n:02d}")
        plain = await client.post(
            "/v1/messages", json={"to": "+447700901109", "body": "Your order"}
        )
        await svc.wait_status(plain.json()["id"], "delivered")
        handset = svc.simulator.handset("447700901109")
        assert [m.text for m in handset] == ["Your order"]  # no code went to a blocked number
        blocks = (await client.get(f"{base}/blocks")).json()["items"]
        assert len(blocks) == 7
