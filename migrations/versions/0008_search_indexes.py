"""search indexes: trigram indexes for the public directory (PostgreSQL)

The directory finds KIM whose name, or whose village's name, contains every word asked. On
PostgreSQL the pg_trgm extension's GIN indexes answer such ``LIKE '%word%'`` conditions without
reading all 83,762 KIM; SQLite (one regency) reads its few hundred KIM.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # pg_trgm is a trusted extension: the database's owner may create it
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.execute(
            'CREATE INDEX ix_kims_name_key_trgm ON kims USING gin (name_key gin_trgm_ops)'
        )
        op.execute(
            'CREATE INDEX ix_regions_name_trgm ON regions USING gin (lower(name) gin_trgm_ops)'
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_regions_name_trgm')
        op.execute('DROP INDEX IF EXISTS ix_kims_name_key_trgm')
