"""Personal data is never cached, HTTPS is pinned when served over it, and logs cannot be forged."""

import logging

from factories import login, make_household, make_market, make_user

from merchants.logmask import MaskNumbers


def test_pages_qr_images_and_exports_with_personal_data_are_not_stored_by_the_browser(client, session):
    market = make_market(session)
    h = make_household(session, market)
    login(client, make_user(session, "admin", username="quantri"))
    for path in (
        f"/markets/{market.id}",
        f"/households/{h.id}",
        f"/households/{h.id}/qr.png",
        f"/reports/markets/{market.id}/missing/export.csv",
        "/api/v1/openapi.json",
    ):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert resp.headers["Cache-Control"] == "no-store", path


def test_static_files_stay_cacheable(client):
    resp = client.get("/static/app.css")
    assert resp.status_code == 200 and "no-store" not in resp.headers.get("Cache-Control", "")


def test_hsts_is_sent_over_https_only(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    secure = client.get("/login", base_url="https://choqr.example")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_behind_a_proxy_the_tablets_address_and_https_are_recognised(app):
    from app import create_app

    proxied = create_app({**app.config, "PROXY_FIX": 1})
    seen = {}

    @proxied.get("/_whoami")
    def _whoami():  # noqa: ANN202
        from flask import request

        seen.update(ip=request.remote_addr, secure=request.is_secure)
        return "ok"

    proxied.test_client().get("/_whoami", headers={"X-Forwarded-For": "14.161.0.9", "X-Forwarded-Proto": "https"})
    assert seen == {"ip": "14.161.0.9", "secure": True}
    proxied.extensions["choqr.engine"].dispose()


def test_a_crafted_path_cannot_write_a_forged_line_into_the_log():
    # gunicorn's access log: its format with the request's atoms as arguments (the path decoded: %0A is a newline)
    forged = '/x HTTP/1.1" 200 -\n5.6.7.8 "GET /admin'
    record = logging.LogRecord(
        "gunicorn.access",
        logging.INFO,
        __file__,
        1,
        '%(h)s "%(m)s %(U)s" %(s)s',
        ({"h": "1.2.3.4", "m": "GET", "U": forged, "s": "404"},),
        None,
    )
    MaskNumbers().filter(record)
    line = record.getMessage()
    assert "\n" not in line and "\\x0a" in line and line.startswith('1.2.3.4 "GET /x')


def test_the_servers_own_messages_are_left_as_written():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "\x1b[33mPress CTRL+C to quit\x1b[0m", None, None)
    MaskNumbers().filter(record)
    assert record.getMessage() == "\x1b[33mPress CTRL+C to quit\x1b[0m"


def test_a_set_password_token_never_reaches_the_log():
    from merchants.logmask import mask_numbers

    line = mask_numbers('1.2.3.4 "GET /set-password/abcDEF_123-xyz HTTP/1.1" 200')
    assert "abcDEF" not in line and "/set-password/•••" in line
