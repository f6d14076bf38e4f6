"""Twilio's quickstart, unchanged but for the API's base URL, against Marconi: the sample Flask
app sends through the compatible API, gets signed status callbacks, and answers an inbound
message from the simulator's handset with TwiML that reaches the handset."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from tests.e2e.harness import running, settings_for
from tests.e2e.twilio_sample import create_app
from werkzeug.serving import BaseWSGIServer, make_server


@pytest.fixture
def serve_flask() -> Iterator[Callable[[Flask], str]]:
    servers: list[tuple[BaseWSGIServer, threading.Thread]] = []

    def serve(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server, thread in servers:
        server.shutdown()
        thread.join(5)


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():  # noqa: ASYNC110 - polling a thread's list and the handsets
            await asyncio.sleep(0.02)


async def test_the_quickstart_app_sends_and_replies(
    tmp_path: Path, serve_flask: Callable[[Flask], str]
) -> None:
    async with running(settings_for(tmp_path)) as svc:
        boot = svc.runtime.bootstrap
        assert boot is not None
        assert boot.auth_token is not None
        app = create_app(
            account_sid=boot.account.id,
            auth_token=boot.auth_token,
            api_base_url=svc.url,
            sender="+14155550100",
        )
        app_url = serve_flask(app)
        number = await svc.client.post(
            "/2010-04-01/Accounts/" + boot.account.id + "/IncomingPhoneNumbers.json",
            data={"PhoneNumber": "+14155550100", "SmsUrl": f"{app_url}/sms"},
            auth=(boot.account.id, boot.auth_token),
        )
        assert number.status_code == 201, number.text

        async with httpx.AsyncClient(base_url=app_url, timeout=10, trust_env=False) as http:
            sent = await http.post("/send", data={"To": "+14155550123", "Body": "Ahoy!"})
        assert sent.status_code == 200, sent.text
        sid = sent.json()["sid"]
        statuses: list[tuple[str, str]] = app.config["STATUSES"]
        await until(lambda: (sid, "delivered") in statuses)
        assert svc.simulator.handset("14155550123")[-1].text == "Ahoy!"

        await svc.simulator.inject_mo(source="14155550123", destination="14155550100", text="hello")
        await until(
            lambda: any(
                m.text == "Hi! Thanks for the message."
                for m in svc.simulator.handset("14155550123")
            )
        )
