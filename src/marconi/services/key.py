"""API keys: made with a secret shown once, checked on every request, revocable.

Checking a key must cost next to nothing at thousands of requests a second, so a key and its
account are kept in memory for ``cache_ttl`` seconds (one by default) after they are read. The
secret is still hashed and compared in constant time on every request; a revocation made on this
node takes effect at once, one made on another node within ``cache_ttl``. The last-used time is
written at most once per ``touch_interval`` per key, in the background, through the store's
batched touch.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from marconi.errors import AuthenticationError, MarconiError, NotFound, ValidationError
from marconi.services.clock import Clock, Monotonic, monotonic, utc_now
from marconi.services.credential import hash_secret, new_secret, verify_secret
from marconi.store.model import Account, AccountStatus, ApiKey
from marconi.store.protocols import AccountRepository, ApiKeyRepository

__all__ = ["KeyService", "NewKey", "Principal"]

log = logging.getLogger(__name__)

_KEY_ID: Final = re.compile(r"^SK[0-9a-f]{32}$")
_ACCOUNT_ID: Final = re.compile(r"^AC[0-9a-f]{32}$")
NAME_MAX: Final = 100


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for: an account, through one of its keys or its auth token."""

    account_id: str
    key_id: str | None  # None when authenticated with the account's auth token

    @property
    def credential_id(self) -> str:
        """What rate limits count against."""
        return self.key_id or self.account_id


@dataclass(frozen=True, slots=True)
class NewKey:
    """A created key with its secret: the only time the secret is shown."""

    key: ApiKey
    secret: str

    @property
    def token(self) -> str:
        """``key_id:secret``, the form both HTTP Basic and Bearer take."""
        return f"{self.key.id}:{self.secret}"


@dataclass(slots=True)
class _Cached:
    key: ApiKey | None
    account: Account
    until: float


class KeyService:
    def __init__(
        self,
        *,
        keys: ApiKeyRepository,
        accounts: AccountRepository,
        clock: Clock = utc_now,
        monotonic_clock: Monotonic = monotonic,
        cache_ttl: float = 1.0,
        touch_interval: float = 10.0,
    ) -> None:
        self._keys = keys
        self._accounts = accounts
        self._clock = clock
        self._monotonic = monotonic_clock
        self._cache_ttl = cache_ttl
        self._touch_interval = touch_interval
        self._cache: dict[str, _Cached] = {}
        self._loading: dict[str, asyncio.Future[_Cached]] = {}
        self._forgotten = 0  # bumped by forget(): a read that began before is not cached
        self._touched: dict[str, float] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    # -- management ------------------------------------------------------------------------

    async def create_key(self, account_id: str, *, name: str = "") -> NewKey:
        name = name.strip()
        if len(name) > NAME_MAX:
            raise ValidationError(
                f"name is longer than {NAME_MAX} characters", code="too_long", field="name"
            )
        secret = new_secret()
        key = await self._keys.create_api_key(
            account_id=account_id, secret_hash=hash_secret(secret), now=self._clock(), name=name
        )
        return NewKey(key, secret)

    async def list_keys(self, account_id: str) -> list[ApiKey]:
        return await self._keys.list_api_keys(account_id)

    async def get_key(self, account_id: str, key_id: str) -> ApiKey:
        key = await self._keys.get_api_key(key_id)
        if key.account_id != account_id:
            raise NotFound(f"API key {key_id} not found")
        return key

    async def revoke_key(self, account_id: str, key_id: str) -> ApiKey:
        key = await self._keys.revoke_api_key(account_id, key_id, now=self._clock())
        self.forget(key_id)
        return key

    # -- authentication ----------------------------------------------------------------------

    async def authenticate(self, key_id: str, secret: str) -> Principal:
        """The principal of a key and its secret; AuthenticationError for anything wrong."""
        if not _KEY_ID.match(key_id):
            raise AuthenticationError("unknown API key")
        entry = await self._entry(key_id)
        key = entry.key
        if key is None or not verify_secret(secret, key.secret_hash):
            raise AuthenticationError("unknown API key or wrong secret")
        if not key.active:
            raise AuthenticationError("the API key is revoked")
        if entry.account.status is not AccountStatus.ACTIVE:
            raise AuthenticationError(f"the account is {entry.account.status}")
        self._maybe_touch(key_id)
        return Principal(account_id=key.account_id, key_id=key_id)

    async def authenticate_account(self, account_id: str, auth_token: str) -> Principal:
        """The principal of an account's id and auth token (the Twilio way of signing in)."""
        if not _ACCOUNT_ID.match(account_id):
            raise AuthenticationError("unknown account")
        entry = await self._entry(account_id)
        account = entry.account
        if account.auth_token_hash is None or not verify_secret(
            auth_token, account.auth_token_hash
        ):
            raise AuthenticationError("unknown account or wrong auth token")
        if account.status is not AccountStatus.ACTIVE:
            raise AuthenticationError(f"the account is {account.status}")
        return Principal(account_id=account.id, key_id=None)

    def forget(self, credential_id: str) -> None:
        """Drop a cached key or account, so the next check reads the store."""
        self._forgotten += 1
        self._cache.pop(credential_id, None)
        self._loading.pop(credential_id, None)

    async def _entry(self, credential_id: str) -> _Cached:
        now = self._monotonic()
        entry = self._cache.get(credential_id)
        if entry is not None and entry.until > now:
            return entry
        loading = self._loading.get(credential_id)
        if loading is not None:
            return await asyncio.shield(loading)
        future: asyncio.Future[_Cached] = asyncio.get_running_loop().create_future()
        self._loading[credential_id] = future
        generation = self._forgotten
        try:
            entry = await self._load(credential_id, now)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else must
            raise
        finally:
            if self._loading.get(credential_id) is future:
                del self._loading[credential_id]
        future.set_result(entry)
        if generation == self._forgotten:
            self._cache[credential_id] = entry
            if len(self._cache) > 10_000:
                self._evict(now)
        return entry

    async def _load(self, credential_id: str, now: float) -> _Cached:
        key: ApiKey | None = None
        try:
            if credential_id.startswith("SK"):
                key = await self._keys.get_api_key(credential_id)
                account = await self._accounts.get_account(key.account_id)
            else:
                account = await self._accounts.get_account(credential_id)
        except NotFound:
            raise AuthenticationError("unknown credentials") from None
        return _Cached(key=key, account=account, until=now + self._cache_ttl)

    def _evict(self, now: float) -> None:
        for credential_id in [k for k, v in self._cache.items() if v.until <= now]:
            del self._cache[credential_id]

    def _maybe_touch(self, key_id: str) -> None:
        now = self._monotonic()
        last = self._touched.get(key_id)
        if last is not None and now - last < self._touch_interval:
            return
        self._touched[key_id] = now
        task = asyncio.get_running_loop().create_task(self._touch(key_id, self._clock()))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _touch(self, key_id: str, at: datetime) -> None:
        try:
            await self._keys.touch_api_key(key_id, now=at)
        except MarconiError as exc:
            log.warning("could not record the use of API key %s: %s", key_id, exc)

    async def aclose(self) -> None:
        """Wait for the last-used times still being written."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
