"""The NAPAS bank directory: BIN is the key, codes and names are aliases for search."""

from __future__ import annotations

import pytest

from qr import Bank, all_banks, get_bank, search_banks


def test_directory_lists_61_banks_sorted_by_short_name_with_unique_bins() -> None:
    banks = all_banks()
    assert len(banks) == 61
    assert [b.short_name.casefold() for b in banks] == sorted(b.short_name.casefold() for b in banks)
    assert len({b.bin for b in banks}) == 61


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
