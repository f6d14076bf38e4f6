"""Who is calling: an API key as HTTP Basic (``key_id:secret``) or ``Bearer key_id:secret``, or
an account's id and auth token as HTTP Basic; then the key's rate limit."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request

from marconi.api.problem import ApiError
from marconi.api.ratelimit import RateLimiter
from marconi.errors import AuthenticationError
from marconi.services import KeyService, Principal

__all__ = ["Authenticator", "parse_authorization"]


def parse_authorization(header: str) -> tuple[str, str]:
    """(id, secret) from an Authorization header; AuthenticationError when it has neither."""
    scheme, _, value = header.strip().partition(" ")
    scheme = scheme.lower()
    value = value.strip()
    if scheme == "basic":
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise AuthenticationError("malformed Basic credentials") from None
    elif scheme == "bearer":
        decoded = value
    else:
        raise AuthenticationError("unsupported authorization scheme")
    identity, sep, secret = decoded.partition(":")
    if not sep or not identity or not secret:
        raise AuthenticationError("credentials must be '<key id>:<secret>'")
    return identity, secret


class Authenticator:
    def __init__(self, *, keys: KeyService, limiter: RateLimiter | None) -> None:
        self._keys = keys
        self._limiter = limiter

    async def __call__(self, request: Request) -> Principal:
        return await self.check(request.headers.get("authorization"))

    async def check(self, header: str | None) -> Principal:
        """The principal an Authorization header names, after its rate limit."""
        if header is None:
            raise AuthenticationError("no credentials")
        identity, secret = parse_authorization(header)
        if identity.startswith("AC"):
            principal = await self._keys.authenticate_account(identity, secret)
        else:
            principal = await self._keys.authenticate(identity, secret)
        if self._limiter is not None:
            wait = self._limiter.acquire(principal.credential_id)
            if wait is not None:
                raise ApiError(
                    429,
                    f"this key may make {self._limiter.rate:g} requests a second (bursts of "
                    f"{self._limiter.burst}); retry after the Retry-After header's seconds",
                    code="rate_limited",
                    headers={"Retry-After": RateLimiter.retry_after(wait)},
                )
        return principal
