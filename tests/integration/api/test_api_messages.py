from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.integration.api.conftest import Api, StartApi

from marconi.api import ApiOptions

TO = "+14155550100"


async def test_send_answers_201_with_the_queued_message(api: Api) -> None:
    response = await api.client().post(
        "/v1/messages",
        json={
            "to": "+1 (415) 555-0100",
            "from": "Marconi",
            "body": "Hello € " * 30,
            "metadata": {"order": 42},
            "validity_period": 3600,
            "status_callback": "http://127.0.0.1:9/cb",
        },
    )
    assert response.status_code == 201
    message = response.json()
    assert message["id"].startswith("SM")
    assert len(message["id"]) == 34
    assert message["status"] == "queued"
    assert message["to"] == TO
    assert message["from"] == "Marconi"
    assert (message["encoding"], message["segments"]) == ("gsm7", 2)
    assert message["price"] is None
    assert message["metadata"] == {"order": 42}
    assert message["created_at"].endswith("Z")
    created = datetime.fromisoformat(message["created_at"])
    expires = datetime.fromisoformat(message["expires_at"])
    assert expires - created == timedelta(seconds=3600)


async def test_get_shows_the_timeline_and_parts(api: Api) -> None:
    client = api.client()
    sent = (await client.post("/v1/messages", json={"to": TO, "body": "hi"})).json()
    detail = await client.get(f"/v1/messages/{sent['id']}")
    assert detail.status_code == 200
    data = detail.json()
    assert data["body"] == "hi"
    assert [e["status"] for e in data["events"]] == ["queued"]
    assert data["events"][0]["seq"] == 1
    assert data["parts"] == []


async def _problem(response: Any, status: int, code: str, field: str | None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["code"], problem["field"]) == (code, field)
    assert problem["status"] == status
    assert problem["detail"]


INVALID: list[tuple[dict[str, Any], int, str, str]] = [
    ({"to": TO, "body": "x", "colour": "red"}, 422, "unknown_field", "colour"),
    ({"body": "x"}, 422, "missing_field", "to"),
    ({"to": TO}, 422, "missing_field", "body"),
    ({"to": TO, "body": 5}, 422, "invalid_type", "body"),
    ({"to": TO, "body": "x", "validity_period": "60"}, 422, "invalid_type", "validity_period"),
    ({"to": TO, "body": "x", "smart_encoding": 1}, 422, "invalid_type", "smart_encoding"),
    ({"to": TO, "body": "x", "metadata": [1]}, 422, "invalid_type", "metadata"),
    ({"to": TO, "body": "x", "encoding": "utf8"}, 422, "invalid_value", "encoding"),
    ({"to": "555", "body": "x"}, 422, "invalid_phone_number", "to"),
    ({"to": TO, "body": "x" * 1601}, 422, "body_too_long", "body"),
    ({"to": TO, "body": "Привет", "encoding": "gsm7"}, 422, "body_not_encodable", "body"),
    ({"to": TO, "body": "x", "from": "Stranger"}, 422, "sender_not_owned", "from"),
    ({"to": TO, "body": "x", "send_at": "tomorrow"}, 422, "invalid_datetime", "send_at"),
    (
        {"to": TO, "body": "x", "send_at": "2020-01-01T00:00:00Z"},
        422,
        "send_at_in_past",
        "send_at",
    ),
    (
        {"to": TO, "body": "x", "metadata": {"blob": "x" * 3000}},
        422,
        "metadata_too_large",
        "metadata",
    ),
    ({"to": TO, "body": "x", "status_callback": "mailto:x"}, 422, "invalid_url", "status_callback"),
]


async def test_invalid_messages_are_problems_with_code_and_field(api: Api) -> None:
    client = api.client()
    for payload, status, code, field in INVALID:
        await _problem(await client.post("/v1/messages", json=payload), status, code, field)
    assert (await client.get("/v1/messages")).json()["items"] == []


async def test_malformed_bodies(start_api: StartApi) -> None:
    api = await start_api(ApiOptions(rate_limit=None, max_body_bytes=4096))
    client = api.client()
    json_type = {"Content-Type": "application/json"}
    await _problem(
        await client.post("/v1/messages", content=b'{"to": ', headers=json_type),
        400,
        "invalid_json",
        None,
    )
    await _problem(
        await client.post(
            "/v1/messages", content=b'{"to": "+14155550100", "body": "\xff"}', headers=json_type
        ),
        400,
        "invalid_utf8",
        None,
    )
    await _problem(
        await client.post("/v1/messages", content=b"[1, 2]", headers=json_type),
        400,
        "invalid_body",
        None,
    )
    await _problem(
        await client.post("/v1/messages", data={"to": TO, "body": "x"}),
        415,
        "unsupported_media_type",
        "Content-Type",
    )
    await _problem(
        await client.post("/v1/messages", json={"to": TO, "body": "x" * 5000}),
        413,
        "request_too_large",
        None,
    )

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    await _problem(
        await client.post("/v1/messages", content=chunks(), headers=json_type),
        413,
        "request_too_large",
        None,
    )
    # the framework-routed endpoints read bodies the same way
    await _problem(
        await client.post("/v1/numbers", content=b"{", headers=json_type), 400, "invalid_json", None
    )
    await _problem(
        await client.post("/v1/numbers", json={"number": "Shop", "x": 1}),
        422,
        "unknown_field",
        "x",
    )


async def test_idempotent_retries_return_the_first_result(api: Api) -> None:
    client = api.client()
    headers = {"Idempotency-Key": "order-7-confirmation"}
    first = await client.post("/v1/messages", json={"to": TO, "body": "once"}, headers=headers)
    again = await client.post("/v1/messages", json={"to": TO, "body": "once"}, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    # the dispatcher takes it meanwhile: a retry still gets the first answer
    claimed = await api.store.inner.claim_batch(10, now=datetime.now(UTC), worker_id="test")
    assert [m.id for m in claimed] == [first.json()["id"]]
    late = await client.post("/v1/messages", json={"to": TO, "body": "once"}, headers=headers)
    assert late.status_code == 201
    assert late.json() == first.json()
    shown = (await client.get(f"/v1/messages/{first.json()['id']}")).json()
    assert shown["status"] == "sending"
    other = await client.post("/v1/messages", json={"to": TO, "body": "twice"}, headers=headers)
    await _problem(other, 409, "idempotency_key_reused", None)
    listed = (await client.get("/v1/messages")).json()
    assert [m["id"] for m in listed["items"]] == [first.json()["id"]]


async def test_cancel_then_redact_a_scheduled_message(api: Api) -> None:
    client = api.client()
    at = (datetime.now(UTC) + timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    sent = await client.post("/v1/messages", json={"to": TO, "body": "later", "send_at": at})
    assert sent.status_code == 201
    message = sent.json()
    assert message["status"] == "scheduled"
    await _problem(
        await client.post(f"/v1/messages/{message['id']}/redact"), 409, "not_redactable", None
    )
    canceled = await client.post(f"/v1/messages/{message['id']}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    await _problem(
        await client.post(f"/v1/messages/{message['id']}/cancel"), 409, "not_cancelable", None
    )
    redacted = await client.post(f"/v1/messages/{message['id']}/redact")
    assert redacted.status_code == 200
    assert redacted.json()["body"] is None
    assert redacted.json()["redacted_at"] is not None
    shown = (await client.get(f"/v1/messages/{message['id']}")).json()
    assert shown["body"] is None
    assert [e["status"] for e in shown["events"]] == ["scheduled", "canceled"]


async def test_preview_measures_without_sending(api: Api) -> None:
    client = api.client()
    response = await client.post("/v1/messages/preview", json={"body": "Hello 😀"})
    assert response.status_code == 200
    data = response.json()
    assert (data["encoding"], data["segments"], data["remaining"]) == ("ucs2", 1, 62)
    assert data["non_gsm_characters"] == ["😀"]
    assert (await client.get("/v1/messages")).json()["items"] == []
    await _problem(
        await client.post("/v1/messages/preview", json={"body": "x", "to": TO}),
        422,
        "unknown_field",
        "to",
    )


async def test_list_pages_with_a_cursor_and_filters(api: Api) -> None:
    client = api.client()
    ids = []
    for i in range(5):
        response = await client.post("/v1/messages", json={"to": f"+1415555020{i}", "body": "x"})
        ids.append(response.json()["id"])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/v1/messages", params=params)).json()
        seen += [m["id"] for m in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    assert pages == 3
    by_to = (await client.get("/v1/messages", params={"to": "+14155550203"})).json()
    assert [m["id"] for m in by_to["items"]] == [ids[3]]
    by_from = (await client.get("/v1/messages", params={"from": "Marconi", "limit": 10})).json()
    assert len(by_from["items"]) == 5
    nobody = (await client.get("/v1/messages", params={"from": "Other"})).json()
    assert nobody["items"] == []
    await client.post(f"/v1/messages/{ids[0]}/cancel")
    canceled = (await client.get("/v1/messages", params={"status": "canceled,failed"})).json()
    assert [m["id"] for m in canceled["items"]] == [ids[0]]
    inbound = (await client.get("/v1/messages", params={"direction": "inbound"})).json()
    assert inbound["items"] == []
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    later = (await client.get("/v1/messages", params={"date_created_after": future})).json()
    assert later["items"] == []
    await _problem(
        await client.get("/v1/messages", params={"cursor": "garbage!"}),
        422,
        "invalid_cursor",
        "cursor",
    )
    await _problem(
        await client.get("/v1/messages", params={"limit": 1000}), 422, "invalid_value", "limit"
    )
    await _problem(
        await client.get("/v1/messages", params={"status": "lost"}), 422, "invalid_value", "status"
    )
    await _problem(
        await client.get("/v1/messages", params={"date_created_after": "monday"}),
        422,
        "invalid_datetime",
        "date_created_after",
    )


async def test_a_client_that_leaves_mid_body_gets_no_answer_and_no_noise(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = api.url.removeprefix("http://").split(":")
    _reader, writer = await asyncio.open_connection(host, int(port))
    key = api.admin_key
    writer.write(
        b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {key.token}\r\nContent-Length: 100\r\n\r\n".encode()
        + b'{"to": "+1'
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    await asyncio.sleep(0.1)
    assert not [r for r in caplog.records if r.name.startswith("marconi")]
    assert (await api.client().get("/v1/messages")).json()["items"] == []
