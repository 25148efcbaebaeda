"""attendance_tallies: marks per session, KIM and status, kept by triggers, for the dashboard and
the roll call's counters

The dashboard ranked KIM and measured attendance by walking every mark of the area (a regency on
the national data: 5,700 marks, 25 ms; the whole country: seconds), and every roll-call tap
counted its session's marks again for the counters. The tallies hold, per session and KIM (0:
people from no KIM), the hadir, izin, sakit and alpa marks of registered (terdaftar) people. Triggers on
attendance (a mark's status, person or session changes) and on registrations (status or KIM
changes) keep them exact whatever writes; registrations are never deleted on their own (a deleted
session takes its tallies along). Both databases get the same statements, PostgreSQL inside a
trigger function.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

# the statuses counted (belum is "not marked": what is left of the registered people)
MARKED = ('hadir', 'izin', 'sakit', 'alpa')
IS_MARKED = "status IN ('hadir', 'izin', 'sakit', 'alpa')"


def _ones(status: str) -> str:
    """One for each counted status ``status`` holds, as columns in MARKED's order."""
    return ", ".join(f"CASE WHEN {status} = '{m}' THEN 1 ELSE 0 END" for m in MARKED)


def _minus(status: str) -> str:
    return ", ".join(f"{m} = {m} - CASE WHEN {status} = '{m}' THEN 1 ELSE 0 END" for m in MARKED)


COLUMNS = ", ".join(MARKED)
ADDED = ", ".join(f"{m} = attendance_tallies.{m} + excluded.{m}" for m in MARKED)
# the statements, with NEW and OLD of the row that changed
ADD_MARK = (
    f"INSERT INTO attendance_tallies (session_id, kim_id, {COLUMNS}) "
    f"SELECT NEW.session_id, coalesce(kim_id, 0), {_ones('NEW.status')} FROM registrations "
    f"WHERE id = NEW.registration_id AND status = 'terdaftar' AND NEW.{IS_MARKED} "
    f"ON CONFLICT (session_id, kim_id) DO UPDATE SET {ADDED}"
)
TAKE_MARK = (
    f"UPDATE attendance_tallies SET {_minus('OLD.status')} "
    f"WHERE OLD.{IS_MARKED} AND session_id = OLD.session_id AND kim_id = ("
    "SELECT coalesce(kim_id, 0) FROM registrations "
    "WHERE id = OLD.registration_id AND status = 'terdaftar')"
)
# a person's marks leave the tally of their old status and KIM, and join the new one's
MARK_OF_THE_PERSON = (
    "(SELECT a.status FROM attendance a "
    "WHERE a.registration_id = OLD.id AND a.session_id = attendance_tallies.session_id)"
)
TAKE_PERSON = (
    f"UPDATE attendance_tallies SET {_minus(MARK_OF_THE_PERSON)} "
    "WHERE OLD.status = 'terdaftar' AND kim_id = coalesce(OLD.kim_id, 0) AND session_id IN ("
    f"SELECT session_id FROM attendance WHERE registration_id = OLD.id AND {IS_MARKED})"
)
ADD_PERSON = (
    f"INSERT INTO attendance_tallies (session_id, kim_id, {COLUMNS}) "
    f"SELECT session_id, coalesce(NEW.kim_id, 0), {_ones('status')} FROM attendance "
    f"WHERE registration_id = NEW.id AND {IS_MARKED} AND NEW.status = 'terdaftar' "
    f"ON CONFLICT (session_id, kim_id) DO UPDATE SET {ADDED}"
)
MARK_CHANGED = (
    "OLD.status IS DISTINCT FROM NEW.status OR OLD.session_id <> NEW.session_id "
    "OR OLD.registration_id <> NEW.registration_id"
)
PERSON_CHANGED = "OLD.status IS DISTINCT FROM NEW.status OR OLD.kim_id IS DISTINCT FROM NEW.kim_id"
COUNTED = (
    "SELECT a.session_id, coalesce(r.kim_id, 0), "
    + ", ".join(f"sum(CASE WHEN a.status = '{m}' THEN 1 ELSE 0 END)" for m in MARKED)
    + " FROM attendance a JOIN registrations r ON r.id = a.registration_id "
    f"WHERE a.{IS_MARKED} AND r.status = 'terdaftar' "
    "GROUP BY a.session_id, coalesce(r.kim_id, 0)"
)


def _postgresql():
    for name, body in (
        ("kim_tally_mark_added", ADD_MARK),
        ("kim_tally_mark_taken", TAKE_MARK),
        ("kim_tally_mark_changed", f"{TAKE_MARK}; {ADD_MARK}"),
        ("kim_tally_person_changed", f"{TAKE_PERSON}; {ADD_PERSON}"),
    ):
        op.execute(
            f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN {body}; RETURN NULL; END $$"
        )
    op.execute(
        "CREATE TRIGGER tally_mark_added AFTER INSERT ON attendance FOR EACH ROW "
        f"WHEN (NEW.{IS_MARKED}) EXECUTE FUNCTION kim_tally_mark_added()"
    )
    op.execute(
        "CREATE TRIGGER tally_mark_taken AFTER DELETE ON attendance FOR EACH ROW "
        f"WHEN (OLD.{IS_MARKED}) EXECUTE FUNCTION kim_tally_mark_taken()"
    )
    op.execute(
        "CREATE TRIGGER tally_mark_changed AFTER UPDATE OF status, session_id, registration_id "
        f"ON attendance FOR EACH ROW WHEN ({MARK_CHANGED}) "
        "EXECUTE FUNCTION kim_tally_mark_changed()"
    )
    op.execute(
        "CREATE TRIGGER tally_person_changed AFTER UPDATE OF status, kim_id ON registrations "
        f"FOR EACH ROW WHEN ({PERSON_CHANGED}) EXECUTE FUNCTION kim_tally_person_changed()"
    )


def _sqlite():
    changed = lambda text: text.replace("IS DISTINCT FROM", "IS NOT")  # noqa: E731
    for statement in (
        "CREATE TRIGGER tally_mark_added AFTER INSERT ON attendance "
        f"WHEN NEW.{IS_MARKED} BEGIN {ADD_MARK}; END",
        "CREATE TRIGGER tally_mark_taken AFTER DELETE ON attendance "
        f"WHEN OLD.{IS_MARKED} BEGIN {TAKE_MARK}; END",
        "CREATE TRIGGER tally_mark_changed AFTER UPDATE OF status, session_id, registration_id "
        f"ON attendance WHEN {changed(MARK_CHANGED)} BEGIN {TAKE_MARK}; {ADD_MARK}; END",
        "CREATE TRIGGER tally_person_changed AFTER UPDATE OF status, kim_id ON registrations "
        f"WHEN {changed(PERSON_CHANGED)} BEGIN {TAKE_PERSON}; {ADD_PERSON}; END",
    ):
        op.execute(statement)


def upgrade():
    op.create_table(
        'attendance_tallies',
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('kim_id', sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(m, sa.Integer(), nullable=False) for m in MARKED),
        sa.ForeignKeyConstraint(
            ['session_id'],
            ['event_sessions.id'],
            name=op.f('fk_attendance_tallies_session_id_event_sessions'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('session_id', 'kim_id', name=op.f('pk_attendance_tallies')),
    )
    op.create_index(
        'ix_attendance_tallies_kim_session', 'attendance_tallies', ['kim_id', 'session_id']
    )
    op.execute(f"INSERT INTO attendance_tallies (session_id, kim_id, {COLUMNS}) {COUNTED}")
    if op.get_bind().dialect.name == 'postgresql':
        _postgresql()
    else:
        _sqlite()


def downgrade():
    for trigger, table in (
        ('tally_person_changed', 'registrations'),
        ('tally_mark_changed', 'attendance'),
        ('tally_mark_taken', 'attendance'),
        ('tally_mark_added', 'attendance'),
    ):
        if op.get_bind().dialect.name == 'postgresql':
            op.execute(f'DROP TRIGGER IF EXISTS {trigger} ON {table}')
        else:
            op.execute(f'DROP TRIGGER IF EXISTS {trigger}')
    if op.get_bind().dialect.name == 'postgresql':
        for function in (
            'kim_tally_person_changed',
            'kim_tally_mark_changed',
            'kim_tally_mark_taken',
            'kim_tally_mark_added',
        ):
            op.execute(f'DROP FUNCTION IF EXISTS {function}()')
    op.drop_index('ix_attendance_tallies_kim_session', table_name='attendance_tallies')
    op.drop_table('attendance_tallies')
