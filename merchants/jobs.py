"""The background job queue (huey): print batches, long household imports, and the reaper that resumes work whose
worker died.

One Huey per app, built from its config the first time something is queued or a consumer starts, never at
import, so every web worker, CLI command and test gets the queue its own config names:

- ``JOBS_URL`` unset: a SQLite file ``jobs.db`` beside the SQLite database (the instance folder by default),
  or in the instance folder for another database: one machine, no service to run. A queue's messages name
  batches by id, so a database of its own (a test's, a bench's) never shares the queue of the real one;
  ``sqlite:////path/jobs.db`` another file; ``redis://host:6379/0`` Redis (several machines);
  ``postgresql://user@host/db`` PostgreSQL through huey's own storage (LISTEN/NOTIFY, SKIP LOCKED).
- ``JOBS_IMMEDIATE=True``: jobs run inside the call that queues them (tests).
- ``JOBS_WORKERS`` (2), ``JOBS_STALE_SECONDS`` (30), ``JOBS_MAX_ATTEMPTS`` (3), ``BATCH_CHUNK`` (50).

Web requests only enqueue; ``choqr worker`` runs the consumer (``choqr demo`` one inside its own process).
Tasks open their own sessions through ``merchants.db.session_scope``.
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from flask import Flask
from huey import Huey, RedisHuey, SqliteHuey, crontab
from huey.api import TaskWrapper
from huey.consumer import Consumer

from merchants.services import batch_reaper, batch_runner, import_jobs

log = logging.getLogger(__name__)

NAME = "choqr"
JOBS_FILE = "jobs.db"
_lock = threading.Lock()


class JobsConfigError(ValueError):
    """A queue setting that cannot work; the message names the setting and the value received."""


@dataclass(frozen=True)
class Queue:
    """The app's Huey and its tasks."""

    huey: Huey
    print_batch: TaskWrapper
    import_file: TaskWrapper
    reap_batches: TaskWrapper
    recheck_batches: TaskWrapper


def queue(app: Flask) -> Queue:
    """The app's queue, built on first use (two request threads arriving together build it once)."""
    found = app.extensions.get("choqr.jobs")
    if found is None:
        with _lock:
            found = app.extensions.get("choqr.jobs")
            if found is None:
                found = app.extensions["choqr.jobs"] = _build(app)
    return found


def enqueue_batch(app: Flask, batch_id: int) -> None:
    """Hand a queued batch to the workers (in immediate mode: render it now)."""
    queue(app).print_batch(batch_id)


def enqueue_import(app: Flask, job_id: int) -> None:
    """Hand a queued household import to the workers (in immediate mode: run it now)."""
    queue(app).import_file(job_id)


def make_huey(app: Flask) -> Huey:
    """A Huey on the storage ``JOBS_URL`` names, without results (nothing waits on a job's return value)."""
    url = str(app.config.get("JOBS_URL") or f"sqlite:///{_default_folder(app) / JOBS_FILE}")
    options = {"name": NAME, "results": False, "immediate": bool(app.config.get("JOBS_IMMEDIATE"))}
    if url.startswith("sqlite:///"):
        filename = url.removeprefix("sqlite:///")
        Path(filename).parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(filename=filename, **options)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(url=url, **options)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        try:
            from huey import PostgresHuey  # huey 3, on psycopg 3 (pip install -e ".[postgres]")
        except ImportError as exc:
            raise JobsConfigError(f"JOBS_URL '{url}': PostgreSQL storage needs huey 3 or newer") from exc
        return PostgresHuey(dsn=url.replace("postgresql+psycopg://", "postgresql://", 1), **options)
    raise JobsConfigError(f"JOBS_URL '{url}': expected sqlite:///…, redis://… or postgresql://…")


def _default_folder(app: Flask) -> Path:
    """Where the default queue file goes: beside a SQLite database file, else in the instance folder."""
    database = str(app.config.get("DATABASE_URL", ""))
    if database.startswith("sqlite:///") and ":memory:" not in database:
        return Path(database.removeprefix("sqlite:///")).parent
    return Path(app.instance_path)


def _build(app: Flask) -> Queue:
    """Register the tasks on a new Huey; they capture this app's engine and batch folder."""
    huey = make_huey(app)
    engine = app.extensions["choqr.engine"]
    batch_dir = app.config["BATCH_DIR"]
    chunk = int(app.config.get("BATCH_CHUNK", batch_runner.CHUNK))
    stale_after = timedelta(seconds=float(app.config.get("JOBS_STALE_SECONDS", 30)))
    max_attempts = int(app.config.get("JOBS_MAX_ATTEMPTS", batch_reaper.MAX_ATTEMPTS))

    @huey.task(name="print_batch")
    def print_batch(batch_id: int) -> None:
        """Render and record one batch (a no-op for a batch no longer queued: resends are harmless)."""
        batch_runner.run(engine, batch_id, batch_dir=batch_dir, chunk=chunk)

    @huey.task(name="import_file")
    def import_file(job_id: int) -> None:
        """Check, verify and store one queued household list (a no-op for a job no longer queued)."""
        import_jobs.run(engine, job_id)

    def reap(follow_up: bool) -> None:
        import_jobs.reap(engine, enqueue=import_file, stale_after=stale_after, max_attempts=max_attempts)
        result = batch_reaper.reap(
            engine, batch_dir, enqueue=print_batch, stale_after=stale_after, max_attempts=max_attempts
        )
        if follow_up and result.next_check is not None:
            # Periodic tasks run once a minute; look again when a running batch would turn stale, so a
            # dead worker's batch is picked up about stale_after after its last heartbeat.
            recheck_batches.schedule(delay=result.next_check)

    @huey.periodic_task(crontab(minute="*"), name="reap_batches")
    def reap_batches() -> None:
        """Every minute, and as soon as a consumer starts: requeue or fail batches whose worker died."""
        reap(follow_up=True)

    @huey.task(name="recheck_batches")
    def recheck_batches() -> None:
        """The reaper once more, at the moment a batch that looked alive would have turned stale."""
        reap(follow_up=False)

    return Queue(huey, print_batch, import_file, reap_batches, recheck_batches)


def consumer(app: Flask, *, workers: int | None = None, worker_type: str = "thread") -> Consumer:
    """A consumer of the app's queue; its first scheduler pass runs the reaper at once."""
    huey = queue(app).huey
    if huey.immediate:
        raise JobsConfigError("JOBS_IMMEDIATE is on: jobs run where they are queued, there is nothing to consume")
    count = workers or int(app.config.get("JOBS_WORKERS", 2))
    if worker_type == "process":
        engine = app.extensions["choqr.engine"]

        @huey.on_startup(name="fresh_engine_pool")
        def _fresh_pool() -> None:
            """A forked worker must not share the parent's database connections."""
            engine.dispose(close=False)

    # SQLite storage is polled: an idle worker looks at least every second, so a print starts without delay.
    # SIGTERM (systemd, docker stop) lets running batches finish for up to 30 s; SIGINT stops at once. Either
    # way a batch cut off resumes at its last chunk when a worker starts again.
    return huey.create_consumer(
        workers=count,
        worker_type=worker_type,
        periodic=True,
        check_worker_health=True,
        max_delay=1.0,
        graceful_signal="TERM",
        shutdown_timeout=30,
    )


def start_in_process(app: Flask, *, workers: int = 1) -> Consumer | None:
    """Start a consumer in threads of this (CLI) process, keeping its signal handlers; None in immediate mode.

    huey's consumer installs its own SIGINT/SIGTERM/SIGHUP handlers when it starts; those of the caller
    (werkzeug's Ctrl+C in ``choqr demo``) are put back, and the caller stops the consumer with ``stop_in_process``.
    """
    if queue(app).huey.immediate:
        return None
    worker = consumer(app, workers=workers)
    signals = [s for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)) if s is not None]
    saved = {s: signal.getsignal(s) for s in signals}
    try:
        worker.start()
    finally:
        for s, handler in saved.items():
            signal.signal(s, handler)
    return worker


def stop_in_process(worker: Consumer | None, *, timeout: float = 10) -> None:
    """Let the in-process consumer finish its current batch (up to ``timeout`` seconds), then stop it."""
    if worker is not None:
        worker.shutdown_timeout = timeout
        worker.stop(graceful=True)
