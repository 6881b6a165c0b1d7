"""Creating many users from a spreadsheet (XLSX or CSV): checked row by row, stored only when every row passes.

Each row goes through the same rules as the Users page (``users.insert_user``); each new user gets a
set-password link, listed in the result for the administrator to hand out. A file never carries passwords:
one with a column that looks like a password is refused as a whole. Re-importing the same file adds nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlmodel import Session, select

from merchants import roles
from merchants.errors import N_, DomainError, InvalidField
from merchants.models import User
from merchants.scope import Viewer
from merchants.services import audit, password_links, user_scope, users
from merchants.services.import_types import RowProblem
from merchants.spreadsheet import Row, SpreadsheetError, Table, TableSchema, header_key, read_table, template_book

USERS: Final = TableSchema(
    aliases={
        "username": ("ten dang nhap", "username", "user name", "login", "tai khoan", "ten tai khoan", "user"),
        "full_name": ("ho ten", "ho va ten", "name", "full name", "ten", "ten nguoi dung", "ten can bo"),
        "role": ("vai tro", "role", "quyen", "nhom quyen"),
        "provinces": ("tinh", "tinh thanh pho", "tinh thanh", "ma tinh", "province", "provinces", "province code"),
        "communes": ("xa phuong", "xa", "phuong", "ma xa", "ma xa phuong", "commune", "communes", "commune code"),
        "markets": ("cho", "ma cho", "market", "markets", "market code"),
    },
    labels={
        "username": N_("Tên đăng nhập"),
        "full_name": N_("Họ tên"),
        "role": N_("Vai trò"),
        "provinces": N_("Tỉnh"),
        "communes": N_("Xã/phường"),
        "markets": N_("Chợ"),
    },
    required=("username", "role"),
    noun=N_("người dùng"),
)
_ANY_COLUMNS: Final = TableSchema(USERS.aliases, USERS.labels, (), USERS.noun)
# Folded header words that mean a password: such a column is refused, passwords are chosen through links.
_PASSWORD_HEADER = re.compile(r"\b(mat ?khau|mat ma|password|passwords|passwd|pass|pwd|mk|pin)\b")
TEMPLATE_HEADERS: Final = ("Tên đăng nhập", "Họ tên", "Vai trò", "Tỉnh", "Xã/phường", "Chợ")
TEMPLATE_EXAMPLE: Final = ("canbo.vandon", "Phạm Thu Trang", "Cán bộ xã/phường", "", "06994", "")


@dataclass(frozen=True)
class SkippedRow:
    row: int
    username: str
    message: str


@dataclass(frozen=True)
class PlannedUser:
    row: int
    new: users.NewUser


@dataclass(frozen=True)
class ImportResult:
    """What an import found and did; ``links`` are the new users' set-password links (empty unless stored)."""

    filename: str
    rows: int
    planned: tuple[PlannedUser, ...]
    skipped: tuple[SkippedRow, ...]
    problems: tuple[RowProblem, ...]
    ignored_columns: tuple[str, ...]
    dry_run: bool
    stored: bool
    links: tuple[password_links.IssuedLink, ...] = ()

    @property
    def refused_rows(self) -> int:
        return len({p.row for p in self.problems})


def _role_names() -> dict[str, str]:
    names = {}
    for code in roles.ROLES:
        names[header_key(code)] = code
        names[header_key(roles.LABELS_VI[code])] = code
    return names


def resolve_role(text: str) -> str:
    """A role by code ('commune_officer') or Vietnamese label in any spelling ('can bo xa/phuong')."""
    role = _role_names().get(header_key(text or ""))
    if role is None:
        choices = ", ".join(roles.LABELS_VI[r] for r in roles.ROLES)
        raise InvalidField(
            "role", "Vai trò '%(text)s' không có; hãy ghi một trong: %(choices)s.", text=text, choices=choices
        )
    return role


def refuse_password_columns(table: Table) -> None:
    """A list must never carry passwords: the whole file is refused, saying which column and why."""
    for header in [*table.columns.values(), *table.ignored]:
        if _PASSWORD_HEADER.search(header_key(header)):
            raise SpreadsheetError(
                N_(
                    "Tệp có cột '%(header)s' giống cột mật khẩu nên không được nhập. Hãy xoá cột đó: "
                    "mỗi người tự đặt mật khẩu qua liên kết riêng sau khi được tạo."
                ),
                header=header,
            )


class _Check:
    """The state of one pass over the rows: plans, skips, problems and the usernames seen so far."""

    def __init__(self, session: Session, actor: Viewer, table: Table) -> None:
        self.session, self.actor, self.table = session, actor, table
        self.plans: list[PlannedUser] = []
        self.skipped: list[SkippedRow] = []
        self.problems: list[RowProblem] = []
        self.seen: dict[str, int] = {}

    def column(self, field: str) -> str:
        if field == "scope":
            present = [self.table.columns[f] for f in user_scope.LEVELS if f in self.table.columns]
            return " / ".join(present) or "Địa bàn"
        return self.table.columns.get(field, USERS.labels.get(field, field))

    def refuse(self, row: Row, field: str, exc: DomainError | str) -> None:
        self.problems.append(RowProblem.of(row.number, self.column(field), exc))


def _row_user(check: _Check, row: Row) -> tuple[users.NewUser, tuple[user_scope.ScopeItem, ...]] | None:
    """The user a row describes, or None after noting each refused cell."""
    values, before = row.values, len(check.problems)
    username = role = full_name = ""
    try:
        username = users.clean_username(values.get("username", ""))
    except DomainError as exc:
        check.refuse(row, "username", exc)
    try:
        role = resolve_role(values.get("role", ""))
    except DomainError as exc:
        check.refuse(row, "role", exc)
    try:
        full_name = users.clean_full_name(values.get("full_name", ""), username)
    except DomainError as exc:
        check.refuse(row, "full_name", exc)
    items: list[user_scope.ScopeItem] = []
    for level in user_scope.LEVELS:
        try:
            items += user_scope.resolve_scope(
                check.session, user_scope.AreaGrant.of(**{level: [values.get(level, "")]})
            )
        except DomainError as exc:
            check.refuse(row, level, exc)
    if len(check.problems) > before:
        return None
    try:
        user_scope.check_grant(check.actor, role, tuple(items))
    except DomainError as exc:
        check.refuse(row, exc.field or "role", exc)
        return None
    return users.NewUser(username, full_name, role, user_scope.scope_of(items)), tuple(items)


def _check_row(check: _Check, row: Row, existing: dict[str, tuple[str, user_scope.AreaGrant]]) -> None:
    found = _row_user(check, row)
    if found is None:
        return
    new, _items = found
    if new.username in check.seen:
        check.refuse(
            row,
            "username",
            InvalidField(
                "username",
                "Tên đăng nhập '%(username)s' đã có ở dòng %(first)s.",
                username=new.username,
                first=check.seen[new.username],
            ),
        )
        return
    check.seen[new.username] = row.number
    if new.username in existing:
        if existing[new.username] == (new.role, new.scope):
            check.skipped.append(SkippedRow(row.number, new.username, f"{new.username}: đã có, bỏ qua."))
        else:
            check.refuse(
                row,
                "username",
                InvalidField(
                    "username",
                    "Tên đăng nhập '%(username)s' đã có với vai trò hoặc địa bàn khác; "
                    "không thay đổi gì. Hãy sửa người dùng này trên trang Người dùng.",
                    username=new.username,
                ),
            )
        return
    check.plans.append(PlannedUser(row.number, new))


def _existing(session: Session, table: Table) -> dict[str, tuple[str, user_scope.AreaGrant]]:
    """The users the file names who exist already, with their role and areas, to compare each row against."""
    names = {(r.values.get("username") or "").strip().lower() for r in table.rows}
    found = list(session.exec(select(User).where(User.username.in_(names))))
    items = user_scope.scope_items(session, [u.id for u in found])
    return {u.username: (u.role, user_scope.scope_of(items.get(u.id, []))) for u in found}


def import_users(
    session: Session,
    actor: Viewer,
    *,
    data: bytes,
    filename: str = "",
    dry_run: bool = False,
    hours: int = password_links.DEFAULT_LINK_HOURS,
    now: datetime | None = None,
    source_ip: str | None = None,
) -> ImportResult:
    """Check every row; unless a dry run or any row is refused, create the new users with a link each."""
    user_scope.require_manager(actor)
    table = _read(data)
    check = _Check(session, actor, table)
    existing = _existing(session, table)
    for row in table.rows:
        _check_row(check, row, existing)
    store = not dry_run and not check.problems and bool(check.plans)
    links = _store(session, actor, check, filename, hours, now, source_ip) if store else ()
    problems = sorted(check.problems, key=lambda p: (p.row, _position(table, p.column)))
    return ImportResult(
        filename,
        len(table.rows),
        tuple(check.plans),
        tuple(check.skipped),
        tuple(problems),
        tuple(table.ignored),
        dry_run,
        store,
        links,
    )


def _position(table: Table, column: str) -> int:
    return next((table.order[f] for f, header in table.columns.items() if header == column), 99)


def _read(data: bytes) -> Table:
    """The table, refused as a whole when a column looks like passwords (said first, even if columns are missing)."""
    try:
        table = read_table(data, USERS)
    except SpreadsheetError:
        try:
            loose = read_table(data, _ANY_COLUMNS)
        except SpreadsheetError:
            loose = None
        if loose is not None:
            refuse_password_columns(loose)
        raise
    refuse_password_columns(table)
    return table


def _store(
    session: Session,
    actor: Viewer,
    check: _Check,
    filename: str,
    hours: int,
    now: datetime | None,
    source_ip: str | None,
) -> tuple[password_links.IssuedLink, ...]:
    """Create every planned user and their link in one transaction, with one users.import row for the file."""
    links = []
    try:
        for plan in check.plans:
            user = users.insert_user(session, actor, plan.new, source_ip=source_ip)
            links.append(password_links.issue_link(session, actor, user, hours=hours, now=now, source_ip=source_ip))
        audit.record(
            session,
            actor,
            "users.import",
            subject="users",
            source_ip=source_ip,
            filename=filename[:120],
            rows=len(check.table.rows),
            created=len(links),
            skipped=len(check.skipped),
            refused=0,
        )
        session.commit()
    except Exception:
        session.rollback()
        raise
    return tuple(links)


def template_xlsx() -> bytes:
    """An empty user list with our headers and one example row (code columns Text, so zeros survive)."""
    return template_book("Người dùng", TEMPLATE_HEADERS, TEMPLATE_EXAMPLE)
