"""Security events reach the audit trail (issue 10: 'missing audit rows'): sign-in, its failures, sign-out and
refused requests, each with who, when and the source address; a household edit keeps old → new, masked."""

from __future__ import annotations

import json

from factories import PASSWORD, login, make_household, make_market, make_user
from sqlmodel import select

from merchants.models import AuditLog
from merchants.scope import SYSTEM
from merchants.services import api_tokens

IP = {"REMOTE_ADDR": "14.161.0.9"}


def _rows(session, action):  # noqa: ANN001, ANN202
    session.expire_all()
    return list(session.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))


def test_sign_in_its_failure_and_sign_out_are_audited_with_the_address(client, session):
    user = make_user(session, markets=[make_market(session)], username="canbo.thu")
    client.post("/login", data={"username": "  CanBo.Thu ", "password": "mat-khau-sai-99"}, environ_base=IP)
    client.post("/login", data={"username": "khong.co", "password": "bi-mat-456"}, environ_base=IP)
    client.post("/login", data={"username": "canbo.thu", "password": PASSWORD}, environ_base=IP)
    client.post("/logout", environ_base=IP)
    failed = _rows(session, "auth.sign_in_failed")
    assert [(r.subject, r.user_id, r.source_ip) for r in failed] == [
        ("user:canbo.thu", None, "14.161.0.9"),
        ("user:khong.co", None, "14.161.0.9"),
    ]
    assert json.loads(failed[1].detail) == {"username": "khong.co"}
    assert all("mat-khau-sai-99" not in r.detail and "bi-mat-456" not in r.detail for r in failed)
    (ok,), (out,) = _rows(session, "auth.sign_in"), _rows(session, "auth.sign_out")
    assert (ok.user_id, ok.source_ip, out.user_id, out.source_ip) == (user.id, "14.161.0.9", user.id, "14.161.0.9")
    assert ok.at <= out.at


def test_a_refused_action_is_audited_with_who_what_and_where_from(client, session):
    market = make_market(session)
    manager = make_user(session, "market_manager", markets=[market])
    login(client, manager)
    resp = client.post(f"/markets/{market.id}/register?q=022185001234", data={"owner_name": "X"}, environ_base=IP)
    assert resp.status_code == 403
    (row,) = _rows(session, "access.denied")
    detail = json.loads(row.detail)
    assert (row.user_id, row.source_ip, detail["status"], detail["method"]) == (manager.id, "14.161.0.9", 403, "POST")
    assert detail["path"] == f"/markets/{market.id}/register" and "022185001234" not in row.detail


def test_reaching_for_another_communes_record_is_audited(client, session):
    mine, theirs = make_market(session), make_market(session, province_code="23")
    other = make_household(session, theirs)
    officer = make_user(session, markets=[mine])
    login(client, officer)
    assert client.get(f"/households/{other.id}", environ_base=IP).status_code == 404
    (row,) = _rows(session, "access.denied")
    assert (row.user_id, json.loads(row.detail)["status"], row.subject) == (
        officer.id,
        404,
        f"path:/households/{other.id}",
    )


def test_api_refusals_are_audited_with_the_tokens_user(client, session):
    mine, theirs = make_market(session), make_market(session, province_code="23")
    officer = make_user(session, markets=[mine])
    token = api_tokens.create_api_token(session, officer.username, "thử", actor=SYSTEM)
    resp = client.get(
        f"/api/v1/markets/{theirs.code}/stalls", headers={"Authorization": f"Bearer {token}"}, environ_base=IP
    )
    assert resp.status_code == 404
    (row,) = _rows(session, "access.denied")
    assert (row.user_id, row.source_ip) == (officer.id, "14.161.0.9")


def test_user_administration_rows_carry_the_administrators_address(client, session):
    market = make_market(session)
    admin = make_user(session, "admin", username="quantri")
    officer = make_user(session, markets=[market])
    login(client, admin)
    client.post(f"/admin/users/{officer.id}/disable", environ_base=IP)
    (row,) = _rows(session, "user.disable")
    assert (row.user_id, row.source_ip, row.subject) == (admin.id, "14.161.0.9", f"user:{officer.username}")


def test_a_household_edit_keeps_old_and_new_values_with_personal_numbers_masked(client, session):
    market = make_market(session)
    h = make_household(session, market, owner_name="Nguyễn Thị Đào", phone="0912345678", citizen_id="022185001234")
    login(client, make_user(session, markets=[market]))
    resp = client.post(
        f"/households/{h.id}/edit",
        data={
            "owner_name": "Nguyễn Thị Đào Mới",
            "phone": "0987654321",
            "citizen_id": "022185009999",
            "goods": "Rau củ",
            "version": str(h.version),
        },
        environ_base=IP,
    )
    assert resp.status_code == 302
    (row,) = _rows(session, "household.update")
    assert row.source_ip == "14.161.0.9"
    assert json.loads(row.detail)["changes"] == {
        "citizen_id": ["•••• 1234", "•••• 9999"],
        "owner_name": ["Nguyễn Thị Đào", "Nguyễn Thị Đào Mới"],
        "phone": ["•••• 5678", "•••• 4321"],
    }
    for number in ("022185001234", "022185009999", "0912345678", "987654321"):
        assert number not in row.detail
    page = client.get(f"/households/{h.id}/history").get_data(as_text=True)
    assert "Nguyễn Thị Đào</span> → <b>Nguyễn Thị Đào Mới</b>" in page
    assert "•••• 5678</span> → <b>•••• 4321</b>" in page
