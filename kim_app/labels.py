"""Enums whose members carry a translated label for the interface, stored as their values.

Labels are kept per enum class: two enums may share a value (``Source.UNDANGAN`` and
``RegistrationMode.UNDANGAN`` are both ``"undangan"``) and still read differently.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import get_locale

_LABELS: dict[type, dict[str, Any]] = {}
# labels already translated, per language: a roll-call row or a dashboard shows dozens, and
# each lazy string would otherwise look its catalogue up afresh
_TRANSLATED: dict[tuple[Any, type, str], str] = {}


class LabelledEnum(enum.StrEnum):
    """A StrEnum whose members have a ``label``, given once with ``set_labels``."""

    @property
    def label(self) -> str:
        """The label in the reader's language. Outside a request (a form's choices, built once
        when its module is imported) the lazy string itself, translated each time it is shown."""
        text = _LABELS[type(self)][self.value]
        locale = get_locale()
        if locale is None:
            return text
        key = (locale, type(self), self.value)
        found = _TRANSLATED.get(key)
        if found is None:
            found = _TRANSLATED[key] = str(text)
        return found


def set_labels(enum_cls: type[LabelledEnum], labels: Mapping) -> Mapping:
    """Give every member of ``enum_cls`` its (lazily translated) label; returns ``labels``."""
    if set(labels) != set(enum_cls):
        raise ValueError(f"labels of {enum_cls.__name__} must cover exactly its members")
    _LABELS[enum_cls] = {member.value: text for member, text in labels.items()}
    _TRANSLATED.clear()
    return labels


def enum_type(enum_cls: type[enum.Enum], length: int) -> sa.Enum:
    """The column type for ``enum_cls``: its values in a VARCHAR (no database enum type), checked."""
    return sa.Enum(
        enum_cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )
