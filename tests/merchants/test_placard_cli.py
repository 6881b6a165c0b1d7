"""`choqr placards`: a recorded batch from the command line, and clear refusals."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from factories import make_household, make_market
from sqlmodel import select

from merchants import status as st
from merchants.models import Household, Placard, PrintBatch, Stall
from merchants.scope import SYSTEM
from merchants.services import batches as bs
from merchants.services.placards import single_placard_pdf


@pytest.fixture
def market(session):
    market = make_market(session, code="CAIRONG", stalls=3)
    session.add(Stall(market_id=market.id, code="B-001", zone="Dãy hải sản"))
    session.commit()
    for _ in range(4):
        make_household(session, market)
    return market


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["placards", *args])


def test_the_command_prints_a_market_to_a_pdf_and_records_the_batch_as_the_system_user(app, session, market, tmp_path):
    out = tmp_path / "cai-rong.pdf"
    result = _run(app, "--market", "CAIRONG", "--layout", "a4-4up", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    batch = session.exec(select(PrintBatch)).one()
    assert f"Đã in 4 bảng (1 tờ, a4-4up) vào {out} – lô #{batch.id}" in result.output
    assert (batch.status, batch.total, batch.layout, batch.created_by_id) == ("done", 4, "a4-4up", None)
    assert len(pdfium.PdfDocument(out.read_bytes())) == 1
    assert out.read_bytes() == bs.pdf_path(app.config["BATCH_DIR"], batch.id).read_bytes()  # re-downloadable
    serials = session.exec(select(Placard.serial).order_by(Placard.id)).all()
    assert serials == [f"CAIRONG-{batch.id:04d}-{n:04d}" for n in range(1, 5)]
    assert {h.status for h in session.exec(select(Household))} == {st.PLACARD_PRINTED}


def test_only_needed_and_zone_narrow_the_batch(app, session, market, tmp_path):
    first = session.exec(select(Household).order_by(Household.id)).first()
    single_placard_pdf(session, SYSTEM, first.id)
    assert (
        _run(app, "--market", "CAIRONG", "--only-needed", "--zone", "Dãy A", "-o", str(tmp_path / "a.pdf")).exit_code
        == 0
    )
    batch = session.exec(select(PrintBatch)).one()
    codes = session.exec(
        select(Stall.code)
        .join(Placard, Placard.stall_id == Stall.id)
        .where(Placard.batch_id == batch.id)
        .order_by(Stall.code)
    ).all()
    assert codes == ["A-002", "A-003"] and batch.selection == "needed|zone:Dãy A"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--market", "KHONGCO"], "Lỗi: Không tìm thấy chợ 'KHONGCO'."),
        (["--market", "CAIRONG", "--layout", "a3"], "Lỗi: Khổ in 'a3' không có. Chọn một trong: a6, a5, a4, a4-2up"),
        (["--market", "CAIRONG", "--zone", "Dãy Z"], "Lỗi: Không có sạp nào để in với lựa chọn này."),
        (["--market", "CAIRONG", "--stall", "Z-001"], "Lỗi: Sạp không có trong chợ hoặc chưa có mã QR: Z-001."),
    ],
)
def test_bad_requests_exit_non_zero_with_a_clear_message_and_record_nothing(
    app, session, market, tmp_path, args, message
):
    out = tmp_path / "x.pdf"
    result = _run(app, *args, "-o", str(out))
    assert result.exit_code == 2
    assert message in result.stderr
    assert not out.exists() and session.exec(select(PrintBatch)).all() == []


def test_nothing_left_to_print_is_an_error_too(app, session, market, tmp_path):
    assert _run(app, "--market", "CAIRONG", "-o", str(tmp_path / "1.pdf")).exit_code == 0
    result = _run(app, "--market", "CAIRONG", "--only-needed", "-o", str(tmp_path / "2.pdf"))
    assert result.exit_code == 2 and "Không có sạp nào để in" in result.stderr
