"""The reading rule of issue 11: a CRC-correct payload is read whole; only the payee's fields still refuse.

Payloads here are built to the shapes of QRs from the wild (MoMo's plain tag 80, TPBank's tag 87, VNPay's
merchant template, a foreign scheme's decimal amount) and closed with ChoQR's own CRC function.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from qr_vectors import V4_STATIC_ACCOUNT, tlv

from qr import ParseWarning, PayloadFormatError, build_payload, decode_image, parse_payload, png_bytes
from qr.canonical import read_canonical
from qr.cli import qr_cli
from qr.crc import crc16_hex


def close(*objects: tuple[str, str]) -> str:
    """Write the objects in the order given and end them with object 63 computed by qr.crc."""
    body = "".join(tlv(tag, value) for tag, value in objects) + "6304"
    return body + crc16_hex(body)


def napas(bin_: str, account: str, service: str = "QRIBFTTA") -> str:
    """Object 38's value for a NAPAS transfer."""
    return tlv("00", "A000000727") + tlv("01", tlv("00", bin_) + tlv("01", account)) + tlv("02", service)


# A MoMo wallet's personal QR: a VietQR transfer to its BVBank-held account, with a plain "046" in tag 80.
MOMO = close(
    ("00", "01"),
    ("01", "11"),
    ("38", napas("970454", "99MM24011M34875080")),
    ("53", "704"),
    ("58", "VN"),
    ("62", tlv("08", "CHUYEN TIEN")),
    ("80", "046"),
)
# A TPBank app QR with an amount: plain "CLASSIC" in tag 87 (the card design the app showed).
TPBANK = close(
    ("00", "01"),
    ("01", "12"),
    ("38", napas("970423", "00299941001")),
    ("53", "704"),
    ("54", "150000"),
    ("58", "VN"),
    ("62", tlv("08", "TT DON HANG 123")),
    ("87", "CLASSIC"),
)
# A ZaloPay wallet QR: transfer to a BVBank virtual account, holder name and a 16-character city.
ZALOPAY = close(
    ("00", "01"),
    ("01", "11"),
    ("38", napas("970454", "99ZP24129M41357710")),
    ("53", "704"),
    ("58", "VN"),
    ("59", "NGUYEN VAN AN"),
    ("60", "HO CHI MINH CITY"),
)
# A VNPay merchant QR with an amount (VNPay keeps initiation 11) and a purpose longer than 25 characters.
VNPAY = close(
    ("00", "01"),
    ("01", "11"),
    ("26", tlv("00", "A000000775") + tlv("01", "0108799042")),
    ("52", "5977"),
    ("53", "704"),
    ("54", "250000"),
    ("58", "VN"),
    ("59", "MYPHAMHER"),
    ("60", "HANOI"),
    ("62", tlv("03", "MY PHAM HER") + tlv("07", "MPHER01") + tlv("08", "THANH TOAN DON HANG SO 1234567")),
)


def foreign(amount: str) -> str:
    """A Thai PromptPay-shaped EMVCo QR: another scheme's template in 29, baht, and EMVCo's decimal amount."""
    return close(
        ("00", "01"),
        ("01", "12"),
        ("29", tlv("00", "A000000677010111") + tlv("01", "0066812345678")),
        ("53", "764"),
        ("54", amount),
        ("58", "TH"),
    )


def at(payload: str, text: str) -> int:
    """Position of the value that follows text (an object's id and length) in the payload."""
    return payload.index(text) + len(text)


def codes(payload: str) -> list[tuple[int, str, str]]:
    return [(w.position, w.tag, w.code) for w in parse_payload(payload).warnings]


def test_a_momo_qr_with_a_plain_tag_80_is_read_whole_with_one_warning() -> None:
    parsed = parse_payload(MOMO)
    assert (parsed.scheme, parsed.bin, parsed.account, parsed.service) == (
        "vietqr",
        "970454",
        "99MM24011M34875080",
        "account",
    )
    assert parsed.bank is not None and parsed.bank.short_name == "BVBank"
    assert (parsed.purpose, parsed.crc_ok) == ("CHUYEN TIEN", True)
    assert ("80", "046") in parsed.objects
    (warning,) = parsed.warnings
    assert (warning.position, warning.tag, warning.code) == (at(MOMO, "8003"), "80", "not_a_template")
    assert "Trường 80" in warning.message and "'046'" in warning.message


def test_a_tpbank_qr_with_a_plain_tag_87_is_read_whole_with_its_amount() -> None:
    parsed = parse_payload(TPBANK)
    assert (parsed.bin, parsed.account, parsed.initiation, parsed.amount) == (
        "970423",
        "00299941001",
        "dynamic",
        150000,
    )
    assert parsed.purpose == "TT DON HANG 123"
    assert codes(TPBANK) == [(at(TPBANK, "8707"), "87", "not_a_template")]


def test_a_zalopay_qr_with_an_overlong_city_keeps_the_city_and_warns() -> None:
    parsed = parse_payload(ZALOPAY)
    assert (parsed.account, parsed.merchant_name, parsed.merchant_city) == (
        "99ZP24129M41357710",
        "NGUYEN VAN AN",
        "HO CHI MINH CITY",
    )
    assert codes(ZALOPAY) == [(at(ZALOPAY, "6016"), "60", "length_out_of_range")]
    assert "dài 16 ký tự" in parsed.warnings[0].message


def test_a_vnpay_qr_with_a_long_purpose_is_vnpay_and_keeps_the_purpose_whole() -> None:
    parsed = parse_payload(VNPAY)
    assert (parsed.scheme, parsed.merchant_id, parsed.amount, parsed.initiation) == (
        "vnpay",
        "0108799042",
        250000,
        "static",
    )
    assert parsed.purpose == "THANH TOAN DON HANG SO 1234567"
    assert codes(VNPAY) == [(at(VNPAY, "0830"), "62/08", "length_out_of_range")]


@pytest.mark.parametrize("amount", ["100.00", "12.30", "0.5"])
def test_a_foreign_emvco_qr_with_a_decimal_amount_is_other_not_refused(amount: str) -> None:
    payload = foreign(amount)
    parsed = parse_payload(payload)
    assert (parsed.scheme, parsed.bin, parsed.account, parsed.amount) == ("other", None, None, None)
    assert (parsed.currency, parsed.country, parsed.initiation) == ("764", "TH", "dynamic")
    assert ("54", amount) in parsed.objects
    assert codes(payload) == [(at(payload, f"54{len(amount):02d}"), "54", "amount_not_whole")]
    assert repr(amount) in parsed.warnings[0].message


def test_a_vietqr_with_a_decimal_amount_is_still_refused() -> None:
    payload = close(("00", "01"), ("01", "12"), ("38", napas("970436", "0011001932418")), ("54", "100.00"))
    with pytest.raises(PayloadFormatError, match="amount must be digits only at position 77"):
        parse_payload(payload)


def test_an_unknown_point_of_initiation_is_read_as_none_with_a_warning() -> None:
    payload = close(("00", "01"), ("01", "13"), ("38", napas("970436", "0011001932418")), ("58", "VN"))
    parsed = parse_payload(payload)
    assert (parsed.scheme, parsed.account, parsed.initiation) == ("vietqr", "0011001932418", None)
    assert codes(payload) == [(10, "01", "initiation_unknown")]


def test_an_unreadable_additional_data_template_is_kept_raw_and_warned_at_the_inner_fault() -> None:
    payload = close(("00", "01"), ("01", "11"), ("38", napas("970436", "0011001932418")), ("62", "0810RAU"))
    parsed = parse_payload(payload)
    assert (parsed.account, parsed.additional, parsed.purpose) == ("0011001932418", {}, None)
    assert ("62", "0810RAU") in parsed.objects
    assert codes(payload) == [(at(payload, "6207") + 4, "62", "not_a_template")]  # where 08's 10 overruns


@pytest.mark.parametrize(
    ("tag", "value", "code"),
    [
        ("52", "54A1", "not_digits"),
        ("52", "541", "length_out_of_range"),
        ("53", "70", "length_out_of_range"),
        ("58", "VNM", "length_out_of_range"),
        ("59", "CONG TY TNHH THUONG MAI DICH VU", "length_out_of_range"),
        ("61", "70000000000", "length_out_of_range"),
    ],
)
def test_display_fields_out_of_their_emvco_format_are_read_whole_with_a_warning(
    tag: str, value: str, code: str
) -> None:
    payload = close(("00", "01"), ("01", "11"), ("38", napas("970436", "0011001932418")), (tag, value))
    assert dict(parse_payload(payload).objects)[tag] == value
    assert codes(payload) == [(at(payload, f"{tag}{len(value):02d}"), tag, code)]


def test_a_well_formed_bin_the_directory_does_not_know_is_a_warning() -> None:
    payload = close(("00", "01"), ("01", "11"), ("38", napas("123456", "0011001932418")), ("53", "704"))
    parsed = parse_payload(payload)
    assert (parsed.bin, parsed.bank, parsed.account) == ("123456", None, "0011001932418")
    assert codes(payload) == [(at(payload, "0006"), "38/01/00", "unknown_bin")]


@pytest.mark.parametrize(
    "extra",
    [(), (("62", tlv("08", "THANH TOAN TIEN HANG THANG 12")),)],
    ids=["unknown-bin", "unknown-bin-and-long-purpose"],
)
def test_payloads_in_the_canonical_layout_get_the_same_warnings_as_any_other(
    extra: tuple[tuple[str, str], ...],
) -> None:
    objects = (("00", "01"), ("01", "11"), ("38", napas("999999", "0011001932418")), ("53", "704"), ("58", "VN"))
    payload = close(*objects, *extra)
    assert read_canonical(payload) is None  # the fast reader leaves anything worth a warning to the general one
    expected = ["unknown_bin"] + (["length_out_of_range"] if extra else [])
    assert [w.code for w in parse_payload(payload).warnings] == expected


def test_several_warnings_come_in_payload_order() -> None:
    payload = close(
        ("00", "01"),
        ("01", "10"),
        ("38", napas("970436", "0011001932418")),
        ("60", "THANH PHO HO CHI MINH"),
        ("80", "046"),
        ("87", "CLASSIC"),
    )
    assert [tag for _, tag, _ in codes(payload)] == ["01", "60", "80", "87"]


def test_a_payload_choqr_builds_carries_no_warning() -> None:
    payload = build_payload(bin="970436", account="0011001932418", amount=50000, purpose="Tiền chợ")
    assert parse_payload(payload).warnings == ()


BODY_HEAD = (("00", "01"), ("01", "11"))


@pytest.mark.parametrize(
    ("napas_value", "position", "fragment"),
    [
        (napas("97043A", "0011001932418"), 38, "BIN in 38/01/00 must be 6 digits at position 38 (got '97043A')"),
        (napas("97043", "0011001932418"), 38, "BIN in 38/01/00 must be 6 digits"),
        (napas("９７０４３６", "0011001932418"), 38, "BIN in 38/01/00 must be 6 digits"),
        (napas("970436", "0011-001932"), 48, "account in 38/01/01 must be 1-19 letters or digits at position 48"),
        (napas("970436", "1" * 20), 48, "account in 38/01/01 must be 1-19 letters or digits"),
        (napas("970436", "00110019 418"), 48, "(got '00110019 418')"),
        (napas("970436", "0011001932418", "QRXYZ"), 65, "service code in 38/02 must be QRIBFTTA"),
        (napas("970436", "0011001932418", "qribftta"), 65, "(got 'qribftta')"),
        (tlv("00", "A000000727") + tlv("01", tlv("00", "970436")) + tlv("02", "QRIBFTTA"), 16, "lacks a BIN"),
        (tlv("00", "A000000727") + tlv("01", "0006970436011") + tlv("02", "QRIBFTTA"), 44, "in object 38/01"),
    ],
)
def test_faults_in_who_gets_paid_still_refuse_naming_the_position(
    napas_value: str, position: int, fragment: str
) -> None:
    payload = close(*BODY_HEAD, ("38", napas_value), ("53", "704"), ("58", "VN"))
    with pytest.raises(PayloadFormatError) as caught:
        parse_payload(payload)
    assert fragment in str(caught.value)
    assert caught.value.position == position


def test_a_push_payment_is_not_held_to_the_transfer_account_rule() -> None:
    payload = close(*BODY_HEAD, ("38", napas("970436", "MERCHANT-01", "QRPUSH")), ("58", "VN"))
    parsed = parse_payload(payload)
    assert (parsed.scheme, parsed.service, parsed.account, parsed.warnings) == ("vietqr", "push", "MERCHANT-01", ())


@pytest.mark.parametrize(
    ("prefix", "suffix"),
    [("", "\n"), ("", "\r\n"), ("", " "), ("", "\x00"), ("\ufeff", ""), ("\ufeff", "\r\n"), (" \t", "\x00\n \x00")],
)
@pytest.mark.parametrize("payload", [MOMO, V4_STATIC_ACCOUNT, foreign("100.00")], ids=["momo", "canonical", "foreign"])
def test_surrounding_whitespace_nul_and_a_bom_are_stripped_before_reading(
    payload: str, prefix: str, suffix: str
) -> None:
    assert parse_payload(prefix + payload + suffix) == parse_payload(payload)


def test_whitespace_inside_a_payload_is_not_stripped() -> None:
    with pytest.raises(PayloadFormatError):
        parse_payload(V4_STATIC_ACCOUNT[:20] + " " + V4_STATIC_ACCOUNT[20:])


def test_warnings_are_frozen_small_records_with_a_json_view() -> None:
    warning = parse_payload(MOMO).warnings[0]
    assert isinstance(warning, ParseWarning)
    with pytest.raises(dataclasses.FrozenInstanceError):
        warning.position = 0  # type: ignore[misc]
    data = parse_payload(MOMO).to_dict()
    assert json.loads(json.dumps(data, ensure_ascii=False))["warnings"] == [
        {"position": warning.position, "tag": "80", "code": "not_a_template", "message": warning.message}
    ]
    assert warning.message.isprintable()


# --- the same payloads through the command line -------------------------------------------------------------

WRAPS: dict[str, Callable[[str], str]] = {
    "crlf": lambda text: text + "\r\n",
    "bom": lambda text: "\ufeff" + text,
    "nul": lambda text: text + "\x00",
    "spaces": lambda text: "  " + text + " \n",
}


def momo_warning_dict() -> dict[str, object]:
    return parse_payload(MOMO).warnings[0].to_dict()


@pytest.mark.parametrize("wrap", WRAPS.values(), ids=WRAPS.keys())
def test_cli_decode_json_strips_the_edges_and_lists_the_warnings(wrap: Callable[[str], str]) -> None:
    result = CliRunner().invoke(qr_cli, ["decode", "--json", wrap(MOMO)])
    assert (result.exit_code, result.stderr) == (0, "")
    data = json.loads(result.stdout)
    assert (data["scheme"], data["bin"], data["account"], data["crc_ok"]) == (
        "vietqr",
        "970454",
        "99MM24011M34875080",
        True,
    )
    assert data["warnings"] == [momo_warning_dict()]
    assert data["warnings"][0]["position"] == at(MOMO, "8003")


def test_cli_decode_json_gives_an_empty_warning_list_for_a_clean_payload() -> None:
    result = CliRunner().invoke(qr_cli, ["decode", "--json", V4_STATIC_ACCOUNT])
    assert json.loads(result.stdout)["warnings"] == []


def test_cli_decode_prints_each_warning_after_the_fields() -> None:
    result = CliRunner().invoke(qr_cli, ["decode", TPBANK])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "account        00299941001" in lines
    position = at(TPBANK, "8707")
    assert lines[-1].startswith(f"warning        not_a_template at position {position} (object 87): Trường 87")


def test_cli_decode_reads_a_foreign_qr_as_other_and_exits_0() -> None:
    result = CliRunner().invoke(qr_cli, ["decode", "--json", foreign("100.00") + "\n"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert (data["scheme"], data["amount"], [w["code"] for w in data["warnings"]]) == (
        "other",
        None,
        ["amount_not_whole"],
    )


def test_the_real_command_line_strips_a_bom_and_crlf_from_its_argument() -> None:
    argument = "\ufeff" + MOMO + "\r\n"
    command = [sys.executable, "-c", "from qr.cli import qr_cli; qr_cli(prog_name='qr')", "decode", "--json", argument]
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(command, cwd=root, capture_output=True, encoding="utf-8", timeout=60, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert json.loads(result.stdout)["warnings"] == [momo_warning_dict()]


def test_cli_decode_of_an_image_file_reports_the_warnings_of_its_qr(tmp_path: Path) -> None:
    image = tmp_path / "momo.png"
    image.write_bytes(png_bytes(MOMO + "\r\n", scale=4))
    result = CliRunner().invoke(qr_cli, ["decode", "--json", str(image)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["warnings"] == [momo_warning_dict()]


# --- and through the photo path: rendered by ChoQR, decoded by decode_image, then parsed -------------------

SHAPES = {"momo": MOMO, "tpbank": TPBANK, "zalopay": ZALOPAY, "vnpay": VNPAY, "foreign": foreign("100.00")}


@pytest.mark.parametrize("payload", SHAPES.values(), ids=SHAPES.keys())
def test_a_rendered_png_decodes_and_parses_to_the_same_fields_and_warnings(payload: str) -> None:
    texts = decode_image(png_bytes(payload, scale=4))
    assert texts == [payload]
    assert parse_payload(texts[0]) == parse_payload(payload)


@pytest.mark.parametrize("wrap", WRAPS.values(), ids=WRAPS.keys())
def test_a_symbol_that_carries_edges_decodes_to_the_bare_payload(wrap: Callable[[str], str]) -> None:
    assert decode_image(png_bytes(wrap(MOMO), scale=4)) == [MOMO]


def test_a_phone_like_jpeg_of_a_tpbank_qr_reads_back_with_its_warning() -> None:
    photo = Image.effect_noise((1600, 1200), 30).convert("RGB")
    symbol = Image.open(io.BytesIO(png_bytes(TPBANK, scale=7))).convert("RGB").rotate(5, expand=True, fillcolor="white")
    photo.paste(symbol, (400, 250))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=80)
    (text,) = decode_image(buffer.getvalue())
    parsed = parse_payload(text)
    assert (parsed.bin, parsed.account, parsed.amount) == ("970423", "00299941001", 150000)
    assert [(w.tag, w.code) for w in parsed.warnings] == [("87", "not_a_template")]
