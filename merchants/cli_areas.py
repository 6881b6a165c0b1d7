"""`choqr areas`: the official administrative units (list, load a newer list)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from merchants import areas
from merchants.cli_common import fail, session
from merchants.errors import DomainError
from merchants.scope import SYSTEM


@click.group("areas")
def areas_group() -> None:
    """Official provinces and communes (GSO codes, in force since 1 July 2025)."""


@areas_group.command("list")
@click.option("--province", "province_code", default=None, help="List this province's communes (code, e.g. 22).")
@click.option("--closed", "include_closed", is_flag=True, help="Also units closed by a newer list.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of {code, name, type, …}.")
@with_appcontext
def areas_list(province_code: str | None, include_closed: bool, as_json: bool) -> None:
    """Without --province the provinces, with it that province's communes."""
    from merchants.services import areas as area_service

    with session() as s:
        try:
            rows = (
                area_service.list_communes(s, province_code, include_closed=include_closed)
                if province_code
                else area_service.list_provinces(s, include_closed=include_closed)
            )
        except DomainError as exc:
            fail(exc)
    if as_json:
        click.echo(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"{r.code:<6} {r.name:<40} {r.type}{'  (đã đóng)' if r.closed else ''}")


def change_lines(changes: areas.AreaChanges) -> list[str]:
    """What a load did (or would do), one line per change after the totals."""
    c = changes.counts()
    lines = [
        f"Thêm {c['added']} · đổi tên {c['renamed']} · chuyển tỉnh {c['moved']} · đổi loại {c['retyped']} · "
        f"mở lại {c['reopened']} · đóng {c['closed']}"
    ]
    level = {"province": "tỉnh", "commune": "xã"}
    lines += [f"+ {level[u.level]} {u.code} {u.name}" for u in changes.added[:200]]
    lines += [f"~ {level[r.level]} {r.code} {r.old_name} → {r.new_name}" for r in changes.renamed]
    lines += [f"> xã {m.code} {m.name}: tỉnh {m.old_province} → {m.new_province}" for m in changes.moved]
    lines += [f"* {level[u.level]} {u.code} {u.name}: loại {u.type}" for u in changes.retyped]
    lines += [f"↺ {level[u.level]} {u.code} {u.name} (mở lại)" for u in changes.reopened]
    lines += [f"- {level[u.level]} {u.code} {u.name} (đóng; chợ và lịch sử vẫn giữ)" for u in changes.closed]
    return lines


@areas_group.command("load")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change, change nothing.")
@with_appcontext
def areas_load(file: Path | None, dry_run: bool) -> None:
    """Load an official list (default: the shipped 2025 list): add new units, rename, close the missing."""
    from merchants.services import areas as area_service

    path = file or areas.SHIPPED
    with session() as s:
        try:
            changes = area_service.load_units(
                s, SYSTEM, areas.parse_units(path.read_bytes()), dry_run=dry_run, source=path.name
            )
        except DomainError as exc:
            fail(exc)
    for line in change_lines(changes):
        click.echo(line)
    if changes.empty:
        click.echo("Danh sách địa bàn đã đúng như tệp; không có gì thay đổi.")
    elif dry_run:
        click.echo("Chạy thử: chưa thay đổi gì.")


commands: list[click.Command] = [areas_group]
