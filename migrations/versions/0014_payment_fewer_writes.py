"""a credit writes less: no foreign keys from the per-credit tables to households and accounts

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-24 09:00:00

``payment_event.bank_account_id`` and ``.household_id``, ``household_payment.household_id`` and
``payment_week.household_id`` lose their foreign keys. Each is filled from the account and household that the same
transaction has just looked up (``payment_ingest``), and households and accounts are never deleted (a household
leaves as inactive, an account as replaced), so the checks guarded nothing; they cost most of storing a credit: on
PostgreSQL every check locks the referenced row (FOR KEY SHARE), a write to a random page of a million-row table
for each credit, and each page written again in full to the WAL after a checkpoint.
"""

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# (table, column, referred table): the foreign keys dropped here.
DROPPED = (
    ("payment_event", "bank_account_id", "bankaccount"),
    ("payment_event", "household_id", "household"),
    ("household_payment", "household_id", "household"),
    ("payment_week", "household_id", "household"),
)
# SQLite's foreign keys have no names: batch mode names the reflected ones by this convention to drop them.
SQLITE_NAMES = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}


def _sqlite_name(table: str, column: str, referred: str) -> str:
    return f"fk_{table}_{column}_{referred}"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in dict.fromkeys(t for t, _c, _r in DROPPED):
            with op.batch_alter_table(table, naming_convention=SQLITE_NAMES) as batch:
                for t, column, referred in DROPPED:
                    if t == table:
                        batch.drop_constraint(_sqlite_name(t, column, referred), type_="foreignkey")
        return
    for table, column, _referred in DROPPED:  # PostgreSQL's default names, as migration 0011 created them
        op.drop_constraint(f"{table}_{column}_fkey", table, type_="foreignkey")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for table in dict.fromkeys(t for t, _c, _r in DROPPED):
            with op.batch_alter_table(table) as batch:
                for t, column, referred in DROPPED:
                    if t == table:
                        batch.create_foreign_key(_sqlite_name(t, column, referred), referred, [column], ["id"])
        return
    for table, column, referred in DROPPED:
        op.create_foreign_key(f"{table}_{column}_fkey", table, referred, [column], ["id"])
