"""Connectors and routes managed at run time, beside those of the config file.

The config file's connectors and routes stay as they are; what is put here is stored (the
``connectors`` and ``routes`` tables) and applied by the running service through a
:class:`LinkControl`. A stored connector replaces a file connector of the same name (``enabled =
false`` switches it off); stored routes are tried before the file's. Every change is validated
exactly as the config file is (:func:`marconi.config.connector_from_mapping`,
:func:`marconi.config.route_from_mapping`), and refused when it would leave a route naming a
connector that does not exist.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal, Protocol

from marconi.config import (
    ConnectorConfig,
    RouteConfig,
    SmppConnectorConfig,
    connector_from_mapping,
    route_from_mapping,
)
from marconi.errors import ConfigError, Conflict, NotFound, ValidationError
from marconi.services.clock import Clock, utc_now
from marconi.store.model import JsonValue, StoredConnector
from marconi.store.protocols import ConnectorRepository

__all__ = [
    "ConnectorService",
    "ConnectorView",
    "LinkControl",
    "LinkState",
    "config_settings",
    "route_settings",
]

NAME_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
MAX_ROUTES: Final = 1000
# Fields the API shows of a connector and ignores when they come back in a PUT.
READ_ONLY: Final = frozenset(
    {"source", "up", "last_error", "password_set", "created_at", "updated_at"}
)


@dataclass(frozen=True, slots=True)
class LinkState:
    up: bool
    last_error: str | None


class LinkControl(Protocol):
    """The running service's side: apply what is stored, and tell how each link is."""

    async def apply_links(self) -> None: ...

    def link_state(self, name: str) -> LinkState | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectorView:
    config: ConnectorConfig
    source: Literal["config", "api"]
    enabled: bool
    state: LinkState | None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def kind(self) -> str:
        return "smpp" if isinstance(self.config, SmppConnectorConfig) else "simulator"


def _plain(value: object) -> JsonValue:
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    assert value is None or isinstance(value, str | int | float | bool)
    return value


def config_settings(config: ConnectorConfig) -> dict[str, JsonValue]:
    """A connector's settings as plain JSON values, without its name (what the store keeps)."""
    return {
        f.name: _plain(getattr(config, f.name))
        for f in dataclasses.fields(config)
        if f.name != "name"
    }


def route_settings(route: RouteConfig) -> dict[str, JsonValue]:
    """A route as plain JSON values, empty match fields left out."""
    data: dict[str, JsonValue] = {"connectors": list(route.connectors)}
    if route.name:
        data["name"] = route.name
    for key in ("prefixes", "countries", "senders"):
        values: tuple[str, ...] = getattr(route, key)
        if values:
            data[key] = list(values)
    if route.min_priority:
        data["min_priority"] = route.min_priority
    return data


_WHERE: Final = re.compile(r"(?:connector|routes\[\d+\])(?:\.(\w+))?")
_UNKNOWN: Final = re.compile(r"unknown key '([^']+)'")


def _invalid(exc: ConfigError) -> ValidationError:
    """The config parser's error as the API's: it starts with where ("connector.port must…")."""
    message = str(exc)
    unknown = _UNKNOWN.search(message)
    if unknown is not None:
        return ValidationError(message, code="unknown_field", field=unknown.group(1))
    where = _WHERE.match(message)
    field = None
    if where is not None:
        field = where.group(0).removeprefix("connector.") if where.group(1) else None
        if field is None and where.group(0).startswith("routes"):
            field = where.group(0)
    return ValidationError(message, code="invalid_connector_config", field=field)


class ConnectorService:
    """Read and change the connectors and routes (the admin's API; see the module docstring).

    ``file_connectors`` and ``file_routes`` are the config file's; ``control`` applies changes
    to the running service (None: they apply at the next start).
    """

    def __init__(
        self,
        *,
        repository: ConnectorRepository,
        file_connectors: Sequence[ConnectorConfig],
        file_routes: Sequence[RouteConfig],
        control: LinkControl | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self._repository = repository
        self._file = {c.name: c for c in file_connectors}
        self._file_routes = tuple(file_routes)
        self._control = control
        self._clock = clock
        self._lock = asyncio.Lock()  # one change at a time, each checked against the last

    # -- reading ---------------------------------------------------------------------------------

    async def list_connectors(self) -> list[ConnectorView]:
        stored = {s.name: s for s in await self._repository.list_connectors()}
        names = sorted(set(self._file) | set(stored))
        return [self._view(name, stored.get(name)) for name in names]

    async def get_connector(self, name: str) -> ConnectorView:
        try:
            stored: StoredConnector | None = await self._repository.get_connector(name)
        except NotFound:
            stored = None
        if stored is None and name not in self._file:
            raise NotFound(f"connector {name!r} not found")
        return self._view(name, stored)

    async def routes(self) -> tuple[list[RouteConfig], tuple[RouteConfig, ...]]:
        """The stored routes (tried first) and the config file's."""
        stored = [
            route_from_mapping(r, where=f"stored route {i}")
            for i, r in enumerate(await self._repository.list_routes())
        ]
        return stored, self._file_routes

    def _view(self, name: str, stored: StoredConnector | None) -> ConnectorView:
        state = None if self._control is None else self._control.link_state(name)
        if stored is None:
            return ConnectorView(
                config=self._file[name], source="config", enabled=True, state=state
            )
        return ConnectorView(
            config=connector_from_mapping(
                {**stored.settings, "name": stored.name, "type": stored.kind},
                where=f"connector {name}",
            ),
            source="api",
            enabled=stored.enabled,
            state=state if stored.enabled else None,
            created_at=stored.created_at,
            updated_at=stored.updated_at,
        )

    # -- changing --------------------------------------------------------------------------------

    async def put_connector(self, name: str, data: Mapping[str, object]) -> ConnectorView:
        """Create or replace the stored connector ``name`` from a TOML-like object.

        ``password`` left out keeps the stored (or file) connector's password, so what GET shows
        can be sent back changed. ``enabled = false`` keeps it stored but switched off."""
        _check_name(name)
        fields = {k: v for k, v in data.items() if k not in READ_ONLY}
        enabled = fields.pop("enabled", True)
        if not isinstance(enabled, bool):
            raise ValidationError(
                f"enabled must be true or false, got {enabled!r}",
                code="invalid_type",
                field="enabled",
            )
        given = fields.get("name", name)
        if given != name:
            raise ValidationError(
                f"name {given!r} differs from the connector in the path ({name!r})",
                code="invalid_value",
                field="name",
            )
        async with self._lock:
            if "password" not in fields:
                previous = await self._current(name)
                if previous is not None and previous.kind == fields.get("type"):
                    fields["password"] = previous.config.password
            try:
                config = connector_from_mapping({**fields, "name": name}, where="connector")
            except ConfigError as exc:
                raise _invalid(exc) from None
            kind = "smpp" if isinstance(config, SmppConnectorConfig) else "simulator"
            if not enabled:
                await self._check_routes(without={name})
            await self._repository.put_connector(
                name=name,
                kind=kind,
                settings=config_settings(config),
                enabled=enabled,
                now=self._clock(),
            )
            await self._apply()
        return await self.get_connector(name)

    async def delete_connector(self, name: str) -> None:
        """Remove a stored connector (a file connector of the same name comes back)."""
        async with self._lock:
            try:
                await self._repository.get_connector(name)
            except NotFound:
                if name in self._file:
                    raise Conflict(
                        f"connector {name!r} comes from the config file: edit the file, or "
                        "switch it off with PUT and enabled=false"
                    ) from None
                raise
            if name not in self._file:
                await self._check_routes(without={name})
            await self._repository.delete_connector(name)
            await self._apply()

    async def replace_routes(self, items: object) -> list[RouteConfig]:
        """Replace the stored routes with ``items``, in order (an empty list removes them)."""
        if not isinstance(items, list):
            raise ValidationError(
                "routes must be a list of route objects", code="invalid_type", field="routes"
            )
        if len(items) > MAX_ROUTES:
            raise ValidationError(
                f"at most {MAX_ROUTES} routes", code="invalid_value", field="routes"
            )
        routes: list[RouteConfig] = []
        for i, item in enumerate(items):
            try:
                routes.append(route_from_mapping(item, where=f"routes[{i}]"))
            except ConfigError as exc:
                raise _invalid(exc) from None
        async with self._lock:
            names = await self._names()
            for i, route in enumerate(routes):
                for connector in route.connectors:
                    if connector not in names:
                        raise ValidationError(
                            f"routes[{i}] names connector {connector!r}, which does not exist "
                            f"(connectors: {', '.join(sorted(names)) or 'none'})",
                            code="unknown_connector",
                            field=f"routes[{i}].connectors",
                        )
            await self._repository.replace_routes(
                [route_settings(r) for r in routes], now=self._clock()
            )
            await self._apply()
        return routes

    # -- helpers ---------------------------------------------------------------------------------

    async def _current(self, name: str) -> ConnectorView | None:
        try:
            return await self.get_connector(name)
        except NotFound:
            return None

    async def _names(self, *, without: frozenset[str] | set[str] = frozenset()) -> set[str]:
        """The connectors the service runs (file ones unless a stored one replaces them)."""
        names = set(self._file)
        for stored in await self._repository.list_connectors():
            if stored.enabled:
                names.add(stored.name)
            else:
                names.discard(stored.name)
        return names - set(without)

    async def _check_routes(self, *, without: set[str]) -> None:
        stored, file_routes = await self.routes()
        for where, routes in (("stored route", stored), ("config file route", file_routes)):
            for i, route in enumerate(routes):
                used = sorted(set(route.connectors) & without)
                if used:
                    raise Conflict(
                        f"{where} {i} sends to connector {used[0]!r}: change the routes first"
                    )

    async def _apply(self) -> None:
        if self._control is not None:
            await self._control.apply_links()


def _check_name(name: str) -> None:
    if NAME_PATTERN.fullmatch(name) is None:
        raise ValidationError(
            "a connector name is 1 to 64 letters, digits, '_', '.' or '-', starting with a "
            f"letter or digit; got {name!r}",
            code="invalid_value",
            field="name",
        )
