"""One place that decides between a fragment and a full page (htmx 4 request headers)."""

from __future__ import annotations

from flask import make_response, redirect, render_template, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def is_partial() -> bool:
    """An htmx request that swaps part of the page (``HX-Request-Type: partial``)."""
    return is_htmx() and request.headers.get("HX-Request-Type") == "partial"


def render(page: str, fragment: str | None = None, /, status: int = 200, **context) -> Response:
    """The fragment for an htmx partial request, the full page for anything else.

    ``Vary: HX-Request`` is added to every HTML response by the security headers hook.
    """
    template = fragment if fragment and is_partial() else page
    return make_response(render_template(template, **context), status)


def redirect_after_post(url: str) -> Response:
    """303 for a plain form post; for htmx, a client-side redirect that loads the whole page."""
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)
