"""The running service, built from Settings: store, services, connectors, dispatcher, inbound,
webhook worker and the ASGI app — started in order and stopped in reverse.

::

    runtime = await Runtime.build(settings)      # opens (and migrates) the store
    await runtime.start()                         # binds links, starts the loops
    app = runtime.app                             # serve it with uvicorn
    ...
    await runtime.aclose()                        # graceful: see aclose()

Nothing is built at import time; everything hangs off the one Runtime.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final, Protocol

from starlette.types import Message as AsgiMessage
from starlette.types import Receive, Scope, Send

from marconi.api.app import ApiOptions, MarconiApp, create_app
from marconi.config import (
    ConnectorConfig,
    RouteConfig,
    Settings,
    connector_from_mapping,
    route_from_mapping,
)
from marconi.connectors import SimulatorConnector, SmppConnector, build_connector
from marconi.dispatch import Dispatcher, Router, received_part
from marconi.errors import ConfigError, MarconiError
from marconi.metrics import CONTENT_TYPE_LATEST, Metrics
from marconi.services import AdminBootstrap, Services, build_services
from marconi.services.connector import ConnectorService, LinkState
from marconi.services.inbound import InboundService
from marconi.smpp import DeliverSm
from marconi.store import open_store
from marconi.store.auth_token import auth_token_repository_for
from marconi.store.protocols import Store
from marconi.twilio.webhook import TwilioFormat
from marconi.webhooks.payload import status_payload

__all__ = ["MetricsApp", "Runtime", "WebhookRunner"]

log = logging.getLogger(__name__)


class WebhookRunner(Protocol):
    async def run(self) -> None: ...

    async def aclose(self) -> None: ...


ReplyHook = Callable[[str, str, str, str], Awaitable[None]]

# How often a node reads the stored connectors and routes, so that a change made through another
# node's API reaches this one too (a change through this node's API applies at once).
LINKS_POLL_INTERVAL: Final = 5.0


class MetricsApp:
    """Wraps the API: ``GET /metrics`` renders the registry, and every 201 answer to
    ``POST /v1/messages`` counts as an accepted message."""

    def __init__(self, app: MarconiApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/metrics" and scope["method"] == "GET":
            body = self.metrics.render()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", CONTENT_TYPE_LATEST.encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        if path == "/v1/messages" and scope["method"] == "POST":
            accepted = self.metrics.accepted

            async def counting_send(message: AsgiMessage) -> None:
                if message["type"] == "http.response.start" and message["status"] == 201:
                    accepted.inc()
                await send(message)

            await self.app(scope, receive, counting_send)
            return
        await self.app(scope, receive, send)


async def _links(
    settings: Settings, store: Store
) -> tuple[list[ConnectorConfig], tuple[RouteConfig, ...]]:
    """The connectors and routes of the config file, and those added through the API (which
    replace a file connector of the same name; their routes are tried first)."""
    configs: dict[str, ConnectorConfig] = {c.name: c for c in settings.connectors}
    for stored in await store.list_connectors():
        if not stored.enabled:
            configs.pop(stored.name, None)
            continue
        configs[stored.name] = connector_from_mapping(
            {**stored.settings, "name": stored.name, "type": stored.kind},
            where=f"connector {stored.name}",
        )
    routes = tuple(
        route_from_mapping(r, where=f"stored route {i}")
        for i, r in enumerate(await store.list_routes())
    )
    return list(configs.values()), routes + settings.routes


def _webhook_worker(
    store: Store, settings: Settings, on_reply: ReplyHook, metrics: Metrics
) -> WebhookRunner | None:
    try:
        module = importlib.import_module("marconi.webhooks")
    except ImportError:
        return None
    worker_class: Any = getattr(module, "WebhookWorker", None)
    if worker_class is None:
        log.warning("webhooks: no WebhookWorker in this build; webhooks stay in the outbox")
        return None
    kwargs: dict[str, Any] = {"store": store, "settings": settings, "on_reply": on_reply}
    parameters = inspect.signature(worker_class).parameters
    if "metrics" in parameters:
        kwargs["metrics"] = metrics
    tokens = auth_token_repository_for(store)
    if "request_format" in parameters and tokens is not None:
        # URLs set through the Twilio-compatible API get Twilio's form posts and signature
        kwargs["request_format"] = TwilioFormat(tokens=tokens)
    if "concurrency" in parameters:
        # Requests in flight at once; a receiver gets at most half of them (its connections).
        kwargs["concurrency"] = int(os.environ.get("MARCONI_WEBHOOK_CONCURRENCY", "64"))
    worker: WebhookRunner = worker_class(**kwargs)
    return worker


class Runtime:
    """Everything ``marconi serve`` runs, in one object. Build with :meth:`build`."""

    def __init__(
        self,
        *,
        settings: Settings,
        store: Store,
        services: Services,
        metrics: Metrics,
        connectors: Mapping[str, SimulatorConnector | SmppConnector],
        connector_configs: Mapping[str, ConnectorConfig] | None = None,
        routes: tuple[RouteConfig, ...] = (),
        dispatcher: Dispatcher,
        inbound: InboundService,
        bootstrap: AdminBootstrap | None,
        api_options: ApiOptions | None = None,
        owns_store: bool = True,
    ) -> None:
        self.settings = settings
        self.store = store
        self.services = services
        self.metrics = metrics
        self.connectors = dict(connectors)
        self._configs = dict(connector_configs or {})
        self._routes = routes
        self._links_lock = asyncio.Lock()
        self.links_poll_interval: float = LINKS_POLL_INTERVAL
        self.dispatcher = dispatcher
        self.inbound = inbound
        self.bootstrap = bootstrap
        self.links = ConnectorService(
            repository=store,
            file_connectors=settings.connectors,
            file_routes=settings.routes,
            control=self,
        )
        self.api = create_app(settings, services, options=api_options, links=self.links)
        self.app = MetricsApp(self.api, metrics)
        self.webhooks: WebhookRunner | None = None
        self._owns_store = owns_store
        self._tasks: list[asyncio.Task[None]] = []
        self._closed = False

    @classmethod
    async def build(
        cls,
        settings: Settings,
        *,
        store: Store | None = None,
        api_options: ApiOptions | None = None,
        webhooks: bool = True,
        dispatcher_options: Mapping[str, Any] | None = None,
    ) -> Runtime:
        owns_store = store is None
        if store is None:
            store = await open_store(
                settings.database_url,
                migrate=True,
                synchronous=settings.sqlite_synchronous,
                status_payload=status_payload,
            )
        try:
            services = build_services(store)
            bootstrap = await services.accounts.ensure_admin()
            metrics = Metrics()
            connector_configs, routes = await _links(settings, store)
            names = {c.name for c in connector_configs}
            for route in routes:
                missing = [n for n in route.connectors if n not in names]
                if missing:
                    raise ConfigError(
                        f"a route names connector {missing[0]!r}, which does not exist"
                    )
            inbound = InboundService(
                messages=store,
                numbers=store,
                sender=services.messages,
                optouts=services.optouts,
            )
            options: dict[str, Any] = {
                "stale_after": 0.0 if settings.is_sqlite else 120.0,
                **(dispatcher_options or {}),
            }
            dispatcher = Dispatcher(
                queue=store,
                connectors={},
                router=Router(routes),
                worker_id=f"{socket.gethostname()}-{os.getpid()}",
                metrics=metrics,
                **options,
            )

            def on_inbound(connector: str, pdu: DeliverSm) -> int | asyncio.Future[int]:
                return inbound.receive(connector, received_part(pdu))

            dispatcher.on_inbound = on_inbound
            connectors = {
                c.name: build_connector(
                    c, on_deliver_sm=dispatcher.on_deliver_sm, on_state=dispatcher.link_changed
                )
                for c in connector_configs
            }
            dispatcher.set_connectors(connectors)
        except BaseException:
            if owns_store:
                await store.aclose()
            raise
        runtime = cls(
            settings=settings,
            store=store,
            services=services,
            metrics=metrics,
            connectors=connectors,
            connector_configs={c.name: c for c in connector_configs},
            routes=routes,
            dispatcher=dispatcher,
            inbound=inbound,
            bootstrap=bootstrap,
            api_options=api_options,
            owns_store=owns_store,
        )
        if webhooks:
            runtime.webhooks = _webhook_worker(store, settings, runtime._on_reply, metrics)
        return runtime

    async def _on_reply(self, account_id: str, number: str, sender: str, body: str) -> None:
        """A webhook answered an inbound message with a reply: send it from the number."""
        await self.inbound.reply(account_id, number=number, to=sender, body=body)

    async def start(self) -> None:
        """Hand back stale claims, bind every link (in the background), start the loops."""
        await self.dispatcher.start()
        for connector in self.connectors.values():
            await connector.start()
        loop = asyncio.get_running_loop()
        self._tasks.append(loop.create_task(self.dispatcher.run(), name="dispatcher"))
        if self.webhooks is not None:
            self._tasks.append(loop.create_task(self.webhooks.run(), name="webhooks"))
        self._tasks.append(loop.create_task(self._watch_links(), name="links"))

    # -- connectors and routes changed at run time -----------------------------------------------

    def link_state(self, name: str) -> LinkState | None:
        connector = self.connectors.get(name)
        if connector is None:
            return None
        return LinkState(up=connector.up, last_error=connector.last_error)

    async def apply_links(self) -> None:
        """Make the running links and routes those of the config file and the store: a new
        connector starts binding, a changed one unbinds and binds again with its new settings, a
        removed one unbinds; the route table is swapped whole. Unchanged links are untouched."""
        async with self._links_lock:
            if self._closed:
                return
            configs, routes = await _links(self.settings, self.store)
            wanted = {c.name: c for c in configs}
            gone = [
                name
                for name, config in self._configs.items()
                if wanted.get(name) != config and name in self.connectors
            ]
            if not gone and wanted.keys() == self._configs.keys() and routes == self._routes:
                return
            kept = {n: c for n, c in self.connectors.items() if n not in gone}
            # A closing link is down, so the dispatcher skips it (its messages wait or fail
            # over); what it has in flight is answered, or comes back as an error and is retried.
            old = [self.connectors[name] for name in gone]
            await asyncio.gather(*(c.aclose() for c in old), return_exceptions=True)
            started: dict[str, SimulatorConnector | SmppConnector] = {}
            for name, config in wanted.items():
                if name in kept:
                    continue
                connector = build_connector(
                    config,
                    on_deliver_sm=self.dispatcher.on_deliver_sm,
                    on_state=self.dispatcher.link_changed,
                )
                await connector.start()
                started[name] = connector
            self.connectors = {**kept, **started}
            self._configs = wanted
            self._routes = routes
            self.dispatcher.set_connectors(self.connectors)
            self.dispatcher.set_router(Router(routes))
            log.info(
                "links applied: %s started, %s stopped; %d routes",
                ", ".join(sorted(started)) or "none",
                ", ".join(sorted(set(gone) - set(started))) or "none",
                len(routes),
            )

    async def _watch_links(self) -> None:
        while not self._closed:
            await asyncio.sleep(self.links_poll_interval)
            try:
                await self.apply_links()
            except (MarconiError, OSError) as exc:
                log.warning("links: reading the stored connectors failed: %s", exc)

    async def wait_links(self) -> None:
        """Wait until every simulator link is bound (carrier links bind in their own time)."""
        for connector in self.connectors.values():
            if isinstance(connector, SimulatorConnector):
                await connector.wait_up()

    async def aclose(self, *, grace: float = 10.0) -> None:
        """Stop claiming; let batches in flight finish and be recorded (unsent ones go back to
        ``queued``); unbind every link; store the receipts and MO that came meanwhile; stop the
        webhook worker; close the store."""
        if self._closed:
            return
        self._closed = True
        await self.dispatcher.stop(grace=grace)
        async with self._links_lock:  # a change being applied finishes first
            await asyncio.gather(
                *(c.aclose() for c in self.connectors.values()), return_exceptions=True
            )
        await self.dispatcher.stop(grace=grace)
        await self.inbound.aclose()
        if self.webhooks is not None:
            with contextlib.suppress(Exception):
                await self.webhooks.aclose()
        for task in self._tasks:
            if not task.done():
                task.cancel()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        await self.services.aclose()
        if self._owns_store:
            await self.store.aclose()
