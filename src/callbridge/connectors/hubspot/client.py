"""HubSpot over HTTP: bearer auth (private app or OAuth), the shared budget, errors at the edge."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from callbridge.connectors.egress import quote
from callbridge.connectors.hubspot import pressure
from callbridge.connectors.hubspot.config import HubSpotConfig, HubSpotCredentials
from callbridge.connectors.hubspot.limits import Demand, RateBucket
from callbridge.errors import (
    AuthFailed,
    ConnectorError,
    DailyLimitReached,
    Permanent,
    RateLimited,
    Transient,
)
from callbridge.queue.slots import parked

# Refresh an OAuth access token this long before HubSpot says it expires: HubSpot documents that
# a 401 is not a reliable sign of expiry, so we must not wait for one.
REFRESH_MARGIN = timedelta(minutes=5)
# Access tokens obtained by refreshing, per integration and refresh token, for this process.
_TOKENS: dict[str, tuple[str, datetime]] = {}


class HubSpotRejected(Permanent):
    """A 4xx HubSpot will refuse again: its message, category and error codes are kept."""

    def __init__(self, status: int, message: str, body: dict[str, Any]) -> None:
        category = quote(str(body.get("category") or ""), 60)
        shown = f"HubSpot answered {status}: {message}"
        super().__init__(f"{shown} ({category})" if category else shown)
        self.status = status
        self.message = message
        self.category = str(body.get("category", ""))
        self.codes = {str(e.get("code")) for e in body.get("errors") or [] if isinstance(e, dict)}
        self.names = [
            str(name)
            for item in body.get("errors") or []
            if isinstance(item, dict)
            for name in (item.get("context") or {}).get("propertyName", [])
        ]


class HubSpotClient:
    """Send requests to HubSpot for one integration; every error leaves as a connector error."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        config: HubSpotConfig,
        credentials: HubSpotCredentials,
        bucket: RateBucket,
        clock: Callable[[], datetime],
        integration_id: str,
    ) -> None:
        self.http = http
        self.config = config
        self.credentials = credentials
        self.bucket = bucket
        self.clock = clock
        self.integration_id = integration_id
        self.sent = 0  # requests sent by this client, for benchmarks
        self.prepaid = 0  # general tokens reserved up front for the rest of this sync
        self.taken = 0  # general tokens taken by this client (one sync): a retry takes them again

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        search: bool = False,
        paid: bool = False,
    ) -> dict[str, Any]:
        """Send one request within the budget (``paid``: reserved before) and return its body."""
        if not paid and not search and self.prepaid > 0:
            self.prepaid -= 1
        elif not paid:
            await self.reserve(1, searches=1 if search else 0)
        headers = {"Authorization": f"Bearer {await self.access_token()}"}
        self.sent += 1
        try:
            async with parked():  # the round trip costs no CPU: another job may use the slot
                response = await self.http.request(
                    method,
                    _url(self.config.base_url, path),
                    json=json,
                    params=params,
                    headers=headers,
                )
            response.raise_for_status()
        except httpx.HTTPStatusError as err:
            raise self.translate(err.response) from err
        except httpx.TimeoutException as err:
            raise Transient(f"HubSpot did not answer {method} {path} in time") from err
        except httpx.HTTPError as err:
            raise Transient(f"HubSpot unreachable ({type(err).__name__}: {err})") from err
        return dict(response.json()) if response.content else {}

    @property
    def roomy(self) -> bool:
        """Tell whether the budget was at most half used after this sync's last take."""
        return self.bucket.roomy

    async def prepay(self, searches: int, later: int) -> None:
        """Reserve a sync's first searches and its next ``later`` requests in one take.

        A sync refused half-way by an empty bucket would repeat its first requests when retried;
        taking the sync's next requests with its searches makes it either start with enough or
        not start.
        """
        await self.reserve(searches + later, searches=searches)
        self.prepaid += later

    async def ensure_prepaid(self, requests: int) -> None:
        """Make sure the next ``requests`` requests are paid for, taking what is missing at once."""
        if requests > self.prepaid:
            await self.reserve(requests - self.prepaid)
            self.prepaid = requests

    async def refund(self, requests: int) -> None:
        """Give back tokens reserved for requests this sync turned out not to need."""
        requests = min(requests, self.prepaid)
        if requests > 0:
            self.prepaid -= requests
            await self.bucket.give_back(self._general(requests))

    async def refund_search(self) -> None:
        """Give back a search reserved with the lookup that turned out not to be needed."""
        self.taken -= 1
        budget = self.config.searches_per_second
        await self.bucket.give_back(self._general(1), Demand("search", budget, 1.0, 1))

    async def reserve(self, requests: int, *, searches: int = 0) -> None:
        """Take the tokens of several requests at once, so none is spent on a half-done step."""
        demands = [self._general(requests, need=self.taken + requests)]
        if searches:
            budget = self.config.searches_per_second
            demands.append(Demand("search", budget, 1.0, searches))
        try:
            await self.bucket.take(*demands)
        except RateLimited:
            pressure.press(self.integration_id)
            raise
        pressure.note(self.integration_id, self.bucket.roomy)
        self.taken += requests

    def _general(self, requests: int, need: int = 0) -> Demand:
        return Demand("general", self.config.requests_per_10s, 10.0, requests, need=need)

    def translate(self, response: httpx.Response) -> ConnectorError:
        """Turn an error answer into the connector error kind that says what to do."""
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        # Quoted short: whoever answered (base_url is an admin's choice) must not be read back.
        message = quote(str(body.get("message") or response.reason_phrase))
        if status in (401, 403):
            return AuthFailed(f"HubSpot refused the credentials ({status}): {message}")
        if status == 429:
            return self._limited(response, body)
        if status == 423:  # HubSpot asks for "a delay of at least 2 seconds"
            return RateLimited(f"HubSpot record locked: {message}", 2.0)
        if status >= 500:
            return Transient(f"HubSpot server error {status}: {message}")
        return HubSpotRejected(status, message, body)

    def _limited(self, response: httpx.Response, body: dict[str, Any]) -> RateLimited:
        policy = str(body.get("policyName", ""))
        if policy == "DAILY":
            zone = ZoneInfo(self.config.account_timezone)
            now = self.clock().astimezone(zone)
            reset = (now + timedelta(days=1)).replace(hour=0, minute=0, second=5, microsecond=0)
            return DailyLimitReached(
                "HubSpot's daily API limit for this account is used up; syncing resumes after "
                f"it resets at {reset.isoformat()}. Admin: reduce other apps' API use or raise "
                "the account's limit.",
                (reset - now).total_seconds(),
            )
        try:
            wait = float(response.headers.get("Retry-After", ""))
        except ValueError:
            wait = 1.0 if policy == "SECONDLY" else 2.0
        return RateLimited(f"HubSpot rate limit {policy or 'unknown'} reached", wait)

    async def access_token(self) -> str:
        """Return a valid bearer token, refreshing an OAuth token shortly before it expires."""
        creds = self.credentials
        if not creds.access_token.get_secret_value() and creds.refresh_token is None:
            raise AuthFailed(
                "no HubSpot token: enter the integration's credentials", code="no_credentials"
            )
        if creds.refresh_token is None:
            return creds.access_token.get_secret_value()
        secret = creds.refresh_token.get_secret_value()
        key = f"{self.integration_id}:{hashlib.sha256(secret.encode()).hexdigest()}"
        token, expires = _TOKENS.get(
            key, (creds.access_token.get_secret_value(), creds.expires_at or self.clock())
        )
        if expires - self.clock() > REFRESH_MARGIN:
            return token
        token, expires = await self._refresh(secret)
        _TOKENS[key] = (token, expires)
        return token

    async def _refresh(self, refresh_token: str) -> tuple[str, datetime]:
        creds = self.credentials
        form = {
            "grant_type": "refresh_token",
            "client_id": creds.client_id or "",
            "client_secret": creds.client_secret.get_secret_value() if creds.client_secret else "",
            "refresh_token": refresh_token,
        }
        try:
            response = await self.http.post(self.config.base_url + "/oauth/v1/token", data=form)
        except httpx.HTTPError as err:
            raise Transient(f"HubSpot token refresh failed ({type(err).__name__})") from err
        if response.status_code >= 500:
            raise Transient(f"HubSpot token refresh failed with {response.status_code}")
        if response.status_code != 200:
            raise AuthFailed(
                f"HubSpot refused to refresh the OAuth token ({response.status_code}): "
                + _summary(response),
                code="token_refresh_refused",
            )
        body = response.json()
        return str(body["access_token"]), self.clock() + timedelta(seconds=body["expires_in"])


def _summary(response: httpx.Response) -> str:
    """Return an OAuth error's code and message, short; never the rest of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return response.reason_phrase
    code = quote(str(body.get("status") or body.get("error") or "error"), 60)
    return f"{code}: {quote(str(body.get('message') or body.get('error_description') or ''))}"


@functools.lru_cache(maxsize=1024)
def _url(base_url: str, path: str) -> httpx.URL:
    """Return ``base_url + path`` parsed once: httpx parses a string URL on every request."""
    return httpx.URL(base_url + path)
