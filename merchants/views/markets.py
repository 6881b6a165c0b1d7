"""Markets: the list with coverage, one market's stalls, search."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from merchants import status as st
from merchants.db import get_session
from merchants.models import utcnow
from merchants.services.coverage_queries import market_coverage, market_page
from merchants.services.payment_stats import active_by_market, active_figure
from merchants.services.registry_queries import get_market, stall_by_code, stall_page
from merchants.views.helpers import paginate, search_terms, status_text, viewer

bp = Blueprint("markets", __name__)
MARKETS_PER_PAGE = 50
STALLS_PER_PAGE = 50  # about 20 KB of HTML and a few ms of server time: light on a weak 3G link, flat in size


@bp.get("/")
@login_required
def index():  # noqa: ANN201
    session, v = get_session(), viewer()
    q = request.args.get("q", "")[:100]
    first_ids, total = market_page(session, v, q=q, limit=MARKETS_PER_PAGE)
    if total == 1 and not q:
        return redirect(url_for("markets.show", market_id=first_ids[0]))
    if total == 0 and not q and v.can("users"):
        return redirect(url_for("admin.home"))  # a new programme: the getting-started checklist, not an empty list
    pager = paginate(total, request.args.get("page", 1, type=int), MARKETS_PER_PAGE)
    ids = first_ids if pager.page == 1 else market_page(session, v, q=q, offset=pager.start, limit=MARKETS_PER_PAGE)[0]
    rows = market_coverage(session, v, ids) if ids else []
    receiving = active_by_market(session, v, ids, now=utcnow()) if ids else {}
    active = {r.id: active_figure(receiving.get(r.id, 0), r.coverage.covered) for r in rows}
    return render_template("markets/index.html", rows=rows, active=active, pager=pager, q=q)


@bp.get("/markets/<int:market_id>")
@login_required
def show(market_id: int):  # noqa: ANN201
    session, v = get_session(), viewer()
    info = get_market(session, v, market_id)
    q, status = request.args.get("q", "")[:100], request.args.get("status", "")
    status = status if status in st.ORDER else ""
    cov = market_coverage(session, v, [market_id])[0]
    filters = {"q": search_terms(q), "status": status, "show_pii": v.can("pii")}
    page = max(1, min(request.args.get("page", 1, type=int), 1_000_000))
    rows, total = stall_page(session, info, offset=(page - 1) * STALLS_PER_PAGE, limit=STALLS_PER_PAGE, **filters)
    pager = paginate(total, page, STALLS_PER_PAGE)
    if pager.start != (page - 1) * STALLS_PER_PAGE:  # asked past the last page: show the last one
        rows, total = stall_page(session, info, offset=pager.start, limit=STALLS_PER_PAGE, **filters)
    return render_template(
        "markets/show.html",
        info=info,
        cov=cov,
        rows=rows,
        pager=pager,
        q=q,
        status=status,
        statuses=st.ORDER,
        status_labels={s: status_text(s) for s in st.ORDER},  # once a page, not once a row
    )


@bp.get("/markets/<int:market_id>/stalls/<code>")
@login_required
def stall(market_id: int, code: str):  # noqa: ANN201
    session = get_session()
    s = stall_by_code(session, get_market(session, viewer(), market_id), code)
    if s.household_id:
        return redirect(url_for("households.show", household_id=s.household_id))
    return redirect(url_for("households.register", market_id=market_id, stall=s.code))
