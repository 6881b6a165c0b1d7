"""Payment sources: who may send credits, for which areas, with which key; added, listed, rotated and revoked.

Areas are given by official code and resolved exactly as a user's are (``user_scope.resolve_scope``), and only an
administrator of those areas manages a source (``user_scope.manages``). A key is shown once, when made: a SePay key is
then kept as its SHA-256 only; a Casso key is kept as itself, because checking an HMAC needs the key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any, Final

from sqlalchemy import bindparam, case, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from merchants.clock import vn_date
from merchants.errors import Duplicate, Forbidden, InvalidField, NotFound
from merchants.models import utcnow
from merchants.payment_models import PaymentSource, PaymentSourceScope
from merchants.scope import SYSTEM, Viewer
from merchants.services import audit
from merchants.services.user_scope import AreaGrant, ScopeItem, area_items, manages, require_manager, resolve_scope

KINDS: Final = ("sepay", "casso", "statement")
NAME_MAX: Final = 60  # as ``PaymentSource.name``
WEBHOOK_KINDS: Final = frozenset({"sepay", "casso"})


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@dataclass(frozen=True)
class SourceRow:
    """A source as the admin page and ``choqr payments sources list`` show it (never its key)."""

    id: int
    name: str
    kind: str
    scope: tuple[ScopeItem, ...]
    created_at: datetime
    rotated_at: datetime | None
    revoked_at: datetime | None
    last_event_at: datetime | None
    stored_total: int
    rejected_today: int
    unknown_today: int

    @property
    def scope_label(self) -> str:
        return ", ".join(i.label for i in self.scope)


def _clean_name(raw: str) -> str:
    name = " ".join((raw or "").split())
    if not name or len(name) > NAME_MAX:
        raise InvalidField("name", "Tên nguồn thanh toán phải có từ 1 đến %(max)s ký tự.", max=NAME_MAX)
    return name


def _new_key(kind: str) -> str:
    return f"choqr_{kind}_" + secrets.token_urlsafe(32)


def _set_key(source: PaymentSource, kind: str) -> str | None:
    """A fresh key for a webhook source (none for statement files, which an officer uploads signed in)."""
    if kind not in WEBHOOK_KINDS:
        return None
    key = _new_key(kind)
    if kind == "sepay":
        source.secret_hash, source.hmac_key = key_digest(key), None
    else:
        source.secret_hash, source.hmac_key = None, key
    return key


def scope_items_of(session: Session, source_ids: Iterable[int] | None = None) -> dict[int, list[ScopeItem]]:
    """The areas of these sources, by source id, as ``ScopeItem`` (read as users' areas are)."""
    return area_items(session, PaymentSourceScope, PaymentSourceScope.source_id, source_ids)


def _check_manage(actor: Viewer, items: Iterable[ScopeItem]) -> None:
    require_manager(actor)
    if not manages(actor, items):
        raise Forbidden("Bạn chỉ quản lý nguồn thanh toán trong tỉnh mình phụ trách.", field="scope")


def add_source(
    session: Session,
    *,
    name: str,
    kind: str,
    scope: AreaGrant,
    actor: Viewer = SYSTEM,
    source_ip: str | None = None,
) -> tuple[PaymentSource, str | None]:
    """A new source scoped to the areas given by code; returns it and its key (``None`` for statement files)."""
    name = _clean_name(name)
    if kind not in KINDS:
        raise InvalidField(
            "kind", "Loại nguồn '%(kind)s' không có; chọn một trong: %(kinds)s.", kind=kind, kinds=", ".join(KINDS)
        )
    if scope.empty:
        raise InvalidField("scope", "Nguồn thanh toán cần ít nhất một tỉnh, xã/phường hoặc chợ.")
    items = resolve_scope(session, scope)
    _check_manage(actor, items)
    existing = session.exec(select(PaymentSource.id).where(PaymentSource.name == name)).first()
    if existing is not None:
        raise Duplicate("name", "Đã có nguồn thanh toán tên '%(name)s'.", existing_id=existing, name=name)
    source = PaymentSource(name=name, kind=kind, created_by_id=actor.user_id)
    key = _set_key(source, kind)
    session.add(source)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Duplicate("name", "Đã có nguồn thanh toán tên '%(name)s'.", existing_id=0, name=name) from None
    for item in items:
        session.add(PaymentSourceScope(source_id=source.id, **{f"{item.level[:-1]}_id": item.id}))
    audit.record(
        session,
        actor,
        "payment_source.create",
        subject=f"payment_source:{name}",
        source_ip=source_ip,
        kind=kind,
        scope=[i.label for i in items],
    )
    session.commit()
    return source, key


def _get(session: Session, actor: Viewer, name: str) -> PaymentSource:
    source = session.exec(select(PaymentSource).where(PaymentSource.name == " ".join((name or "").split()))).first()
    if source is None:
        raise NotFound("Không có nguồn thanh toán tên '%(name)s'.", field="name", name=name)
    _check_manage(actor, scope_items_of(session, [source.id]).get(source.id, []))
    return source


def rotate_source(session: Session, name: str, *, actor: Viewer = SYSTEM, source_ip: str | None = None) -> str:
    """A new key for a webhook source; the old one stops working at once. Returned to be shown once."""
    source = _get(session, actor, name)
    if source.revoked_at is not None:
        raise InvalidField("name", "Nguồn '%(name)s' đã bị thu hồi; hãy tạo nguồn mới.", name=source.name)
    key = _set_key(source, source.kind)
    if key is None:
        raise InvalidField("kind", "Nguồn sao kê không dùng khóa; không có gì để đổi.")
    source.rotated_at = utcnow()
    session.add(source)
    audit.record(session, actor, "payment_source.rotate", subject=f"payment_source:{source.name}", source_ip=source_ip)
    session.commit()
    return key


def revoke_source(session: Session, name: str, *, actor: Viewer = SYSTEM, source_ip: str | None = None) -> None:
    """Stop a source for good: its calls are refused from now on; the credits it sent stay."""
    source = _get(session, actor, name)
    if source.revoked_at is not None:
        return
    source.revoked_at = utcnow()
    source.secret_hash = source.hmac_key = None
    session.add(source)
    audit.record(session, actor, "payment_source.revoke", subject=f"payment_source:{source.name}", source_ip=source_ip)
    session.commit()


def list_sources(session: Session, actor: Viewer, *, today: date | None = None) -> list[SourceRow]:
    """The sources the actor manages, by name, with their counters ("today" is the Vietnam day)."""
    require_manager(actor)
    today = today or vn_date(utcnow())
    sources = list(session.exec(select(PaymentSource).order_by(PaymentSource.name)))
    items = scope_items_of(session, [s.id for s in sources])
    rows = []
    for s in sources:
        mine = tuple(items.get(s.id, ()))
        if not manages(actor, mine):
            continue
        fresh = s.counted_on == today
        rows.append(
            SourceRow(
                s.id,
                s.name,
                s.kind,
                mine,
                s.created_at,
                s.rotated_at,
                s.revoked_at,
                s.last_event_at,
                s.stored_total,
                s.rejected_today if fresh else 0,
                s.unknown_today if fresh else 0,
            )
        )
    return rows


def get_statement_source(session: Session, actor: Viewer, name: str) -> PaymentSource:
    """A live statement source the actor manages (what an upload or ``choqr payments import`` names)."""
    source = _get(session, actor, name)
    if source.revoked_at is not None:
        raise InvalidField("source", "Nguồn '%(name)s' đã bị thu hồi.", name=source.name)
    if source.kind != "statement":
        raise InvalidField(
            "source",
            "Nguồn '%(name)s' là webhook (%(kind)s), không nhận tệp sao kê.",
            name=source.name,
            kind=source.kind,
        )
    return source


# --- finding the source of a webhook call ----------------------------------------------------------------------


@cache
def _statements() -> dict[str, Any]:
    """The statements every webhook call runs, built once (their construction costs more than running them)."""
    src = PaymentSource.__table__.c
    new_day = src.counted_on.is_distinct_from(bindparam("today"))
    rejected, unknown = bindparam("rejected"), bindparam("unknown")
    return {
        "sepay": select(PaymentSource).where(
            col(PaymentSource.secret_hash) == bindparam("digest"),
            col(PaymentSource.kind) == "sepay",
            col(PaymentSource.revoked_at).is_(None),
        ),
        "count": update(PaymentSource)
        .where(PaymentSource.id == bindparam("source_id"))
        .values(
            last_event_at=bindparam("now"),
            counted_on=bindparam("today"),
            stored_total=src.stored_total + bindparam("stored"),
            rejected_total=src.rejected_total + rejected,
            unknown_total=src.unknown_total + unknown,
            rejected_today=case((new_day, rejected), else_=src.rejected_today + rejected),
            unknown_today=case((new_day, unknown), else_=src.unknown_today + unknown),
        ),
    }


def sepay_source(session: Session, key: str) -> PaymentSource | None:
    """The live SePay source whose key this is. The key's SHA-256 is looked up (an index seek, so no comparison
    of secrets happens in Python whose time could leak a prefix)."""
    if not key:
        return None
    digest = key_digest(key)
    source = session.exec(_statements()["sepay"], params={"digest": digest}).first()
    # The database found it by equality; the digests are compared once more in constant time, so no path of this
    # check ever compares a secret byte by byte.
    if source is None or not hmac.compare_digest(source.secret_hash or "", digest):
        return None
    return source


def casso_sources(session: Session) -> list[PaymentSource]:
    """Live Casso sources: a call is theirs when its signature verifies under one of their keys."""
    return list(
        session.exec(
            select(PaymentSource).where(
                col(PaymentSource.kind) == "casso",
                col(PaymentSource.revoked_at).is_(None),
                col(PaymentSource.hmac_key).is_not(None),
            )
        )
    )


def count(session: Session, source_id: int, *, stored: int = 0, rejected: int = 0, unknown: int = 0) -> None:
    """Add to a source's counters in one UPDATE (concurrent calls add up), resetting "today" on a new day.

    The caller commits, together with the events it stored.
    """
    now = utcnow()
    session.connection().execute(
        _statements()["count"],
        {
            "source_id": source_id,
            "now": now,
            "today": vn_date(now),
            "stored": stored,
            "rejected": rejected,
            "unknown": unknown,
        },
    )
