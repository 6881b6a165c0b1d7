"""Numbers that identify people never reach the server log whole."""

import logging

import pytest

from merchants.logmask import MaskNumbers, mask_numbers


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('"GET /households/search?q=022185001234 HTTP/1.1" 200', '"GET /households/search?q=••••1234 HTTP/1.1" 200'),
        ("GET /markets/1?q=0912%20345%20678", "GET /markets/1?q=••••5678"),
        ("GET /?q=0912+345+678&page=2 HTTP/1.1", "GET /?q=••••5678&page=2 HTTP/1.1"),
        ("GET /?q=0912.345.678", "GET /?q=••••5678"),
        ("GET /?q=%2B84912345678", "GET /?q=%2B••••5678"),
        ("10.0.0.123 - GET /markets/123456?page=2", "10.0.0.123 - GET /markets/123456?page=2"),
        ("GET /static/app.css?v=1795305368 HTTP/1.1", "GET /static/app.css?v=1795305368 HTTP/1.1"),
        ("GET /households/12345/edit HTTP/1.1", "GET /households/12345/edit HTTP/1.1"),
        ("GET /markets/3/stalls/A-001 200 1532", "GET /markets/3/stalls/A-001 200 1532"),
    ],
)
def test_long_numbers_keep_only_their_last_four_digits(line, masked):
    assert mask_numbers(line) == masked


def test_the_filter_masks_a_werkzeug_style_record():
    record = logging.LogRecord(
        "werkzeug",
        logging.INFO,
        __file__,
        1,
        '%s - - "%s" %s',
        ("127.0.0.1", "GET /households/search?q=0011001932418 HTTP/1.1", "200"),
        None,
    )
    assert MaskNumbers().filter(record)
    assert record.getMessage() == '127.0.0.1 - - "GET /households/search?q=••••2418 HTTP/1.1" 200'


def test_gunicorn_access_log_leaves_query_strings_out():
    import runpy
    from pathlib import Path

    conf = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    assert "%(U)s" in conf["access_log_format"] and "%(q)s" not in conf["access_log_format"]
    assert "%(r)s" not in conf["access_log_format"]
