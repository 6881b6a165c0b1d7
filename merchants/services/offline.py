"""What a tablet keeps for registering with no signal: the key its drafts are encrypted with, and its markets.

The draft key is derived, not stored: HMAC-SHA-256 of the app's secret key and the session's random token.
The server keeps only the token's SHA-256 (merchants/services/sessions.py) and the tablet keeps the token only in
its session cookie, so once sign-out drops the cookie nobody can derive the key again, and no migration or
column is needed. Each sign-in opens a new session, hence a new key: drafts never outlive the session that made
them in readable form.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Final

from sqlmodel import Session, col, select

from merchants.models import Commune, Market, Stall, stall_in_state
from merchants.scope import Viewer, market_condition
from qr import all_banks

DRAFT_KEY_CONTEXT: Final = b"choqr offline draft key v1\x00"
MAX_MARKETS: Final = 50  # a programme-wide administrator serves every market: the tablet keeps the first 50


def draft_key(secret_key: str | bytes, session_token: str) -> bytes:
    """The 32-byte AES key for this session's drafts, the same for every request of the session."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    return hmac.new(secret, DRAFT_KEY_CONTEXT + session_token.encode(), hashlib.sha256).digest()


@dataclass(frozen=True)
class FreeStall:
    id: int
    code: str
    zone: str


@dataclass(frozen=True)
class OfflineMarket:
    """A market the officer may register in, with the stalls still free there."""

    id: int
    code: str
    name: str
    stalls: tuple[FreeStall, ...]


def offline_markets(session: Session, viewer: Viewer, *, limit: int = MAX_MARKETS) -> list[OfflineMarket]:
    """The open markets the viewer serves (by name, at most ``limit``) and their open free stalls."""
    markets = session.exec(
        select(Market)
        .join(Commune, col(Commune.id) == col(Market.commune_id))
        .where(market_condition(viewer), col(Market.closed_at).is_(None))
        .order_by(col(Market.name), col(Market.id))
        .limit(limit)
    ).all()
    ids = [m.id for m in markets]
    stalls: dict[int, list[FreeStall]] = {i: [] for i in ids if i is not None}
    if ids:
        rows = session.exec(
            select(Stall)
            .where(col(Stall.market_id).in_(ids), stall_in_state("free"))
            .order_by(col(Stall.zone), col(Stall.code))
        ).all()
        for s in rows:
            stalls[s.market_id].append(FreeStall(s.id or 0, s.code, s.zone))
    return [OfflineMarket(m.id or 0, m.code, m.name, tuple(stalls.get(m.id or 0, ()))) for m in markets]


def bank_list() -> list[dict[str, str]]:
    """The NAPAS directory as the register form lists it: BIN and the names shown."""
    return [{"bin": b.bin, "short_name": b.short_name, "name": b.name} for b in all_banks()]
