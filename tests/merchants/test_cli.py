"""The choqr command line: coverage figures, schema set-up and the demo data."""

import json

from factories import make_household, make_market


def test_coverage_json_lists_every_market_with_floored_percent(app, session):
    a = make_market(session, code="CHOA", name="Chợ A", stalls=3)
    make_market(session, code="CHOB", name="Chợ B", stalls=1)
    make_household(session, a)
    make_household(session, a)
    make_household(session, a, account=False)
    result = app.test_cli_runner().invoke(args=["coverage", "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["code"]: r for r in json.loads(result.output)}
    assert rows["CHOA"] == {"code": "CHOA", "name": "Chợ A", "covered": 2, "total": 3, "percent": 66, "active": 0}
    assert rows["CHOB"]["percent"] is None and rows["CHOB"]["total"] == 0


def test_coverage_of_an_unknown_market_exits_non_zero_with_a_message(app):
    result = app.test_cli_runner().invoke(args=["coverage", "--market", "KHONGCO"])
    assert result.exit_code == 2
    assert "KHONGCO" in result.output


def test_init_db_is_safe_to_run_twice(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["init-db"]).exit_code == 0
    assert runner.invoke(args=["init-db"]).exit_code == 0


def test_demo_sets_up_the_database_and_really_serves(app, monkeypatch):
    served = {}

    def fake_run_simple(host, port, application, **options):  # noqa: ANN001, ANN003, ANN202
        served.update(host=host, port=port, app=application, **options)

    monkeypatch.setattr("werkzeug.serving.run_simple", fake_run_simple)
    monkeypatch.setattr("merchants.demo.seed", lambda session: {"households": 0})
    result = app.test_cli_runner().invoke(args=["demo", "--port", "5099"])
    assert result.exit_code == 0, result.output
    assert "http://127.0.0.1:5099" in result.output
    assert served["app"] is app and served["port"] == 5099 and served["use_reloader"] is False


def test_every_command_reports_what_stopped_it_the_same_way(app, session, tmp_path):
    """A market out of reach (coverage, import) and a bad queue setting: one 'Lỗi: …' line each, exit code 2."""
    runner = app.test_cli_runner()
    app.config.update(JOBS_IMMEDIATE=False, JOBS_URL="amqp://hang-doi")
    answers = [
        runner.invoke(args=["coverage", "--market", "KHONGCO"]),
        runner.invoke(args=["worker"]),
        runner.invoke(args=["import", str(_csv(tmp_path)), "--market", "KHONGCO"]),
    ]
    for result in answers:
        assert result.exit_code == 2, result.output
        assert result.output.strip().splitlines()[-1].startswith("Lỗi: "), result.output
    assert "JOBS_URL 'amqp://hang-doi'" in answers[1].output


def _csv(tmp_path):  # noqa: ANN001, ANN202
    path = tmp_path / "ho.csv"
    path.write_text("Họ và tên,Số sạp\nNguyễn Thị Đào,A-001\n", encoding="utf-8")
    return path
