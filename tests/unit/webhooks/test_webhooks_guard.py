"""Refusing private webhook targets: address classes, literal spellings, names, pinning."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marconi.errors import ValidationError
from marconi.webhooks.guard import (
    IpAddress,
    TargetGuard,
    TargetRefused,
    TargetUnresolved,
    check_webhook_url,
    classify,
    parse_ip,
)


@dataclass(frozen=True)
class Policy:
    allow_private_webhooks: bool


STRICT = Policy(allow_private_webhooks=False)
OPEN = Policy(allow_private_webhooks=True)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("100.64.0.1", "not globally routable"),  # carrier-grade NAT
        ("192.0.2.1", "private"),  # documentation
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("fec0::1", "site-local"),
        ("::ffff:127.0.0.1", "loopback (inside IPv6 ::ffff:7f00:1)"),
        ("::ffff:10.0.0.1", "private (inside IPv6 ::ffff:a00:1)"),
        ("64:ff9b::a9fe:a9fe", "link-local (inside IPv6 64:ff9b::a9fe:a9fe)"),
        ("2002:7f00:1::", "loopback (inside IPv6 2002:7f00:1::)"),
        ("8.8.8.8", None),
        ("1.1.1.1", None),
        ("172.32.0.1", None),
        ("2606:4700:4700::1111", None),
        ("::ffff:8.8.8.8", None),
    ],
)
def test_address_classes(address: str, reason: str | None) -> None:
    assert classify(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.0.0.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0", "0.0.0.0"),
        ("10.0x10.0.1", "10.16.0.1"),
        ("[::1]", "::1"),
        ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("8.8.8.8.", "8.8.8.8"),
        ("example.com", None),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
        ("1.2.3.256", None),
        ("08.1.1.1", None),  # not octal: a resolver takes it for a name
        ("4294967296", None),
        ("1e3", None),
        ("", None),
    ],
)
def test_literal_addresses_in_every_spelling(host: str, address: str | None) -> None:
    parsed = parse_ip(host)
    assert parsed == (None if address is None else ipaddress.ip_address(address))


@given(st.ip_addresses(v=4))
def test_every_spelling_of_an_ipv4_address_is_the_same_address(
    address: ipaddress.IPv4Address,
) -> None:
    value = int(address)
    a, b, c, d = address.packed
    for spelling in (
        str(address),
        str(value),
        hex(value),
        "0" + oct(value)[2:],
        f"{a}.{(b << 16) | (c << 8) | d}",
        f"{a}.{b}.{(c << 8) | d}",
        f"{hex(a)}.{b}.{c}.0{d:o}",
    ):
        assert parse_ip(spelling) == address, spelling


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://127.1:8080/hook",
        "http://2130706433/",
        "http://0x7f.1/",
        "https://[::1]/hook",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost:3000/",
        "http://LOCALHOST./",
        "http://app.localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/",
        "http://user:pw@192.168.0.1/",
    ],
)
def test_private_urls_are_refused_when_they_enter(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_webhook_url(url, STRICT, field="status_callback")
    assert caught.value.code == "webhook_url_refused"
    assert caught.value.field == "status_callback"
    assert "MARCONI_ALLOW_PRIVATE_WEBHOOKS" in str(caught.value)
    assert check_webhook_url(url, OPEN) == url  # the embedded default allows them


@pytest.mark.parametrize(
    "url", ["https://hooks.example.com/x", "http://8.8.8.8/", "https://[2606:4700::1]/"]
)
def test_public_urls_and_names_pass_when_they_enter(url: str) -> None:
    assert check_webhook_url(f"  {url} ", STRICT) == url


@pytest.mark.parametrize(
    "url", ["ftp://example.com/", "example.com/hook", "http://", "http://x:99999/", "x" * 3000]
)
def test_malformed_urls_are_invalid(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        check_webhook_url(url, OPEN)
    assert caught.value.code == "invalid_url"


class FakeResolver:
    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[IpAddress]:
        self.calls.append((host, port))
        if host not in self.answers:
            raise OSError(-2, "Name or service not known")
        return [ipaddress.ip_address(a) for a in self.answers[host]]


async def test_a_name_is_resolved_checked_and_pinned_to_the_checked_address() -> None:
    resolver = FakeResolver({"hooks.example.com": ["93.184.216.34", "2606:2800::1"]})
    guard = TargetGuard(resolver=resolver)
    target = await guard.pin("https://hooks.example.com:8443/in?x=1")
    assert target.url == "https://93.184.216.34:8443/in?x=1"
    assert target.host == "hooks.example.com:8443"
    assert target.sni == "hooks.example.com"
    assert resolver.calls == [("hooks.example.com", 8443)]


async def test_a_name_with_any_private_address_is_refused() -> None:
    resolver = FakeResolver({"rebind.example": ["93.184.216.34", "127.0.0.1"]})
    with pytest.raises(TargetRefused, match=r"rebind.example resolves to 127.0.0.1, a loopback"):
        await TargetGuard(resolver=resolver).pin("http://rebind.example/")


async def test_an_answer_is_remembered_so_a_later_rebind_changes_nothing_until_it_expires() -> None:
    now = [0.0]
    resolver = FakeResolver({"flip.example": ["93.184.216.34"]})
    guard = TargetGuard(resolver=resolver, ttl=30, monotonic=lambda: now[0])
    first = await guard.pin("http://flip.example/")
    resolver.answers["flip.example"] = ["10.0.0.1"]
    now[0] = 10
    assert (await guard.pin("http://flip.example/")).url == first.url
    assert len(resolver.calls) == 1
    now[0] = 31
    with pytest.raises(TargetRefused, match="private"):
        await guard.pin("http://flip.example/")


async def test_literal_and_local_targets_need_no_resolver() -> None:
    resolver = FakeResolver({})
    guard = TargetGuard(resolver=resolver)
    with pytest.raises(TargetRefused, match="loopback"):
        await guard.pin("http://0x7f.1:9000/")
    with pytest.raises(TargetRefused, match="local name"):
        await guard.pin("http://localhost/")
    target = await guard.pin("http://8.8.8.8/")
    assert (target.url, target.host, target.sni) == ("http://8.8.8.8/", "8.8.8.8", None)
    v6 = await guard.pin("https://[2606:4700::1]:444/")
    assert v6.url == "https://[2606:4700::1]:444/"
    assert v6.sni is None
    assert resolver.calls == []


async def test_a_name_that_does_not_resolve_is_worth_another_try() -> None:
    with pytest.raises(TargetUnresolved, match=r"nowhere\.example does not resolve"):
        await TargetGuard(resolver=FakeResolver({})).pin("http://nowhere.example/")
