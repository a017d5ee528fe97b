"""Refuse API request bodies over the size limit with 413, before any route parses them."""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from callbridge.refusal_codes import refusal
from callbridge.web.refusals import coded

#: The webhook route streams its body against the same limit itself, answering 413 there.
EXEMPT_PREFIX = "/webhooks/"


class BodyLimit:
    """ASGI middleware: buffer a request body up to ``limit`` bytes, answer 413 beyond it.

    API bodies are small JSON documents, so holding one in memory is cheap; a declared
    ``Content-Length`` over the limit is refused without reading anything.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        """Wrap ``app``."""
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on with its buffered body, or answer 413."""
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIX):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.limit:
            await self._refuse(send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            size += len(message.get("body", b""))
            if size > self.limit:
                await self._refuse(send)
                return
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        await self.app(scope, _replay(messages, receive), send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(coded(refusal("request_too_large", limit=self.limit)))
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body.encode()})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """Return a receive callable giving the buffered messages, then the real channel."""
    pending = list(messages)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
