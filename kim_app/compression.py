"""Brotli or gzip for text answers (pages, fragments, CSS, JS, SVG, CSV) when the browser accepts
it, through Flask-Compress.

The page budget (DESIGN §6: 14 KB compressed) only helps a phone if the bytes really travel
compressed; ``make run`` serves gunicorn directly, so the app compresses itself. Behind a proxy that
compresses too, the proxy passes an already encoded answer through unchanged. The settings
(``COMPRESS_*``) are in ``config.py``.
"""

from __future__ import annotations

import flask_compress
from flask import Flask, Response, request


class Compress(flask_compress.Compress):
    """Flask-Compress, leaving as they are two kinds of answer the library would compress: one
    to a browser refusing every coding the app offers (``Accept-Encoding: gzip;q=0``; the library
    reads a zero quality as a refusal only for ``*``), and any but a 200 (a 206 carries a byte
    range of the uncompressed file). A streamed file (static files) is closed when the answer
    is, which the library forgets."""

    def after_request(self, response: Response) -> Response:
        accept = request.accept_encodings  # werkzeug: the quality of each coding, 0 if refused
        offered = set(self.enabled_algorithms) | set(self.streaming_algorithms)
        if response.status_code != 200 or not any(accept[coding] for coding in offered):
            response.vary.add("Accept-Encoding")
            return response
        source = response.response
        if response.is_streamed and hasattr(source, "close"):
            # a static file: the library streams it through the compressor and loses its close
            response.call_on_close(source.close)
        return super().after_request(response)


def register(app: Flask) -> None:
    if app.config["KIM_COMPRESS"]:
        Compress(app)
