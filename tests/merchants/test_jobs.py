"""The job queue: a batch rendered in chunks survives a worker that dies, and the queue is what the config says."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from factories import make_household, make_market
from flask import Flask
from huey.storage import RedisStorage, SqliteStorage
from sqlalchemy import update
from sqlmodel import select

import printouts
from merchants import jobs
from merchants.models import IssuedQR, Placard, PrintBatch, Stall, utcnow
from merchants.scope import SYSTEM
from merchants.services import batch_files, batch_reaper, batch_runner
from merchants.services import batches as bs
from merchants.services import households as hs
from merchants.services.registry_queries import get_market

ROOT = Path(__file__).resolve().parents[2]


class Crash(BaseException):
    """A worker killed mid-batch: nothing after this point runs, not even the failure handling."""


@pytest.fixture
def engine(app):
    return app.extensions["choqr.engine"]


@pytest.fixture
def batch_dir(app) -> Path:
    return Path(app.config["BATCH_DIR"])


def _queued(session, app, n=10, layout="a6"):
    market = make_market(session, stalls=n)
    households = [make_household(session, market) for _ in range(n)]
    job = bs.start_batch(
        session, get_market(session, SYSTEM, market.id), bs.BatchRequest(layout), batch_dir=app.config["BATCH_DIR"]
    )
    return market, households, job


def _count_renders(monkeypatch) -> list[int]:
    calls: list[int] = []
    real = printouts.render_placards

    def counting(placards, stream, **options):
        calls.append(len(placards))
        return real(placards, stream, **options)

    monkeypatch.setattr(printouts, "render_placards", counting)
    return calls


def _crash_after_first_chunk(monkeypatch, engine, job, batch_dir, **kw) -> None:
    real_beat = batch_runner._beat

    def beat_then_die(session, claim, *, done, total):
        real_beat(session, claim, done=done, total=total)
        raise Crash

    monkeypatch.setattr(batch_runner, "_beat", beat_then_die)
    with pytest.raises(Crash):
        batch_runner.run(engine, job.batch_id, batch_dir=batch_dir, chunk=4, **kw)
    monkeypatch.setattr(batch_runner, "_beat", real_beat)


def _reap(engine, batch_dir, *, later=0.0, chunk=4, **kw):
    def enqueue(batch_id):
        batch_runner.run(engine, batch_id, batch_dir=batch_dir, chunk=chunk)

    return batch_reaper.reap(engine, batch_dir, enqueue=enqueue, now=utcnow() + timedelta(seconds=later), **kw)


def _batch(session, batch_id) -> PrintBatch:
    session.expire_all()
    return session.get(PrintBatch, batch_id)


def test_a_batch_whose_worker_died_is_requeued_and_resumes_after_its_last_chunk(
    session, app, engine, batch_dir, monkeypatch
):
    _, _, job = _queued(session, app, 10)
    _crash_after_first_chunk(monkeypatch, engine, job, batch_dir, worker="another-host:4242")
    stuck = _batch(session, job.batch_id)
    assert (stuck.status, stuck.done, stuck.total, stuck.attempts) == ("running", 4, 10, 1)
    assert [p.name[:5] for p in batch_files.work_dir(batch_dir, job.batch_id).iterdir()] == ["0000-"]

    assert _reap(engine, batch_dir, later=10).requeued == ()  # still within its heartbeat
    renders = _count_renders(monkeypatch)
    reaped = _reap(engine, batch_dir, later=31)
    assert reaped.requeued == (job.batch_id,) and reaped.failed == ()
    done = _batch(session, job.batch_id)
    assert (done.status, done.done, done.attempts, done.error) == ("done", 10, 2, None)
    assert renders == [4, 2]  # chunks 2 and 3 only: the first came from disk
    serials = session.exec(select(Placard.serial).where(Placard.batch_id == job.batch_id).order_by(Placard.id)).all()
    assert len(set(serials)) == 10 and serials[0].endswith("-0001") and serials[-1].endswith("-0010")
    assert sorted(p.name for p in batch_dir.iterdir()) == [f"{job.batch_id}.pdf"]
    assert len(pdfium.PdfDocument(bs.pdf_path(batch_dir, job.batch_id))) == 10


def test_a_chunk_whose_qr_changed_while_the_batch_was_stuck_is_rendered_again_with_the_new_qr(
    session, app, engine, batch_dir, monkeypatch
):
    _, households, job = _queued(session, app, 6)
    _crash_after_first_chunk(monkeypatch, engine, job, batch_dir, worker="another-host:4242")
    first = households[0]
    hs.change_account(
        session,
        SYSTEM,
        first.id,
        expected_version=first.version,
        account=hs.AccountInput("970415", "101234567899", ""),
        reason="Đổi tài khoản khi máy in hỏng",
    )
    renders = _count_renders(monkeypatch)
    assert _reap(engine, batch_dir, later=31).requeued == (job.batch_id,)
    assert renders == [4, 2] and _batch(session, job.batch_id).status == "done"
    qr_id = session.exec(
        select(Placard.qr_id)
        .join(Stall, Stall.id == Placard.stall_id)
        .where(Placard.batch_id == job.batch_id, Stall.code == "A-001")
    ).one()
    live = session.exec(select(IssuedQR).where(IssuedQR.household_id == first.id, IssuedQR.revoked_at.is_(None))).one()
    assert qr_id == live.id


def test_a_batch_that_killed_its_worker_three_times_fails_with_the_reason_and_frees_the_market(
    session, app, engine, batch_dir
):
    market, _, job = _queued(session, app, 2)
    session.exec(
        update(PrintBatch)
        .where(PrintBatch.id == job.batch_id)
        .values(status="running", attempts=3, worker="in-1:77", heartbeat_at=utcnow())
    )
    session.commit()
    work = batch_files.work_dir(batch_dir, job.batch_id)
    work.mkdir(parents=True)
    (work / "0000-abc.pdf").write_bytes(b"%PDF-")
    with pytest.raises(bs.BatchBusy):
        bs.start_batch(session, get_market(session, SYSTEM, market.id), bs.BatchRequest("a6"), batch_dir=batch_dir)
    reaped = _reap(engine, batch_dir, later=31)
    failed = _batch(session, job.batch_id)
    assert reaped.failed == (job.batch_id,) and failed.status == "failed"
    assert "dừng đột ngột 3 lần" in failed.error and "in-1:77" in failed.error
    assert not work.exists() and session.exec(select(Placard)).all() == []
    again = bs.start_batch(session, get_market(session, SYSTEM, market.id), bs.BatchRequest("a6"), batch_dir=batch_dir)
    assert bs.run_batch(engine, again).status == "done"


def test_a_dead_process_of_this_machine_is_reaped_at_once_and_a_live_one_is_left_alone(session, app, engine, batch_dir):
    _, _, job = _queued(session, app, 1)
    exited = subprocess.Popen([sys.executable, "-c", "pass"])
    exited.wait()
    host = socket.gethostname()
    session.exec(
        update(PrintBatch)
        .where(PrintBatch.id == job.batch_id)
        .values(status="running", attempts=1, worker=f"{host}:{os.getppid()}", heartbeat_at=utcnow())
    )
    session.commit()
    alive = _reap(engine, batch_dir)
    assert alive.requeued == () and 29 < alive.next_check <= 31
    session.exec(update(PrintBatch).where(PrintBatch.id == job.batch_id).values(worker=f"{host}:{exited.pid}"))
    session.commit()
    assert _reap(engine, batch_dir).requeued == (job.batch_id,)
    assert _batch(session, job.batch_id).status == "done"


def test_queued_batches_are_resent_after_a_while_and_failed_after_thirty_minutes(session, app, engine, batch_dir):
    _, _, job = _queued(session, app, 1)
    sent: list[int] = []
    assert batch_reaper.reap(engine, batch_dir, enqueue=sent.append).resent == ()
    assert batch_reaper.reap(engine, batch_dir, enqueue=sent.append, now=utcnow() + timedelta(seconds=40)).resent == (
        job.batch_id,
    )
    assert sent == [job.batch_id]
    late = batch_reaper.reap(engine, batch_dir, enqueue=sent.append, now=utcnow() + timedelta(minutes=31))
    batch = _batch(session, job.batch_id)
    assert late.failed == (job.batch_id,) and batch.status == "failed"
    assert "Không có tiến trình in nào nhận lô in này trong 30 phút" in batch.error
    assert batch_runner.run(engine, job.batch_id, batch_dir=batch_dir).status == "failed"  # a late resend: no-op


def test_the_sweep_deletes_leftovers_of_finished_and_failed_batches_and_keeps_live_work(
    session, app, engine, batch_dir
):
    market = make_market(session, stalls=1)
    done, failed, running = (
        PrintBatch(market_id=market.id, layout="a6", selection="all", status=s) for s in ("done", "failed", "running")
    )
    session.add_all([done, failed, running])
    session.commit()
    batch_dir.mkdir(parents=True)
    names = [
        f"{done.id}.pdf",
        f"{done.id}.work",
        f".{done.id}.pdf.x1.tmp",
        f"{failed.id}.pdf",
        f"{failed.id}.part",
        f"{running.id}.work",
        f".{running.id}.pdf.x2.tmp",
        "999.pdf",
        "999.part",
        "notes.txt",
    ]
    for name in names:
        (batch_dir / name).mkdir() if name.endswith(".work") else (batch_dir / name).write_bytes(b"x")
    removed = batch_reaper.sweep(engine, batch_dir)
    assert sorted(removed) == sorted(
        [f"{done.id}.work", f".{done.id}.pdf.x1.tmp", f"{failed.id}.pdf", f"{failed.id}.part", "999.part"]
    )
    assert sorted(p.name for p in batch_dir.iterdir()) == sorted(
        [f"{done.id}.pdf", f"{running.id}.work", f".{running.id}.pdf.x2.tmp", "999.pdf", "notes.txt"]
    )


def test_a_worker_whose_batch_was_handed_to_another_stops_without_recording(
    session, app, engine, batch_dir, monkeypatch
):
    _, _, job = _queued(session, app, 3)
    real = printouts.render_placards

    def render_while_reaped(placards, stream, **options):
        session.exec(
            update(PrintBatch)
            .where(PrintBatch.id == job.batch_id)
            .values(attempts=PrintBatch.attempts + 1, worker="other:1")
        )
        session.commit()
        return real(placards, stream, **options)

    monkeypatch.setattr(printouts, "render_placards", render_while_reaped)
    batch = bs.run_batch(engine, job)
    assert (batch.status, batch.worker, batch.error) == ("running", "other:1", None)
    assert session.exec(select(Placard)).all() == [] and not bs.pdf_path(batch_dir, job.batch_id).exists()


def test_chunks_are_whole_sheets():
    assert [batch_runner.chunk_size(layout) for layout in ("a6", "a4-2up", "a4-4up", "a4-8up")] == [50, 50, 52, 56]
    assert batch_runner.chunk_size("a4-8up", 3) == 8


def test_the_stalls_chosen_are_stored_on_the_batch_so_a_retry_prints_those(session, app):
    _, _, job = _queued(session, app, 3)
    assert json.loads(_batch(session, job.batch_id).stall_codes) == ["A-001", "A-002", "A-003"]


# --- the queue as configured ---------------------------------------------------------------------------------


def _bare_app(tmp_path, **config) -> Flask:
    app = Flask("jobs-test", instance_path=str(tmp_path / "instance"))
    app.config.update(config)
    return app


def test_without_jobs_url_the_queue_is_a_sqlite_file_beside_the_database_or_in_the_instance_folder(tmp_path):
    huey = jobs.make_huey(_bare_app(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'data' / 'choqr.db'}"))
    assert isinstance(huey.storage, SqliteStorage) and not huey.immediate
    assert huey.storage.filename == str(tmp_path / "data" / "jobs.db")
    on_pg = jobs.make_huey(_bare_app(tmp_path, DATABASE_URL="postgresql://u@db/choqr"))
    assert on_pg.storage.filename == str(tmp_path / "instance" / "jobs.db")


def test_a_redis_url_gives_a_redis_queue_that_carries_messages(tmp_path):
    huey = jobs.make_huey(_bare_app(tmp_path, JOBS_URL="redis://127.0.0.1:6379/15"))
    assert isinstance(huey.storage, RedisStorage)
    try:
        huey.storage.conn.ping()
    except Exception as exc:  # any failure to reach Redis
        pytest.skip(f"no Redis on 127.0.0.1:6379 ({exc})")
    seen = []
    task = huey.task(name="probe")(seen.append)
    huey.storage.flush_queue()
    task(7)
    huey.execute(huey.dequeue())
    assert seen == [7] and huey.pending_count() == 0


def test_a_postgresql_url_gives_hueys_own_postgres_queue(tmp_path, monkeypatch):
    import huey

    made = {}
    monkeypatch.setattr(huey, "PostgresHuey", lambda **options: made.update(options) or "pg")
    assert jobs.make_huey(_bare_app(tmp_path, JOBS_URL="postgresql+psycopg://u@db/choqr")) == "pg"
    assert made["dsn"] == "postgresql://u@db/choqr" and made["name"] == "choqr"


def test_an_unknown_jobs_url_is_refused_naming_the_setting(tmp_path):
    with pytest.raises(jobs.JobsConfigError, match="JOBS_URL 'amqp://x'"):
        jobs.make_huey(_bare_app(tmp_path, JOBS_URL="amqp://x"))


def test_no_consumer_runs_in_immediate_mode(app):
    with pytest.raises(jobs.JobsConfigError, match="JOBS_IMMEDIATE"):
        jobs.consumer(app)
    assert jobs.start_in_process(app) is None


def test_the_in_process_consumer_prints_batches_and_keeps_the_callers_signal_handlers(session, app, tmp_path):
    app.config.update(JOBS_IMMEDIATE=False, JOBS_URL=f"sqlite:///{tmp_path / 'jobs.db'}")
    before = signal.getsignal(signal.SIGINT)
    _, _, job = _queued(session, app, 2)
    worker = jobs.start_in_process(app)
    try:
        assert signal.getsignal(signal.SIGINT) is before
        jobs.enqueue_batch(app, job.batch_id)
        deadline = time.monotonic() + 15
        while _batch(session, job.batch_id).status != "done" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _batch(session, job.batch_id).status == "done"
    finally:
        jobs.stop_in_process(worker)
    assert not any(t.is_alive() for _, t in worker.worker_threads)


# --- a real worker process, killed ---------------------------------------------------------------------------


def _worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", "from app import cli; cli()", "worker", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _wait(session, batch_id, until, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        batch = _batch(session, batch_id)
        if until(batch):
            return batch
        time.sleep(0.005)
    raise AssertionError(f"batch {batch_id} still {batch.status} {batch.done}/{batch.total} after {seconds} s")


@pytest.mark.slow
def test_a_worker_killed_mid_batch_is_replaced_and_the_batch_finishes_once(session, app, database_url, tmp_path):
    # 120 placards in 30 chunks of 4: long enough to be cut after the first chunk, short enough for a busy machine.
    market = make_market(session, stalls=120)
    for _ in range(120):
        make_household(session, market)
    batch_dir = tmp_path / "batches"
    app.config.update(JOBS_IMMEDIATE=False, JOBS_URL=f"sqlite:///{tmp_path / 'jobs.db'}")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CHOQR_JOBS_URL": app.config["JOBS_URL"],
        "CHOQR_BATCH_DIR": str(batch_dir),
        "CHOQR_SECRET_KEY": "worker-test",
        "CHOQR_BATCH_CHUNK": "4",
    }
    log = tmp_path / "worker.log"
    job = bs.start_batch(
        session, get_market(session, SYSTEM, market.id), bs.BatchRequest("a4-4up"), batch_dir=batch_dir
    )
    jobs.enqueue_batch(app, job.batch_id)
    first = _worker(env, log)
    try:
        cut = _wait(session, job.batch_id, lambda b: b.done > 0, 20)
        os.kill(first.pid, signal.SIGKILL)
    finally:
        first.kill()
        first.wait()
    cut = _batch(session, job.batch_id)
    assert cut.status == "running" and cut.done < 120, "the worker finished before it could be killed"
    assert session.exec(select(Placard)).all() == []

    second = _worker(env, log)
    try:
        done = _wait(session, job.batch_id, lambda b: b.status in ("done", "failed"), 25)
        assert (done.status, done.done, done.total, done.attempts) == ("done", 120, 120, 2), done.error
        serials = session.exec(select(Placard.serial).where(Placard.batch_id == job.batch_id)).all()
        assert len(serials) == len(set(serials)) == 120
        assert len(pdfium.PdfDocument(bs.pdf_path(batch_dir, job.batch_id))) == 30
        assert "resuming with" in log.read_text()
        assert sorted(p.name for p in batch_dir.iterdir()) == [f"{job.batch_id}.pdf"]  # no .part, no chunks

        again = bs.start_batch(
            session,
            get_market(session, SYSTEM, market.id),
            bs.BatchRequest("a4-8up", stall_codes=("A-001",)),
            batch_dir=batch_dir,
        )
        jobs.enqueue_batch(app, again.batch_id)
        assert _wait(session, again.batch_id, lambda b: b.status in ("done", "failed"), 15).status == "done"
    finally:
        second.send_signal(signal.SIGTERM)  # graceful: the consumer finishes its work, then exits
        try:
            second.wait(timeout=15)
        except subprocess.TimeoutExpired:
            second.kill()
            second.wait()
