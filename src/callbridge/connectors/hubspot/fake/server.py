"""Serve the HubSpot fake: in a thread (:class:`FakeHubSpot`) or alone (:func:`serve`)."""

from __future__ import annotations

import asyncio
import threading
import time

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from callbridge.connectors.hubspot.fake.gate import Gate
from callbridge.connectors.hubspot.fake.routes import routes
from callbridge.connectors.hubspot.fake.state import HubSpotState
from callbridge.loopback import LOOPBACK, free_port


def build_app(state: HubSpotState) -> Starlette:
    """Return the fake's ASGI application over ``state``."""
    gate = Gate(state)

    async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if state.latency > 0:
            await asyncio.sleep(state.latency)
        refused = gate.check(request)
        response: Response = refused or await call_next(request)
        gate.headers(response, request.url.path)
        return response

    app = Starlette(
        routes=[Route(path, fn, methods=m) for path, fn, m in routes(state)],
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)],
    )
    return app


class FakeHubSpot:
    """Run the fake on loopback in a background thread; ``with FakeHubSpot() as fake: fake.url``."""

    def __init__(self, state: HubSpotState | None = None, port: int | None = None) -> None:
        self.state = state or HubSpotState()
        self.port = port or free_port()
        config = uvicorn.Config(
            build_app(self.state), host=LOOPBACK, port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL to configure as the connector's ``base_url``."""
        return f"http://{LOOPBACK}:{self.port}"

    def __enter__(self) -> FakeHubSpot:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the HubSpot fake did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve(host: str = LOOPBACK, port: int = 8111, token: str = "pat-na1-test") -> None:
    """Serve the fake in the foreground until interrupted (``callbridge fake-crm hubspot``)."""
    state = HubSpotState(tokens={token})
    print(f"fake HubSpot on http://{host}:{port} — bearer token {token}", flush=True)
    uvicorn.run(build_app(state), host=host, port=port, log_level="warning")
