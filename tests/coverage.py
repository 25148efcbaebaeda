"""Which endpoints the access matrix and the page-weight budget cover, gathered from every test module.

A test module declares ``SCOPE_CHECKED`` (endpoints whose access rules it tests role by role, in
and out of scope) and ``WEIGHED`` (page endpoints whose compressed size it checks). The suite
fails while any endpoint of the app is in neither set nor listed as public/not-a-page.
"""

from __future__ import annotations

import importlib
import pkgutil

import tests


def declared(name: str) -> set[str]:
    found: set[str] = set()
    for info in pkgutil.walk_packages(tests.__path__, "tests."):
        if not info.name.rsplit(".", 1)[-1].startswith("test_"):
            continue
        module = importlib.import_module(info.name)
        found |= set(getattr(module, name, ()))
    return found
