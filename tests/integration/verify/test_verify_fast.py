"""Starts of verifications answered ahead of the framework answer as its documented route does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import httpx
import pytest

from marconi.api import MarconiApp, create_app
from marconi.api.verify_fast import service_id_of
from marconi.config import load_settings
from marconi.services import build_services
from marconi.store import open_store
from marconi.store.protocols import Store

Client = tuple[httpx.AsyncClient, MarconiApp, str]


@pytest.fixture
async def app_client(tmp_path: Path) -> AsyncIterator[Client]:
    store = await open_store(f"sqlite:///{tmp_path / 'm.db'}")
    services = build_services(cast(Store, store))
    admin = await services.accounts.admin_account()
    await services.numbers.add_number(admin.id, "+15550000001")
    key = await services.keys.create_key(admin.id)
    app = create_app(load_settings(environ={}), services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api", auth=(key.key.id, key.secret)
    ) as client:
        created = await client.post("/v1/verify/services", json={"name": "Acme", "max_sends": 1})
        assert created.status_code == 201, created.text
        yield client, app, created.json()["id"]
    await services.aclose()
    await store.aclose()


async def _answers(client: httpx.AsyncClient, service: str, number: str) -> list[Any]:
    path = f"/v1/verify/services/{service}/verifications"
    requests: list[tuple[str, dict[str, Any]]] = [
        (path, {"json": {"to": number, "x": 1}}),
        (path, {"json": {}}),
        (path, {"json": {"to": "12"}}),
        (path, {"content": b"{", "headers": {"Content-Type": "application/json"}}),
        (path, {"content": b"to=1", "headers": {"Content-Type": "text/plain"}}),
        (path, {"json": {"to": number, "pad": "x" * 70_000}}),
        (path, {"json": {"to": number}, "auth": ("SK" + "0" * 32, "wrong")}),
        ("/v1/verify/services/VA" + "0" * 32 + "/verifications", {"json": {"to": number}}),
        (path, {"json": {"to": number}}),
        (path, {"json": {"to": number}}),  # max_sends is 1: the guard refuses
    ]
    answers: list[Any] = []
    for url, options in requests:
        response = await client.post(url, **options)
        assert int(response.headers["content-length"]) == len(response.content)
        data = response.json()
        shape = (data.get("code"), data.get("field")) if response.status_code >= 400 else None
        answers.append((response.status_code, response.headers["content-type"], shape))
        if response.status_code == 201:
            answers.append((sorted(data), data["status"], data["resent"], data["sends"]))
    return answers


async def test_the_fast_route_answers_as_the_framework_route_does(app_client: Client) -> None:
    client, app, service = app_client
    fast = await _answers(client, service, "+447700900123")
    app.fast_start = None
    routed = await _answers(client, service, "+447700900456")
    assert fast == routed
    assert [answer[0] for answer in fast if isinstance(answer[0], int)] == [
        422,
        422,
        422,
        400,
        415,
        413,
        401,
        404,
        201,
        429,
    ]
    assert fast[-1][2] == ("destination_limit", "to")


@pytest.mark.parametrize(
    ("method", "path", "service"),
    [
        ("POST", "/v1/verify/services/VA1/verifications", "VA1"),
        ("GET", "/v1/verify/services/VA1/verifications", None),
        ("POST", "/v1/verify/services/VA1/verifications/", None),
        ("POST", "/v1/verify/services//verifications", None),
        ("POST", "/v1/verify/services/VA1/x/verifications", None),
        ("POST", "/v1/verify/services/VA1/verifications/VE1/check", None),
    ],
)
def test_only_starts_take_the_fast_route(method: str, path: str, service: str | None) -> None:
    assert service_id_of({"type": "http", "method": method, "path": path}) == service


async def test_other_verify_routes_still_answer(app_client: Client) -> None:
    client, _, service = app_client
    listed = await client.get(f"/v1/verify/services/{service}/blocks")
    assert listed.status_code == 200
    wrong = await client.get(f"/v1/verify/services/{service}/verifications")
    assert wrong.status_code == 405
