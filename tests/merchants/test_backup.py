"""`choqr backup` / `choqr restore`: a consistent copy taken while officers register, restored only into an empty
database (SQLite here; PostgreSQL too when TEST_DATABASE_URL points at one)."""

from __future__ import annotations

import tarfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from factories import free_stall, make_household, make_market
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import select

from merchants import db
from merchants.models import Household, Market, PrintBatch
from merchants.scope import SYSTEM
from merchants.services import backup as bk
from merchants.services import batches as bs
from merchants.services.registry_queries import get_market


@pytest.fixture
def empty_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A database of the same kind with no tables: a new SQLite file, or a scratch PostgreSQL database."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"choqr_restore_{uuid.uuid4().hex[:8]}"
    server = db.make_engine(str(make_url(database_url).set(database="postgres")))
    with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield str(make_url(database_url).set(database=name).render_as_string(hide_password=False))
    finally:
        with server.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def _register_until(engine, market_id: int, stop: threading.Event, acked: list[tuple[float, int]]) -> None:
    """An officer registering households one after another; each is acknowledged once its commit returned."""
    with db.session_scope(engine) as session:
        market = session.get(Market, market_id)
        while not stop.is_set() and free_stall(session, market) is not None:
            household = make_household(session, market)
            acked.append((time.monotonic(), household.id))


def test_a_backup_taken_during_registrations_restores_every_household_acknowledged_before_it(
    app, session, database_url, empty_url, tmp_path
):
    engine = app.extensions["choqr.engine"]
    printed = make_market(session, stalls=2)
    make_household(session, printed)
    job = bs.start_batch(
        session, get_market(session, SYSTEM, printed.id), bs.BatchRequest("a6"), batch_dir=app.config["BATCH_DIR"]
    )
    assert bs.run_batch(engine, job).status == "done"
    markets = [make_market(session, stalls=80).id for _ in range(3)]
    acked: list[tuple[float, int]] = []
    stop = threading.Event()
    officers = [threading.Thread(target=_register_until, args=(engine, m, stop, acked)) for m in markets]
    for officer in officers:
        officer.start()
    try:
        deadline = time.monotonic() + 20
        while len(acked) < 10 and time.monotonic() < deadline:
            time.sleep(0.01)
        started = time.monotonic()
        info = bk.backup(database_url, app.config["BATCH_DIR"], tmp_path / "choqr.tar")
        finished = time.monotonic()
        time.sleep(0.2)  # registrations go on after the backup too
    finally:
        stop.set()
        for officer in officers:
            officer.join(timeout=30)
    before = {hid for at, hid in acked if at < started}
    after = {hid for at, hid in acked if at > finished}
    assert len(before) >= 10 and after, "registrations did not overlap the backup"
    head = ScriptDirectory(str(db.MIGRATIONS)).get_current_head()
    assert (info.dialect, info.revision, info.batches) == (make_url(database_url).get_backend_name(), head, 1)
    with tarfile.open(tmp_path / "choqr.tar") as tar:
        assert sorted(tar.getnames())[-1] == "manifest.json" and f"batches/{job.batch_id}.pdf" in tar.getnames()

    restored_dir = tmp_path / "restored-batches"
    restored = bk.restore(empty_url, restored_dir, tmp_path / "choqr.tar")
    assert restored.schema_current and restored.batches == 1
    assert (restored_dir / f"{job.batch_id}.pdf").read_bytes() == bs.pdf_path(
        app.config["BATCH_DIR"], job.batch_id
    ).read_bytes()
    copy = db.make_engine(empty_url)
    try:
        with db.session_scope(copy) as s:
            ids = set(s.exec(select(Household.id)).all())
            assert s.get(PrintBatch, job.batch_id).status == "done"
    finally:
        copy.dispose()
    assert before <= ids  # every acknowledged registration is in the backup
    assert ids - {hid for _, hid in acked} == set(
        session.exec(select(Household.id).where(Household.market_id == printed.id)).all()
    )


def test_restore_refuses_a_database_that_already_has_tables(app, session, database_url, tmp_path):
    make_market(session, stalls=1)
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "b.tar")])
    assert result.exit_code == 0 and f"Đã sao lưu vào {tmp_path / 'b.tar'}" in result.output
    refused = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "b.tar")])
    assert refused.exit_code == 2
    assert "Lỗi: Cơ sở dữ liệu đích đã có" in refused.stderr
    assert "Chỉ khôi phục vào một cơ sở dữ liệu trống." in refused.stderr


def test_a_postgresql_backup_without_pg_dump_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(bk.shutil, "which", lambda _name: None)
    with pytest.raises(bk.BackupError) as refused:
        bk.backup("postgresql://postgres@127.0.0.1/choqr", tmp_path, tmp_path / "b.tar")
    assert refused.value.field == "pg_dump" and "Không tìm thấy pg_dump trên PATH" in refused.value.message
    assert not (tmp_path / "b.tar").exists()


def test_a_backup_of_another_kind_of_database_is_refused(app, database_url, tmp_path):
    bk.backup(database_url, app.config["BATCH_DIR"], tmp_path / "b.tar")
    sqlite = database_url.startswith("sqlite")
    other = "postgresql://postgres@127.0.0.1/x" if sqlite else f"sqlite:///{tmp_path / 'x.db'}"
    with pytest.raises(bk.BackupError, match="không nạp được vào") as refused:
        bk.restore(other, tmp_path / "batches", tmp_path / "b.tar")
    assert refused.value.field == "DATABASE_URL"


def test_a_file_that_is_not_a_backup_is_refused(tmp_path):
    with tarfile.open(tmp_path / "x.tar", "w"):
        pass
    with pytest.raises(bk.BackupError, match="không phải bản sao lưu ChoQR"):
        bk.restore(f"sqlite:///{tmp_path / 'x.db'}", tmp_path / "batches", tmp_path / "x.tar")
