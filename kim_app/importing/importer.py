"""What every import shares: the interface an importer implements and the plan it returns.

An importer turns the rows of one uploaded table into records of its capability. It names the
fields it fills (``targets``), guesses a field from a column's header words (``guess``), checks
every row against the database and says what each will do (``check``, nothing written), writes
the valid rows (``apply``, flush and audit, never commit) and words the message shown when done
(``finished``). The pipeline (``kim_app.importing.wizard``) does the rest the same way for all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l

from kim_app.importing.values import clean
from kim_app.labels import LabelledEnum, set_labels
from kim_app.security import scope_of
from kim_app.tables import Table


@dataclass(frozen=True)
class Target:
    """A field an import fills, with its label for the mapping form."""

    key: str
    label: Any
    required: bool = False


class Action(LabelledEnum):
    NEW = "baru"
    UPDATE = "ubah"
    SAME = "sama"


ACTION_LABELS = set_labels(
    Action,
    {
        Action.NEW: _l("baru"),
        Action.UPDATE: _l("sudah ada, diperbarui"),
        Action.SAME: _l("sudah ada, tidak berubah"),
    },
)


@dataclass
class RowPlan:
    """One data row: what it is, where, and either its errors or what importing it will do.
    Importers keep what they found (the record to change) in ``found`` or in a subclass."""

    line: int
    label: str = ""
    place: str = ""
    errors: list[str] = field(default_factory=list)
    action: Action | None = None
    values: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """Every row of a file checked: ``missing`` lists fields still without a column."""

    rows: list[RowPlan]
    missing: list[str] = field(default_factory=list)

    @property
    def valid(self) -> list[RowPlan]:
        return [r for r in self.rows if not r.errors]

    @property
    def invalid(self) -> list[RowPlan]:
        return [r for r in self.rows if r.errors]

    def count(self, action: Action) -> int:
        return sum(1 for r in self.rows if not r.errors and r.action is action)

    @property
    def ready(self) -> bool:
        return not self.missing and bool(self.valid)


class Row:
    """A data row read through the mapping: ``row["name"]`` is the cleaned text or ``""``."""

    def __init__(self, line: int, values: list[str], mapping: dict[str, int]):
        self.line = line
        self._values = values
        self._mapping = mapping

    def __getitem__(self, key: str) -> str:
        index = self._mapping.get(key)
        return clean(self._values[index]) if index is not None else ""


def rows_of(table: Table, mapping: dict[str, int]) -> list[Row]:
    """The table's data rows, each read through ``mapping``."""
    return [
        Row(line, values, mapping) for line, values in zip(table.lines, table.rows, strict=True)
    ]


# every importer class by its ``kind``: how the worker finds the importer of a queued upload
IMPORTERS: dict[str, type[Importer]] = {}


class Importer(ABC):
    """One kind of import. Subclasses set ``kind`` (stored with the upload), ``label`` (shown in
    headings and messages) and ``targets``, and implement ``guess``, ``check``, ``apply`` and
    ``finished``; an instance may carry what the import writes into (an event), which
    ``params`` names and ``from_params`` finds again on the worker."""

    kind: ClassVar[str]
    label: ClassVar[Any]
    targets: ClassVar[tuple[Target, ...]]

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" in cls.__dict__:
            IMPORTERS[cls.kind] = cls

    def params(self) -> dict:
        """The ids this importer carries, as the worker's job keeps them (JSON)."""
        return {}

    @classmethod
    def from_params(cls, params: dict) -> Importer | None:
        """The importer ``params`` name, or None when what it writes into is gone."""
        return cls()

    def region_of(self, user) -> str | None:
        """The area an import by ``user`` is filed under (its result file's time zone and
        notice): the account's scope; none for the whole country."""
        return scope_of(user) or None

    @abstractmethod
    def guess(self, words: set[str]) -> str | None:
        """The target a column whose header has these (lower-case ASCII) words fills, or None."""

    def missing(self, mapping: dict[str, int]) -> list[str]:
        """Labels of what must still be mapped before rows can be checked."""
        return [str(t.label) for t in self.targets if t.required and t.key not in mapping]

    def plan(self, table: Table, mapping: dict[str, int], user) -> Plan:
        """Check every row and decide what it will do; nothing is written. Until every field
        it needs has a column, no row is checked."""
        missing = self.missing(mapping)
        if missing:
            return Plan([], missing)
        return Plan(self.check(rows_of(table, mapping), user))

    @abstractmethod
    def check(self, rows: list[Row], user) -> list[RowPlan]:
        """Every row's plan: its errors, or its action and what it will write."""

    @abstractmethod
    def apply(self, plan: Plan, user, filename: str) -> Any:
        """Write the valid rows of ``plan``, flush, audit once; returns what ``finished`` words."""

    def refusal(self, error: Exception) -> str | None:
        """The message for an error ``apply`` (or the commit after it) may meet when the data
        changed since the preview; None lets the error through."""
        return None

    @abstractmethod
    def finished(self, result: Any) -> str:
        """The message shown after a successful import."""
