"""Fast mask selection: the same penalty as qrcode's reference scorer, the lowest-penalty mask, readable symbols."""

import random

import pytest
import qrcode
import zxingcpp
from qrcode import util as qrutil

from qr import QUIET_ZONE, VietQRError, build_payload, pack_matrix, qr_image, qr_matrix, unpack_matrix
from qr.matrix import _rows, build_matrix, penalty
from qr.render import EC_LEVELS


def _payloads(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kwargs = {"bin": rng.choice(["970436", "970422", "970405", "422589"]),
                  "account": str(rng.randint(1, 10 ** rng.randint(4, 18)))}
        if i % 3 == 0:
            kwargs.update(amount=rng.randint(1, 10**12), purpose=f"TIEN CHO SAP {i}", bill_number=f"HD{i:06d}")
        out.append(build_payload(**kwargs))
    return out


@pytest.mark.parametrize("ec", ["L", "M", "Q", "H"])
def test_penalty_equals_the_reference_scorer_for_every_mask(ec):
    for payload in _payloads(12, seed=len(ec) + ord(ec)):
        code = qrcode.QRCode(error_correction=EC_LEVELS[ec], border=0)
        code.add_data(payload)
        code.best_fit(start=None)
        for mask in range(8):
            code.makeImpl(False, mask)
            assert penalty(_rows(code.modules), code.modules_count) == qrutil.lost_point(code.modules)


def test_the_chosen_symbol_has_the_lowest_penalty_of_the_eight_masks():
    for payload in _payloads(25):
        chosen = build_matrix(payload, EC_LEVELS["Q"])
        code = qrcode.QRCode(error_correction=EC_LEVELS["Q"], border=0)
        code.add_data(payload)
        code.best_fit(start=None)
        scores = []
        for mask in range(8):
            code.makeImpl(False, mask)
            scores.append(qrutil.lost_point(code.modules))
        assert len(chosen) == code.modules_count
        assert qrutil.lost_point([list(row) for row in chosen]) == min(scores)


@pytest.mark.parametrize("ec", ["L", "M", "Q", "H"])
def test_symbols_of_every_level_and_size_decode_back(ec):
    seen_versions = set()
    for payload in _payloads(30, seed=3):
        image = qr_image(payload, scale=3, ec=ec)
        seen_versions.add((len(qr_matrix(payload, ec=ec)) - 17) // 4)
        assert [b.text for b in zxingcpp.read_barcodes(image)] == [payload]
    if ec in ("Q", "H"):
        assert max(seen_versions) >= 7  # version information blocks are exercised too
    assert len(seen_versions) >= 3


def test_packed_matrix_round_trips_and_refuses_junk():
    payload = build_payload(bin="970436", account="0011001932418")
    matrix = qr_matrix(payload)
    assert unpack_matrix(pack_matrix(matrix)) == matrix
    assert len(qr_image(payload, scale=1).getbbox() or ()) == 4
    assert qr_image(payload, scale=1).size == (len(matrix) + 2 * QUIET_ZONE,) * 2
    for junk in ["", "1,2,3", "zz," * 21, ",".join(["f" * 20] * 21)]:
        with pytest.raises(VietQRError, match="packed matrix"):
            unpack_matrix(junk)
