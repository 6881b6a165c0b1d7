"""Batch printing: what a print request selects, and queuing it as a ``PrintBatch`` for the job queue.

``start_batch`` checks the request and commits a queued batch holding the exact stalls selected; a worker
(``merchants.jobs``) renders it through ``batch_runner`` and records it only once its PDF is whole. Pages and
lists read batches through ``batch_queries``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func
from sqlmodel import Session, select

from merchants.errors import DomainError, Forbidden, InvalidField
from merchants.models import Placard, PrintBatch, utcnow
from merchants.services.batch_files import pdf_path
from merchants.services.placards import PrintItem, printable_items
from merchants.services.registry_queries import MarketInfo
from merchants.stallcodes import split_codes

__all__ = ["pdf_path"]  # re-exported: pages, the CLI and tests find the download here

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"
# A queued or running batch with no sign of life for this long reads as failed and no longer blocks its
# market, even if no worker is left to reap it (the reaper acts after seconds, see batch_reaper).
STALE_AFTER = timedelta(minutes=30)


class NothingToPrint(InvalidField):
    """The selection holds no stall with a live QR."""

    def __init__(self, message: str = "Không có sạp nào để in với lựa chọn này.") -> None:
        super().__init__("selection", message)


class BatchBusy(DomainError):
    """Another batch of the same market is still queued or being rendered."""


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
        codes = tuple(split_codes(stall_codes.replace(" ", ","), field="stall_codes"))  # the one stall-code rule
        if not codes:
            raise InvalidField("stall_codes", "Hãy nhập ít nhất một mã sạp, ví dụ: A-001, A-002.")
        return BatchRequest(layout, stall_codes=codes)
    raise InvalidField("selection", "Lựa chọn in '%(selection)s' không tồn tại.", selection=selection)


@dataclass(frozen=True)
class BatchJob:
    """A queued batch: its id to hand to the queue, where its files go, and the stalls it holds."""

    batch_id: int
    batch_dir: Path
    stall_codes: tuple[str, ...]


def select_items(session: Session, market: MarketInfo, req: BatchRequest) -> list[PrintItem]:
    """The stalls a request prints, in zone and code order; unknown or QR-less picked codes are an error."""
    if req.stall_codes:
        items = printable_items(session, market, selection="picked", stall_codes=list(req.stall_codes))
        missing = sorted(set(req.stall_codes) - {i.stall.code for i in items})
        if missing:
            raise InvalidField(
                "stall_codes", "Sạp không có trong chợ hoặc chưa có mã QR: %(codes)s.", codes=", ".join(missing)
            )
    elif req.zone:
        items = printable_items(session, market, selection="zone", zone=req.zone)
    else:
        items = printable_items(session, market)
    if req.zone and req.stall_codes:
        items = [i for i in items if i.stall.zone == req.zone]
    if req.only_needed:
        needed = {i.stall.id for i in printable_items(session, market, selection="needed")}
        items = [i for i in items if i.stall.id in needed]
    return items


def hanging_placards(session: Session, market: MarketInfo, req: BatchRequest) -> int:
    """How many of the selected stalls have a live placard that printing this batch would revoke (the page asks
    before a one-tap 'all stalls' reprint takes down every placard already hung)."""
    stall_ids = [i.stall.id for i in select_items(session, market, req)]
    if not stall_ids:
        return 0
    return len(
        set(session.exec(select(Placard.stall_id).where(Placard.stall_id.in_(stall_ids), Placard.revoked_at.is_(None))))
    )


def start_batch(session: Session, info: MarketInfo, req: BatchRequest, *, batch_dir: Path | str) -> BatchJob:
    """Check the request and queue a batch for exactly the stalls selected now; commits the batch row."""
    from printouts import LAYOUTS

    actor, market, market_id = info.viewer, info.market, info.id
    if not actor.can("print"):
        raise Forbidden("Vai trò của bạn không được in bảng QR.")
    if req.layout not in LAYOUTS:
        raise InvalidField(
            "layout",
            "Khổ in '%(layout)s' không có. Chọn một trong: %(layouts)s.",
            layout=req.layout,
            layouts=", ".join(LAYOUTS),
        )
    items = select_items(session, info, req)
    if not items:
        raise NothingToPrint()
    if _busy(session, market_id):
        raise BatchBusy("Đang có một lô in khác của %(market)s. Hãy chờ lô đó xong rồi in tiếp.", market=market.name)
    codes = tuple(i.stall.code for i in items)
    batch = PrintBatch(
        market_id=market_id,
        layout=req.layout,
        selection=req.describe(),
        status=QUEUED,
        total=len(items),
        created_by_id=actor.user_id,
        stall_codes=json.dumps(codes, ensure_ascii=False),
    )
    session.add(batch)
    session.commit()
    return BatchJob(batch.id, Path(batch_dir), codes)


def _busy(session: Session, market_id: int) -> bool:
    """Whether the market has a batch that is queued or running and still shows signs of life."""
    since = utcnow() - STALE_AFTER
    alive = func.coalesce(PrintBatch.heartbeat_at, PrintBatch.created_at) > since
    open_ = PrintBatch.status.in_((QUEUED, RUNNING))
    found = session.exec(select(PrintBatch.id).where(PrintBatch.market_id == market_id, open_, alive)).first()
    return found is not None


def last_sign_of_life(batch: PrintBatch) -> datetime:
    """The batch's latest heartbeat, or its creation if no worker touched it yet (always timezone-aware)."""
    at = batch.heartbeat_at or batch.created_at
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def state_of(batch: PrintBatch, now: datetime | None = None) -> str:
    """The batch status, except that a queued/running batch silent for ``STALE_AFTER`` reads 'failed'."""
    if batch.status in (QUEUED, RUNNING) and (now or utcnow()) - last_sign_of_life(batch) > STALE_AFTER:
        return FAILED
    return batch.status


def run_batch(engine: Engine, job: BatchJob) -> PrintBatch | None:
    """Render and record a queued batch here and now (the CLI, tests); the queue's workers do the same."""
    from merchants.services.batch_runner import run

    return run(engine, job.batch_id, batch_dir=job.batch_dir)
