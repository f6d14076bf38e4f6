"""The webhook HTTP client over real loopback sockets: what it sends, what it refuses to do
(follow redirects, read without bound, wait forever), TLS, keep-alive, the per-target cap, and
random bytes for answers."""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from tests.integration.transport.certs import TlsFiles, make_tls_files

from marconi.webhooks.sender import (
    AiohttpSender,
    Answer,
    BrokenExchange,
    CannotConnect,
    Outgoing,
    SendError,
    SendTimeout,
)
from marconi.webhooks.testing import ReceivedRequest, ReceiverResponse, WebhookReceiver

BODY = b'{"type":"message.status","sequence":3}'
HEADERS = {"content-type": "application/json", "webhook-id": "WH1", "webhook-sequence": "3"}


@pytest.fixture
async def sender() -> AsyncIterator[AiohttpSender]:
    s = AiohttpSender(timeout=2.0, connections=16, max_body=1000, user_agent="Marconi/test")
    yield s
    await s.aclose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def raw_server(
    answer: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    *,
    tls: ssl.SSLContext | None = None,
) -> asyncio.Server:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await answer(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0, ssl=tls)


def port_of(server: asyncio.Server) -> int:
    port: int = server.sockets[0].getsockname()[1]
    return port


async def read_request(reader: asyncio.StreamReader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head + await reader.readexactly(length)


async def test_posts_the_body_and_headers_and_reads_the_answer(sender: AiohttpSender) -> None:
    def respond(request: ReceivedRequest) -> ReceiverResponse:
        return ReceiverResponse(
            200, b'{"reply": "hi"}', headers=[("content-type", "application/json")]
        )

    async with WebhookReceiver(respond=respond) as receiver:
        answer = await sender.post(Outgoing(receiver.url("/status?x=1"), HEADERS, BODY))
        [request] = await receiver.wait_for(1)
    assert answer == Answer(200, {"content-type": "application/json"}, b'{"reply": "hi"}')
    assert (request.method, request.path, request.body) == ("POST", "/status?x=1", BODY)
    for name, value in HEADERS.items():
        assert request.headers[name] == value
    assert request.headers["user-agent"] == "Marconi/test"
    assert request.headers["content-length"] == str(len(BODY))
    assert "cookie" not in request.headers


async def test_a_pinned_address_keeps_the_host_header(sender: AiohttpSender) -> None:
    async with WebhookReceiver() as receiver:
        url = f"http://127.0.0.1:{receiver.port}/hook"
        await sender.post(Outgoing(url, {**HEADERS, "host": "hooks.example:8080"}, BODY))
        [request] = await receiver.wait_for(1)
    assert request.headers["host"] == "hooks.example:8080"


async def test_a_redirect_is_an_answer_not_followed(sender: AiohttpSender) -> None:
    def respond(request: ReceivedRequest) -> ReceiverResponse:
        return ReceiverResponse(302, headers=[("location", "/elsewhere")])

    async with WebhookReceiver(respond=respond) as receiver:
        answer = await sender.post(Outgoing(receiver.url("/hook"), HEADERS, BODY))
        await asyncio.sleep(0.05)
        assert [r.path for r in receiver.requests] == ["/hook"]
    assert answer.status == 302
    assert answer.headers["location"] == "/elsewhere"


async def test_cookies_are_not_kept_between_requests(sender: AiohttpSender) -> None:
    def respond(request: ReceivedRequest) -> ReceiverResponse:
        return ReceiverResponse(200, headers=[("set-cookie", "session=abc; Path=/")])

    async with WebhookReceiver(respond=respond) as receiver:
        for _ in range(2):
            await sender.post(Outgoing(receiver.url("/hook"), HEADERS, BODY))
        requests = await receiver.wait_for(2)
    assert all("cookie" not in r.headers for r in requests)


async def test_only_max_body_bytes_of_the_answer_are_read(sender: AiohttpSender) -> None:
    def respond(request: ReceivedRequest) -> ReceiverResponse:
        return ReceiverResponse(200, b"x" * 5_000_000)

    async with WebhookReceiver(respond=respond) as receiver:
        answer = await sender.post(Outgoing(receiver.url("/hook"), HEADERS, BODY))
    assert answer.body == b"x" * 1000


async def test_a_silent_receiver_times_out() -> None:
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await asyncio.sleep(10)

    server = await raw_server(hold)
    sender = AiohttpSender(timeout=0.3)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        with pytest.raises(SendTimeout, match=r"timed out after 0\.3 s"):
            await sender.post(Outgoing(f"http://127.0.0.1:{port_of(server)}/", HEADERS, BODY))
        assert loop.time() - started < 2
    finally:
        await sender.aclose()
        server.close()


async def test_a_refused_connection(sender: AiohttpSender) -> None:
    with pytest.raises(CannotConnect, match=r"^cannot connect: .*(refused|failed)"):
        await sender.post(Outgoing(f"http://127.0.0.1:{free_port()}/", HEADERS, BODY))


@pytest.mark.parametrize(
    "reply",
    [b"", b"HELLO\r\n\r\n", b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc", b"\x00" * 64],
)
async def test_a_broken_exchange(sender: AiohttpSender, reply: bytes) -> None:
    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply)
        await writer.drain()

    server = await raw_server(answer)
    try:
        with pytest.raises(BrokenExchange, match="the receiver broke the HTTP exchange"):
            await sender.post(Outgoing(f"http://127.0.0.1:{port_of(server)}/", HEADERS, BODY))
    finally:
        server.close()


async def test_connections_are_kept_alive(sender: AiohttpSender) -> None:
    async with WebhookReceiver() as receiver:
        for _ in range(50):
            assert (await sender.post(Outgoing(receiver.url("/"), HEADERS, BODY))).status == 200
        assert receiver.connections == 1


async def test_one_target_gets_at_most_per_target_connections() -> None:
    busy = 0
    most = 0

    async def respond(request: ReceivedRequest) -> ReceiverResponse:
        nonlocal busy, most
        busy += 1
        most = max(most, busy)
        await asyncio.sleep(0.05)
        busy -= 1
        return ReceiverResponse(204)

    sender = AiohttpSender(connections=32, per_target=3)
    try:
        async with WebhookReceiver(respond=respond) as slow, WebhookReceiver() as fast:
            slow_posts = asyncio.gather(
                *(sender.post(Outgoing(slow.url("/"), HEADERS, BODY)) for _ in range(30))
            )
            await asyncio.sleep(0.01)
            # The slow receiver holds its three connections; another target is not held up.
            answer = await asyncio.wait_for(
                sender.post(Outgoing(fast.url("/"), HEADERS, BODY)), 0.2
            )
            assert answer.status == 200
            assert all(a.status == 204 for a in await slow_posts)
            assert slow.connections == 3
            assert most == 3
    finally:
        await sender.aclose()


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("webhook-tls"))


async def tls_server(files: TlsFiles, connections: list[int] | None = None) -> asyncio.Server:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert, files.key)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if connections is not None:
            connections.append(1)
        while True:
            await read_request(reader)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
            await writer.drain()

    return await raw_server(answer, tls=context)


async def test_https_checks_the_certificate_against_the_server_hostname(
    tls: TlsFiles, tmp_path: Path
) -> None:
    server = await tls_server(tls)
    trusting = AiohttpSender(ssl_context=ssl.create_default_context(cafile=str(tls.ca_cert)))
    default = AiohttpSender()
    url = f"https://127.0.0.1:{port_of(server)}/hook"
    try:
        # The address is pinned in the URL; the certificate is checked for the name.
        answer = await trusting.post(Outgoing(url, HEADERS, BODY, server_hostname="localhost"))
        assert (answer.status, answer.body) == (200, b"ok")
        with pytest.raises(CannotConnect, match="cannot connect"):
            await trusting.post(Outgoing(url, HEADERS, BODY, server_hostname="hooks.example"))
        # A certificate from a CA the system does not trust is refused.
        with pytest.raises(CannotConnect, match="cannot connect"):
            await default.post(Outgoing(url, HEADERS, BODY, server_hostname="localhost"))
    finally:
        await trusting.aclose()
        await default.aclose()
        server.close()


async def test_a_tls_connection_checked_for_one_name_never_carries_another(
    tls: TlsFiles,
) -> None:
    """Two host names pinned to one address: each gets connections of its own, so a request is
    never sent over a TLS session whose certificate was checked for another name."""
    connections: list[int] = []
    server = await tls_server(tls, connections)
    sender = AiohttpSender(ssl_context=ssl.create_default_context(cafile=str(tls.ca_cert)))
    url = f"https://127.0.0.1:{port_of(server)}/hook"
    try:
        for _ in range(3):
            for name in ("localhost", None):  # the certificate names both localhost and the IP
                answer = await sender.post(Outgoing(url, HEADERS, BODY, server_hostname=name))
                assert answer.status == 200
        assert len(connections) == 2
    finally:
        await sender.aclose()
        server.close()


def _mutations(rng: random.Random) -> list[bytes]:
    valid = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 15\r\n\r\n"
        b'{"reply": "hi"}'
    )
    chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
    cases: list[bytes] = []
    for _ in range(60):
        base = bytearray(rng.choice((valid, chunked)))
        kind = rng.randrange(4)
        if kind == 0:  # cut short
            base = base[: rng.randrange(len(base))]
        elif kind == 1:  # flipped bytes
            for _ in range(rng.randrange(1, 6)):
                base[rng.randrange(len(base))] = rng.randrange(256)
        elif kind == 2:  # junk inserted
            at = rng.randrange(len(base))
            base[at:at] = rng.randbytes(rng.randrange(1, 40))
        else:  # only junk
            base = bytearray(rng.randbytes(rng.randrange(1, 300)))
        cases.append(bytes(base))
    return cases


async def test_random_answers_give_an_answer_or_a_send_error_never_anything_else() -> None:
    cases = _mutations(random.Random(20260301))
    queue = list(cases)

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(queue.pop(0))
        await writer.drain()

    server = await raw_server(answer)
    sender = AiohttpSender(timeout=1.0, max_body=64)
    outcomes: dict[str, int] = {}
    try:
        url = f"http://127.0.0.1:{port_of(server)}/"
        for _ in cases:
            try:
                result = await sender.post(Outgoing(url, {**HEADERS, "connection": "close"}, BODY))
            except SendError as exc:
                outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
            else:
                assert len(result.body) <= 64
                outcomes["Answer"] = outcomes.get("Answer", 0) + 1
    finally:
        await sender.aclose()
        server.close()
    assert sum(outcomes.values()) == len(cases)
    assert outcomes.get("BrokenExchange", 0) > 0
