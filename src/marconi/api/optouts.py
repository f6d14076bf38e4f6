"""``/v1/optouts``: destinations that opted out of the account's messages, and the inbound
keywords (with their replies and languages) that opt them out, in and ask for help."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response

from marconi.api.body import parse_model, read_json
from marconi.api.respond import json_response as _json
from marconi.services import Principal, Services
from marconi.services.keyword import settings_json
from marconi.store.optout import OptOut

__all__ = ["optouts_router"]

Authenticate = Callable[[Request], Awaitable[Principal]]


class OptOutIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    to: str = Field(description="The destination, in international form.")
    from_: str | None = Field(
        default=None,
        alias="from",
        description="Stop only this sender of the account; omitted: every sender.",
    )


class OptOutOut(BaseModel):
    to: str
    from_: str | None = Field(alias="from", description="null: every sender of the account.")
    source: str = Field(description="keyword (the destination sent one) or api.")
    keyword: str | None
    created_at: str


class OptOutPage(BaseModel):
    items: list[OptOutOut]
    next_cursor: str | None


class LanguageKeywords(BaseModel):
    language: str = Field(examples=["en"])
    opt_out: list[str] = Field(description="Stop the sender the keyword was sent to.")
    opt_out_all: list[str] = Field(description="Stop every sender of the account.")
    opt_in: list[str] = Field(description="Lift the opt-outs that stop that sender.")
    help: list[str]
    replies: dict[str, str | None] = Field(
        description="Texts sent back for opt_out (both kinds), opt_in and help; null: none."
    )


class KeywordSettingsOut(BaseModel):
    enabled: bool = Field(description="false: keywords reach the webhook only, as any text.")
    languages: list[LanguageKeywords]


def opt_out_json(opt_out: OptOut) -> dict[str, Any]:
    return {
        "to": opt_out.to_addr,
        "from": opt_out.from_addr,
        "source": opt_out.source,
        "keyword": opt_out.keyword,
        "created_at": opt_out.created_at,
    }


def optouts_router(
    services: Services, authenticate: Authenticate, *, max_body_bytes: int = 64 * 1024
) -> APIRouter:
    router = APIRouter(prefix="/v1/optouts", tags=["opt-outs"])
    optouts = services.optouts
    problems: dict[int | str, dict[str, Any]] = {
        401: {"description": "Missing, unknown, wrong or revoked credentials."},
        422: {"description": "A field is missing, unknown or invalid (see `field`)."},
        503: {"description": "The database cannot be reached; retry."},
    }

    def body(model: type[BaseModel]) -> dict[str, Any]:
        return {
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": model.model_json_schema()}},
            }
        }

    # The keyword routes come first: /keywords is not a destination.

    @router.get(
        "/keywords",
        summary="The account's keywords, replies and languages",
        response_model=KeywordSettingsOut,
        responses=problems,
    )
    async def get_keywords(request: Request) -> Response:
        principal = await authenticate(request)
        return _json(settings_json(await optouts.keyword_settings(principal.account_id)))

    @router.put(
        "/keywords",
        summary="Replace the account's keywords, replies and languages",
        description="A keyword may appear once across all lists of all languages; the reply "
        "goes in the language of the keyword that matched.",
        response_model=KeywordSettingsOut,
        responses=problems,
        openapi_extra=body(KeywordSettingsOut),
    )
    async def put_keywords(request: Request) -> Response:
        principal = await authenticate(request)
        data = await read_json(request, max_bytes=max_body_bytes)
        settings = await optouts.put_keyword_settings(principal.account_id, data)
        return _json(settings_json(settings))

    @router.delete(
        "/keywords",
        summary="Go back to the default keywords and replies (English)",
        response_model=KeywordSettingsOut,
        responses=problems,
    )
    async def reset_keywords(request: Request) -> Response:
        principal = await authenticate(request)
        return _json(settings_json(await optouts.reset_keyword_settings(principal.account_id)))

    @router.get(
        "",
        summary="Opted-out destinations, by number",
        response_model=OptOutPage,
        responses=problems,
    )
    async def list_opt_outs(
        request: Request,
        to: str | None = Query(None, description="Only this destination."),
        limit: int = Query(50, ge=1, le=500),
        cursor: str | None = Query(None, description="next_cursor of the previous page."),
    ) -> Response:
        principal = await authenticate(request)
        page = await optouts.list_opt_outs(principal.account_id, to=to, limit=limit, cursor=cursor)
        return _json(
            {"items": [opt_out_json(o) for o in page.items], "next_cursor": page.next_cursor}
        )

    @router.post(
        "",
        summary="Opt a destination out (of one sender, or all of them)",
        description="Adding one that exists returns it unchanged.",
        status_code=201,
        response_model=OptOutOut,
        responses=problems,
        openapi_extra=body(OptOutIn),
    )
    async def add_opt_out(request: Request) -> Response:
        principal = await authenticate(request)
        payload = parse_model(OptOutIn, await read_json(request, max_bytes=max_body_bytes))
        added = await optouts.add(principal.account_id, payload.to, from_=payload.from_)
        return _json(opt_out_json(added), 201)

    @router.delete(
        "/{to}",
        summary="Remove an opt-out, so messages may go to the destination again",
        description="Without `from`, removes the opt-out from every sender; with it, the one "
        "from that sender (write + as %2B in a query).",
        status_code=204,
        responses={**problems, 404: {"description": "No such opt-out in this account."}},
    )
    async def remove_opt_out(
        request: Request,
        to: str,
        from_: str | None = Query(None, alias="from", description="The sender it stops."),
    ) -> Response:
        principal = await authenticate(request)
        await optouts.remove(principal.account_id, to, from_=from_)
        return Response(status_code=204)

    return router
