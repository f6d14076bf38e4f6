from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"


def require_peer(available: bool, what: str) -> None:
    """Skip when an independent peer is not installed here; fail under CI, where it must be."""
    if available:
        return
    message = f"{what} is not installed (scripts/install-peers installs it)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)
