"""The desk corrects and voids sealed records through forms: each a new version with its reason,
shown with what changed; a query from the monitor is answered on the record; the board lists open
queries; the audit trail of a participant and a site, filtered and as CSV."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from pro_app.extensions import db
from pro_app.models import AuditEvent, DataQuery, Response, Role, StaffUser
from pro_app.questionnaire.catalog import catalog
from pro_app.services import answering, progress, review, sealing
from tests.actions import StaffBrowser, csrf_of
from tests.factories import make_participant, make_site, make_staff, visit_of
from tests.walklog import seal_log


def _mlhfq(study_id: str = "PRIME-001") -> Response:
    visit = visit_of(make_participant(study_id))
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(visit, mlhfq, item_id, 2, language="zh_Hans", actor="participant:x")
    record = sealing.submit(visit, mlhfq, catalog(), language="zh_Hans", actor="participant:x")
    db.session.commit()
    return record


def _post(desk: StaffBrowser, url: str, data: dict[str, object]) -> object:
    page = desk.get(url)
    assert page.status_code == 200
    return desk.client.post(url, data={"csrf_token": csrf_of(page), **data})


def _shown(fields: list[str], **values: object) -> dict[str, object]:
    return {"shown": fields, **values}


def test_an_mlhfq_answer_is_corrected_from_the_record_page(desk: StaffBrowser) -> None:
    original = _mlhfq()
    page = desk.get(f"/desk/records/{original.id}").get_data(as_text=True)
    assert "更正…" in page and "当前版本" in page and original.record_sha256 in page
    form = desk.get(f"/desk/records/{original.id}/correct").get_data(as_text=True)
    assert 'name="mlhf02"' in form and "纸质问卷转录错误" in form
    items = [f"mlhf{n:02d}" for n in range(1, 22)]
    values = {item: "2" for item in items}
    missing_code = _post(
        desk,
        f"/desk/records/{original.id}/correct",
        _shown(items, **{**values, "mlhf02": "5"}, reason="paper says 5", reason_code=""),
    )
    assert missing_code.status_code == 400  # type: ignore[attr-defined]
    assert "请选择更正记录的原因" in missing_code.get_data(as_text=True)  # type: ignore[attr-defined]
    done = _post(
        desk,
        f"/desk/records/{original.id}/correct",
        _shown(
            items,
            **{**values, "mlhf02": "5"},
            reason="paper says 5",
            reason_code="transcription_error",
        ),
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    corrected = answering.sealed_response(original.visit_id, "mlhfq")
    assert corrected is not None and corrected.version == 2
    assert corrected.scores["total"]["value"] == 45
    page = desk.get(done.location).get_data(as_text=True)  # type: ignore[attr-defined]
    assert "第2版已封存；第1版原样保留。" in page
    assert "纸质问卷转录错误: paper says 5" in page
    assert "<del>2</del>" in page and "<ins>5</ins>" in page
    old = desk.get(f"/desk/records/{original.id}").get_data(as_text=True)
    assert "已被后续版本取代" in old and "更正…" not in old


def test_a_6mwt_value_is_corrected_with_free_text_and_a_refused_value_is_explained(
    desk: StaffBrowser,
) -> None:
    original = seal_log(visit_of(make_participant()))
    db.session.commit()
    refused = _post(
        desk,
        f"/desk/records/{original.id}/correct",
        _shown(["laps"], laps="60", reason="recounted"),
    )
    assert refused.status_code == 400  # type: ignore[attr-defined]
    text = refused.get_data(as_text=True)  # type: ignore[attr-defined]
    assert (
        'id="err-laps">请填写0至50圈之间的数字。</p>' in text
    )  # beside its field, with its limits
    done = _post(
        desk,
        f"/desk/records/{original.id}/correct",
        _shown(["laps"], laps="8", reason="recounted the laps"),
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    corrected = answering.sealed_response(original.visit_id, "sixmwt")
    assert corrected is not None and corrected.scores["distance_m"] == 492.0


def test_a_record_is_voided_and_the_visit_reopens(desk: StaffBrowser) -> None:
    original = _mlhfq()
    shown = desk.get(f"/desk/records/{original.id}").get_data(as_text=True)
    assert "作废记录…" in shown and "作废…" not in shown  # not a link's "作废链接…"
    unconfirmed = _post(
        desk,
        f"/desk/records/{original.id}/void",
        {"reason_code": "wrong_participant", "reason": "belongs to PRIME-002"},
    )
    assert unconfirmed.status_code == 400  # type: ignore[attr-defined]
    done = _post(
        desk,
        f"/desk/records/{original.id}/void",
        {"reason_code": "wrong_participant", "reason": "belongs to PRIME-002", "confirm": "y"},
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert answering.sealed_response(original.visit_id, "mlhfq") is None
    voided = desk.get(done.location).get_data(as_text=True)  # type: ignore[attr-defined]
    assert "已作废" in voided and "录入到了错误的受试者: belongs to PRIME-002" in voided
    assert "更正…" not in voided  # a voided version is not corrected again
    (row,) = progress.participant_progress(original.visit.participant, catalog().schedule, 0)[:1]
    mlhfq_state = next(i.state for i in row.instruments if i.instrument_id == "mlhfq")
    assert mlhfq_state is not progress.State.SUBMITTED  # the visit needs its MLHFQ again


def test_another_sites_record_is_not_found(desk: StaffBrowser) -> None:
    elsewhere = visit_of(make_participant("PRIME-900", site=make_site("XYZ")))
    mlhfq = catalog().instrument("mlhfq")
    for item_id in mlhfq.item_ids:
        answering.save_answer(elsewhere, mlhfq, item_id, 1, language="en", actor="x")
    record = sealing.submit(elsewhere, mlhfq, catalog(), language="en", actor="x")
    db.session.commit()
    for url in (f"/desk/records/{record.id}", f"/desk/records/{record.id}/correct"):
        assert desk.get(url).status_code == 404


def test_a_monitors_query_is_answered_and_listed_on_the_board(desk: StaffBrowser) -> None:
    record = _mlhfq()
    monitor = make_staff("monitor-q", Role.MONITOR, [make_site()])
    review.raise_query(
        record, field="mlhf03", text="Paper says 4?", staff=monitor, fields=["mlhf03"]
    )
    db.session.commit()
    board = desk.get("/desk/").get_data(as_text=True)
    assert "监查员的质疑" in board and "Paper says 4?" in board
    # A query's own word for open, not the visit state's ("访视窗已开放": the window is open).
    assert '<span class="state query-open">待回复</span>' in board
    page = desk.get(f"/desk/records/{record.id}")
    answered = desk.client.post(
        f"/desk/queries/{review.pending({record.visit.participant.site_id})[0].id}/answer",
        data={"csrf_token": csrf_of(page), "text": "Checked: the paper says 2."},
    )
    assert answered.status_code == 303
    row = review.pending({record.visit.participant.site_id})[0]
    assert row.status.value == "answered" and row.question == "Paper says 4?"
    query = db.session.get(DataQuery, row.id)
    assert query is not None
    assert [e.text for e in query.events] == ["Paper says 4?", "Checked: the paper says 2."]


def test_the_audit_trail_filters_pages_and_downloads(desk: StaffBrowser) -> None:
    record = _mlhfq()
    participant_id = record.visit.participant_id
    page = desk.get(f"/desk/participants/{participant_id}/audit").get_data(as_text=True)
    assert "已提交记录" in page or "Record submitted" in page or "记录" in page
    only = desk.get(
        f"/desk/participants/{participant_id}/audit", query_string={"action": "link.issued"}
    ).get_data(as_text=True)
    assert "答案已保存" not in only
    download = desk.get(
        f"/desk/participants/{participant_id}/audit.csv",
        query_string={"action": "response.submitted", "since": "2026-11-25"},
    )
    assert download.status_code == 200 and download.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(download.get_data(as_text=True).lstrip("\ufeff"))))
    assert [row["action"] for row in rows] == ["response.submitted"]
    assert rows[0]["occurred_at_site"].endswith("+08:00")
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.id == int(rows[0]["event_id"])))
    later = desk.get(
        f"/desk/participants/{participant_id}/audit.csv", query_string={"since": "2026-11-26"}
    )
    assert (
        len(list(csv.DictReader(io.StringIO(later.get_data(as_text=True).lstrip("\ufeff"))))) == 0
    )
    staff = db.session.scalars(select(StaffUser).where(StaffUser.username == "coord-a")).one()
    site = desk.get(f"/desk/sites/{next(iter(staff.site_ids))}/audit")
    assert site.status_code == 200
