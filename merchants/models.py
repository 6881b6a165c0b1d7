"""Database tables of the registry.

Limits live in ``Field(...)`` so the schema says what the forms and services enforce. Tables hold no
behaviour: the rules are in ``status.py``, ``identity.py``, ``coverage.py`` and the service modules.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Column, ColumnElement, Index, LargeBinary, Text, UniqueConstraint, and_, text
from sqlmodel import Field, SQLModel, col


def utcnow() -> datetime:
    """Timestamps are timezone-aware UTC; pages convert to Vietnam time (UTC+7) when they show them."""
    return datetime.now(UTC)


class Province(SQLModel, table=True):
    """A tỉnh or thành phố, identified by its statistics office code (2 digits: Quảng Ninh is 22)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=80)
    type: str = Field(default="Tỉnh", max_length=20)
    search_text: str = Field(default="", max_length=200)
    # Units that a newer official list no longer has are closed, never deleted: their markets and history stay.
    closed_at: datetime | None = None


class Commune(SQLModel, table=True):
    """A xã, phường or đặc khu: since July 2025 directly under a province; code of 5 digits (Vân Đồn is 06994)."""

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=80)
    type: str = Field(default="Xã", max_length=20)
    search_text: str = Field(default="", max_length=200)
    province_id: int = Field(foreign_key="province.id", index=True)
    closed_at: datetime | None = None


class AreaRename(SQLModel, table=True):
    """A unit's former name, kept when a newer official list renames or moves it."""

    __tablename__ = "area_rename"
    id: int | None = Field(default=None, primary_key=True)
    level: str = Field(max_length=10)  # province | commune
    code: str = Field(max_length=20, index=True)
    old_name: str = Field(max_length=80)
    new_name: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow)
    user_id: int | None = Field(default=None, foreign_key="user.id")


class Market(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=20, unique=True)
    name: str = Field(max_length=120)
    commune_id: int = Field(foreign_key="commune.id", index=True)
    legacy_district: str | None = Field(default=None, max_length=80)
    address: str | None = Field(default=None, max_length=200)
    is_demo: bool = Field(default=False)
    # None: the programme's default target (programme_settings).
    target_percent: int | None = Field(default=None, ge=1, le=100)
    target_date: date | None = None
    closed_at: datetime | None = None
    version: int = Field(default=1)


class Stall(SQLModel, table=True):
    """A sạp or ki-ốt; at most one household trades at it, a household may hold several."""

    __table_args__ = (UniqueConstraint("market_id", "code"),)
    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="market.id", index=True)
    code: str = Field(max_length=20)
    zone: str = Field(default="", max_length=40)
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    # A closed stall takes no new household; one that ever held a household is closed, never deleted.
    closed_at: datetime | None = None


# The register form's free stalls, zone by zone (counted per zone, then a page of codes): read from this partial
# index alone, so the form costs the same at a 2,000-stall market as at a 40-stall one (migration 0016).
FREE_STALL_CONDITION = "household_id IS NULL AND closed_at IS NULL"
Index(
    "ix_stall_free_by_zone",
    Stall.market_id,
    Stall.zone,
    Stall.code,
    sqlite_where=text(FREE_STALL_CONDITION),
    postgresql_where=text(FREE_STALL_CONDITION),
)

STALL_STATES = ("free", "occupied", "closed")


def stall_in_state(state: str) -> ColumnElement[bool]:
    """A stall's state as a SQL condition, the one definition every list, count and form reads: closed once
    ``closed_at`` is set; otherwise occupied while it holds a household and free while it holds none."""
    if state not in STALL_STATES:
        raise ValueError(f"unknown stall state {state!r}")
    if state == "closed":
        return col(Stall.closed_at).is_not(None)
    held = col(Stall.household_id).is_not(None) if state == "occupied" else col(Stall.household_id).is_(None)
    return and_(col(Stall.closed_at).is_(None), held)


class ProgrammeSettings(SQLModel, table=True):
    """The programme's own settings, one row (id 1), edited by its administrators."""

    __tablename__ = "programme_settings"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(default="Chợ 4.0", max_length=120)
    target_percent: int = Field(default=100, ge=1, le=100)
    target_date: date | None = None
    version: int = Field(default=1)
    updated_at: datetime = Field(default_factory=utcnow)


class Household(SQLModel, table=True):
    """A hộ kinh doanh: its owner (chủ hộ), where it trades and how far it is in onboarding."""

    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="market.id", index=True)
    owner_name: str = Field(max_length=100)
    search_text: str = Field(default="", max_length=400)
    phone: str | None = Field(default=None, max_length=16)
    citizen_id: str | None = Field(default=None, max_length=12, unique=True)
    goods: str = Field(default="", max_length=120)
    status: str = Field(default="registered", max_length=20, index=True)
    active: bool = Field(default=True)
    needs_reprint: bool = Field(default=False)
    qr_issued_on: date | None = Field(default=None, index=True)
    version: int = Field(default=1)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow)


Index("ix_household_market_status", Household.market_id, Household.active, Household.status)
# The weekly trend's partial index (migration 0002); declared here so autogenerate keeps it.
Index(
    "ix_household_covered_on",
    Household.qr_issued_on,
    sqlite_where=text(
        "active = 1 AND status IN ('qr_issued', 'placard_printed', 'placard_verified') AND qr_issued_on IS NOT NULL"
    ),
    postgresql_where=text(
        "active AND status IN ('qr_issued', 'placard_printed', 'placard_verified') AND qr_issued_on IS NOT NULL"
    ),
)


class MarketStatusCount(SQLModel, table=True):
    """Active households per market and status, kept by database triggers (migration 0005) on every insert,
    update and delete of a household, whichever code path writes it: coverage for a whole country reads
    tens of thousands of these rows instead of a million households."""

    __tablename__ = "market_status_count"
    market_id: int = Field(foreign_key="market.id", primary_key=True)
    status: str = Field(max_length=20, primary_key=True)
    n: int = Field(default=0)


class BankAccount(SQLModel, table=True):
    """A household's account; only one is active, the old ones stay as history."""

    __table_args__ = (
        Index(
            "uq_bank_account_active",
            "bin",
            "account_number",
            unique=True,
            sqlite_where=text("active = 1"),
            postgresql_where=text("active"),
        ),
    )
    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    bin: str = Field(max_length=6)
    account_number: str = Field(max_length=19)
    holder_name: str = Field(max_length=100)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    closed_at: datetime | None = None
    closed_reason: str | None = Field(default=None, max_length=300)


class IssuedQR(SQLModel, table=True):
    """A payload we issued; it counts only once an independent decoder read it back identically."""

    __tablename__ = "issued_qr"
    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    bank_account_id: int = Field(foreign_key="bankaccount.id")
    payload: str = Field(max_length=512)
    # The decoded-back symbol, packed (qr.pack_matrix): printing draws it without encoding again.
    modules: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    issued_at: datetime = Field(default_factory=utcnow)
    issued_by_id: int | None = Field(default=None, foreign_key="user.id")
    revoked_at: datetime | None = None


class PrintBatch(SQLModel, table=True):
    """A market's placards rendered by the job queue: queued → running → done or failed (with its reason).

    The row holds everything a worker needs, so a batch whose worker died is picked up again from here alone.
    """

    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="market.id", index=True)
    layout: str = Field(max_length=10)
    selection: str = Field(max_length=200)
    status: str = Field(default="queued", max_length=10)
    total: int = 0
    done: int = 0  # placards in the chunks rendered so far; a resumed batch continues after them
    error: str | None = Field(default=None, max_length=300)
    # The same reason as data (JSON of its template and params, ``errors.Phrase``), said in the reader's language.
    error_data: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    # The exact stalls chosen when the batch was queued (a JSON list of codes): a retry prints these, no others.
    stall_codes: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    # Written with every committed chunk; a running batch whose heartbeat is old lost its worker.
    heartbeat_at: datetime | None = None
    worker: str | None = Field(default=None, max_length=80)  # host:pid of the process rendering it
    attempts: int = Field(default=0)  # runs started; a batch whose worker died this often fails with the reason


class Placard(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    serial: str = Field(max_length=32, unique=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    stall_id: int = Field(foreign_key="stall.id", index=True)
    qr_id: int = Field(foreign_key="issued_qr.id")
    batch_id: int | None = Field(default=None, foreign_key="printbatch.id", index=True)
    printed_at: datetime = Field(default_factory=utcnow)
    printed_by_id: int | None = Field(default=None, foreign_key="user.id")
    revoked_at: datetime | None = None


class PlacardCheck(SQLModel, table=True):
    """One verification of a placard in the market: what was scanned and what it matched."""

    id: int | None = Field(default=None, primary_key=True)
    stall_id: int = Field(foreign_key="stall.id", index=True)
    placard_id: int | None = Field(default=None, foreign_key="placard.id")
    result: str = Field(max_length=20)
    payload: str = Field(default="", max_length=512)
    checked_at: datetime = Field(default_factory=utcnow)
    checked_by_id: int | None = Field(default=None, foreign_key="user.id")


class StatusEvent(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    status: str = Field(max_length=20)
    at: datetime = Field(default_factory=utcnow)
    user_id: int | None = Field(default=None, foreign_key="user.id")


class AuditLog(SQLModel, table=True):
    """Append-only: database triggers refuse UPDATE and DELETE (see the migrations)."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    action: str = Field(max_length=40)
    household_id: int | None = Field(default=None, foreign_key="household.id", index=True)
    # What a set-up action touched, e.g. "market:CAIRONG", "user:canbo.x", "commune:06994", "settings".
    subject: str = Field(default="", max_length=80, index=True)
    source_ip: str | None = Field(default=None, max_length=45)
    detail: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True)
    full_name: str = Field(max_length=100)
    password_hash: str = Field(max_length=200)
    role: str = Field(max_length=20)
    active: bool = Field(default=True)
    locale: str = Field(default="vi", max_length=5)
    session_version: int = Field(default=1)  # unused since sessions are rows (user_session, migration 0009)
    created_at: datetime = Field(default_factory=utcnow)
    version: int = Field(default=1)


class UserScope(SQLModel, table=True):
    """One area a user serves: exactly one of province, commune or market is set."""

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    province_id: int | None = Field(default=None, foreign_key="province.id")
    commune_id: int | None = Field(default=None, foreign_key="commune.id")
    market_id: int | None = Field(default=None, foreign_key="market.id")


class ApiToken(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    label: str = Field(max_length=80)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class PasswordLink(SQLModel, table=True):
    """A one-time set-password link an administrator hands to a user; only its hash is stored."""

    __tablename__ = "password_link"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    created_by_id: int | None = Field(default=None, foreign_key="user.id")
    expires_at: datetime
    used_at: datetime | None = None


class UserSession(SQLModel, table=True):
    """A signed-in browser: the cookie holds only a random id whose hash is stored here, so signing out,
    disabling or a new password ends it for good (a copied cookie is worth nothing once its row has ended)."""

    __tablename__ = "user_session"
    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)  # written at most once a minute
    ip: str | None = Field(default=None, max_length=45)
    user_agent: str = Field(default="", max_length=120)
    ended_at: datetime | None = None
    end_reason: str | None = Field(default=None, max_length=20)  # signed_out, disabled, password, idle, expired


class RegistrationRequest(SQLModel, table=True):
    """A registration as a client sent it, by the id the tablet made: a retry finds its answer here instead of
    registering the household twice, and a different body under a known id is refused (nothing changes)."""

    __tablename__ = "registration_request"
    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=36, unique=True)  # a UUID, lower-case, as the tablet made it
    user_id: int = Field(foreign_key="user.id", index=True)
    content_hash: str = Field(max_length=64)  # SHA-256 of the canonical body: what "the same content" means
    household_id: int = Field(foreign_key="household.id", index=True)
    captured_at: datetime | None = None  # when the officer saved it on the tablet, as the tablet says
    received_at: datetime = Field(default_factory=utcnow)


class ImportJob(SQLModel, table=True):
    """A household list too long to check within a request, imported by the job queue: queued → running → done
    or failed (with its reason). The row holds the uploaded file until the job ends, so a job whose worker died is
    simply run again: rows an earlier attempt stored are then skipped as already registered."""

    __tablename__ = "import_job"
    id: int | None = Field(default=None, primary_key=True)
    market_id: int = Field(foreign_key="market.id", index=True)
    created_by_id: int = Field(foreign_key="user.id")
    filename: str = Field(default="", max_length=200)
    sheet: str | None = Field(default=None, max_length=100)
    dry_run: bool = Field(default=False)
    all_or_nothing: bool = Field(default=False)
    data: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))  # emptied when the job ends
    status: str = Field(default="queued", max_length=10)
    stage: str = Field(default="", max_length=20)  # checking, verifying, storing: what the progress bar shows
    done: int = 0
    total: int = 0
    error: str | None = Field(default=None, max_length=300)
    error_data: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))  # as PrintBatch
    report: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))  # JSON, when done
    created_at: datetime = Field(default_factory=utcnow)
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None
    attempts: int = Field(default=0)


class LoginAttempt(SQLModel, table=True):
    """One sign-in attempt, kept for a day: failures counted per account, per account and address, and per
    address decide throttling in every worker alike (an in-memory counter would give each worker its own)."""

    __tablename__ = "login_attempt"
    __table_args__ = (
        Index("ix_login_attempt_username_at", "username", "at"),
        Index("ix_login_attempt_ip_at", "ip", "at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    username: str = Field(max_length=80)  # as typed, folded to lowercase: also names that do not exist
    ip: str = Field(default="", max_length=45)
    success: bool = Field(default=False)


from merchants import payment_models as _payment_models  # noqa: E402, F401 - registers the payments tables
