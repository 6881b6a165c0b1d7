"""Tables of payments received: who may send credits (sources), the credits kept, and the tallies reports read.

A credit event keeps the minimum a report needs (account, household, amount, time, provider id, reference): the
transfer text and the payer's name and account are never stored, since they are a third party's personal data
and no figure needs them. Imported at the end of ``merchants.models`` so Alembic and the metadata see them.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from merchants.models import BankAccount, utcnow


class PaymentSource(SQLModel, table=True):
    """A sender of credits: a SePay or Casso webhook, or bank statement files, scoped to some areas.

    ``secret_hash`` is the SHA-256 of a SePay API key (the header carries the key itself, so a hash is enough).
    Casso signs each body with HMAC-SHA512 under the key: verifying needs the key, so ``hmac_key`` keeps it (a
    leaked database means rotating Casso sources; that is why the admin page offers rotation).
    """

    __tablename__ = "payment_source"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=60, unique=True)
    kind: str = Field(max_length=10)  # sepay | casso | statement
    secret_hash: str | None = Field(default=None, max_length=64, unique=True)
    hmac_key: str | None = Field(default=None, max_length=128)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    rotated_at: datetime | None = None
    revoked_at: datetime | None = None
    # Counters shown on the admin page; "today" is the Vietnam day in ``counted_on``, reset on the first event after.
    last_event_at: datetime | None = None
    counted_on: date | None = None
    rejected_today: int = Field(default=0)
    rejected_total: int = Field(default=0)
    unknown_today: int = Field(default=0)
    unknown_total: int = Field(default=0)
    stored_total: int = Field(default=0)


class PaymentSourceScope(SQLModel, table=True):
    """One area a source may credit: exactly one of province, commune or market is set (as ``UserScope``)."""

    __tablename__ = "payment_source_scope"
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="payment_source.id", index=True)
    province_id: int | None = Field(default=None, foreign_key="province.id")
    commune_id: int | None = Field(default=None, foreign_key="commune.id")
    market_id: int | None = Field(default=None, foreign_key="market.id")


class PaymentEvent(SQLModel, table=True):
    """One credit ("in") to a registered account, stored once per (source, provider id): a retry changes nothing."""

    __tablename__ = "payment_event"
    __table_args__ = (
        UniqueConstraint("source_id", "provider_id", name="uq_payment_event_source_provider"),
        Index("ix_payment_event_household_occurred", "household_id", "occurred_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="payment_source.id")
    provider_id: str = Field(max_length=64)
    # The account and household the same transaction looked up; no foreign key (migration 0014 says why).
    bank_account_id: int
    household_id: int
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # whole VND
    occurred_at: datetime  # UTC; no index of its own: reports read the tallies, a household its own events
    reference: str = Field(default="", max_length=64)
    received_at: datetime = Field(default_factory=utcnow)


class HouseholdPayment(SQLModel, table=True):
    """Per household: its first and last credit. Reports count "active" here (one row per household) instead of
    scanning a month of events; written by the same statement that stores each event."""

    __tablename__ = "household_payment"
    # By market alone: the last credit moves with nearly every credit, and an index on it was rewritten each time
    # (migration 0015); a market's zones read its hundred-odd rows and check the time themselves.
    __table_args__ = (Index("ix_household_payment_market", "market_id"),)
    household_id: int = Field(primary_key=True)  # no foreign key, as ``PaymentEvent.household_id``
    market_id: int = Field(foreign_key="market.id")
    first_at: datetime
    last_at: datetime


class PaymentWeek(SQLModel, table=True):
    """A household that received at least once in a week (Vietnam weeks from Monday): the weekly trend counts
    these per market through ``PaymentMarketWeek``; the pair is the guard that counts each household once."""

    __tablename__ = "payment_week"
    household_id: int = Field(primary_key=True)  # no foreign key, as ``PaymentEvent.household_id``
    week: date = Field(primary_key=True)


class PaymentMarketDay(SQLModel, table=True):
    """Households of a market whose last credit fell on this (Vietnam) day, moved along with every new last credit:
    the active households of any area are a sum over its markets' last 30 days, a few hundred thousand small rows
    for a whole country instead of a join of every receiving household."""

    __tablename__ = "payment_market_day"
    # Covering, in market order: an area's sum reads the index alone and groups without sorting (the primary
    # key alone made SQLite look up every row: 750 ms for a country instead of 65 ms).
    __table_args__ = (Index("ix_payment_market_day_market", "market_id", "day", "households"),)
    market_id: int = Field(foreign_key="market.id", primary_key=True)
    day: date = Field(primary_key=True)
    households: int = Field(default=0)


class PaymentMarketWeek(SQLModel, table=True):
    """Households of a market that received at least once in a week: the trend of a country reads these."""

    __tablename__ = "payment_market_week"
    # Covering, by week: the trend reads the last 12 weeks of the index and groups them in order.
    __table_args__ = (Index("ix_payment_market_week_week", "week", "market_id", "households"),)
    market_id: int = Field(foreign_key="market.id", primary_key=True)
    week: date = Field(primary_key=True)
    households: int = Field(default=0)


# Credits name an account by its number alone (the bank only as a name): finding it must not scan every account.
# Declared here, with the table that needs it, for the models' BankAccount (migration 0011 creates it).
Index("ix_bankaccount_account_number", BankAccount.account_number)
