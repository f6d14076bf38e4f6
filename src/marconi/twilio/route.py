"""A FastAPI route class whose errors come out in Twilio's envelope instead of problem+json.

Routers of the compatible face (Messages, Verify v2, …) use ``APIRouter(route_class=TwilioRoute)``:
any exception a handler raises is answered by :func:`~marconi.twilio.errors.twilio_error_for`.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from marconi.twilio.errors import twilio_error_for

__all__ = ["TwilioRoute"]


class TwilioRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def twilio_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                return twilio_error_for(exc)

        return twilio_handler
