"""issued_qr.modules: the verified symbol, packed, so printing never re-encodes a payload

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 00:10:00

A batch of a market's placards spent most of its time encoding QR symbols it had already encoded and
decoded back when the QR was issued. Existing rows keep '' and are encoded at print time as before.
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("issued_qr") as batch_op:
        batch_op.add_column(sa.Column("modules", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("issued_qr") as batch_op:
        batch_op.drop_column("modules")
