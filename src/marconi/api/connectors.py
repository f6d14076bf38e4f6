"""``/v1/connectors`` and ``/v1/routes``: the carrier links and routing rules of the running
service, for the admin account only. Changes apply at once, without a restart; passwords are
never shown."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from marconi.api.body import read_json
from marconi.api.problem import ApiError
from marconi.api.respond import json_body as _body
from marconi.api.respond import json_response
from marconi.config import RouteConfig
from marconi.services import ADMIN_ACCOUNT_ID, Principal
from marconi.services.connector import (
    ConnectorService,
    ConnectorView,
    config_settings,
    route_settings,
)

__all__ = ["connectors_router"]

Authenticate = Callable[[Request], Awaitable[Principal]]


class ConnectorOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    type: str = Field(examples=["smpp", "simulator"])
    source: str = Field(
        description="`config`: from the config file; `api`: stored through this API (it "
        "replaces a file connector of the same name)."
    )
    enabled: bool
    up: bool | None = Field(description="Bound now; null when the link does not run.")
    last_error: str | None = Field(description="Why the link is down, when known.")
    password_set: bool = Field(description="The password itself is never shown.")
    created_at: str | None
    updated_at: str | None


class ConnectorList(BaseModel):
    items: list[ConnectorOut]


class RouteOut(BaseModel):
    name: str | None = None
    connectors: list[str] = Field(description="Tried in order: failover.")
    prefixes: list[str] | None = None
    countries: list[str] | None = None
    senders: list[str] | None = None


class RoutesIn(BaseModel):
    routes: list[dict[str, Any]]


class RoutesOut(BaseModel):
    routes: list[RouteOut] = Field(description="Stored routes, tried first, in order.")
    config_routes: list[RouteOut] = Field(description="The config file's routes, tried after.")


def connector_json(view: ConnectorView) -> dict[str, Any]:
    settings = config_settings(view.config)
    password = settings.pop("password", "")
    return {
        "name": view.config.name,
        "type": view.kind,
        **settings,
        "source": view.source,
        "enabled": view.enabled,
        "up": None if view.state is None else view.state.up,
        "last_error": None if view.state is None else view.state.last_error,
        "password_set": bool(password),
        "created_at": view.created_at,
        "updated_at": view.updated_at,
    }


def _routes_json(stored: list[RouteConfig], file_routes: tuple[RouteConfig, ...]) -> Response:
    return _json(
        {
            "routes": [route_settings(r) for r in stored],
            "config_routes": [route_settings(r) for r in file_routes],
        }
    )


def _json(data: Any, status: int = 200) -> Response:
    return json_response(data, status, no_store=True)


def connectors_router(
    links: ConnectorService, authenticate: Authenticate, *, max_body_bytes: int
) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["connectors"])
    problems: dict[int | str, dict[str, Any]] = {
        401: {"description": "Missing, unknown, wrong or revoked credentials."},
        403: {"description": "Only the admin account manages connectors and routes."},
        422: {"description": "The connector or route is invalid (the config file's rules)."},
        503: {"description": "The database cannot be reached; retry."},
    }
    not_found: dict[int | str, dict[str, Any]] = {404: {"description": "No such connector."}}
    conflict: dict[int | str, dict[str, Any]] = {
        409: {"description": "A route still sends to it, or it comes from the config file."}
    }

    async def admin(request: Request) -> None:
        principal = await authenticate(request)
        if principal.account_id != ADMIN_ACCOUNT_ID:
            raise ApiError(
                403,
                "only the admin account manages connectors and routes; use one of its keys",
                code="admin_only",
            )

    @router.get(
        "/connectors",
        summary="Every connector: the config file's and those added here",
        response_model=ConnectorList,
        responses=problems,
    )
    async def list_connectors(request: Request) -> Response:
        await admin(request)
        return _json({"items": [connector_json(v) for v in await links.list_connectors()]})

    @router.get(
        "/connectors/{name}",
        summary="One connector with its link state",
        response_model=ConnectorOut,
        responses={**problems, **not_found},
    )
    async def get_connector(request: Request, name: str) -> Response:
        await admin(request)
        return _json(connector_json(await links.get_connector(name)))

    @router.put(
        "/connectors/{name}",
        summary="Create or replace a connector; the link (re)binds at once",
        description=(
            "The body is a connector as in the config file's `[[connectors]]` table (`type`, "
            "`host`, `port`, `system_id`, …), plus `enabled`. Leaving `password` out keeps the "
            "current one. Read-only fields of GET (`source`, `up`, …) are ignored."
        ),
        response_model=ConnectorOut,
        responses={**problems, **conflict},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"type": "object"}}},
            }
        },
    )
    async def put_connector(request: Request, name: str) -> Response:
        await admin(request)
        data = await read_json(request, max_bytes=max_body_bytes)
        return _json(connector_json(await links.put_connector(name, data)))

    @router.delete(
        "/connectors/{name}",
        summary="Remove a connector added here; its link unbinds at once",
        status_code=204,
        responses={**problems, **not_found, **conflict},
    )
    async def delete_connector(request: Request, name: str) -> Response:
        await admin(request)
        await links.delete_connector(name)
        return Response(status_code=204)

    @router.get(
        "/routes",
        summary="The routing rules: those set here, then the config file's",
        response_model=RoutesOut,
        responses=problems,
    )
    async def get_routes(request: Request) -> Response:
        await admin(request)
        return _routes_json(*await links.routes())

    @router.put(
        "/routes",
        summary="Replace the routes set here (the config file's stay after them)",
        response_model=RoutesOut,
        responses=problems,
        openapi_extra=_body(RoutesIn),
    )
    async def put_routes(request: Request) -> Response:
        await admin(request)
        data = await read_json(request, max_bytes=max_body_bytes)
        unknown = sorted(set(data) - {"routes"})
        if unknown:
            raise ApiError(
                422,
                f'unknown field {unknown[0]!r}; the body is {{"routes": [...]}}',
                code="unknown_field",
                field=unknown[0],
            )
        if "routes" not in data:
            raise ApiError(422, "routes is required", code="missing_field", field="routes")
        await links.replace_routes(data["routes"])
        return _routes_json(*await links.routes())

    return router
