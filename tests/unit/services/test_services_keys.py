from __future__ import annotations

import asyncio

import pytest
from tests.unit.services.conftest import FakeClock

from marconi.errors import AuthenticationError, NotFound
from marconi.services import ADMIN_ACCOUNT_ID, Services
from marconi.store.sql import SqlStore


async def test_a_new_key_authenticates_and_stores_only_a_hash(
    services: Services, store: SqlStore
) -> None:
    admin = await services.accounts.admin_account()
    new = await services.keys.create_key(admin.id, name="ci")
    principal = await services.keys.authenticate(new.key.id, new.secret)
    assert principal.account_id == admin.id
    assert principal.key_id == new.key.id
    stored = await store.get_api_key(new.key.id)
    assert new.secret not in stored.secret_hash
    assert new.token == f"{new.key.id}:{new.secret}"


async def test_wrong_secret_unknown_and_malformed_keys_fail(services: Services) -> None:
    admin = await services.accounts.admin_account()
    new = await services.keys.create_key(admin.id)
    for key_id, secret in [
        (new.key.id, new.secret + "x"),
        (new.key.id, ""),
        ("SK" + "0" * 32, new.secret),
        ("not-a-key", new.secret),
    ]:
        with pytest.raises(AuthenticationError):
            await services.keys.authenticate(key_id, secret)


async def test_revoking_on_this_node_takes_effect_at_once(services: Services) -> None:
    admin = await services.accounts.admin_account()
    new = await services.keys.create_key(admin.id)
    await services.keys.authenticate(new.key.id, new.secret)  # now cached
    revoked = await services.keys.revoke_key(admin.id, new.key.id)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthenticationError):
        await services.keys.authenticate(new.key.id, new.secret)


async def test_a_revocation_elsewhere_takes_effect_within_the_cache_ttl(
    services: Services, store: SqlStore, clock: FakeClock
) -> None:
    admin = await services.accounts.admin_account()
    new = await services.keys.create_key(admin.id)
    await services.keys.authenticate(new.key.id, new.secret)
    await store.revoke_api_key(admin.id, new.key.id, now=clock())  # another node's doing
    await services.keys.authenticate(new.key.id, new.secret)  # still cached
    clock.advance(1.01)
    with pytest.raises(AuthenticationError):
        await services.keys.authenticate(new.key.id, new.secret)


async def test_last_used_is_recorded_in_the_background(
    services: Services, store: SqlStore, clock: FakeClock
) -> None:
    admin = await services.accounts.admin_account()
    new = await services.keys.create_key(admin.id)
    await services.keys.authenticate(new.key.id, new.secret)
    await services.keys.aclose()
    first = await store.get_api_key(new.key.id)
    assert first.last_used_at == clock()
    clock.advance(1)
    await services.keys.authenticate(new.key.id, new.secret)  # within the touch interval
    await services.keys.aclose()
    assert (await store.get_api_key(new.key.id)).last_used_at == first.last_used_at
    clock.advance(10)
    await services.keys.authenticate(new.key.id, new.secret)
    await services.keys.aclose()
    assert (await store.get_api_key(new.key.id)).last_used_at == clock()


async def test_concurrent_checks_of_a_cold_key_read_the_store_once(
    services: Services, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await services.accounts.admin_account()
    new = await services.keys.create_key(admin.id)
    reads = 0
    original = store.get_api_key

    async def counting(key_id: str):  # type: ignore[no-untyped-def]
        nonlocal reads
        reads += 1
        return await original(key_id)

    monkeypatch.setattr(store, "get_api_key", counting)
    results = await asyncio.gather(
        *(services.keys.authenticate(new.key.id, new.secret) for _ in range(20))
    )
    assert {p.account_id for p in results} == {admin.id}
    assert reads == 1


async def test_keys_of_other_accounts_are_not_found(services: Services) -> None:
    admin = await services.accounts.admin_account()
    sub, _ = await services.accounts.create_subaccount(admin.id, name="tenant")
    theirs = await services.keys.create_key(sub.account.id)
    with pytest.raises(NotFound):
        await services.keys.get_key(admin.id, theirs.key.id)
    with pytest.raises(NotFound):
        await services.keys.revoke_key(admin.id, theirs.key.id)
    assert [k.id for k in await services.keys.list_keys(admin.id)] == []
    assert (await services.keys.get_key(sub.account.id, theirs.key.id)).id == theirs.key.id


async def test_account_auth_tokens_authenticate(services: Services) -> None:
    boot = await services.accounts.ensure_admin()
    assert boot is not None
    principal = await services.keys.authenticate_account(ADMIN_ACCOUNT_ID, boot.auth_token)
    assert principal.key_id is None
    assert principal.credential_id == ADMIN_ACCOUNT_ID
    with pytest.raises(AuthenticationError):
        await services.keys.authenticate_account(ADMIN_ACCOUNT_ID, boot.auth_token + "x")
    rotated = await services.accounts.rotate_auth_token(ADMIN_ACCOUNT_ID, ADMIN_ACCOUNT_ID)
    with pytest.raises(AuthenticationError):
        await services.keys.authenticate_account(ADMIN_ACCOUNT_ID, boot.auth_token)
    assert (
        await services.keys.authenticate_account(ADMIN_ACCOUNT_ID, rotated.auth_token)
    ).key_id is None


async def test_a_read_in_flight_during_a_revocation_is_not_cached(
    services: Services, store: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin = await services.accounts.admin_account()
    new = await services.keys.create_key(admin.id)
    gate = asyncio.Event()
    original = store.get_api_key

    async def slow(key_id: str):  # type: ignore[no-untyped-def]
        found = await original(key_id)
        await gate.wait()
        return found

    monkeypatch.setattr(store, "get_api_key", slow)
    early = asyncio.create_task(services.keys.authenticate(new.key.id, new.secret))
    await asyncio.sleep(0.05)  # the early check now holds the key as it was: active
    await services.keys.revoke_key(admin.id, new.key.id)
    gate.set()
    await early  # it began before the revocation
    with pytest.raises(AuthenticationError):
        await services.keys.authenticate(new.key.id, new.secret)
