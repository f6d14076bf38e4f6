from __future__ import annotations

import asyncio
import gc

import pytest

from marconi.transport.loop import GC_THRESHOLDS, install_uvloop, tune_gc, uvloop_available


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


def test_tune_gc_freezes_what_exists_and_raises_the_young_threshold() -> None:
    thresholds = gc.get_threshold()
    try:
        tune_gc()
        assert gc.get_threshold() == GC_THRESHOLDS
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
