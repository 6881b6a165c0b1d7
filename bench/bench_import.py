"""Time `import_households` on a generated 10,000-row XLSX, phase by phase, against baselines from the same run.

Run: .venv/bin/python bench/bench_import.py [--rows 10000] [--sample 300]
Every row has a bank account, so every row gets a QR that is built, rendered and decoded back by zxing-cpp
(``issuing.verified_payload``) before it counts. Half the stalls exist beforehand, half are created by the import.
Baselines: openpyxl reading the same file alone; ``register_household`` row by row (the form's path) and
``verified_payload`` alone, both on the first ``--sample`` rows and scaled to the full file.
Each run uses fresh SQLite files in a temporary directory; nothing else is touched.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from functools import wraps
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import openpyxl  # noqa: E402
from sqlmodel import func, select  # noqa: E402

from app import create_app  # noqa: E402
from merchants import db  # noqa: E402
from merchants.models import Commune, Household, IssuedQR, Market, Province, Stall  # noqa: E402
from merchants.scope import SYSTEM  # noqa: E402
from merchants.services import households as hs  # noqa: E402
from merchants.services import importing  # noqa: E402
from merchants.services.issuing import verified_payload  # noqa: E402
from merchants.services.registry_queries import get_market  # noqa: E402
from merchants.spreadsheet import read_table, resolve_bank  # noqa: E402
from qr import build_payload, decode_image, qr_image, qr_matrix  # noqa: E402

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Thị", "Văn", "Thị Thu", "Ngọc", "Đức", "Minh", "Thị Hồng", "Hữu"]
GIVEN = ["Đào", "Hoa", "Lan", "Hương", "Mai", "Hùng", "Dũng", "Tuấn", "Hải", "Yến", "Thảo", "Sơn", "Long"]
GOODS = ["Rau củ quả", "Thịt lợn", "Hải sản tươi sống", "Tạp hóa", "Quần áo", "Trái cây", "Gạo", ""]
# How the bank is written in the file, and the account length that bank uses.
BANKS = [
    ("Vietcombank", 13),
    ("VCB", 13),
    ("BIDV", 14),
    ("970415", 12),
    ("MB Bank", 12),
    ("Agribank", 13),
    ("Techcombank", 14),
    ("ACB", 9),
    ("VPBank", 9),
    ("Sacombank", 12),
]
HEADER = ["STT", "Họ và tên", "Số CCCD", "SĐT", "Số sạp", "Khu", "Dãy", "Ngân hàng", "Số tài khoản", "Mặt hàng"]
PREFIXES = ["091", "094", "088", "098", "097", "096", "086", "032", "035", "039", "090", "093", "070", "077"]


def make_rows(count: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        bank, length = BANKS[i % len(BANKS)]
        rows.append(
            [
                str(i + 1),
                f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
                f"022{rng.randint(0, 1)}{rng.randint(60, 99):02d}{i:06d}",
                f"{rng.choice(PREFIXES)}{rng.randint(0, 9_999_999):07d}",
                f"S-{i + 1:05d}",
                "ABCDEFGH"[i // 1250 % 8],
                str(i // 100 % 12 + 1),
                bank,
                f"{i + 1:0{length}d}",
                rng.choice(GOODS),
            ]
        )
    return rows


def make_xlsx(rows: list[list[str]]) -> bytes:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("Danh sách hộ")
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fresh_app(tmp: Path, name: str, existing_stalls: int):  # noqa: ANN201
    """A migrated SQLite database with one market holding ``existing_stalls`` free stalls S-00001…"""
    url = f"sqlite:///{tmp / name}"
    db.upgrade(url)
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "DATABASE_URL": url, "BATCH_DIR": str(tmp)})
    with app.app_context(), db.session_scope(db.get_engine()) as session:
        province = Province(code="22", name="Quảng Ninh")
        session.add(province)
        session.flush()
        commune = Commune(code="VANDON", name="Đặc khu Vân Đồn", province_id=province.id)
        session.add(commune)
        session.flush()
        market = Market(code="BENCH", name="Chợ Thử Tải", commune_id=commune.id)
        session.add(market)
        session.flush()
        session.add_all(
            [Stall(market_id=market.id, code=f"S-{i:05d}", zone="Nhà chợ chính") for i in range(1, existing_stalls + 1)]
        )
        session.commit()
    return app, market.id


class Phases:
    """Wraps the import's module-level steps so one end-to-end run also says where its time went."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def wrap(self, name: str, label: str) -> None:
        original: Callable = getattr(importing, name)

        @wraps(original)
        def timed(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - start

        setattr(importing, name, timed)


def qr_split(payloads: list[str]) -> dict[str, float]:
    """Seconds per QR for each step of ``verified_payload``, on payloads not seen before."""
    labels = ("qr_matrix (encode, choose of 8 masks)", "qr_image, scale 2 (matrix cached)", "decode_image (zxing-cpp)")
    totals = dict.fromkeys(labels, 0.0)
    for payload in payloads:
        t0 = time.perf_counter()
        qr_matrix(payload, ec="Q")
        t1 = time.perf_counter()
        image = qr_image(payload, scale=2)
        t2 = time.perf_counter()
        decode_image(image)
        t3 = time.perf_counter()
        for label, seconds in zip(labels, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            totals[label] += seconds
    return {label: seconds / len(payloads) for label, seconds in totals.items()}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=300, help="rows for the row-by-row baselines")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    workers = 1  # QRs are verified in the importing process (a long web import runs as a job)
    rows = make_rows(args.rows, args.seed)
    data = make_xlsx(rows)
    print(
        f"ChoQR import bench: {args.rows:,} rows, every one with an account → {args.rows:,} verified QRs; "
        f"XLSX {len(data) / 1e6:.1f} MB; {os.cpu_count()} CPU(s), {workers} QR worker(s); "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        t_openpyxl, _ = timed(
            lambda: list(
                openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
                .worksheets[0]
                .iter_rows(values_only=True)
            )
        )
        t_table, _ = timed(lambda: read_table(data))

        # Baselines on a sample, in the same process and run.
        sample = rows[: args.sample]
        t_verify, _ = timed(lambda: [verified_payload(resolve_bank(r[7]).bin, r[8]) for r in sample])
        split = qr_split([build_payload(bin=resolve_bank(r[7]).bin, account=r[8][::-1]) for r in sample])
        app, market_id = fresh_app(tmp, "rowbyrow.db", args.rows // 2)
        with app.app_context(), db.session_scope(db.get_engine()) as session:
            ids = dict(session.exec(select(Stall.code, Stall.id).where(Stall.market_id == market_id)).all())

            market = get_market(session, SYSTEM, market_id)

            def one_by_one() -> None:
                for r in sample:
                    hs.register_household(
                        session,
                        market,
                        stall_ids=[ids[r[4]]],
                        household=hs.HouseholdInput(r[1], r[3], r[2], r[9]),
                        account=hs.AccountInput(resolve_bank(r[7]).bin, r[8]),
                    )

            t_rowbyrow, _ = timed(one_by_one)
        app.extensions["choqr.engine"].dispose()

        # The import itself, end to end, with its steps timed.
        phases = Phases()
        phases.wrap("read_table", "read + map header (openpyxl)")
        phases.wrap("_load_known", "load existing stalls/CCCD/accounts")
        phases.wrap("_check_row", "check rows (form rules, duplicates)")
        phases.wrap("_verify_payloads", f"build+render+decode QRs ({workers} proc)")
        phases.wrap("_store", "write households, batches of 500")
        app, market_id = fresh_app(tmp, "import.db", args.rows // 2)
        with app.app_context(), db.session_scope(db.get_engine()) as session:
            before = os.times()
            t_import, report = timed(
                lambda: importing.import_households(
                    session, SYSTEM, market_id=market_id, data=data, filename="bench.xlsx"
                )
            )
            after = os.times()
            first_run = dict(phases.seconds)  # the re-import below runs through the same wrappers
            stored = (
                session.exec(select(func.count()).select_from(Household)).one(),
                session.exec(select(func.count()).select_from(IssuedQR)).one(),
            )
            t_again, again = timed(
                lambda: importing.import_households(
                    session, SYSTEM, market_id=market_id, data=data, filename="bench.xlsx"
                )
            )
        app.extensions["choqr.engine"].dispose()

    per_row = t_rowbyrow / len(sample)
    per_qr = t_verify / len(sample)
    assert report.created == args.rows and not report.refused, report.refused[:5]
    assert stored == (args.rows, args.rows) and again.created == 0 and len(again.skipped) == args.rows
    print(
        f"\n{'import_households, end to end':<46}{t_import:8.2f} s   ({args.rows / t_import:,.0f} rows/s; "
        f"{report.created:,} households + {report.new_stalls:,} new stalls stored)"
    )
    for label, seconds in first_run.items():
        print(f"  {label:<44}{seconds:8.2f} s   {seconds / t_import:5.0%}")
    qr_wall = first_run[f"build+render+decode QRs ({workers} proc)"]
    qr_cpu = (after.children_user + after.children_system) - (before.children_user + before.children_system)
    if workers > 1 and qr_wall:
        print(
            f"    QR workers used {qr_cpu:.1f} CPU-s in {qr_wall:.1f} s: {qr_cpu / qr_wall:.2f} of {workers} "
            f"cores on average (the rest went to other processes on this machine)"
        )
    print(f"{'same file again (all skipped, nothing stored)':<46}{t_again:8.2f} s")
    print("\nbaselines, same run")
    print(f"  {'openpyxl read alone (read-only, values)':<44}{t_openpyxl:8.2f} s")
    print(f"  {'read_table (openpyxl + merged-cell check)':<44}{t_table:8.2f} s")
    print(
        f"  {'verified_payload, 1 process':<44}{per_qr * 1000:8.1f} ms/QR → {per_qr * args.rows:7.1f} s "
        f"for {args.rows:,} (sample {len(sample)})"
    )
    for label, seconds in split.items():
        print(f"    {label:<42}{seconds * 1000:8.1f} ms/QR")
    print(
        f"  {'register_household row by row':<44}{per_row * 1000:8.1f} ms/row → {per_row * args.rows:7.1f} s "
        f"for {args.rows:,} (sample {len(sample)})"
    )
    verdict = ("met" if t_import < 10 else "NOT met") if args.rows == 10_000 else "applies to --rows 10000"
    print(
        f"\nspeed-up over row by row: {per_row * args.rows / t_import:.1f}×; target < 10 s for 10,000 rows: {verdict}"
    )


if __name__ == "__main__":
    main()
