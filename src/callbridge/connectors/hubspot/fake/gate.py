"""The HubSpot fake's front door: HubSpot's error bodies, bearer auth and the 10 s rate limit."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

if TYPE_CHECKING:
    from callbridge.connectors.hubspot.fake.state import HubSpotState


def error(status: int, message: str, category: str, **extra: Any) -> JSONResponse:
    """Return HubSpot's error body."""
    body: dict[str, Any] = {"status": "error", "message": message, "category": category}
    body["correlationId"] = str(uuid.uuid4())
    return JSONResponse(body | extra, status_code=status)


def property_error(names: list[str]) -> JSONResponse:
    """Return the 400 PROPERTY_DOESNT_EXIST body for unknown property names."""
    items = [
        f'{{"isValid":false,"message":"Property \\"{n}\\" does not exist",'
        f'"error":"PROPERTY_DOESNT_EXIST","name":"{n}"}}'
        for n in names
    ]
    errors = [
        {"message": f'Property "{n}" does not exist', "code": "PROPERTY_DOESNT_EXIST",
         "context": {"propertyName": [n]}}
        for n in names
    ]  # fmt: skip
    message = f"Property values were not valid: [{','.join(items)}]"
    return error(400, message, "VALIDATION_ERROR", errors=errors)


NOT_FOUND = ("resource not found", "OBJECT_NOT_FOUND")
_AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)


class Gate:
    """Authenticate and rate limit every request before its route runs."""

    def __init__(self, state: HubSpotState) -> None:
        self.state = state

    def check(self, request: Request) -> JSONResponse | None:
        """Return the error answer for this request, or None to let it through."""
        state = self.state
        state.requests.append((request.method, request.url.path))
        auth = request.headers.get("authorization", "")
        if request.url.path != "/oauth/v1/token" and auth.removeprefix("Bearer ") not in (
            state.tokens
        ):
            return error(401, _AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        if state.forced:
            status, policy = state.forced.popleft()
            return self._limited(policy) if status == 429 else error(status, "fault", "ERROR")
        if request.url.path.endswith("/search") and self._too_many_searches():
            return self._limited("SECONDLY")
        if state.budget_per_10s is None:
            return None
        clock = time.monotonic()
        while state.hits and state.hits[0] <= clock - 10:
            state.hits.popleft()
        if len(state.hits) >= state.budget_per_10s:
            return self._limited("TEN_SECONDLY_ROLLING", state.hits[0] + 10 - clock)
        state.hits.append(clock)
        return None

    def _too_many_searches(self) -> bool:
        """Tell whether a search now would be past the limit in the rolling second ending now."""
        limit, clock = self.state.searches_per_second, time.monotonic()
        if limit is None:
            return False
        recent = [t for t in self.state.searched_at[-limit:] if t > clock - 1.0]
        if len(recent) >= limit:
            return True
        self.state.searched_at.append(clock)
        return False

    def _limited(self, policy: str, wait: float = 1.0) -> JSONResponse:
        self.state.rejected_429 += 1
        self.state.rejected_by[policy] = self.state.rejected_by.get(policy, 0) + 1
        response = error(
            429,
            f"You have reached your {policy.lower()} limit.",
            "RATE_LIMITS",
            errorType="RATE_LIMIT",
            policyName=policy,
        )
        if policy == "TEN_SECONDLY_ROLLING":
            response.headers["Retry-After"] = str(max(1, round(wait)))
        return response

    def headers(self, response: Response, path: str) -> None:
        """Add the rate limit headers HubSpot sends on every response but search ones."""
        if self.state.budget_per_10s is None or path.endswith("/search"):
            return
        remaining = self.state.budget_per_10s - len(self.state.hits)
        response.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] = "10000"
        response.headers["X-HubSpot-RateLimit-Max"] = str(self.state.budget_per_10s)
        response.headers["X-HubSpot-RateLimit-Remaining"] = str(max(0, remaining))
