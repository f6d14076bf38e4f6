"""asyncio shells around the sans-IO SMPP core: the client (ESME) and the server (SMSC role).

* :class:`SmppClient` binds to an SMSC and keeps the bind: windowed submits, a smooth throttle,
  backoff on ESME_RTHROTTLED / ESME_RMSGQFUL, enquire_link, reconnect, graceful unbind, TLS.
* :class:`SmppServer` accepts binds and hands PDUs to an :class:`SmppHandler`; its sessions push
  deliver_sm to receivers.
* Both run on the small :class:`AsyncStream` interface: TCP/TLS in production, the in-memory
  streams of :mod:`marconi.transport.memory` in tests.
"""

from __future__ import annotations

from marconi.transport.backoff import Backoff
from marconi.transport.client import BindType, DataSmHook, DeliverSmHook, SmppClient, StateHook
from marconi.transport.loop import install_uvloop
from marconi.transport.memory import MemoryConnector, MemoryStream, memory_stream_pair
from marconi.transport.server import BaseHandler, Bind, SmppHandler, SmppServer, SmppSession
from marconi.transport.stream import (
    AsyncStream,
    Connector,
    TcpConnector,
    TcpListener,
    TcpStream,
    open_tcp_stream,
    start_tcp_listener,
)
from marconi.transport.throttle import AdaptiveThrottle, Clock, TokenBucket
from marconi.transport.tls import client_ssl_context, server_ssl_context

__all__ = [
    "AdaptiveThrottle",
    "AsyncStream",
    "Backoff",
    "BaseHandler",
    "Bind",
    "BindType",
    "Clock",
    "Connector",
    "DataSmHook",
    "DeliverSmHook",
    "MemoryConnector",
    "MemoryStream",
    "SmppClient",
    "SmppHandler",
    "SmppServer",
    "SmppSession",
    "StateHook",
    "TcpConnector",
    "TcpListener",
    "TcpStream",
    "TokenBucket",
    "client_ssl_context",
    "install_uvloop",
    "memory_stream_pair",
    "open_tcp_stream",
    "server_ssl_context",
    "start_tcp_listener",
]
