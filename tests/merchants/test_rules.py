"""Pure domain rules: coverage arithmetic, names, phones, CCCD, masking, status moves."""

from datetime import date

import pytest

from merchants import identity
from merchants import status as st
from merchants.coverage import Coverage, coverage_from_status_counts, floor_percent, funnel_from_status_counts
from merchants.errors import InvalidField


def test_coverage_is_floored_so_a_report_never_overstates():
    assert floor_percent(356, 364) == 97
    assert Coverage(356, 364).label() == "356/364 hộ (97%)"


def test_coverage_of_an_empty_market_has_no_percentage_instead_of_a_division_error():
    assert floor_percent(0, 0) is None
    assert Coverage(0, 0).label() == "0/0 hộ"


def test_full_coverage_is_100_and_one_missing_is_99():
    assert floor_percent(364, 364) == 100
    assert floor_percent(363, 364) == 99


def test_impossible_counts_are_refused():
    with pytest.raises(ValueError, match="covered"):
        floor_percent(5, 4)


def test_coverage_counts_every_status_from_qr_issued_on():
    counts = {"registered": 5, "account_opened": 3, "qr_issued": 10, "placard_printed": 20, "placard_verified": 7}
    assert coverage_from_status_counts(counts) == Coverage(37, 45)
    funnel = funnel_from_status_counts(counts)
    assert (
        funnel.registered,
        funnel.account_opened,
        funnel.qr_issued,
        funnel.placard_printed,
        funnel.placard_verified,
    ) == (45, 40, 37, 27, 7)


@pytest.mark.parametrize(
    ("owner", "holder"),
    [
        ("Nguyễn Thị Đào", "NGUYEN THI DAO"),
        ("  trần   văn  đức ", "TRAN VAN DUC"),
        ("Đặng Thị Thủy", "DANG THI THUY"),
        ("Lê Ngọc Ánh", "LE NGOC ANH"),
    ],
)
def test_holder_name_is_derived_as_banks_show_it(owner, holder):
    assert identity.holder_name_from(owner) == holder
    assert identity.normalise_holder_name(owner) == holder


@pytest.mark.parametrize("bad", ["", "   ", "NGUYEN 123", "Nguyễn @ Đào"])
def test_holder_name_with_digits_or_symbols_is_refused(bad):
    with pytest.raises(InvalidField) as exc:
        identity.normalise_holder_name(bad)
    assert exc.value.field == "holder_name"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0386123456", "+84386123456"),
        ("0707123456", "+84707123456"),
    ],
)
def test_vietnamese_mobiles_are_stored_in_plus84_form(typed, stored):
    assert identity.normalise_phone(typed) == stored
    assert identity.format_phone(stored) == "0" + stored[3:6] + " " + stored[6:9] + " " + stored[9:]


@pytest.mark.parametrize("bad", ["0243 825 1234", "091234567", "09123456789", "0112345678", "abc", "+1 415 555 0100"])
def test_non_mobile_numbers_are_refused_naming_the_field(bad):
    with pytest.raises(InvalidField) as exc:
        identity.normalise_phone(bad)
    assert exc.value.field == "phone"
    assert "Số điện thoại" in exc.value.message


@pytest.mark.parametrize("good", ["022185001234", "001099123456", "079303000001", "096200123456"])
def test_valid_citizen_ids_pass(good):
    assert identity.validate_citizen_id(good, today=date(2026, 11, 21)) == good


@pytest.mark.parametrize(
    ("bad", "why"),
    [
        ("02218500123", "12 chữ số"),
        ("0221850012345", "12 chữ số"),
        ("02218500123a", "12 chữ số"),
        ("003185001234", "mã tỉnh"),
        ("099185001234", "mã tỉnh"),
        ("022485001234", "thế kỷ"),
        ("022299001234", "tương lai"),
    ],
)
def test_bad_citizen_ids_are_refused_with_the_rule_they_break(bad, why):
    with pytest.raises(InvalidField) as exc:
        identity.validate_citizen_id(bad, today=date(2026, 11, 21))
    assert exc.value.field == "citizen_id"
    assert why in exc.value.message


def test_masking_keeps_only_the_last_four():
    assert identity.mask_tail("0011001932418") == "•••• 2418"
    assert identity.mask_tail("022185001234") == "•••• 1234"
    assert identity.mask_tail(None) == ""


def test_status_moves_follow_the_workflow():
    assert st.check_transition(st.REGISTERED, st.ACCOUNT_OPENED) == st.ACCOUNT_OPENED
    assert st.check_transition(st.PLACARD_PRINTED, st.QR_ISSUED) == st.QR_ISSUED
    with pytest.raises(st.StatusTransitionError, match="registered"):
        st.check_transition(st.REGISTERED, st.PLACARD_PRINTED)
