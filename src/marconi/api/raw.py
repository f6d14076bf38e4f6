"""What the routes answered straight on ASGI, ahead of the framework, have in common: reading the
few headers they need, reading a bounded body, and answering — failures as problem+json, exactly
as the framework's routes answer them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

from marconi.api.body import too_large
from marconi.api.problem import problem_for

__all__ = [
    "JSON_HEADERS",
    "ClientGone",
    "Receive",
    "RequestHeaders",
    "Scope",
    "Send",
    "answer",
    "read_body",
    "request_headers",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Headers = list[tuple[bytes, bytes]]

JSON_HEADERS: Final[Headers] = [(b"content-type", b"application/json")]


class ClientGone(Exception):
    """The client closed the connection before it sent the whole request."""


@dataclass(slots=True)
class RequestHeaders:
    authorization: str | None = None
    content_type: str | None = None
    content_length: str | None = None
    idempotency_key: str | None = None


def request_headers(scope: Scope) -> RequestHeaders:
    found = RequestHeaders()
    for name, value in scope["headers"]:
        if name == b"authorization":
            found.authorization = value.decode("latin-1")
        elif name == b"content-type":
            found.content_type = value.decode("latin-1")
        elif name == b"content-length":
            found.content_length = value.decode("latin-1")
        elif name == b"idempotency-key":
            found.idempotency_key = value.decode("utf-8", "replace")
    return found


async def read_body(receive: Receive, max_bytes: int) -> bytes:
    """The whole body; ``too_large`` past ``max_bytes``, :class:`ClientGone` on a disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        event = await receive()
        if event["type"] == "http.disconnect":
            raise ClientGone
        chunk = event.get("body", b"")
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
        if not event.get("more_body", False):
            return b"".join(chunks)


async def answer(
    send: Send,
    handle: Awaitable[tuple[int, bytes, Headers]],
    *,
    translate: Callable[[Exception], Exception] | None = None,
) -> None:
    """Send what ``handle`` gives, or the problem+json of what it raised (after ``translate``)."""
    try:
        status, body, headers = await handle
    except ClientGone:
        return  # nobody to answer
    except Exception as exc:  # every failure answers as problem+json, like the framework's
        response = problem_for(exc if translate is None else translate(exc))
        status = response.status_code
        body = bytes(response.body)
        headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
