"""The compatible face's routes, mounted by :func:`marconi.api.app.create_app`:
``/2010-04-01/…`` (Messages, Accounts, Keys, IncomingPhoneNumbers) and ``/v1/Services``
(Messaging Services, which Twilio serves from its messaging domain)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from marconi.api.auth import Authenticator
from marconi.services import Services
from marconi.services.messaging_service import MessagingServices
from marconi.store.messaging_service import messaging_service_repository_for
from marconi.twilio.accounts import accounts_routes
from marconi.twilio.auth import TwilioAuth
from marconi.twilio.errors import TwilioError
from marconi.twilio.messages import messages_routes
from marconi.twilio.messaging import messaging_router
from marconi.twilio.numbers import numbers_routes
from marconi.twilio.route import TwilioRoute
from marconi.twilio.shape import PREFIX

__all__ = ["twilio_router"]


def twilio_router(
    services: Services, authenticator: Authenticator, *, max_body_bytes: int
) -> APIRouter:
    auth = TwilioAuth(authenticator=authenticator, accounts=services.accounts)
    repository = messaging_service_repository_for(services.store)
    pools = (
        None
        if repository is None
        else MessagingServices(services=repository, numbers=services.numbers)
    )
    api = APIRouter(prefix=PREFIX, route_class=TwilioRoute, tags=["twilio"])
    messages_routes(api, services, auth, pools=pools, max_body_bytes=max_body_bytes)
    accounts_routes(api, services, auth, max_body_bytes=max_body_bytes)
    numbers_routes(api, services, auth, max_body_bytes=max_body_bytes)
    root = APIRouter()
    root.include_router(api)
    root.include_router(messaging_router(pools, auth, max_body_bytes=max_body_bytes))
    # Last, so they only catch what nothing else serves: Twilio's 20404, not problem+json.
    unknown = APIRouter(route_class=TwilioRoute, include_in_schema=False)
    methods = ["GET", "POST", "DELETE", "PUT", "PATCH"]

    @unknown.api_route(f"{PREFIX}/{{path:path}}", methods=methods)
    @unknown.api_route("/v1/Services/{path:path}", methods=methods)
    async def not_served(path: str) -> Response:
        raise TwilioError(404, 20404, "The requested resource was not found")

    root.include_router(unknown)
    return root
