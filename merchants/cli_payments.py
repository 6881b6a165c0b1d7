"""`choqr payments`: payment sources and bank statement files, through the same services as the pages.

The command line acts as the system (a programme-wide administrator). A new or rotated key is printed once, as the
last line of output, so a script can take it with ``tail -1``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from merchants.cli_common import fail, session
from merchants.clock import to_vn
from merchants.errors import DomainError
from merchants.scope import SYSTEM


@click.group("payments")
def payments_group() -> None:
    """Payments received: sources (SePay, Casso webhooks, statement files) and statement imports."""


@payments_group.group("sources")
def sources_group() -> None:
    """Add, list, rotate and revoke payment sources."""


def _when(value) -> str:  # noqa: ANN001 - a datetime or None
    return to_vn(value).strftime("%d/%m/%Y %H:%M") if value else "—"


@sources_group.command("add")
@click.argument("name")
@click.option("--kind", type=click.Choice(["sepay", "casso", "statement"]), required=True)
@click.option("--province", "provinces", multiple=True, help="Province code it may credit (repeatable).")
@click.option("--commune", "communes", multiple=True, help="Commune code it may credit (repeatable).")
@click.option("--market", "markets", multiple=True, help="Market code it may credit (repeatable).")
@with_appcontext
def sources_add(
    name: str, kind: str, provinces: tuple[str, ...], communes: tuple[str, ...], markets: tuple[str, ...]
) -> None:
    """Create a source scoped to areas; its key is printed once, as the last line."""
    from merchants.services import payment_sources
    from merchants.services.user_scope import AreaGrant

    with session() as s:
        try:
            source, key = payment_sources.add_source(
                s, name=name, kind=kind, scope=AreaGrant.of(provinces, communes, markets)
            )
        except DomainError as exc:
            fail(exc)
    click.echo(f"Đã tạo nguồn '{source.name}' ({kind}).")
    if key is None:
        click.echo("Nguồn sao kê không dùng khóa: nhập tệp bằng `choqr payments import FILE --source NAME`.")
        return
    path = "/api/v1/payments/sepay" if kind == "sepay" else "/api/v1/payments/casso"
    click.echo(f"Địa chỉ webhook: {path}. Khóa chỉ hiện một lần, hãy lưu ngay:")
    click.echo(key)


@sources_group.command("list")
@with_appcontext
def sources_list() -> None:
    """Every source: kind, areas, last event, stored, rejected and unknown accounts today."""
    from merchants.services import payment_sources

    with session() as s:
        rows = payment_sources.list_sources(s, SYSTEM)
    for r in rows:
        state = f"thu hồi {_when(r.revoked_at)}" if r.revoked_at else "đang dùng"
        click.echo(
            f"{r.name}\t{r.kind}\t{r.scope_label}\t{state}\tsự kiện cuối {_when(r.last_event_at)}\t"
            f"đã lưu {r.stored_total}\tbị từ chối hôm nay {r.rejected_today}\ttài khoản lạ hôm nay {r.unknown_today}"
        )


@sources_group.command("rotate")
@click.argument("name")
@with_appcontext
def sources_rotate(name: str) -> None:
    """A new key for a webhook source (the old one stops at once), printed as the last line."""
    from merchants.services import payment_sources

    with session() as s:
        try:
            key = payment_sources.rotate_source(s, name)
        except DomainError as exc:
            fail(exc)
    click.echo(f"Đã đổi khóa của nguồn '{name}'; khóa cũ hết hiệu lực. Khóa mới chỉ hiện một lần:")
    click.echo(key)


@sources_group.command("revoke")
@click.argument("name")
@with_appcontext
def sources_revoke(name: str) -> None:
    """Stop a source for good; the credits it sent stay."""
    from merchants.services import payment_sources

    with session() as s:
        try:
            payment_sources.revoke_source(s, name)
        except DomainError as exc:
            fail(exc)
    click.echo(f"Đã thu hồi nguồn '{name}'.")


@payments_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--source", "source_name", required=True, help="The statement source's name.")
@click.option("--dry-run", is_flag=True, help="Check every row and report, store nothing.")
@click.option("--sheet", default=None, help="The worksheet to read (default: the first visible one).")
@with_appcontext
def import_statement(file: Path, source_name: str, dry_run: bool, sheet: str | None) -> None:
    """Import a bank statement (.xlsx or .csv); exit 1 when rows were refused."""
    from merchants.services.statement_import import import_statement as run
    from merchants.services.statement_import import summary_lines

    with session() as s:
        try:
            report = run(
                s,
                SYSTEM,
                source_name=source_name,
                data=file.read_bytes(),
                filename=file.name,
                dry_run=dry_run,
                sheet=sheet,
            )
        except DomainError as exc:
            fail(exc)
    for line in summary_lines(report):
        click.echo(line)
    sys.exit(1 if report.refused else 0)


commands: list[click.Command] = [payments_group]
