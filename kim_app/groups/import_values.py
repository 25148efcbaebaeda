"""Reading the cells of a registry import: positions, genders, fields of activity, and villages
by code or by name (with their district), each with the message an unreadable value gets."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import aliased

from kim_app.extensions import db
from kim_app.groups.models import BIDANG_LABELS, POSITION_LABELS, Bidang, Gender, Position
from kim_app.importing.values import clean, label_keys, shown, words
from kim_app.regions.models import Region, RegionLevel
from kim_app.security import scope_filter, user_may_reach

POSITION_SYNONYMS = {
    "wakil": Position.WAKIL_KETUA,
    "waka": Position.WAKIL_KETUA,
    "sekertaris": Position.SEKRETARIS,
    "sekretaris umum": Position.SEKRETARIS,
    "koordinator": Position.KOORDINATOR_BIDANG,
    "kabid": Position.KOORDINATOR_BIDANG,
    "ketua bidang": Position.KOORDINATOR_BIDANG,
    "kepala bidang": Position.KOORDINATOR_BIDANG,
    "koord bidang": Position.KOORDINATOR_BIDANG,
    "member": Position.ANGGOTA,
}
GENDERS = {
    **dict.fromkeys(("l", "lk", "laki", "laki laki", "pria", "male", "m", "man"), Gender.L),
    **dict.fromkeys(("p", "pr", "perempuan", "wanita", "female", "f", "woman"), Gender.P),
}


def parse_position(text: str) -> Position | None:
    """``Ketua``, ``Wakil Ketua``, ``sekertaris``, ``Kabid``… → Position; blank → ANGGOTA."""
    key = " ".join(words(text))
    if not key:
        return Position.ANGGOTA
    return _position_keys().get(key) or POSITION_SYNONYMS.get(key)


def parse_gender(text: str) -> Gender | bool | None:
    """``L``/``Laki-laki``/``Pria`` → L, ``P``/``Perempuan``/``Wanita`` → P, blank → None, else False."""
    key = " ".join(words(text))
    if not key:
        return None
    return GENDERS.get(key, False)


def parse_bidang(text: str) -> tuple[list[str], list[str]]:
    """Fields of activity separated by commas or semicolons → (values, unknown names)."""
    known, unknown = [], []
    for part in re.split(r"[;,\n]", text or ""):
        if not part.strip():
            continue
        found = _bidang_keys().get(" ".join(words(part)))
        if found is None:
            unknown.append(part.strip())
        elif found.value not in known:
            known.append(found.value)
    return sorted(known), unknown


@cache
def _position_keys() -> dict[str, Position]:
    return label_keys(POSITION_LABELS, Position)


@cache
def _bidang_keys() -> dict[str, Bidang]:
    return label_keys(BIDANG_LABELS, Bidang)


def village_code(text: str) -> str | None:
    """``64.09.03.2006`` or ``6409032006`` → the dotted code; None for anything else."""
    text = text.strip()
    if re.fullmatch(r"\d{2}\.\d{2}\.\d{2}\.\d{4}", text):
        return text
    if re.fullmatch(r"\d{10}", text):
        return f"{text[:2]}.{text[2:4]}.{text[4:6]}.{text[6:]}"
    return None


VILLAGE_PREFIX = re.compile(r"^(desa|kelurahan|kel\.?|ds\.?)\s+", re.IGNORECASE)
DISTRICT_PREFIX = re.compile(r"^(kecamatan|kec\.?)\s+", re.IGNORECASE)


def place_key(text: str, prefix: re.Pattern) -> str:
    """A place name as the database holds it in lower case, without ``Desa``/``Kec.``."""
    return prefix.sub("", clean(text)).lower()


class VillageFinder:
    """Resolves the villages a file names, by code or by name (+ district), in two queries."""

    def __init__(self, user, values: Iterable[tuple[str, str]]):
        self.user = user
        codes, names = set(), set()
        for text, _district in values:
            code = village_code(text)
            if code:
                codes.add(code)
            elif text.strip():
                names.add(place_key(text, VILLAGE_PREFIX))
        self.by_code: dict[str, Region] = {}
        if codes:
            statement = sa.select(Region).where(
                Region.code.in_(codes), Region.level == RegionLevel.DESA
            )
            self.by_code = {r.code: r for r in db.session.scalars(statement)}
        self.by_name: dict[str, list[tuple[Region, str]]] = {}
        if names:
            parent = aliased(Region, name="parent")
            statement = (
                sa.select(Region, parent.name)
                .join(parent, parent.code == Region.parent_code)
                .where(
                    Region.level == RegionLevel.DESA,
                    scope_filter(Region.code, user),
                    sa.func.lower(Region.name).in_(names),
                )
                .order_by(Region.code)
            )
            for region, district_name in db.session.execute(statement):
                self.by_name.setdefault(region.name.lower(), []).append(
                    (region, district_name.lower())
                )

    def resolve(self, text: str, district_text: str = "") -> tuple[Region | None, str | None]:
        """The village and no error, or no village and the reason in Indonesian."""
        text = clean(text)
        if not text:
            return None, _("Desa/kelurahan kosong.")
        code = village_code(text)
        if code:
            region = self.by_code.get(code)
            if region is None:
                return None, _("Kode desa %(code)s tidak dikenal.", code=code)
            if not user_may_reach(self.user, code):
                return None, _("Desa %(code)s di luar wilayah kerja Anda.", code=code)
            return region, None
        candidates = self.by_name.get(place_key(text, VILLAGE_PREFIX), [])
        wanted_district = place_key(district_text, DISTRICT_PREFIX)
        if wanted_district:
            candidates = [c for c in candidates if c[1] == wanted_district]
        if not candidates:
            if wanted_district:
                return None, _(
                    "Desa/kelurahan “%(name)s” di kecamatan “%(district)s” tidak ditemukan di wilayah kerja Anda.",
                    name=shown(text),
                    district=shown(district_text),
                )
            return None, _(
                "Desa/kelurahan “%(name)s” tidak ditemukan di wilayah kerja Anda.", name=shown(text)
            )
        if len(candidates) > 1:
            return None, _(
                "Nama desa “%(name)s” ada di %(n)d tempat. Isi kecamatannya atau pakai kode desa.",
                name=shown(text),
                n=len(candidates),
            )
        return candidates[0][0], None
