"""How dates, times and numbers are written for people, in the reader's language: the functions
Python code calls, registered once as Jinja filters (``{{ moment|day }}``, ``{{ n|count }}``)
so templates are not handed formatters render by render.

Event times are naive local times of the event's zone (WIB, WITA or WIT): they are printed as
they are with the zone's label, never converted (``when``, ``session_when``); a stored UTC
timestamp is shown in a region's zone by ``in_zone``."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from babel.dates import format_date, format_time
from flask import Flask
from flask_babel import format_datetime, format_percent, get_locale

from kim_app.i18n import count, one_decimal
from kim_app.timezones import local_time, zone_label, zone_name_for


class Zoned(Protocol):
    """An event: anything whose times are local to a zone with a label (WIB, WITA, WIT)."""

    zone_label: str


class Timed(Protocol):
    """A session: anything with a start and an end."""

    starts_at: datetime
    ends_at: datetime


def _locale() -> str:
    return str(get_locale() or "id")


def day(value: datetime) -> str:
    """``Rabu, 1 Mei 2024`` (the weekday and date, in the reader's language).

    Babel's full Indonesian pattern pads the day (``01 Mei``); people write ``1 Mei``.
    """
    locale = _locale()
    return format_date(value, "EEEE, d MMMM y" if locale == "id" else "full", locale=locale)


def clock(value: datetime) -> str:
    """``09.00`` — the wall-clock time as stored, never shifted to another zone."""
    return format_time(value, "short", locale=_locale())


def when(value: datetime, event: Zoned) -> str:
    """``Rabu, 15 Mei 2024 09.00 WITA``."""
    return f"{day(value)} {clock(value)} {event.zone_label}"


def session_when(session: Timed, event: Zoned) -> str:
    """``Rabu, 15 Mei 2024 09.00–12.00 WITA`` (the end date too when a session runs overnight)."""
    if session.ends_at.date() == session.starts_at.date():
        end = clock(session.ends_at)
    else:
        end = f"{day(session.ends_at)} {clock(session.ends_at)}"
    return f"{day(session.starts_at)} {clock(session.starts_at)}–{end} {event.zone_label}"


def percent(rate: float | None) -> str:
    """``0.75`` → ``75%`` in the reader's language; no rate (nobody expected) → ``—``."""
    if rate is None:
        return "—"
    return format_percent(rate, "#,##0%")


def in_zone(moment: datetime | None, code: str, width: str = "medium") -> str:
    """A stored (UTC) timestamp shown in the time zone of region ``code``: ``… 07.29 WITA``."""
    if moment is None:
        return ""
    shown = format_datetime(local_time(moment, code), width, rebase=False)
    return f"{shown} {zone_label(zone_name_for(code))}"


def register(app: Flask) -> None:
    """Every formatter as a Jinja filter, once: ``{{ s|session_when(event) }}``, ``{{ n|count }}``."""
    app.add_template_filter(lambda moment: day(moment) if moment is not None else "", "day")
    app.add_template_filter(lambda moment: clock(moment) if moment is not None else "", "clock")
    for formatter in (when, session_when, count, one_decimal, percent, in_zone):
        app.add_template_filter(formatter)
