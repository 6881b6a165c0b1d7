"""Verifying a placard hanging at a stall: is the QR on it the one we issued for the household trading there?

Outcomes, recorded as a ``PlacardCheck``: ``match`` (the stall household's live QR: the household moves
to 'placard verified'), ``older_print`` (an earlier print of the very same payload: it still pays this
household, only the card was replaced), ``revoked`` (an old QR of this stall that pays something else now),
``other_stall`` (a QR we issued for somebody else) and ``foreign`` (not ours at all: a sticker pasted over the
real placard, possible fraud). The judgement is by what the QR pays, never by which card it was printed on.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from merchants import scan_warnings
from merchants import status as st
from merchants.errors import N_, Forbidden, InvalidField, Phrase
from merchants.models import Household, IssuedQR, Market, Placard, PlacardCheck, Stall, User
from merchants.scope import Viewer, market_column_visible
from merchants.services.audit import SYSTEM_NAME, move_status, record
from merchants.services.registry_queries import MarketInfo, stall_by_code
from qr import VietQRError, decode_image, get_bank, parse_payload, strip_edges

MATCH, OLDER_PRINT, REVOKED, OTHER_STALL, FOREIGN = "match", "older_print", "revoked", "other_stall", "foreign"
OUTCOMES = (MATCH, OLDER_PRINT, REVOKED, OTHER_STALL, FOREIGN)
# What a check did to the household's status, for the page to say.
VERIFIED, UNVERIFIED, NOT_PRINTED, NO_HOUSEHOLD = "verified", "unverified", "not_printed", "no_household"


@dataclass(frozen=True)
class StallContext:
    """A stall with what should hang there: its household, that household's live QR and placard."""

    stall: Stall
    market: Market
    household: Household | None
    live_qr: IssuedQR | None
    live_placard: Placard | None


@dataclass(frozen=True)
class Elsewhere:
    """Where a QR of another household belongs; ``visible`` is False outside the viewer's markets."""

    visible: bool
    stall_codes: tuple[str, ...] = ()
    market_name: str = ""
    owner_name: str = ""
    revoked: bool = False


@dataclass(frozen=True)
class CheckResult:
    outcome: str
    payload: str
    check: PlacardCheck
    placard: Placard | None = None
    elsewhere: Elsewhere | None = None  # for other_stall
    scanned_bank: str = ""  # bank and account a foreign VietQR pays to, for the report to the market board
    scanned_account: str = ""
    status_change: str = ""  # VERIFIED, UNVERIFIED, NOT_PRINTED, NO_HOUSEHOLD or ""
    replaced_by: str = ""  # for older_print: the serial of the stall's current placard
    warnings: tuple[Phrase, ...] = ()  # what in the scanned payload did not follow the standard (shown, not used)


@dataclass(frozen=True)
class CheckRow:
    check: PlacardCheck
    stall_code: str
    who: str


def classify(payload: str, *, live: str | None, old_here: set[str], ours: bool) -> str:
    """The outcome of a scanned payload, from what this stall should show and what we ever issued."""
    if live is not None and payload == live:
        return MATCH
    if payload in old_here:
        return REVOKED
    return OTHER_STALL if ours else FOREIGN


def payload_from_photo(data: bytes) -> str:
    """The one QR text in a photo; the error names the photo field and says how to retake it."""
    try:
        texts = list(dict.fromkeys(decode_image(data)))
    except VietQRError as exc:
        raise InvalidField("photo", "Không đọc được ảnh: %(exc)s", exc=exc) from exc
    if not texts:
        raise InvalidField("photo", "Không tìm thấy mã QR trong ảnh. Hãy chụp gần hơn, đủ sáng, không lóa.")
    if len(texts) > 1:
        raise InvalidField(
            "photo", "Ảnh có %(n_texts)s mã QR khác nhau. Hãy chụp riêng bảng của sạp này.", n_texts=len(texts)
        )
    return texts[0]


def stall_context(session: Session, info: MarketInfo, code: str) -> StallContext:
    stall = stall_by_code(session, info, code)
    market = info.market
    household = session.get(Household, stall.household_id) if stall.household_id else None
    live_qr = live_placard = None
    if household is not None:
        live_qr = session.exec(
            select(IssuedQR)
            .where(IssuedQR.household_id == household.id, IssuedQR.revoked_at.is_(None))
            .order_by(IssuedQR.id.desc())
        ).first()
        live_placard = session.exec(
            select(Placard)
            .where(Placard.stall_id == stall.id, Placard.revoked_at.is_(None))
            .order_by(Placard.id.desc())
        ).first()
    return StallContext(stall, market, household, live_qr, live_placard)


def _old_payloads_here(session: Session, ctx: StallContext) -> set[str]:
    """Payloads that once hung here: the household's revoked QRs and every QR printed on this stall's placards."""
    printed = select(Placard.qr_id).where(Placard.stall_id == ctx.stall.id)
    stmt = select(IssuedQR.payload).where(IssuedQR.id.in_(printed))
    old = set(session.exec(stmt))
    if ctx.household is not None:
        old |= set(session.exec(select(IssuedQR.payload).where(IssuedQR.household_id == ctx.household.id)))
    return old - ({ctx.live_qr.payload} if ctx.live_qr else set())


def _where_else(session: Session, viewer: Viewer, qr: IssuedQR) -> Elsewhere:
    """Where a QR of another household belongs; only named when the viewer may see that market."""
    row = session.exec(
        select(Household, Market)
        .join(Market, Market.id == Household.market_id)
        .where(Household.id == qr.household_id, market_column_visible(viewer, Household.market_id))
    ).first()
    if row is None:
        return Elsewhere(visible=False)
    household, market = row
    codes = list(session.exec(select(Stall.code).where(Stall.household_id == household.id).order_by(Stall.code)))
    codes = codes or list(
        session.exec(
            select(Stall.code).join(Placard, Placard.stall_id == Stall.id).where(Placard.qr_id == qr.id).distinct()
        )
    )
    return Elsewhere(True, tuple(codes), market.name, household.owner_name, qr.revoked_at is not None)


def _placard_for(session: Session, qr_id: int, stall_id: int | None = None) -> Placard | None:
    stmt = select(Placard).where(Placard.qr_id == qr_id)
    if stall_id is not None:
        stmt = stmt.where(Placard.stall_id == stall_id)
    return session.exec(stmt.order_by(Placard.revoked_at.is_not(None), Placard.id.desc())).first()


def verify_placard(
    session: Session, info: MarketInfo, stall_code: str, payload: str, *, serial: str = ""
) -> CheckResult:
    """Classify a scanned payload at a stall, record the check, and on a match mark the household verified.

    A reprint keeps the QR when the account did not change, so only the serial printed on the card tells an
    old placard from the new one: given ``serial``, the live payload on a replaced card reads as an older print
    that still pays this household (not as revoked: nothing is wrong with the money).
    """
    actor = info.viewer
    if not actor.can("verify"):
        raise Forbidden("Vai trò của bạn không được kiểm tra bảng QR.")
    payload = strip_edges(payload)  # a BOM, NUL or newline from a scanner app is not part of the payload
    if not payload:
        raise InvalidField("payload", "Hãy chụp ảnh bảng QR hoặc dán nội dung mã đã quét.")
    ctx = stall_context(session, info, stall_code)
    qr = session.exec(select(IssuedQR).where(IssuedQR.payload == payload).order_by(IssuedQR.id.desc())).first()
    outcome = classify(
        payload,
        live=ctx.live_qr.payload if ctx.live_qr else None,
        old_here=_old_payloads_here(session, ctx),
        ours=qr is not None,
    )
    placard, elsewhere, bank, account = None, None, "", ""
    replaced_by = ""
    if outcome == MATCH and serial.strip():
        placard = _printed_placard(session, ctx, serial.strip().upper(), payload)
        if placard.revoked_at:
            outcome = OLDER_PRINT
            replaced_by = ctx.live_placard.serial if ctx.live_placard else ""
    elif outcome == MATCH:
        placard = ctx.live_placard if ctx.live_placard and ctx.live_placard.qr_id == ctx.live_qr.id else None
    elif outcome == REVOKED:
        placard = _placard_for(session, qr.id, ctx.stall.id) if qr else None
    elif outcome == OTHER_STALL:
        elsewhere = _where_else(session, actor, qr)
        # Another market's placard is not the viewer's to know of: no serial on the page or in this stall's history.
        placard = _placard_for(session, qr.id) if elsewhere.visible else None
    else:
        bank, account = _scanned_account(payload)
    check = PlacardCheck(
        stall_id=ctx.stall.id,
        placard_id=placard.id if placard else None,
        result=outcome,
        payload=payload[:512],
        checked_by_id=actor.user_id,
    )
    session.add(check)
    change = _move_status(session, actor, ctx.household, outcome)
    record(
        session,
        actor,
        "placard.check",
        household_id=ctx.household.id if ctx.household else None,
        market=ctx.market.code,
        stall=ctx.stall.code,
        result=outcome,
        serial=placard.serial if placard else None,
    )
    session.commit()
    return CheckResult(
        outcome, payload, check, placard, elsewhere, bank, account, change, replaced_by, _warnings(payload)
    )


def _printed_placard(session: Session, ctx: StallContext, serial: str, payload: str) -> Placard:
    """The household's placard that carries ``serial`` and prints ``payload``; a wrong serial is refused."""
    placard = session.exec(select(Placard).where(Placard.serial == serial)).first()
    if placard is None:
        raise InvalidField("serial", "Không có bảng QR nào số phiếu '%(serial)s'. Hãy xem lại số phiếu.", serial=serial)
    printed = session.get(IssuedQR, placard.qr_id)
    if placard.household_id != ctx.household.id or printed is None or printed.payload != payload:
        raise InvalidField(
            "serial", "Bảng số phiếu '%(serial)s' không mang mã QR vừa quét. Hãy xem lại số phiếu.", serial=serial
        )
    return placard


def _move_status(session: Session, actor: Viewer, household: Household | None, outcome: str) -> str:
    """A match verifies a printed placard; any other outcome undoes an earlier verification."""
    if household is None:
        return NO_HOUSEHOLD
    if outcome == OLDER_PRINT:
        return ""  # it pays the household; only hanging the current card verifies it
    if outcome == MATCH:
        if household.status == st.PLACARD_VERIFIED:
            return ""
        if household.status != st.PLACARD_PRINTED:
            return NOT_PRINTED
        move_status(session, actor, household, st.PLACARD_VERIFIED)
        return VERIFIED
    if household.status == st.PLACARD_VERIFIED:
        move_status(session, actor, household, st.PLACARD_PRINTED)
        return UNVERIFIED
    return ""


def _warnings(payload: str) -> tuple[Phrase, ...]:
    """The reader's warnings for a scanned payload, with their positions, for the page to show.

    Each is a phrase of the catalog by its code (``scan_warnings``), so it reads in the page's language.
    """
    try:
        parsed = parse_payload(payload)
    except VietQRError as exc:
        return (Phrase(str(exc)),)
    return tuple(
        Phrase(
            N_("%(warning)s (vị trí %(position)s, trường %(tag)s)"),
            warning=scan_warnings.phrase(w),
            position=w.position,
            tag=w.tag,
        )
        for w in parsed.warnings
    )


def _scanned_account(payload: str) -> tuple[str, str]:
    """Bank and account a foreign VietQR pays to (empty when the text is not a VietQR transfer)."""
    try:
        parsed = parse_payload(payload)
    except VietQRError:
        return "", ""
    if parsed.scheme != "vietqr" or not parsed.bin:
        return "", ""
    bank = parsed.bank or get_bank(parsed.bin)
    return (bank.short_name if bank else parsed.bin), parsed.account or ""  # in full: it is the evidence


def recent_checks(
    session: Session, market: MarketInfo, *, stall_id: int | None = None, limit: int = 30
) -> list[CheckRow]:
    """The latest checks in a market (or at one stall), newest first, with who made them."""
    stmt = (
        select(PlacardCheck, Stall.code, User.full_name)
        .join(Stall, Stall.id == PlacardCheck.stall_id)
        .join(User, User.id == PlacardCheck.checked_by_id, isouter=True)
        .where(Stall.market_id == market.id)
    )
    if stall_id is not None:
        stmt = stmt.where(PlacardCheck.stall_id == stall_id)
    rows = session.exec(stmt.order_by(PlacardCheck.id.desc()).limit(limit))
    return [CheckRow(c, code, name or SYSTEM_NAME) for c, code, name in rows]


def stall_codes(session: Session, market: MarketInfo) -> list[str]:
    """Every stall code of a market, for the stall picker."""
    return list(session.exec(select(Stall.code).where(Stall.market_id == market.id).order_by(Stall.code)))
