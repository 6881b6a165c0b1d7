"""`choqr markets` and `choqr stalls`: set up markets and their stalls with the same services as the pages."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from flask.cli import with_appcontext

from merchants.cli_common import fail, session
from merchants.errors import DomainError
from merchants.scope import SYSTEM


def report_lines(report) -> list[str]:  # noqa: ANN001 - a market_import.SetupReport
    """A spreadsheet import as the terminal prints it: totals, then one line per refused cell and noted row."""
    noun = "chợ" if report.kind == "markets" else "sạp"
    lines = [
        f"{report.filename}: {report.rows} dòng · {len(report.already)} đã có · {report.refused_rows} dòng "
        "bị từ chối" + (f" · {len(report.differs)} khác chợ đã có" if report.kind == "markets" else "")
    ]
    done = f"thêm {report.created} {noun}" + (f", cập nhật {report.updated} chợ" if report.kind == "markets" else "")
    if report.stored:
        lines.append(f"Đã {done}.")
    elif report.dry_run:
        lines.append(f"Chạy thử: không lưu gì (sẽ {done}).")
    elif report.all_or_nothing and report.refused:
        lines.append("Không lưu gì vì có dòng bị từ chối (--all-or-nothing).")
    else:
        lines.append("Không có gì mới để thêm.")
    lines += [f"Dòng {p.row} · {p.column}: {p.problem}" for p in report.refused]
    lines += [f"Dòng {n.row}: {n.message}" for n in report.differs]
    lines += [f"Bỏ qua dòng {n.row}: {n.message}" for n in report.already]
    if report.ignored_columns:
        lines.append("Cột không dùng: " + ", ".join(report.ignored_columns))
    return lines


def _finish(report) -> None:  # noqa: ANN001
    for line in report_lines(report):
        click.echo(line)
    sys.exit(1 if report.refused else 0)


@click.group("markets")
def markets_group() -> None:
    """Markets of the programme, in the official communes (administrators)."""


@markets_group.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Market name, e.g. 'Chợ Cái Rồng'.")
@click.option("--commune", "commune_code", required=True, help="Official 5-digit commune code, e.g. 06994.")
@click.option("--address", default="", help="Street address.")
@click.option("--demo", is_flag=True, help="A demo market: its placards carry the MẪU mark.")
@click.option("--target", type=int, default=None, help="Coverage target in percent (default: the programme's).")
@click.option(
    "--target-date",
    type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]),
    default=None,
    help="Date to reach the target (2026-12-31).",
)
@with_appcontext
def markets_add(
    code: str, name: str, commune_code: str, address: str, demo: bool, target: int | None, target_date: datetime | None
) -> None:
    """Create market CODE in an official commune."""
    from merchants.services import setup_markets as sm

    with session() as s:
        try:
            market = sm.create_market(
                s,
                SYSTEM,
                sm.MarketInput(
                    code, name, commune_code, address, demo, target, target_date.date() if target_date else None
                ),
            )
        except DomainError as exc:
            fail(exc)
        click.echo(f"Đã tạo chợ {market.code} ({market.name}).")


@markets_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report, store nothing.")
@click.option("--update-existing", is_flag=True, help="Apply rows that change an existing market.")
@click.option("--all-or-nothing", is_flag=True, help="Store nothing unless every row passes.")
@with_appcontext
def markets_import(file: Path, dry_run: bool, update_existing: bool, all_or_nothing: bool) -> None:
    """Import markets from FILE (.xlsx or .csv); exit 1 when rows were refused."""
    from merchants.services.market_import import import_markets

    with session() as s:
        try:
            report = import_markets(
                s,
                SYSTEM,
                data=file.read_bytes(),
                filename=file.name,
                dry_run=dry_run,
                update_existing=update_existing,
                all_or_nothing=all_or_nothing,
            )
        except DomainError as exc:
            fail(exc)
    _finish(report)


def _set_closed(code: str, closed: bool) -> None:
    from merchants.services import setup_markets as sm

    with session() as s:
        try:
            market = sm.set_closed(s, SYSTEM, sm.managed_market_by_code(s, SYSTEM, code).market.id, closed=closed)
        except DomainError as exc:
            fail(exc)
        click.echo(f"Đã {'đóng' if closed else 'mở lại'} chợ {market.code} ({market.name}).")


@markets_group.command("close")
@click.argument("code")
@with_appcontext
def markets_close(code: str) -> None:
    """Close market CODE: its households, stalls and history stay; it takes no new registration."""
    _set_closed(code, True)


@markets_group.command("reopen")
@click.argument("code")
@with_appcontext
def markets_reopen(code: str) -> None:
    """Reopen a closed market."""
    _set_closed(code, False)


@click.group("stalls")
def stalls_group() -> None:
    """Stalls of a market (administrators)."""


@stalls_group.command("add")
@click.option("--market", "market_code", required=True, help="Market code, e.g. CAIRONG.")
@click.option("--zone", default="", help="Zone of the new stalls, e.g. 'Khu A'.")
@click.option("--range", "ranges", multiple=True, help="A range of codes, e.g. A-001..A-120 (repeatable).")
@click.option("--code", "codes", multiple=True, help="One stall code, e.g. K-01 (repeatable).")
@with_appcontext
def stalls_add(market_code: str, zone: str, ranges: tuple[str, ...], codes: tuple[str, ...]) -> None:
    """Add stalls to a market; codes it already has are reported and skipped."""
    from merchants.services import setup_markets as sm
    from merchants.services import stalls as st

    if not (ranges or codes):
        raise click.UsageError("Hãy cho --range hoặc --code.")
    with session() as s:
        try:
            market_id = sm.managed_market_by_code(s, SYSTEM, market_code).market.id
            added = st.add_stalls(s, SYSTEM, market_id, codes=",".join((*ranges, *codes)), zone=zone, source="cli")
        except DomainError as exc:
            fail(exc)
    if added.created:
        click.echo(f"Đã thêm {len(added.created)} sạp ({added.created[0]} → {added.created[-1]}).")
    if added.existing:
        click.echo(
            f"{len(added.existing)} mã đã có, bỏ qua: {', '.join(added.existing[:20])}"
            + ("…" if len(added.existing) > 20 else "")
        )


@stalls_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--market", "market_code", default=None, help="Import into this market (the file may omit the column).")
@click.option("--dry-run", is_flag=True, help="Check every row and report, store nothing.")
@click.option("--all-or-nothing", is_flag=True, help="Store nothing unless every row passes.")
@with_appcontext
def stalls_import(file: Path, market_code: str | None, dry_run: bool, all_or_nothing: bool) -> None:
    """Import stalls (a code or a range per row) from FILE; exit 1 when rows were refused."""
    from merchants.services import setup_markets as sm
    from merchants.services.market_import import import_stalls

    with session() as s:
        try:
            market_id = sm.managed_market_by_code(s, SYSTEM, market_code).market.id if market_code else None
            report = import_stalls(
                s,
                SYSTEM,
                data=file.read_bytes(),
                filename=file.name,
                market_id=market_id,
                dry_run=dry_run,
                all_or_nothing=all_or_nothing,
            )
        except DomainError as exc:
            fail(exc)
    _finish(report)


commands: list[click.Command] = [markets_group, stalls_group]
