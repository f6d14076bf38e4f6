"""/v1/verify over real HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import httpx
from tests.integration.api.conftest import Api, api, sqlite_template, start_api

__all__ = ["api", "sqlite_template", "start_api"]


async def sender(client: httpx.AsyncClient, number: str = "+15550000001") -> None:
    response = await client.post("/v1/numbers", json={"number": number})
    assert response.status_code == 201, response.text


async def code_of(client: httpx.AsyncClient, verification: dict[str, object]) -> str:
    message = (await client.get(f"/v1/messages/{verification['message_id']}")).json()
    found = re.search(r"\d{4,10}", message["body"])
    assert found is not None
    return found.group(0)


async def test_start_check_and_approve(api: Api) -> None:
    client = api.client()
    await sender(client)
    created = await client.post(
        "/v1/verify/services", json={"name": "Acme", "code_length": 8, "ttl": 300}
    )
    assert created.status_code == 201, created.text
    service = created.json()
    assert (service["code_length"], service["ttl"], service["max_attempts"]) == (8, 300, 5)
    base = f"/v1/verify/services/{service['id']}"

    started = await client.post(f"{base}/verifications", json={"to": "+44 7700 900123"})
    assert started.status_code == 201, started.text
    v = started.json()
    assert (v["status"], v["to"], v["country"], v["resent"]) == (
        "pending",
        "+447700900123",
        "GB",
        False,
    )
    code = await code_of(client, v)
    assert len(code) == 8
    assert code not in started.text

    wrong = str((int(code) + 1) % 10**8).zfill(8)
    bad = await client.post(f"{base}/verifications/{v['id']}/check", json={"code": wrong})
    assert bad.status_code == 200
    assert bad.json()["valid"] is False
    assert bad.json()["verification"]["attempts"] == 1

    good = await client.post(f"{base}/check", json={"to": "+447700900123", "code": code})
    assert good.status_code == 200
    assert good.json()["valid"] is True
    assert good.json()["verification"]["status"] == "approved"

    again = await client.post(f"{base}/verifications/{v['id']}/check", json={"code": code})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["code"] == "verification_approved"

    shown = await client.get(f"{base}/verifications/{v['id']}")
    assert shown.json()["status"] == "approved"


async def test_the_guard_refuses_with_a_clear_error_and_lists_the_blocks(api: Api) -> None:
    client = api.client()
    await sender(client)
    service = (
        await client.post(
            "/v1/verify/services",
            json={"name": "Acme", "prefix_limit": 2, "allowed_countries": ["gb"]},
        )
    ).json()
    base = f"/v1/verify/services/{service['id']}"
    for n in (1, 2):
        ok = await client.post(f"{base}/verifications", json={"to": f"+44770090010{n}"})
        assert ok.status_code == 201
    burst = await client.post(f"{base}/verifications", json={"to": "+447700900109"})
    assert burst.status_code == 429
    problem = burst.json()
    assert (problem["code"], problem["field"]) == ("prefix_limit", "to")
    assert "+447700900XXX" in problem["detail"]
    abroad = await client.post(f"{base}/verifications", json={"to": "+15550100123"})
    assert abroad.status_code == 403
    assert abroad.json()["code"] == "country_not_allowed"
    # Ordinary traffic to the blocked range goes on.
    plain = await client.post("/v1/messages", json={"to": "+447700900109", "body": "hello"})
    assert plain.status_code == 201

    blocks = (await client.get(f"{base}/blocks")).json()["items"]
    assert [(b["reason"], b["to"]) for b in blocks] == [
        ("country_not_allowed", "+15550100123"),
        ("prefix_limit", "+447700900109"),
    ]


async def test_bad_input_is_a_clear_422(api: Api) -> None:
    client = api.client()
    await sender(client)
    for body, field in (
        ({"name": "x", "code_length": 3}, "code_length"),
        ({"name": "x", "template": "hello"}, "template"),
        ({"name": "x", "colour": "red"}, "colour"),
        ({"code_length": 6}, "name"),
    ):
        response = await client.post("/v1/verify/services", json=body)
        assert response.status_code == 422, body
        assert response.json()["field"] == field, response.json()
    service = (await client.post("/v1/verify/services", json={"name": "Acme"})).json()
    base = f"/v1/verify/services/{service['id']}"
    bad_to = await client.post(f"{base}/verifications", json={"to": "12"})
    assert (bad_to.status_code, bad_to.json()["code"]) == (422, "invalid_phone_number")
    v = (await client.post(f"{base}/verifications", json={"to": "+447700900123"})).json()
    letters = await client.post(f"{base}/verifications/{v['id']}/check", json={"code": "abcd"})
    assert (letters.status_code, letters.json()["field"]) == (422, "code")


async def test_another_account_sees_nothing(api: Api) -> None:
    client = api.client()
    await sender(client)
    service = (await client.post("/v1/verify/services", json={"name": "Acme"})).json()
    base = f"/v1/verify/services/{service['id']}"
    v = (await client.post(f"{base}/verifications", json={"to": "+447700900123"})).json()

    sub = (await client.post("/v1/accounts", json={"name": "other"})).json()
    other = api.anonymous()
    other.auth = (sub["key"]["id"], sub["key"]["secret"])
    for response in (
        await other.get(base),
        await other.get(f"{base}/verifications/{v['id']}"),
        await other.post(f"{base}/verifications", json={"to": "+447700900124"}),
        await other.post(f"{base}/verifications/{v['id']}/check", json={"code": "123456"}),
        await other.post(f"{base}/verifications/{v['id']}/cancel"),
        await other.get(f"{base}/blocks"),
    ):
        assert response.status_code == 404, response.text
    assert (await other.get("/v1/verify/services")).json() == {"items": []}
    unauthenticated = await api.anonymous().get("/v1/verify/services")
    assert unauthenticated.status_code == 401
