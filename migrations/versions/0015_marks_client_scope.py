"""attendance marks: a client id is known per session, not across the whole system (an id
reused for another person in the session is refused visibly, never dropped as a replay)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_marks', schema=None) as batch_op:
        batch_op.drop_constraint('uq_attendance_marks_client_id', type_='unique')
        batch_op.create_unique_constraint(
            'uq_attendance_marks_client', ['session_id', 'client_id']
        )


def downgrade():
    with op.batch_alter_table('attendance_marks', schema=None) as batch_op:
        batch_op.drop_constraint('uq_attendance_marks_client', type_='unique')
        batch_op.create_unique_constraint('uq_attendance_marks_client_id', ['client_id'])
