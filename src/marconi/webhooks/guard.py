"""Refusing webhook targets inside the operator's network (server-side request forgery).

With ``allow_private_webhooks`` off, a webhook may only go to a public address. A target is
checked twice: when its URL enters (:func:`check_webhook_url`, for the services: literal
addresses in any spelling and ``localhost`` names) and when it is sent (:class:`TargetGuard`:
after DNS resolution, every address the name resolves to must be public). The request then goes
to the address that was checked, with the name kept in the ``Host`` header and TLS SNI, so a DNS
answer that changes between the check and the connection cannot slip a private address in.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Protocol, TypeAlias
from urllib.parse import urlsplit

from marconi.errors import MarconiError, ValidationError

__all__ = [
    "IpAddress",
    "PinnedTarget",
    "Resolver",
    "TargetGuard",
    "TargetRefused",
    "TargetUnresolved",
    "WebhookPolicy",
    "check_webhook_url",
    "classify",
    "parse_ip",
    "system_resolver",
]

IpAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
URL_MAX: Final = 2048
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR: Final = ipaddress.IPv6Network("2002::/16")


class TargetRefused(MarconiError):
    """A webhook target that is not allowed (a private address, or a name that does not
    resolve). ``reason`` says why in words an operator can act on."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TargetUnresolved(MarconiError):
    """A webhook host whose name does not resolve now; worth trying again later."""


class WebhookPolicy(Protocol):
    """What the guard needs of the settings (:class:`marconi.config.Settings` has it)."""

    @property
    def allow_private_webhooks(self) -> bool: ...


class Resolver(Protocol):
    async def __call__(self, host: str, port: int) -> list[IpAddress]: ...


async def system_resolver(host: str, port: int) -> list[IpAddress]:
    """The addresses ``host`` resolves to, through the system's resolver."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    result: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in result:
            result.append(address)
    return result


def _ipv4_number(part: str) -> int | None:
    """One part of a dotted IPv4 address as inet_aton reads it: decimal, 0x hex or 0 octal."""
    if not part:
        return None
    try:
        if part[:2].lower() == "0x":
            return int(part[2:], 16) if part[2:] else 0
        if len(part) > 1 and part[0] == "0":
            return int(part[1:], 8)
        if part.isdigit():
            return int(part)
    except ValueError:
        return None
    return None


def parse_ip(host: str) -> IpAddress | None:
    """The address a URL's host names literally, in every spelling a resolver accepts
    (``127.0.0.1``, ``127.1``, ``2130706433``, ``0x7f.0.0.1``, ``0177.0.0.1``, ``[::1]``,
    ``::ffff:127.0.0.1``), or None for a name."""
    text = host.strip().strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        pass
    parts = text.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_ipv4_number(p) for p in parts]
    if any(n is None for n in numbers):
        return None
    values = [n for n in numbers if n is not None]
    # a.b.c.d; a.b.c with c 16 bits; a.b with b 24 bits; a alone 32 bits
    last_bits = 8 * (5 - len(values))
    if any(v > 255 for v in values[:-1]) or values[-1] >= 1 << last_bits:
        return None
    value = 0
    for v in values[:-1]:
        value = value << 8 | v
    value = value << last_bits | values[-1]
    return ipaddress.IPv4Address(value)


def classify(address: IpAddress) -> str | None:
    """Why ``address`` is not a public target (``"loopback"``, ``"private"``…), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is None and address in _SIX_TO_FOUR:
            embedded = address.sixtofour
        if embedded is not None:
            reason = classify(embedded)
            return None if reason is None else f"{reason} (inside IPv6 {address})"
    for reason, flagged in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("site-local", isinstance(address, ipaddress.IPv6Address) and address.is_site_local),
    ):
        if flagged:
            return reason
    if not address.is_global:
        return "not globally routable"
    return None


def _is_local_name(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


def _refusal(host: str, address: IpAddress, reason: str) -> str:
    shown = f"{host} resolves to {address}" if parse_ip(host) is None else f"{address}"
    return (
        f"{shown}, a {reason} address; webhooks to private addresses are disabled "
        "(MARCONI_ALLOW_PRIVATE_WEBHOOKS=false)"
    )


def check_webhook_url(url: str, settings: WebhookPolicy, *, field: str = "url") -> str:
    """The URL, stripped, if a webhook may go there; otherwise ValidationError.

    Codes: ``invalid_url`` (not an absolute http(s) URL) and ``webhook_url_refused`` (a literal
    private address or a ``localhost`` name while private targets are disallowed). Names are
    resolved only when sending: what they point to may change.
    """
    url = url.strip()
    if len(url) > URL_MAX:
        raise ValidationError(
            f"{field} is longer than {URL_MAX} characters", code="invalid_url", field=field
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError(
            f"{field} must be an absolute http:// or https:// URL", code="invalid_url", field=field
        )
    if settings.allow_private_webhooks:
        return url
    host = parts.hostname
    if _is_local_name(host):
        raise ValidationError(
            f"{field} names {host}; webhooks to private addresses are disabled "
            "(MARCONI_ALLOW_PRIVATE_WEBHOOKS=false)",
            code="webhook_url_refused",
            field=field,
        )
    address = parse_ip(host)
    if address is not None:
        reason = classify(address)
        if reason is not None:
            raise ValidationError(
                f"{field} points at {_refusal(host, address, reason)}",
                code="webhook_url_refused",
                field=field,
            )
    return url


@dataclass(frozen=True, slots=True)
class PinnedTarget:
    """Where to send: ``url`` has the checked address in place of the name, ``host`` is the
    ``Host`` header and ``sni`` the TLS server name (None when the URL named an address)."""

    url: str
    host: str
    sni: str | None


def _pinned(url: str, address: IpAddress) -> PinnedTarget:
    parts = urlsplit(url)
    hostname = parts.hostname or ""
    literal = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = parts.netloc.rsplit("@", 1)[-1]
    is_name = parse_ip(hostname) is None
    return PinnedTarget(
        url=parts._replace(netloc=netloc).geturl(),
        host=host_header,
        sni=hostname if is_name and parts.scheme == "https" else None,
    )


@dataclass(slots=True)
class _Cached:
    until: float
    addresses: list[IpAddress] | None
    error: str | None


class TargetGuard:
    """Resolves and checks a webhook's host at send time, remembering answers for ``ttl``
    seconds (a delivery burst to one receiver resolves its name once)."""

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        ttl: float = 30.0,
        monotonic: Callable[[], float] | None = None,
    ) -> None:
        self._resolver = resolver
        self._ttl = ttl
        self._monotonic = monotonic or time.monotonic
        self._cache: dict[tuple[str, int], _Cached] = {}

    async def pin(self, url: str) -> PinnedTarget:
        """The target to connect to; TargetRefused for a private one, TargetUnresolved when
        the name does not resolve (now)."""
        parts = urlsplit(url)
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise TargetRefused(f"{url!r} is not an absolute http(s) URL")
        if _is_local_name(host):
            raise TargetRefused(
                f"{host} is a local name; webhooks to private addresses are disabled "
                "(MARCONI_ALLOW_PRIVATE_WEBHOOKS=false)"
            )
        port = parts.port or (443 if parts.scheme == "https" else 80)
        literal = parse_ip(host)
        if literal is not None:
            addresses = [literal]
        else:
            addresses = await self._resolve(host, port)
        for address in addresses:
            reason = classify(address)
            if reason is not None:
                raise TargetRefused(_refusal(host, address, reason))
        return _pinned(url, addresses[0])

    async def _resolve(self, host: str, port: int) -> list[IpAddress]:
        key = (host.lower(), port)
        now = self._monotonic()
        cached = self._cache.get(key)
        if cached is None or cached.until <= now:
            try:
                found = await self._resolver(host, port)
                cached = _Cached(now + self._ttl, found, None if found else "no address")
            except OSError as exc:
                cached = _Cached(now + min(self._ttl, 5.0), None, str(exc.strerror or exc))
            if len(self._cache) > 4096:
                self._cache.clear()
            self._cache[key] = cached
        if cached.addresses is None or not cached.addresses:
            raise TargetUnresolved(f"{host} does not resolve: {cached.error}")
        return cached.addresses
