"""The senders an account owns: phone numbers, short codes and alphanumeric sender IDs, each with
the webhook its inbound messages go to and a default status callback."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from marconi.errors import ValidationError
from marconi.services.address import parse_sender
from marconi.services.clock import Clock, Monotonic, monotonic, utc_now
from marconi.store.model import Number, Unset
from marconi.store.protocols import NumberRepository

__all__ = ["URL_MAX", "NumberService", "SenderBook", "check_url"]

URL_MAX: Final = 2048
WEBHOOK_METHODS: Final = frozenset({"POST", "GET"})


def check_url(url: str, *, field: str) -> str:
    """An absolute http(s) URL, or ValidationError ``invalid_url``."""
    url = url.strip()
    if len(url) > URL_MAX:
        raise ValidationError(
            f"{field} is longer than {URL_MAX} characters", code="invalid_url", field=field
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"{field} must be an absolute http:// or https:// URL, got {url!r}",
            code="invalid_url",
            field=field,
        )
    return url


def _method(method: str) -> str:
    upper = method.strip().upper()
    if upper not in WEBHOOK_METHODS:
        raise ValidationError(
            f"inbound_webhook_method must be POST or GET, got {method!r}",
            code="invalid_value",
            field="inbound_webhook_method",
        )
    return upper


@dataclass(slots=True)
class _Book:
    callbacks: dict[str, str | None]  # sender value -> its default status callback
    default: str | None
    until: float


class SenderBook:
    """Which senders an account owns, read through a short-lived cache (the send path's check)."""

    def __init__(
        self, *, numbers: NumberRepository, ttl: float = 2.0, monotonic_clock: Monotonic = monotonic
    ) -> None:
        self._numbers = numbers
        self._ttl = ttl
        self._monotonic = monotonic_clock
        self._books: dict[str, _Book] = {}
        self._loading: dict[str, asyncio.Future[_Book]] = {}
        self._forgotten = 0  # bumped by forget(): a read that began before is not cached

    async def senders(self, account_id: str) -> tuple[dict[str, str | None], str | None]:
        """The account's senders with their default status callbacks, and the oldest sender
        (the default ``from``)."""
        now = self._monotonic()
        book = self._books.get(account_id)
        if book is None or book.until <= now:
            loading = self._loading.get(account_id)
            if loading is not None:  # one read serves every request that waits for it
                book = await asyncio.shield(loading)
            else:
                book = await self._load(account_id, now)
        return book.callbacks, book.default

    async def _load(self, account_id: str, now: float) -> _Book:
        future: asyncio.Future[_Book] = asyncio.get_running_loop().create_future()
        self._loading[account_id] = future
        generation = self._forgotten
        try:
            numbers = await self._numbers.list_numbers(account_id)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: the waiters re-raise it
            raise
        finally:
            if self._loading.get(account_id) is future:
                del self._loading[account_id]
        ordered = sorted(numbers, key=lambda n: (n.created_at, n.id))
        book = _Book(
            callbacks={n.value: n.status_callback_url for n in ordered},
            default=ordered[0].value if ordered else None,
            until=now + self._ttl,
        )
        future.set_result(book)
        if generation == self._forgotten:
            if len(self._books) > 10_000:
                self._books.clear()
            self._books[account_id] = book
        return book

    def forget(self, account_id: str) -> None:
        """Drop what is known of the account's senders; the next send reads them again."""
        self._forgotten += 1
        self._books.pop(account_id, None)
        self._loading.pop(account_id, None)


class NumberService:
    def __init__(
        self, *, numbers: NumberRepository, book: SenderBook, clock: Clock = utc_now
    ) -> None:
        self._numbers = numbers
        self._book = book
        self._clock = clock

    async def add_number(
        self,
        account_id: str,
        value: str,
        *,
        inbound_webhook_url: str | None = None,
        inbound_webhook_method: str = "POST",
        status_callback_url: str | None = None,
    ) -> Number:
        """Register a sender; Conflict when any account has it already."""
        sender = parse_sender(value, field="number")
        number = await self._numbers.create_number(
            account_id=account_id,
            value=sender.value,
            kind=sender.kind,
            now=self._clock(),
            inbound_webhook_url=_optional_url(inbound_webhook_url, "inbound_webhook_url"),
            inbound_webhook_method=_method(inbound_webhook_method),
            status_callback_url=_optional_url(status_callback_url, "status_callback_url"),
        )
        self._book.forget(account_id)
        return number

    async def get_number(self, account_id: str, number_id: str) -> Number:
        return await self._numbers.get_number(account_id, number_id)

    async def list_numbers(self, account_id: str) -> list[Number]:
        return await self._numbers.list_numbers(account_id)

    async def update_number(
        self,
        account_id: str,
        number_id: str,
        *,
        inbound_webhook_url: str | Unset | None = Unset.UNSET,
        inbound_webhook_method: str | Unset = Unset.UNSET,
        status_callback_url: str | Unset | None = Unset.UNSET,
    ) -> Number:
        number = await self._numbers.update_number(
            account_id,
            number_id,
            now=self._clock(),
            inbound_webhook_url=(
                inbound_webhook_url
                if isinstance(inbound_webhook_url, Unset)
                else _optional_url(inbound_webhook_url, "inbound_webhook_url")
            ),
            inbound_webhook_method=(
                inbound_webhook_method
                if isinstance(inbound_webhook_method, Unset)
                else _method(inbound_webhook_method)
            ),
            status_callback_url=(
                status_callback_url
                if isinstance(status_callback_url, Unset)
                else _optional_url(status_callback_url, "status_callback_url")
            ),
        )
        self._book.forget(account_id)
        return number

    async def remove_number(self, account_id: str, number_id: str) -> None:
        await self._numbers.delete_number(account_id, number_id)
        self._book.forget(account_id)

    async def find_by_value(self, account_id: str, value: str) -> Number | None:
        """The account's number with this sender value (in any accepted spelling)."""
        sender = parse_sender(value, field="number")
        for number in await self._numbers.list_numbers(account_id):
            if number.value == sender.value:
                return number
        return None


def _optional_url(url: str | None, field: str) -> str | None:
    if url is None or url.strip() == "":
        return None
    return check_url(url, field=field)
