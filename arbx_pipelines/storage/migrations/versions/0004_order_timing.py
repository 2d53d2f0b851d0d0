"""order send and acknowledgement times

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 11:00:00
"""

from alembic import op
import sqlalchemy as sa
import arbx_pipelines.storage.types


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_at", arbx_pipelines.storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("acknowledged_at", arbx_pipelines.storage.types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("sent_at")
