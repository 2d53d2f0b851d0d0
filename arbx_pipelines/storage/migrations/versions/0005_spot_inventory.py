"""spot inventory per venue and coin

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 09:00:00
"""

from alembic import op
import sqlalchemy as sa
import arbx_pipelines.storage.types


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spot_inventory",
        sa.Column("venue", sa.String(length=16), nullable=False),
        sa.Column("coin", sa.String(length=32), nullable=False),
        sa.Column("free", arbx_pipelines.storage.types.Money(precision=38, scale=18), nullable=False),
        sa.Column("observed_at", arbx_pipelines.storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("venue", "coin"),
    )


def downgrade() -> None:
    op.drop_table("spot_inventory")
