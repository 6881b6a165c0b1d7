"""What the tablet needs to register with no signal: its service worker, its session state and its markets.

The service worker is served from the site root so its scope covers every page (a script under /static/ could
only control /static/). The JSON here is per user and never cached by the browser (``Cache-Control: no-store``
from ``init_web``); the service worker keeps pages only in caches named after the user (static/offline/sw.js).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from jinja2.utils import htmlsafe_json_dumps
from markupsafe import Markup

from merchants.db import get_session
from merchants.services import offline
from merchants.views.helpers import api_error, requires, viewer

bp = Blueprint("offline", __name__)


@lru_cache(maxsize=8)
def _offline_text(locale: str) -> Markup:
    """The outbox's words for static/offline/sync.js as JSON, built once per language (every page carries them)."""
    del locale  # the cache key: gettext below reads the request's language
    text = {
        "count": _("%(n)s hồ sơ đăng ký chưa gửi", n="{n}"),
        "count_refused": _("%(n)s hồ sơ cần sửa", n="{n}"),
        "sending": _("Đang gửi…"),
        "sent": _("Đã gửi, đã cấp mã QR:"),
        "sent_before": _("Đã gửi trước đó (nội dung khác với bản trên máy):"),
        "refused": _("Máy chủ chưa nhận, cần sửa:"),
        "fix": _("Sửa và gửi lại"),
        "discard": _("Bỏ hồ sơ này"),
        "discard_confirm": _("Bỏ hồ sơ này khỏi máy tính bảng? Hồ sơ chưa được gửi và sẽ mất."),
        "offline": _("Không có mạng. Hồ sơ được giữ trên máy và tự gửi khi có mạng."),
        "failed": _("Chưa gửi được (mạng yếu hoặc máy chủ bận). Sẽ tự thử lại."),
        "sign_in": _("Phiên đăng nhập đã hết. Hãy đăng nhập lại để gửi các hồ sơ đã lưu."),
        "old": _("Có hồ sơ đã lưu hơn %(days)s ngày. Hãy gửi sớm khi có mạng.", days=3),
        "no_key": _("Chưa mở được khóa mã hóa của phiên này. Hãy kết nối mạng một lần."),
        "signout_unsent": _(
            "Còn %(n)s hồ sơ chưa gửi. Đăng xuất bây giờ thì các hồ sơ này không đọc lại được nữa. Vẫn đăng xuất?",
            n="{n}",
        ),
        "market": _("Chợ"),
        "stall": _("sạp"),
        "field": {
            "owner_name": _("Họ tên chủ hộ"),
            "phone": _("Số điện thoại"),
            "citizen_id": _("Số CCCD"),
            "goods": _("Mặt hàng"),
            "stalls": _("Sạp"),
            "bank_bin": _("Ngân hàng"),
            "account_number": _("Số tài khoản"),
            "holder_name": _("Tên chủ tài khoản"),
            "new_stall_code": _("Mã sạp mới"),
            "new_stall_zone": _("Khu của sạp mới"),
            "market": _("Chợ"),
            "captured_at": _("Thời điểm nhập"),
            "client_id": _("Mã hồ sơ"),
        },
    }
    return htmlsafe_json_dumps(text)


@bp.app_context_processor
def _offline_panel() -> dict[str, object]:
    return {"offline_text_json": lambda: _offline_text(str(get_locale()))}


SW_FILE = Path("offline") / "sw.js"


def _not_signed_in() -> Response:
    """The same answer as the API's: the tablet keeps its drafts and asks the officer to sign in again."""
    message = _("Phiên đăng nhập đã hết. Hãy đăng nhập lại để gửi các hồ sơ đã lưu.")
    return api_error(401, "not_signed_in", message)


@bp.get("/sw.js")
def service_worker() -> Response:
    """The service worker script; ``Service-Worker-Allowed: /`` lets it control the whole site."""
    path = Path(current_app.static_folder or "") / SW_FILE
    resp = Response(path.read_bytes(), mimetype="text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


@bp.get("/offline/state.json")
def state() -> Response | tuple[Response, int]:
    """Who is signed in, a fresh CSRF token for the API and the key this session's drafts are encrypted with."""
    if not current_user.is_authenticated:
        return _not_signed_in()
    key = offline.draft_key(current_app.config["SECRET_KEY"], current_user.token)
    return jsonify(
        user_id=current_user.db_id,
        csrf_token=generate_csrf(),
        key=base64.b64encode(key).decode(),
        key_id=hashlib.sha256(key).hexdigest()[:16],  # tells the tablet the session (hence the key) changed
        can_register=viewer().can("register"),
    )


@bp.get("/offline/markets.json")
@requires("register")
def markets() -> Response:
    """The markets the officer registers in, their free stalls and the bank list: what the tablet caches."""
    rows = offline.offline_markets(get_session(), viewer())
    return jsonify(
        markets=[
            {
                "id": m.id,
                "code": m.code,
                "name": m.name,
                "register_url": url_for("households.register", market_id=m.id),
                "stalls": [{"id": s.id, "code": s.code, "zone": s.zone} for s in m.stalls],
            }
            for m in rows
        ],
        banks=offline.bank_list(),
        offline_page=url_for("offline.page"),
    )


@bp.get("/offline/page")
@requires("register")
def page() -> str:
    """The page the service worker shows for a page it has not kept: the drafts and the kept register forms."""
    return render_template("offline/page.html", markets=offline.offline_markets(get_session(), viewer()))
