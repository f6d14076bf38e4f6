"""Twilio's list envelopes and their paging parameters over Marconi's cursors.

Two shapes: the 2010-04-01 API's (:func:`page_envelope`: ``page``, ``next_page_uri``… beside the
list) and the newer APIs' (:func:`meta_envelope`: ``meta`` with ``next_page_url``…, as
``/v1/Services`` and ``/v2/Services`` answer).

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

__all__ = ["PAGE_SIZE_DEFAULT", "PAGE_SIZE_MAX", "PageRequest", "meta_envelope", "page_envelope"]

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


def meta_envelope(
    key: str,
    items: Sequence[object],
    *,
    url: str,
    request: PageRequest,
    next_token: str | None = None,
) -> dict[str, object]:
    """``{key: items, meta: {page, page_size, url, first_page_url, next_page_url, key, …}}``;
    ``url`` is the list's path with its filters, without paging parameters."""
    size = request.page_size
    joiner = "&" if "?" in url else "?"

    def page_url(page: int, token: str | None) -> str:
        query = [("PageSize", str(size)), ("Page", str(page))]
        if token is not None:
            query.append(("PageToken", token))
        return f"{url}{joiner}{urlencode(query)}"

    return {
        key: list(items),
        "meta": {
            "page": request.page,
            "page_size": size,
            "first_page_url": page_url(0, None),
            "previous_page_url": None,
            "url": page_url(request.page, request.token),
            "next_page_url": None if next_token is None else page_url(request.page + 1, next_token),
            "key": key,
        },
    }
