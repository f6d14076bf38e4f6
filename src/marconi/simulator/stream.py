"""A stream wrapper that lets the simulator misbehave below the SMPP layer.

The SMPP session answers enquire_link and unbind by itself, as the protocol demands; a black hole
must not. So each accepted connection is wrapped in a :class:`FaultStream` that can swallow every
outgoing byte (``silent``), every response from now on (:meth:`mute_responses`), or the one
response to a given request (:meth:`suppress`), and can cut the TCP connection (``abort``). With no
fault on, a write costs one attribute test more.
"""

from __future__ import annotations

import struct
from typing import Final

from marconi.transport.stream import AsyncStream

__all__ = ["FaultStream"]

_HEADER: Final = struct.Struct(">IIII")
_RESPONSE_BIT: Final = 0x80000000


class FaultStream:
    """An :class:`~marconi.transport.stream.AsyncStream` over another one, with faults."""

    __slots__ = ("_filtering", "_inner", "_muted", "_silent", "_suppressed")

    def __init__(self, inner: AsyncStream) -> None:
        self._inner = inner
        self._silent = False
        self._muted = False
        self._suppressed: set[int] = set()
        self._filtering = False

    @property
    def silent(self) -> bool:
        return self._silent

    @silent.setter
    def silent(self, value: bool) -> None:
        self._silent = value
        self._filtering = value or self._muted or bool(self._suppressed)

    def mute_responses(self) -> None:
        """Swallow every response (and generic_nack) from now on; requests still go out."""
        self._muted = True
        self._filtering = True

    def suppress(self, sequence_number: int) -> None:
        """Swallow the response (or generic_nack) with ``sequence_number``, once."""
        self._suppressed.add(sequence_number)
        self._filtering = True

    async def read(self) -> bytes:
        return await self._inner.read()

    def write(self, data: bytes) -> None:
        if self._filtering:
            if self._silent:
                return
            data = self._drop_suppressed(data)
            if not data:
                return
        self._inner.write(data)

    def _drop_suppressed(self, data: bytes) -> bytes:
        # Writes carry whole PDUs, so the frames can be walked by their command_length.
        suppressed = self._suppressed
        muted = self._muted
        kept: list[bytes] = []
        pos = 0
        end = len(data)
        while pos + 16 <= end:
            length, command_id, _, seq = _HEADER.unpack_from(data, pos)
            if length < 16:
                break
            if command_id & _RESPONSE_BIT and (muted or seq in suppressed):
                suppressed.discard(seq)
            else:
                kept.append(data[pos : pos + length])
            pos += length
        if pos < end:
            kept.append(data[pos:])
        self._filtering = self._silent or muted or bool(suppressed)
        return b"".join(kept)

    async def drain(self) -> None:
        await self._inner.drain()

    def flush(self) -> None:
        self._inner.flush()

    def close(self) -> None:
        self._inner.close()

    def abort(self) -> None:
        self._inner.abort()

    async def aclose(self) -> None:
        await self._inner.aclose()

    @property
    def closed(self) -> bool:
        return self._inner.closed

    def get_extra_info(self, name: str, default: object = None) -> object:
        return self._inner.get_extra_info(name, default)
