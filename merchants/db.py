"""The one place that builds the engine, runs migrations and hands out sessions.

A request gets one session per app context, closed on teardown. Background work and CLI commands use
``session_scope``. Only services commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Engine, event
from sqlmodel import Session, create_engine

ROOT = Path(__file__).resolve().parent.parent
MIGRATIONS = ROOT / "migrations"


def make_engine(url: str) -> Engine:
    """An engine with foreign keys enforced on SQLite too (it ignores them unless asked)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001 - DB-API objects are untyped
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # 64 MiB of page cache (SQLite's default is 2 MiB): a 100,000-row statement import into a registry of a
            # million households spent most of its time re-reading index pages (23 s -> 9 s for 20,000 rows).
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)


def upgrade(url: str) -> None:
    """Bring the schema at ``url`` to the newest Alembic revision."""
    from alembic import command

    command.upgrade(_alembic_config(url), "head")


def _alembic_config(url: str):  # noqa: ANN202 - alembic's Config
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@cache
def head_revision() -> str | None:
    """The newest migration shipped with this code. Read once per process: parsing the migration scripts costs
    ~15 ms, and they only change with a new release, which restarts the processes."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config("sqlite://")).get_current_head()


def schema_is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration (an old one would fail in obscure ways)."""
    from alembic.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision() == head_revision()


def init_app(app: Flask) -> None:
    app.extensions["choqr.engine"] = make_engine(app.config["DATABASE_URL"])
    app.teardown_appcontext(_close_session)
    app.before_request(_require_current_schema)


def _require_current_schema():  # noqa: ANN202 - a response or None
    """Answer 503 with the fix until the schema is current; checked once per process, then remembered."""
    state = current_app.extensions.setdefault("choqr.schema_ok", {})
    if not state.get("ok"):
        state["ok"] = schema_is_current(get_engine())
        if not state["ok"]:
            return (
                "Cơ sở dữ liệu chưa được tạo hoặc cần nâng cấp: hãy chạy `choqr init-db`.\n"
                "The database is missing or out of date: run `choqr init-db`.\n",
                503,
                {"Content-Type": "text/plain; charset=utf-8"},
            )
    return None


def get_engine() -> Engine:
    return current_app.extensions["choqr.engine"]


def get_session() -> Session:
    """The session of this app context, opened on first use."""
    if "db_session" not in g:
        g.db_session = Session(get_engine(), expire_on_commit=False)
    return g.db_session


def _close_session(_exc: BaseException | None = None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session for work outside a request (CLI, background batches); closed at the end."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
