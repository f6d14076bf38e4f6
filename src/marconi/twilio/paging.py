"""Twilio's list envelope and its paging parameters over Marconi's cursors.

``PageToken`` is the store's opaque cursor; ``Page`` is only echoed back (Twilio requires it
beside a token and counts it up). ``previous_page_uri`` is null: cursors only go forward, and
Twilio's helper libraries only follow ``next_page_uri``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

from marconi.twilio.form import Form

__all__ = ["PAGE_SIZE_DEFAULT", "PAGE_SIZE_MAX", "PageRequest", "page_envelope"]

PAGE_SIZE_DEFAULT: Final = 50
PAGE_SIZE_MAX: Final = 500  # Twilio allows 1000; the store pages up to 500


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int
    page_size: int
    token: str | None

    @classmethod
    def of(cls, query: Form) -> PageRequest:
        size = query.integer("PageSize", low=1, high=PAGE_SIZE_MAX)
        page = query.integer("Page", low=0, high=1_000_000)
        return cls(
            page=page or 0,
            page_size=PAGE_SIZE_DEFAULT if size is None else size,
            token=query.text("PageToken"),
        )


def _uri(path: str, filters: Mapping[str, str], page: int, size: int, token: str | None) -> str:
    params = [*filters.items(), ("PageSize", str(size)), ("Page", str(page))]
    if token is not None:
        params.append(("PageToken", token))
    return f"{path}?{urlencode(params)}"


def page_envelope(
    key: str,
    items: Sequence[object],
    *,
    path: str,
    filters: Mapping[str, str],
    request: PageRequest,
    next_token: str | None,
) -> dict[str, object]:
    """``{key: items, page, page_size, uri, first_page_uri, next_page_uri, …}``.

    ``filters`` are the list's own query parameters, repeated in every URI.
    """
    size = request.page_size
    return {
        key: list(items),
        "page": request.page,
        "page_size": size,
        "start": request.page * size,
        "end": request.page * size + max(len(items) - 1, 0),
        "uri": _uri(path, filters, request.page, size, request.token),
        "first_page_uri": _uri(path, filters, 0, size, None),
        "next_page_uri": (
            None if next_token is None else _uri(path, filters, request.page + 1, size, next_token)
        ),
        "previous_page_uri": None,
    }
