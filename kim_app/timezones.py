"""Time: the moment now as every table stores it (naive UTC), and Indonesia's three time zones,
chosen by province: WIB, WITA, WIT."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
LABELS = {WIB: "WIB", WITA: "WITA", WIT: "WIT"}
# provinces (first two digits of a region code) outside WIB
_WITA = {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}
_WIT = {"81", "82", "91", "92", "93", "94", "95", "96", "97"}


def utcnow() -> datetime:
    """Now in UTC without a zone: how every stored timestamp is written (local times of events
    are stored separately, in their event's zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def zone_name_for(code: str) -> str:
    """The IANA zone of the province a region code belongs to."""
    province = (code or "")[:2]
    if province in _WIT:
        return WIT
    if province in _WITA:
        return WITA
    return WIB


def zone_for(code: str) -> ZoneInfo:
    return ZoneInfo(zone_name_for(code))


def zone_label(zone_name: str) -> str:
    """``WIB``, ``WITA`` or ``WIT``."""
    return LABELS.get(zone_name, zone_name)


def local_today(code: str) -> date:
    """Today's date where region ``code`` is."""
    return datetime.now(zone_for(code)).date()


def local_time(moment_utc, code: str):
    """A naive UTC timestamp (as stored) as wall-clock time in the zone of region ``code``."""
    from datetime import UTC

    return moment_utc.replace(tzinfo=UTC).astimezone(zone_for(code)).replace(tzinfo=None)
