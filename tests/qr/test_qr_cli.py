"""The `qr` command group: encode prints the payload alone; decode shows fields and fails loudly on damage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from qr_vectors import V1_STATIC_CARD, V2_DYNAMIC_ACCOUNT, V4_STATIC_ACCOUNT, V5_VNPAY, V6_LENGTH_ERRATUM

from qr import png_bytes
from qr.cli import qr_cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_group_is_named_qr_for_the_app_to_register() -> None:
    assert qr_cli.name == "qr"
    assert set(qr_cli.commands) == {"encode", "decode"}


def test_encode_prints_only_the_payload(runner: CliRunner) -> None:
    result = runner.invoke(qr_cli, ["encode", "--bin", "970436", "--account", "0011001932418"])
    assert result.exit_code == 0
    assert result.stdout == V4_STATIC_ACCOUNT + "\n"
    assert result.stderr == ""


def test_encode_card_flag_builds_a_card_transfer(runner: CliRunner) -> None:
    result = runner.invoke(qr_cli, ["encode", "--bin", "970403", "--account", "9704031101234567", "--card"])
    assert result.stdout == V1_STATIC_CARD + "\n"


def test_encode_with_amount_and_purpose_folds_the_purpose(runner: CliRunner) -> None:
    args = ["encode", "--bin", "970436", "--account", "0011001932418", "--amount", "50000", "--purpose", "Tiền chợ"]
    result = runner.invoke(qr_cli, args)
    assert result.exit_code == 0
    assert "010212" in result.stdout and "0808TIEN CHO" in result.stdout


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--bin", "970436", "--account", "12-34"], "account"),
        (["--bin", "123456", "--account", "1234"], "bin"),
        (["--bin", "970436", "--account", "1234", "--amount", "0"], "amount"),
        (["--bin", "970436", "--account", "1234", "--purpose", "x" * 30], "purpose"),
    ],
)
def test_encode_reports_a_bad_field_on_stderr_and_exits_2(runner: CliRunner, args: list[str], field: str) -> None:
    result = runner.invoke(qr_cli, ["encode", *args])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"Error: {field}: ")


def test_decode_shows_the_fields_one_per_line(runner: CliRunner) -> None:
    result = runner.invoke(qr_cli, ["decode", V2_DYNAMIC_ACCOUNT])
    assert result.exit_code == 0
    lines = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert lines["bank"] == "Sacombank"
    assert lines["account"] == "0011012345678"
    assert lines["amount"] == "180000"
    assert lines["purpose"] == "thanh toan don hang"
    assert lines["62.bill_number"] == "NPS6869"


def test_decode_json_prints_one_object_with_the_main_fields(runner: CliRunner) -> None:
    result = runner.invoke(qr_cli, ["decode", "--json", V5_VNPAY])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["scheme"] == "vnpay" and data["crc_ok"] is True
    for key in ("scheme", "bin", "bank", "account", "service", "initiation", "amount", "purpose", "crc_ok"):
        assert key in data


def test_decode_shows_a_bad_crc_payload_then_exits_1_naming_the_position(runner: CliRunner) -> None:
    result = runner.invoke(qr_cli, ["decode", "--json", V4_STATIC_ACCOUNT[:-4] + "E0BC"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["crc_ok"] is False
    assert result.stderr == "Error: CRC mismatch at position 90: payload says E0BC, computed E0BB\n"


def test_decode_exits_1_naming_the_position_of_a_broken_length(runner: CliRunner) -> None:
    result = runner.invoke(qr_cli, ["decode", V6_LENGTH_ERRATUM])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "object 38/01 at position 60" in result.stderr


def test_decode_reads_an_image_file_first(runner: CliRunner, tmp_path: Path) -> None:
    image = tmp_path / "placard.png"
    image.write_bytes(png_bytes(V2_DYNAMIC_ACCOUNT))
    result = runner.invoke(qr_cli, ["decode", "--json", str(image)])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["account"] == "0011012345678"


def test_decode_exits_1_when_an_image_holds_no_qr(runner: CliRunner, tmp_path: Path) -> None:
    image = tmp_path / "blank.png"
    Image.new("L", (100, 100), 255).save(image)
    result = runner.invoke(qr_cli, ["decode", str(image)])
    assert result.exit_code == 1
    assert "no QR code found" in result.stderr


def test_decode_exits_1_when_a_file_is_not_an_image(runner: CliRunner, tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    result = runner.invoke(qr_cli, ["decode", str(text)])
    assert result.exit_code == 1
    assert result.stderr == "Error: Tệp không phải ảnh PNG, JPEG hay WebP.\n"


def test_encode_issues_a_qr_for_a_viettel_money_wallet_and_decode_reads_it_back(tmp_path):
    from click.testing import CliRunner

    from qr.cli import qr_cli

    runner = CliRunner()
    encoded = runner.invoke(qr_cli, ["encode", "--bin", "971005", "--account", "0912345678"])
    assert encoded.exit_code == 0, encoded.output
    payload = encoded.output.strip().splitlines()[0]
    decoded = runner.invoke(qr_cli, ["decode", payload, "--json"])
    assert decoded.exit_code == 0 and '"971005"' in decoded.output and '"warnings": []' in decoded.output
