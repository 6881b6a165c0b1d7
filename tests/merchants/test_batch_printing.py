"""Batch printing through the web: what gets printed, what is recorded, and how a batch runs and fails.

The test config runs jobs immediately (JOBS_IMMEDIATE): a print request renders its batch before it answers.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from factories import login, make_household, make_market, make_user
from sqlmodel import select

import printouts
from merchants import jobs
from merchants import status as st
from merchants.models import AuditLog, Household, IssuedQR, Placard, PrintBatch, Stall, utcnow
from merchants.scope import SYSTEM
from merchants.services import batch_queries as bq
from merchants.services import batches as bs
from merchants.services import households as hs
from merchants.services.placards import single_placard_pdf
from merchants.services.registry_queries import get_market


def _market_with_households(session, n=4, **kw):
    market = make_market(session, stalls=n, **kw)
    households = [make_household(session, market) for _ in range(n)]
    return market, households


def _print(client, market, **form):
    data = {"layout": "a4-4up", "selection": "all", "zone": "", "stall_codes": ""}
    data.update(form)
    return client.post(f"/markets/{market.id}/placards", data=data)


def _placards(session):
    session.expire_all()
    return list(session.exec(select(Placard).order_by(Placard.id)))


def test_printing_all_stalls_records_the_batch_with_one_serial_per_stall(client, session):
    market, households = _market_with_households(session, 4)
    staff = make_user(session, "print_staff", provinces=["22"])
    login(client, staff)
    resp = _print(client, market)
    assert resp.status_code == 302
    batch = session.exec(select(PrintBatch)).one()
    assert resp.headers["Location"] == f"/markets/{market.id}/placards/batches/{batch.id}"
    assert (batch.status, batch.done, batch.total, batch.layout, batch.selection, batch.created_by_id) == (
        "done",
        4,
        4,
        "a4-4up",
        "all",
        staff.id,
    )
    placards = _placards(session)
    assert [p.serial for p in placards] == [f"{market.code}-{batch.id:04d}-{n:04d}" for n in range(1, 5)]
    assert {p.batch_id for p in placards} == {batch.id} and {p.printed_by_id for p in placards} == {staff.id}
    stall_codes = [session.get(Stall, p.stall_id).code for p in placards]
    assert stall_codes == ["A-001", "A-002", "A-003", "A-004"]
    for h in households:
        session.refresh(h)
        assert h.status == st.PLACARD_PRINTED and not h.needs_reprint
    audit = session.exec(select(AuditLog).where(AuditLog.action == "placards.print")).one()
    assert f'"batch_id": {batch.id}' in audit.detail and placards[0].serial in audit.detail


def test_the_finished_batch_page_offers_the_download_and_the_pdf_has_one_page_per_sheet(client, session):
    market, _ = _market_with_households(session, 5)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    page = client.get(_print(client, market).headers["Location"]).get_data(as_text=True)
    batch = session.exec(select(PrintBatch)).one()
    assert "Đã tạo xong 5 bảng trên 2 tờ." in page
    assert f"/markets/{market.id}/placards/batches/{batch.id}/pdf" in page
    pdf = client.get(f"/markets/{market.id}/placards/batches/{batch.id}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert f"filename=bang-qr-{market.code}-lo{batch.id}-a4-4up.pdf" in pdf.headers["Content-Disposition"]
    assert pdf.data.startswith(b"%PDF") and pdf.data.count(b"/Type /Page\n") + pdf.data.count(b"/Type /Page ") >= 2
    listing = client.get(f"/markets/{market.id}/placards").get_data(as_text=True)
    assert f"#{batch.id}" in listing and "Cán Bộ Thử" in listing and "a4-4up" in listing


def test_a_reprint_asks_first_saying_how_many_hanging_placards_it_replaces(client, session):
    market, _households = _market_with_households(session, 3)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    _print(client, market, selection="picked", stall_codes="A-001, A-002")
    asked = _print(client, market)  # "all stalls": two of them already have a placard hanging
    assert asked.status_code == 409
    assert "Lô in này sẽ thay 2 bảng QR đang treo" in asked.get_data(as_text=True)
    assert len(_placards(session)) == 2 and all(p.revoked_at is None for p in _placards(session))
    assert _print(client, market, selection="needed").status_code == 302  # nothing hanging is replaced: no question
    assert len(_placards(session)) == 3


def test_a_confirmed_reprint_revokes_the_previous_serial_of_the_stall(client, session):
    market, (h,) = _market_with_households(session, 1)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    _print(client, market)
    _print(client, market, confirm_replace="y")
    first, second = _placards(session)
    assert first.stall_id == second.stall_id and first.serial != second.serial
    assert first.revoked_at is not None and second.revoked_at is None
    session.refresh(h)
    assert h.status == st.PLACARD_PRINTED


def test_only_needed_prints_new_stalls_and_those_whose_placard_was_revoked(client, session):
    market, households = _market_with_households(session, 4)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    single_placard_pdf(session, SYSTEM, households[0].id)
    single_placard_pdf(session, SYSTEM, households[1].id)
    hs.change_account(
        session,
        SYSTEM,
        households[1].id,
        expected_version=households[1].version,
        account=hs.AccountInput("970415", "101234567890", ""),
        reason="Đổi sang ngân hàng khác",
    )
    page = client.get(f"/markets/{market.id}/placards").get_data(as_text=True)
    assert "Cần in (mới hoặc in lại)" in page
    resp = _print(client, market, selection="needed")
    assert resp.status_code == 302
    batch = session.exec(select(PrintBatch)).one()
    printed = [session.get(Stall, p.stall_id).code for p in _placards(session) if p.batch_id == batch.id]
    assert printed == ["A-002", "A-003", "A-004"]
    assert batch.selection == "needed"
    # nothing is left to print now
    again = _print(client, market, selection="needed")
    assert again.status_code == 422 and "Không có sạp nào để in" in again.get_data(as_text=True)


def test_a_zone_and_a_hand_picked_list_print_only_those_stalls(client, session):
    market, _ = _market_with_households(session, 3)
    session.add(Stall(market_id=market.id, code="B-001", zone="Dãy B"))
    session.commit()
    make_household(session, market)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    _print(client, market, selection="zone", zone="Dãy B")
    _print(client, market, selection="picked", stall_codes="A-003, A-001")
    zone_batch, picked_batch = session.exec(select(PrintBatch).order_by(PrintBatch.id)).all()
    by_batch = {}
    for p in _placards(session):
        by_batch.setdefault(p.batch_id, []).append(session.get(Stall, p.stall_id).code)
    assert by_batch == {zone_batch.id: ["B-001"], picked_batch.id: ["A-001", "A-003"]}
    assert (zone_batch.selection, picked_batch.selection) == ("zone:Dãy B", "picked:A-003,A-001")


@pytest.mark.parametrize(
    ("form", "field_message"),
    [
        ({"selection": "zone", "zone": ""}, "Hãy nhập dãy / khu cần in."),
        ({"selection": "picked", "stall_codes": ""}, "Hãy nhập ít nhất một mã sạp"),
        ({"selection": "picked", "stall_codes": "A-001, Z-999"}, "Sạp không có trong chợ hoặc chưa có mã QR: Z-999."),
        ({"selection": "zone", "zone": "Dãy Không Có"}, "Không có sạp nào để in với lựa chọn này."),
        ({"layout": "a3"}, "Not a valid choice"),
    ],
)
def test_bad_print_requests_are_refused_and_nothing_is_recorded(client, session, form, field_message):
    market, _ = _market_with_households(session, 1)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    resp = _print(client, market, **form)
    assert resp.status_code == 422
    assert field_message in resp.get_data(as_text=True)
    assert session.exec(select(PrintBatch)).all() == [] and _placards(session) == []


def test_a_failed_render_marks_the_batch_failed_and_records_no_serial(client, session, monkeypatch, app):
    market, households = _market_with_households(session, 3)
    login(client, make_user(session, "print_staff", provinces=["22"]))

    def broken(placards, stream, **_options):
        stream.write(b"%PDF-half")
        raise OSError(28, "No space left on device", "/var/batches/x.pdf")

    monkeypatch.setattr(printouts, "render_placards", broken)
    page = client.get(_print(client, market).headers["Location"]).get_data(as_text=True)
    batch = session.exec(select(PrintBatch)).one()
    assert batch.status == "failed" and "No space left on device" in batch.error and "/var/" not in batch.error
    assert "Lô in bị lỗi" in page and "Không bảng nào của lô này được ghi nhận" in page
    assert _placards(session) == []
    assert {session.get(Household, h.id).status for h in households} == {st.QR_ISSUED}
    assert list(Path(app.config["BATCH_DIR"]).glob("*")) == []
    assert client.get(f"/markets/{market.id}/placards/batches/{batch.id}/pdf").status_code == 404


def test_a_qr_revoked_while_rendering_fails_the_batch_instead_of_recording_a_stale_placard(session, app, monkeypatch):
    market, households = _market_with_households(session, 2)
    job = bs.start_batch(
        session, get_market(session, SYSTEM, market.id), bs.BatchRequest("a6"), batch_dir=app.config["BATCH_DIR"]
    )
    real = printouts.render_placards

    def render_then_change_account(placards, stream, **kw):
        pages = real(placards, stream, **kw)
        h = households[1]
        hs.change_account(
            session,
            SYSTEM,
            h.id,
            expected_version=h.version,
            account=hs.AccountInput("970415", "101234567891", ""),
            reason="Đổi tài khoản giữa chừng",
        )
        return pages

    monkeypatch.setattr(printouts, "render_placards", render_then_change_account)
    batch = bs.run_batch(app.extensions["choqr.engine"], job)
    assert batch.status == "failed" and "A-002" in batch.error and "Hãy tạo lại lô in" in batch.error
    assert _placards(session) == []
    assert not bs.pdf_path(app.config["BATCH_DIR"], job.batch_id).exists()


def test_an_english_speaking_printer_reads_why_a_batch_failed_on_its_page_and_in_its_json(client, session, monkeypatch):
    market, households = _market_with_households(session, 2)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    client.post("/language/en")
    real = printouts.render_placards

    def render_then_change_account(placards, stream, **kw):
        pages = real(placards, stream, **kw)
        h = households[1]
        account = hs.AccountInput("970415", "101234567891", "")
        hs.change_account(session, SYSTEM, h.id, expected_version=h.version, account=account, reason="Đổi tài khoản")
        return pages

    monkeypatch.setattr(printouts, "render_placards", render_then_change_account)
    status_url = _print(client, market, layout="a6").headers["Location"]
    reason = "While printing, the QR code or the stall holder changed at: A-002. Create the batch again."
    page = client.get(status_url).get_data(as_text=True)
    assert reason in page and "Trong lúc in" not in page
    assert client.get(status_url + ".json").get_json()["error"] == reason
    client.post("/language/vi")
    assert "Trong lúc in, mã QR hoặc chủ sạp đã thay đổi ở: A-002." in client.get(status_url).get_data(as_text=True)


def test_the_web_request_only_queues_and_the_status_json_follows_the_worker(client, session, app, tmp_path):
    app.config.update(JOBS_IMMEDIATE=False, JOBS_URL=f"sqlite:///{tmp_path / 'jobs.db'}")
    market, _ = _market_with_households(session, 6)
    login(client, make_user(session, "print_staff", provinces=["22"]))
    resp = _print(client, market, layout="a6")
    assert resp.status_code == 302
    batch_id = session.exec(select(PrintBatch.id)).one()
    progress_url = f"/markets/{market.id}/placards/batches/{batch_id}.json"
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert progress_url in page and "Đang chuẩn bị 6 mã QR…" in page  # the page polls while queued
    assert client.get(progress_url).get_json()["status"] == "queued" and _placards(session) == []
    huey = jobs.queue(app).huey
    assert huey.pending_count() == 1
    huey.execute(huey.dequeue())  # what a worker does with the message
    assert client.get(progress_url).get_json() == {
        "id": batch_id,
        "status": "done",
        "done": 6,
        "total": 6,
        "percent": 100,
        "error": None,
        "download": f"/markets/{market.id}/placards/batches/{batch_id}/pdf",
    }
    assert len(_placards(session)) == 6


def test_the_progress_page_polls_with_script_and_refreshes_without_it(client, session, app):
    market, _ = _market_with_households(session, 2)
    user = make_user(session, "print_staff", provinces=["22"])
    job = bs.start_batch(
        session, get_market(session, SYSTEM, market.id), bs.BatchRequest("a6"), batch_dir=app.config["BATCH_DIR"]
    )
    login(client, user)
    page = client.get(f"/markets/{market.id}/placards/batches/{job.batch_id}").get_data(as_text=True)
    assert "Đang chuẩn bị 2 mã QR…" in page and "Đang tạo %(done)s" not in page
    assert '<noscript><meta http-equiv="refresh" content="3"></noscript>' in page
    assert "/static/batch.js" in page and f"batches/{job.batch_id}.json" in page
    assert client.get(f"/markets/{market.id}/placards/batches/{job.batch_id}.json").get_json()["status"] == "queued"
    batch = session.get(PrintBatch, job.batch_id)
    batch.status, batch.done = "running", 1
    session.add(batch)
    session.commit()
    page = client.get(f"/markets/{market.id}/placards/batches/{job.batch_id}").get_data(as_text=True)
    assert "Đang tạo 1/2 bảng (50%)" in page and 'data-template="Đang tạo {done}/{total} bảng ({percent}%)"' in page


def test_a_second_batch_waits_until_the_first_of_the_market_is_finished(client, session, app):
    market, _ = _market_with_households(session, 2)
    bs.start_batch(
        session, get_market(session, SYSTEM, market.id), bs.BatchRequest("a6"), batch_dir=app.config["BATCH_DIR"]
    )
    login(client, make_user(session, "print_staff", provinces=["22"]))
    resp = _print(client, market)
    assert resp.status_code == 422 and "Đang có một lô in khác" in resp.get_data(as_text=True)


def test_print_staff_of_another_province_gets_404_and_a_market_manager_403(client, session):
    market, _ = _market_with_households(session, 1)
    make_market(session, province_code="01")
    other = make_user(session, "print_staff", provinces=["01"])
    job = bs.start_batch(
        session, get_market(session, SYSTEM, market.id), bs.BatchRequest("a6"), batch_dir="/nonexistent"
    )
    login(client, other)
    base = f"/markets/{market.id}/placards"
    for url in (
        base,
        f"{base}/batches/{job.batch_id}",
        f"{base}/batches/{job.batch_id}.json",
        f"{base}/batches/{job.batch_id}/pdf",
    ):
        assert client.get(url).status_code == 404, url
    assert _print(client, market).status_code == 404
    client.post("/logout")
    login(client, make_user(session, "market_manager", markets=[market]))
    assert client.get(base).status_code == 403


def test_a_batch_of_another_market_is_not_found_under_this_market(client, session, app):
    market, _ = _market_with_households(session, 1)
    other, _ = _market_with_households(session, 1)
    job = bs.start_batch(
        session, get_market(session, SYSTEM, other.id), bs.BatchRequest("a6"), batch_dir=app.config["BATCH_DIR"]
    )
    login(client, make_user(session, "admin"))
    assert client.get(f"/markets/{market.id}/placards/batches/{job.batch_id}").status_code == 404


def test_stored_selections_read_as_words():
    assert str(bq.selection_label("needed|zone:Dãy A")) == "Chỉ sạp cần in · Dãy A"
    assert str(bq.selection_label("picked:A-001,A-002")) == "Chọn tay: A-001, A-002"
    assert bs.BatchRequest(stall_codes=tuple(f"A-{i:03d}" for i in range(100))).describe().endswith("…")
    assert (bq.percent(0, 0), bq.percent(1, 3), bq.percent(3, 3)) == (0, 33, 100)
    assert (bq.sheets("a4-8up", 17), bq.sheets("a6", 3)) == (3, 3)


def test_the_single_household_print_still_works_with_placard_id_serials(session):
    market, (h,) = _market_with_households(session, 1)
    pdf, name = single_placard_pdf(session, SYSTEM, h.id)
    (p,) = _placards(session)
    assert pdf.startswith(b"%PDF") and name == f"bang-qr-{market.code}-A-001.pdf"
    assert p.serial == f"{market.code}-{p.id:06d}" and p.batch_id is None
    assert session.exec(select(IssuedQR.id)).one() == p.qr_id


def test_a_batch_cut_off_by_a_restart_reads_as_failed_and_no_longer_blocks_the_market(session, app):
    market, _ = _market_with_households(session, 1)
    stuck = PrintBatch(
        market_id=market.id,
        layout="a6",
        selection="all",
        status="running",
        total=1,
        created_at=utcnow() - timedelta(hours=2),
    )
    session.add(stuck)
    session.commit()
    assert bs.state_of(stuck) == "failed" and bs.state_of(stuck, stuck.created_at) == "running"
    job = bs.start_batch(
        session, get_market(session, SYSTEM, market.id), bs.BatchRequest("a6"), batch_dir=app.config["BATCH_DIR"]
    )
    assert bs.run_batch(app.extensions["choqr.engine"], job).status == "done"


def test_a_renamed_stall_needs_a_print_although_its_old_placard_still_hangs(client, session):
    from merchants.services import stalls as stall_service

    market, households = _market_with_households(session, 2)
    for h in households:
        single_placard_pdf(session, SYSTEM, h.id)
    stall = session.exec(select(Stall).where(Stall.household_id == households[0].id)).one()
    stall_service.edit_stall(session, SYSTEM, market.id, stall.id, code="A-101", zone=stall.zone)
    session.commit()
    counts = bq.printable_counts(session, get_market(session, SYSTEM, market.id))
    assert counts.needed == 1  # the placard hanging there shows the old code
    login(client, make_user(session, "print_staff", provinces=["22"]))
    assert _print(client, market, selection="needed", confirm_replace="y").status_code == 302
    batch = session.exec(select(PrintBatch)).one()
    assert [session.get(Stall, p.stall_id).code for p in _placards(session) if p.batch_id == batch.id] == ["A-101"]
    assert bq.printable_counts(session, get_market(session, SYSTEM, market.id)).needed == 0
