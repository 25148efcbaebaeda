"""monev (issue 26): each verified KIM's figures of a year for monitoring (accepted reports,
relays, reach, attendance marks, certificates, members, data completeness, last activity, its
score and level), the sums of every area (country, province, regency, district) a monev page
reads, and the weights an area gives the parts of its score

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('monev_areas',
    sa.Column('area_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('depth', sa.Integer(), nullable=False),
    sa.Column('kims', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Float(), nullable=False),
    sa.Column('sangat_aktif', sa.Integer(), nullable=False),
    sa.Column('aktif', sa.Integer(), nullable=False),
    sa.Column('kurang_aktif', sa.Integer(), nullable=False),
    sa.Column('tidak_aktif', sa.Integer(), nullable=False),
    sa.Column('idle_1', sa.Integer(), nullable=False),
    sa.Column('idle_2', sa.Integer(), nullable=False),
    sa.Column('idle_3', sa.Integer(), nullable=False),
    sa.Column('idle_6', sa.Integer(), nullable=False),
    sa.Column('idle_12', sa.Integer(), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('relays', sa.Integer(), nullable=False),
    sa.Column('reach', sa.Integer(), nullable=False),
    sa.Column('hadir', sa.Integer(), nullable=False),
    sa.Column('certificates', sa.Integer(), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('area_code', 'year', name=op.f('pk_monev_areas'))
    )
    with op.batch_alter_table('monev_areas', schema=None) as batch_op:
        batch_op.create_index('ix_monev_areas_year_depth_area', ['year', 'depth', 'area_code'], unique=False)

    op.create_table('monev_weights',
    sa.Column('area_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('relays', sa.Integer(), nullable=False),
    sa.Column('hadir', sa.Integer(), nullable=False),
    sa.Column('certificates', sa.Integer(), nullable=False),
    sa.Column('data', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], name=op.f('fk_monev_weights_updated_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('area_code', name=op.f('pk_monev_weights'))
    )
    op.create_table('monev_tallies',
    sa.Column('kim_id', sa.Integer(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('village_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=False),
    sa.Column('reports', sa.Integer(), nullable=False),
    sa.Column('relays', sa.Integer(), nullable=False),
    sa.Column('reach', sa.Integer(), nullable=False),
    sa.Column('hadir', sa.Integer(), nullable=False),
    sa.Column('certificates', sa.Integer(), nullable=False),
    sa.Column('members', sa.Integer(), nullable=False),
    sa.Column('completeness', sa.Integer(), nullable=False),
    sa.Column('last_active', sa.Date(), nullable=True),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('refreshed_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['kim_id'], ['kims.id'], name=op.f('fk_monev_tallies_kim_id_kims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('kim_id', 'year', name=op.f('pk_monev_tallies'))
    )
    with op.batch_alter_table('monev_tallies', schema=None) as batch_op:
        batch_op.create_index('ix_monev_tallies_year_area', ['year', 'village_code'], unique=False)
        batch_op.create_index('ix_monev_tallies_year_last', ['year', 'last_active', 'kim_id'], unique=False)
        batch_op.create_index('ix_monev_tallies_year_score', ['year', 'score', 'kim_id'], unique=False)



def downgrade():
    with op.batch_alter_table('monev_tallies', schema=None) as batch_op:
        batch_op.drop_index('ix_monev_tallies_year_score')
        batch_op.drop_index('ix_monev_tallies_year_last')
        batch_op.drop_index('ix_monev_tallies_year_area')

    op.drop_table('monev_tallies')
    op.drop_table('monev_weights')
    with op.batch_alter_table('monev_areas', schema=None) as batch_op:
        batch_op.drop_index('ix_monev_areas_year_depth_area')

    op.drop_table('monev_areas')
