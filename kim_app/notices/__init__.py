"""Notices: messages to accounts (the list at /pesan with its unread count), the prepared
WhatsApp hand-offs an area must send (the outbox), and their emails, sent off the request."""

from flask import Blueprint

bp = Blueprint("notices", __name__)

# operations connects the receivers of kim_app.signals; routes attach the views to bp
from kim_app.notices import operations, routes  # noqa: E402,F401
