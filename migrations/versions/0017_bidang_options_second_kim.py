"""KIM registry: fields of activity kept per province and regency beside the national list, and
an operator's reason for allowing a second KIM in one village

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

REGION_CODE = sa.String(13).with_variant(sa.String(13, collation="C"), "postgresql")


def upgrade():
    op.create_table(
        'bidang_options',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('area_code', REGION_CODE, nullable=False),
        sa.Column('key', sa.String(length=24), nullable=False),
        sa.Column('label', sa.String(length=80), nullable=False),
        sa.Column('label_en', sa.String(length=80), nullable=False),
        sa.Column('retired', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['area_code'], ['regions.code'], name=op.f('fk_bidang_options_area_code_regions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bidang_options')),
        sa.UniqueConstraint('key', name=op.f('uq_bidang_options_key')),
    )
    op.create_index(op.f('ix_bidang_options_area_code'), 'bidang_options', ['area_code'])
    with op.batch_alter_table('kims', schema=None) as batch_op:
        batch_op.add_column(sa.Column('second_allowed_note', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('kims', schema=None) as batch_op:
        batch_op.drop_column('second_allowed_note')
    op.drop_index(op.f('ix_bidang_options_area_code'), table_name='bidang_options')
    op.drop_table('bidang_options')
