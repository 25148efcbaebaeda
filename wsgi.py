"""Entry point for gunicorn (``wsgi:app``) and ``flask --app wsgi``."""

import gc

from kim_app import create_app

app = create_app()

# The app holds about 140,000 long-lived objects once made (code, translations, metadata). Left
# to the garbage collector, every full collection walks all of them — over 100 ms, landing on
# whichever request happens to allocate at that moment. Frozen, they are never walked again;
# requests' own garbage is collected as before.
gc.collect()
gc.freeze()
