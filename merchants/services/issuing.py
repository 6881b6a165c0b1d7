"""Issuing a VietQR for a bank account: build, render, decode back with zxing-cpp, and only then count it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session

from merchants import status as st
from merchants.clock import vn_date
from merchants.errors import InvalidField, QRNotVerified
from merchants.models import BankAccount, Household, IssuedQR, Placard, utcnow
from merchants.scope import Viewer
from merchants.services.audit import move_status, record
from qr import VietQRError, build_payload, decode_image, pack_matrix, qr_image, qr_matrix


@dataclass(frozen=True)
class VerifiedQR:
    """A payload and the exact symbol that was decoded back to it (packed, to print without re-encoding)."""

    payload: str
    modules: str


def verified_qr(bin: str, account_number: str) -> VerifiedQR:
    """The static transfer payload for an account, proven readable by an independent decoder.

    The symbol qrcode drew is decoded by zxing-cpp; only an exact match counts, and that same symbol is
    what placards print later, so a print never re-encodes (or differs from) what was checked here.
    """
    try:
        payload = build_payload(bin=bin, account=account_number)
    except VietQRError as exc:
        field = "bin" if getattr(exc, "field", "") == "bin" else "account_number"
        raise InvalidField(field, "Không tạo được mã VietQR: %(error)s", error=str(exc)) from exc
    decoded = decode_image(qr_image(payload, scale=2))
    if decoded != [payload]:
        # What was read back stays out of the message: it is a Python list, and it holds an account number.
        raise QRNotVerified("Mã QR đọc lại không khớp nội dung; mã chưa được cấp.")
    return VerifiedQR(payload, pack_matrix(qr_matrix(payload)))


def verified_payload(bin: str, account_number: str) -> str:
    """Just the payload of ``verified_qr``."""
    return verified_qr(bin, account_number).payload


def issue_qr(session: Session, actor: Viewer, household: Household, account: BankAccount) -> IssuedQR:
    """Revoke the household's previous QR and placards, then issue a verified one for ``account``."""
    verified = verified_qr(account.bin, account.account_number)
    now = utcnow()
    session.exec(
        update(IssuedQR)
        .where(IssuedQR.household_id == household.id, IssuedQR.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    revoked_placards = session.exec(
        update(Placard).where(Placard.household_id == household.id, Placard.revoked_at.is_(None)).values(revoked_at=now)
    ).rowcount
    issued = IssuedQR(
        household_id=household.id,
        bank_account_id=account.id,
        payload=verified.payload,
        modules=verified.modules,
        issued_by_id=actor.user_id,
    )
    session.add(issued)
    session.flush()
    if household.status == st.ACCOUNT_OPENED or st.reached(household.status, st.QR_ISSUED):
        move_status(session, actor, household, st.QR_ISSUED)
    if household.qr_issued_on is None:
        household.qr_issued_on = vn_date(now)
    household.needs_reprint = bool(revoked_placards) or household.needs_reprint
    record(session, actor, "qr.issue", household_id=household.id, qr_id=issued.id, revoked_placards=revoked_placards)
    return issued
