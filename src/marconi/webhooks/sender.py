"""The HTTP side of webhook delivery: one POST, its answer, or why there was none.

The worker speaks to a :class:`Sender`; :class:`AiohttpSender` is the real one, over aiohttp's
client (chosen by measurement: on loopback it costs about a tenth of the CPU httpx does per
request — see docs/benchmarks.md). What it guarantees:

- redirects are never followed (a 3xx is an answer like any other);
- one ``timeout`` covers the whole exchange: connect, send, and reading the answer;
- at most ``max_body`` bytes of the answer are read, whatever it claims or sends;
- https targets get TLS with certificate and host name checks, against ``server_hostname`` when
  the URL holds an address already checked by the SSRF guard;
- connections are kept alive and pooled, at most ``per_target`` of them to one host and port,
  so a slow receiver cannot take every connection from the others;
- no cookies, no proxies from the environment, no content decoding.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

import aiohttp

from marconi.errors import MarconiError

__all__ = [
    "AiohttpSender",
    "Answer",
    "BrokenExchange",
    "CannotConnect",
    "Outgoing",
    "SendError",
    "SendTimeout",
    "Sender",
]

_KEPT_HEADERS: Final = ("content-type", "retry-after", "location")


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A webhook request: POST ``body`` to ``url`` with ``headers``. ``server_hostname`` is the
    TLS name to expect when ``url`` names an address instead of the host."""

    url: str
    headers: Mapping[str, str]
    body: bytes
    server_hostname: str | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """What the receiver answered: the status, the few headers the worker reads (lower-case
    names), and the start of the body."""

    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""


class SendError(MarconiError):
    """No answer came; ``reason`` says why in words for the delivery log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SendTimeout(SendError):
    """The exchange took longer than the timeout."""


class CannotConnect(SendError):
    """No connection (refused, unreachable, TLS handshake or certificate refused)."""


class BrokenExchange(SendError):
    """Connected, but the receiver closed early or answered something that is not HTTP."""


class Sender(Protocol):
    async def post(self, request: Outgoing) -> Answer:
        """The answer, or SendError."""
        ...

    async def aclose(self) -> None: ...


class AiohttpSender:
    """:class:`Sender` over one aiohttp session (see the module docstring). Build it inside the
    running event loop."""

    def __init__(
        self,
        *,
        timeout: float = 10.0,
        connections: int = 256,
        per_target: int | None = None,
        max_body: int = 64 * 1024,
        user_agent: str = "",
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``ssl_context`` replaces the default one (the system's trusted CAs, host names
        checked), e.g. to trust a private CA."""
        if per_target is None:
            per_target = max(1, connections // 2)
        self._timeout = timeout
        self._max_body = max_body
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=connections,
                limit_per_host=per_target,
                ttl_dns_cache=30,
                ssl=True if ssl_context is None else ssl_context,
            ),
            timeout=aiohttp.ClientTimeout(total=timeout),
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=False,
            trust_env=False,
            headers={"user-agent": user_agent} if user_agent else None,
            skip_auto_headers=("accept", "accept-encoding"),
        )

    async def post(self, request: Outgoing) -> Answer:
        try:
            async with self._session.post(
                request.url,
                data=request.body,
                headers=request.headers,
                allow_redirects=False,
                server_hostname=request.server_hostname,
            ) as response:
                body = await _read_limited(response.content, self._max_body)
                headers = {
                    name: value
                    for name in _KEPT_HEADERS
                    if (value := response.headers.get(name)) is not None
                }
                return Answer(status=response.status, headers=headers, body=body)
        except TimeoutError:
            raise SendTimeout(f"timed out after {self._timeout:g} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise CannotConnect(f"cannot connect: {_reason(exc)}") from None
        except (aiohttp.ClientError, ValueError) as exc:
            raise BrokenExchange(f"the receiver broke the HTTP exchange: {_reason(exc)}") from None

    async def aclose(self) -> None:
        await self._session.close()


async def _read_limited(stream: aiohttp.StreamReader, limit: int) -> bytes:
    """Up to ``limit`` bytes of the body; the rest is never read (the connection is then not
    reused, which is the price of a receiver answering too much)."""
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = await stream.read(limit - size)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        return f"TLS certificate refused: {exc.certificate_error}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return str(exc.os_error) or type(exc.os_error).__name__
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
