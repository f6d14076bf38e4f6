"""Routing: which connectors may carry a message, in the order to try them.

Every route whose match fields all fit the message contributes its connectors, routes in
configured order, so a message that matches a specific route and the catch-all fails over from
the one to the other. Pure: no I/O, no clock.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import phonenumbers

from marconi.config import RouteConfig

__all__ = ["Router", "region_of"]


@functools.lru_cache(maxsize=16384)
def region_of(number: str) -> str | None:
    """The ISO 3166 region of an E.164 number, or None when it has none (or is no number)."""
    if not number.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    region = phonenumbers.region_code_for_number(parsed)
    return None if region in (None, "ZZ", "001") else region


@dataclass(frozen=True, slots=True)
class _Rule:
    connectors: tuple[str, ...]
    prefixes: tuple[str, ...]
    countries: frozenset[str]
    senders: frozenset[str]
    min_priority: int

    def matches(self, to_addr: str, from_addr: str, priority: int) -> bool:
        if priority < self.min_priority:
            return False
        if self.prefixes and not to_addr.startswith(self.prefixes):
            return False
        if self.senders and from_addr not in self.senders:
            return False
        return not self.countries or region_of(to_addr) in self.countries


class Router:
    """Ordered routes to the ordered connector list of a message (see the module docstring)."""

    def __init__(self, routes: Sequence[RouteConfig]) -> None:
        self._rules = tuple(
            _Rule(
                connectors=r.connectors,
                prefixes=r.prefixes,
                countries=frozenset(c.upper() for c in r.countries),
                senders=frozenset(r.senders),
                min_priority=r.min_priority,
            )
            for r in routes
        )
        # Most traffic hits the same few (route set) answers: remember them per key.
        self._cache: dict[tuple[str, str, int], tuple[str, ...]] = {}
        # The priority levels that change an answer: the key keeps only which of them it reaches.
        self._levels = sorted({r.min_priority for r in self._rules if r.min_priority})
        # The cache key keeps as much of the destination as any rule looks at.
        self._key_length: int | None = (
            None
            if any(r.countries for r in self._rules)
            else max((len(p) for r in self._rules for p in r.prefixes), default=0)
        )

    def candidates(self, to_addr: str, from_addr: str, priority: int = 0) -> tuple[str, ...]:
        """Connector names to try, first choice first; empty when no route matches."""
        level = sum(1 for floor in self._levels if priority >= floor)
        key = (
            to_addr if self._key_length is None else to_addr[: self._key_length],
            from_addr,
            level,
        )
        found = self._cache.get(key)
        if found is not None:
            return found
        seen: dict[str, None] = {}
        for rule in self._rules:
            if rule.matches(to_addr, from_addr, priority):
                for name in rule.connectors:
                    seen.setdefault(name, None)
        result = tuple(seen)
        if len(self._cache) > 65536:
            self._cache.clear()
        self._cache[key] = result
        return result
