"""The ``/2010-04-01`` router, mounted by :func:`marconi.api.app.create_app`."""

from __future__ import annotations

from fastapi import APIRouter

from marconi.api.auth import Authenticator
from marconi.services import Services
from marconi.twilio.accounts import accounts_routes
from marconi.twilio.auth import TwilioAuth
from marconi.twilio.messages import messages_routes
from marconi.twilio.numbers import numbers_routes
from marconi.twilio.route import TwilioRoute
from marconi.twilio.shape import PREFIX

__all__ = ["twilio_router"]


def twilio_router(
    services: Services, authenticator: Authenticator, *, max_body_bytes: int
) -> APIRouter:
    router = APIRouter(prefix=PREFIX, route_class=TwilioRoute, tags=["twilio"])
    auth = TwilioAuth(authenticator=authenticator, accounts=services.accounts)
    for add in (messages_routes, accounts_routes, numbers_routes):
        add(router, services, auth, max_body_bytes=max_body_bytes)
    return router
