"""A warning's words are data: a code, its template and params, so an application can say it in its own language."""

from __future__ import annotations

import re

import pytest
from test_qr_lenient import MOMO, VNPAY, ZALOPAY, close, foreign, napas

from qr import parse_payload
from qr.lenient import DISPLAY_RULES, TEMPLATES

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
ONE_OF_EACH = [
    MOMO,  # not_a_template
    ZALOPAY,  # length_out_of_range, a display field
    VNPAY,  # length_out_of_range, a sub-field of 62
    foreign("12.30"),  # amount_not_whole
    close(("00", "01"), ("01", "13"), ("38", napas("123456", "0011001932418")), ("52", "54A1")),  # 3 more
]


def _warnings():  # noqa: ANN202
    return [w for payload in ONE_OF_EACH for w in parse_payload(payload).warnings]


def test_these_payloads_raise_every_warning_code():
    assert {w.code for w in _warnings()} == set(TEMPLATES)


@pytest.mark.parametrize("warning", _warnings(), ids=lambda w: w.code)
def test_a_warning_carries_its_codes_template_and_exactly_the_params_it_names(warning):
    assert warning.template == TEMPLATES[warning.code]
    assert set(warning.params) == set(PLACEHOLDER.findall(warning.template))
    assert warning.message == warning.template % dict(warning.params)
    assert "%(" not in warning.message


def test_params_are_values_and_names_not_sentences():
    by_code = {w.code: w for w in _warnings()}
    assert dict(by_code["not_digits"].params) == {"tag": "52", "label": DISPLAY_RULES["52"][3], "value": "'54A1'"}
    assert dict(by_code["unknown_bin"].params) == {"bin": "123456", "tag": "38/01/00"}
    assert dict(by_code["initiation_unknown"].params) == {"value": "'13'"}
    city = next(w for w in _warnings() if w.tag == "60")
    assert dict(city.params) == {"tag": "60", "label": "thành phố", "length": 16, "limit": "1–15"}


def test_a_value_with_a_control_character_is_quoted_so_the_message_stays_printable():
    payload = close(("00", "01"), ("01", "11"), ("38", napas("970436", "0011001932418")), ("80", "0\x07"))
    (warning,) = parse_payload(payload).warnings
    assert warning.params["value"] == "'0\\x07'" and warning.message.isprintable()
