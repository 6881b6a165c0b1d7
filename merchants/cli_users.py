"""`choqr users`: accounts from the command line, through the same service functions as the Users pages.

The command line acts as the system (a programme-wide administrator); its audit rows have no user.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from merchants import roles
from merchants.cli_common import fail, session
from merchants.clock import to_vn
from merchants.errors import DomainError
from merchants.scope import SYSTEM

BASE_URL_HELP = "Address users open the link at (default: the BASE_URL setting, else http://127.0.0.1:5000)."


@click.group("users")
def users_group() -> None:
    """Manage user accounts (administrators)."""


def _when(value) -> str:  # noqa: ANN001 - a datetime or None
    return to_vn(value).strftime("%d/%m/%Y %H:%M") if value else "—"


def _link_line(link, base_url: str | None) -> str:  # noqa: ANN001 - a password_links.IssuedLink
    from merchants.views.account import set_password_url

    url = set_password_url(link.token, base_url)
    return f"{link.username}\t{link.full_name}\t{url}\t(hết hạn {_when(link.expires_at)})"


def _read_password(password: str | None) -> str:
    return password if password is not None else click.prompt("Mật khẩu", hide_input=True, confirmation_prompt=True)


@users_group.command("add")
@click.argument("username")
@click.option("--name", "full_name", required=True, help="Full name shown in the app.")
@click.option("--role", type=click.Choice(roles.ROLES), required=True)
@click.option("--province", "provinces", multiple=True, help="Province code served, e.g. 22 (repeatable).")
@click.option("--commune", "communes", multiple=True, help="Commune code served, e.g. 06994 (repeatable).")
@click.option("--market", "markets", multiple=True, help="Market code served (repeatable).")
@click.option("--password", default=None, help="Prompted for when neither it nor --link is given.")
@click.option("--link", "as_link", is_flag=True, help="No password: print a one-time set-password link instead.")
@click.option("--base-url", default=None, help=BASE_URL_HELP)
@with_appcontext
def users_add(
    username: str,
    full_name: str,
    role: str,
    provinces: tuple[str, ...],
    communes: tuple[str, ...],
    markets: tuple[str, ...],
    password: str | None,
    as_link: bool,
    base_url: str | None,
) -> None:
    """Create a user scoped to provinces, communes or markets."""
    from merchants.services import password_links, user_scope, users

    if as_link and password is not None:
        raise click.UsageError("--password và --link không dùng cùng nhau.")
    scope = user_scope.AreaGrant.of(provinces, communes, markets)
    with session() as s:
        try:
            if as_link:
                link = users.invite_user(
                    s,
                    SYSTEM,
                    users.NewUser(username, full_name, role, scope),
                    hours=password_links.link_hours(current_app.config),
                )
            else:
                users.create_user(
                    s,
                    username=username,
                    full_name=full_name,
                    password=_read_password(password),
                    role=role,
                    province_codes=scope.provinces,
                    commune_codes=scope.communes,
                    market_codes=scope.markets,
                    actor=SYSTEM,
                )
        except DomainError as exc:
            fail(exc)
    click.echo(f"Đã tạo người dùng {username.strip().lower()} ({roles.LABELS_VI[role]}).")
    if as_link:
        click.echo(_link_line(link, base_url))


@users_group.command("disable")
@click.argument("username")
@with_appcontext
def users_disable(username: str) -> None:
    """Disable a user; their open sessions stop working at once."""
    from merchants.services import users

    with session() as s:
        try:
            users.disable_user(s, username, actor=SYSTEM)
        except DomainError as exc:
            fail(exc)
    click.echo(f"Đã khóa {username}.")


@users_group.command("enable")
@click.argument("username")
@with_appcontext
def users_enable(username: str) -> None:
    """Let a disabled user sign in again."""
    from merchants.services import users

    with session() as s:
        try:
            users.enable_user(s, username, actor=SYSTEM)
        except DomainError as exc:
            fail(exc)
    click.echo(f"Đã mở khóa {username}.")


@users_group.command("reset-password")
@click.argument("username")
@click.option("--password", default=None, help="Prompted for when neither it nor --link is given.")
@click.option("--link", "as_link", is_flag=True, help="Print a new one-time set-password link instead.")
@click.option("--base-url", default=None, help=BASE_URL_HELP)
@with_appcontext
def users_reset(username: str, password: str | None, as_link: bool, base_url: str | None) -> None:
    """Set a new password (the user's open sessions end), or hand out a new set-password link."""
    from merchants.services import password_links, user_passwords

    if as_link and password is not None:
        raise click.UsageError("--password và --link không dùng cùng nhau.")
    with session() as s:
        try:
            if as_link:
                link = password_links.create_password_link(
                    s, username, actor=SYSTEM, hours=password_links.link_hours(current_app.config)
                )
            else:
                user_passwords.reset_password(s, username, _read_password(password), actor=SYSTEM)
        except DomainError as exc:
            fail(exc)
    if as_link:
        click.echo(_link_line(link, base_url))
    else:
        click.echo(f"Đã đặt lại mật khẩu cho {username}.")


@users_group.command("token")
@click.argument("username")
@click.option("--label", default="api", show_default=True, help="What the token is for.")
@click.option("--days", type=click.IntRange(1, 3650), default=None, help="Expires after this many days.")
@with_appcontext
def users_token(username: str, label: str, days: int | None) -> None:
    """Create an API token for /api/v1 (printed once)."""
    from merchants.services import api_tokens

    with session() as s:
        try:
            click.echo(api_tokens.create_api_token(s, username, label, actor=SYSTEM, days=days))
        except DomainError as exc:
            fail(exc)


@users_group.command("tokens")
@click.argument("username")
@with_appcontext
def users_tokens(username: str) -> None:
    """List a user's API tokens: id, label, created (by), last used, expires, revoked."""
    from merchants.services import api_tokens

    with session() as s:
        try:
            rows = api_tokens.list_tokens(s, SYSTEM, username)
        except DomainError as exc:
            fail(exc)
    if not rows:
        click.echo(f"{username} chưa có mã truy cập nào.")
    for t in rows:
        click.echo(
            f"{t.id}\t{t.label}\ttạo {_when(t.created_at)} bởi {t.created_by or 'hệ thống'}\t"
            f"dùng lần cuối {_when(t.last_used_at)}\thết hạn {_when(t.expires_at)}\t"
            f"{'thu hồi ' + _when(t.revoked_at) if t.revoked_at else 'đang dùng được'}"
        )


@users_group.command("revoke-token")
@click.argument("username")
@click.option("--id", "token_id", type=int, required=True, help="The token's id (see `choqr users tokens`).")
@with_appcontext
def users_revoke_token(username: str, token_id: int) -> None:
    """Revoke one API token; calls with it are refused from then on."""
    from merchants.services import api_tokens

    with session() as s:
        try:
            api_tokens.revoke_token(s, username, token_id, actor=SYSTEM)
        except DomainError as exc:
            fail(exc)
    click.echo(f"Đã thu hồi mã truy cập số {token_id} của {username}.")


def import_lines(result, base_url: str | None) -> list[str]:  # noqa: ANN001 - an ImportResult
    """The result as the terminal prints it: totals, refused cells, skipped rows, then one line per new link."""
    lines = [
        f"{result.filename}: {result.rows} dòng · {len(result.planned)} người mới hợp lệ · "
        f"{len(result.skipped)} đã có (bỏ qua) · {result.refused_rows} dòng bị từ chối"
    ]
    if result.stored:
        lines.append(f"Đã tạo {len(result.links)} người dùng; liên kết đặt mật khẩu (chỉ hiện lần này):")
    elif result.problems:
        lines.append("Không lưu gì vì có dòng bị từ chối.")
    elif result.dry_run:
        lines.append(f"Chạy thử: không lưu gì (sẽ tạo {len(result.planned)} người dùng).")
    else:
        lines.append("Không có người dùng mới nào để thêm.")
    lines += [f"Dòng {p.row} · {p.column}: {p.problem}" for p in result.problems]
    lines += [f"Bỏ qua dòng {s.row}: {s.message}" for s in result.skipped]
    lines += [_link_line(link, base_url) for link in result.links]
    if result.ignored_columns:
        lines.append("Cột không dùng: " + ", ".join(result.ignored_columns))
    return lines


@users_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and report, store nothing.")
@click.option("--base-url", default=None, help=BASE_URL_HELP)
@with_appcontext
def users_import(file: Path, dry_run: bool, base_url: str | None) -> None:
    """Create users from FILE (.xlsx or .csv); stored only when every row passes; exit 1 when rows were refused."""
    from merchants.services import password_links, user_import

    with session() as s:
        try:
            result = user_import.import_users(
                s,
                SYSTEM,
                data=file.read_bytes(),
                filename=file.name,
                dry_run=dry_run,
                hours=password_links.link_hours(current_app.config),
            )
        except DomainError as exc:
            fail(exc)
        lines = import_lines(result, base_url)
    for line in lines:
        click.echo(line)
    sys.exit(1 if result.problems else 0)


commands: list[click.Command] = [users_group]
