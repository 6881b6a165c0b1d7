"""Long household lists run as jobs: the page follows their progress, and a job whose worker died runs again
without doubling a household, or fails with its reason."""

from __future__ import annotations

import io
from datetime import timedelta

import openpyxl
import pytest
from factories import login, make_market, make_user
from sqlmodel import func, select

from merchants.models import Household, ImportJob, IssuedQR, utcnow
from merchants.scope import viewer_for
from merchants.services import import_jobs

HEADER = ["Họ tên chủ hộ", "Ki-ốt", "Ngân hàng", "STK"]


def listing(n: int) -> bytes:
    """``n`` households at new stalls K-001…, each with a Vietcombank account (so each gets a verified QR)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for i in range(1, n + 1):
        given = "ABCDEGHIKLMNOPQRSTUVXY"[i % 22] + "anh"  # letters only: a holder name has no digits
        sheet.append([f"Nguyễn Văn {given} {'Tèo' * (i // 22 + 1)}", f"K-{i:03d}", "Vietcombank", f"0011{i:09d}"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def officer(session):  # noqa: ANN001, ANN201
    market = make_market(session, code="DAI", stalls=0)
    return make_user(session, "bank_officer", markets=[market]), market


def count(session, model) -> int:  # noqa: ANN001
    session.expire_all()
    return session.exec(select(func.count()).select_from(model)).one()


def test_a_long_list_uploaded_on_the_page_becomes_a_job_whose_page_shows_the_report(app, client, session, officer):
    app.config["IMPORT_INLINE_ROWS"] = 5
    user, market = officer
    login(client, user)
    resp = client.post(
        f"/markets/{market.id}/import",
        data={"file": (io.BytesIO(listing(12)), "dai.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 303
    job_url = resp.headers["Location"]
    job = session.exec(select(ImportJob)).one()
    assert (job.status, job.done, job.total, job.data) == ("done", 12, 12, b"")  # the file is not kept
    assert count(session, Household) == count(session, IssuedQR) == 12
    page = client.get(job_url).get_data(as_text=True)
    assert "12" in page and "dai.xlsx" in page
    progress = client.get(job_url + ".json").json
    assert (progress["status"], progress["percent"]) == ("done", 100)


def test_a_short_list_is_still_imported_in_the_request(app, client, session, officer):
    app.config["IMPORT_INLINE_ROWS"] = 5
    user, market = officer
    login(client, user)
    resp = client.post(
        f"/markets/{market.id}/import",
        data={"file": (io.BytesIO(listing(3)), "nho.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 200 and count(session, Household) == 3
    assert count(session, ImportJob) == 0


def test_a_malformed_long_file_is_refused_at_once_and_queues_nothing(app, client, session, officer):
    app.config["IMPORT_INLINE_ROWS"] = 5
    user, market = officer
    login(client, user)
    resp = client.post(
        f"/markets/{market.id}/import",
        data={"file": (io.BytesIO(b"PK\x03\x04 not really a workbook" * 50), "hong.xlsx")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and count(session, ImportJob) == 0


def test_another_officer_cannot_follow_someone_elses_job(app, client, session, officer):
    user, market = officer
    started = import_jobs.start(
        session, viewer_for(session, user), market_id=market.id, data=listing(4), filename="a.xlsx", inline_rows=2
    )
    other = make_user(session, "bank_officer", markets=[market])
    login(client, other)
    assert client.get(f"/markets/{market.id}/import/jobs/{started.job_id}").status_code == 404


def _queued_job(session, user, market, rows: int) -> int:  # noqa: ANN001
    started = import_jobs.start(
        session, viewer_for(session, user), market_id=market.id, data=listing(rows), filename="a.xlsx", inline_rows=1
    )
    return started.job_id


def _as_if_its_worker_died(session, job_id: int, *, attempts: int = 1) -> None:  # noqa: ANN001
    job = session.get(ImportJob, job_id)
    job.status, job.attempts, job.heartbeat_at = "running", attempts, utcnow() - timedelta(minutes=2)
    session.add(job)
    session.commit()


def test_a_job_whose_worker_died_runs_again_and_no_household_is_doubled(app, session, officer):
    user, market = officer
    engine = app.extensions["choqr.engine"]
    job_id = _queued_job(session, user, market, 8)
    # The first worker stored half the file (its batches commit as they go), then died.
    half = import_jobs.start(
        session, viewer_for(session, user), market_id=market.id, data=listing(4), filename="a.xlsx", inline_rows=10
    )
    assert half.report.created == 4
    _as_if_its_worker_died(session, job_id)
    sent: list[int] = []
    assert import_jobs.reap(engine, enqueue=sent.append) == [job_id] == sent
    import_jobs.run(engine, job_id)
    session.expire_all()
    job = session.get(ImportJob, job_id)
    assert job.status == "done" and job.attempts == 2
    report = import_jobs.report_of(job)
    assert (report.created, len(report.skipped)) == (4, 4)
    assert count(session, Household) == 8


def test_a_job_that_keeps_losing_its_worker_fails_with_the_reason(app, session, officer):
    user, market = officer
    engine = app.extensions["choqr.engine"]
    job_id = _queued_job(session, user, market, 3)
    _as_if_its_worker_died(session, job_id, attempts=import_jobs.MAX_ATTEMPTS)
    assert import_jobs.reap(engine, enqueue=lambda _: None) == []
    session.expire_all()
    job = session.get(ImportJob, job_id)
    assert job.status == "failed" and "dừng giữa chừng 3 lần" in job.error and job.data == b""


def test_an_english_speaking_officer_reads_a_failed_jobs_reason_in_english(app, client, session, officer):
    user, market = officer
    job_id = _queued_job(session, user, market, 3)
    _as_if_its_worker_died(session, job_id, attempts=import_jobs.MAX_ATTEMPTS)
    import_jobs.reap(app.extensions["choqr.engine"], enqueue=lambda _: None)
    login(client, user)
    client.post("/language/en")
    job_url = f"/markets/{market.id}/import/jobs/{job_id}"
    reason = "The background worker stopped halfway 3 times while importing this file"
    assert reason in client.get(job_url).get_data(as_text=True)
    assert client.get(job_url + ".json").json["error"].startswith(reason)


def test_a_jobs_report_keeps_each_refusal_as_data_and_shows_it_in_english(app, client, session, officer):
    app.config["IMPORT_INLINE_ROWS"] = 2
    user, market = officer
    book = openpyxl.load_workbook(io.BytesIO(listing(3)))
    book.active.append(["Trần Thị Mai", "K 9", "", ""])  # a space in a stall code
    book.active.append(["Lê Văn Tám", "K-001", "", ""])  # the stall of row 2 again
    data = io.BytesIO()
    book.save(data)
    login(client, user)
    client.post("/language/en")
    resp = client.post(
        f"/markets/{market.id}/import",
        data={"file": (io.BytesIO(data.getvalue()), "dai.xlsx")},
        content_type="multipart/form-data",
    )
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "Stall code &#39;K 9&#39; has characters that cannot be used (space)" in page
    assert "Stall K-001 is the same as in row 2 of the file." in page
    again = client.post(
        f"/markets/{market.id}/import",
        data={"file": (io.BytesIO(data.getvalue()), "dai.xlsx")},
        content_type="multipart/form-data",
    )
    assert "Already registered: Nguyễn Văn" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_a_job_run_twice_stores_once(app, session, officer):
    user, market = officer
    engine = app.extensions["choqr.engine"]
    job_id = _queued_job(session, user, market, 3)
    import_jobs.run(engine, job_id)
    import_jobs.run(engine, job_id)  # a resent message: the job is no longer queued
    assert count(session, Household) == 3
