"""The ASGI application: health, the native ``/v1`` API and its OpenAPI document at ``/docs``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from marconi import __version__
from marconi.api.auth import Authenticator
from marconi.api.body import validation_error
from marconi.api.connectors import connectors_router
from marconi.api.fast import FastSend
from marconi.api.optouts import optouts_router
from marconi.api.problem import ApiError, problem, problem_for
from marconi.api.ratelimit import RateLimiter
from marconi.api.templates import templates_router
from marconi.api.v1 import v1_router
from marconi.api.verify import verify_router
from marconi.api.verify_fast import FastStart, service_id_of
from marconi.api.webhooks import webhooks_router
from marconi.config import Settings
from marconi.errors import MarconiError
from marconi.services import Services
from marconi.services.connector import ConnectorService
from marconi.store.attached import is_sql_store
from marconi.store.verify import SqlVerifyStore
from marconi.verify import VerificationService

__all__ = ["ApiOptions", "MarconiApp", "create_app"]

_HTTP_CODES: Final = {404: "not_found", 405: "method_not_allowed"}


class MarconiApp(FastAPI):
    """FastAPI with ``POST /v1/messages`` and starts of verifications answered before the
    framework's stack (see fast.py and verify_fast.py)."""

    fast_send: FastSend | None = None
    fast_start: FastStart | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_send is not None and FastSend.matches(scope):
            await self.fast_send(scope, receive, send)
        elif self.fast_start is not None and (service_id := service_id_of(scope)) is not None:
            await self.fast_start(scope, receive, send, service_id)
        else:
            await super().__call__(scope, receive, send)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiOptions:
    rate_limit: float | None = 100.0
    """Requests a second each key may make on average; None: no limit (settings: 0)."""
    rate_burst: int = 200
    """Requests a key may make at once before the average applies."""
    max_body_bytes: int = 64 * 1024
    """Larger request bodies are refused with 413."""


def create_app(
    settings: Settings,
    services: Services,
    *,
    options: ApiOptions | None = None,
    links: ConnectorService | None = None,
    verify: VerificationService | None = None,
) -> MarconiApp:
    """The API over ``services``. It owns nothing: whoever built the services closes them.

    Without ``options``, the rate limit comes from ``settings`` (``rate_limit``, ``rate_burst``).
    ``links`` manages connectors and routes; without it, changes are stored and apply at the
    next start. ``verify`` serves ``/v1/verify``; without it, one is built over the SQL store.
    """
    if options is None:
        options = ApiOptions(rate_limit=settings.rate_limit or None, rate_burst=settings.rate_burst)
    app = MarconiApp(
        title="Marconi",
        version=__version__,
        description=(
            "Send and receive SMS. Authenticate with an API key as HTTP Basic (key id as the "
            "user, secret as the password) or `Authorization: Bearer <key id>:<secret>`. Errors "
            "are `application/problem+json` with a stable `code` and the `field` to fix."
        ),
        docs_url="/docs",
        redoc_url=None,
    )
    limiter = (
        RateLimiter(rate=options.rate_limit, burst=options.rate_burst)
        if options.rate_limit is not None
        else None
    )
    authenticate = Authenticator(keys=services.keys, limiter=limiter)
    app.include_router(v1_router(services, authenticate, max_body_bytes=options.max_body_bytes))
    app.include_router(
        webhooks_router(services, authenticate, max_body_bytes=options.max_body_bytes)
    )
    app.include_router(
        optouts_router(services, authenticate, max_body_bytes=options.max_body_bytes)
    )
    app.include_router(
        templates_router(services, authenticate, max_body_bytes=options.max_body_bytes)
    )
    # imported here: marconi.twilio builds on marconi.api's pieces, so it loads after them
    from marconi.twilio.router import twilio_router

    app.include_router(twilio_router(services, authenticate, max_body_bytes=options.max_body_bytes))
    if links is None:
        links = ConnectorService(
            repository=services.store,
            file_connectors=settings.connectors,
            file_routes=settings.routes,
        )
    app.include_router(
        connectors_router(links, authenticate, max_body_bytes=options.max_body_bytes)
    )
    if verify is None and is_sql_store(services.store):
        verify = VerificationService(
            store=SqlVerifyStore(services.store), messages=services.messages
        )
    if verify is not None:
        app.include_router(
            verify_router(verify, authenticate, max_body_bytes=options.max_body_bytes)
        )
        app.fast_start = FastStart(
            verify=verify, authenticate=authenticate, max_body_bytes=options.max_body_bytes
        )
        from marconi.twilio.auth import TwilioAuth
        from marconi.twilio.verify_v2 import verify_v2_router

        twilio_auth = TwilioAuth(authenticator=authenticate, accounts=services.accounts)
        app.include_router(
            verify_v2_router(verify, twilio_auth, max_body_bytes=options.max_body_bytes)
        )
    app.state.settings = settings

    @app.get("/healthz", tags=["health"], summary="The process is up")
    async def healthz() -> Response:
        return Response(b'{"status":"ok"}', media_type="application/json")

    @app.get(
        "/readyz",
        tags=["health"],
        summary="The database is reachable",
        responses={503: {"description": "The database cannot be reached."}},
    )
    async def readyz() -> Response:
        await services.ready()
        return Response(b'{"status":"ready"}', media_type="application/json")

    async def on_error(request: Request, exc: Exception) -> Response:
        return problem_for(exc)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        detail = "no such resource" if exc.status_code == 404 else str(exc.detail)
        return problem(exc.status_code, detail, code=code, headers=exc.headers)

    async def on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return problem_for(validation_error(exc.errors(), located=True))

    app.add_exception_handler(MarconiError, on_error)
    app.add_exception_handler(ApiError, on_error)
    app.add_exception_handler(OSError, on_error)
    app.add_exception_handler(TimeoutError, on_error)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(Exception, on_error)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "basic": {"type": "http", "scheme": "basic"},
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "<key id>:<secret>",
                },
            }
            schema["security"] = [{"basic": []}, {"bearer": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.fast_send = FastSend(
        services=services, authenticate=authenticate, max_body_bytes=options.max_body_bytes
    )
    return app
