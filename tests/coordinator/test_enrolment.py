"""Enrolment by form: the site's study-id format, the protocol's limits, nothing identifying."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, Participant, Visit
from tests.actions import StaffBrowser
from tests.factories import make_participant

GOOD = {
    "study_id": "PRIME-007",
    "sex": "male",
    "birth_year": "1960",
    "height_cm": "172",
    "preferred_language": "zh_Hans",
    "day0": "2026-11-27",
}
FORM = "/desk/participants/new"


def _enrol(desk: StaffBrowser, **changes: str | None) -> tuple[int, str]:
    data = {key: value for key, value in {**GOOD, **changes}.items() if value is not None}
    page = desk.get(FORM)
    site_id = re.search(r'name="site_id" value="(\d+)"', page.get_data(as_text=True))
    assert site_id
    data["site_id"] = site_id.group(1)
    response = desk.post(FORM, data, page_url=FORM)
    if response.status_code in (302, 303):
        return response.status_code, response.location
    return response.status_code, response.get_data(as_text=True)


def _events() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Participant)) or 0


def test_enrol_lays_out_the_schedule_and_is_audited(desk: StaffBrowser) -> None:
    status, location = _enrol(desk, study_id=" prime-007 ")
    assert status == 303
    participant = db.session.scalars(select(Participant)).one()
    assert location == f"/desk/participants/{participant.id}"
    assert participant.study_id == "PRIME-007"
    visits = db.session.scalars(select(Visit).order_by(Visit.day)).all()
    assert [v.code for v in visits] == ["baseline", "d7", "d43", "d91", "d180", "d360"]
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.participant_id == participant.id)
    ).one()
    assert event.action == "participant.enrolled" and event.actor == "staff:coord-a"
    assert event.details["study_id"] == "PRIME-007" and event.details["day0"] == "2026-11-27"
    page = desk.get(location).get_data(as_text=True)
    assert "PRIME-007已入组" in page


def test_the_form_asks_for_nothing_identifying(desk: StaffBrowser) -> None:
    page = desk.get(FORM).get_data(as_text=True)
    names = set(re.findall(r'<(?:input|select|textarea)[^>]*name="([^"]+)"', page))
    names -= {"language", "next"}  # the header's language switch
    assert names == {
        "csrf_token",
        "site_id",
        "study_id",
        "sex",
        "birth_year",
        "height_cm",
        "preferred_language",
        "day0",
    }
    assert "只记录受试者编号" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"study_id": "P-7"}, "study_id", "请使用本研究中心的格式，例如PRIME-001。"),
        ({"study_id": "PRIME-0007"}, "study_id", "请使用本研究中心的格式"),
        ({"study_id": ""}, "study_id", "请输入受试者编号。"),
        ({"birth_year": "2009"}, "birth_year", "第0天时的年龄须为18至80岁（方案规定）。"),
        ({"birth_year": "1945"}, "birth_year", "第0天时的年龄须为18至80岁"),
        ({"birth_year": "abc"}, "birth_year", "请输入年份，例如1958。"),
        ({"height_cm": "99"}, "height_cm", "身高须在100至230 cm之间。"),
        ({"height_cm": "231"}, "height_cm", "身高须在100至230 cm之间。"),
        ({"height_cm": "17.5"}, "height_cm", "请输入整数厘米"),
        ({"sex": None}, "sex", "请选择一项。"),
        ({"sex": "other"}, "sex", ""),
        ({"preferred_language": "fr"}, "preferred_language", ""),
        ({"day0": "25/11/2026"}, "day0", "请按YYYY-MM-DD格式输入日期。"),
        ({"day0": "2025-11-01"}, "day0", "第0天须介于今天前365天至今天后90天之间。"),
        ({"day0": "2027-03-01"}, "day0", "第0天须介于今天前365天至今天后90天之间。"),
    ],
)
def test_bad_input_is_explained_beside_the_field_and_changes_nothing(
    desk: StaffBrowser, changes: dict[str, str | None], field: str, message: str
) -> None:
    events_before = _events()
    status, page = _enrol(desk, **changes)
    assert status == 400
    error = re.search(rf'<p class="error-text" id="{field}[^"]*-error">([^<]+)</p>', page)
    assert error, f"no error beside {field}"
    assert message in error.group(1)
    assert _count() == 0
    assert _events() == events_before


def test_study_ids_are_unique(desk: StaffBrowser) -> None:
    make_participant("PRIME-007")
    db.session.commit()
    status, page = _enrol(desk, study_id="prime-007")
    assert status == 400 and "该受试者编号已被使用。" in page
    assert _count() == 1


def test_errors_in_english_for_an_english_speaking_coordinator(desk: StaffBrowser) -> None:
    desk.post("/staff/account/language", {"language": "en"})
    status, page = _enrol(desk, study_id="X1", height_cm="50")
    assert status == 400
    assert "Use this site&#39;s format, for example PRIME-001." in page


def test_the_age_limits_are_inclusive(desk: StaffBrowser) -> None:
    assert _enrol(desk, study_id="PRIME-018", birth_year="2008")[0] == 303  # 18 in 2026
    assert _enrol(desk, study_id="PRIME-080", birth_year="1946")[0] == 303  # 80 in 2026


def test_a_day0_whose_windows_have_closed_needs_a_confirmation(desk: StaffBrowser) -> None:
    before = _events()
    status, page = _enrol(desk, day0="2026-01-10")  # ten months ago: five windows have closed
    assert status == 400 and _count() == 0 and _events() == before
    assert "5个访视窗已经关闭" in page and 'name="confirm_past"' in page
    assert "基线（第0天）" in page and "第180天" in page
    status, _location = _enrol(desk, day0="2026-01-10", confirm_past="y")
    assert status == 303 and _count() == 1
    # A Day 0 whose first window is still open needs no confirmation.
    status, _page = _enrol(desk, study_id="PRIME-008", day0="2026-11-27")
    assert status == 303 and _count() == 2
