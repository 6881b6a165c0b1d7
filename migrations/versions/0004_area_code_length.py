"""province and commune codes up to 20 characters

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 00:20:00

Eight characters fitted official codes (5 digits for a commune) but not the short names staff use as
codes ("HONGGAI", "XA-CAIRONG"); PostgreSQL refused them while SQLite did not check.
"""
from alembic import op
import sqlmodel


revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("province", "commune"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("code", type_=sqlmodel.sql.sqltypes.AutoString(length=20),
                                  existing_type=sqlmodel.sql.sqltypes.AutoString(length=8), existing_nullable=False)


def downgrade() -> None:
    for table in ("province", "commune"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.alter_column("code", type_=sqlmodel.sql.sqltypes.AutoString(length=8),
                                  existing_type=sqlmodel.sql.sqltypes.AutoString(length=20), existing_nullable=False)
