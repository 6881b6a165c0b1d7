"""The demo data, loaded by `choqr seed-demo` once per test process (conftest.demo_template): the district
figure '356/364 hộ, đạt 97%', its funnel, and a second load that changes nothing."""

import csv
import io

import pytest
from factories import login
from sqlmodel import select

from merchants.coverage import Funnel
from merchants.demo import DEMO_PASSWORD
from merchants.models import Market, User

pytestmark = pytest.mark.slow  # the demo is seeded once per run: whoever comes first waits for it


@pytest.fixture
def database_url(demo_database):  # noqa: ANN001, ANN201 - every test here starts from the demo
    return demo_database.url


def test_demo_data_reproduces_the_district_report_and_loads_once(app, session, demo_database):
    assert "admin" in demo_database.seed_output and "choqr-demo" in demo_database.seed_output
    runner = app.test_cli_runner()
    result = runner.invoke(args=["coverage", "--market", "CAIRONG"])
    assert "356/364 hộ (97%)" in result.output
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and "đã có sẵn" in again.output
    assert all(m.is_demo for m in session.exec(select(Market)))


def test_demo_market_report_shows_the_funnel_and_names_the_eight_missing_households(client, session):
    market = session.exec(select(Market).where(Market.code == "CAIRONG")).one()
    login(client, session.exec(select(User).where(User.username == "bql.cairong")).one(), DEMO_PASSWORD)

    page = client.get(f"/reports/markets/{market.id}").get_data(as_text=True)
    assert "356/364 hộ đã có mã QR" in page and 'class="big-pct cov fair">97%' in page

    export = client.get(f"/reports/markets/{market.id}/export.csv")
    rows = list(csv.reader(io.StringIO(export.data.decode("utf-8-sig"))))
    total = dict(zip(rows[0], rows[-1], strict=True))
    assert Funnel(
        *(int(total[h]) for h in ("Số hộ", "Đã có tài khoản", "Đã cấp QR", "Đã in bảng QR", "Đã kiểm tra bảng"))
    ) == Funnel(364, 356, 356, 320, 0)
    assert (total["Tỷ lệ (%)"], total["Chưa có QR"]) == ("97", "8")
    assert [r[0] for r in rows[1:-1]] == ["Nhà chợ chính", "Dãy hải sản", "Dãy rau quả", "Ki-ốt mặt đường"]

    missing = list(
        csv.reader(io.StringIO(client.get(f"/reports/markets/{market.id}/missing/export.csv").data.decode("utf-8-sig")))
    )[1:]
    assert len(missing) == 8 and all(name.strip() for _, name, *_ in missing)
    assert client.get("/reports/").headers["Location"].endswith(f"/reports/markets/{market.id}")
    other = session.exec(select(Market).where(Market.code == "HALONG1")).one()
    assert client.get(f"/reports/markets/{other.id}/export.csv").status_code == 404
