"""Tiny factories: each makes one record with sensible defaults, overridable by keyword."""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient
from sqlmodel import Session, select

from merchants.models import Commune, Household, Market, Province, Stall, User
from merchants.scope import SYSTEM
from merchants.services import households as hs
from merchants.services import users
from merchants.services.registry_queries import get_market

PASSWORD = "mat-khau-123"
# Argon2id at its lowest cost: the same code path, a thousand times faster. Every app a test builds takes it
# (create_app configures the process's hasher from these settings).
CHEAP_HASHING = {"PASSWORD_HASH_TIME_COST": 1, "PASSWORD_HASH_MEMORY_KIB": 8, "PASSWORD_HASH_PARALLELISM": 1}
_seq = itertools.count(1)


def make_market(
    session: Session,
    *,
    code: str | None = None,
    name: str = "Chợ Thử",
    commune_code: str | None = None,
    province_code: str = "22",
    stalls: int = 5,
    zone: str = "Dãy A",
    is_demo: bool = False,
) -> Market:
    """A market (creating its province and commune when missing) with ``stalls`` free stalls A-001…"""
    n = next(_seq)
    province = session.exec(select(Province).where(Province.code == province_code)).first()
    if province is None:
        province = Province(code=province_code, name=f"Tỉnh {province_code}")
        session.add(province)
        session.flush()
    commune_code = commune_code or f"XA{n}"
    commune = session.exec(select(Commune).where(Commune.code == commune_code)).first()
    if commune is None:
        commune = Commune(code=commune_code, name=f"Xã {commune_code}", province_id=province.id)
        session.add(commune)
        session.flush()
    market = Market(code=code or f"CHO{n}", name=name, commune_id=commune.id, is_demo=is_demo)
    session.add(market)
    session.flush()
    session.add_all([Stall(market_id=market.id, code=f"A-{i:03d}", zone=zone) for i in range(1, stalls + 1)])
    session.commit()
    return market


def free_stall(session: Session, market: Market) -> Stall:
    """The market's first free stall by code (one row read: ``first()`` alone would load every free stall)."""
    return session.exec(
        select(Stall).where(Stall.market_id == market.id, Stall.household_id.is_(None)).order_by(Stall.code).limit(1)
    ).first()


def make_household(session: Session, market: Market, *, account: bool = True, **overrides: Any) -> Household:
    """A household at the market's next free stall, with a Vietcombank account and an issued QR by default."""
    n = next(_seq)
    fields = {
        "owner_name": "Nguyễn Thị Đào",
        "phone": f"0912{n:06d}",
        "citizen_id": f"0221{n % 100:02d}{n:06d}",
        "goods": "Rau củ",
    }
    acc_fields = {"bin": "970436", "account_number": f"00110{n:08d}", "holder_name": ""}
    for key in list(overrides):
        if key in acc_fields:
            acc_fields[key] = overrides.pop(key)
    fields.update(overrides)
    return hs.register_household(
        session,
        get_market(session, SYSTEM, market.id),
        stall_ids=[free_stall(session, market).id],
        household=hs.HouseholdInput(**fields),
        account=hs.AccountInput(**acc_fields) if account else None,
    )


def make_user(
    session: Session,
    role: str = "commune_officer",
    *,
    markets: list[Market] = (),
    communes: list[str] = (),
    provinces: list[str] = (),
    username: str | None = None,
) -> User:
    return users.create_user(
        session,
        username=username or f"user{next(_seq)}",
        full_name="Cán Bộ Thử",
        password=PASSWORD,
        role=role,
        market_codes=[m.code for m in markets],
        commune_codes=list(communes),
        province_codes=list(provinces),
    )


def login(client: FlaskClient, user: User, password: str = PASSWORD) -> None:
    resp = client.post("/login", data={"username": user.username, "password": password})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
