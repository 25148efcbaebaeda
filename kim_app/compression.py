"""Gzip for text answers (pages, fragments, CSS, JS, SVG, CSV) when the browser accepts it.

The page budget (DESIGN §6: 14 KB compressed) only helps a phone if the bytes really travel
compressed; ``make run`` serves gunicorn directly, so the app compresses itself. Behind a proxy that
compresses too, the proxy passes an already encoded answer through unchanged.
"""

from __future__ import annotations

import gzip

from flask import Flask, Response, request

COMPRESSIBLE = {
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "image/svg+xml",
    "text/csv",
    "text/calendar",
    "text/plain",
    "application/json",
}
# below this a gzip header costs more than it saves
MIN_SIZE = 512


def _accepts_gzip() -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() in ("gzip", "*"):
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def _compress(response: Response) -> Response:
    if (
        response.status_code != 200
        or response.mimetype not in COMPRESSIBLE
        or "Content-Encoding" in response.headers
        or (response.is_streamed and not response.direct_passthrough)  # a generator
    ):
        return response
    response.vary.add("Accept-Encoding")
    if not _accepts_gzip():
        return response
    source = response.response
    response.direct_passthrough = False  # static files: read them to compress them
    body = response.get_data()
    if hasattr(source, "close"):  # the file behind a static answer, read to the end now
        source.close()
    if len(body) < MIN_SIZE:
        return response
    response.set_data(gzip.compress(body, compresslevel=6))
    response.headers["Content-Encoding"] = "gzip"
    etag, weak = response.get_etag()
    if etag:  # another representation, another validator
        response.set_etag(etag + "-gz", weak)
    return response


def register(app: Flask) -> None:
    if app.config["KIM_COMPRESS"]:
        app.after_request(_compress)
