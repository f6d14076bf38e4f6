"""Reading request bodies: JSON only, size-limited, valid UTF-8, an object at the top.

A body sent without a content type, or with curl's default ``application/x-www-form-urlencoded``
(what ``curl -d '{"to": …}'`` sends), is read as JSON when it is JSON, as many JSON APIs do; when
it is not, the answer is a 415 that says to send JSON. Any other declared type is a 415 at once.
"""

from __future__ import annotations

from typing import Any, Final, TypeVar

import orjson
import pydantic
from starlette.requests import Request

from marconi.api.problem import ApiError
from marconi.errors import ValidationError

__all__ = [
    "check_content_type",
    "check_length",
    "parse_json",
    "parse_model",
    "read_json",
    "too_large",
    "validation_error",
]

M = TypeVar("M", bound=pydantic.BaseModel)


_UNDECLARED: Final = frozenset({"", "application/x-www-form-urlencoded"})


async def read_json(request: Request, *, max_bytes: int) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    check_content_type(content_type)
    check_length(request.headers.get("content-length"), max_bytes)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
    return parse_json(b"".join(chunks), content_type=content_type)


def _media(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _declares_json(media: str) -> bool:
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def check_content_type(content_type: str) -> None:
    """415 unless the type is JSON, none, or curl's default (see the module's docstring)."""
    media = _media(content_type)
    if not (_declares_json(media) or media in _UNDECLARED):
        raise _unsupported(content_type)


def _unsupported(content_type: str) -> ApiError:
    return ApiError(
        415,
        "send the body as JSON with 'Content-Type: application/json' "
        f"(got {content_type or 'none'!r})",
        code="unsupported_media_type",
        field="Content-Type",
    )


def check_length(content_length: str | None, max_bytes: int) -> None:
    if content_length is not None and content_length.isdigit() and int(content_length) > max_bytes:
        raise too_large(max_bytes)


def parse_json(raw: bytes, *, content_type: str = "application/json") -> dict[str, Any]:
    """A JSON object from UTF-8 bytes, or ValidationError invalid_utf8 / invalid_json /
    invalid_body; a body whose type did not say JSON and that is not JSON is a 415."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if not _declares_json(_media(content_type)):
            raise _unsupported(content_type) from None
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            raise ValidationError(
                f"the body is not valid UTF-8 (byte {bad.start}); encode the JSON as UTF-8",
                code="invalid_utf8",
            ) from None
        raise ValidationError(f"the body is not valid JSON: {exc}", code="invalid_json") from None
    if not isinstance(data, dict):
        raise ValidationError(
            f"the body must be a JSON object, got {type(data).__name__}", code="invalid_body"
        )
    return data


def too_large(max_bytes: int) -> ApiError:
    return ApiError(
        413,
        f"the request body is larger than {max_bytes} bytes",
        code="request_too_large",
    )


_CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
    "literal_error": "invalid_value",
    "string_too_short": "invalid_value",
    "string_too_long": "too_long",
}


def parse_model(model: type[M], data: dict[str, Any]) -> M:
    """``data`` validated into ``model``; the first problem becomes a ValidationError."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc.errors(include_url=False)) from None


def validation_error(errors: Any, *, located: bool = False) -> ValidationError:
    """The first of pydantic's ``errors``; ``located`` when each ``loc`` starts with where the
    value came from (``query``, ``path``), as the framework reports them."""
    first = errors[0]
    kind = str(first.get("type", ""))
    loc = [str(part) for part in first.get("loc", ())][1 if located else 0 :]
    field = ".".join(loc) or None
    code = _CODES.get(kind, "invalid_type" if kind.endswith("_type") else "invalid_value")
    if code == "unknown_field":
        message = f"unknown field {field!r}; remove it (see the API reference for the fields)"
    elif code == "missing_field":
        message = f"{field} is required"
    else:
        message = f"{field}: {first.get('msg', 'invalid value')}"
    return ValidationError(message, code=code, field=field)
