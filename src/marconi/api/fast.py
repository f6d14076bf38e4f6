"""``POST /v1/messages`` straight on ASGI, ahead of the framework.

It is the one route that must answer thousands of times a second, and the framework's routing,
dependency and response machinery costs more than the work itself. This handler does the same as
the documented route in :mod:`marconi.api.v1` (which stays as the OpenAPI description and as a
fallback) with the same helpers, reading the scope's headers directly.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import orjson

from marconi.api import schema as s
from marconi.api.auth import Authenticator
from marconi.api.body import check_content_type, check_length, parse_json, too_large
from marconi.api.problem import problem_for
from marconi.api.v1 import accept_message
from marconi.services import Services

__all__ = ["FastSend"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_PATH: Final = "/v1/messages"
_JSON_HEADERS: Final = [(b"content-type", b"application/json")]


class _ClientGone(Exception):
    """The client closed the connection before it sent the whole request."""


class FastSend:
    def __init__(
        self, *, services: Services, authenticate: Authenticator, max_body_bytes: int
    ) -> None:
        self._services = services
        self._authenticate = authenticate
        self._max_body_bytes = max_body_bytes

    @staticmethod
    def matches(scope: Scope) -> bool:
        return (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"] == _PATH
            and not scope.get("root_path")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body, headers = await self._handle(scope, receive)
        except _ClientGone:
            return  # nobody to answer
        except Exception as exc:  # every failure answers as problem+json, like the framework's
            response = problem_for(exc)
            status = response.status_code
            body = bytes(response.body)
            headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        authorization = content_type = content_length = idempotency_key = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value.decode("latin-1")
            elif name == b"idempotency-key":
                idempotency_key = value.decode("utf-8", "replace")
        principal = await self._authenticate.check(authorization)
        check_content_type(content_type or "")
        check_length(content_length, self._max_body_bytes)
        raw = await self._read(receive)
        message = await accept_message(self._services, principal, parse_json(raw), idempotency_key)
        body = orjson.dumps(s.message_json(message), option=orjson.OPT_UTC_Z)
        return 201, body, list(_JSON_HEADERS)

    async def _read(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            event = await receive()
            if event["type"] == "http.disconnect":
                raise _ClientGone
            chunk = event.get("body", b"")
            size += len(chunk)
            if size > self._max_body_bytes:
                raise too_large(self._max_body_bytes)
            chunks.append(chunk)
            if not event.get("more_body", False):
                return b"".join(chunks)
