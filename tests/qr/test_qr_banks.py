"""The NAPAS bank directory: BIN is the key, codes and names are aliases for search."""

from __future__ import annotations

import csv
import io
from importlib import resources

import pytest

from qr import Bank, all_banks, bank_aliases, build_payload, fold_ascii, get_bank, parse_payload, search_banks


def test_directory_lists_66_banks_sorted_by_short_name_with_unique_bins() -> None:
    banks = all_banks()
    assert len(banks) == 66
    assert [b.short_name.casefold() for b in banks] == sorted(b.short_name.casefold() for b in banks)
    assert len({b.bin for b in banks}) == 66


def test_get_bank_finds_bidv_at_its_real_bin() -> None:
    assert get_bank("970418") == Bank("970418", "BIDV", "BIDV", "Ngân hàng Đầu tư và Phát triển Việt Nam", "BIDVVNVX")


@pytest.mark.parametrize(
    ("bin_", "short_name"),
    [("422589", "CIMB"), ("458761", "HSBC"), ("971025", "MoMo"), ("970406", "Vikki"), ("970414", "MBV")],
)
def test_get_bank_knows_bins_outside_9704_and_renamed_banks(bin_: str, short_name: str) -> None:
    bank = get_bank(bin_)
    assert bank is not None and bank.short_name == short_name


@pytest.mark.parametrize("bin_", ["999999", "", "97043", "9704360"])
def test_get_bank_returns_none_for_an_unknown_bin(bin_: str) -> None:
    assert get_bank(bin_) is None


def test_bank_without_a_swift_code_has_an_empty_string() -> None:
    momo = get_bank("971025")
    assert momo is not None and momo.swift == ""


@pytest.mark.parametrize("query", ["vietcom", "VCB", "ngoại thương", "NGOAI THUONG", "970436", "Vietcombank"])
def test_search_finds_vietcombank_by_any_alias_ignoring_case_and_diacritics(query: str) -> None:
    assert search_banks(query)[0].bin == "970436"


def test_search_puts_an_exact_code_before_a_partial_match() -> None:
    assert [b.short_name for b in search_banks("VCB")] == ["Vietcombank", "PVcomBank"]


def test_search_by_bin_prefix_lists_many_banks() -> None:
    assert len(search_banks("9704")) > 40


@pytest.mark.parametrize("query", ["", "   ", "☕", "no such bank"])
def test_search_returns_nothing_for_blank_or_unmatched_queries(query: str) -> None:
    assert search_banks(query) == []


@pytest.mark.parametrize(
    ("query", "bin_"), [("DongA", "970406"), ("oceanbank", "970414"), ("LienViet", "970449"), ("BVBank", "970454")]
)
def test_search_finds_renamed_banks_by_their_former_or_new_name(query: str, bin_: str) -> None:
    assert [bank.bin for bank in search_banks(query)] == [bin_]


@pytest.mark.parametrize(
    ("bin_", "code", "short_name", "name"),
    [
        ("971005", "VTLMONEY", "Viettel Money", "Tổng Công ty Dịch vụ số Viettel"),
        ("971011", "VNPTMONEY", "VNPT Money", "VNPT Money"),
        ("971133", "PVDB", "PVcomBank Pay", "Ngân hàng TMCP Đại Chúng Việt Nam Ngân hàng số"),
        ("977777", "MAFC", "MAFC", "Công ty Tài chính TNHH MTV Mirae Asset (Việt Nam)"),
        ("999888", "VBSP", "VBSP", "Ngân hàng Chính sách Xã hội"),
        ("970454", "VCCB", "BVBank", "Ngân hàng TMCP Bản Việt"),
    ],
)
def test_wallets_and_banks_added_in_2026_12_have_their_current_names(
    bin_: str, code: str, short_name: str, name: str
) -> None:
    assert get_bank(bin_) == Bank(bin_, code, short_name, name, get_bank(bin_).swift)  # type: ignore[union-attr]


def test_a_transfer_to_viettel_money_builds_and_round_trips() -> None:
    payload = build_payload(bin="971005", account="0912345678")
    parsed = parse_payload(payload)
    assert (parsed.bin, parsed.account, parsed.service, parsed.warnings) == ("971005", "0912345678", "account", ())
    assert parsed.bank is not None and parsed.bank.short_name == "Viettel Money"


@pytest.mark.parametrize(
    ("query", "bin_"),
    [
        ("ngoai thuong", "970436"),
        ("Ngân hàng Ngoại thương", "970436"),
        ("Liên Việt", "970449"),
        ("LienVietPostBank", "970449"),
        ("Bưu điện Liên Việt", "970449"),
        ("Đông Á", "970406"),
        ("DongA Bank", "970406"),
        ("Công thương", "970415"),
        ("Nông nghiệp", "970405"),
        ("Agribank", "970405"),
        ("Đầu tư và Phát triển", "970418"),
        ("Kỹ thương", "970407"),
        ("Quân đội", "970422"),
        ("Ngân hàng Quân đội", "970422"),
        ("Hàng Hải", "970426"),
        ("Maritime Bank", "970426"),
        ("Sài Gòn Thương Tín", "970403"),
        ("Á Châu", "970416"),
        ("Tiên Phong", "970423"),
        ("Việt Nam Thịnh Vượng", "970432"),
        ("Phương Đông", "970448"),
        ("VietCapitalBank", "970454"),
        ("Bản Việt", "970454"),
        ("ViettelPay", "971005"),
        ("viettel money", "971005"),
        ("VNPT Pay", "971011"),
        ("NHCSXH", "999888"),
        ("chinh sach xa hoi", "999888"),
        ("Mirae Asset", "977777"),
        ("Nam Á", "970428"),
        ("Sài Gòn", "970429"),
    ],
)
def test_search_puts_the_bank_a_former_or_everyday_name_means_first(query: str, bin_: str) -> None:
    assert search_banks(query)[0].bin == bin_


def test_every_alias_row_names_a_bin_of_the_directory_and_says_what_kind_of_name_it_is() -> None:
    raw = resources.files("qr").joinpath("data", "bank_aliases.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert len(rows) > 60
    assert {row["bin"] for row in rows} <= {bank.bin for bank in all_banks()}
    assert {row["kind"] for row in rows} == {"former", "common"}


def test_no_alias_points_at_two_banks_or_at_another_banks_own_name() -> None:
    owner: dict[str, str] = {}
    for bank in all_banks():
        for name in (bank.code, bank.short_name, bank.name, *bank_aliases(bank.bin)):
            assert owner.setdefault(fold_ascii(name), bank.bin) == bank.bin, name


def test_a_renamed_bank_keeps_its_former_names_as_aliases() -> None:
    assert {"VietCapitalBank", "Viet Capital Bank"} <= set(bank_aliases("970454"))
    assert "LienVietPostBank" in bank_aliases("970449")
    assert bank_aliases("999999") == ()
