"""speaker ratings (issue 25): the satisfaction survey may ask participants to rate each speaker
(evaluation_settings.rate_speakers); a rating belongs to its response, as anonymous as it

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0026'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('speaker_ratings',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('speaker_id', sa.Integer(), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.ForeignKeyConstraint(['response_id'], ['survey_responses.id'], name=op.f('fk_speaker_ratings_response_id_survey_responses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['speaker_id'], ['event_speakers.id'], name=op.f('fk_speaker_ratings_speaker_id_event_speakers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('response_id', 'speaker_id', name=op.f('pk_speaker_ratings'))
    )
    with op.batch_alter_table('speaker_ratings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_speaker_ratings_speaker_id'), ['speaker_id'], unique=False)

    # a plain ADD COLUMN on both databases (false on PostgreSQL, 0 on SQLite): no table copy
    op.add_column(
        'evaluation_settings',
        sa.Column('rate_speakers', sa.Boolean(), server_default=sa.false(), nullable=False),
    )



def downgrade():
    with op.batch_alter_table('evaluation_settings', schema=None) as batch_op:
        batch_op.drop_column('rate_speakers')

    with op.batch_alter_table('speaker_ratings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_speaker_ratings_speaker_id'))

    op.drop_table('speaker_ratings')
