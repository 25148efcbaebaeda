"""gunicorn's settings file, read by every gunicorn started in this directory (``make run``, the
benchmark, the tests that start app servers, ``deploy/kim-web.service``).

Answers do not name the app server: gunicorn sends ``Server: gunicorn`` on every response and has
no setting for it, so the name its responses read is replaced here, before any worker starts.

The access log keeps no secret: a path segment that is a key to something (an account's set-up
link, a ticket, a prepared file, a staged import) is written as ``***`` by ``QuietLogger``,
whatever format the log is given (the referrer and a redirect's address too, URL-encoded or not),
and no address keeps its query string.
"""

import re

import gunicorn.http.wsgi
from gunicorn.glogging import Logger

gunicorn.http.wsgi.SERVER = "KIM"

# the segment after one of these is a key (kim_app: auth /akun/<token>, events /tiket/<ticket>,
# files /berkas/<token>, importing /impor/<token>, evaluation /tes/<pass>), also URL-encoded (a
# sign-in link's "next"); a ticket's ".ics" stays
SECRET = re.compile(
    r"((?:/|%2F)(?:akun|tiket|berkas|impor|tes)(?:/|%2F))(?:.+?)(\.ics)?(?=/|%2F|\?|%3F|&|$)", re.I
)


def redact(path: str) -> str:
    """``path`` with its keys written as ``***``."""
    return SECRET.sub(lambda m: m[1] + "***" + (m[2] or ""), path)


# the atoms that hold an address: written without their query string
ADDRESSES = ("U", "f", "{referer}i", "{location}o", "{raw_uri}e", "{request_uri}e")


class QuietLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        # every text a format may name (a header, the environment) loses its keys; an address
        # (the path, the referrer, where a redirect leads) its query string as well
        quiet = {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
        for name in ADDRESSES:
            if isinstance(quiet.get(name), str):
                quiet[name] = quiet[name].split("?", 1)[0]
        path = quiet.get("U") or ""
        quiet["q"] = quiet["{query_string}e"] = ""
        quiet["r"] = f"{quiet.get('m') or '-'} {path} {environ.get('SERVER_PROTOCOL', '-')}"
        quiet["{raw_uri}e"] = quiet["{request_uri}e"] = path
        return quiet


logger_class = QuietLogger
