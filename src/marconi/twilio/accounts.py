"""``/2010-04-01/Accounts`` (the caller and its sub-accounts) and ``…/Keys`` (API keys, whose
``SK`` sids and secrets sign in like an account SID and auth token).

Both answer to the auth token only, as Twilio's standard keys may not manage accounts or keys:
otherwise a key could read the auth token (which an account's answer carries) or mint keys
that outlive its own revocation.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from marconi.services import Principal, Services
from marconi.twilio.auth import TwilioAuth
from marconi.twilio.errors import TwilioError
from marconi.twilio.form import Form, read_form
from marconi.twilio.paging import PageRequest, page_envelope
from marconi.twilio.response import json_response
from marconi.twilio.shape import PREFIX, account_json, key_json

__all__ = ["accounts_routes"]


def _token_holder(principal: Principal) -> Principal:
    if principal.key_id is not None:
        raise TwilioError(
            401, 20003, "API keys cannot manage accounts or keys; use the account's auth token"
        )
    return principal


def accounts_routes(
    router: APIRouter, services: Services, auth: TwilioAuth, *, max_body_bytes: int
) -> None:
    accounts = services.accounts
    keys = services.keys

    @router.get("/Accounts.json", summary="The caller's account and its sub-accounts")
    async def list_accounts(request: Request) -> Response:
        principal = _token_holder(await auth(request))
        paging = PageRequest.of(Form.from_query(request.url.query))
        own = await accounts.get_account(principal.account_id, principal.account_id)
        items = [own, *await accounts.list_subaccounts(principal.account_id)]
        return json_response(
            page_envelope(
                "accounts",
                [account_json(a, auth_token=None) for a in items],
                path=f"{PREFIX}/Accounts.json",
                filters={},
                request=paging,
                next_token=None,
            )
        )

    @router.post("/Accounts.json", status_code=201, summary="Create a sub-account")
    async def create_account(request: Request) -> Response:
        principal = _token_holder(await auth(request))
        form = await read_form(request, max_bytes=max_body_bytes)
        new, _ = await accounts.create_subaccount(
            principal.account_id, name=form.text("FriendlyName") or ""
        )
        return json_response(account_json(new.account, auth_token=new.auth_token), 201)

    @router.get("/Accounts/{account_sid}.json", summary="Fetch an account")
    async def fetch_account(request: Request, account_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        _token_holder(caller.principal)
        account = await accounts.get_account(caller.principal.account_id, caller.account_sid)
        token = await accounts.auth_token(caller.principal.account_id, caller.account_sid)
        return json_response(account_json(account, auth_token=token))

    base = "/Accounts/{account_sid}/Keys"

    @router.get(f"{base}.json", summary="The account's API keys")
    async def list_keys(request: Request, account_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        _token_holder(caller.principal)
        paging = PageRequest.of(Form.from_query(request.url.query))
        items = [k for k in await keys.list_keys(caller.account_sid) if k.active]
        return json_response(
            page_envelope(
                "keys",
                [key_json(k) for k in items],
                path=f"{PREFIX}/Accounts/{caller.account_sid}/Keys.json",
                filters={},
                request=paging,
                next_token=None,
            )
        )

    @router.post(f"{base}.json", status_code=201, summary="Create an API key")
    async def create_key(request: Request, account_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        _token_holder(caller.principal)
        form = await read_form(request, max_bytes=max_body_bytes)
        new = await keys.create_key(caller.account_sid, name=form.text("FriendlyName") or "")
        return json_response(key_json(new.key, secret=new.secret), 201)

    @router.get(f"{base}/{{key_sid}}.json", summary="Fetch an API key")
    async def fetch_key(request: Request, account_sid: str, key_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        _token_holder(caller.principal)
        return json_response(key_json(await keys.get_key(caller.account_sid, key_sid)))

    @router.delete(f"{base}/{{key_sid}}.json", status_code=204, summary="Delete an API key")
    async def delete_key(request: Request, account_sid: str, key_sid: str) -> Response:
        caller = await auth.for_account(request, account_sid)
        _token_holder(caller.principal)
        await keys.revoke_key(caller.account_sid, key_sid)
        return Response(status_code=204)
