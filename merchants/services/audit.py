"""The audit trail and status history: written by services in the same transaction as the change."""

from __future__ import annotations

import json
from typing import Any, Final

from sqlmodel import Session

from merchants.errors import N_
from merchants.models import AuditLog, Household, StatusEvent, utcnow
from merchants.scope import Viewer
from merchants.status import check_transition

# Who a row with no user was made by (the command line, a job, a webhook), as audit and history pages name it: the
# rows store no name, so the page says it in the reader's language (``views.actor_name``).
SYSTEM_NAME: Final = N_("hệ thống")


def record(
    session: Session,
    actor: Viewer,
    action: str,
    *,
    household_id: int | None = None,
    subject: str = "",
    source_ip: str | None = None,
    **detail: Any,
) -> None:
    """Append one audit row; the caller commits. Detail must already be masked where it holds PII."""
    session.add(
        AuditLog(
            user_id=actor.user_id,
            action=action,
            household_id=household_id,
            subject=subject[:80],
            source_ip=source_ip,
            detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True),
        )
    )


def changed(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """The fields that differ, as ``{field: [old, new]}``: what a set-up audit row stores for an edit."""
    return {k: [old.get(k), new.get(k)] for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}


def record_change(
    session: Session, actor: Viewer, action: str, subject: str, old: dict[str, Any], new: dict[str, Any], **extra: Any
) -> None:
    """An audit row for creating or editing a set-up record: who, when, what, old → new (only what changed)."""
    record(session, actor, action, subject=subject, changes=changed(old, new), **extra)


def move_status(session: Session, actor: Viewer, household: Household, target: str) -> None:
    """Move a household along the workflow, checked by ``status.check_transition``, and log who and when."""
    household.status = check_transition(household.status, target)
    household.updated_at = utcnow()
    session.add(household)
    session.flush()
    session.add(StatusEvent(household_id=household.id, status=target, user_id=actor.user_id))


def record_denial(
    session: Session, actor: Viewer, *, status: int, method: str, path: str, source_ip: str | None
) -> None:
    """A refused request (403, or 404 for a record outside the viewer's areas) in the trail, committed at once.

    The request changes nothing, so whatever it had pending is rolled back first. Only the path is kept, never
    the query string: search boxes put phone and CCCD numbers there.
    """
    session.rollback()
    record(
        session,
        actor,
        "access.denied",
        subject=f"path:{path}",
        source_ip=source_ip,
        status=status,
        method=method,
        path=path[:300],
    )
    session.commit()
