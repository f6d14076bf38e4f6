"""Opt-out compliance: destinations that asked not to be messaged, and the inbound keywords that
put them there and take them off.

Scope: an opt-out belongs to one account. STOP (and the other opt-out keywords) stops the sender
it was sent to; STOPALL, and an opt-out added through the API without ``from``, stops every
sender of the account. START lifts the opt-outs that stop the sender it was sent to: its own and
the account-wide one. A new opt-out cancels the messages to that destination it stops which are
still scheduled or queued.

The send path asks :meth:`OptOutService.check` about every message. It costs one dictionary
lookup for an account without opt-outs (remembered for ``ttl`` seconds; an opt-out made on this
node counts at once, one made on another node within ``ttl``), and one indexed read otherwise.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from marconi.errors import Conflict, NotFound, ValidationError
from marconi.services.address import normalize_phone, parse_sender
from marconi.services.clock import Clock, Monotonic, monotonic, utc_now
from marconi.services.keyword import (
    DEFAULT_SETTINGS,
    KeywordAction,
    KeywordMatch,
    KeywordSettings,
    match_keyword,
    parse_settings,
    settings_json,
)
from marconi.store.model import Direction, MessageFilter, MessageStatus, Page
from marconi.store.optout import OptOut, OptOutRepository
from marconi.store.protocols import MessageRepository

__all__ = ["OptOutService", "opted_out"]

log = logging.getLogger(__name__)

PAGE_MAX: Final = 500
_CACHE_MAX: Final = 100_000


def opted_out(to_addr: str, from_addr: str) -> ValidationError:
    """The error a send to an opted-out destination gets."""
    return ValidationError(
        f"{to_addr} has opted out of messages from {from_addr} (it sent a keyword such as STOP, "
        "or was added to the opt-out list); nothing was sent. It can opt in again by sending "
        "START, or remove it with DELETE /v1/optouts/{to}",
        code="destination_opted_out",
        field="to",
    )


@dataclass(slots=True)
class _Cached:
    value: Any
    until: float


class OptOutService:
    def __init__(
        self,
        *,
        optouts: OptOutRepository,
        messages: MessageRepository | None = None,
        clock: Clock = utc_now,
        monotonic_clock: Monotonic = monotonic,
        ttl: float = 2.0,
    ) -> None:
        self._repo = optouts
        self._messages = messages
        self._clock = clock
        self._monotonic = monotonic_clock
        self._ttl = ttl
        self._any: dict[str, _Cached] = {}  # account -> whether it has opt-outs
        self._settings: dict[str, _Cached] = {}  # account -> KeywordSettings

    # -- the send path -----------------------------------------------------------------------

    async def check(self, account_id: str, to_addr: str, from_addr: str) -> None:
        """ValidationError ``destination_opted_out`` when ``to_addr`` stopped ``from_addr``."""
        now = self._monotonic()
        cached = self._any.get(account_id)
        if cached is None or cached.until <= now:
            if len(self._any) > _CACHE_MAX:
                self._any.clear()
            has_any = await self._repo.has_opt_outs(account_id)
            cached = self._any[account_id] = _Cached(has_any, now + self._ttl)
        if cached.value and await self._repo.is_opted_out(account_id, to_addr, from_addr):
            raise opted_out(to_addr, from_addr)

    # -- the list ----------------------------------------------------------------------------

    async def add(
        self,
        account_id: str,
        to: str,
        *,
        from_: str | None = None,
        source: str = "api",
        keyword: str | None = None,
    ) -> OptOut:
        to_addr = normalize_phone(to, field="to")
        from_addr = None if from_ is None else parse_sender(from_, field="from").value
        # Counted before the write commits: a send racing the write is refused a little early
        # rather than let through.
        self._any[account_id] = _Cached(True, self._monotonic() + self._ttl)
        added = await self._repo.add_opt_out(
            account_id,
            to_addr,
            from_addr=from_addr,
            source=source,
            keyword=keyword,
            now=self._clock(),
        )
        await self._cancel_waiting(account_id, to_addr, from_addr)
        return added

    async def remove(self, account_id: str, to: str, *, from_: str | None = None) -> None:
        """Remove the opt-out of ``to`` from ``from_`` (None: the account-wide one)."""
        to_addr = normalize_phone(to, field="to")
        from_addr = None if from_ is None else parse_sender(from_, field="from").value
        if not await self._repo.remove_opt_outs(account_id, to_addr, from_addrs=(from_addr,)):
            scope = "every sender" if from_addr is None else from_addr
            raise NotFound(f"{to_addr} has no opt-out from {scope} in this account")

    async def list_opt_outs(
        self,
        account_id: str,
        *,
        to: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page[OptOut]:
        if not 1 <= limit <= PAGE_MAX:
            raise ValidationError(
                f"limit must be between 1 and {PAGE_MAX}", code="invalid_value", field="limit"
            )
        to_addr = None if to is None else normalize_phone(to, field="to")
        return await self._repo.list_opt_outs(
            account_id, to_addr=to_addr, limit=limit, cursor=cursor
        )

    # -- keywords ----------------------------------------------------------------------------

    async def keyword_settings(self, account_id: str) -> KeywordSettings:
        now = self._monotonic()
        cached = self._settings.get(account_id)
        if cached is None or cached.until <= now:
            stored = await self._repo.get_keyword_settings(account_id)
            settings = DEFAULT_SETTINGS
            if stored is not None:
                try:
                    settings = parse_settings(stored)
                except ValidationError as exc:
                    # Stored settings a newer rule refuses must not stop inbound messages.
                    log.error(
                        "keyword settings of %s are invalid (%s); using the defaults",
                        account_id,
                        exc,
                    )
            if len(self._settings) > _CACHE_MAX:
                self._settings.clear()
            cached = self._settings[account_id] = _Cached(settings, now + self._ttl)
        result: KeywordSettings = cached.value
        return result

    async def put_keyword_settings(
        self, account_id: str, data: Mapping[str, Any]
    ) -> KeywordSettings:
        settings = parse_settings(data)
        await self._repo.put_keyword_settings(
            account_id, settings_json(settings), now=self._clock()
        )
        self._settings.pop(account_id, None)
        return settings

    async def reset_keyword_settings(self, account_id: str) -> KeywordSettings:
        await self._repo.put_keyword_settings(
            account_id, settings_json(DEFAULT_SETTINGS), now=self._clock()
        )
        self._settings.pop(account_id, None)
        return DEFAULT_SETTINGS

    async def match(self, account_id: str, text: str) -> KeywordMatch | None:
        """The keyword ``text`` is for the account, if it is one."""
        return match_keyword(text, await self.keyword_settings(account_id))

    async def apply(
        self, account_id: str, match: KeywordMatch, *, from_addr: str, number: str
    ) -> None:
        """What a keyword does: ``from_addr`` (who sent it) opts out of or back in to
        ``number`` (the account's sender it was sent to). HELP changes nothing."""
        if match.action is KeywordAction.HELP:
            return
        if match.action is KeywordAction.OPT_IN:
            await self._repo.remove_opt_outs(account_id, from_addr, from_addrs=(None, number))
            return
        scope = None if match.action is KeywordAction.OPT_OUT_ALL else number
        self._any[account_id] = _Cached(True, self._monotonic() + self._ttl)
        await self._repo.add_opt_out(
            account_id,
            from_addr,
            from_addr=scope,
            source="keyword",
            keyword=match.keyword,
            now=self._clock(),
        )
        await self._cancel_waiting(account_id, from_addr, scope)

    async def _cancel_waiting(self, account_id: str, to_addr: str, from_addr: str | None) -> int:
        """Cancel the scheduled and queued messages to ``to_addr`` a new opt-out stops: they
        were accepted before it and would otherwise still go out. Returns how many."""
        if self._messages is None:
            return 0
        waiting = MessageFilter(
            to_addr=to_addr,
            from_addr=from_addr,
            statuses=frozenset({MessageStatus.SCHEDULED, MessageStatus.QUEUED}),
            direction=Direction.OUTBOUND,
        )
        canceled = 0
        cursor = None
        while True:
            page = await self._messages.list_messages(
                account_id, filter=waiting, limit=PAGE_MAX, cursor=cursor
            )
            for message in page.items:
                try:
                    await self._messages.cancel_message(account_id, message.id, now=self._clock())
                    canceled += 1
                except Conflict:
                    pass  # taken for sending meanwhile: it left before the opt-out
            if page.next_cursor is None:
                return canceled
            cursor = page.next_cursor
