"""The app in process (ASGI, no sockets): error mapping that needs a failing store or edge cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, cast

import httpx
import pytest

from marconi.api import MarconiApp, create_app
from marconi.api.body import parse_json
from marconi.api.problem import problem_for
from marconi.config import load_settings
from marconi.errors import Conflict, MarconiError, NotFound, StoreError, ValidationError
from marconi.services import Services, build_services
from marconi.store import open_store
from marconi.store.protocols import Store

Client = tuple[httpx.AsyncClient, MarconiApp, Services]


@pytest.fixture
async def app_client(tmp_path: Any) -> AsyncIterator[Client]:
    store = await open_store(f"sqlite:///{tmp_path / 'm.db'}")
    services = build_services(cast(Store, store))
    admin = await services.accounts.admin_account()
    key = await services.keys.create_key(admin.id)
    app = create_app(load_settings(environ={}), services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://api", auth=(key.key.id, key.secret)
    ) as client:
        yield client, app, services
    await services.aclose()
    await store.aclose()


async def _answers(client: httpx.AsyncClient) -> list[tuple[int, str, Any]]:
    requests: list[dict[str, Any]] = [
        {"json": {"to": "+14155550100", "body": "a", "x": 1}},
        {"json": {"to": "+14155550100"}},
        {"content": b"{", "headers": {"Content-Type": "application/json"}},
        {"content": b"a=b", "headers": {"Content-Type": "text/plain"}},
        {"json": {"to": "+14155550100", "body": "x" * 70_000}},
        {"json": {"to": "+14155550100", "body": "a"}, "auth": ("SK" + "0" * 32, "wrong")},
    ]
    answers = []
    for options in requests:
        response = await client.post("/v1/messages", **options)
        answers.append((response.status_code, response.headers["content-type"], response.json()))
    ok = await client.post("/v1/messages", json={"to": "+14155550100", "body": "a"})
    assert int(ok.headers["content-length"]) == len(ok.content)
    data = ok.json()
    answers.append((ok.status_code, ok.headers["content-type"], sorted(data)))
    return answers


async def test_the_fast_route_answers_as_the_framework_route_does(app_client: Client) -> None:
    client, app, _ = app_client
    fast = await _answers(client)
    app.fast_send = None
    routed = await _answers(client)
    assert fast == routed
    assert [status for status, _, _ in fast] == [422, 422, 400, 415, 413, 401, 201]


async def _curl_answers(client: httpx.AsyncClient) -> list[tuple[int, str | None]]:
    body = b'{"to": "+14155550100", "body": "a"}'
    answers = []
    for content, content_type in [
        (body, "application/x-www-form-urlencoded"),  # what `curl -d '{...}'` sends
        (body, None),
        (b"to=%2B14155550100&body=a", "application/x-www-form-urlencoded"),
        (body, "text/xml"),
    ]:
        headers = {} if content_type is None else {"Content-Type": content_type}
        response = await client.post("/v1/messages", content=content, headers=headers)
        answers.append((response.status_code, response.json().get("code")))
    return answers


async def test_a_json_body_sent_as_curl_sends_it_is_read_as_json(app_client: Client) -> None:
    client, app, _ = app_client
    fast = await _curl_answers(client)
    app.fast_send = None
    assert fast == await _curl_answers(client)
    assert fast == [
        (201, None),
        (201, None),
        (415, "unsupported_media_type"),
        (415, "unsupported_media_type"),
    ]


async def test_an_unexpected_error_is_a_500_problem_without_details(
    app_client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    client, _, services = app_client

    async def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services.messages, "send", boom)
    response = await client.post("/v1/messages", json={"to": "+14155550100", "body": "a"})
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "secret internals" not in response.text


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (ValidationError("bad", code="invalid_json"), 400, "invalid_json"),
        (ValidationError("bad", code="invalid_value", field="x"), 422, "invalid_value"),
        (NotFound("nope"), 404, "not_found"),
        (Conflict("taken"), 409, "conflict"),
        (StoreError("db down"), 503, "database_unavailable"),
        (ConnectionRefusedError("refused"), 503, "database_unavailable"),
        (MarconiError("odd"), 500, "internal_error"),
    ],
)
def test_errors_map_to_problems(error: Exception, status: int, code: str) -> None:
    response = problem_for(error)
    assert response.status_code == status
    assert response.media_type == "application/problem+json"
    assert f'"code":"{code}"'.encode() in bytes(response.body)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"{", "invalid_json"),
        (b'"\xff"', "invalid_utf8"),
        (b"[]", "invalid_body"),
        (b"", "invalid_json"),
    ],
)
def test_bodies_must_be_utf8_json_objects(raw: bytes, code: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_json(raw)
    assert caught.value.code == code


async def test_the_rate_limit_comes_from_the_settings(tmp_path: Any) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'm.db'}")
    services = build_services(cast(Store, store))
    admin = await services.accounts.admin_account()
    key = await services.keys.create_key(admin.id)
    settings = load_settings(environ={"MARCONI_RATE_LIMIT": "1", "MARCONI_RATE_BURST": "1"})
    app = create_app(settings, services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api",
        auth=(key.key.id, key.secret),
    ) as client:
        assert (await client.get("/v1/keys")).status_code == 200
        assert (await client.get("/v1/keys")).status_code == 429
    unlimited = create_app(load_settings(environ={"MARCONI_RATE_LIMIT": "0"}), services)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=unlimited),
        base_url="http://api",
        auth=(key.key.id, key.secret),
    ) as client:
        statuses = {(await client.get("/v1/keys")).status_code for _ in range(210)}
        assert statuses == {200}
    await services.aclose()
    await store.aclose()
