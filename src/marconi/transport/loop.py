"""Event loop choice: uvloop when it is installed (the ``fast`` extra), asyncio's otherwise."""

from __future__ import annotations

import asyncio
import importlib
import logging

__all__ = ["install_uvloop", "uvloop_available"]

log = logging.getLogger(__name__)


def uvloop_available() -> bool:
    try:
        importlib.import_module("uvloop")
    except ImportError:
        return False
    return True


def install_uvloop() -> bool:
    """Make uvloop the event loop policy for loops created from now on; False if not installed.

    Call it before ``asyncio.run``. SMPP throughput is roughly a third higher on uvloop.
    """
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        log.debug("uvloop is not installed; using the asyncio event loop")
        return False
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    return True
