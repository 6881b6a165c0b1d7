"""Print batches whose worker died, and batch files that no batch will use any more.

A worker commits a heartbeat with every chunk. A running batch whose heartbeat is older than ``stale_after``,
or whose worker was a process of this machine that no longer exists, lost its worker: it is queued again
(it resumes at its last chunk) until it was tried ``max_attempts`` times, then failed with that reason.
A queued batch that no worker took within ``stale_after`` is sent to the queue again: a lost message is
harmless to resend, as only one claim succeeds. Any open batch silent for ``batches.STALE_AFTER`` fails:
pages already read it as failed and let the market print again.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, update
from sqlmodel import Session, select

from merchants.db import session_scope
from merchants.errors import N_, Phrase
from merchants.models import PrintBatch, utcnow
from merchants.services.batch_files import is_pdf, owner, remove, remove_batch_files
from merchants.services.batch_runner import failure_columns
from merchants.services.batches import DONE, FAILED, QUEUED, RUNNING, STALE_AFTER, last_sign_of_life

log = logging.getLogger(__name__)

HEARTBEAT_STALE = timedelta(seconds=30)  # a chunk takes well under a second; 30 s of silence is a dead worker
MAX_ATTEMPTS = 3  # a batch that kills its worker every time (out of memory?) must end, visibly


@dataclass(frozen=True)
class Reaped:
    """What one pass did, and when to look again (seconds until a running batch would turn stale)."""

    requeued: tuple[int, ...] = ()
    resent: tuple[int, ...] = ()
    failed: tuple[int, ...] = ()
    removed: tuple[str, ...] = ()
    next_check: float | None = None


def reap(
    engine: Engine,
    batch_dir: Path | str,
    *,
    enqueue: Callable[[int], object],
    stale_after: timedelta = HEARTBEAT_STALE,
    max_attempts: int = MAX_ATTEMPTS,
    now: datetime | None = None,
) -> Reaped:
    """Requeue or fail the batches that lost their worker, resend forgotten ones, delete orphaned files."""
    now = now or utcnow()
    requeued, resent, failed, waits = [], [], [], []
    with session_scope(engine) as session:
        for b in session.exec(select(PrintBatch).where(PrintBatch.status.in_((QUEUED, RUNNING)))).all():
            silent = now - last_sign_of_life(b)
            if silent > STALE_AFTER:
                if _move(session, b, status=FAILED, **failure_columns(_too_late(b))):
                    failed.append(b.id)
            elif b.status == QUEUED:
                if silent > stale_after and _move(session, b, status=QUEUED, heartbeat_at=now):
                    resent.append(b.id)
            elif silent <= stale_after and not worker_gone(b.worker):
                waits.append((stale_after - silent).total_seconds())
            elif b.attempts >= max_attempts:
                if _move(session, b, status=FAILED, **failure_columns(_gave_up(b))):
                    failed.append(b.id)
            elif _move(session, b, status=QUEUED, heartbeat_at=now):
                requeued.append(b.id)
        session.commit()
    for batch_id in failed:
        remove_batch_files(batch_dir, batch_id)
    for batch_id in requeued + resent:
        enqueue(batch_id)
    if requeued or failed:
        log.warning("print batches requeued %s, failed %s", requeued, failed)
    return Reaped(
        tuple(requeued),
        tuple(resent),
        tuple(failed),
        tuple(sweep(engine, batch_dir)),
        min(waits) + 1 if waits else None,
    )


def _move(session: Session, batch: PrintBatch, **values: object) -> bool:
    """Change the batch only if nobody touched it since it was read (same status and attempt)."""
    return (
        session.exec(
            update(PrintBatch)
            .where(PrintBatch.id == batch.id, PrintBatch.status == batch.status, PrintBatch.attempts == batch.attempts)
            .values(**values)
        ).rowcount
        == 1
    )


def _gave_up(batch: PrintBatch) -> Phrase:
    return Phrase(
        N_(
            "Tiến trình in dừng đột ngột %(attempts)s lần khi đang tạo lô in này (lần cuối: %(worker)s)."
            " Chưa bảng nào được ghi nhận; hãy tạo lại lô in, có thể chia nhỏ theo dãy."
        ),
        attempts=batch.attempts,
        worker=batch.worker,
    )


def _too_late(batch: PrintBatch) -> Phrase:
    if batch.status == QUEUED:
        return Phrase(
            N_(
                "Không có tiến trình in nào nhận lô in này trong 30 phút (chưa chạy `choqr worker`?). "
                "Hãy tạo lại lô in."
            )
        )
    return Phrase(N_("Lô in bị gián đoạn quá 30 phút (máy chủ dừng?). Chưa bảng nào được ghi nhận; hãy tạo lại lô in."))


def worker_gone(worker: str | None) -> bool:
    """Whether ``worker`` ('host:pid') was a process of this machine that has exited (a zombie counts)."""
    host, _, pid_text = (worker or "").rpartition(":")
    if host != socket.gethostname() or not pid_text.isdigit() or int(pid_text) == os.getpid():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] == ["Z"]


def sweep(engine: Engine, batch_dir: Path | str) -> list[str]:
    """Delete chunks and temporary files of finished batches, and everything of failed or unknown ones
    (an unknown batch's PDF is kept: it may belong to a database restored later)."""
    folder = Path(batch_dir)
    if not folder.is_dir():
        return []
    entries = [(entry, owner(entry.name)) for entry in folder.iterdir()]
    ids = {batch_id for _, batch_id in entries if batch_id is not None}
    if not ids:
        return []
    with session_scope(engine) as session:
        status = dict(session.exec(select(PrintBatch.id, PrintBatch.status).where(PrintBatch.id.in_(ids))).all())
    removed = []
    for entry, batch_id in entries:
        state = status.get(batch_id)
        if batch_id is None or state in (QUEUED, RUNNING):
            continue
        if state == FAILED or not (is_pdf(entry.name) and state in (DONE, None)):
            remove(entry)
            removed.append(entry.name)
    return removed
