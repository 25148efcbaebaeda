"""The registry under concurrency, over HTTP: operators verifying at the same moment and an import
confirmed several times at once. Exact results on PostgreSQL (real parallel transactions, row
locks, unique constraints) and on SQLite (writers queue behind ``BEGIN IMMEDIATE``).

- Twenty verifications of one KIM: one status change, one registration number, one audit entry;
  every other answer says the KIM is already verified — never a 500.
- Ten KIM of one regency verified at once: ten different numbers, 0001 to 0010, none lost.
- One import confirmed five times at once: its rows are imported once.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from kim_app.audit import AuditEntry
from kim_app.auth.models import Role
from kim_app.extensions import db
from kim_app.groups.models import Kim, KimStatus, KimStatusChange
from tests.conftest import PPU, html_of
from tests.helpers import (
    KIM_HEADER,
    csv_bytes,
    in_parallel,
    kim_import_token,
    kim_rows,
    mapping_fields,
    upload_kims,
)
from tests.scenes import ppu_villages

pytestmark = pytest.mark.usefixtures("wide_pool")


def _operators(app, make_user, login, n: int) -> list:
    """``n`` signed-in browsers of PPU operators (each its own session, like separate phones)."""
    return [login(make_user(Role.OPERATOR_KABKOTA, PPU), on=app.test_client()) for _ in range(n)]


def _verify(client, kim_id: int):
    token = client.token(f"/kim/{kim_id}")

    def run() -> tuple[int, str]:
        response = client.post(
            f"/kim/{kim_id}/status", data={"csrf_token": token, "to": "terverifikasi", "note": ""}
        )
        return response.status_code, html_of(client.get(f"/kim/{kim_id}"))

    return run


def test_twenty_operators_verify_one_kim_at_once(app, make_user, make_kim, login):
    """One status change, one number, one audit entry; nineteen told it is already verified."""
    kim_id = make_kim(status=KimStatus.DIAJUKAN).id
    clients = _operators(app, make_user, login, 20)
    answers = in_parallel(app, [_verify(client, kim_id) for client in clients])
    assert {status for status, _page in answers} == {303}
    told = [page for _status, page in answers if "KIM ini sudah berstatus terverifikasi" in page]
    assert len(told) == 19
    with app.app_context():
        kim = db.session.get(Kim, kim_id)
        changes = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(KimStatusChange)
            .where(
                KimStatusChange.kim_id == kim_id,
                KimStatusChange.to_status == KimStatus.TERVERIFIKASI,
            )
        )
        audited = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "kim.status", AuditEntry.object_id == str(kim_id))
        )
        assert kim.status is KimStatus.TERVERIFIKASI
        assert kim.registration_number == f"KIM-{PPU}-0001"
        assert changes == 1 and audited == 1


def test_ten_kims_of_one_regency_verified_at_once_get_ten_numbers(app, make_user, make_kim, login):
    """Every verification finds the same highest number; the unique constraint turns all but
    one away and each takes the next: 0001 … 0010, no gap, no duplicate, no error."""
    villages = [code for code, _name, _district in ppu_villages(app)][:10]
    ids = [make_kim(village=code, status=KimStatus.DIAJUKAN).id for code in villages]
    clients = _operators(app, make_user, login, 10)
    answers = in_parallel(app, [_verify(c, kim_id) for c, kim_id in zip(clients, ids, strict=True)])
    assert {status for status, _page in answers} == {303}
    assert all("Status KIM sekarang: Terverifikasi" in page for _status, page in answers)
    with app.app_context():
        numbers = db.session.scalars(
            sa.select(Kim.registration_number).where(Kim.id.in_(ids))
        ).all()
    assert sorted(numbers) == [f"KIM-{PPU}-{n:04d}" for n in range(1, 11)]


def test_one_import_confirmed_five_times_at_once_imports_once(app, make_user, login):
    """The upload is claimed by the first confirmation; the others find it gone (a clear page,
    not an error) and the 30 rows are in the registry once."""
    operator = make_user(Role.OPERATOR_KABKOTA, PPU)
    owner = login(operator, on=app.test_client())
    rows = kim_rows(ppu_villages(app), n=30, bad={})
    token = kim_import_token(upload_kims(owner, csv_bytes(KIM_HEADER, rows), "registri.csv"))
    fields = mapping_fields(html_of(owner.get(f"/kim/impor/{token}"))) | {"aksi": "impor"}
    browsers = [owner] + [login(operator, on=app.test_client()) for _ in range(4)]

    def confirm(client):
        data = fields | {"csrf_token": client.token(f"/kim/impor/{token}")}
        return lambda: client.post(f"/kim/impor/{token}", data=data).status_code

    statuses = in_parallel(app, [confirm(client) for client in browsers])
    assert statuses.count(303) >= 1 and max(statuses) < 500, statuses
    with app.app_context():
        imported = db.session.scalar(
            sa.select(sa.func.count()).select_from(Kim).where(Kim.village_code.startswith(PPU))
        )
    assert imported == 30
