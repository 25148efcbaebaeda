"""prepared_files.summary: what the worker's run says when done (an import's counts: new,
updated, unchanged, skipped), shown with the file

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    # a plain ADD COLUMN on both databases (SQLite takes it with its default): no table copy
    op.add_column(
        'prepared_files',
        sa.Column('summary', sa.String(length=500), nullable=False, server_default=''),
    )


def downgrade():
    with op.batch_alter_table('prepared_files') as batch_op:
        batch_op.drop_column('summary')
