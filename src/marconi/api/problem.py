"""Errors as RFC 9457 problem details (``application/problem+json``) with a stable ``code``."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final

import orjson
from starlette.responses import Response

from marconi.errors import (
    AuthenticationError,
    Conflict,
    MarconiError,
    NotFound,
    StoreError,
    ValidationError,
)

__all__ = ["ApiError", "problem", "problem_for"]

log = logging.getLogger(__name__)

PROBLEM_TYPE: Final = "urn:marconi:problem:"
_TITLES: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
# Validation codes that are about the request's form rather than its meaning, and a template's
# variables that do not fit it (a message is never sent with a hole in it).
_BAD_REQUEST_CODES: Final = frozenset(
    {
        "invalid_json",
        "invalid_utf8",
        "invalid_body",
        "missing_variable",
        "unknown_variable",
        "invalid_variable",
        "empty_variable",
    }
)


class ApiError(Exception):
    """An HTTP-level refusal raised inside the API (bad content type, rate limit…)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        code: str,
        field: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.code = code
        self.field = field
        self.headers = dict(headers or {})


def problem(
    status: int,
    detail: str,
    *,
    code: str,
    field: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = {
        "type": PROBLEM_TYPE + code,
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
        "field": field,
    }
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers=dict(headers or {}),
    )


def problem_for(exc: BaseException) -> Response:
    """The response for an exception that reached the edge of the API."""
    if isinstance(exc, ApiError):
        return problem(exc.status, exc.detail, code=exc.code, field=exc.field, headers=exc.headers)
    if isinstance(exc, ValidationError):
        status = 400 if exc.code in _BAD_REQUEST_CODES else 422
        return problem(status, exc.message, code=exc.code, field=exc.field)
    if isinstance(exc, AuthenticationError):
        return problem(
            401,
            "the credentials are missing, unknown, wrong or revoked; send an API key as HTTP "
            "Basic (key id and secret) or as 'Authorization: Bearer <key id>:<secret>'",
            code="unauthorized",
            headers={"WWW-Authenticate": 'Basic realm="marconi", Bearer realm="marconi"'},
        )
    if isinstance(exc, NotFound):
        return problem(404, str(exc), code="not_found")
    if isinstance(exc, Conflict):
        return problem(409, str(exc), code=getattr(exc, "code", "conflict"))
    if isinstance(exc, StoreError | OSError | TimeoutError):
        log.warning("database unavailable: %s", exc)
        return problem(
            503,
            "the database cannot be reached right now; retry with the same Idempotency-Key",
            code="database_unavailable",
            headers={"Retry-After": "1"},
        )
    if isinstance(exc, MarconiError):
        log.error("unmapped error: %r", exc)
    else:
        log.exception("unexpected error", exc_info=exc)
    return problem(500, "an internal error occurred", code="internal_error")
