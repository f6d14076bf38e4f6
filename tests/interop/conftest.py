from __future__ import annotations

import pytest

from tests.conftest import require_peer
from tests.interop import peers


@pytest.fixture
def node_smpp() -> None:
    """node-smpp and node are installed (scripts/install-peers)."""
    require_peer(peers.node_smpp_available(), "node-smpp (npm `smpp` under tests/interop/node)")


@pytest.fixture
def kannel_peer() -> None:
    """Kannel's bearerbox and smsbox are installed (scripts/install-peers)."""
    require_peer(peers.kannel_available(), "Kannel (Debian package `kannel`)")


@pytest.fixture
def shared_sink() -> None:
    """The shared independent sink SMSC is present (it is a workspace tool, not a peer)."""
    if not peers.sink_smsc_available():
        pytest.skip(f"sink_smsc.py not found under {peers.SHARED_TOOLS}")
