"""notices.region_code may be empty: a notice to an account about something of the whole
country (an admin's file made by the worker), which no area's outbox lists

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None

REGION_CODE = sa.String(13).with_variant(sa.String(13, collation="C"), "postgresql")


def upgrade():
    # SQLite copies the table (it cannot drop NOT NULL in place); PostgreSQL alters the column
    with op.batch_alter_table('notices') as batch_op:
        batch_op.alter_column('region_code', existing_type=REGION_CODE, nullable=True)


def downgrade():
    op.execute("DELETE FROM notices WHERE region_code IS NULL")
    with op.batch_alter_table('notices') as batch_op:
        batch_op.alter_column('region_code', existing_type=REGION_CODE, nullable=False)
