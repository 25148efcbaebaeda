"""gunicorn's settings file, read by every gunicorn started in this directory (``make run``, the
benchmark, the tests that start app servers, ``deploy/kim-web.service``).

Answers do not name the app server: gunicorn sends ``Server: gunicorn`` on every response and has
no setting for it, so the name its responses read is replaced here, before any worker starts.

The access log keeps no secret: a path segment that is a key to something (an account's set-up
link, a ticket, a prepared file, a staged import) is written as ``***`` by ``QuietLogger``,
whatever format the log is given; the query string is dropped from the request line.
"""

import re

import gunicorn.http.wsgi
from gunicorn.glogging import Logger

gunicorn.http.wsgi.SERVER = "KIM"

# the segment after one of these is a key (kim_app: auth /akun/<token>, events /tiket/<ticket>,
# files /berkas/<token>, importing /impor/<token>); a ticket's ".ics" stays
SECRET = re.compile(r"(/(?:akun|tiket|berkas|impor)/)[^/?]+?(\.ics)?(?=/|\?|$)")


def redact(path: str) -> str:
    """``path`` with its keys written as ``***``."""
    return SECRET.sub(lambda m: m[1] + "***" + (m[2] or ""), path)


class QuietLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = redact(atoms.get("U", ""))
        atoms["U"] = path
        atoms["q"] = ""
        atoms["r"] = f"{atoms.get('m', '-')} {path} {environ.get('SERVER_PROTOCOL', '-')}"
        atoms["{raw_uri}e"] = path
        return atoms


logger_class = QuietLogger
