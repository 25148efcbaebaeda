"""Language choice: Bahasa Indonesia first, English second, remembered in the session."""

from flask import current_app, has_request_context, session


def select_locale() -> str:
    """The language the person chose, or the default (``id``)."""
    lang = session.get("lang") if has_request_context() else None
    if lang in current_app.config["KIM_LANGUAGES"]:
        return lang
    return current_app.config["BABEL_DEFAULT_LOCALE"]
