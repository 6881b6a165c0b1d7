"""coverage indexes: a partial index for the weekly trend of covered households

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 23:55:00

The country and province trend counts active households with an issued QR per qr_issued_on day. Without
this index SQLite walks ix_household_qr_issued_on and reads every row (about 4 s for 1,000,000 households);
with it both SQLite and PostgreSQL count index entries only (bench/bench_coverage.py). The statuses are
listed in the order merchants.services.reports.COVERED_IN_ORDER inlines them: SQLite uses a partial index
only when the query repeats its WHERE terms.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

COVERED = "status IN ('qr_issued', 'placard_printed', 'placard_verified') AND qr_issued_on IS NOT NULL"


def upgrade() -> None:
    op.create_index("ix_household_covered_on", "household", ["qr_issued_on"],
                    sqlite_where=sa.text(f"active = 1 AND {COVERED}"), postgresql_where=sa.text(f"active AND {COVERED}"))


def downgrade() -> None:
    op.drop_index("ix_household_covered_on", table_name="household")
