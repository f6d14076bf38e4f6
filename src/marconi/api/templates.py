"""``/v1/templates``: the account's message templates, their versions and locales."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from marconi.api.body import parse_model, read_json
from marconi.api.respond import json_response as _json
from marconi.api.schema import PreviewIn
from marconi.errors import ValidationError
from marconi.services import Principal, Services
from marconi.store.template import Template, TemplateVersion

__all__ = ["preview_text", "templates_router"]

Authenticate = Callable[[Request], Awaitable[Principal]]

_STRICT = ConfigDict(extra="forbid", strict=True)


class TemplateIn(BaseModel):
    model_config = _STRICT

    name: str = Field(
        description="Unique in the account: 1 to 64 letters, digits, '_', '.' or '-'.",
        examples=["order_shipped"],
    )
    body: str = Field(
        description="The text, with placeholders such as {{first_name}}.",
        examples=["Hello {{first_name}}, your order {{order}} ships today"],
    )
    locale: str = Field(
        default="en", description="The language tag of this text; the template's default."
    )


class VersionIn(BaseModel):
    model_config = _STRICT

    body: str = Field(description="The new text, with placeholders such as {{first_name}}.")
    locale: str | None = Field(
        default=None, description="Its language tag; omitted: the template's default locale."
    )


class VersionOut(BaseModel):
    locale: str
    version: int
    body: str
    variables: list[str] = Field(description="The placeholders the text uses, in order.")
    created_at: str


class TemplateOut(BaseModel):
    id: str = Field(description="HX followed by 32 hex digits.")
    account_sid: str
    name: str
    default_locale: str
    created_at: str
    updated_at: str
    versions: list[VersionOut] | None = Field(
        default=None, description="Every version, newest first (single template only)."
    )


class TemplateList(BaseModel):
    items: list[TemplateOut]


def template_json(template: Template) -> dict[str, Any]:
    return {
        "id": template.id,
        "account_sid": template.account_id,
        "name": template.name,
        "default_locale": template.default_locale,
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


def version_json(version: TemplateVersion) -> dict[str, Any]:
    return {
        "locale": version.locale,
        "version": version.version,
        "body": version.body,
        "variables": list(version.variables),
        "created_at": version.created_at,
    }


async def preview_text(services: Services, account_id: str, payload: PreviewIn) -> str:
    """The text ``/v1/messages/preview`` measures: ``body``, or ``template`` rendered."""
    if payload.template is None:
        for name in ("variables", "template_version", "locale"):
            if getattr(payload, name) is not None:
                raise ValidationError(
                    f"{name} goes with template; give template too, or leave {name} out",
                    code="invalid_value",
                    field=name,
                )
        if payload.body is None:
            raise ValidationError(
                "body is required (or template with variables)",
                code="missing_field",
                field="body",
            )
        return payload.body
    if payload.body is not None:
        raise ValidationError(
            "give either body or template (with variables), not both",
            code="invalid_value",
            field="template",
        )
    rendered = await services.templates.render(
        account_id,
        payload.template,
        payload.variables or {},
        version=payload.template_version,
        locale=payload.locale,
    )
    return rendered.text


def templates_router(
    services: Services, authenticate: Authenticate, *, max_body_bytes: int = 64 * 1024
) -> APIRouter:
    router = APIRouter(prefix="/v1/templates", tags=["templates"])
    templates = services.templates
    problems: dict[int | str, dict[str, Any]] = {
        401: {"description": "Missing, unknown, wrong or revoked credentials."},
        422: {"description": "A field is missing, unknown or invalid (see `field`)."},
        503: {"description": "The database cannot be reached; retry."},
    }
    not_found: dict[int | str, dict[str, Any]] = {
        404: {"description": "No template of that name in this account."}
    }

    def body(model: type[BaseModel]) -> dict[str, Any]:
        return {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": model.model_json_schema()}},
            }
        }

    @router.get("", summary="The account's templates", response_model=TemplateList)
    async def list_templates(request: Request) -> Response:
        principal = await authenticate(request)
        items = await templates.list_templates(principal.account_id)
        return _json({"items": [template_json(t) for t in items]})

    @router.post(
        "",
        summary="Create a template (version 1 of its default locale)",
        status_code=201,
        response_model=TemplateOut,
        responses={**problems, 409: {"description": "The name is taken in this account."}},
        openapi_extra=body(TemplateIn),
    )
    async def create_template(request: Request) -> Response:
        principal = await authenticate(request)
        payload = parse_model(TemplateIn, await read_json(request, max_bytes=max_body_bytes))
        template, version = await templates.create(
            principal.account_id, name=payload.name, body=payload.body, locale=payload.locale
        )
        return _json({**template_json(template), "versions": [version_json(version)]}, 201)

    @router.get(
        "/{name}",
        summary="One template with every version",
        response_model=TemplateOut,
        responses={**problems, **not_found},
    )
    async def get_template(request: Request, name: str) -> Response:
        principal = await authenticate(request)
        template, versions = await templates.get(principal.account_id, name)
        return _json({**template_json(template), "versions": [version_json(v) for v in versions]})

    @router.post(
        "/{name}/versions",
        summary="Add a version: the next number in its locale (1 for a new locale)",
        status_code=201,
        response_model=VersionOut,
        responses={**problems, **not_found},
        openapi_extra=body(VersionIn),
    )
    async def add_version(request: Request, name: str) -> Response:
        principal = await authenticate(request)
        payload = parse_model(VersionIn, await read_json(request, max_bytes=max_body_bytes))
        version = await templates.add_version(
            principal.account_id, name, body=payload.body, locale=payload.locale
        )
        return _json(version_json(version), 201)

    @router.delete(
        "/{name}",
        summary="Delete a template with every version",
        status_code=204,
        responses={**problems, **not_found},
    )
    async def delete_template(request: Request, name: str) -> Response:
        principal = await authenticate(request)
        await templates.delete(principal.account_id, name)
        return Response(status_code=204)

    return router
