"""``POST /v1/verify/services/{id}/verifications`` straight on ASGI, ahead of the framework.

Starting verifications is the Verify route that takes bursts, and the framework's routing (a
walk over every route) and request machinery cost about as much as the start itself. This
handler does what the documented route in :mod:`marconi.api.verify` does (that route stays as
the OpenAPI description and as a fallback), with the same helpers and the same answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import orjson

from marconi.api import verify_schema as vs
from marconi.api.auth import Authenticator
from marconi.api.body import check_content_type, check_length, parse_json, parse_model, too_large
from marconi.api.problem import problem_for
from marconi.api.verify import refusal
from marconi.verify import VerificationBlocked, VerificationService

__all__ = ["FastStart"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_PREFIX: Final = "/v1/verify/services/"
_SUFFIX: Final = "/verifications"
_JSON_HEADERS: Final = [(b"content-type", b"application/json")]


class _ClientGone(Exception):
    """The client closed the connection before it sent the whole request."""


def service_id_of(scope: Scope) -> str | None:
    """The service id of a start's request, or None for any other request."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
        return None
    path: str = scope["path"]
    if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)):
        return None
    service_id = path[len(_PREFIX) : -len(_SUFFIX)]
    return service_id if service_id and "/" not in service_id else None


class FastStart:
    def __init__(
        self, *, verify: VerificationService, authenticate: Authenticator, max_body_bytes: int
    ) -> None:
        self._verify = verify
        self._authenticate = authenticate
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send, service_id: str) -> None:
        try:
            status, body, headers = await self._handle(scope, receive, service_id)
        except _ClientGone:
            return  # nobody to answer
        except Exception as exc:  # every failure answers as problem+json, like the framework's
            if isinstance(exc, VerificationBlocked):
                exc = refusal(exc)
            response = problem_for(exc)
            status = response.status_code
            body = bytes(response.body)
            headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def _handle(
        self, scope: Scope, receive: Receive, service_id: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        authorization = content_type = content_length = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-type":
                content_type = value.decode("latin-1")
            elif name == b"content-length":
                content_length = value.decode("latin-1")
        principal = await self._authenticate.check(authorization)
        check_content_type(content_type or "")
        check_length(content_length, self._max_body_bytes)
        payload = parse_model(vs.StartIn, parse_json(await self._read(receive)))
        started = await self._verify.start(principal.account_id, service_id, payload.to)
        body = orjson.dumps(
            vs.verification_json(started.verification, resent=started.resent),
            option=orjson.OPT_UTC_Z,
        )
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
