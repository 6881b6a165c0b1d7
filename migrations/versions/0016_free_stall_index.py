"""free stalls indexed by market, zone and code

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 19:30:00

The register form lists a market's free stalls a zone at a time: a count per zone, then a page of codes. Both
scanned every stall of the market (0.6-0.8 ms at 2,000 stalls against 0.03 ms at 40); this partial index holds
only the free ones, in the order the form shows them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

FREE = "household_id IS NULL AND closed_at IS NULL"


def upgrade() -> None:
    op.create_index(
        "ix_stall_free_by_zone",
        "stall",
        ["market_id", "zone", "code"],
        sqlite_where=sa.text(FREE),
        postgresql_where=sa.text(FREE),
    )


def downgrade() -> None:
    op.drop_index("ix_stall_free_by_zone", table_name="stall")
