"""The region tree: province ``35``, regency ``35.14``, district ``35.14.01``, village ``35.14.01.2001``."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column

from kim_app.extensions import db
from kim_app.labels import LabelledEnum, enum_type, set_labels

# Region codes compare byte-wise so a scope prefix is an index range on every database.
RegionCode = sa.String(13).with_variant(sa.String(13, collation="C"), "postgresql")


class RegionLevel(LabelledEnum):
    PROVINSI = "provinsi"
    KABUPATEN = "kabupaten"
    KECAMATAN = "kecamatan"
    DESA = "desa"

    @property
    def depth(self) -> int:
        return LEVELS.index(self) + 1


LEVELS = list(RegionLevel)
LEVEL_LABELS = set_labels(
    RegionLevel,
    {
        RegionLevel.PROVINSI: _l("Provinsi"),
        RegionLevel.KABUPATEN: _l("Kabupaten/Kota"),
        RegionLevel.KECAMATAN: _l("Kecamatan"),
        RegionLevel.DESA: _l("Desa/Kelurahan"),
    },
)
# digits in each dot-separated group of a code, level by level
CODE_GROUPS = (2, 2, 2, 4)


def level_of(code: str) -> RegionLevel | None:
    """The level a well-formed code belongs to, or None for anything else."""
    parts = code.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    for part, width in zip(parts, CODE_GROUPS, strict=False):
        if len(part) != width or not part.isascii() or not part.isdigit():
            return None
    return LEVELS[len(parts) - 1]


def parent_of(code: str) -> str | None:
    """The code one level up, or None for a province."""
    head, _, _tail = code.rpartition(".")
    return head or None


def ancestors_of(code: str) -> list[str]:
    """Codes from the province down to ``code`` itself."""
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts) + 1)]


class Region(db.Model):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(RegionCode, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    level: Mapped[RegionLevel] = mapped_column(enum_type(RegionLevel, 12))
    parent_code: Mapped[str | None] = mapped_column(
        RegionCode, sa.ForeignKey("regions.code"), index=True
    )

    @property
    def is_kelurahan(self) -> bool:
        """Villages whose last group starts with 1 are kelurahan; 2 are desa."""
        return self.level is RegionLevel.DESA and self.code.rsplit(".", 1)[-1].startswith("1")

    @property
    def display_name(self) -> str:
        """The name as people write it: ``Kec. Babulu``, ``Desa Sebakung Jaya``, ``Kel. Nipah-Nipah``."""
        if self.level is RegionLevel.KECAMATAN:
            return "Kec. " + self.name
        if self.level is RegionLevel.DESA:
            return ("Kel. " if self.is_kelurahan else "Desa ") + self.name
        return self.name

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"
