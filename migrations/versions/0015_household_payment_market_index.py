"""household_payment indexed by market alone

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-24 10:00:00

``ix_household_payment_market_last`` (market_id, last_at) becomes ``ix_household_payment_market`` (market_id): a
household's last credit moves with nearly every credit, and each move rewrote its entry in the index (a random
B-tree write per credit on SQLite; on PostgreSQL an update that could never stay on its page's HOT chain). What
reads it, a market's active households per zone, finds the market's hundred-odd rows by market and checks their
last credit itself.
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_household_payment_market_last", table_name="household_payment")
    op.create_index("ix_household_payment_market", "household_payment", ["market_id"])


def downgrade() -> None:
    op.drop_index("ix_household_payment_market", table_name="household_payment")
    op.create_index("ix_household_payment_market_last", "household_payment", ["market_id", "last_at"])
