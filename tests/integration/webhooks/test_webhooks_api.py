"""``/v1/webhooks`` over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import orjson
from tests.integration.api.conftest import Api, api, pg_schema, sqlite_template, start_api

from marconi.store.model import NewWebhook, WebhookAttemptResult

__all__ = ["api", "pg_schema", "sqlite_template", "start_api"]

NOW = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


async def _deliveries(api: Api, account_id: str, count: int, *, message_id: str) -> list[str]:
    ids = []
    for n in range(count):
        new = NewWebhook(
            account_id=account_id,
            url="https://hooks.example/status",
            event_type="message.status",
            payload=orjson.dumps({"type": "message.status", "n": n}).decode(),
            message_id=message_id if n % 2 == 0 else None,
            sequence=n + 1,
        )
        delivery = await api.store.inner.enqueue_webhook(new, now=NOW + timedelta(seconds=n))
        ids.append(delivery.id)
    return ids


async def test_list_page_filter_detail_and_replay(api: Api) -> None:
    account_id = api.admin_key.key.account_id
    message_id = "SM" + "5" * 32
    ids = await _deliveries(api, account_id, 5, message_id=message_id)
    store = api.store.inner
    await store.record_webhook_attempts(
        [
            WebhookAttemptResult(delivery_id=ids[0], ok=True, status_code=204, duration_ms=3),
            WebhookAttemptResult(
                delivery_id=ids[1], ok=False, status_code=410, error="HTTP 410", duration_ms=4
            ),
        ],
        now=NOW + timedelta(minutes=1),
    )
    client = api.client()

    first = await client.get("/v1/webhooks/deliveries", params={"limit": 2})
    assert first.status_code == 200
    page = first.json()
    assert [d["id"] for d in page["items"]] == [ids[4], ids[3]]  # newest first
    second = await client.get(
        "/v1/webhooks/deliveries", params={"limit": 2, "cursor": page["next_cursor"]}
    )
    third = await client.get(
        "/v1/webhooks/deliveries", params={"limit": 2, "cursor": second.json()["next_cursor"]}
    )
    assert [d["id"] for d in second.json()["items"]] == [ids[2], ids[1]]
    assert [d["id"] for d in third.json()["items"]] == [ids[0]]
    assert third.json()["next_cursor"] is None

    dead = await client.get("/v1/webhooks/deliveries", params={"status": "dead"})
    assert [d["id"] for d in dead.json()["items"]] == [ids[1]]
    mine = await client.get("/v1/webhooks/deliveries", params={"message_id": message_id})
    assert {d["id"] for d in mine.json()["items"]} == {ids[0], ids[2], ids[4]}
    bad = await client.get("/v1/webhooks/deliveries", params={"status": "lost"})
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_value"
    assert bad.json()["field"] == "status"

    detail = await client.get(f"/v1/webhooks/deliveries/{ids[0]}")
    body = detail.json()
    assert (body["status"], body["attempts"], body["payload"]) == (
        "delivered",
        1,
        {"type": "message.status", "n": 0},
    )
    assert [(a["number"], a["status_code"], a["duration_ms"]) for a in body["attempt_log"]] == [
        (1, 204, 3)
    ]

    replayed = await client.post(f"/v1/webhooks/deliveries/{ids[1]}/replay")
    assert replayed.status_code == 200
    assert replayed.json()["status"] == "pending"
    again = await client.post(f"/v1/webhooks/deliveries/{ids[1]}/replay")
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_another_accounts_deliveries_are_not_found(api: Api) -> None:
    admin_id = api.admin_key.key.account_id
    (theirs,) = await _deliveries(api, admin_id, 1, message_id="SM" + "6" * 32)
    _, key = await api.services.accounts.create_subaccount(admin_id, name="other", with_key=True)
    assert key is not None
    other = api.client(key)
    for response in (
        await other.get(f"/v1/webhooks/deliveries/{theirs}"),
        await other.post(f"/v1/webhooks/deliveries/{theirs}/replay"),
        await other.get(f"/v1/webhooks/deliveries/WH{'0' * 32}"),
    ):
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    listed = await other.get("/v1/webhooks/deliveries")
    assert listed.json()["items"] == []
    assert (await api.anonymous().get("/v1/webhooks/deliveries")).status_code == 401


async def test_the_signing_secret_is_shown_and_rotated(api: Api) -> None:
    client = api.client()
    shown = await client.get("/v1/webhooks/secret")
    assert shown.status_code == 200
    assert shown.headers["cache-control"] == "no-store"
    secret = shown.json()["secret"]
    assert secret.startswith("whsec_")
    assert (await client.get("/v1/webhooks/secret")).json()["secret"] == secret

    rotated = await client.post("/v1/webhooks/secret/rotate", json={"grace_period": 3600})
    assert rotated.status_code == 200
    data = rotated.json()
    assert data["secret"] != secret
    assert data["previous_secret_valid_until"] is not None
    assert (await client.get("/v1/webhooks/secret")).json()["secret"] == data["secret"]

    no_body = await client.post("/v1/webhooks/secret/rotate")
    assert no_body.status_code == 200
    too_long = await client.post("/v1/webhooks/secret/rotate", json={"grace_period": 10**9})
    assert too_long.status_code == 422
    unknown = await client.post("/v1/webhooks/secret/rotate", json={"grace": 5})
    assert unknown.status_code == 422

    # another account has a secret of its own
    _, key = await api.services.accounts.create_subaccount(
        api.admin_key.key.account_id, with_key=True
    )
    assert key is not None
    other = (await api.client(key).get("/v1/webhooks/secret")).json()["secret"]
    assert other not in (secret, data["secret"])


async def test_the_routes_are_in_the_openapi_document(api: Api) -> None:
    document = (await api.anonymous().get("/openapi.json")).json()
    paths = document["paths"]
    assert "/v1/webhooks/deliveries" in paths
    assert "post" in paths["/v1/webhooks/deliveries/{delivery_id}/replay"]
    assert "/v1/webhooks/secret/rotate" in paths
