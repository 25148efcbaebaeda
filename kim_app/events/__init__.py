"""Events: trainings, socialisation sessions and forums, with sessions, invitations,
public registration with capacity and a waiting list, and participant lists."""

from flask import Blueprint

bp = Blueprint("events", __name__)

# each module attaches its views to bp
from kim_app.events import invitations, participants, public, routes  # noqa: E402,F401
