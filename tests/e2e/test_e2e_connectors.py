"""Connectors and routes through the API on a running service: real HTTP in, real SMPP out to
simulators on loopback, changes applied without a restart."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.harness import Service, running, settings_for

from marconi.runtime import Runtime
from marconi.services.connector import LinkState
from marconi.simulator import Account, Simulator, SimulatorConfig

DOWN = LinkState(up=False, last_error=None)


@pytest.fixture
async def second() -> AsyncIterator[Simulator]:
    sim = Simulator(SimulatorConfig(port=0, accounts=(Account("acme", "s3cret"),)))
    await sim.start()
    yield sim
    await sim.aclose()


def smpp_connector(sim: Simulator, **extra: Any) -> dict[str, Any]:
    return {
        "type": "smpp",
        "host": "127.0.0.1",
        "port": sim.port,
        "system_id": "acme",
        "password": "s3cret",
        "window": 32,
        **extra,
    }


async def wait_up(svc: Service, name: str, up: bool = True, within: float = 5.0) -> Any:
    async with asyncio.timeout(within):
        while True:
            got = (await svc.client.get(f"/v1/connectors/{name}")).json()
            if got["up"] is up:
                return got
            await asyncio.sleep(0.02)


async def eventually(check: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not check():  # noqa: ASYNC110 - nothing to wait on but the state itself
            await asyncio.sleep(0.02)


async def wait_sessions(sim: Simulator, count: int, within: float = 5.0) -> None:
    await eventually(lambda: len(sim.server.bound_sessions()) == count, within)


async def send(svc: Service, to: str, body: str) -> Any:
    resp = await svc.client.post("/v1/messages", json={"to": to, "body": body})
    assert resp.status_code == 201, resp.text
    return resp.json()


async def test_a_connector_and_a_route_added_through_the_api_carry_messages_at_once(
    tmp_path: Path, second: Simulator
) -> None:
    async with running(settings_for(tmp_path)) as svc:
        resp = await svc.client.put("/v1/connectors/carrier-b", json=smpp_connector(second))
        assert resp.status_code == 200, resp.text
        shown = resp.json()
        assert shown["name"] == "carrier-b"
        assert shown["source"] == "api"
        assert shown["password_set"] is True
        assert "password" not in shown
        assert "s3cret" not in resp.text
        await wait_up(svc, "carrier-b")
        assert second.counters.binds == 1

        resp = await svc.client.put(
            "/v1/routes", json={"routes": [{"prefixes": ["+44"], "connectors": ["carrier-b"]}]}
        )
        assert resp.status_code == 200, resp.text
        assert resp.json()["routes"] == [{"connectors": ["carrier-b"], "prefixes": ["+44"]}]
        assert resp.json()["config_routes"] == [{"connectors": ["simulator"]}]

        uk = await send(svc, "+447700900123", "via carrier b")
        us = await send(svc, "+14155550100", "via the built-in simulator")
        got = await svc.wait_status(uk["id"], "delivered")
        assert got["parts"][0]["connector"] == "carrier-b"
        assert second.handset("447700900123")[-1].text == "via carrier b"
        got = await svc.wait_status(us["id"], "delivered")
        assert got["parts"][0]["connector"] == "simulator"
        assert second.handset("14155550100") == []

        listed = (await svc.client.get("/v1/connectors")).json()["items"]
        assert [(c["name"], c["source"], c["up"]) for c in listed] == [
            ("carrier-b", "api", True),
            ("simulator", "config", True),
        ]
        assert all("password" not in c for c in listed)


async def test_changing_a_connector_rebinds_it_and_deleting_it_unbinds(
    tmp_path: Path, second: Simulator
) -> None:
    third = Simulator(SimulatorConfig(port=0, accounts=(Account("acme", "s3cret"),)))
    await third.start()
    try:
        async with running(settings_for(tmp_path)) as svc:
            await svc.client.put("/v1/connectors/carrier-b", json=smpp_connector(second))
            await svc.client.put(
                "/v1/routes", json={"routes": [{"prefixes": ["+44"], "connectors": ["carrier-b"]}]}
            )
            await wait_up(svc, "carrier-b")

            # Pointed elsewhere, without its password: the stored one is kept.
            changed = smpp_connector(third)
            del changed["password"]
            resp = await svc.client.put("/v1/connectors/carrier-b", json=changed)
            assert resp.status_code == 200, resp.text
            assert resp.json()["port"] == third.port
            await wait_sessions(second, 0)
            await wait_sessions(third, 1)
            await wait_up(svc, "carrier-b")
            sent = await send(svc, "+447700900124", "after the move")
            got = await svc.wait_status(sent["id"], "delivered")
            assert got["parts"][0]["connector"] == "carrier-b"
            assert third.handset("447700900124")[-1].text == "after the move"
            assert second.handset("447700900124") == []

            # A route still sends to it: refused until the routes change.
            resp = await svc.client.delete("/v1/connectors/carrier-b")
            assert resp.status_code == 409, resp.text
            assert "route" in resp.json()["detail"]
            assert (await svc.client.put("/v1/routes", json={"routes": []})).status_code == 200
            resp = await svc.client.delete("/v1/connectors/carrier-b")
            assert resp.status_code == 204, resp.text
            await wait_sessions(third, 0)
            assert (await svc.client.get("/v1/connectors/carrier-b")).status_code == 404
            # With the route gone, +44 goes to the catch-all again.
            sent = await send(svc, "+447700900125", "back home")
            got = await svc.wait_status(sent["id"], "delivered")
            assert got["parts"][0]["connector"] == "simulator"
    finally:
        await third.aclose()


async def test_a_switched_off_connector_unbinds_and_changes_survive_a_restart(
    tmp_path: Path, second: Simulator
) -> None:
    settings = settings_for(tmp_path)
    async with running(settings) as svc:
        auth = svc.client.auth
        await svc.client.put("/v1/connectors/carrier-b", json=smpp_connector(second))
        await svc.client.put(
            "/v1/routes", json={"routes": [{"countries": ["gb"], "connectors": ["carrier-b"]}]}
        )
        await wait_up(svc, "carrier-b")
    await wait_sessions(second, 0)
    assert isinstance(auth, httpx.BasicAuth)
    async with running(settings, auth=auth) as svc:
        await wait_up(svc, "carrier-b")
        routes = (await svc.client.get("/v1/routes")).json()["routes"]
        assert routes == [{"connectors": ["carrier-b"], "countries": ["GB"]}]
        sent = await send(svc, "+447400123456", "after a restart")
        got = await svc.wait_status(sent["id"], "delivered")
        assert got["parts"][0]["connector"] == "carrier-b"
        # Switching it off while a route names it is refused; with the route gone it unbinds.
        off = {**smpp_connector(second), "enabled": False}
        assert (await svc.client.put("/v1/connectors/carrier-b", json=off)).status_code == 409
        await svc.client.put("/v1/routes", json={"routes": []})
        resp = await svc.client.put("/v1/connectors/carrier-b", json=off)
        assert resp.status_code == 200, resp.text
        assert resp.json()["enabled"] is False
        assert resp.json()["up"] is None
        await wait_sessions(second, 0)


async def test_only_the_admin_account_manages_connectors(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path)) as svc:
        made = await svc.client.post("/v1/accounts", json={"name": "tenant"})
        assert made.status_code == 201, made.text
        key = made.json()["key"]
        async with httpx.AsyncClient(
            base_url=svc.url, auth=(key["id"], key["secret"]), timeout=10
        ) as tenant:
            for method, path, body in (
                ("GET", "/v1/connectors", None),
                ("GET", "/v1/connectors/simulator", None),
                ("PUT", "/v1/connectors/x", {"type": "simulator"}),
                ("DELETE", "/v1/connectors/simulator", None),
                ("GET", "/v1/routes", None),
                ("PUT", "/v1/routes", {"routes": []}),
            ):
                resp = await tenant.request(method, path, json=body)
                assert resp.status_code == 403, (method, path, resp.text)
                assert resp.json()["code"] == "admin_only"
        async with httpx.AsyncClient(base_url=svc.url) as anonymous:
            assert (await anonymous.get("/v1/connectors")).status_code == 401
        # Nothing changed.
        names = [c["name"] for c in (await svc.client.get("/v1/connectors")).json()["items"]]
        assert names == ["simulator"]


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        (
            {"type": "smpp", "host": "h", "system_id": "a", "port": 0},
            "invalid_connector_config",
            "port",
        ),
        (
            {"type": "smpp", "host": "h", "system_id": "a", "colour": "red"},
            "unknown_field",
            "colour",
        ),
        ({"type": "smpp", "host": "h"}, "invalid_connector_config", "system_id"),
        (
            {"type": "smpp", "host": "h", "system_id": "a", "password": "ninechars"},
            "invalid_connector_config",
            "password",
        ),
        ({"type": "modem"}, "invalid_connector_config", "type"),
        ({"type": "simulator", "host": "10.0.0.1"}, "invalid_connector_config", "host"),
        ({"type": "simulator", "name": "other"}, "invalid_value", "name"),
        ({"type": "simulator", "enabled": "no"}, "invalid_type", "enabled"),
    ],
)
async def test_a_bad_connector_is_refused_with_the_field_to_fix(
    tmp_path: Path, body: dict[str, Any], code: str, field: str
) -> None:
    async with running(settings_for(tmp_path)) as svc:
        resp = await svc.client.put("/v1/connectors/c1", json=body)
        assert resp.status_code == 422, resp.text
        problem = resp.json()
        assert (problem["code"], problem["field"]) == (code, field), problem
        assert (await svc.client.get("/v1/connectors/c1")).status_code == 404


async def test_bad_routes_and_file_connectors_are_refused(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path)) as svc:
        for body, code in (
            ({"routes": [{"connectors": ["nowhere"]}]}, "unknown_connector"),
            (
                {"routes": [{"prefixes": ["44"], "connectors": ["simulator"]}]},
                "invalid_connector_config",
            ),
            ({"routes": [{"connectors": []}]}, "invalid_connector_config"),
            ({"routes": {"connectors": ["simulator"]}}, "invalid_type"),
            ({"rules": []}, "unknown_field"),
            ({}, "missing_field"),
        ):
            resp = await svc.client.put("/v1/routes", json=body)
            assert resp.status_code == 422, (body, resp.text)
            assert resp.json()["code"] == code, (body, resp.json())
        assert (await svc.client.get("/v1/routes")).json()["routes"] == []
        resp = await svc.client.delete("/v1/connectors/simulator")
        assert resp.status_code == 409
        assert "config file" in resp.json()["detail"]
        assert (await svc.client.delete("/v1/connectors/nothing")).status_code == 404
        assert (await svc.client.put("/v1/connectors/bad name", json={})).status_code == 422


async def test_another_node_applies_a_change_made_through_this_one(
    tmp_path: Path, second: Simulator
) -> None:
    settings = settings_for(tmp_path)
    async with running(settings) as svc:
        other = await Runtime.build(settings, store=svc.runtime.store, webhooks=False)
        other.links_poll_interval = 0.05
        await other.start()
        try:
            resp = await svc.client.put("/v1/connectors/carrier-b", json=smpp_connector(second))
            assert resp.status_code == 200, resp.text
            await wait_sessions(second, 2)  # one bind from each node
            await eventually(lambda: (other.link_state("carrier-b") or DOWN).up)
            await svc.client.put(
                "/v1/routes", json={"routes": [{"prefixes": ["+44"], "connectors": ["carrier-b"]}]}
            )
            await eventually(
                lambda: (
                    other.dispatcher.router.candidates("+447700900127", "Marconi")
                    == ("carrier-b", "simulator")
                )
            )
            await svc.client.put("/v1/routes", json={"routes": []})
            assert (await svc.client.delete("/v1/connectors/carrier-b")).status_code == 204
            await wait_sessions(second, 0)
            await eventually(lambda: other.link_state("carrier-b") is None)
        finally:
            await other.aclose()


async def test_the_routes_are_in_the_openapi_document(tmp_path: Path) -> None:
    async with running(settings_for(tmp_path)) as svc:
        paths = (await svc.client.get("/openapi.json")).json()["paths"]
        assert set(paths["/v1/connectors/{name}"]) == {"get", "put", "delete"}
        assert set(paths["/v1/routes"]) == {"get", "put"}
        assert "403" in paths["/v1/connectors"]["get"]["responses"]


async def test_messages_in_flight_while_a_connector_rebinds_are_all_delivered(
    tmp_path: Path, second: Simulator
) -> None:
    """Changed settings on the same SMSC: the link unbinds and binds again while messages flow;
    receipts the SMSC owed the old bind come on the new one, so every message is delivered."""
    unlimited = dataclasses.replace(settings_for(tmp_path), rate_limit=0.0)  # many polls
    async with running(unlimited) as svc:
        await svc.client.put("/v1/connectors/carrier-b", json=smpp_connector(second))
        await svc.client.put(
            "/v1/routes", json={"routes": [{"prefixes": ["+44"], "connectors": ["carrier-b"]}]}
        )
        await wait_up(svc, "carrier-b")

        async def burst(start: int) -> list[str]:
            return [
                (await send(svc, f"+4474001{n:05d}", f"m{n}"))["id"]
                for n in range(start, start + 100)
            ]

        changed = smpp_connector(second, window=16, throughput=5000)
        moving = asyncio.create_task(svc.client.put("/v1/connectors/carrier-b", json=changed))
        ids = [i for chunk in await asyncio.gather(burst(0), burst(100)) for i in chunk]
        assert (await moving).status_code == 200
        for message_id in ids:
            got = await svc.wait_status(message_id, "delivered", within=15.0)
            # While carrier-b rebinds, its route fails over to the config file's catch-all.
            assert got["parts"][0]["connector"] in ("carrier-b", "simulator")
        assert second.counters.binds == 2
        assert (await svc.client.get("/v1/connectors/carrier-b")).json()["window"] == 16


async def test_a_route_for_the_priority_class_carries_verification_codes_only(
    tmp_path: Path, second: Simulator
) -> None:
    async with running(settings_for(tmp_path)) as svc:
        await svc.client.put("/v1/connectors/premium", json=smpp_connector(second))
        routes = [
            {"min_priority": 10, "connectors": ["premium"]},
            {"connectors": ["simulator"]},
        ]
        resp = await svc.client.put("/v1/routes", json={"routes": routes})
        assert resp.status_code == 200, resp.text
        assert resp.json()["routes"] == routes
        await wait_up(svc, "premium")

        service = (await svc.client.post("/v1/verify/services", json={"name": "Acme"})).json()
        resp = await svc.client.post(
            f"/v1/verify/services/{service['id']}/verifications", json={"to": "+447700900123"}
        )
        assert resp.status_code == 201, resp.text
        ordinary = await send(svc, "+447700900123", "an ordinary message")

        await eventually(lambda: len(second.handset("447700900123")) == 1)
        assert "an ordinary message" not in second.handset("447700900123")[0].text
        got = await svc.wait_status(ordinary["id"], "delivered")
        assert got["parts"][0]["connector"] == "simulator"
