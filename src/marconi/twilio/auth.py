"""Who calls the compatible face: HTTP Basic with an account SID (``AC…``) and its auth token,
or an API key (``SK…``) and its secret, as every Twilio helper library sends them.

The account in the URL (``/Accounts/{AccountSid}/…``) must be the caller's own or one of its
sub-accounts, as on Twilio; any other is 20404, exactly like one that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from starlette.requests import Request

from marconi.api.auth import Authenticator
from marconi.errors import AuthenticationError
from marconi.services import AccountService, Principal

__all__ = ["TwilioAuth", "TwilioCaller"]


@dataclass(frozen=True, slots=True)
class TwilioCaller:
    """The authenticated caller and the account the request acts on."""

    principal: Principal
    account_sid: str


class TwilioAuth:
    """``await auth(request)`` for requests without an account in the path (Verify v2);
    ``await auth.for_account(request, sid)`` for ``/2010-04-01/Accounts/{sid}/…``."""

    def __init__(self, *, authenticator: Authenticator, accounts: AccountService) -> None:
        self._authenticator = authenticator
        self._accounts = accounts

    async def __call__(self, request: Request) -> Principal:
        header = request.headers.get("authorization")
        if header is None or not header.lower().startswith("basic "):
            raise AuthenticationError("HTTP Basic credentials are required")
        return await self._authenticator.check(header)

    async def for_account(self, request: Request, account_sid: str) -> TwilioCaller:
        principal = await self(request)
        if account_sid != principal.account_id:
            # NotFound unless it is a sub-account of the caller
            await self._accounts.get_account(principal.account_id, account_sid)
        return TwilioCaller(principal, account_sid)
