"""The few error kinds of Callbridge, raised at the edges and handled in one place.

The tree::

    CallbridgeError
    ├── InputError                 bad input from a caller; answered 4xx, never 5xx
    │   ├── SignatureError         webhook signature missing, wrong or outside tolerance (401)
    │   └── PayloadError           webhook body is not valid JSON or misses / mistypes a field (422)
    └── ConnectorError             a CRM call failed; raised only in connectors/, with ``from err``
        ├── AuthFailed             credentials refused: pause the integration, tell the admin
        ├── RateLimited            the CRM asked us to slow down: reschedule after ``retry_after``
        │   └── CrmUnreachable     the integration's circuit breaker is open: wait for its probe
        ├── Transient              timeouts, 5xx, connection errors: retry with backoff and jitter
        └── Permanent              the request can never succeed as sent: dead letter, replayable
"""

from __future__ import annotations


class CallbridgeError(Exception):
    """Base of every error Callbridge raises on purpose."""


class InputError(CallbridgeError):
    """Bad input from a caller, answered with a 4xx status."""


class SignatureError(InputError):
    """A webhook's signature is missing, wrong, or its timestamp is outside tolerance."""


class PayloadError(InputError):
    """A webhook body is not valid JSON, or a field is missing or has the wrong type."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class ConnectorError(CallbridgeError):
    """A CRM operation failed; the subclass says what to do about it."""


class AuthFailed(ConnectorError):
    """The CRM refused the credentials; the integration must be paused until re-authorised."""


class RateLimited(ConnectorError):
    """The CRM asked us to slow down; retry no earlier than ``retry_after`` seconds from now."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CrmUnreachable(RateLimited):
    """The integration's CRM keeps failing (its circuit breaker is open): wait for the probe."""


class Transient(ConnectorError):
    """A failure that may pass by itself (timeout, 5xx, connection reset): retry with backoff."""


class Permanent(ConnectorError):
    """A request that can never succeed as sent: dead letter it, visible and replayable."""
