"""Running a queued print batch: claim it, render it chunk by chunk, join the chunks, record it at once.

A claim moves the row queued → running with this worker's name and a new attempt number; every later write
checks that attempt, so a batch handed to another worker (ours looked dead) is never written by both. Each
chunk (about ``CHUNK`` placards, whole sheets) is written into the batch's work folder under a name made
from everything it shows; then ``done`` and the heartbeat are committed. A retry after a crash renders only
the chunks not on disk yet. Placards, revocations and status moves are recorded only once the joined PDF is
whole, in one transaction with the move to 'done'. A failure records nothing, leaves no file and marks the
batch failed with its reason.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from sqlalchemy import ColumnElement, Engine, func, update
from sqlmodel import Session, select

from merchants.db import session_scope
from merchants.errors import N_, DomainError, Forbidden, Phrase, to_json
from merchants.models import Household, IssuedQR, Market, PrintBatch, Stall, User, utcnow
from merchants.scope import SYSTEM, Viewer, viewer_for
from merchants.services.batch_files import pdf_path, remove, remove_batch_files, temp_beside, work_dir
from merchants.services.batches import DONE, FAILED, QUEUED, RUNNING, STALE_AFTER, NothingToPrint, StaleBatch
from merchants.services.placards import PrintItem, batch_serial, placard_data, printable_items, record_prints
from merchants.services.registry_queries import get_market

if TYPE_CHECKING:
    from printouts import PlacardData

log = logging.getLogger(__name__)

CHUNK = 50  # placards per committed chunk: a fraction of a second to render, so heartbeats stay frequent


@dataclass(frozen=True)
class Claim:
    """This run's hold on a batch: only the run whose attempt number is on the row may write it."""

    batch_id: int
    worker: str
    attempt: int


class LostClaim(Exception):
    """The batch was handed to another worker while this one ran: stop without writing anything more."""


def worker_id() -> str:
    """This process as the reaper sees it, 'host:pid' (a dead pid on the same host is reaped at once)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:80]


def chunk_size(layout: str, chunk: int = CHUNK) -> int:
    """``chunk`` rounded up to whole sheets, so no sheet is split between two chunk PDFs."""
    from printouts import get_layout

    per_sheet = get_layout(layout).per_sheet
    return max(1, math.ceil(chunk / per_sheet)) * per_sheet


def run(
    engine: Engine, batch_id: int, *, batch_dir: Path | str, worker: str | None = None, chunk: int = CHUNK
) -> PrintBatch | None:
    """Render and record one queued batch; never raises: a failure is recorded on the batch, returned as is.

    A batch that is not queued (done, failed, or claimed by another worker) is left alone and returned.
    """
    claim = claim_batch(engine, batch_id, worker or worker_id())
    if claim is None:
        return _reload(engine, batch_id)
    folder = Path(batch_dir)
    try:
        with session_scope(engine) as session:
            return _render_and_record(session, claim, folder, chunk)
    except LostClaim:
        log.warning("print batch %s was handed to another worker; attempt %s stops", batch_id, claim.attempt)
        return _reload(engine, batch_id)
    except Exception as exc:  # whatever broke, the batch must end as failed, not stuck
        log.exception("print batch %s failed", batch_id)
        return _fail(engine, claim, folder, _reason(exc))


def claim_batch(engine: Engine, batch_id: int, worker: str) -> Claim | None:
    """Move the batch queued → running for ``worker`` in one conditional update; None if it was not queued."""
    since = utcnow() - STALE_AFTER
    with session_scope(engine) as session:
        moved = session.exec(
            update(PrintBatch)
            .where(
                PrintBatch.id == batch_id,
                PrintBatch.status == QUEUED,
                func.coalesce(PrintBatch.heartbeat_at, PrintBatch.created_at) > since,
            )
            .values(status=RUNNING, worker=worker, attempts=PrintBatch.attempts + 1, heartbeat_at=utcnow())
        ).rowcount
        if moved != 1:
            session.rollback()
            return None
        attempt = session.exec(select(PrintBatch.attempts).where(PrintBatch.id == batch_id)).one()
        session.commit()
    return Claim(batch_id, worker, attempt)


def _render_and_record(session: Session, claim: Claim, folder: Path, chunk: int) -> PrintBatch:
    from printouts.render import check_placards, join_pdfs

    batch = session.get(PrintBatch, claim.batch_id)
    actor = _actor(session, batch)
    market = session.get(Market, batch.market_id)
    codes = json.loads(batch.stall_codes or "[]")
    items = printable_items(session, get_market(session, actor, market.id), selection="picked", stall_codes=codes)
    if not items:
        raise NothingToPrint(N_("Các sạp đã chọn không còn mã QR để in."))
    serials = [batch_serial(market.code, batch.id, n) for n in range(1, len(items) + 1)]
    data = [placard_data(item, market, serial) for item, serial in zip(items, serials, strict=True)]
    check_placards(data, layout=batch.layout)  # a QR too small at this layout fails before the first chunk
    title, size, work = f"{market.name} – lô in {batch.id}", chunk_size(batch.layout, chunk), work_dir(folder, batch.id)
    parts = []
    if work.is_dir() and claim.attempt > 1:
        log.info(
            "print batch %s, attempt %s: resuming with %s chunk(s) already rendered",
            batch.id,
            claim.attempt,
            sum(1 for _ in work.glob("*.pdf")),
        )
    for start in range(0, len(data), size):
        parts.append(
            _chunk(work, batch.layout, start // size, data[start : start + size], items[start : start + size], title)
        )
        _beat(session, claim, done=min(start + size, len(data)), total=len(data))
    final = pdf_path(folder, batch.id)
    joined = temp_beside(final)
    try:
        with joined.open("wb") as stream:
            join_pdfs(parts, stream, title=title)
            _sync(stream)
        _beat(session, claim, done=len(data), total=len(data))
        _refresh_households(session, items)  # they may have moved on while rendering: record against current rows
        record_prints(session, actor, market, items, batch, serials=serials)
        _check_current(session, items)  # after the first write: on SQLite nobody can commit in between now
        _finish(session, claim)
        remove(work)  # before 'done' shows: a crash from here on re-renders, which is only slower
        os.replace(joined, final)
        session.commit()
    finally:
        joined.unlink(missing_ok=True)
    session.refresh(batch)
    return batch


def _chunk(
    work: Path, layout: str, index: int, cards: Sequence[PlacardData], items: Sequence[PrintItem], title: str
) -> Path:
    """The chunk's PDF, rendered now unless an earlier attempt already wrote this exact content."""
    from printouts import render_placards

    path = work / f"{index:04d}-{_digest(layout, cards, items)}.pdf"
    if path.exists():
        return path
    tmp = temp_beside(path)
    try:
        with tmp.open("wb") as stream:
            render_placards(cards, stream, layout=layout, title=title)
            _sync(stream)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _digest(layout: str, cards: Sequence[PlacardData], items: Sequence[PrintItem]) -> str:
    """A name for a chunk's content: layout, every printed field and symbol, and the rows it will record."""
    text = repr((layout, list(cards), [(i.stall.id, i.household.id, i.qr.id) for i in items]))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _sync(stream: BinaryIO) -> None:
    """On disk before it is renamed into place, so a crash of the machine never leaves a short file named whole."""
    stream.flush()
    os.fsync(stream.fileno())


def _claimed(claim: Claim) -> ColumnElement[bool]:
    """The row is still ours: running, at our attempt."""
    return (PrintBatch.id == claim.batch_id) & (PrintBatch.status == RUNNING) & (PrintBatch.attempts == claim.attempt)


def _beat(session: Session, claim: Claim, *, done: int, total: int) -> None:
    """Commit progress and the heartbeat; LostClaim if the batch is no longer ours."""
    moved = session.exec(
        update(PrintBatch).where(_claimed(claim)).values(done=done, total=total, heartbeat_at=utcnow())
    ).rowcount
    session.commit()
    if moved != 1:
        raise LostClaim(claim.batch_id)


def _finish(session: Session, claim: Claim) -> None:
    """Mark the batch done in the recording transaction, still only if it is ours."""
    moved = session.exec(
        update(PrintBatch).where(_claimed(claim)).values(status=DONE, error=None, error_data="", heartbeat_at=utcnow())
    ).rowcount
    if moved != 1:
        raise LostClaim(claim.batch_id)


def _actor(session: Session, batch: PrintBatch) -> Viewer:
    """Who the batch prints as: its creator with their scope as it is now, or the system for the CLI."""
    if batch.created_by_id is None:
        return SYSTEM
    user = session.get(User, batch.created_by_id)
    if user is None or not user.active:
        raise Forbidden("Tài khoản tạo lô in đã bị khóa nên lô in không được tạo.")
    return viewer_for(session, user)


def _refresh_households(session: Session, items: list[PrintItem]) -> None:
    """Reload the batch's households in one query (status, needs_reprint, version may have changed)."""
    ids = [i.household.id for i in items]
    session.exec(select(Household).where(Household.id.in_(ids)).execution_options(populate_existing=True)).all()


def _check_current(session: Session, items: list[PrintItem]) -> None:
    """Refuse to record placards whose QR was revoked or whose stall changed hands during the render."""
    live = set(
        session.exec(
            select(IssuedQR.id)
            .where(IssuedQR.id.in_([i.qr.id for i in items]), IssuedQR.revoked_at.is_(None))
            .with_for_update()
        )
    )
    holders = dict(
        session.exec(select(Stall.id, Stall.household_id).where(Stall.id.in_([i.stall.id for i in items]))).all()
    )
    changed = [i.stall.code for i in items if i.qr.id not in live or holders.get(i.stall.id) != i.household.id]
    if changed:
        raise StaleBatch(
            N_("Trong lúc in, mã QR hoặc chủ sạp đã thay đổi ở: %(codes)s. Hãy tạo lại lô in."),
            codes=", ".join(changed[:10]) + ("…" if len(changed) > 10 else ""),
        )


def _reason(exc: Exception) -> Phrase:
    """Why the batch failed, in words for the page (translated where it is shown)."""
    from printouts import ModuleTooSmall

    if isinstance(exc, DomainError):
        return Phrase.of(exc)
    if isinstance(exc, ModuleTooSmall):
        return Phrase(
            N_("Mã QR sẽ in quá nhỏ ở khổ %(layout)s (%(size)s mm/ô). Hãy chọn khổ lớn hơn."),
            layout=exc.layout,
            size=f"{exc.module_mm:.2f}",
        )
    # The exception's text is for the server log (logged where it was caught), never for the page: it can hold
    # object reprs and paths. The page gets what happened and what to do; an OS error's own words (the disk is
    # full) are kept.
    if isinstance(exc, OSError) and exc.strerror:
        return Phrase(
            N_(
                "Lỗi khi tạo PDF (%(reason)s); chưa bảng nào được ghi nhận. "
                "Hãy thử lại; nếu vẫn lỗi, báo quản trị viên."
            ),
            reason=exc.strerror,
        )
    return Phrase(N_("Lỗi khi tạo PDF; chưa bảng nào được ghi nhận. Hãy thử lại; nếu vẫn lỗi, báo quản trị viên."))


def failure_columns(reason: Phrase) -> dict[str, str]:
    """The columns of a failed batch's reason: the Vietnamese sentence, and the same as data for the page."""
    return {"error": str(reason)[:300], "error_data": to_json(reason)}


def _fail(engine: Engine, claim: Claim, folder: Path, reason: Phrase) -> PrintBatch | None:
    """Mark our batch failed with ``reason`` and delete its files; a batch no longer ours is left alone."""
    try:
        with session_scope(engine) as session:
            moved = session.exec(
                update(PrintBatch)
                .where(_claimed(claim))
                .values(status=FAILED, heartbeat_at=utcnow(), **failure_columns(reason))
            ).rowcount
            session.commit()
        if moved == 1:
            remove_batch_files(folder, claim.batch_id)
        return _reload(engine, claim.batch_id)
    except Exception:  # the database itself is gone; the log is all that is left
        log.exception("could not mark print batch %s failed", claim.batch_id)
        return None


def _reload(engine: Engine, batch_id: int) -> PrintBatch | None:
    with session_scope(engine) as session:
        return session.get(PrintBatch, batch_id)
