"""Batch printing: start a batch, render its PDF off the request, and record it only once the PDF is whole.

``start_batch`` checks the request and commits a queued ``PrintBatch``; ``run_batch`` (in a thread for the
web, inline for the CLI and tests) renders with serials known in advance, keeps ``done``/``total`` up to
date, then records placards, revocations and status moves in one transaction. Anything that goes wrong
leaves no placard recorded and marks the batch failed with a message.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session, select

from merchants.db import session_scope
from merchants.errors import DomainError, Forbidden, InvalidField, NotFound
from merchants.models import Household, IssuedQR, Market, Placard, PrintBatch, Stall, User, utcnow
from merchants.scope import Viewer
from merchants.services.placards import (
    PrintItem,
    batch_serial,
    parse_stall_codes,
    placard_data,
    printable_items,
    record_prints,
)
from merchants.services.registry_queries import get_market

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
STALE_AFTER = timedelta(minutes=30)  # a batch still 'running' after this was cut off (e.g. a server restart)
PROGRESS_EVERY = 0.5  # seconds between progress writes: enough for a progress bar, light on the database


class NothingToPrint(InvalidField):
    """The selection holds no stall with a live QR."""

    def __init__(self, message: str = "Không có sạp nào để in với lựa chọn này.") -> None:
        super().__init__("selection", message)


class BatchBusy(DomainError):
    """Another batch of the same market is still being rendered."""


class StaleBatch(DomainError):
    """A stall's QR or household changed while its placard was rendered: the PDF would hang a wrong QR."""


@dataclass(frozen=True)
class BatchRequest:
    """Which stalls to print: all with a live QR, one zone, a hand-picked list; optionally only those needed."""

    layout: str = "a4-4up"
    zone: str = ""
    stall_codes: tuple[str, ...] = ()
    only_needed: bool = False

    def describe(self) -> str:
        """The selection as stored on the batch, e.g. 'needed|zone:Dãy A' (cut to the column's 200)."""
        parts = (["needed"] if self.only_needed else []) + ([f"zone:{self.zone}"] if self.zone else [])
        parts += [f"picked:{','.join(self.stall_codes)}"] if self.stall_codes else []
        text = "|".join(parts) or "all"
        return text if len(text) <= 200 else text[:199] + "…"


def build_request(*, layout: str, selection: str, zone: str = "", stall_codes: str = "") -> BatchRequest:
    """A request from the print form's choice: needed / all / zone / picked."""
    if selection == "needed":
        return BatchRequest(layout, only_needed=True)
    if selection == "all":
        return BatchRequest(layout)
    if selection == "zone":
        if not zone.strip():
            raise InvalidField("zone", "Hãy nhập dãy / khu cần in.")
        return BatchRequest(layout, zone=zone.strip())
    if selection == "picked":
        codes = tuple(dict.fromkeys(parse_stall_codes(stall_codes)))
        if not codes:
            raise InvalidField("stall_codes", "Hãy nhập ít nhất một mã sạp, ví dụ: A-001, A-002.")
        return BatchRequest(layout, stall_codes=codes)
    raise InvalidField("selection", f"Lựa chọn in '{selection}' không tồn tại.")


@dataclass(frozen=True)
class BatchJob:
    """What the runner needs, fixed when the batch starts: the exact stalls the user was shown."""

    batch_id: int
    market_id: int
    actor: Viewer
    layout: str
    stall_codes: tuple[str, ...]
    batch_dir: Path


@dataclass(frozen=True)
class BatchRow:
    batch: PrintBatch
    who: str
    state: str
    has_file: bool


def pdf_path(batch_dir: Path | str, batch_id: int) -> Path:
    return Path(batch_dir) / f"{batch_id}.pdf"


def percent(done: int, total: int) -> int:
    """Floored progress percentage (100 only when every placard is drawn)."""
    return 0 if total <= 0 else min(100, done * 100 // total)


def sheets(layout: str, placards: int) -> int:
    """Sheets of paper a batch takes at ``layout``."""
    from printouts import LAYOUTS

    return math.ceil(placards / LAYOUTS[layout].per_sheet) if layout in LAYOUTS else 0


def state_of(batch: PrintBatch, now: datetime | None = None) -> str:
    """The batch status, except that a queued/running batch older than ``STALE_AFTER`` reads 'failed'."""
    if batch.status in (QUEUED, RUNNING):
        created = batch.created_at if batch.created_at.tzinfo else batch.created_at.replace(tzinfo=UTC)
        if (now or utcnow()) - created > STALE_AFTER:
            return FAILED
    return batch.status


def select_items(session: Session, viewer: Viewer, market_id: int, req: BatchRequest) -> list[PrintItem]:
    """The stalls a request prints, in zone and code order; unknown or QR-less picked codes are an error."""
    if req.stall_codes:
        items = printable_items(session, viewer, market_id, selection="picked", stall_codes=list(req.stall_codes))
        missing = sorted(set(req.stall_codes) - {i.stall.code for i in items})
        if missing:
            raise InvalidField("stall_codes", f"Sạp không có trong chợ hoặc chưa có mã QR: {', '.join(missing)}.")
    elif req.zone:
        items = printable_items(session, viewer, market_id, selection="zone", zone=req.zone)
    else:
        items = printable_items(session, viewer, market_id)
    if req.zone and req.stall_codes:
        items = [i for i in items if i.stall.zone == req.zone]
    if req.only_needed:
        needed = {i.stall.id for i in printable_items(session, viewer, market_id, selection="needed")}
        items = [i for i in items if i.stall.id in needed]
    return items


def start_batch(session: Session, actor: Viewer, market_id: int, req: BatchRequest, *,
                batch_dir: Path | str) -> BatchJob:
    """Check the request and queue a batch for exactly the stalls selected now; commits the batch row."""
    from printouts import LAYOUTS

    if not actor.can("print"):
        raise Forbidden("Vai trò của bạn không được in bảng QR.")
    market = get_market(session, actor, market_id).market
    if req.layout not in LAYOUTS:
        raise InvalidField("layout", f"Khổ in '{req.layout}' không có. Chọn một trong: {', '.join(LAYOUTS)}.")
    items = select_items(session, actor, market_id, req)
    if not items:
        raise NothingToPrint()
    if _busy(session, market_id):
        raise BatchBusy(f"Đang có một lô in khác của {market.name}. Hãy chờ lô đó xong rồi in tiếp.")
    batch = PrintBatch(market_id=market_id, layout=req.layout, selection=req.describe(), status=QUEUED,
                       total=len(items), created_by_id=actor.user_id)
    session.add(batch)
    session.commit()
    return BatchJob(batch.id, market_id, actor, req.layout, tuple(i.stall.code for i in items), Path(batch_dir))


def _busy(session: Session, market_id: int) -> bool:
    since = utcnow() - STALE_AFTER
    return session.exec(select(PrintBatch.id).where(PrintBatch.market_id == market_id,
                                                    PrintBatch.status.in_((QUEUED, RUNNING)),
                                                    PrintBatch.created_at > since)).first() is not None


class _Progress:
    """on_progress callback that writes done/total at most every ``every`` seconds (and at the end)."""

    def __init__(self, session: Session, batch: PrintBatch, every: float) -> None:
        self.session, self.batch, self.every, self.last = session, batch, every, time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < self.every:
            return
        self.batch.done, self.batch.total, self.last = done, total, now
        self.session.add(self.batch)
        self.session.commit()


def run_batch(engine: Engine, job: BatchJob, *, every: float = PROGRESS_EVERY) -> PrintBatch:
    """Render and record a queued batch; never raises: a failure is recorded on the batch, which is returned."""
    final = pdf_path(job.batch_dir, job.batch_id)
    part = final.with_suffix(".part")
    try:
        with session_scope(engine) as session:
            batch = _render_and_record(session, job, part, final, every)
        return batch
    except Exception as exc:  # noqa: BLE001 - whatever broke, the batch must end as failed, not stuck
        log.exception("print batch %s failed", job.batch_id)
        for path in (part, final):
            path.unlink(missing_ok=True)
        return _mark_failed(engine, job.batch_id, _message(exc))


def _render_and_record(session: Session, job: BatchJob, part: Path, final: Path, every: float) -> PrintBatch:
    from printouts import render_placards

    batch = session.get(PrintBatch, job.batch_id)
    batch.status, batch.done = RUNNING, 0
    session.add(batch)
    session.commit()
    market = session.get(Market, job.market_id)
    items = printable_items(session, job.actor, job.market_id, selection="picked", stall_codes=list(job.stall_codes))
    if not items:
        raise NothingToPrint("Các sạp đã chọn không còn mã QR để in.")
    serials = [batch_serial(market.code, batch.id, n) for n in range(1, len(items) + 1)]
    data = [placard_data(item, market, serial) for item, serial in zip(items, serials, strict=True)]
    batch.total = len(items)
    job.batch_dir.mkdir(parents=True, exist_ok=True)
    with part.open("wb") as stream:
        render_placards(data, stream, layout=job.layout, title=f"{market.name} – lô in {batch.id}",
                        on_progress=_Progress(session, batch, every))
    _refresh_households(session, items)  # they may have moved on while rendering: record against current rows
    record_prints(session, job.actor, market, items, batch, serials=serials)
    _check_current(session, items)  # after the first write: on SQLite nobody can commit in between now
    batch = session.get(PrintBatch, job.batch_id)
    batch.status, batch.done, batch.error = DONE, batch.total, None
    session.add(batch)
    os.replace(part, final)
    session.commit()
    return batch


def _refresh_households(session: Session, items: list[PrintItem]) -> None:
    """Reload the batch's households in one query (status, needs_reprint, version may have changed)."""
    ids = [i.household.id for i in items]
    session.exec(select(Household).where(Household.id.in_(ids)).execution_options(populate_existing=True)).all()


def _check_current(session: Session, items: list[PrintItem]) -> None:
    """Refuse to record placards whose QR was revoked or whose stall changed hands during the render."""
    live = set(session.exec(select(IssuedQR.id).where(IssuedQR.id.in_([i.qr.id for i in items]),
                                                      IssuedQR.revoked_at.is_(None)).with_for_update()))
    holders = dict(session.exec(select(Stall.id, Stall.household_id)
                                .where(Stall.id.in_([i.stall.id for i in items]))).all())
    changed = [i.stall.code for i in items if i.qr.id not in live or holders.get(i.stall.id) != i.household.id]
    if changed:
        raise StaleBatch(f"Trong lúc in, mã QR hoặc chủ sạp đã thay đổi ở: {', '.join(changed[:10])}"
                         f"{'…' if len(changed) > 10 else ''}. Hãy tạo lại lô in.")


def _message(exc: Exception) -> str:
    from printouts import ModuleTooSmall

    if isinstance(exc, DomainError):
        text = exc.message
    elif isinstance(exc, ModuleTooSmall):
        text = f"Mã QR sẽ in quá nhỏ ở khổ {exc.layout} ({exc.module_mm:.2f} mm/ô). Hãy chọn khổ lớn hơn."
    else:
        text = f"Lỗi khi tạo PDF ({type(exc).__name__}: {exc}). Chưa bảng nào được ghi nhận."
    return text[:300]


def _mark_failed(engine: Engine, batch_id: int, message: str) -> PrintBatch | None:
    try:
        with session_scope(engine) as session:
            batch = session.get(PrintBatch, batch_id)
            batch.status, batch.error = FAILED, message
            session.add(batch)
            session.commit()
            return batch
    except Exception:  # noqa: BLE001 - the database itself is gone; the log is all that is left
        log.exception("could not mark print batch %s failed", batch_id)
        return None


def dispatch(engine: Engine, job: BatchJob, *, sync: bool = False,
             runner: Callable[[Engine, BatchJob], object] = run_batch) -> threading.Thread | None:
    """Run the batch in a daemon thread (web) or inline (``sync``: CLI and tests)."""
    if sync:
        runner(engine, job)
        return None
    thread = threading.Thread(target=runner, args=(engine, job), name=f"print-batch-{job.batch_id}", daemon=True)
    thread.start()
    return thread


def get_batch(session: Session, viewer: Viewer, market_id: int, batch_id: int) -> PrintBatch:
    get_market(session, viewer, market_id)
    batch = session.get(PrintBatch, batch_id)
    if batch is None or batch.market_id != market_id:
        raise NotFound("Không tìm thấy lô in.")
    session.refresh(batch)  # the runner writes it from another session
    return batch


def list_batches(session: Session, viewer: Viewer, market_id: int, *, batch_dir: Path | str,
                 limit: int = 50) -> list[BatchRow]:
    """The market's batches, newest first, with who started them and whether the PDF can be downloaded."""
    get_market(session, viewer, market_id)
    rows = session.exec(select(PrintBatch, User.full_name).join(User, User.id == PrintBatch.created_by_id, isouter=True)
                        .where(PrintBatch.market_id == market_id).order_by(PrintBatch.id.desc()).limit(limit))
    now = utcnow()
    return [BatchRow(b, name or "hệ thống (dòng lệnh)", state_of(b, now), pdf_path(batch_dir, b.id).exists())
            for b, name in rows]


def batch_placards(session: Session, batch_id: int) -> list[tuple[Placard, str]]:
    """The placards a batch recorded with their stall codes, in print order."""
    return list(session.exec(select(Placard, Stall.code).join(Stall, Stall.id == Placard.stall_id)
                             .where(Placard.batch_id == batch_id).order_by(Placard.id)))


def selection_label(selection: str) -> str:
    """A stored selection in words, e.g. 'needed|zone:Dãy A' → 'Chỉ sạp cần in · Dãy A'."""
    words = []
    for part in selection.split("|"):
        kind, _, value = part.partition(":")
        words.append({"needed": "Chỉ sạp cần in", "all": "Tất cả sạp có QR", "zone": value,
                      "picked": f"Chọn tay: {value.replace(',', ', ')}"}.get(kind, part))
    return " · ".join(words)


@dataclass(frozen=True)
class PrintableCounts:
    """How many stalls each choice of the print form would print, overall and per zone."""

    all: int
    needed: int
    zones: tuple[tuple[str, int, int], ...]  # (zone, with a live QR, needing a print)


def printable_counts(session: Session, viewer: Viewer, market_id: int) -> PrintableCounts:
    items = printable_items(session, viewer, market_id)
    needed = {i.stall.id for i in printable_items(session, viewer, market_id, selection="needed")}
    zones: dict[str, list[int]] = {}
    for i in items:
        z = zones.setdefault(i.stall.zone, [0, 0])
        z[0] += 1
        z[1] += i.stall.id in needed
    return PrintableCounts(len(items), len(needed), tuple((z, a, n) for z, (a, n) in zones.items()))


def creator_name(session: Session, batch: PrintBatch) -> str:
    user = session.get(User, batch.created_by_id) if batch.created_by_id else None
    return user.full_name if user else "hệ thống (dòng lệnh)"
