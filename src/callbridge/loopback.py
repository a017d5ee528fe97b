"""The loopback interface that test servers, fakes and benchmarks listen on.

A room of its own, importing nothing of Callbridge, so that the HubSpot fake (which may not import
``callbridge.testing``), ``callbridge.testing.servers`` and ``bench/`` share one ``free_port``.
"""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """Return a loopback port nobody listens on."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])
