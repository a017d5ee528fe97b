"""BottleCRM's REST API over an injected httpx client, its errors translated at the edge."""

from __future__ import annotations

from typing import Any

import httpx

from callbridge.connectors.egress import quote
from callbridge.errors import AuthFailed, Permanent, RateLimited, Transient
from callbridge.queue.slots import parked

# BottleCRM answers a missing or unknown token with 403 and this text, not with 401.
NO_ORG_CONTEXT = "Organization context is required"
DEFAULT_RETRY_AFTER = 60.0
PAGE = 200


class BottleCrmNotFound(Permanent):
    """BottleCRM answered 404: the record is not there, or not visible to the token."""


class BottleCrmClient:
    """The BottleCRM endpoints Callbridge uses; every failure is a Callbridge error kind."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, token: str | None) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._token = token
        self.requests = 0

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """Send one request and return its JSON body (None when empty)."""
        if not self._token:
            raise AuthFailed(
                "no BottleCRM token is configured for this integration", code="no_credentials"
            )
        self.requests += 1
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        try:
            async with parked():  # the round trip costs no CPU: another job may use the slot
                response = await self._http.request(
                    method, self._base_url + path, json=json, params=params, headers=headers
                )
        except httpx.TimeoutException as err:
            raise Transient(f"BottleCRM {method} {path} timed out") from err
        except httpx.TransportError as err:
            raise Transient(f"BottleCRM {method} {path} failed: {err!r}") from err
        raise_for_status(response, f"{method} {path}")
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as err:
            raise Transient(f"BottleCRM {method} {path} answered non-JSON") from err

    async def duplicates(self, module: str, phone: str) -> list[dict[str, Any]]:
        """Return the ``contacts`` or ``leads`` whose phone matches, whatever its format."""
        body = await self.call("POST", f"/api/{module}/duplicates/", json={"phone": phone})
        return list(body["duplicates"])

    async def create(self, module: str, values: dict[str, Any]) -> str | None:
        """Create a contact, lead, opportunity or task; return its id (tasks have none)."""
        body = await self.call("POST", f"/api/{module}/", json=values)
        found = body.get("id") if isinstance(body, dict) else None
        return str(found) if found else None

    async def detail(self, module: str, record_id: str) -> dict[str, Any]:
        """Return the detail envelope of one record (``contact_obj``, ``comments``, …)."""
        body: dict[str, Any] = await self.call("GET", f"/api/{module}/{record_id}/")
        return body

    async def comment(self, module: str, record_id: str, text: str) -> list[dict[str, Any]]:
        """Add a comment on a record; return the record's comments, newest first."""
        body = await self.call("POST", f"/api/{module}/{record_id}/", json={"comment": text})
        return list(body.get("comments") or [])

    async def patch(self, module: str, record_id: str, values: dict[str, Any]) -> Any:
        """Change some fields of one record."""
        return await self.call("PATCH", f"/api/{module}/{record_id}/", json=values)

    async def interactions(self, home: str, record_id: str) -> list[dict[str, Any]]:
        """Return every interaction on one record, newest first (all pages)."""
        found: list[dict[str, Any]] = []
        while True:
            params = {home: record_id, "limit": PAGE, "offset": len(found)}
            body = await self.call("GET", "/api/interactions/", params=params)
            page = list(body["interactions"])
            found += page
            if not page or len(found) >= int(body["count"]):
                return found

    async def log_interaction(self, values: dict[str, Any]) -> dict[str, Any]:
        """Create an interaction and return it."""
        body: dict[str, Any] = await self.call("POST", "/api/interactions/", json=values)
        return body

    async def listing(self, module: str, key: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Return the ``key`` list of a filtered list endpoint (first page only)."""
        body = await self.call("GET", f"/api/{module}/", params=params)
        return list(body.get(key) or [])

    async def pipelines(self) -> list[dict[str, Any]]:
        """Return the deal pipelines with their stages."""
        body = await self.call("GET", "/api/opportunities/pipelines/")
        return list(body["pipelines"])

    async def users(self) -> list[dict[str, Any]]:
        """Return the org's active profiles."""
        body = await self.call("GET", "/api/users/")
        return list(body["active_users"]["active_users"])


def raise_for_status(response: httpx.Response, what: str) -> None:
    """Translate a non-2xx answer into AuthFailed, RateLimited, Transient or Permanent."""
    status = response.status_code
    if status < 400:
        return
    detail = describe(response)
    message = f"BottleCRM {what} answered {status}: {detail}"
    if status == 401 or (status == 403 and NO_ORG_CONTEXT in detail):
        raise AuthFailed(f"BottleCRM refused the token ({detail})")
    if status == 429:
        raise RateLimited(message, retry_after(response))
    if status >= 500:
        raise Transient(message)
    if status == 404:
        raise BottleCrmNotFound(message)
    raise Permanent(message)


def retry_after(response: httpx.Response) -> float:
    """Return the seconds to wait that ``Retry-After`` gives (a minute when absent)."""
    try:
        return max(0.0, float(response.headers["retry-after"]))
    except (KeyError, ValueError):
        return DEFAULT_RETRY_AFTER


def describe(response: httpx.Response) -> str:
    """Return the error of a BottleCRM answer as one short line, with its field errors.

    Only BottleCRM's JSON error fields are quoted, and briefly: ``base_url`` is an admin's
    choice, and whatever answered must not be read back through the message.
    """
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    if not isinstance(body, dict):
        return response.reason_phrase
    errors = body.get("errors", body.get("detail", body))
    if isinstance(errors, dict):
        return quote("; ".join(f"{field}: {_text(problem)}" for field, problem in errors.items()))
    return quote(_text(errors))


def _text(problem: Any) -> str:
    if isinstance(problem, list):
        return " ".join(_text(item) for item in problem)
    return str(problem)
