"""Admins manage staff accounts and sites of their own sites; every change is audited."""

from __future__ import annotations

import re

from flask import Flask
from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import AuditEvent, Role, Site, StaffUser
from tests.actions import StaffBrowser
from tests.factories import make_site, make_staff


def _admin(app: Flask) -> StaffBrowser:
    browser = StaffBrowser(app.test_client())
    assert browser.sign_in("admin-a").status_code == 303
    return browser


def _setup() -> tuple[Site, Site]:
    a, b = make_site("SEH"), make_site("XYZ")
    make_staff("admin-a", Role.ADMIN, [a])
    make_staff("coord-a", Role.COORDINATOR, [a])
    make_staff("coord-b", Role.COORDINATOR, [b])
    db.session.commit()
    return a, b


def _user(username: str) -> StaffUser:
    db.session.expire_all()
    staff = db.session.scalar(select(StaffUser).where(StaffUser.username == username))
    assert staff is not None
    return staff


def _last(action: str) -> AuditEvent:
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())
    ).first()
    assert event is not None, action
    return event


def test_admin_sees_only_staff_of_own_sites(app_ctx: Flask) -> None:
    _setup()
    admin = _admin(app_ctx)
    page = admin.get("/admin/").get_data(as_text=True)
    assert "coord-a" in page and "coord-b" not in page
    assert admin.get(f"/admin/staff/{_user('coord-b').id}").status_code == 404


def test_create_account_shows_a_one_time_password_that_must_be_changed(app_ctx: Flask) -> None:
    site, other = _setup()
    admin = _admin(app_ctx)
    form = "/admin/staff/new"
    bad = admin.post(
        form,
        {
            "username": "Bad Name",
            "role": "monitor",
            "sites": str(site.id),
            "language": "en",
            "active": "y",
        },
        page_url=form,
    )
    assert bad.status_code == 400 and "小写字母" in bad.get_data(as_text=True)
    nosite = admin.post(
        form,
        {
            "username": "mon-a",
            "role": "monitor",
            "sites": str(other.id),
            "language": "en",
            "active": "y",
        },
        page_url=form,
    )
    assert nosite.status_code == 400 and "请至少选择一个研究中心" in nosite.get_data(as_text=True)
    done = admin.post(
        form,
        {
            "username": "mon-a",
            "role": "monitor",
            "sites": str(site.id),
            "language": "en",
            "active": "y",
        },
        page_url=form,
    )
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    match = re.search(r"<code>([a-z2-9]{4}(?:-[a-z2-9]{4}){3})</code>", done.get_data(as_text=True))
    assert match
    created = _user("mon-a")
    assert created.role is Role.MONITOR and created.must_change_password
    assert created.password_hash.startswith("$argon2id$")
    assert _last("staff.created").details["sites"] == ["SEH"]
    assert match.group(1) not in str(_last("staff.created").details)
    newcomer = StaffBrowser(app_ctx.test_client())
    first = newcomer.sign_in("mon-a", match.group(1))
    assert newcomer.get(first.location).location == "/staff/account/password"


def test_role_change_is_audited_and_admins_cannot_lock_themselves_out(app_ctx: Flask) -> None:
    site, _other = _setup()
    admin = _admin(app_ctx)
    coord = _user("coord-a")
    url = f"/admin/staff/{coord.id}"
    saved = admin.post(url, {"role": "monitor", "sites": str(site.id), "active": "y"}, page_url=url)
    assert saved.status_code == 303
    assert _user("coord-a").role is Role.MONITOR
    event = _last("staff.role_changed")
    assert event.details["previous"] == "coordinator" and event.details["role"] == "monitor"
    assert event.actor == "staff:admin-a"
    me = _user("admin-a")
    own = f"/admin/staff/{me.id}"
    for data in (
        {"role": "coordinator", "sites": str(site.id), "active": "y"},
        {"role": "admin", "sites": str(site.id)},
    ):
        refused = admin.post(own, data, page_url=own)
        assert refused.status_code == 400
        assert "不能取消自己的管理员角色" in refused.get_data(as_text=True)
    me = _user("admin-a")
    assert me.role is Role.ADMIN and me.is_active


def test_disabling_an_account_ends_its_sessions(app_ctx: Flask) -> None:
    site, _other = _setup()
    coordinator = StaffBrowser(app_ctx.test_client())
    coordinator.sign_in("coord-a")
    assert coordinator.get("/desk/").status_code == 200
    admin = _admin(app_ctx)
    url = f"/admin/staff/{_user('coord-a').id}"
    admin.post(url, {"role": "coordinator", "sites": str(site.id)}, page_url=url)
    assert not _user("coord-a").is_active
    assert coordinator.get("/desk/").status_code == 302
    assert _last("staff.disabled").actor == "staff:admin-a"
    assert coordinator.sign_in("coord-a").status_code == 400


def test_reset_password_and_unlock(app_ctx: Flask) -> None:
    _setup()
    locked = StaffBrowser(app_ctx.test_client())
    for _ in range(5):
        locked.sign_in("coord-a", "not-the-password")
    assert _user("coord-a").locked_until is not None
    admin = _admin(app_ctx)
    staff_id = _user("coord-a").id
    page = f"/admin/staff/{staff_id}"
    assert "解锁" in admin.get(page).get_data(as_text=True)
    assert admin.post(f"/admin/staff/{staff_id}/unlock", page_url=page).status_code == 303
    assert _user("coord-a").locked_until is None and _last("staff.unlocked")
    reset = admin.post(f"/admin/staff/{staff_id}/reset-password", page_url=page)
    password = re.search(r"<code>([a-z2-9-]{19})</code>", reset.get_data(as_text=True))
    assert password
    assert _user("coord-a").must_change_password
    assert (
        StaffBrowser(app_ctx.test_client()).sign_in("coord-a", password.group(1)).status_code == 303
    )


def test_site_settings_are_validated(app_ctx: Flask) -> None:
    site, other = _setup()
    admin = _admin(app_ctx)
    url = f"/admin/sites/{site.id}"
    good = {
        "name_zh": "上海市东方医院",
        "name_en": "Shanghai East Hospital",
        "timezone": "Asia/Shanghai",
        "study_id_pattern": r"^PRIME-\d{3}$",
        "study_id_example": "PRIME-001",
        "contact_zh": "研究护士：021-1234 5678",
        "contact_en": "Study nurse: 021-1234 5678",
        "phone": "+86 21 1234 5678",
    }
    for change, message in (
        ({"timezone": "Mars/Olympus"}, "未知时区"),
        ({"study_id_pattern": "^PRIME-(\\d{3}$"}, "这不是有效的正则表达式"),
        ({"study_id_example": "P-1"}, "示例与格式不符"),
        ({"name_en": ""}, "请填写此项"),
        ({"phone": "call reception"}, "请用数字填写号码"),
    ):
        refused = admin.post(url, {**good, **change}, page_url=url)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True), change
    assert admin.post(url, good, page_url=url).status_code == 303
    event = _last("site.updated")
    assert event.details["changes"]["contact_zh"][1] == "研究护士：021-1234 5678"
    assert event.details["changes"]["phone"][1] == "+86 21 1234 5678"
    db.session.refresh(site)
    assert site.tel_uri == "tel:+862112345678"
    assert admin.get(f"/admin/sites/{other.id}").status_code == 404
