"""JSON responses of the compatible face."""

from __future__ import annotations

import orjson
from starlette.responses import Response

__all__ = ["json_response"]


def json_response(data: object, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")
