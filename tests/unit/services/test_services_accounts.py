from __future__ import annotations

import pytest

from marconi.errors import NotFound
from marconi.services import ADMIN_ACCOUNT_ID, DEFAULT_SENDER, Services
from marconi.store.model import NumberKind


async def test_ensure_admin_creates_once_with_a_key_and_a_default_sender(
    services: Services,
) -> None:
    boot = await services.accounts.ensure_admin()
    assert boot is not None
    assert boot.key is not None
    assert boot.account.id == ADMIN_ACCOUNT_ID
    assert (await services.keys.authenticate(boot.key.key.id, boot.key.secret)).account_id == (
        ADMIN_ACCOUNT_ID
    )
    numbers = await services.numbers.list_numbers(ADMIN_ACCOUNT_ID)
    assert [(n.value, n.kind) for n in numbers] == [(DEFAULT_SENDER, NumberKind.ALPHANUMERIC)]
    assert await services.accounts.ensure_admin() is None
    assert len(await services.keys.list_keys(ADMIN_ACCOUNT_ID)) == 1


async def test_sub_accounts_are_visible_to_their_parent_only(services: Services) -> None:
    admin = await services.accounts.admin_account()
    a, key = await services.accounts.create_subaccount(admin.id, name="a", with_key=True)
    b, _ = await services.accounts.create_subaccount(admin.id, name="b")
    assert key is not None
    assert key.key.account_id == a.account.id
    assert a.auth_token
    assert a.account.auth_token_hash != a.auth_token
    assert {x.id for x in await services.accounts.list_subaccounts(admin.id)} == {
        a.account.id,
        b.account.id,
    }
    assert (await services.accounts.get_account(admin.id, a.account.id)).name == "a"
    assert (await services.accounts.get_account(a.account.id, a.account.id)).parent_id == admin.id
    with pytest.raises(NotFound):
        await services.accounts.get_account(a.account.id, b.account.id)
    with pytest.raises(NotFound):
        await services.accounts.get_account(a.account.id, admin.id)
    with pytest.raises(NotFound):
        await services.accounts.rotate_auth_token(a.account.id, b.account.id)


async def test_an_admin_made_without_a_key_gets_its_first_key_once(services: Services) -> None:
    await services.accounts.admin_account()  # as `marconi send` on a fresh database does
    boot = await services.accounts.ensure_admin()
    assert boot is not None
    assert boot.auth_token is None
    assert boot.key is not None
    assert (await services.keys.authenticate(boot.key.key.id, boot.key.secret)).account_id == (
        ADMIN_ACCOUNT_ID
    )
    await services.keys.revoke_key(ADMIN_ACCOUNT_ID, boot.key.key.id)
    assert await services.accounts.ensure_admin() is None  # a revoked key still counts
