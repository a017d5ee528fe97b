"""The few error kinds of Callbridge, raised at the edges and handled in one place.

Every exception class in ``src/callbridge`` is drawn here: where it lives (``errors`` unless
named), who raises it, and what the user sees. Library and HTTP errors are caught only in
``connectors/`` and ``telephony/`` and re-raised as one of these kinds with ``raise … from err``.
This module imports nothing, so ``domain/`` and ``rules/`` may raise its kinds and stay pure.

The tree::

    CallbridgeError
    ├── InputError                 bad input from a caller; answered 4xx, never 5xx (api/app.py:
    │   │                          400 ``bad_request`` unless a subclass below says otherwise)
    │   ├── SignatureError         telephony/*.verify: signature missing, wrong or stale → 401
    │   ├── PayloadError           telephony/*.parse, telephony/limits: body not JSON, a field
    │   │                          missing, mistyped or over its limit → 422 naming the field
    │   ├── UnknownSource          ingest: the webhook URL names no source → 404
    │   ├── MatrixError            rules/matrix.parse_matrix: a matrix that cannot be used; the
    │   │                          matrix API answers 422, one entry per problem at its JSON
    │   │                          path, its ``type`` the problem's code (``matrix_not_bool``…)
    │   ├── ChoiceConflict         rules/agent_choice: two records of one type, or a record that
    │   │                          does not match the number; the dialer API answers 422 on
    │   │                          ``choices``
    │   └── NotFound               service/bootstrap: the operator named no company or key, or
    │                              several; the CLI prints the message and exits with status 1
    ├── ConnectorError             a CRM call failed; raised only in connectors/, with ``from err``;
    │   │                          the sync records it on the call and the queue decides
    │   ├── AuthFailed             credentials refused: pause the integration, tell the admin
    │   │                          (its ``code`` stored beside the reason for the screens)
    │   ├── RateLimited            the CRM asked us to slow down: reschedule after ``retry_after``
    │   │   ├── CrmUnreachable     the integration's circuit breaker is open: wait for its probe
    │   │   └── DailyLimitReached  connectors/hubspot/client.py: the account's daily API limit is
    │   │                          used up until it resets; the sync notes the time on the
    │   │                          integration for its health on the screens
    │   ├── Transient              timeouts, 5xx, connection errors: retry with backoff and jitter
    │   └── Permanent              the request can never succeed as sent: dead letter, replayable
    │       ├── EgressRefused      connectors/egress.py: a target the egress policy forbids
    │       │                      (SSRF guard); a dead letter, or 422 when credentials are tested
    │       ├── HubSpotRejected    connectors/hubspot/client.py: a 4xx HubSpot will refuse again,
    │       │                      its category and codes kept so creates can repair and retry
    │       └── BottleCrmNotFound  connectors/bottlecrm/client.py: BottleCRM answered 404; the
    │                              connector reads it as "no such record" (``get_record`` → None)
    ├── SyncTimedOut               sync/run.py: a run outlived its watchdog
    │                              (``sync_timeout_seconds``); the call's page says so and the
    │                              queue retries it with backoff, like a transient failure
    ├── SecretUnreadable           storage/source_cache: a source's secret was sealed with a key
    │                              CALLBRIDGE_SECRET_KEY lacks; its webhooks answer 503 (the
    │                              sender retries), logged once per source
    └── DemoError                  tools/demo: the server refused a request the demo
                                   needs; ``callbridge demo`` prints it and exits with status 1

Outside the tree, signals caught in the module that raises them or by one handler beside it,
each turned there into the answer the user sees:

- ``storage/units.py: _Busy(Exception)`` — private signal that SQLite's write lock is taken;
  caught in the same module, which waits and retries.
- ``testing/bottlecrm_server.py: BottleCrmUnavailable(RuntimeError)`` — the test harness cannot
  start a real BottleCRM; it fails the test run, never skips it.
- ``api/integration_lifecycle.py: SyncRunning(Exception)`` — a sync of the integration runs;
  the delete route (and the CLI) answer 409 saying to disable first and delete again.
- ``ui/session.py: SignInNeeded(Exception)`` — no valid admin session; the UI answers with its
  sign-in page.
- ``ui/session.py: CsrfRefused(Exception)`` — a form posted without its session's token; the UI
  answers 403 with a page saying to reload the form.
- ``ui/dialer.py: AgentSignInNeeded(Exception)`` — no valid agent session; the dialer answers with
  its sign-in page.
- ``ui/forms.py: Refused(Exception)`` — the API refused what a form asked; the page is shown again
  with the API's messages beside the fields.
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


class UnknownSource(InputError):
    """The webhook URL names no telephony source."""


class SecretUnreadable(CallbridgeError):
    """A source's secret cannot be decrypted with the configured keys: the server's fault."""

    def __init__(self, source_id: str) -> None:
        super().__init__(f"the secret of source {source_id} cannot be decrypted")
        self.source_id = source_id


class MatrixError(InputError):
    """A matrix that cannot be used: its first problem's JSON path and every (path, problem)."""

    def __init__(
        self, path: str, problem: str, problems: list[tuple[str, str]] | None = None
    ) -> None:
        self.problems = tuple(problems or [(path, problem)])
        more = len(self.problems) - 1
        super().__init__(f"{path}: {problem}" + (f" (and {more} more problems)" if more else ""))
        self.path = path
        self.problem = problem


class ChoiceConflict(InputError):
    """A choice that cannot be honoured; ``field`` names the offending part of the request.

    ``problem`` is the whole message, the field named first (``choices[1]: …``).
    """

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(problem)
        self.field = field
        self.problem = problem


class NotFound(InputError):
    """The operator named a company or key that does not exist, or more than one."""


class ConnectorError(CallbridgeError):
    """A CRM operation failed; the subclass says what to do about it."""


class AuthFailed(ConnectorError):
    """The CRM refused the credentials; the integration must be paused until re-authorised.

    ``code`` says which refusal, stored as the pause's ``status_reason_code`` so the screens
    say it in their language: ``credentials_refused`` (the CRM answered no),
    ``no_credentials`` (none entered) or ``token_refresh_refused`` (an OAuth refresh refused).
    """

    def __init__(self, message: str, code: str = "credentials_refused") -> None:
        super().__init__(message)
        self.code = code


class RateLimited(ConnectorError):
    """The CRM asked us to slow down; retry no earlier than ``retry_after`` seconds from now."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CrmUnreachable(RateLimited):
    """The integration's CRM keeps failing (its circuit breaker is open): wait for the probe."""


class DailyLimitReached(RateLimited):
    """The CRM account's daily API limit is used up until it resets, ``retry_after`` from now."""


class Transient(ConnectorError):
    """A failure that may pass by itself (timeout, 5xx, connection reset): retry with backoff."""


class Permanent(ConnectorError):
    """A request that can never succeed as sent: dead letter it, visible and replayable."""


class SyncTimedOut(CallbridgeError):
    """A sync ran longer than its watchdog lets it (``sync_timeout_seconds``): it is retried."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the sync ran longer than {seconds:g} s; it is retried")
        self.seconds = seconds


class DemoError(CallbridgeError):
    """The server refused or failed a request the demo needs; the message says which."""
