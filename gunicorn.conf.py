"""gunicorn's settings file, read by every gunicorn started in this directory (``make run``, the
benchmark, the tests that start app servers).

Answers do not name the app server: gunicorn sends ``Server: gunicorn`` on every response and has
no setting for it, so the name its responses read is replaced here, before any worker starts.
"""

import gunicorn.http.wsgi

gunicorn.http.wsgi.SERVER = "KIM"
