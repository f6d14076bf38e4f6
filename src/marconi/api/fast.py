"""``POST /v1/messages`` straight on ASGI, ahead of the framework.

It is the one route that must answer thousands of times a second, and the framework's routing,
dependency and response machinery costs more than the work itself. This handler does the same as
the documented route in :mod:`marconi.api.v1` (which stays as the OpenAPI description and as a
fallback) with the same helpers, reading the scope's headers directly.
"""

from __future__ import annotations

from typing import Final

import orjson

from marconi.api import schema as s
from marconi.api.auth import Authenticator
from marconi.api.body import check_content_type, check_length, parse_json
from marconi.api.raw import JSON_HEADERS, Receive, Scope, Send, answer, read_body, request_headers
from marconi.api.v1 import accept_message
from marconi.services import Services

__all__ = ["FastSend"]

_PATH: Final = "/v1/messages"


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
        await answer(send, self._handle(scope, receive))

    async def _handle(
        self, scope: Scope, receive: Receive
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        headers = request_headers(scope)
        principal = await self._authenticate.check(headers.authorization)
        check_content_type(headers.content_type or "")
        check_length(headers.content_length, self._max_body_bytes)
        raw = await read_body(receive, self._max_body_bytes)
        data = parse_json(raw, content_type=headers.content_type or "")
        message = await accept_message(self._services, principal, data, headers.idempotency_key)
        body = orjson.dumps(s.message_json(message), option=orjson.OPT_UTC_Z)
        return 201, body, list(JSON_HEADERS)
