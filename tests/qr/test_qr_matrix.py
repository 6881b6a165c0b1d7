"""Fast mask selection: the same penalty as qrcode's reference scorer, the lowest-penalty mask, readable symbols."""

import random

import pytest
import qrcode
import zxingcpp
from qrcode import util as qrutil

from qr import QUIET_ZONE, VietQRError, build_payload, pack_matrix, qr_image, qr_matrix, unpack_matrix
from qr.matrix import build_matrix, candidates, penalty, penalty_of, to_rows
from qr.render import EC_LEVELS


def _payloads(n: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        kwargs = {
            "bin": rng.choice(["970436", "970422", "970405", "422589"]),
            "account": str(rng.randint(1, 10 ** rng.randint(4, 18))),
        }
        if i % 3 == 0:
            kwargs.update(amount=rng.randint(1, 10**12), purpose=f"TIEN CHO SAP {i}", bill_number=f"HD{i:06d}")
        out.append(build_payload(**kwargs))
    return out


@pytest.mark.parametrize("ec", ["L", "M", "Q", "H"])
def test_each_candidate_is_qrcodes_own_symbol_and_scores_as_its_reference_scorer(ec):
    for payload in _payloads(12, seed=len(ec) + ord(ec)):
        code = qrcode.QRCode(error_correction=EC_LEVELS[ec], border=0)
        code.add_data(payload)
        code.best_fit(start=None)
        n, symbols = candidates(payload, EC_LEVELS[ec])
        for mask in range(8):
            code.makeImpl(False, mask)
            assert to_rows(symbols[mask], n) == tuple(tuple(row) for row in code.modules)
            assert penalty_of(symbols[mask], n) == penalty(code.modules) == qrutil.lost_point(code.modules)


def test_penalty_matches_the_reference_on_patterned_symbols():
    """Stripes, checkers and blocks hit every rule far harder than real symbols do."""
    rng = random.Random(11)
    for n in (21, 25, 45):
        for _ in range(20):
            kind = rng.randrange(4)
            grid = [
                [
                    (r // rng.randint(1, 6) + c // rng.randint(1, 6)) % 2 == 0
                    if kind == 0
                    else rng.random() < 0.5
                    if kind == 1
                    else (c % 11) in (0, 2, 3, 4, 6)
                    if kind == 2
                    else r % 7 < 5
                    for c in range(n)
                ]
                for r in range(n)
            ]
            assert penalty(grid) == qrutil.lost_point(grid)


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
