"""`choqr import`: load a household list (XLSX or CSV) into one market, with the same checks and report as the web."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from merchants import db
from merchants.cli_common import fail
from merchants.errors import DomainError
from merchants.scope import SYSTEM


def summary_lines(report) -> list[str]:  # noqa: ANN001 - an ImportReport
    """The report as the terminal prints it: totals first, then one line per refused cell and skipped row."""
    sheet = f" (trang {report.sheet})" if len(report.sheets) > 1 else ""  # named when there was a choice
    lines = [
        f"{report.filename}{sheet}: {report.rows} dòng · {report.ready} hợp lệ · {len(report.skipped)} đã có "
        f"(bỏ qua) · {report.refused_rows} dòng bị từ chối"
    ]
    if report.stored:
        lines.append(f"Đã thêm {report.created} hộ, tạo {report.new_stalls} sạp mới.")
    elif report.dry_run:
        lines.append(f"Chạy thử: không lưu gì (sẽ thêm {report.ready} hộ, tạo {report.new_stalls} sạp mới).")
    elif report.all_or_nothing and report.refused:
        lines.append("Không lưu gì vì có dòng bị từ chối (--all-or-nothing).")
    else:
        lines.append("Không có hộ mới nào để thêm.")
    lines += [f"Dòng {p.row} · {p.column}: {p.problem}" for p in report.refused]
    lines += [f"Bỏ qua dòng {s.row}: {s.message}" for s in report.skipped]
    if report.ignored_columns:
        lines.append("Cột không dùng: " + ", ".join(report.ignored_columns))
    return lines


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--market", "market_code", required=True, help="Market code, e.g. CAIRONG.")
@click.option("--dry-run", is_flag=True, help="Check every row and report, store nothing.")
@click.option("--all-or-nothing", is_flag=True, help="Store nothing unless every row passes.")
@click.option("--sheet", default=None, help="The worksheet to read (default: the first visible one).")
@with_appcontext
def import_file(file: Path, market_code: str, dry_run: bool, all_or_nothing: bool, sheet: str | None) -> None:
    """Import households from FILE (.xlsx or .csv) into a market; exit 1 when rows were refused."""
    from merchants.services.importing import import_households
    from merchants.services.registry_queries import get_market_by_code

    with db.session_scope(db.get_engine()) as session:
        try:
            market_id = get_market_by_code(session, SYSTEM, market_code).market.id
            report = import_households(
                session,
                SYSTEM,
                market_id=market_id,
                data=file.read_bytes(),
                filename=file.name,
                dry_run=dry_run,
                all_or_nothing=all_or_nothing,
                sheet=sheet,
            )
        except DomainError as exc:
            fail(exc)
    for line in summary_lines(report):
        click.echo(line)
    sys.exit(1 if report.refused else 0)


commands: list[click.Command] = [import_file]
