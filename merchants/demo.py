"""Demo data that reproduces a real district report: Chợ Cái Rồng, 356 of 364 households on VietQR.

Account numbers are fake and the markets are flagged ``is_demo`` so every placard printed from them
carries a large 'MẪU' (sample) mark: no demo QR can end up on a real stall.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session, select

from merchants import roles
from merchants.clock import vn_today
from merchants.models import Household, IssuedQR, Market, Stall
from merchants.scope import SYSTEM
from merchants.services import households as hs
from merchants.services import users
from merchants.services.areas import commune_by_code, load_shipped_if_empty
from merchants.services.placards import printable_items, record_prints
from merchants.services.registry_queries import get_market

DEMO_PASSWORD = "choqr-demo"
FAMILY = (
    ["Nguyễn"] * 8
    + ["Trần"] * 3
    + ["Lê"] * 3
    + ["Phạm"] * 2
    + ["Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Phan"]
)
MIDDLE_F = ["Thị", "Thị", "Thị Thu", "Thị Thanh", "Ngọc", "Thị Minh", "Thị Hồng", "Thu"]
MIDDLE_M = ["Văn", "Văn", "Đức", "Minh", "Hữu", "Quang", "Xuân", "Công", "Thanh"]
GIVEN_F = [
    "Đào",
    "Hoa",
    "Lan",
    "Hương",
    "Mai",
    "Nga",
    "Phương",
    "Yến",
    "Thảo",
    "Linh",
    "Hà",
    "Oanh",
    "Hạnh",
    "Thủy",
    "Nhung",
    "Quyên",
    "Huyền",
    "Loan",
    "Dung",
    "Tuyết",
    "Chi",
    "Ngân",
    "Liên",
    "Thơm",
]
GIVEN_M = [
    "Hùng",
    "Dũng",
    "Tuấn",
    "Hải",
    "Bình",
    "Cường",
    "Sơn",
    "Long",
    "Tâm",
    "Thắng",
    "Quý",
    "Khoa",
    "Đạt",
    "Toàn",
    "Phúc",
    "Lợi",
    "Vinh",
    "Nam",
]
GOODS = [
    "Rau củ quả",
    "Thịt lợn",
    "Hải sản tươi sống",
    "Cá khô, mực khô",
    "Chả mực Hạ Long",
    "Sá sùng Vân Đồn",
    "Tạp hóa",
    "Quần áo",
    "Giày dép",
    "Trái cây",
    "Gạo, ngũ cốc",
    "Bánh kẹo",
    "Hoa tươi",
    "Gà vịt",
    "Đồ gia dụng",
    "Bún, phở, bánh cuốn",
    "Đồ khô, gia vị",
    "Mỹ phẩm",
    "Đậu phụ",
    "Thịt bò",
]
# (BIN, account length) for the banks most stall households use around Quảng Ninh.
BANKS = (
    [("970405", 13)] * 5
    + [("970436", 13)] * 3
    + [("970415", 12)] * 2
    + [("970418", 14)] * 2
    + [("970422", 12), ("970407", 14), ("970449", 12), ("970403", 12), ("970432", 9)]
)
PHONE_PREFIXES = [
    "091",
    "094",
    "088",
    "098",
    "097",
    "096",
    "086",
    "032",
    "035",
    "039",
    "090",
    "093",
    "070",
    "077",
    "081",
    "083",
    "085",
    "056",
    "058",
]


@dataclass(frozen=True)
class DemoMarket:
    code: str
    name: str
    commune_code: str
    commune_name: str
    legacy_district: str | None
    zones: tuple[tuple[str, str, int], ...]  # (zone name, stall prefix, stalls)
    uncovered: int
    printed_share: float
    free_stalls: int = 0  # empty stalls so the demo can register a new household


MARKETS = (
    DemoMarket(
        "CAIRONG",
        "Chợ Cái Rồng",
        "06994",
        "Đặc khu Vân Đồn",
        "Huyện Vân Đồn (cũ)",
        (("Nhà chợ chính", "A", 120), ("Dãy hải sản", "B", 96), ("Dãy rau quả", "C", 84), ("Ki-ốt mặt đường", "K", 64)),
        uncovered=8,
        printed_share=0.9,
        free_stalls=6,
    ),
    DemoMarket(
        "HALONG1",
        "Chợ Hạ Long I",
        "06685",
        "Phường Hồng Gai",
        "TP Hạ Long (cũ)",
        (("Tầng 1", "T1", 40), ("Ki-ốt ngoài", "N", 20)),
        uncovered=19,
        printed_share=0.5,
        free_stalls=4,
    ),
)


def _person(rng: random.Random) -> tuple[str, str]:
    female = rng.random() < 0.68  # most stall holders in Vietnamese wet markets are women
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F if female else MIDDLE_M)} {given}", "1" if female else "0"


def _citizen_id(rng: random.Random, sex_digit: str) -> str:
    year = rng.randint(58, 99)
    return f"022{sex_digit}{year:02d}{rng.randint(0, 999999):06d}"


def seed(session: Session, *, seed_value: int = 2025) -> dict[str, int]:
    """Create the demo areas, markets, stalls, households and users; returns counts. Idempotent."""
    if session.exec(select(Market.id).where(Market.code == MARKETS[0].code)).first() is not None:
        return {}
    rng = random.Random(seed_value)
    load_shipped_if_empty(session)  # the demo lives in the official units: Quảng Ninh 22, Vân Đồn 06994
    used_ids: set[str] = set()
    created = 0
    for dm in MARKETS:
        commune = commune_by_code(session, dm.commune_code)
        market = Market(
            code=dm.code, name=dm.name, commune_id=commune.id, legacy_district=dm.legacy_district, is_demo=True
        )
        session.add(market)
        session.flush()
        stalls = [
            Stall(market_id=market.id, code=f"{prefix}-{i:03d}", zone=zone)
            for zone, prefix, n in dm.zones
            for i in range(1, n + 1)
        ]
        zone, prefix, n = dm.zones[-1]
        spare = [
            Stall(market_id=market.id, code=f"{prefix}-{i:03d}", zone=zone)
            for i in range(n + 1, n + 1 + dm.free_stalls)
        ]
        session.add_all(stalls + spare)
        session.commit()
        no_account = set(rng.sample(range(len(stalls)), dm.uncovered))
        info = get_market(session, SYSTEM, market.id or 0)
        for idx, stall in enumerate(stalls):
            name, sex = _person(rng)
            cid = _citizen_id(rng, sex)
            while cid in used_ids:
                cid = _citizen_id(rng, sex)
            used_ids.add(cid)
            bin_, length = rng.choice(BANKS)
            account = (
                None
                if idx in no_account
                else hs.AccountInput(bin_, "".join(str(rng.randint(0, 9)) for _ in range(length)))
            )
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randint(0, 9999999):07d}"
            hs.register_household(
                session,
                info,
                stall_ids=[stall.id],
                household=hs.HouseholdInput(name, phone, cid, rng.choice(GOODS)),
                account=account,
            )
            created += 1
        _spread_onboarding(session, info.id, rng)
        items = printable_items(session, info)
        record_prints(session, SYSTEM, market, items[: int(len(items) * dm.printed_share)])
        session.commit()
    _demo_users(session)
    return {"households": created}


def _spread_onboarding(session: Session, market_id: int, rng: random.Random, weeks: int = 18) -> None:
    """Give each QR an issue date over the last ``weeks`` weeks, slow at first then a campaign push,
    so the coverage trend looks like a real programme rather than one bar on seeding day."""
    today = vn_today()
    rows = session.exec(
        select(Household, IssuedQR)
        .join(IssuedQR, IssuedQR.household_id == Household.id)
        .where(Household.market_id == market_id)
    ).all()
    for household, qr in rows:
        days_ago = int(weeks * 7 * (1 - rng.random() ** 0.6))
        day = today - timedelta(days=days_ago)
        household.qr_issued_on = day
        qr.issued_at = datetime.combine(day, time(2, 30), tzinfo=UTC) + timedelta(minutes=rng.randint(0, 480))
        session.add_all([household, qr])
    session.commit()


def _demo_users(session: Session) -> None:
    users.create_user(session, username="admin", full_name="Quản trị ChoQR", password=DEMO_PASSWORD, role=roles.ADMIN)
    users.create_user(
        session,
        username="canbo.vandon",
        full_name="Phạm Thu Trang",
        password=DEMO_PASSWORD,
        role=roles.COMMUNE_OFFICER,
        commune_codes=["06994"],
    )
    users.create_user(
        session,
        username="nganhang.qn",
        full_name="Đỗ Minh Khoa",
        password=DEMO_PASSWORD,
        role=roles.BANK_OFFICER,
        province_codes=["22"],
    )
    users.create_user(
        session,
        username="in.an",
        full_name="Bùi Văn In",
        password=DEMO_PASSWORD,
        role=roles.PRINT_STAFF,
        province_codes=["22"],
    )
    users.create_user(
        session,
        username="bql.cairong",
        full_name="Ban quản lý chợ Cái Rồng",
        password=DEMO_PASSWORD,
        role=roles.MARKET_MANAGER,
        market_codes=["CAIRONG"],
    )
    users.create_user(
        session,
        username="canbo.honggai",
        full_name="Lê Văn Hòa",
        password=DEMO_PASSWORD,
        role=roles.COMMUNE_OFFICER,
        commune_codes=["06685"],
    )


DEMO_LOGINS = (
    ("admin", "quản trị"),
    ("canbo.vandon", "cán bộ đặc khu Vân Đồn"),
    ("nganhang.qn", "cán bộ ngân hàng"),
    ("in.an", "nhân viên in"),
    ("bql.cairong", "ban quản lý chợ"),
)
