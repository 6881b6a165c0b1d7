"""Statement files and `choqr payments`: per-row report, dry run, re-import adds nothing; keys printed once."""

from __future__ import annotations

import io

import openpyxl
import pytest
from factories import make_household, make_market
from payment_factories import account_of, make_source
from sqlmodel import func, select

from merchants.errors import InvalidField
from merchants.payment_models import PaymentEvent, PaymentSource
from merchants.scope import SYSTEM
from merchants.services import payment_sources
from merchants.services.statement_import import import_statement

HEADER = ("STT", "Ngày giao dịch", "Số tham chiếu", "Ghi nợ", "Ghi có", "Diễn giải", "Số tài khoản")


def _xlsx(rows: list[tuple]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _csv(rows: list[tuple]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(str(c) for c in r) for r in rows]
    return ("\ufeff" + "\n".join(lines)).encode("utf-8")


def _count(session) -> int:
    return session.exec(select(func.count()).select_from(PaymentEvent)).one()


@pytest.fixture
def statement(session):
    market = make_market(session, code="CAIRONG", commune_code="06994")
    a, b = make_household(session, market), make_household(session, market)
    elsewhere = make_household(session, make_market(session, code="BENDOAN", commune_code="06985"))
    source, key = make_source(session, "statement", markets=["CAIRONG"], name="Sao kê VCB Vân Đồn")
    assert key is None
    rows = [
        (1, "30/11/2026 10:15:02", "FT26334001", "", "150000", "CT tu NGUYEN VAN KHACH", account_of(session, a)),
        (2, "30/11/2026", "FT26334002", "", "2.277.000", "mua ca", account_of(session, b)),
        (3, "30/11/2026", "FT26334003", "50000", "", "rut tien", account_of(session, a)),
        (4, "30/11/2026", "FT26334004", "", "hai trăm", "chu", account_of(session, a)),
        (5, "ngày mai", "FT26334005", "", "10000", "", account_of(session, a)),
        (6, "30/11/2026", "", "", "10000", "", account_of(session, a)),
        (7, "30/11/2026", "FT26334007", "", "10000", "", "9999000011112222"),
        (8, "30/11/2026", "FT26334008", "", "10000", "", account_of(session, elsewhere)),
        (9, "30/11/2026", "FT26334001", "", "150000", "again in the same file", account_of(session, a)),
    ]
    return source, rows


@pytest.mark.parametrize("encode", [_xlsx, _csv])
def test_statement_reports_each_row_and_reimport_adds_nothing(session, statement, encode):
    source, rows = statement
    data = encode(rows)
    dry = import_statement(session, SYSTEM, source_name=source.name, data=data, filename="sk.xlsx", dry_run=True)
    assert (dry.stored, dry.dry_run, _count(session)) == (2, True, 0)
    report = import_statement(session, SYSTEM, source_name=source.name, data=data, filename="sk.xlsx")
    assert (report.rows, report.stored, report.duplicate, report.ignored_out) == (9, 2, 1, 1)
    assert (report.unknown_account, report.out_of_scope) == (1, 1)
    assert {(p.row, p.column) for p in report.refused} == {(5, "Ghi có"), (6, "Ngày giao dịch"), (7, "Số tham chiếu")}
    assert "Diễn giải" in report.ignored_columns  # the transfer text is never read
    assert [p.row for p in report.skipped] == [8, 9]
    amounts = sorted(e.amount for e in session.exec(select(PaymentEvent)))
    assert amounts == [150_000, 2_277_000]
    again = import_statement(session, SYSTEM, source_name=source.name, data=data, filename="sk.xlsx")
    assert (again.stored, again.duplicate, _count(session)) == (0, 3, 2)
    session.expire_all()
    counted = session.get(PaymentSource, source.id)
    assert (counted.stored_total, counted.unknown_today, counted.rejected_today) == (2, 2, 2)


def test_a_webhook_source_takes_no_statement(session, statement):
    sepay, _key = make_source(session, "sepay", markets=["CAIRONG"])
    with pytest.raises(InvalidField) as exc:
        import_statement(session, SYSTEM, source_name=sepay.name, data=_csv(statement[1]), filename="x.csv")
    assert exc.value.field == "source"


def test_cli_adds_a_source_and_prints_its_key_last(app, session):
    make_market(session, code="CAIRONG", commune_code="06994")
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["payments", "sources", "add", "SePay Cái Rồng", "--kind", "sepay", "--market", "CAIRONG"]
    )
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("choqr_sepay_") and payment_sources.sepay_source(session, key) is not None
    listed = runner.invoke(args=["payments", "sources", "list"])
    assert "SePay Cái Rồng\tsepay\tCAIRONG" in listed.output and key not in listed.output
    rotated = runner.invoke(args=["payments", "sources", "rotate", "SePay Cái Rồng"])
    new_key = rotated.output.strip().splitlines()[-1]
    assert new_key != key and payment_sources.sepay_source(session, key) is None
    assert runner.invoke(args=["payments", "sources", "revoke", "SePay Cái Rồng"]).exit_code == 0
    assert payment_sources.sepay_source(session, new_key) is None


def test_cli_refuses_unknown_areas_kinds_and_a_source_without_area(app, session):
    runner = app.test_cli_runner()
    unknown = runner.invoke(args=["payments", "sources", "add", "X", "--kind", "sepay", "--commune", "99999"])
    assert unknown.exit_code == 2 and "99999" in unknown.output
    none = runner.invoke(args=["payments", "sources", "add", "X", "--kind", "casso"])
    assert none.exit_code == 2 and "ít nhất một" in none.output
    assert runner.invoke(args=["payments", "sources", "add", "X", "--kind", "paypal", "--market", "A"]).exit_code == 2


def test_cli_imports_a_statement_with_dry_run(app, session, statement, tmp_path):
    source, rows = statement
    path = tmp_path / "sao-ke.csv"
    path.write_bytes(_csv(rows))
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["payments", "import", str(path), "--source", source.name, "--dry-run"])
    assert dry.exit_code == 1 and "Chạy thử" in dry.output and _count(session) == 0
    assert "Dòng 5 · Ghi có" in dry.output
    done = runner.invoke(args=["payments", "import", str(path), "--source", source.name])
    assert "2 đã thêm" in done.output and _count(session) == 2


def test_references_with_quotes_commas_and_braces_are_stored_as_written_and_found_again(session):
    """Batches travel to PostgreSQL as array literals: a reference holding the characters that syntax reserves
    (quote, backslash, comma, braces) is stored exactly, and sending it again is a retry."""
    market = make_market(session, code="CAIRONG", commune_code="06994", stalls=1)
    account = account_of(session, make_household(session, market))
    source, _ = make_source(session, "statement", markets=["CAIRONG"])
    references = ['FT"1\\2', "FT,{3}", "Số tham chiếu Đ 4", "NULL"]
    rows = [(f"0{i + 1}/11/2026", ref, "", 10_000 * (i + 1), "", account) for i, ref in enumerate(references)]
    data = _xlsx([(i + 1, *r) for i, r in enumerate(rows)])
    first = import_statement(session, SYSTEM, source_name=source.name, data=data, filename="sk.xlsx")
    assert (first.stored, first.refused_rows) == (4, 0)
    stored = {e.provider_id: (e.reference, e.amount) for e in session.exec(select(PaymentEvent))}
    assert stored == {ref: (ref, 10_000 * (i + 1)) for i, ref in enumerate(references)}
    again = import_statement(session, SYSTEM, source_name=source.name, data=data, filename="sk.xlsx")
    assert (again.stored, again.duplicate) == (0, 4)
