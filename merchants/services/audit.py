"""The audit trail and status history: written by services in the same transaction as the change."""

from __future__ import annotations

import json
from typing import Any

from sqlmodel import Session

from merchants.models import AuditLog, Household, StatusEvent, utcnow
from merchants.scope import Viewer
from merchants.status import check_transition


def record(session: Session, actor: Viewer, action: str, *, household_id: int | None = None, **detail: Any) -> None:
    """Append one audit row; the caller commits. Detail must already be masked where it holds PII."""
    session.add(AuditLog(user_id=actor.user_id, action=action, household_id=household_id,
                         detail=json.dumps(detail, ensure_ascii=False, default=str, sort_keys=True)))


def move_status(session: Session, actor: Viewer, household: Household, target: str) -> None:
    """Move a household along the workflow, checked by ``status.check_transition``, and log who and when."""
    household.status = check_transition(household.status, target)
    household.updated_at = utcnow()
    session.add(household)
    session.flush()
    session.add(StatusEvent(household_id=household.id, status=target, user_id=actor.user_id))
