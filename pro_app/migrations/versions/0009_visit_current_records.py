"""perf: visit.current_records, how many of a visit's instruments have a current record (the
newest sealed version, not voided), kept by the sealing service; worked out here for the records
already stored

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 04:30:00

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

# The same count as pro_app.services.sealing.current_records(), written out: a migration keeps
# the meaning it had when it was written.
RECOUNT = """
UPDATE visit SET current_records = (
    SELECT count(*) FROM response
    WHERE response.visit_id = visit.id
      AND NOT response.voided
      AND NOT EXISTS (
          SELECT 1 FROM response AS newer
          WHERE newer.visit_id = response.visit_id
            AND newer.instrument_id = response.instrument_id
            AND newer.version > response.version
      )
)
"""


def upgrade():
    with op.batch_alter_table('visit') as batch_op:
        batch_op.add_column(
            sa.Column('current_records', sa.Integer(), server_default='0', nullable=False)
        )
    op.execute(RECOUNT)


def downgrade():
    with op.batch_alter_table('visit') as batch_op:
        batch_op.drop_column('current_records')
