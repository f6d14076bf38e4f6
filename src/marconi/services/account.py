"""Accounts and sub-accounts, their auth tokens, and the admin account of a fresh store."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Final

from marconi.errors import Conflict, NotFound, ValidationError
from marconi.services.clock import Clock, utc_now
from marconi.services.credential import hash_secret, new_secret
from marconi.services.key import KeyService, NewKey
from marconi.services.number import NumberService
from marconi.store.auth_token import AuthTokenRepository
from marconi.store.model import Account
from marconi.store.protocols import AccountRepository

__all__ = ["ADMIN_ACCOUNT_ID", "AccountService", "AdminBootstrap", "NewAccount"]

# The admin account has a fixed id so every tool finds it on any node; knowing an account id
# grants nothing, credentials do.
ADMIN_ACCOUNT_ID: Final = "AC" + "0" * 31 + "1"
# Seeded for the admin so the first `POST /v1/messages` works without registering a number.
DEFAULT_SENDER: Final = "Marconi"
NAME_MAX: Final = 100


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A created account, with its auth token: the only time the token is shown."""

    account: Account
    auth_token: str


@dataclass(frozen=True, slots=True)
class AdminBootstrap:
    """What :meth:`AccountService.ensure_admin` made on a fresh store."""

    account: Account
    auth_token: str | None  # None when the account existed already and only the key is new
    key: NewKey | None


def _check_name(name: str) -> str:
    name = name.strip()
    if len(name) > NAME_MAX:
        raise ValidationError(
            f"name is longer than {NAME_MAX} characters", code="too_long", field="name"
        )
    return name


class AccountService:
    def __init__(
        self,
        *,
        accounts: AccountRepository,
        keys: KeyService,
        numbers: NumberService,
        tokens: AuthTokenRepository | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._accounts = accounts
        self._tokens = tokens  # kept readable for X-Twilio-Signature when given
        self._keys = keys
        self._numbers = numbers
        self._clock = clock

    async def create_subaccount(
        self, parent_id: str, *, name: str = "", with_key: bool = False
    ) -> tuple[NewAccount, NewKey | None]:
        """A sub-account of ``parent_id`` with its auth token, and a first API key if asked."""
        token = new_secret()
        account = await self._accounts.create_account(
            name=_check_name(name),
            now=self._clock(),
            parent_id=parent_id,
            auth_token_hash=hash_secret(token),
        )
        await self._keep_token(account.id, token)
        key = await self._keys.create_key(account.id, name="first key") if with_key else None
        return NewAccount(account, token), key

    async def _keep_token(self, account_id: str, token: str) -> None:
        if self._tokens is not None:
            await self._tokens.put_auth_token(account_id, token, now=self._clock())

    async def auth_token(self, caller_id: str, account_id: str) -> str | None:
        """The auth token of the caller's account or a sub-account; None when the account was
        made before tokens were kept (rotate it to get one)."""
        await self.get_account(caller_id, account_id)
        return None if self._tokens is None else await self._tokens.get_auth_token(account_id)

    async def get_account(self, caller_id: str, account_id: str) -> Account:
        """The caller's own account or one of its direct sub-accounts; NotFound otherwise."""
        account = await self._accounts.get_account(account_id)
        if account.id != caller_id and account.parent_id != caller_id:
            raise NotFound(f"account {account_id} not found")
        return account

    async def list_subaccounts(self, caller_id: str) -> list[Account]:
        return await self._accounts.list_subaccounts(caller_id)

    async def rotate_auth_token(self, caller_id: str, account_id: str) -> NewAccount:
        await self.get_account(caller_id, account_id)
        token = new_secret()
        account = await self._accounts.set_auth_token_hash(
            account_id, hash_secret(token), now=self._clock()
        )
        await self._keep_token(account_id, token)
        self._keys.forget(account_id)
        return NewAccount(account, token)

    async def ensure_admin(
        self,
        *,
        name: str = "admin",
        with_key: bool = True,
        default_sender: str | None = DEFAULT_SENDER,
    ) -> AdminBootstrap | None:
        """Create the admin account (and a first key) when the store has none; None otherwise.

        The admin also gets ``default_sender`` (the alphanumeric sender ``Marconi``) as its first
        number, so a message sent without ``from`` goes out from it. An admin made earlier
        without a key (by a command-line tool) gets its first key now. Safe on several nodes
        starting at once: only one creates the account, the others get None.
        """
        try:
            existing = await self._accounts.get_account(ADMIN_ACCOUNT_ID)
        except NotFound:
            pass
        else:
            if with_key and not await self._keys.list_keys(existing.id):
                first = await self._keys.create_key(existing.id, name="admin")
                return AdminBootstrap(existing, None, first)
            return None
        token = new_secret()
        try:
            account = await self._accounts.create_account(
                name=name,
                now=self._clock(),
                auth_token_hash=hash_secret(token),
                account_id=ADMIN_ACCOUNT_ID,
            )
        except Conflict:
            return None
        await self._keep_token(account.id, token)
        if default_sender is not None:
            # Someone registered it already: the admin adds a sender of its own.
            with contextlib.suppress(Conflict):
                await self._numbers.add_number(account.id, default_sender)
        key = await self._keys.create_key(account.id, name="admin") if with_key else None
        return AdminBootstrap(account, token, key)

    async def admin_account(self) -> Account:
        """The admin account, created without a key if the store has none yet."""
        await self.ensure_admin(with_key=False)
        return await self._accounts.get_account(ADMIN_ACCOUNT_ID)
