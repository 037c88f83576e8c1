"""perf: indexes where the staff pages start: visit.window_end (the due board) and
participant (site_id, study_id) (every list of a site in study-id order), which replaces the
index on site_id alone

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 22:00:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_visit_window_end'), 'visit', ['window_end'], unique=False)
    op.create_index(
        'ix_participant_site_id_study_id', 'participant', ['site_id', 'study_id'], unique=False
    )
    op.drop_index(op.f('ix_participant_site_id'), table_name='participant')


def downgrade():
    op.create_index(op.f('ix_participant_site_id'), 'participant', ['site_id'], unique=False)
    op.drop_index('ix_participant_site_id_study_id', table_name='participant')
    op.drop_index(op.f('ix_visit_window_end'), table_name='visit')
