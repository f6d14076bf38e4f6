"""``POST /v1/verify/services/{id}/verifications`` straight on ASGI, ahead of the framework.

Starting verifications is the Verify route that takes bursts, and the framework's routing (a
walk over every route) and request machinery cost about as much as the start itself. This
handler does what the documented route in :mod:`marconi.api.verify` does (that route stays as
the OpenAPI description and as a fallback), with the same helpers and the same answers.
"""

from __future__ import annotations

from typing import Final

import orjson

from marconi.api import verify_schema as vs
from marconi.api.auth import Authenticator
from marconi.api.body import check_content_type, check_length, parse_json, parse_model
from marconi.api.raw import JSON_HEADERS, Receive, Scope, Send, answer, read_body, request_headers
from marconi.api.verify import refusal
from marconi.verify import VerificationBlocked, VerificationService

__all__ = ["FastStart"]

_PREFIX: Final = "/v1/verify/services/"
_SUFFIX: Final = "/verifications"


def service_id_of(scope: Scope) -> str | None:
    """The service id of a start's request, or None for any other request."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
        return None
    path: str = scope["path"]
    if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)):
        return None
    service_id = path[len(_PREFIX) : -len(_SUFFIX)]
    return service_id if service_id and "/" not in service_id else None


def _translate(exc: Exception) -> Exception:
    return refusal(exc) if isinstance(exc, VerificationBlocked) else exc


class FastStart:
    def __init__(
        self, *, verify: VerificationService, authenticate: Authenticator, max_body_bytes: int
    ) -> None:
        self._verify = verify
        self._authenticate = authenticate
        self._max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send, service_id: str) -> None:
        await answer(send, self._handle(scope, receive, service_id), translate=_translate)

    async def _handle(
        self, scope: Scope, receive: Receive, service_id: str
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        headers = request_headers(scope)
        principal = await self._authenticate.check(headers.authorization)
        check_content_type(headers.content_type or "")
        check_length(headers.content_length, self._max_body_bytes)
        raw = await read_body(receive, self._max_body_bytes)
        payload = parse_model(vs.StartIn, parse_json(raw, content_type=headers.content_type or ""))
        started = await self._verify.start(principal.account_id, service_id, payload.to)
        body = orjson.dumps(
            vs.verification_json(started.verification, resent=started.resent),
            option=orjson.OPT_UTC_Z,
        )
        return 201, body, list(JSON_HEADERS)
