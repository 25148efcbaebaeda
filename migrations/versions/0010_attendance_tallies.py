"""attendance_tallies: hadir marks per session and KIM, kept by triggers, for the dashboard

The dashboard ranked KIM and measured attendance by walking every mark of the area (a regency on
the national data: 5,700 marks, 25 ms; the whole country: seconds). The tallies hold, per session
and KIM (0: people from no KIM), the hadir marks of registered (terdaftar) people. Triggers on
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

# the statements, with NEW and OLD of the row that changed
ADD_MARK = (
    "INSERT INTO attendance_tallies (session_id, kim_id, hadir) "
    "SELECT NEW.session_id, coalesce(kim_id, 0), 1 FROM registrations "
    "WHERE id = NEW.registration_id AND status = 'terdaftar' AND NEW.status = 'hadir' "
    "ON CONFLICT (session_id, kim_id) DO UPDATE SET hadir = attendance_tallies.hadir + 1"
)
TAKE_MARK = (
    "UPDATE attendance_tallies SET hadir = hadir - 1 "
    "WHERE OLD.status = 'hadir' AND session_id = OLD.session_id AND kim_id = ("
    "SELECT coalesce(kim_id, 0) FROM registrations "
    "WHERE id = OLD.registration_id AND status = 'terdaftar')"
)
TAKE_PERSON = (
    "UPDATE attendance_tallies SET hadir = hadir - 1 "
    "WHERE OLD.status = 'terdaftar' AND kim_id = coalesce(OLD.kim_id, 0) AND session_id IN ("
    "SELECT session_id FROM attendance WHERE registration_id = OLD.id AND status = 'hadir')"
)
ADD_PERSON = (
    "INSERT INTO attendance_tallies (session_id, kim_id, hadir) "
    "SELECT session_id, coalesce(NEW.kim_id, 0), 1 FROM attendance "
    "WHERE registration_id = NEW.id AND status = 'hadir' AND NEW.status = 'terdaftar' "
    "ON CONFLICT (session_id, kim_id) DO UPDATE SET hadir = attendance_tallies.hadir + 1"
)
MARK_CHANGED = (
    "OLD.status IS DISTINCT FROM NEW.status OR OLD.session_id <> NEW.session_id "
    "OR OLD.registration_id <> NEW.registration_id"
)
PERSON_CHANGED = "OLD.status IS DISTINCT FROM NEW.status OR OLD.kim_id IS DISTINCT FROM NEW.kim_id"
COUNTED = (
    "SELECT a.session_id, coalesce(r.kim_id, 0), count(*) "
    "FROM attendance a JOIN registrations r ON r.id = a.registration_id "
    "WHERE a.status = 'hadir' AND r.status = 'terdaftar' "
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
        "WHEN (NEW.status = 'hadir') EXECUTE FUNCTION kim_tally_mark_added()"
    )
    op.execute(
        "CREATE TRIGGER tally_mark_taken AFTER DELETE ON attendance FOR EACH ROW "
        "WHEN (OLD.status = 'hadir') EXECUTE FUNCTION kim_tally_mark_taken()"
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
        f"WHEN NEW.status = 'hadir' BEGIN {ADD_MARK}; END",
        "CREATE TRIGGER tally_mark_taken AFTER DELETE ON attendance "
        f"WHEN OLD.status = 'hadir' BEGIN {TAKE_MARK}; END",
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
        sa.Column('hadir', sa.Integer(), nullable=False),
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
    op.execute(f"INSERT INTO attendance_tallies (session_id, kim_id, hadir) {COUNTED}")
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
