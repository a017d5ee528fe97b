"""Sign in with an admin API key, sign out, and pick the screens' language."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import RedirectResponse
from fastapi.security import HTTPAuthorizationCredentials

from callbridge.api.deps import get_principal
from callbridge.ui.i18n import LANG_COOKIE, LANGUAGES
from callbridge.ui.render import gettext_of, page
from callbridge.ui.session import (
    SESSION_COOKIE,
    SESSION_SECONDS,
    SIGN_IN_COOKIE,
    SIGN_IN_SECONDS,
    FormAdminDep,
    cookie_options,
    new_session,
    new_sign_in_token,
    sign_in_token_matches,
)

router = APIRouter(prefix="/ui", include_in_schema=False)
HOME = "/ui/integrations"
#: Longer than any API key: a longer paste is refused before it is hashed.
KEY_LENGTH = 200


@router.get("/")
async def home() -> Response:
    """Open the first screen (the sign-in page when signed out)."""
    return RedirectResponse(HOME, status_code=303)


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    """Show the sign-in form, with a fresh CSRF token in a signed cookie."""
    return _sign_in_page(request, None, 200)


def _sign_in_page(request: Request, error: str | None, status: int) -> Response:
    token, cookie = new_sign_in_token(request)
    answer = page(request, "sign_in.html", csrf=token, error=error, status=status)
    answer.set_cookie(SIGN_IN_COOKIE, cookie, **cookie_options(request, SIGN_IN_SECONDS))
    return answer


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    """Check the admin key exactly as the API does; on success start a session."""
    _ = gettext_of(request)
    form = await request.form()
    posted, key = form.get("csrf"), form.get("key")
    if not isinstance(posted, str) or not sign_in_token_matches(request, posted):
        return page(request, "refused.html", status=403)
    if not isinstance(key, str) or not key.strip() or len(key) > KEY_LENGTH:
        return _sign_in_page(request, _("Paste an admin API key (it starts with cb_)."), 422)
    credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=key.strip())
    try:
        principal = await get_principal(request, credentials)
    except HTTPException as refused:
        return _sign_in_page(request, str(refused.detail), refused.status_code)
    answer = RedirectResponse(HOME, status_code=303)
    answer.set_cookie(
        SESSION_COOKIE, new_session(request, principal), **cookie_options(request, SESSION_SECONDS)
    )
    answer.delete_cookie(SIGN_IN_COOKIE, path="/ui")
    return answer


@router.post("/sign-out")
async def sign_out(_admin: FormAdminDep) -> Response:
    """End the session: the cookie is dropped (the key itself stays valid)."""
    answer = RedirectResponse("/ui/sign-in", status_code=303)
    answer.delete_cookie(SESSION_COOKIE, path="/ui")
    return answer


@router.get("/language/{language}")
async def pick_language(request: Request, language: str, back: str = HOME) -> Response:
    """Keep ``language`` for the screens (over the browser's preference) and go back."""
    if language not in LANGUAGES:
        raise HTTPException(404, f"no language {language!r}: use one of {', '.join(LANGUAGES)}")
    target = back if back.startswith("/ui/") and "//" not in back and "\\" not in back else HOME
    answer = RedirectResponse(target, status_code=303)
    answer.set_cookie(LANG_COOKIE, language, **cookie_options(request, 365 * 24 * 3600))
    return answer
