"""The region picker: cascading province → regency → district → village selects, plus village search.

One object reads the submitted values, keeps only choices the user may make, and tells the template
what to show. The same markup serves htmx (each change re-renders the picker) and plain forms
(a "refresh choice" button inside ``<noscript>`` re-submits the host form).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from kim_app.regions.models import LEVELS, Region, RegionLevel, ancestors_of, level_of
from kim_app.regions.operations import children_of, search_villages
from kim_app.security import scope_of, user_may_reach


@dataclass
class PickerLevel:
    level: RegionLevel
    field: str
    options: list[Region]
    selected: Region | None
    fixed: bool


@dataclass
class RegionPicker:
    prefix: str
    deepest: RegionLevel
    levels: list[PickerLevel] = field(default_factory=list)
    query: str = ""
    results: list = field(default_factory=list)

    @property
    def chosen(self) -> Region | None:
        """The deepest region picked (or fixed by the user's scope)."""
        picked = [lvl.selected for lvl in self.levels if lvl.selected is not None]
        return picked[-1] if picked else None

    @property
    def fixed(self) -> bool:
        """Every level down to the deepest is fixed by the user's scope: nothing to choose."""
        return len(self.levels) == self.deepest.depth and all(lvl.fixed for lvl in self.levels)

    @property
    def spec(self) -> str:
        return f"{self.prefix}:{self.deepest.value}"

    @classmethod
    def from_values(
        cls,
        values: Mapping[str, str],
        user,
        *,
        prefix: str = "wilayah",
        deepest: RegionLevel = RegionLevel.DESA,
        initial: str | None = None,
    ) -> RegionPicker:
        """Build the picker from form or query values; ``initial`` is a code to start from."""
        picker = cls(prefix=prefix, deepest=deepest)
        wanted = picker._wanted_codes(values, user, initial)
        fixed = set(ancestors_of(scope_of(user))) if scope_of(user) else set()
        parent: Region | None = None
        for level in LEVELS[: deepest.depth]:
            if level is not RegionLevel.PROVINSI and parent is None:
                break
            options = children_of(parent.code if parent else None, user)
            by_code = {region.code: region for region in options}
            code = wanted[level.depth - 1] if level.depth <= len(wanted) else None
            selected = by_code.get(code) if code else None
            if selected is None and len(options) == 1 and options[0].code in fixed:
                selected = options[0]
            picker.levels.append(
                PickerLevel(
                    level=level,
                    field=f"{prefix}_{level.value}",
                    options=options,
                    selected=selected,
                    fixed=selected is not None and selected.code in fixed,
                )
            )
            parent = selected
        picked_from_search = bool((values.get(f"{prefix}_pilih") or "").strip())
        picker.query = "" if picked_from_search else (values.get(f"{prefix}_q") or "").strip()[:60]
        if picker.query and deepest is RegionLevel.DESA:
            picker.results = search_villages(picker.query, user)
        return picker

    def _wanted_codes(self, values: Mapping[str, str], user, initial: str | None) -> list[str]:
        """Codes from the province down: a search result wins over the selects, then ``initial``."""
        chosen = (values.get(f"{self.prefix}_pilih") or "").strip()
        if chosen and level_of(chosen) and user_may_reach(user, chosen):
            return ancestors_of(chosen)
        levels = LEVELS[: self.deepest.depth]
        submitted = [(values.get(f"{self.prefix}_{level.value}") or "").strip() for level in levels]
        codes: list[str] = []
        for i, level in enumerate(levels):
            code = submitted[i] or _ancestor_from_deeper(submitted[i + 1 :], i)
            if level_of(code) is not level or (codes and not code.startswith(codes[-1] + ".")):
                break
            codes.append(code)
        if not codes and initial and level_of(initial):
            return ancestors_of(initial)
        return codes


def _ancestor_from_deeper(deeper: list[str], depth_index: int) -> str:
    """A missing level's code, taken from a deeper code that was sent (a link may carry only that)."""
    for code in deeper:
        if code and level_of(code):
            chain = ancestors_of(code)
            return chain[depth_index] if depth_index < len(chain) else ""
    return ""
