from __future__ import annotations

import base64

from tests.integration.api.conftest import Api, StartApi

from marconi.api import ApiOptions
from marconi.services import ADMIN_ACCOUNT_ID


async def test_basic_and_bearer_both_work(api: Api) -> None:
    key = api.admin_key
    basic = await api.client().get("/v1/numbers")
    assert basic.status_code == 200
    bearer = await api.anonymous().get(
        "/v1/numbers", headers={"Authorization": f"Bearer {key.token}"}
    )
    assert bearer.status_code == 200
    assert bearer.json() == basic.json()


async def _refused(api: Api, headers: dict[str, str]) -> None:
    response = await api.anonymous().get("/v1/numbers", headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert "Basic" in response.headers["www-authenticate"]
    problem = response.json()
    assert problem["code"] == "unauthorized"
    assert problem["status"] == 401


async def test_missing_wrong_and_malformed_credentials_are_401(api: Api) -> None:
    key = api.admin_key
    wrong = base64.b64encode(f"{key.key.id}:{key.secret}x".encode()).decode()
    await _refused(api, {})
    await _refused(api, {"Authorization": f"Basic {wrong}"})
    await _refused(api, {"Authorization": f"Bearer {key.key.id}:nope"})
    await _refused(api, {"Authorization": f"Bearer {key.secret}"})
    await _refused(api, {"Authorization": "Basic !!!"})
    await _refused(api, {"Authorization": f"Digest {key.token}"})


async def test_a_revoked_key_is_refused_at_once(api: Api) -> None:
    created = await api.client().post("/v1/keys", json={"name": "short-lived"})
    assert created.status_code == 201
    data = created.json()
    token = data["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.anonymous().get("/v1/numbers", headers=headers)).status_code == 200
    revoked = await api.client().delete(f"/v1/keys/{data['id']}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    await _refused(api, headers)


async def test_the_account_auth_token_works_as_basic(api: Api) -> None:
    created = await api.client().post("/v1/accounts", json={"name": "tenant"})
    assert created.status_code == 201
    account = created.json()
    auth = (account["sid"], account["auth_token"])
    response = await api.anonymous().get(f"/v1/accounts/{account['sid']}", auth=auth)
    assert response.status_code == 200
    assert response.json()["parent_sid"] == ADMIN_ACCOUNT_ID
    await _refused(
        api,
        {"Authorization": "Basic " + base64.b64encode(f"{account['sid']}:wrong".encode()).decode()},
    )


async def test_the_rate_limit_answers_429_with_retry_after(start_api: StartApi) -> None:
    api = await start_api(ApiOptions(rate_limit=0.5, rate_burst=2))
    client = api.client()
    assert (await client.get("/v1/numbers")).status_code == 200
    assert (await client.get("/v1/numbers")).status_code == 200
    limited = await client.get("/v1/numbers")
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert int(limited.headers["retry-after"]) == 2
    assert limited.json()["code"] == "rate_limited"
    sent = await client.post("/v1/messages", json={"to": "+14155550100", "body": "x"})
    assert sent.status_code == 429  # the fast route counts against the same key
    other = await api.client().post("/v1/keys", json={})
    assert other.status_code == 429
