"""Templates and their versions: the contract, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from tests.integration.store.conftest import T0
from tests.integration.store.factory import account, later

from marconi.errors import Conflict, NotFound
from marconi.store.sql import SqlStore
from marconi.store.template import template_repository_for


async def test_versions_are_numbered_per_locale_newest_first(store: SqlStore) -> None:
    repo = template_repository_for(store)
    acme = await account(store, "acme")
    template, first = await repo.create_template(
        acme.id, name="order", locale="en", body="Hi {{name}}", variables=("name",), now=T0
    )
    assert template.id.startswith("HX")
    assert template.default_locale == "en"
    assert first.version == 1
    second = await repo.add_template_version(
        acme.id, "order", locale="en", body="Hello {{name}}", variables=("name",), now=later(1)
    )
    french = await repo.add_template_version(
        acme.id, "order", locale="fr", body="Bonjour {{name}}", variables=("name",), now=later(2)
    )
    assert (second.version, french.version) == (2, 1)
    got, versions = await repo.get_template(acme.id, "order")
    assert got.updated_at == later(2)
    assert [(v.locale, v.version) for v in versions] == [("en", 2), ("en", 1), ("fr", 1)]
    assert versions[0].variables == ("name",)
    _, ones = await repo.get_template(acme.id, "order", version=1)
    assert [(v.locale, v.body) for v in ones] == [("en", "Hi {{name}}"), ("fr", "Bonjour {{name}}")]


async def test_names_are_per_account_and_unique_within_one(store: SqlStore) -> None:
    repo = template_repository_for(store)
    acme = await account(store, "acme")
    other = await account(store, "other")
    await repo.create_template(acme.id, name="t", locale="en", body="a", variables=(), now=T0)
    with pytest.raises(Conflict):
        await repo.create_template(acme.id, name="t", locale="en", body="b", variables=(), now=T0)
    await repo.create_template(other.id, name="t", locale="de", body="c", variables=(), now=T0)
    with pytest.raises(NotFound):
        await repo.get_template(other.id, "missing")
    with pytest.raises(NotFound):
        await repo.add_template_version(
            other.id, "missing", locale="en", body="x", variables=(), now=T0
        )
    assert [t.default_locale for t in await repo.list_templates(other.id)] == ["de"]
    await repo.delete_template(other.id, "t")
    with pytest.raises(NotFound):
        await repo.delete_template(other.id, "t")
    assert await repo.list_templates(other.id) == []
    assert [t.name for t in await repo.list_templates(acme.id)] == ["t"]


async def test_concurrent_new_versions_get_distinct_numbers(store: SqlStore) -> None:
    repo = template_repository_for(store)
    acme = await account(store, "acme")
    await repo.create_template(acme.id, name="t", locale="en", body="0", variables=(), now=T0)
    made = await asyncio.gather(
        *(
            repo.add_template_version(acme.id, "t", locale="en", body=str(i), variables=(), now=T0)
            for i in range(10)
        )
    )
    assert sorted(v.version for v in made) == list(range(2, 12))
