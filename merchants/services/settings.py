"""Programme settings: the programme's name and its default coverage target, edited by its administrators.

Until an administrator saves them, the defaults come from the app's configuration (CHOQR_COVERAGE_TARGET_…).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from sqlmodel import Session

from merchants.errors import EditConflict, Forbidden, InvalidField
from merchants.models import Market, ProgrammeSettings, utcnow
from merchants.scope import Viewer
from merchants.services import audit

SETTINGS_ID = 1
NAME_MAX = 120  # ProgrammeSettings.name's max_length


@dataclass(frozen=True)
class Settings:
    name: str
    target_percent: int
    target_date: date | None
    version: int  # 0 until first saved


@dataclass(frozen=True)
class Defaults:
    """What the configuration says, for an installation whose administrators have not saved settings yet."""

    name: str = "Chợ 4.0"
    target_percent: int = 100
    target_date: date | None = None


def get_settings(session: Session, defaults: Defaults = Defaults()) -> Settings:
    row = session.get(ProgrammeSettings, SETTINGS_ID)
    if row is None:
        return Settings(defaults.name, defaults.target_percent, defaults.target_date, 0)
    return Settings(row.name, row.target_percent, row.target_date, row.version)


def check_target_percent(value: int | None, *, field: str = "target_percent") -> int | None:
    """A coverage target is a whole percentage from 1 to 100 (None: use the programme's)."""
    if value is None:
        return None
    if not 1 <= int(value) <= 100:
        raise InvalidField(field, "Mục tiêu bao phủ phải từ 1 đến 100 %.")
    return int(value)


def update_settings(
    session: Session,
    actor: Viewer,
    *,
    name: str,
    target_percent: int,
    target_date: date | None,
    expected_version: int,
    defaults: Defaults = Defaults(),
) -> Settings:
    """Save the programme's settings; a stale form (someone saved meanwhile) is a conflict, not an overwrite."""
    if not actor.sees_everything:
        raise Forbidden("Chỉ quản trị toàn chương trình được đổi cài đặt chương trình.")
    name = " ".join((name or "").split())
    if not name:
        raise InvalidField("name", "Tên chương trình không được để trống.")
    if len(name) > NAME_MAX:
        raise InvalidField("name", "Tên chương trình dài quá %(NAME_MAX)s ký tự.", NAME_MAX=NAME_MAX)
    target_percent = check_target_percent(target_percent)
    before = get_settings(session, defaults)
    if before.version != expected_version:
        raise EditConflict("Cài đặt vừa được người khác lưu; hãy xem giá trị mới rồi sửa lại.")
    row = session.get(ProgrammeSettings, SETTINGS_ID) or ProgrammeSettings(id=SETTINGS_ID, version=0)
    row.name, row.target_percent, row.target_date = name, target_percent, target_date
    row.version += 1
    row.updated_at = utcnow()
    session.add(row)
    old = {k: v for k, v in asdict(before).items() if k != "version"}
    audit.record_change(
        session,
        actor,
        "settings.update",
        "settings",
        old,
        {"name": name, "target_percent": target_percent, "target_date": target_date},
    )
    session.commit()
    return get_settings(session, defaults)


def target_for(
    session: Session, market_id: int | None = None, defaults: Defaults = Defaults()
) -> tuple[int, date | None]:
    """The coverage target that applies: a market's own when it has one, else the programme's."""
    programme = get_settings(session, defaults)
    market = session.get(Market, market_id) if market_id else None
    if market is not None and market.target_percent:
        return market.target_percent, market.target_date or programme.target_date
    return programme.target_percent, programme.target_date
