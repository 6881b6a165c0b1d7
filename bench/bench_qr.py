"""Benchmark ChoQR's VietQR build and parse against the PyPI VietQR libraries, in one run on one input set.

The other libraries are NOT project dependencies. Install them into a separate venv and point --site at it:

    python -m venv /tmp/benchvenv
    /tmp/benchvenv/bin/pip install vietnam-qr-pay vietqr-emvco napas-qr-python
    .venv/bin/python bench/bench_qr.py --site /tmp/benchvenv/lib/python3.11/site-packages

A library that does not import is skipped with that hint. Every library builds the same transfers and parses
the same ChoQR-built payloads; "same bytes" and "reads back" show how far each agrees with ChoQR's output.
"""

from __future__ import annotations

import argparse
import gc
import platform
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qr import all_banks, build_payload, parse_payload  # noqa: E402

INSTALL_HINT = (
    "python -m venv /tmp/benchvenv && /tmp/benchvenv/bin/pip install {package}; "
    "then rerun with --site /tmp/benchvenv/lib/python{major}.{minor}/site-packages"
)
PURPOSES = (None, None, None, "TIEN CHO", "RAU MUONG", "THANH TOAN DON HANG", "Tiền chợ sáng", "Bún bò Huế")

Transfer = tuple[str, str, int | None, str | None]  # bin, account, amount, purpose


@dataclass(frozen=True)
class Library:
    """One contender: how to build a transfer payload and how to parse one, plus how to read the account back."""

    name: str
    build: Callable[[Transfer], str]
    parse: Callable[[str], object]
    account_of: Callable[[object], str | None]


def make_transfers(count: int, seed: int = 2024) -> list[Transfer]:
    """Draw the same realistic mix for every library: real BINs, 6-19 digit accounts, half with amounts."""
    rng = random.Random(seed)
    bins = [bank.bin for bank in all_banks()]
    transfers = []
    for _ in range(count):
        account = str(rng.randrange(10**5, 10**19))[: rng.randint(6, 19)]
        amount = rng.randrange(1_000, 5_000_000, 1_000) if rng.random() < 0.5 else None
        transfers.append((rng.choice(bins), account, amount, rng.choice(PURPOSES)))
    return transfers


def choqr() -> Library:
    """ChoQR itself: validating builder, strict CRC-checking parser."""
    return Library(
        "choqr",
        lambda t: build_payload(bin=t[0], account=t[1], amount=t[2], purpose=t[3]),
        parse_payload,
        lambda parsed: parsed.account,  # type: ignore[attr-defined]
    )


def vietnam_qr_pay() -> Library:
    """vietnam-qr-pay: QRPay.init_viet_qr(...).build() and QRPay(content)."""
    from vietnam_qr_pay import QRPay

    return Library(
        "vietnam-qr-pay",
        lambda t: QRPay.init_viet_qr(t[0], t[1], str(t[2]) if t[2] else None, t[3]).build(),
        QRPay,
        lambda parsed: parsed.consumer.bank_number if parsed.is_valid else None,  # type: ignore[attr-defined]
    )


def vietqr_emvco() -> Library:
    """vietqr-emvco: VietQRGenerator(bin, account).generate(...) and VietQRParser.parse (no CRC check)."""
    from vietqr_emvco import VietQRGenerator, VietQRParser

    return Library(
        "vietqr-emvco",
        lambda t: VietQRGenerator(t[0], t[1]).generate(amount=t[2], memo=t[3]),
        VietQRParser.parse,
        lambda parsed: parsed["account_number"],  # type: ignore[index]
    )


def napas_qr_python() -> Library:
    """napas-qr-python (module qr_pay): QRPay(...).code and qr_pay.decode."""
    import qr_pay

    def build(t: Transfer) -> str:
        return qr_pay.QRPay(
            bin_id=t[0],
            consumer_id=t[1],
            transaction_amount=t[2],
            purpose_of_transaction=t[3],
            point_of_initiation_method="DYNAMIC" if t[2] else "STATIC",
        ).code

    def account_of(decoded: object) -> str | None:
        return decoded.get("consumer_id")  # type: ignore[attr-defined]

    return Library("napas-qr-python", build, qr_pay.decode, account_of)


CONTENDERS = (choqr, vietnam_qr_pay, vietqr_emvco, napas_qr_python)


def timed(run: Callable[[], list[object]]) -> tuple[float, list[object]]:
    """Time one pass in CPU seconds with the garbage collector paused.

    CPU time rather than wall time, so other processes on a shared machine do not bill their work to one
    library; no GC, so no library pays for collecting another's garbage.
    """
    gc.collect()
    gc.disable()
    try:
        start = time.process_time()
        results = run()
        return time.process_time() - start, results
    finally:
        gc.enable()


def safe(call: Callable[[object], object], item: object) -> object:
    """Call a library and keep an exception as the result, so one bad payload cannot stop the run."""
    try:
        return call(item)
    except Exception as error:  # noqa: BLE001 - a contender's failure is data here
        return error


@dataclass
class Tally:
    """Running totals for one library across the interleaved chunks."""

    build_s: float = 0.0
    parse_s: float = 0.0
    same: int = 0
    reads: int = 0


def measure(libs: list[Library], transfers: list[Transfer], payloads: list[str], chunks: int) -> dict[str, Tally]:
    """Build every transfer and parse every ChoQR payload with each library, chunk by chunk in rotating order.

    Interleaving spreads each library over the whole run, so a busy neighbour on the machine slows all alike.
    """
    tallies = {lib.name: Tally() for lib in libs}
    size = -(-len(transfers) // chunks)
    for index, start in enumerate(range(0, len(transfers), size)):
        part, texts = transfers[start : start + size], payloads[start : start + size]
        for lib in libs[index % len(libs) :] + libs[: index % len(libs)]:
            tally = tallies[lib.name]
            seconds, built = timed(lambda: [safe(lib.build, t) for t in part])  # noqa: B023 - called at once
            tally.build_s += seconds
            seconds, parsed = timed(lambda: [safe(lib.parse, p) for p in texts])  # noqa: B023 - called at once
            tally.parse_s += seconds
            tally.same += sum(b == p for b, p in zip(built, texts, strict=True))
            tally.reads += sum(safe(lib.account_of, r) == t[1] for r, t in zip(parsed, part, strict=True))
    return tallies


def available(site: str | None) -> Iterator[Library]:
    """Yield each contender that imports, telling how to install the ones that do not."""
    if site:
        sys.path.append(site)
    for factory in CONTENDERS:
        try:
            yield factory()
        except ImportError as error:
            package = factory.__name__.replace("_", "-")
            hint = INSTALL_HINT.format(package=package, major=sys.version_info[0], minor=sys.version_info[1])
            print(f"skipping {package}: {error.name or error} not importable. Install: {hint}")


def main(argv: list[str] | None = None) -> None:
    """Run the comparison and print payloads/second and ChoQR's speed-up over each library."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--count", type=int, default=100_000, help="payloads to build and parse")
    parser.add_argument("--site", help="site-packages directory holding the other libraries")
    parser.add_argument("--chunks", type=int, default=20, help="interleave libraries over this many chunks")
    args = parser.parse_args(argv)

    transfers = make_transfers(args.count)
    payloads = [build_payload(bin=t[0], account=t[1], amount=t[2], purpose=t[3]) for t in transfers]
    print(f"VietQR build/parse benchmark: {args.count:,} payloads, Python {platform.python_version()}")
    libs = list(available(args.site))
    tallies = measure(libs, transfers, payloads, args.chunks)
    n = len(transfers)
    base = tallies["choqr"]
    header = (
        f"{'library':<16}{'build/s':>12}{'ChoQR x':>9}{'parse/s':>12}{'ChoQR x':>9}{'same bytes':>12}{'reads back':>12}"
    )
    print(header)
    print("-" * len(header))
    for name, t in tallies.items():
        print(
            f"{name:<16}{n / t.build_s:>12,.0f}{t.build_s / base.build_s:>8.2f}x"
            f"{n / t.parse_s:>12,.0f}{t.parse_s / base.parse_s:>8.2f}x"
            f"{100 * t.same / n:>11.1f}%{100 * t.reads / n:>11.1f}%"
        )
    print("ChoQR x = the library's CPU time over ChoQR's for the same work (above 1: ChoQR is faster).")
    print("build/s, parse/s = payloads per CPU second. same bytes = built payload identical to ChoQR's;")
    print("reads back = the right account read from ChoQR's payload.")


if __name__ == "__main__":
    main()
