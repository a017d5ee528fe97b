"""The HubSpot fake in its own process, answering every request after a fixed latency.

``python -m bench.fakehub PORT LATENCY_MS`` serves the fake (no rate limits) on loopback, as a
HubSpot-compatible CRM on another host would answer: each request waits LATENCY_MS first. It adds
two benchmark routes (bearer token as the fake's): ``GET /__bench/logged?after=N`` answers the
calls engagements stored since the N-th, as ``[digits of the number in the title, epoch seconds
when stored]`` (it waits up to a second for one), and ``GET /__bench/requests`` counts the
requests by method and path shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import sys
import time
from collections import Counter
from typing import Any

import uvicorn
from starlette.requests import Request
from starlette.responses import JSONResponse

from callbridge.connectors.hubspot.fake import HubSpotState, build_app

TOKEN = "pat-na1-test"
_DIGITS = re.compile(r"\D")
_ID = re.compile(r"/\d+(?=/|$)")


class TimedState(HubSpotState):
    """The fake's state, noting when each calls engagement is stored and waking the waiters."""

    def __init__(self, latency: float) -> None:
        super().__init__(tokens={TOKEN}, latency=latency)
        self.logged: list[tuple[str, float]] = []
        self.changed = asyncio.Event()

    def _insert(self, object_type: str, properties: dict[str, Any]) -> dict[str, Any]:
        stored = super()._insert(object_type, properties)
        if object_type == "calls":
            title = str(properties.get("hs_call_title", ""))
            self.logged.append((_DIGITS.sub("", title), time.time()))
            self.changed.set()
        return stored


def app_for(state: TimedState) -> Any:
    """Return the fake's application with the benchmark routes added."""
    app = build_app(state)

    async def logged(request: Request) -> JSONResponse:
        after = int(request.query_params.get("after", "0"))
        if len(state.logged) <= after:
            state.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(state.changed.wait(), 1.0)
        return JSONResponse({"next": len(state.logged), "logged": state.logged[after:]})

    async def requests(_: Request) -> JSONResponse:
        shapes = Counter(
            f"{method} {_ID.sub('/{id}', path)}"
            for method, path in state.requests
            if not path.startswith("/__bench")
        )
        return JSONResponse(dict(shapes))

    app.add_route("/__bench/logged", logged, methods=["GET"])
    app.add_route("/__bench/requests", requests, methods=["GET"])
    return app


def main(port: int, latency_ms: float) -> None:
    """Serve the fake on 127.0.0.1:PORT until interrupted."""
    state = TimedState(latency_ms / 1000)
    uvicorn.run(app_for(state), host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]))
