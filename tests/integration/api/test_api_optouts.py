"""/v1/optouts over real HTTP, on SQLite and PostgreSQL: the list, the send refusal, keyword
settings, and each account seeing only its own."""

from __future__ import annotations

import httpx
from tests.integration.api.conftest import Api

TO = "+14155550100"
NUMBER = "+14155550000"


async def _tenant(api: Api, name: str) -> httpx.AsyncClient:
    made = (await api.client().post("/v1/accounts", json={"name": name})).json()
    client = api.anonymous()
    client.auth = (made["key"]["id"], made["key"]["secret"])
    return client


async def test_opt_out_refuses_the_send_and_removing_it_allows_it(api: Api) -> None:
    client = api.client()
    assert (await client.post("/v1/numbers", json={"number": NUMBER})).status_code == 201
    added = await client.post("/v1/optouts", json={"to": "+1 (415) 555-0100", "from": NUMBER})
    assert added.status_code == 201, added.text
    assert added.json()["to"] == TO
    assert added.json()["from"] == NUMBER
    assert added.json()["source"] == "api"
    refused = await client.post("/v1/messages", json={"to": TO, "from": NUMBER, "body": "hi"})
    assert refused.status_code == 422
    problem = refused.json()
    assert (problem["code"], problem["field"]) == ("destination_opted_out", "to")
    assert TO in problem["detail"]
    # the fast send path and the same check: the other sender is not stopped
    other = await client.post("/v1/messages", json={"to": TO, "from": "Marconi", "body": "hi"})
    assert other.status_code == 201
    listed = (await client.get("/v1/optouts")).json()
    assert [(o["to"], o["from"]) for o in listed["items"]] == [(TO, NUMBER)]
    assert listed["next_cursor"] is None
    missing = await client.delete(f"/v1/optouts/{TO}")  # no account-wide one
    assert missing.status_code == 404
    removed = await client.delete(f"/v1/optouts/{TO}", params={"from": NUMBER})
    assert removed.status_code == 204
    again = await client.post("/v1/messages", json={"to": TO, "from": NUMBER, "body": "hi"})
    assert again.status_code == 201
    messages = (await client.get("/v1/messages", params={"to": TO})).json()["items"]
    assert len(messages) == 2  # the refused send stored nothing


async def test_bad_input_is_a_clear_error(api: Api) -> None:
    client = api.client()
    bad_to = await client.post("/v1/optouts", json={"to": "12"})
    assert (bad_to.status_code, bad_to.json()["field"]) == (422, "to")
    unknown = await client.post("/v1/optouts", json={"to": TO, "reason": "x"})
    assert unknown.json()["code"] == "unknown_field"
    cursor = await client.get("/v1/optouts", params={"cursor": "nope!"})
    assert cursor.json()["code"] == "invalid_cursor"


async def test_pages(api: Api) -> None:
    client = api.client()
    numbers = [f"+1415555{n:04d}" for n in range(5)]
    for number in numbers:
        assert (await client.post("/v1/optouts", json={"to": number})).status_code == 201
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/v1/optouts", params=params)).json()
        seen += [o["to"] for o in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == numbers
    one = (await client.get("/v1/optouts", params={"to": numbers[3]})).json()["items"]
    assert [o["to"] for o in one] == [numbers[3]]


async def test_each_account_sees_and_is_stopped_by_its_own_opt_outs_only(api: Api) -> None:
    alice = await _tenant(api, "alice")
    bob = await _tenant(api, "bob")
    await alice.post("/v1/numbers", json={"number": "Alice"})
    await bob.post("/v1/numbers", json={"number": "Bob"})
    assert (await alice.post("/v1/optouts", json={"to": TO})).status_code == 201
    assert (await bob.get("/v1/optouts")).json()["items"] == []
    assert (await bob.delete(f"/v1/optouts/{TO}")).status_code == 404
    assert (await bob.post("/v1/messages", json={"to": TO, "body": "b"})).status_code == 201
    assert (await alice.post("/v1/messages", json={"to": TO, "body": "a"})).status_code == 422


async def test_keyword_settings_round_trip_and_reset(api: Api) -> None:
    client = api.client()
    defaults = (await client.get("/v1/optouts/keywords")).json()
    assert defaults["enabled"] is True
    english = defaults["languages"][0]
    assert english["opt_out"] == ["STOP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"]
    assert english["opt_out_all"] == ["STOPALL"]
    assert english["opt_in"] == ["START", "YES", "UNSTOP"]
    assert english["help"] == ["HELP", "INFO"]
    spanish = {"language": "es", "opt_out": ["baja"], "replies": {"opt_out": "Baja hecha"}}
    put = await client.put("/v1/optouts/keywords", json={"languages": [english, spanish]})
    assert put.status_code == 200, put.text
    assert put.json()["languages"][1]["opt_out"] == ["BAJA"]
    assert (await client.get("/v1/optouts/keywords")).json() == put.json()
    duplicate = await client.put(
        "/v1/optouts/keywords",
        json={"languages": [english, {"language": "es", "opt_in": ["stop"]}]},
    )
    assert (duplicate.status_code, duplicate.json()["code"]) == (422, "duplicate_keyword")
    assert duplicate.json()["field"] == "languages[1].opt_in"
    reset = await client.delete("/v1/optouts/keywords")
    assert reset.json() == defaults
    other = await _tenant(api, "other")
    assert (await other.get("/v1/optouts/keywords")).json() == defaults
