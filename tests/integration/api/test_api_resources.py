from __future__ import annotations

from typing import Any

from tests.integration.api.conftest import Api

from marconi.services import ADMIN_ACCOUNT_ID

TO = "+14155550100"


async def test_numbers_crud(api: Api) -> None:
    client = api.client()
    created = await client.post(
        "/v1/numbers",
        json={"number": "+44 7700 900123", "inbound_webhook_url": "http://127.0.0.1:9/in"},
    )
    assert created.status_code == 201
    number = created.json()
    assert (number["number"], number["kind"]) == ("+447700900123", "e164")
    assert number["inbound_webhook_method"] == "POST"
    duplicate = await client.post("/v1/numbers", json={"number": "+447700900123"})
    assert duplicate.status_code == 409
    assert duplicate.json()["code"] == "conflict"
    patched = await client.patch(
        f"/v1/numbers/{number['id']}",
        json={"inbound_webhook_method": "GET", "status_callback_url": "https://x.test/s"},
    )
    assert patched.status_code == 200
    assert patched.json()["inbound_webhook_url"] == "http://127.0.0.1:9/in"
    assert patched.json()["inbound_webhook_method"] == "GET"
    cleared = await client.patch(f"/v1/numbers/{number['id']}", json={"inbound_webhook_url": None})
    assert cleared.json()["inbound_webhook_url"] is None
    assert cleared.json()["status_callback_url"] == "https://x.test/s"
    listed = (await client.get("/v1/numbers")).json()["items"]
    assert {n["number"] for n in listed} == {"Marconi", "+447700900123"}
    sent = await client.post(
        "/v1/messages", json={"to": TO, "from": "+447700900123", "body": "from my number"}
    )
    assert sent.status_code == 201
    assert (await client.delete(f"/v1/numbers/{number['id']}")).status_code == 204
    assert (await client.get(f"/v1/numbers/{number['id']}")).status_code == 404
    gone = await client.post(
        "/v1/messages", json={"to": TO, "from": "+447700900123", "body": "not any more"}
    )
    assert gone.status_code == 422
    assert gone.json()["code"] == "sender_not_owned"
    bad = await client.post("/v1/numbers", json={"number": "Far too long a sender"})
    assert (bad.status_code, bad.json()["code"], bad.json()["field"]) == (
        422,
        "invalid_sender",
        "number",
    )


async def test_keys_show_their_secret_once(api: Api) -> None:
    client = api.client()
    created = await client.post("/v1/keys", json={"name": "deploy"})
    assert created.status_code == 201
    key = created.json()
    assert key["secret"]
    assert key["token"] == f"{key['id']}:{key['secret']}"
    assert key["account_sid"] == ADMIN_ACCOUNT_ID
    listed = (await client.get("/v1/keys")).json()["items"]
    assert {k["id"] for k in listed} == {api.admin_key.key.id, key["id"]}
    assert all("secret" not in k for k in listed)
    shown = (await client.get(f"/v1/keys/{key['id']}")).json()
    assert "secret" not in shown
    assert shown["name"] == "deploy"


async def test_sub_accounts(api: Api) -> None:
    client = api.client()
    created = await client.post("/v1/accounts", json={"name": "tenant"})
    assert created.status_code == 201
    account = created.json()
    assert account["parent_sid"] == ADMIN_ACCOUNT_ID
    assert account["auth_token"]
    assert account["key"]["secret"]
    listed = (await client.get("/v1/accounts")).json()["items"]
    assert [a["sid"] for a in listed] == [account["sid"]]
    assert all("auth_token" not in a for a in listed)
    own = await client.get(f"/v1/accounts/{ADMIN_ACCOUNT_ID}")
    assert own.json()["sid"] == ADMIN_ACCOUNT_ID


async def test_every_path_with_another_accounts_ids_is_404(api: Api) -> None:
    admin = api.client()
    made: list[dict[str, Any]] = []
    for name in ("alice", "bob"):
        account = (await admin.post("/v1/accounts", json={"name": name})).json()
        made.append(account)
    alice_key, bob_key = (a["key"] for a in made)
    alice = api.anonymous()
    alice.auth = (alice_key["id"], alice_key["secret"])
    bob = api.anonymous()
    bob.auth = (bob_key["id"], bob_key["secret"])

    number = (await alice.post("/v1/numbers", json={"number": "Alice"})).json()
    message = (await alice.post("/v1/messages", json={"to": TO, "body": "private"})).json()
    assert message["from"] == "Alice"
    ids = {
        "message": message["id"],
        "number": number["id"],
        "key": alice_key["id"],
        "account": made[0]["sid"],
    }
    for outsider in (bob, admin):
        calls = [
            outsider.get(f"/v1/messages/{ids['message']}"),
            outsider.post(f"/v1/messages/{ids['message']}/cancel"),
            outsider.post(f"/v1/messages/{ids['message']}/redact"),
            outsider.get(f"/v1/numbers/{ids['number']}"),
            outsider.patch(f"/v1/numbers/{ids['number']}", json={"inbound_webhook_url": None}),
            outsider.delete(f"/v1/numbers/{ids['number']}"),
            outsider.get(f"/v1/keys/{ids['key']}"),
            outsider.delete(f"/v1/keys/{ids['key']}"),
        ]
        if outsider is bob:
            calls.append(outsider.get(f"/v1/accounts/{ids['account']}"))
        for call in calls:
            response = await call
            assert response.status_code == 404, response.request.url
            assert response.json()["code"] == "not_found"
        assert (await outsider.get("/v1/messages")).json()["items"] == []
        numbers = (await outsider.get("/v1/numbers")).json()["items"]
        assert number["id"] not in {n["id"] for n in numbers}
        keys = (await outsider.get("/v1/keys")).json()["items"]
        assert alice_key["id"] not in {k["id"] for k in keys}
        # another account's sender cannot be used either
        refused = await outsider.post(
            "/v1/messages", json={"to": TO, "from": "Alice", "body": "spoof"}
        )
        assert refused.status_code == 422
        assert refused.json()["code"] == "sender_not_owned"
    # bob cannot reach the admin's account or list alice among his sub-accounts
    assert (await bob.get(f"/v1/accounts/{ADMIN_ACCOUNT_ID}")).status_code == 404
    assert (await bob.get("/v1/accounts")).json()["items"] == []
    # and all of it is still there for alice
    assert (await alice.get(f"/v1/messages/{ids['message']}")).json()["body"] == "private"
    assert (await alice.get(f"/v1/keys/{ids['key']}")).json()["revoked_at"] is None
    assert (await alice.get(f"/v1/numbers/{ids['number']}")).status_code == 200
    # the parent sees its child's account, but not its messages
    assert (await admin.get(f"/v1/accounts/{ids['account']}")).status_code == 200


async def test_health_ready_and_database_outage(api: Api) -> None:
    anonymous = api.anonymous()
    client = api.client()
    assert (await anonymous.get("/healthz")).json() == {"status": "ok"}
    assert (await anonymous.get("/readyz")).status_code == 200
    assert (await client.post("/v1/messages", json={"to": TO, "body": "up"})).status_code == 201
    api.store.down = True
    ready = await anonymous.get("/readyz")
    assert ready.status_code == 503
    assert ready.headers["content-type"] == "application/problem+json"
    assert ready.json()["code"] == "database_unavailable"
    assert (await anonymous.get("/healthz")).status_code == 200
    for response in (
        await client.post("/v1/messages", json={"to": TO, "body": "down"}),
        await client.get("/v1/messages"),
        await client.post("/v1/numbers", json={"number": "Shop"}),
    ):
        assert response.status_code == 503
        assert response.json()["code"] == "database_unavailable"
        assert response.headers["retry-after"] == "1"
        assert "Traceback" not in response.text
    api.store.down = False
    assert (await anonymous.get("/readyz")).status_code == 200
    assert (await client.post("/v1/messages", json={"to": TO, "body": "back"})).status_code == 201


async def test_unknown_routes_and_methods_are_problems(api: Api) -> None:
    client = api.client()
    missing = await client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = await client.put("/v1/messages")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


async def test_openapi_describes_the_api(api: Api) -> None:
    anonymous = api.anonymous()
    docs = await anonymous.get("/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()
    schema = (await anonymous.get("/openapi.json")).json()
    send = schema["paths"]["/v1/messages"]["post"]
    body = send["requestBody"]["content"]["application/json"]["schema"]
    assert set(body["properties"]) >= {"to", "from", "body", "send_at", "metadata"}
    assert body["additionalProperties"] is False
    assert "201" in send["responses"]
    assert "Idempotency-Key" in {p["name"] for p in send["parameters"]}
    assert {"basic", "bearer"} <= set(schema["components"]["securitySchemes"])
    for path in ("/v1/numbers", "/v1/keys", "/v1/accounts", "/v1/messages/preview"):
        assert path in schema["paths"]
