"""Writing an import's checked rows in batches, through the one registration writer (``registration``)."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from merchants.scope import Viewer
from merchants.services.audit import record
from merchants.services.import_types import BATCH, CONFLICT, Check, ImportConflict, Known, Plan, RowProblem, chunks
from merchants.services.registration import IMPORT, StallTaken, write_registrations


def new_stall_count(plans: list[Plan], known: Known) -> int:
    return sum(c.upper() not in known.stalls for p in plans for c in p.stall_codes)


def store(
    session: Session,
    actor: Viewer,
    market_id: int,
    check: Check,
    *,
    atomic: bool,
    progress: Callable[[int, int], None] | None = None,
) -> list[RowProblem]:
    """Write the plans BATCH at a time; a batch that meets a concurrent change is retried row by row.

    ``progress(done, total)`` is called before each batch commits, so a job's progress lands with its rows.
    """
    late: list[RowProblem] = []
    try:
        for n, batch in enumerate(chunks(check.plans, BATCH)):
            if progress:
                progress(min((n + 1) * BATCH, len(check.plans)), len(check.plans))
            try:
                _write(session, actor, market_id, batch, check.known)
                if not atomic:
                    session.commit()
            except (IntegrityError, StallTaken):
                session.rollback()
                if atomic:
                    raise
                late += _write_one_by_one(session, actor, market_id, batch, check)
        if atomic:
            session.commit()
    except (IntegrityError, StallTaken) as exc:
        raise ImportConflict(
            "Trong lúc lưu, có người vừa đăng ký một sạp, số CCCD hoặc tài khoản trong tệp; "
            "không có gì được lưu. Hãy nhập lại tệp."
        ) from exc
    except Exception:
        session.rollback()
        raise
    return late


def _write_one_by_one(
    session: Session, actor: Viewer, market_id: int, batch: list[Plan], check: Check
) -> list[RowProblem]:
    late = []
    for plan in batch:
        try:
            _write(session, actor, market_id, [plan], check.known)
            session.commit()
        except (IntegrityError, StallTaken):
            session.rollback()
            late.append(RowProblem(plan.row, check.column("stalls"), CONFLICT))
    return late


def _write(session: Session, actor: Viewer, market_id: int, plans: list[Plan], known: Known) -> None:
    """The rows the register form leaves, for many households at once, by the one writer; the caller commits."""
    write_registrations(session, actor, market_id, plans, known.stalls, source=IMPORT)


def record_import(
    session: Session,
    actor: Viewer,
    market_id: int,
    filename: str,
    created: int,
    skipped: int,
    problems: list[RowProblem],
) -> None:
    record(
        session,
        actor,
        "import.file",
        market_id=market_id,
        filename=filename[:200],
        created=created,
        skipped=skipped,
        refused_rows=len({p.row for p in problems}),
    )
    session.commit()
