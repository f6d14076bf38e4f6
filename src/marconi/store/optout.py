"""Opt-outs and keyword settings: the records and the repository interface services use.

An opt-out belongs to an account and a destination, and stops either one sender of the account
(``from_addr``) or all of them (``from_addr`` None). The SQL implementation is in
:mod:`marconi.store.optout_sql`; :func:`optout_repository_for` finds it for a store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from marconi.store.model import JsonValue, Page

__all__ = ["OptOut", "OptOutRepository", "optout_repository_for"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OptOut:
    account_id: str
    to_addr: str
    from_addr: str | None  # None: every sender of the account
    source: str  # "keyword" (the destination sent one) or "api"
    keyword: str | None
    created_at: datetime


class OptOutRepository(Protocol):
    async def add_opt_out(
        self,
        account_id: str,
        to_addr: str,
        *,
        from_addr: str | None,
        source: str,
        keyword: str | None,
        now: datetime,
    ) -> OptOut:
        """Record an opt-out; one that exists already is kept and returned as it is."""
        ...

    async def remove_opt_outs(
        self, account_id: str, to_addr: str, *, from_addrs: tuple[str | None, ...]
    ) -> int:
        """Remove the opt-outs of ``to_addr`` for those senders (None: the account-wide one);
        returns how many there were."""
        ...

    async def is_opted_out(self, account_id: str, to_addr: str, from_addr: str) -> bool:
        """Whether ``to_addr`` stopped ``from_addr`` or every sender of the account."""
        ...

    async def has_opt_outs(self, account_id: str) -> bool: ...

    async def list_opt_outs(
        self,
        account_id: str,
        *,
        to_addr: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[OptOut]:
        """Ordered by destination, then sender (account-wide first)."""
        ...

    async def get_keyword_settings(self, account_id: str) -> Mapping[str, JsonValue] | None:
        """The account's keyword settings as stored, or None for the defaults."""
        ...

    async def put_keyword_settings(
        self, account_id: str, settings: Mapping[str, JsonValue], *, now: datetime
    ) -> None: ...


def optout_repository_for(store: object) -> OptOutRepository:
    """The opt-outs of ``store``'s accounts: its database, for a SQL store (or a wrapper that
    passes its attributes through)."""
    from marconi.store.attached import is_sql_store
    from marconi.store.optout_sql import SqlOptOutRepository

    if is_sql_store(store):
        return SqlOptOutRepository(store)
    raise TypeError(f"no opt-out repository for {type(store).__name__}")
