"""competitions (issue 27): a competition of an area with its stages, its categories and each
category's rubric (criteria with weights and score ranges), and the KIM's entries with the
committee's administrative check

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-08

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('competitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('area_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=3000), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=False),
    sa.Column('closes_on', sa.Date(), nullable=False),
    sa.Column('nominated_only', sa.Boolean(), nullable=False),
    sa.Column('presentation', sa.Boolean(), nullable=False),
    sa.Column('stage', sa.Enum('draf', 'pendaftaran', 'administrasi', 'penjurian', 'presentasi', 'hasil', name='stage', native_enum=False, length=16), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_competitions_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competitions')),
    sa.UniqueConstraint('code', name=op.f('uq_competitions_code'))
    )
    with op.batch_alter_table('competitions', schema=None) as batch_op:
        batch_op.create_index('ix_competitions_area_year', ['area_code', 'year'], unique=False)

    op.create_table('competition_categories',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('description', sa.String(length=1000), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_competition_categories_competition_id_competitions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competition_categories'))
    )
    with op.batch_alter_table('competition_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competition_categories_competition_id'), ['competition_id'], unique=False)

    op.create_table('competition_criteria',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('weight', sa.Integer(), nullable=False),
    sa.Column('lowest', sa.Integer(), nullable=False),
    sa.Column('highest', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['competition_categories.id'], name=op.f('fk_competition_criteria_category_id_competition_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competition_criteria'))
    )
    with op.batch_alter_table('competition_criteria', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competition_criteria_category_id'), ['category_id'], unique=False)

    op.create_table('competition_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('competition_id', sa.Integer(), nullable=False),
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('kim_id', sa.Integer(), nullable=False),
    sa.Column('village_code', sa.String(length=13).with_variant(sa.String(length=13, collation='C'), 'postgresql'), nullable=False),
    sa.Column('status', sa.Enum('draf', 'dikirim', 'perlu_perbaikan', 'lolos', 'tidak_lolos', name='entrystatus', native_enum=False, length=16), nullable=False),
    sa.Column('summary', sa.String(length=3000), nullable=False),
    sa.Column('links', sa.String(length=1600), nullable=False),
    sa.Column('reports', sa.String(length=200), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['competition_categories.id'], name=op.f('fk_competition_entries_category_id_competition_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_competition_entries_checked_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['competition_id'], ['competitions.id'], name=op.f('fk_competition_entries_competition_id_competitions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_competition_entries_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['kim_id'], ['kims.id'], name=op.f('fk_competition_entries_kim_id_kims'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_competition_entries')),
    sa.UniqueConstraint('category_id', 'kim_id', name=op.f('uq_competition_entries_category_id'))
    )
    with op.batch_alter_table('competition_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_competition_entries_competition_id'), ['competition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_competition_entries_kim_id'), ['kim_id'], unique=False)



def downgrade():
    with op.batch_alter_table('competition_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competition_entries_kim_id'))
        batch_op.drop_index(batch_op.f('ix_competition_entries_competition_id'))

    op.drop_table('competition_entries')
    with op.batch_alter_table('competition_criteria', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competition_criteria_category_id'))

    op.drop_table('competition_criteria')
    with op.batch_alter_table('competition_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_competition_categories_competition_id'))

    op.drop_table('competition_categories')
    with op.batch_alter_table('competitions', schema=None) as batch_op:
        batch_op.drop_index('ix_competitions_area_year')

    op.drop_table('competitions')
