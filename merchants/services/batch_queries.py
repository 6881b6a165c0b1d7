"""Reading print batches for pages: a market's list, one batch with its placards, the print form's counts."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from merchants.errors import N_, NotFound, Phrase
from merchants.models import Placard, PrintBatch, Stall, User, utcnow
from merchants.services.batch_files import pdf_path
from merchants.services.batches import state_of
from merchants.services.placards import printable_items
from merchants.services.registry_queries import MarketInfo

SYSTEM_NAME = N_("hệ thống (dòng lệnh)")  # who started a batch from the command line; pages translate it


@dataclass(frozen=True)
class BatchRow:
    batch: PrintBatch
    who: str
    state: str
    has_file: bool


def percent(done: int, total: int) -> int:
    """Floored progress percentage (100 only when every placard is drawn)."""
    return 0 if total <= 0 else min(100, done * 100 // total)


def sheets(layout: str, placards: int) -> int:
    """Sheets of paper a batch takes at ``layout``."""
    from printouts import LAYOUTS

    return math.ceil(placards / LAYOUTS[layout].per_sheet) if layout in LAYOUTS else 0


def get_batch(session: Session, market: MarketInfo, batch_id: int) -> PrintBatch:
    """One batch of a market the viewer serves, as the worker last wrote it."""
    batch = session.get(PrintBatch, batch_id)
    if batch is None or batch.market_id != market.id:
        raise NotFound("Không tìm thấy lô in.")
    session.refresh(batch)  # the worker writes it from another session
    return batch


def list_batches(session: Session, market: MarketInfo, *, batch_dir: Path | str, limit: int = 50) -> list[BatchRow]:
    """The market's batches, newest first, with who started them and whether the PDF can be downloaded."""
    rows = session.exec(
        select(PrintBatch, User.full_name)
        .join(User, User.id == PrintBatch.created_by_id, isouter=True)
        .where(PrintBatch.market_id == market.id)
        .order_by(PrintBatch.id.desc())
        .limit(limit)
    )
    now = utcnow()
    return [BatchRow(b, name or SYSTEM_NAME, state_of(b, now), pdf_path(batch_dir, b.id).exists()) for b, name in rows]


def batch_placards(session: Session, batch_id: int) -> list[tuple[Placard, str]]:
    """The placards a batch recorded with their stall codes, in print order."""
    return list(
        session.exec(
            select(Placard, Stall.code)
            .join(Stall, Stall.id == Placard.stall_id)
            .where(Placard.batch_id == batch_id)
            .order_by(Placard.id)
        )
    )


def selection_label(selection: str) -> Phrase:
    """A stored selection in words, e.g. 'needed|zone:Dãy A' → 'Chỉ sạp cần in · Dãy A' (a page translates it)."""
    words: list[Phrase | str] = []
    for part in selection.split("|"):
        kind, _, value = part.partition(":")
        if kind == "needed":
            words.append(Phrase(N_("Chỉ sạp cần in")))
        elif kind == "all":
            words.append(Phrase(N_("Tất cả sạp có QR")))
        elif kind == "picked":
            words.append(Phrase(N_("Chọn tay: %(codes)s"), codes=value.replace(",", ", ")))
        else:
            words.append(value if kind == "zone" else part)
    return Phrase.joined(words, " · ")


@dataclass(frozen=True)
class PrintableCounts:
    """How many stalls each choice of the print form would print, overall and per zone."""

    all: int
    needed: int
    zones: tuple[tuple[str, int, int], ...]  # (zone, with a live QR, needing a print)


def printable_counts(session: Session, market: MarketInfo) -> PrintableCounts:
    items = printable_items(session, market)
    needed = {i.stall.id for i in printable_items(session, market, selection="needed")}
    zones: dict[str, list[int]] = {}
    for i in items:
        z = zones.setdefault(i.stall.zone, [0, 0])
        z[0] += 1
        z[1] += i.stall.id in needed
    return PrintableCounts(len(items), len(needed), tuple((z, a, n) for z, (a, n) in zones.items()))


def failure(batch: PrintBatch) -> Phrase | str | None:
    """Why the batch failed, for the page to say in the reader's language (the sentence alone for older rows)."""
    return Phrase.loads(batch.error_data) or batch.error


def creator_name(session: Session, batch: PrintBatch) -> str:
    user = session.get(User, batch.created_by_id) if batch.created_by_id else None
    return user.full_name if user else SYSTEM_NAME
