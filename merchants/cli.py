"""The ``choqr`` commands. Each opens a session through ``merchants.db`` and calls one service."""

from __future__ import annotations

import json

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from merchants import db
from merchants.cli_common import fail, session
from merchants.errors import DomainError

_session = session
_fail = fail


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Create or upgrade the database schema (Alembic migrations); a new database gets the official units."""
    from merchants.services.areas import load_shipped_if_empty

    db.upgrade(current_app.config["DATABASE_URL"])
    with _session() as session:
        loaded = load_shipped_if_empty(session)
    if loaded:
        click.echo(f"Đã nạp danh sách địa bàn chính thức: {loaded} xã/phường/đặc khu.")
    click.echo("Cơ sở dữ liệu đã sẵn sàng.")


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Load the demo markets (Chợ Cái Rồng: 356/364 households) and demo users."""
    from merchants.demo import DEMO_LOGINS, DEMO_PASSWORD, seed

    with _session() as session:
        counts = seed(session)
    click.echo(f"Đã tạo {counts['households']} hộ mẫu." if counts else "Dữ liệu mẫu đã có sẵn.")
    for username, who in DEMO_LOGINS:
        click.echo(f"  đăng nhập {username:<14} / {DEMO_PASSWORD}   ({who})")


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.pass_context
@with_appcontext
def demo(ctx: click.Context, host: str, port: int) -> None:
    """Initialise the database, load demo data and serve the app, with one job worker in this same process."""
    ctx.invoke(init_db)
    ctx.invoke(seed_demo)
    from werkzeug.serving import run_simple  # Flask's app.run refuses to start inside its own CLI

    from merchants import jobs

    app = current_app._get_current_object()
    worker = jobs.start_in_process(app)  # print batches need a consumer; the demo stays one command
    click.echo(f"ChoQR đang chạy tại http://{host}:{port}  (Ctrl+C để dừng)")
    try:
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        jobs.stop_in_process(worker)


@click.command("coverage")
@click.option("--market", "market_code", default=None, help="Only this market code.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list, one object per market.")
@with_appcontext
def coverage(market_code: str | None, as_json: bool) -> None:
    """Print coverage per market: households with an issued QR over active households (floored %)."""
    from merchants.scope import SYSTEM
    from merchants.services.coverage_queries import market_coverage
    from merchants.services.registry_queries import get_market_by_code

    with _session() as session:
        ids = None
        if market_code:
            try:
                ids = [get_market_by_code(session, SYSTEM, market_code).market.id]
            except DomainError as exc:
                _fail(exc)
        rows = market_coverage(session, SYSTEM, ids)
        from datetime import UTC, datetime

        from merchants.services.payment_stats import active_by_market, active_figure

        active = active_by_market(session, SYSTEM, ids, now=datetime.now(UTC))
    if as_json:
        click.echo(
            json.dumps(
                [
                    {
                        "code": r.code,
                        "name": r.name,
                        "covered": r.coverage.covered,
                        "total": r.coverage.total,
                        "percent": r.coverage.percent,
                        # households with a QR that received a payment in 30 days (merchants.services.payment_stats)
                        "active": active_figure(active.get(r.id, 0), r.coverage.covered).covered,
                    }
                    for r in rows
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for r in rows:
        click.echo(f"{r.code:<12} {r.name:<28} {r.coverage.label()}")


def register_commands(app: Flask) -> None:
    from merchants import cli_areas, cli_imports, cli_jobs, cli_payments, cli_placards, cli_setup, cli_users
    from qr.cli import qr_cli

    for command in (
        init_db,
        seed_demo,
        demo,
        coverage,
        qr_cli,
        *cli_placards.commands,
        *cli_users.commands,
        *cli_imports.commands,
        *cli_areas.commands,
        *cli_setup.commands,
        *cli_jobs.commands,
        *cli_payments.commands,
    ):
        app.cli.add_command(command)
