"""Interface labels of enums: every member has one, and enums sharing a value keep their own."""

from __future__ import annotations

from kim_app.events.models import RegistrationMode, Source
from kim_app.labels import LabelledEnum


def test_every_labelled_member_has_a_label(app):
    """All enums built on LabelledEnum label every member (in Indonesian and in English)."""
    enums = LabelledEnum.__subclasses__()
    assert len(enums) >= 15
    for lang in ("id", "en"):
        with app.test_request_context():
            from flask_babel import force_locale

            with force_locale(lang):
                for enum_cls in enums:
                    for member in enum_cls:
                        assert member.label.strip(), (enum_cls.__name__, member)


def test_enums_with_the_same_value_keep_their_own_labels(app):
    """ "undangan" is an invitation-only mode in one enum and a source in the other."""
    with app.test_request_context():
        assert RegistrationMode.UNDANGAN.label == "Hanya undangan"
        assert Source.UNDANGAN.label == "Diundang"
