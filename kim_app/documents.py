"""The renderers every package's documents go through: PDF from self-contained HTML
(WeasyPrint), the PDF response with its private headers, and SVG QR codes."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import segno
from flask import abort, make_response
from werkzeug.wrappers import Response

from kim_app.text import printable

# personal documents (tickets, lists, certificates): never kept by a shared cache, never indexed
PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex, nofollow"}


def kept_file(
    path: Path | None,
    mime: str,
    filename: str = "",
    *,
    inline: bool = True,
    cache: str = PRIVATE["Cache-Control"],
) -> Response:
    """A file the app keeps on disk (each a few MB at most, read whole so no handle stays
    open), or 404 when it is gone: shown in the browser or, ``inline=False``, downloaded as
    ``filename``. Private (``PRIVATE``) unless ``cache`` starts with ``public``; ``cache`` lets a
    private photo be kept by the browser a while."""
    if path is None:
        abort(404)
    response = make_response(path.read_bytes())
    response.headers["Content-Type"] = mime
    if filename:
        disposition = "inline" if inline else "attachment"
        response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    if not cache.startswith("public"):
        response.headers.update(PRIVATE)
    response.headers["Cache-Control"] = cache
    return response


def render_pdf(
    *documents: str,
    progress: Callable[[int, int], None] | None = None,
    target: BinaryIO | None = None,
) -> bytes | None:
    """One PDF from self-contained HTML documents with WeasyPrint; each keeps its own page rules
    and page numbers. Only ``data:`` URIs are read (embedded photos): nothing is fetched, so a
    template can never make the server request a URL. Control characters are dropped from the
    markup (``printable``): stored text may hold some, and a PDF could only show them as boxes.
    ``progress(done, total)`` is told after each document is laid out (the slow part); with
    ``target`` the PDF is written there and nothing is returned."""
    # heavy; loaded only when a PDF is asked for
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    rendered = []
    for html in documents:
        rendered.append(HTML(string=printable(html), url_fetcher=fetcher).render())
        if progress is not None:
            progress(len(rendered), len(documents))
    return rendered[0].copy([page for doc in rendered for page in doc.pages]).write_pdf(target)


def pdf_response(body: bytes, filename: str) -> Response:
    """A PDF shown in the browser's viewer (it is not HTML), private like every personal file."""
    response = make_response(body)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers.update(PRIVATE)
    return response


def qr_svg(data: str, title: str, *, namespace: bool = False) -> str:
    """An SVG QR code (error correction M) sized by its container: no width or height of its own.

    ``namespace`` adds the SVG namespace, which a standalone renderer (WeasyPrint) wants.
    """
    code = segno.make(data, error="m", micro=False)
    out = io.BytesIO()
    code.save(
        out,
        kind="svg",
        xmldecl=False,
        svgns=namespace,
        nl=False,
        scale=1,
        omitsize=True,
        title=title,
        svgclass="qr",
        lineclass=None,
    )
    return out.getvalue().decode()
