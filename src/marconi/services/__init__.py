"""Use-cases: accounts and keys, numbers, messages. They know the store Protocols; no HTTP, SQL.

:func:`build_services` wires them over one store; the API, the CLI and the dashboard are faces
over the :class:`Services` it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

from marconi.services.account import (
    ADMIN_ACCOUNT_ID,
    DEFAULT_SENDER,
    AccountService,
    AdminBootstrap,
    NewAccount,
)
from marconi.services.clock import Clock, Monotonic, monotonic, utc_now
from marconi.services.key import KeyService, NewKey, Principal
from marconi.services.message import MessageConflict, MessageDetail, MessageService, SendRequest
from marconi.services.number import NumberService, SenderBook
from marconi.services.optout import OptOutService
from marconi.services.template import TemplateService
from marconi.store.auth_token import auth_token_repository_for
from marconi.store.optout import optout_repository_for
from marconi.store.protocols import Store
from marconi.store.template import template_repository_for

__all__ = [
    "ADMIN_ACCOUNT_ID",
    "DEFAULT_SENDER",
    "AccountService",
    "AdminBootstrap",
    "KeyService",
    "MessageConflict",
    "MessageDetail",
    "MessageService",
    "NewAccount",
    "NewKey",
    "NumberService",
    "Principal",
    "SendRequest",
    "Services",
    "build_services",
]


@dataclass(frozen=True, slots=True)
class Services:
    accounts: AccountService
    keys: KeyService
    numbers: NumberService
    messages: MessageService
    store: Store
    optouts: OptOutService
    templates: TemplateService

    async def ready(self) -> None:
        """Raises StoreError when the database cannot be reached."""
        await self.store.count_accounts()

    async def aclose(self) -> None:
        """Finish background writes; the store itself is closed by whoever opened it."""
        await self.keys.aclose()


def build_services(
    store: Store,
    *,
    clock: Clock = utc_now,
    monotonic_clock: Monotonic = monotonic,
    key_cache_ttl: float = 1.0,
    sender_cache_ttl: float = 2.0,
) -> Services:
    book = SenderBook(numbers=store, ttl=sender_cache_ttl, monotonic_clock=monotonic_clock)
    keys = KeyService(
        keys=store,
        accounts=store,
        clock=clock,
        monotonic_clock=monotonic_clock,
        cache_ttl=key_cache_ttl,
    )
    numbers = NumberService(numbers=store, book=book, clock=clock)
    optouts = OptOutService(
        optouts=optout_repository_for(store),
        messages=store,
        clock=clock,
        monotonic_clock=monotonic_clock,
    )
    templates = TemplateService(
        templates=template_repository_for(store), clock=clock, monotonic_clock=monotonic_clock
    )
    return Services(
        accounts=AccountService(
            accounts=store,
            keys=keys,
            numbers=numbers,
            tokens=auth_token_repository_for(store),
            clock=clock,
        ),
        keys=keys,
        numbers=numbers,
        messages=MessageService(
            messages=store, book=book, clock=clock, optouts=optouts, templates=templates
        ),
        store=store,
        optouts=optouts,
        templates=templates,
    )
