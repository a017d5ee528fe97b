"""Render the UI's templates in the request's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from callbridge.ui.i18n import LANGUAGE_NAMES, environment, language_of, translations
from callbridge.ui.session import Admin
from callbridge.ui.times import DEFAULT_ZONE, writers

#: Headers of every UI page: no caching of a signed-in page, no framing, no foreign scripts.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
}


def page(
    request: Request,
    template: str,
    admin: Admin | None = None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    """Answer ``template`` rendered in the request's language, for ``admin`` if signed in."""
    language = language_of(request, admin.language if admin else None)
    return rendered(request, template, language, admin, status, context)


def rendered(
    request: Request,
    template: str,
    language: str,
    admin: Admin | None,
    status: int,
    context: dict[str, Any],
) -> HTMLResponse:
    """Answer ``template`` rendered in ``language`` (as :func:`language_of` chose it)."""
    zone = admin.time_zone if admin else context.pop("zone", DEFAULT_ZONE)
    html = (
        environment(language)
        .get_template(template)
        .render(
            request=request,
            lang=language,
            languages=LANGUAGE_NAMES,
            admin=admin,
            csrf=admin.csrf if admin else context.pop("csrf", ""),
            zone=zone,
            **writers(language, zone),
            here=request.url.path,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def gettext_of(request: Request, admin: Admin | None = None) -> Callable[[str], str]:
    """Return the gettext of the language ``page`` would answer in, for messages built in Python.

    The same order as the pages: the UI's pick, the signed-in ``admin``'s company, the browser, en.
    """
    return translations(language_of(request, admin.language if admin else None)).gettext
