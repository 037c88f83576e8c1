"""A coordinator of site A never sees or changes site B's participants, even by guessing ids."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, ParticipantStatus, Role, VisitLink
from tests.actions import StaffBrowser
from tests.factories import make_participant, make_site, make_staff, visit_of


def test_other_sites_participants_are_invisible_and_untouchable(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    mine = make_participant("PRIME-001", site=make_site("SEH"))
    theirs = make_participant("PRIME-901", site=make_site("XYZ"))
    db.session.commit()
    visit = visit_of(theirs)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))

    listing = desk.get("/desk/participants", query_string={"status": "all"}).get_data(as_text=True)
    assert "PRIME-001" in listing and "PRIME-901" not in listing
    assert "PRIME-901" not in desk.get("/desk/participants?q=901&status=all").get_data(as_text=True)
    assert "PRIME-901" not in desk.get("/desk/").get_data(as_text=True)

    own = f"/desk/participants/{mine.id}"
    attempts = [
        ("GET", f"/desk/participants/{theirs.id}", {}),
        ("GET", f"/desk/participants/{theirs.id}/withdraw", {}),
        ("GET", f"/desk/participants/{theirs.id}/day0", {}),
        ("POST", f"/desk/participants/{theirs.id}/withdraw", {"reason": "x" * 5, "confirm": "y"}),
        ("POST", f"/desk/participants/{theirs.id}/day0", {"day0": "2026-11-26", "reason": "xyz"}),
        ("POST", f"/desk/visits/{visit.id}/link", {}),
        ("POST", f"/desk/visits/{visit.id}/link/reissue", {"reason": "lost"}),
        ("POST", f"/desk/visits/{visit.id}/link/revoke", {"reason": "lost"}),
        ("POST", f"/desk/visits/{visit.id}/staff-entry", {"reason": "paper", "language": "en"}),
        ("GET", "/desk/participants/999999", {}),
    ]
    for method, url, data in attempts:
        response = desk.get(url) if method == "GET" else desk.post(url, data, page_url=own)
        assert response.status_code == 404, f"{method} {url}"
        text = response.get_data(as_text=True)
        assert "PRIME-901" not in text
        assert "该内容不存在，或属于您未参与的研究中心" in text
    db.session.expire_all()
    assert theirs.status is ParticipantStatus.ACTIVE
    assert db.session.scalar(select(func.count()).select_from(VisitLink)) == 0
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert desk.get("/visit").status_code == 401


def test_a_coordinator_of_two_sites_sees_both_with_a_site_column(client: FlaskClient) -> None:
    a, b = make_site("SEH"), make_site("XYZ")
    make_participant("PRIME-001", site=a)
    make_participant("PRIME-002", site=b)
    make_staff("coord-ab", Role.COORDINATOR, [a, b])
    db.session.commit()
    browser = StaffBrowser(client)
    browser.sign_in("coord-ab")
    page = browser.get("/desk/participants").get_data(as_text=True)
    assert "PRIME-001" in page and "PRIME-002" in page and '<th scope="col">研究中心</th>' in page
    enrol = browser.get("/desk/participants/new").get_data(as_text=True)
    assert '<select id="site_id"' in enrol


def test_enrolment_at_a_site_not_ones_own_is_refused(
    client: FlaskClient, desk: StaffBrowser
) -> None:
    other = make_site("XYZ")
    db.session.commit()
    response = desk.post(
        "/desk/participants/new",
        {
            "site_id": str(other.id),
            "study_id": "PRIME-050",
            "sex": "female",
            "birth_year": "1960",
            "height_cm": "160",
            "preferred_language": "en",
            "day0": "2026-11-26",
        },
        page_url="/desk/participants/new",
    )
    assert response.status_code == 400
    assert "请选择您所属的研究中心" in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "participant.enrolled")
        )
        == 0
    )
