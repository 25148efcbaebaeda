"""evaluation (issue 25): the question set of a training's pre- and post-test, each person's
attempt and answers (kept as given), the satisfaction survey's responses and who has answered,
and the settings that open them

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evaluation_questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('answer', sa.Integer(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_evaluation_questions_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluation_questions'))
    )
    with op.batch_alter_table('evaluation_questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluation_questions_event_id'), ['event_id'], unique=False)

    op.create_table('evaluation_settings',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('pre_opens_at', sa.DateTime(), nullable=True),
    sa.Column('pre_closes_at', sa.DateTime(), nullable=True),
    sa.Column('post_opens_at', sa.DateTime(), nullable=True),
    sa.Column('post_closes_at', sa.DateTime(), nullable=True),
    sa.Column('survey_on', sa.Boolean(), nullable=False),
    sa.Column('survey_anonymous', sa.Boolean(), nullable=False),
    sa.Column('survey_questions', sa.JSON(), nullable=False),
    sa.Column('certificate_needs_post', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_evaluation_settings_event_id_events'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('event_id', name=op.f('pk_evaluation_settings'))
    )
    op.create_table('survey_responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=True),
    sa.Column('persyaratan', sa.SmallInteger(), nullable=True),
    sa.Column('prosedur', sa.SmallInteger(), nullable=True),
    sa.Column('waktu', sa.SmallInteger(), nullable=True),
    sa.Column('biaya', sa.SmallInteger(), nullable=True),
    sa.Column('produk', sa.SmallInteger(), nullable=True),
    sa.Column('kompetensi', sa.SmallInteger(), nullable=True),
    sa.Column('perilaku', sa.SmallInteger(), nullable=True),
    sa.Column('pengaduan', sa.SmallInteger(), nullable=True),
    sa.Column('sarana', sa.SmallInteger(), nullable=True),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_survey_responses_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_survey_responses_registration_id_registrations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('event_id', 'registration_id', name=op.f('uq_survey_responses_event_id'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_responses_event_id'), ['event_id'], unique=False)

    op.create_table('survey_takers',
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_survey_takers_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_survey_takers_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('registration_id', name=op.f('pk_survey_takers'))
    )
    with op.batch_alter_table('survey_takers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_takers_event_id'), ['event_id'], unique=False)

    op.create_table('test_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('registration_id', sa.Integer(), nullable=False),
    sa.Column('phase', sa.Enum('pre', 'post', name='phase', native_enum=False), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('correct', sa.Integer(), nullable=True),
    sa.Column('total', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_test_attempts_event_id_events'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['registration_id'], ['registrations.id'], name=op.f('fk_test_attempts_registration_id_registrations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_test_attempts')),
    sa.UniqueConstraint('registration_id', 'phase', name=op.f('uq_test_attempts_registration_id'))
    )
    with op.batch_alter_table('test_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_attempts_event_id'), ['event_id'], unique=False)

    op.create_table('test_answers',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('choice', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['attempt_id'], ['test_attempts.id'], name=op.f('fk_test_answers_attempt_id_test_attempts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['evaluation_questions.id'], name=op.f('fk_test_answers_question_id_evaluation_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('attempt_id', 'question_id', name=op.f('pk_test_answers'))
    )
    with op.batch_alter_table('test_answers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_test_answers_question_id'), ['question_id'], unique=False)



def downgrade():
    with op.batch_alter_table('test_answers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_answers_question_id'))

    op.drop_table('test_answers')
    with op.batch_alter_table('test_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_test_attempts_event_id'))

    op.drop_table('test_attempts')
    with op.batch_alter_table('survey_takers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_takers_event_id'))

    op.drop_table('survey_takers')
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_responses_event_id'))

    op.drop_table('survey_responses')
    op.drop_table('evaluation_settings')
    with op.batch_alter_table('evaluation_questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluation_questions_event_id'))

    op.drop_table('evaluation_questions')
