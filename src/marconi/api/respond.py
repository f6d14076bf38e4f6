"""The native API's JSON answers, and the request body its hand-read routes declare in OpenAPI."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import Response

__all__ = ["json_body", "json_response"]


def json_response(data: Any, status: int = 200, *, no_store: bool = False) -> Response:
    """``data`` as JSON (datetimes in UTC with ``Z``); ``no_store`` for answers that carry
    secrets or settings no cache should keep."""
    return Response(
        orjson.dumps(data, option=orjson.OPT_UTC_Z),
        status_code=status,
        media_type="application/json",
        headers={"cache-control": "no-store"} if no_store else None,
    )


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` for a route that reads its body by hand: the body ``model`` describes."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }
