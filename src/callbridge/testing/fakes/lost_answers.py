"""An httpx transport that lets chosen requests reach a real server, then loses their answers.

What a timeout after the commit looks like to a connector: the server did the work, the client
saw ``httpx.ReadTimeout``. Give it to a connector as its HTTP client's transport::

    transport = LosingTransport()
    http = httpx.AsyncClient(transport=transport)
    transport.lose("POST", "/api/interactions/")  # the next such request is stored, then lost
"""

from __future__ import annotations

import httpx


class LosingTransport(httpx.AsyncBaseTransport):
    """Send every request for real; for the chosen ones, drop the answer and time out."""

    def __init__(self, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.inner = inner or httpx.AsyncHTTPTransport()
        self.pending: list[tuple[str, str]] = []
        self.lost = 0

    def lose(self, method: str, path: str, times: int = 1) -> None:
        """Lose the answers of the next ``times`` requests with this method and path."""
        self.pending += [(method.upper(), path)] * times

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request; lose its answer if it was chosen."""
        response = await self.inner.handle_async_request(request)
        chosen = (request.method, request.url.path)
        if chosen not in self.pending:
            return response
        self.pending.remove(chosen)
        await response.aread()  # the server finished: whatever it did is done
        await response.aclose()
        self.lost += 1
        raise httpx.ReadTimeout("the answer was lost after the server handled it", request=request)

    async def aclose(self) -> None:
        """Close the real transport."""
        await self.inner.aclose()
