"""Connectors and routes configured through the API, read back through marconi.config."""

from __future__ import annotations

import pytest
from tests.integration.store.conftest import T0
from tests.integration.store.factory import later

from marconi.config import SmppConnectorConfig, connector_from_mapping, route_from_mapping
from marconi.errors import NotFound
from marconi.store.sql import SqlStore

CARRIER = {
    "type": "smpp",
    "name": "carrier",
    "host": "127.0.0.1",
    "port": 2775,
    "system_id": "acme",
    "password": "secret",
    "window": 16,
    "throughput": 50.5,
}


async def test_connectors_round_trip_and_parse(store: SqlStore) -> None:
    stored = await store.put_connector(name="carrier", kind="smpp", settings=CARRIER, now=T0)
    assert await store.get_connector("carrier") == stored
    parsed = connector_from_mapping(stored.settings, where="connector 'carrier'")
    assert isinstance(parsed, SmppConnectorConfig)
    assert (parsed.window, parsed.throughput, parsed.password) == (16, 50.5, "secret")

    replaced = await store.put_connector(
        name="carrier", kind="smpp", settings={**CARRIER, "window": 32}, now=later(5), enabled=False
    )
    assert replaced.created_at == T0
    assert replaced.updated_at == later(5)
    assert not replaced.enabled
    await store.put_connector(name="sim", kind="simulator", settings={"type": "simulator"}, now=T0)
    assert [c.name for c in await store.list_connectors()] == ["carrier", "sim"]
    assert (await store.get_connector("carrier")).settings["window"] == 32

    await store.delete_connector("sim")
    with pytest.raises(NotFound):
        await store.get_connector("sim")
    with pytest.raises(NotFound):
        await store.delete_connector("sim")


async def test_routes_are_replaced_whole_and_keep_their_order(store: SqlStore) -> None:
    assert await store.list_routes() == []
    first = [{"prefixes": ["+44"], "connectors": ["carrier", "sim"]}, {"connectors": ["sim"]}]
    await store.replace_routes(first, now=T0)
    assert await store.list_routes() == first
    assert route_from_mapping((await store.list_routes())[0]).prefixes == ("+44",)
    await store.replace_routes([{"connectors": ["carrier"]}], now=later(1))
    assert await store.list_routes() == [{"connectors": ["carrier"]}]
    await store.replace_routes([], now=later(2))
    assert await store.list_routes() == []
