from __future__ import annotations

import asyncio

import pytest

from marconi.transport.loop import install_uvloop, uvloop_available


def test_install_uvloop_sets_the_policy_when_available() -> None:
    previous = asyncio.get_event_loop_policy()
    try:
        installed = install_uvloop()
        assert installed == uvloop_available()
        if not installed:
            pytest.skip("uvloop is not installed")
        loop = asyncio.new_event_loop()
        try:
            assert type(loop).__module__.startswith("uvloop")
        finally:
            loop.close()
    finally:
        asyncio.set_event_loop_policy(previous)
