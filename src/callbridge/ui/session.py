"""The signed-in admin: a signed, expiring session cookie, and a CSRF token for every form.

The cookie holds the company, the id of the API key signed in with and a random CSRF token,
signed with a key derived from the server's secret key (itsdangerous); never the API key itself.
Every request checks the key is still unrevoked, so revoking a key signs its sessions out.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from callbridge.api.deps import get_runtime
from callbridge.api.public_url import public_base
from callbridge.crypto import load_keys
from callbridge.runtime import Runtime
from callbridge.storage import accounts, sql
from callbridge.storage.accounts import Principal

SESSION_COOKIE = "cb_session"
#: The CSRF token of the sign-in form, before there is a session (double-submit, signed).
SIGN_IN_COOKIE = "cb_sign_in"
#: How long a session lasts after signing in, in seconds.
SESSION_SECONDS = 8 * 3600
SIGN_IN_SECONDS = 3600


class SignInNeeded(Exception):
    """The request has no valid session: the answer is the sign-in page."""


class CsrfRefused(Exception):
    """A form was posted without the token of the session it claims to come from."""


@dataclass(frozen=True)
class Admin:
    """A signed-in company admin: who, as the API sees them, and the session's CSRF token."""

    principal: Principal
    csrf: str
    #: The company's language for the screens, if it set one (the user's pick wins over it).
    language: str | None = None
    #: The company's time zone (an IANA name): the screens show its times in it.
    time_zone: str = "UTC"


def serializer(runtime: Runtime, purpose: str) -> URLSafeTimedSerializer:
    """Return the signer of ``purpose`` cookies, keyed by the server's secret key."""
    configured = runtime.settings.secret_key
    keys = load_keys(
        configured.get_secret_value() if configured else None, runtime.settings.data_dir
    )
    secret = hashlib.sha256(f"callbridge-ui:{keys[0]}".encode()).hexdigest()
    return URLSafeTimedSerializer(secret, salt=f"callbridge-ui-{purpose}")


def _signer(request: Request, purpose: str) -> URLSafeTimedSerializer:
    cached: dict[str, URLSafeTimedSerializer] = request.app.state.__dict__.setdefault(
        "_ui_signers", {}
    )
    if purpose not in cached:
        cached[purpose] = serializer(get_runtime(request), purpose)
    return cached[purpose]


def new_session(request: Request, principal: Principal) -> str:
    """Return the cookie value of a new session for ``principal``, with a fresh CSRF token."""
    payload = {"c": principal.company_id, "k": principal.key_id, "t": secrets.token_urlsafe(24)}
    return str(_signer(request, "session").dumps(payload))


def new_sign_in_token(request: Request) -> tuple[str, str]:
    """Return a CSRF token for the sign-in form and the signed cookie value carrying it."""
    token = secrets.token_urlsafe(24)
    return token, str(_signer(request, "sign-in").dumps(token))


def sign_in_token_matches(request: Request, posted: str) -> bool:
    """Tell whether the posted sign-in token is the one of the browser's signed cookie."""
    try:
        kept = _signer(request, "sign-in").loads(
            request.cookies.get(SIGN_IN_COOKIE, ""), max_age=SIGN_IN_SECONDS
        )
    except BadSignature:
        return False
    return isinstance(kept, str) and hmac.compare_digest(kept, posted)


def cookie_options(request: Request, max_age: int) -> dict[str, Any]:
    """Return the options every UI cookie is set with: HttpOnly, SameSite=Lax, under /ui/."""
    return {
        "max_age": max_age,
        "httponly": True,
        "samesite": "lax",
        "secure": _over_https(request),
        "path": "/ui",
    }


def _over_https(request: Request) -> bool:
    """Tell whether the browser reached Callbridge over HTTPS, as webhooks' URLs are computed.

    ``CALLBRIDGE_PUBLIC_URL``, else the request's scheme or a trusted proxy's forwarded one.
    """
    settings = get_runtime(request).settings
    return public_base(request.scope, request.headers, settings).startswith("https://")


async def signed_in(request: Request) -> Admin:
    """Return the signed-in admin, or raise ``SignInNeeded`` (expired, forged, key revoked)."""
    try:
        payload = _signer(request, "session").loads(
            request.cookies.get(SESSION_COOKIE, ""), max_age=SESSION_SECONDS
        )
    except BadSignature as err:
        raise SignInNeeded from err
    if not isinstance(payload, dict) or not all(isinstance(payload.get(k), str) for k in "ckt"):
        raise SignInNeeded
    principal = Principal(company_id=payload["c"], key_id=payload["k"])
    async with get_runtime(request).reads() as session:
        company = await sql.run(
            session, accounts.signed_in_company, principal.company_id, principal.key_id
        )
    if company is None:
        raise SignInNeeded
    return Admin(
        principal=principal,
        csrf=payload["t"],
        language=company["language"],
        time_zone=company["time_zone"],
    )


async def checked_form(request: Request, admin: Annotated[Admin, Depends(signed_in)]) -> Admin:
    """Return the admin of a posted form whose CSRF token is the session's; else refuse it."""
    form = await request.form()
    posted = form.get("csrf")
    if not isinstance(posted, str) or not hmac.compare_digest(posted, admin.csrf):
        raise CsrfRefused
    return admin


AdminDep = Annotated[Admin, Depends(signed_in)]
FormAdminDep = Annotated[Admin, Depends(checked_form)]
