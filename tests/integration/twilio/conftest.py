"""A real API server per test (the ``start_api`` fixture of the API tests, on SQLite and
PostgreSQL) and the official ``twilio`` client pointed at it by its domain's ``base_url``.

The twilio client is synchronous (requests): tests call it through ``asyncio.to_thread`` so the
server, which runs in the test's event loop, keeps answering.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from tests.integration.api.conftest import (  # noqa: F401 - fixtures used by these tests
    Api,
    StartApi,
    pg_schema,
    sqlite_template,
    start_api,
)
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

SENDER = "+14155550100"


@dataclass
class TwilioAccount:
    """A sub-account with its auth token and a sender, on a running server."""

    api: Api
    sid: str
    auth_token: str
    sender: str

    def client(
        self,
        username: str | None = None,
        password: str | None = None,
        account_sid: str | None = None,
    ) -> Client:
        """The official client, signed in with the SID and token (or a key and secret)."""
        http = TwilioHttpClient(timeout=10)
        http.session.trust_env = False  # talk to the loopback server, never through a proxy
        client = Client(
            username or self.sid,
            password or self.auth_token,
            account_sid or self.sid,
            http_client=http,
        )
        client.api.base_url = self.api.url
        client.messaging.base_url = self.api.url
        return client


@pytest.fixture
async def account(start_api: StartApi) -> TwilioAccount:  # noqa: F811
    api = await start_api()
    admin = await api.services.accounts.admin_account()
    new, _ = await api.services.accounts.create_subaccount(admin.id, name="twilio app")
    await api.services.numbers.add_number(new.account.id, SENDER)
    return TwilioAccount(api=api, sid=new.account.id, auth_token=new.auth_token, sender=SENDER)
