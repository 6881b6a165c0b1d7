"""Shared fixtures: an app on a fresh migrated database per test (SQLite, or PostgreSQL via TEST_DATABASE_URL)."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from factories import CHEAP_HASHING
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import make_url, text
from sqlmodel import Session, SQLModel

from app import create_app
from merchants import db, passwords

PG_URL = os.environ.get("TEST_DATABASE_URL", "")

# Test databases and batch folders go to RAM when the machine has /dev/shm (pytest's documented temporary root,
# read before any worker starts): tests commit thousands of times, and each commit waits for an fsync, ~5 ms on
# this machine's disk and nothing on tmpfs. SQLite itself runs exactly as in production.
if "PYTEST_DEBUG_TEMPROOT" not in os.environ and Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
    os.environ["PYTEST_DEBUG_TEMPROOT"] = "/dev/shm"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each test: migrations run once, tests stay isolated."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    db.upgrade(f"sqlite:///{path}")
    return path


def _worker_database(url: str) -> str:
    """Under xdist each worker gets its own PostgreSQL database (``<name>_gw0``, …), created when missing, so the
    PostgreSQL run uses both cores like the SQLite one; without xdist the named database itself. The URL's query
    (connection options such as ``options=-csynchronous_commit=off``) is kept."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    mine = f"{parsed.database}_{worker}"
    admin = db.make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    with admin.execution_options(isolation_level="AUTOCOMMIT").connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": mine}).first() is None:
            conn.execute(text(f'CREATE DATABASE "{mine}"'))
    admin.dispose()
    return parsed.set(database=mine).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_ready() -> str:
    url = _worker_database(PG_URL)
    engine = db.make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    db.upgrade(url)
    return url


def _truncate_pg(url: str) -> None:
    engine = db.make_engine(url)
    names = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        # The audit log refuses TRUNCATE by trigger (as it must in production); a test database between tests
        # is the one place to empty it, with triggers off for this transaction only (superuser on the CI server).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if PG_URL:
        url = request.getfixturevalue("pg_ready")
        yield url
        _truncate_pg(url)
    else:
        template = request.getfixturevalue("sqlite_template")
        target = tmp_path / "choqr.db"
        shutil.copy(template, target)
        yield f"sqlite:///{target}"


APP_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "JOBS_IMMEDIATE": True,
    **CHEAP_HASHING,
}
# What create_app derives from the database or the batch folder, built again for each test's own database.
PER_DATABASE = ("choqr.engine", "choqr.jobs", "choqr.schema_ok")


@pytest.fixture(scope="session")
def worker_app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """One app per test process: building one costs ~50 ms (its routes compile), paid once instead of per test.
    Each test still gets its own database and batch folder (see ``app``)."""
    unused = tmp_path_factory.mktemp("app")
    return create_app({**APP_CONFIG, "DATABASE_URL": f"sqlite:///{unused / 'unused.db'}", "BATCH_DIR": str(unused)})


@pytest.fixture
def app(worker_app: Flask, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The app on this test's fresh database; whatever a test changes in its config is put back afterwards."""
    app = worker_app
    config, extensions = dict(app.config), dict(app.extensions)
    for name in PER_DATABASE:
        app.extensions.pop(name, None)
    app.config.update(DATABASE_URL=database_url, BATCH_DIR=str(tmp_path / "batches"))
    app.extensions["choqr.engine"] = db.make_engine(database_url)
    # The hasher is per process: a test that built an app at another cost must not leave it to the next test.
    passwords.configure(
        time_cost=CHEAP_HASHING["PASSWORD_HASH_TIME_COST"],
        memory_cost=CHEAP_HASHING["PASSWORD_HASH_MEMORY_KIB"],
        parallelism=CHEAP_HASHING["PASSWORD_HASH_PARALLELISM"],
    )
    try:
        yield app
    finally:
        app.extensions["choqr.engine"].dispose()
        app.config.clear()
        app.config.update(config)
        app.extensions.clear()
        app.extensions.update(extensions)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    with db.session_scope(app.extensions["choqr.engine"]) as s:
        yield s


@dataclass(frozen=True)
class DemoDatabase:
    """A database holding the demo data, and what `choqr seed-demo` printed when it loaded it."""

    url: str
    seed_output: str


def _seed_demo(url: str, batch_dir: Path) -> str:
    """Load the demo through its command, as a user would, on an app of its own."""
    app = create_app({**APP_CONFIG, "DATABASE_URL": url, "BATCH_DIR": str(batch_dir)})
    try:
        result = app.test_cli_runner().invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
        return result.output
    finally:
        app.extensions["choqr.engine"].dispose()


@pytest.fixture(scope="session")
def demo_template(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> DemoDatabase:
    """The demo seeded once per test run (364 households, each QR drawn and decoded back: seconds, much more
    under coverage), then copied for each test that reads it. Under xdist the first worker to ask seeds it into
    the run's shared temporary folder while the others wait on a lock, then all copy the same file."""
    base = tmp_path_factory.getbasetemp()
    folder = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base  # the run's folder, not past runs'
    path, output = folder / "demo" / "demo.db", folder / "demo" / "seed-output.txt"
    path.parent.mkdir(exist_ok=True)
    with (folder / "demo" / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not output.exists():
            shutil.copy(sqlite_template, path)
            output.write_text(_seed_demo(f"sqlite:///{path}", path.parent), encoding="utf-8")
    return DemoDatabase(f"sqlite:///{path}", output.read_text(encoding="utf-8"))


@pytest.fixture
def demo_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DemoDatabase]:
    """A fresh copy of the demo for one test (on PostgreSQL: seeded into the emptied test database)."""
    if PG_URL:
        url = request.getfixturevalue("pg_ready")
        try:
            yield DemoDatabase(url, _seed_demo(url, tmp_path))
        finally:
            _truncate_pg(url)
        return
    template = request.getfixturevalue("demo_template")
    target = tmp_path / "demo.db"
    shutil.copy(template.url.removeprefix("sqlite:///"), target)
    yield DemoDatabase(f"sqlite:///{target}", template.seed_output)


def _cost(item: pytest.Item) -> int:
    """Rough cost class of a test: browser tests and those marked slow take seconds, the rest milliseconds."""
    return 0 if item.get_closest_marker("browser") else 1 if item.get_closest_marker("slow") else 2


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the long tests first (stable within each class, the same order in every xdist worker): started last,
    a 40-second browser sweep would keep one core busy after the other has run out of work."""
    items.sort(key=_cost)
