"""Household lists too long for a web request, imported by the job queue with progress.

The web page reads the file (a malformed one is refused at once, as before), imports a short list in the request
and queues a long one (more than ``INLINE_ROWS`` rows): the job row keeps the file, the queue's worker checks,
verifies and stores it through ``importing.import_table`` exactly as the request would, and the page follows its
progress. A job whose worker died is run again from its file (rows stored before are then skipped as already
registered, so nothing doubles) until it was tried ``MAX_ATTEMPTS`` times, then failed with that reason.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, update
from sqlmodel import Session, col, select

from merchants.db import session_scope
from merchants.errors import N_, DomainError, NotFound, Phrase, from_json, to_json
from merchants.models import ImportJob, User, utcnow
from merchants.scope import Viewer, viewer_for
from merchants.services import importing
from merchants.services.import_types import ImportReport, RowProblem, SkippedRow
from merchants.services.registry_queries import MarketInfo
from merchants.spreadsheet import read_table

log = logging.getLogger(__name__)

INLINE_ROWS = 300  # up to this many rows are imported in the request (a few seconds); longer lists are jobs
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STALE_AFTER = timedelta(seconds=30)  # progress is written at least every 50 QRs (well under a second)
MAX_ATTEMPTS = 3


@dataclass(frozen=True)
class Started:
    """What the upload led to: a report now (a short list, or a malformed file refused), or a job to follow."""

    report: ImportReport | None = None
    job_id: int | None = None


def start(
    session: Session,
    actor: Viewer,
    *,
    market_id: int,
    data: bytes,
    filename: str = "",
    dry_run: bool = False,
    all_or_nothing: bool = False,
    sheet: str | None = None,
    inline_rows: int = INLINE_ROWS,
) -> Started:
    """Import a list of up to ``inline_rows`` rows now, or queue a longer one; the caller enqueues ``job_id``."""
    importing.open_market(session, actor, market_id)
    if actor.user_id is None:
        raise DomainError(N_("Chỉ người dùng đã đăng nhập mới nhập được tệp dài qua tiến trình nền."))
    table = read_table(data, sheet=sheet)
    if len(table.rows) <= inline_rows:
        report = importing.import_table(
            session, actor, market_id, table, filename=filename, dry_run=dry_run, all_or_nothing=all_or_nothing
        )
        return Started(report=report)
    job = ImportJob(
        market_id=market_id,
        created_by_id=actor.user_id,
        filename=filename[:200],
        sheet=sheet,
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        data=data,
        total=len(table.rows),
    )
    session.add(job)
    session.commit()
    return Started(job_id=job.id)


def get_job(session: Session, market: MarketInfo, job_id: int) -> ImportJob:
    """A job of this market that the actor may follow: their own, or any in the market for an administrator."""
    actor = market.viewer
    job = session.exec(
        select(ImportJob).where(col(ImportJob.id) == job_id, col(ImportJob.market_id) == market.id)
    ).first()
    if job is None or (job.created_by_id != actor.user_id and not actor.can("users")):
        raise NotFound("Không tìm thấy lượt nhập này.")
    return job


def report_of(job: ImportJob) -> ImportReport | None:
    """The per-row report a finished job stored."""
    if not job.report:
        return None
    data = from_json(job.report)
    data["skipped"] = tuple(SkippedRow(**{**r, "params": _pairs(r.get("params", ()))}) for r in data["skipped"])
    data["refused"] = tuple(RowProblem(**{**r, "params": _pairs(r["params"])}) for r in data["refused"])
    data["ignored_columns"] = tuple(data["ignored_columns"])
    data["sheets"] = tuple(data["sheets"])
    return ImportReport(**data)


def _pairs(params: list) -> tuple[tuple[str, Any], ...]:
    """A row's params as stored in JSON (a list of [name, value]) back to the report's tuple of pairs."""
    return tuple((k, v) for k, v in params)


def failure(job: ImportJob) -> Phrase | str | None:
    """Why the job failed, for the page to say in the reader's language (the sentence alone for older rows)."""
    return Phrase.loads(job.error_data) or job.error


def run(engine: Engine, job_id: int) -> None:
    """Run one queued job to its end; never raises: whatever breaks is recorded on the job as its reason."""
    if not _claim(engine, job_id):
        return
    try:
        with session_scope(engine) as session:
            job = session.get_one(ImportJob, job_id)
            user = session.get(User, job.created_by_id)
            if user is None or not user.active:
                raise DomainError(N_("Người nhập tệp đã bị khóa; lượt nhập không chạy."))
            actor = viewer_for(session, user)
            importing.open_market(session, actor, job.market_id)
            table = read_table(job.data, sheet=job.sheet)
            report = importing.import_table(
                session,
                actor,
                job.market_id,
                table,
                filename=job.filename,
                dry_run=job.dry_run,
                all_or_nothing=job.all_or_nothing,
                progress=_progress(session, job_id),
            )
            _finish(session, job_id, DONE, report=to_json(asdict(report)))
    except DomainError as exc:
        _fail(engine, job_id, Phrase.of(exc))
    except Exception as exc:  # noqa: BLE001 - a job must end failed with a reason, never stay running
        log.exception("import job %s failed", job_id)
        reason = N_("Lỗi khi nhập tệp (%(kind)s); hãy báo quản trị hệ thống.")
        _fail(engine, job_id, Phrase(reason, kind=type(exc).__name__))


def _claim(engine: Engine, job_id: int) -> bool:
    with session_scope(engine) as session:
        moved = session.exec(
            update(ImportJob)
            .where(col(ImportJob.id) == job_id, col(ImportJob.status) == QUEUED)
            .values(status=RUNNING, attempts=ImportJob.attempts + 1, heartbeat_at=utcnow(), stage="")
        ).rowcount
        session.commit()
    return moved == 1


def _progress(session: Session, job_id: int) -> importing.Progress:
    """Write progress (and the heartbeat) in the import's own session: before any row is written it commits at
    once; while storing it lands with each committed batch (a second connection would wait on SQLite's lock)."""

    def report(stage: str, done: int, total: int) -> None:
        session.exec(
            update(ImportJob)
            .where(col(ImportJob.id) == job_id)
            .values(stage=stage, done=done, total=total, heartbeat_at=utcnow())
        )
        if stage != importing.STORING:
            session.commit()

    return report


def _finish(session: Session, job_id: int, status: str, *, report: str = "", reason: Phrase | None = None) -> None:
    """End the job; a failed one keeps its reason as the Vietnamese sentence and as data for the page."""
    error = str(reason)[:300] if reason else None
    session.exec(
        update(ImportJob)
        .where(col(ImportJob.id) == job_id)
        .values(
            status=status,
            report=report,
            error=error,
            error_data=to_json(reason) if reason else "",
            data=b"",
            finished_at=utcnow(),
            heartbeat_at=utcnow(),
        )
    )
    session.commit()


def _fail(engine: Engine, job_id: int, reason: Phrase) -> None:
    with session_scope(engine) as session:
        session.rollback()
        _finish(session, job_id, FAILED, reason=reason)


def job_id_of(job: ImportJob) -> int:
    assert job.id is not None, "a job read from the database has its id"
    return job.id


def reap(
    engine: Engine,
    *,
    enqueue: Any,
    stale_after: timedelta = STALE_AFTER,
    max_attempts: int = MAX_ATTEMPTS,
    now: datetime | None = None,
) -> list[int]:
    """Jobs whose worker died (no progress for ``stale_after``): queued again, or failed after ``max_attempts``.
    A queued job nobody took is sent again (only one claim succeeds). The ids sent to the queue."""
    now = now or utcnow()
    since = now - stale_after
    sent = []
    with session_scope(engine) as session:
        silent = session.exec(
            select(ImportJob).where(
                col(ImportJob.status).in_((QUEUED, RUNNING)),
                func.coalesce(ImportJob.heartbeat_at, ImportJob.created_at) < since,
            )
        ).all()
        for job in silent:
            if job.status == RUNNING and job.attempts >= max_attempts:
                reason = N_(
                    "Tiến trình nền dừng giữa chừng %(attempts)s lần khi nhập tệp này; "
                    "các dòng đã lưu vẫn còn. Hãy nhập lại tệp hoặc báo quản trị hệ thống."
                )
                _finish(session, job_id_of(job), FAILED, reason=Phrase(reason, attempts=job.attempts))
                continue
            session.exec(update(ImportJob).where(col(ImportJob.id) == job.id).values(status=QUEUED, heartbeat_at=now))
            session.commit()
            sent.append(job_id_of(job))
    for job_id in sent:
        enqueue(job_id)
    return sent
