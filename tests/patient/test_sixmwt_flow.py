"""The 6MWT log through the test client: parts, limits, confirmations, timer, review, submit.

The log is administered by the assessor (`administered_by = "assessor"`): a coordinator enters it
through staff entry, on the patient screens; a patient's own link never opens it."""

from __future__ import annotations

import html
import json
import re
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from pro_app.extensions import db
from pro_app.models import AuditEvent, DraftAnswer, Participant, Response, Role
from pro_app.models import StaffUser as _STAFF
from tests.actions import Patient, StaffBrowser, csrf_of
from tests.factories import TODAY, issue_token, make_participant, make_site, make_staff, visit_of
from tests.walklog import GOOD

D7_DATE = TODAY.isoformat()


class Walker(StaffBrowser):
    """The assessor entering the 6MWT log for the participant (staff entry), patient beside them."""

    def __init__(self, client: FlaskClient, participant: Participant, visit: str = "d7") -> None:
        super().__init__(client)
        self.participant = participant
        self.visit = visit

    def start(self, language: str | None = None) -> TestResponse:
        """Sign in (once per browser) and bind this browser to the visit in staff-entry mode."""
        if self.client.get("/desk/").status_code != 200:
            if not db.session.scalar(select(func.count()).where(_STAFF.username == "walk-nurse")):
                make_staff("walk-nurse", sites=[make_site("SEH")])
                db.session.commit()
            assert self.sign_in("walk-nurse").status_code == 303
        visit = visit_of(self.participant, self.visit)
        return self.post(
            f"/desk/visits/{visit.id}/staff-entry",
            {
                "reason": "6MWT at the clinic",
                "language": language or self.participant.preferred_language,
            },
            page_url=f"/desk/participants/{self.participant.id}",
        )

    def part(self, screen: str, values: dict[str, Any], **extra: str) -> TestResponse:
        url = f"/visit/sixmwt/part/{screen}"
        page = self.client.get(url, query_string={k: v for k, v in extra.items() if k == "from"})
        data: dict[str, Any] = {"csrf_token": csrf_of(page), "action": "next", **extra}
        for key, value in values.items():
            if key == "stop_time_s" and value:
                minutes, seconds = value.split(":")
                data["stop_time_s_min"], data["stop_time_s_sec"] = minutes, seconds
            else:
                data[key] = value
        return self.client.post(url, data=data)

    def timer_page(self) -> tuple[str, str]:
        """(CSRF token, walk version) as the timer page hands them to its script."""
        page = self.client.get("/visit/sixmwt/timer")
        version = re.search(r'data-walk-version="([0-9a-f]+)"', _text(page))
        assert version
        return csrf_of(page), version.group(1)

    def timer(self, started_from: str | None = None, **fields: str) -> TestResponse:
        token, version = self.timer_page()
        data = {
            "csrf_token": token,
            "walk_version": version if started_from is None else started_from,
            "run_id": "run-0001-abcd",
            "laps": "7",
            "lap_times": json.dumps([40, 85, 131, 190, 240, 290, 340]),
            "pauses": "[]",
            "elapsed_s": "360",
            "ended_early": "0",
            "partial_lap_m": "12",
            **fields,
        }
        return self.client.post(
            "/visit/sixmwt/timer", data=data, headers={"Accept": "application/json"}
        )


def _d7_walker(client: FlaskClient, language: str = "zh_Hans") -> Walker:
    """Day 7 has only the 6MWT; Day 0 was a week ago so the D7 window is open today."""
    participant = make_participant(day0=TODAY - timedelta(days=7), language=language)
    db.session.commit()
    walker = Walker(client, participant)
    assert walker.start().status_code == 303
    return walker


def _draft(item: str) -> Any:
    row = db.session.scalar(select(DraftAnswer).where(DraftAnswer.item_id == item))
    return None if row is None else row.value


def _text(response: TestResponse, status: int = 200) -> str:
    """A page's text, once it is the page expected (never an error page read by mistake)."""
    assert response.status_code == status, (response.status_code, response.location)
    return response.get_data(as_text=True)


def test_day7_staff_entry_leads_to_the_walk_log(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    visit = _text(client.get("/visit"))
    assert "6分钟步行试验" in visit and "心衰生活质量问卷" not in visit
    assert 'href="/visit/sixmwt"' in visit
    intro = _text(client.get("/visit/sixmwt"))
    assert walker.participant.study_id in intro
    assert "步行前" in intro and "步行后" in intro and "/visit/sixmwt/timer" in intro


def test_each_part_is_saved_and_the_link_resumes_where_it_stopped(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    saved = walker.part("before", {**GOOD["before"], "test_date": D7_DATE})
    assert saved.status_code == 303 and saved.location.endswith("/visit/sixmwt/part/walk")
    assert _draft("weight_kg") == 70 and _draft("baseline_dyspnoea") == 0.5
    assert _draft("test_date") == D7_DATE and _draft("start_time") == "09:30"
    other_device = Walker(client.application.test_client(), walker.participant)
    assert other_device.start().status_code == 303
    page = _text(other_device.client.get("/visit/sixmwt/part/before"))
    assert 'value="70"' in page and 'value="0.5" checked' in page


def test_a_value_beyond_a_hard_limit_is_refused_kept_on_screen_and_the_rest_is_saved(
    client: FlaskClient,
) -> None:
    walker = _d7_walker(client)
    refused = walker.part("before", {**GOOD["before"], "test_date": D7_DATE, "weight_kg": "300"})
    assert refused.status_code == 400
    page = _text(refused, 400)
    assert "请填写25至250 kg之间的数" in page and 'value="300"' in page
    assert 'aria-invalid="true"' in page
    assert _draft("weight_kg") is None and _draft("resting_sbp") == 120


def test_an_unusual_value_needs_a_yes_before_moving_on(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    values = {**GOOD["before"], "test_date": D7_DATE, "weight_kg": "160"}
    asked = walker.part("before", values)
    assert asked.status_code == 200
    page = _text(asked)
    assert "这个数不太常见：通常在35至150 kg之间。请确认是否正确。" in page
    token = re.search(r'name="confirm" value="([^"]+)"', page)
    assert token and _draft("weight_kg") == 160  # kept, so nothing typed is lost
    confirmed = walker.part("before", values, confirm=token.group(1))
    assert confirmed.status_code == 303 and confirmed.location.endswith("/part/walk")
    assert _draft("confirmations") == {"weight_kg:unusual_value": [160]}


def test_a_yes_holds_only_for_the_value_it_was_given_for(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    values = {**GOOD["before"], "test_date": D7_DATE, "weight_kg": "160"}
    token = re.search(r'name="confirm" value="([^"]+)"', _text(walker.part("before", values)))
    assert token
    changed = walker.part("before", {**values, "weight_kg": "170"}, confirm=token.group(1))
    assert changed.status_code == 200 and "170" in _text(changed)
    assert _draft("confirmations") in (None, {})


def test_previous_keeps_an_unconfirmed_value_and_review_flags_it(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    back = walker.part(
        "before", {**GOOD["before"], "test_date": D7_DATE, "baseline_hr": "130"}, action="back"
    )
    assert back.status_code == 303 and back.location.endswith("/visit/sixmwt")
    review = _text(client.get("/visit/sixmwt/review"))
    assert "通常在40至120次/分钟之间" in review and "/visit/sixmwt/submit" not in review


def test_oxygen_details_apply_only_with_oxygen(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    walker.part("before", {**GOOD["before"], "test_date": D7_DATE, "supplemental_o2": "yes"})
    review = _text(client.get("/visit/sixmwt/review"))
    assert review.count("还没有填写") == 2 + 3 + 1  # flow, device; the walk part; assessor
    walker.part(
        "before",
        {
            **GOOD["before"],
            "test_date": D7_DATE,
            "supplemental_o2": "yes",
            "o2_flow_l_min": "2",
            "o2_device": "nasal_cannula",
        },
    )
    assert _draft("o2_flow_l_min") == 2
    walker.part(
        "before",
        {
            **GOOD["before"],
            "test_date": D7_DATE,
            "supplemental_o2": "no",
            "o2_flow_l_min": "2",
            "o2_device": "nasal_cannula",
        },
    )
    assert _draft("o2_flow_l_min") is None and _draft("o2_device") is None


def test_the_whole_log_is_submitted_and_sealed(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    walker.part("before", {**GOOD["before"], "test_date": D7_DATE})
    assert walker.part("walk", GOOD["walk"]).location.endswith("/part/after")
    assert walker.part("after", GOOD["after"]).location.endswith("/visit/sixmwt/review")
    review = _text(client.get("/visit/sixmwt/review"))
    assert "步行距离：432米" in review and "7圈 × 60米 + 12米" in review
    assert "还没有填写" not in review
    confirm = client.get("/visit/sixmwt/submit")
    assert "提交后，回答就不能再修改了" in _text(confirm)
    done = client.post("/visit/sixmwt/submit", data={"csrf_token": csrf_of(confirm)})
    assert done.location.endswith("/visit/sixmwt/receipt")
    record = db.session.scalars(select(Response)).one()
    assert record.instrument_id == "sixmwt" and record.scores["distance_m"] == 432
    assert record.answers["worksheet"]["symptoms"] == ["none"]
    assert record.receipt_number in _text(client.get(done.location))
    assert db.session.scalar(select(func.count()).select_from(DraftAnswer)) == 0


def test_an_incomplete_log_cannot_be_submitted(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    walker.part("before", {**GOOD["before"], "test_date": D7_DATE})
    assert client.get("/visit/sixmwt/submit").location.endswith("/visit/sixmwt/review")
    page = client.get("/visit/sixmwt/part/after")
    posted = client.post("/visit/sixmwt/submit", data={"csrf_token": csrf_of(page)})
    assert posted.location.endswith("/visit/sixmwt/review")
    assert db.session.scalar(select(func.count()).select_from(Response)) == 0


def test_the_timer_fills_the_walk_part_for_the_assessor_to_check(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    walker.part("before", {**GOOD["before"], "test_date": D7_DATE})
    sent = walker.timer(pauses=json.dumps([[130.4, 160.0]]))
    assert sent.status_code == 200 and sent.json == {"ok": True, "next": "/visit/sixmwt/part/walk"}
    assert (_draft("laps"), _draft("partial_lap_m")) == (7, 12)
    assert (_draft("stopped_early"), _draft("stop_time_s"), _draft("stop_reason")) == (
        "yes",
        130,
        None,
    )
    assert _draft("timer")["pauses"] == [[130.4, 160.0]]
    page = _text(client.get("/visit/sixmwt/part/walk"))
    assert "计时器记录" in page and "已记录7圈" in page and "2:10暂停" in page
    assert "步行距离：432米" in page
    again = walker.timer(pauses=json.dumps([[130.4, 160.0]]))
    assert again.json["ok"]
    saves = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "answer.saved")).all()
    assert sum(1 for e in saves if e.details["item"] == "timer") == 1  # a resend changes nothing


def test_a_no_over_a_stop_the_timer_recorded_needs_a_yes(client: FlaskClient) -> None:
    """The timer saw a pause at 2:10; the assessor answers "no" to "stopped or paused?" (a pause
    tapped by mistake): the log asks before it moves on, and the record keeps the yes."""
    walker = _d7_walker(client)
    walker.part("before", {**GOOD["before"], "test_date": D7_DATE})
    assert walker.timer(pauses=json.dumps([[130.4, 160.0]])).json["ok"]
    asked = walker.part("walk", GOOD["walk"])  # laps 7, partial 12, stopped: no
    page = _text(asked)  # the page again, with its question
    assert "步行计时器记录到2:10时停下过。确定选“没有”吗？" in page
    assert _draft("stopped_early") == "no"  # kept, with the question beside it
    token = re.search(r'name="confirm" value="([^"]+)"', page)
    assert token and "timer_recorded_stop" in token.group(1)
    confirmed = walker.part("walk", GOOD["walk"], confirm=html.unescape(token.group(1)))
    assert confirmed.status_code == 303 and confirmed.location.endswith("/part/after")
    assert _draft("confirmations") == {"stopped_early:timer_recorded_stop": ["no", "run-0001-abcd"]}
    walker.part("after", GOOD["after"])
    confirm = client.get("/visit/sixmwt/submit")
    done = client.post("/visit/sixmwt/submit", data={"csrf_token": csrf_of(confirm)})
    assert done.location.endswith("/visit/sixmwt/receipt")
    record = db.session.scalars(select(Response)).one()
    assert "stopped_early:timer_recorded_stop" in record.answers["confirmed_warnings"]
    shown = _text(client.get(f"/desk/records/{record.id}"))
    assert "计时器记录到停下，录入时已确认选“没有”" in shown


def test_a_walk_ended_early_by_the_timer_records_when(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    sent = walker.timer(
        laps="2", lap_times="[70, 150]", elapsed_s="200.5", ended_early="1", partial_lap_m="30"
    )
    assert sent.json["ok"]
    assert (_draft("stopped_early"), _draft("stop_time_s")) == ("yes", 200)


def test_the_timer_reports_a_refused_partial_lap(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    walker.part("before", {**GOOD["before"], "test_date": D7_DATE})
    sent = walker.timer(partial_lap_m="75")
    assert (
        sent.status_code == 400
        and sent.json["errors"]["partial_lap_m"]
        == "最后不足一圈的距离必须短于一圈（60米）。如果走满了一圈，请把圈数加1。"
    )
    assert _draft("laps") == 7 and _draft("partial_lap_m") is None


def test_a_malformed_timer_result_is_refused_and_changes_nothing(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    sent = walker.timer(laps="3")  # seven lap times for three laps
    assert sent.status_code == 400 and sent.json == {"ok": False, "invalid": True}
    assert _draft("laps") is None


def test_the_timer_after_submission_says_so(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    page = client.get("/visit/sixmwt/timer")
    token = csrf_of(page)
    walker.part("before", {**GOOD["before"], "test_date": D7_DATE})
    walker.part("walk", GOOD["walk"])
    walker.part("after", GOOD["after"])
    assert client.post("/visit/sixmwt/submit", data={"csrf_token": token}).status_code == 303
    late = client.post(
        "/visit/sixmwt/timer",
        data={"csrf_token": token, "run_id": "x" * 10},
        headers={"Accept": "application/json"},
    )
    assert late.status_code == 409 and late.json["submitted"]


def test_the_timer_page_works_without_javascript_by_pointing_to_the_hand_form(
    client: FlaskClient,
) -> None:
    _d7_walker(client)
    page = _text(client.get("/visit/sixmwt/timer"))
    assert 'id="timer-needs-js"' in page and 'id="walk-timer" class="walk-timer" hidden' in page
    assert 'href="/visit/sixmwt/part/walk"' in page
    assert (
        "<script" in page
        and re.search(r"js/walk-timer\.[0-9a-f]{12}\.js", page)
        and "<script>" not in page
    )
    phrases = json.loads(re.search(r'data-phrases="([^"]+)"', page).group(1).replace("&#34;", '"'))
    assert phrases["zh_Hans"]["phrases"][0] == {"at": 60, "text": "您做得很好。还有5分钟。"}
    assert phrases["en"]["phrases"][2]["text"] == "You are doing well. You are halfway done."


def test_the_walk_timer_phrases_follow_the_patients_language(client: FlaskClient) -> None:
    _d7_walker(client, language="en")
    page = _text(client.get("/visit/sixmwt/timer", query_string={"lang": "zh_Hans"}))
    assert 'data-patient-lang="en"' in page and "开始计时6分钟" in page


def test_a_language_switch_keeps_every_value(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    walker.part("before", {**GOOD["before"], "test_date": D7_DATE})
    page = _text(client.get("/visit/sixmwt/part/before", query_string={"lang": "en"}))
    assert (
        "Before the walk" in page and 'value="70"' in page and "Body weight at this visit" in page
    )
    walker.part("walk", GOOD["walk"])
    walker.part("after", GOOD["after"])
    confirm = client.get("/visit/sixmwt/submit")
    done = client.post("/visit/sixmwt/submit", data={"csrf_token": csrf_of(confirm)})
    assert done.status_code == 303 and done.location.endswith("/visit/sixmwt/receipt")
    record = db.session.scalars(select(Response)).one()
    assert record.language == "en" and record.languages == ["en", "zh_Hans"]
    assert record.item_languages["weight_kg"] == "zh_Hans"


def test_full_width_digits_from_a_chinese_keyboard_are_read(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    walker.part("before", {**GOOD["before"], "test_date": D7_DATE, "weight_kg": "６８．５"})
    assert _draft("weight_kg") == 68.5


def test_the_patient_link_never_opens_the_walk_log(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant()))
    landing = _text(patient.open_link())
    assert "在医院由研究护士陪同完成" in landing
    assert patient.start().location.endswith("/visit/mlhfq")
    for path in ("/visit/sixmwt", "/visit/sixmwt/part/before", "/visit/sixmwt/timer"):
        refused = client.get(path)
        assert refused.status_code == 403, path
        assert "在医院由研究护士陪同完成" in refused.get_data(as_text=True)
    patient.answer_all([1] * 21)
    receipt = patient.submit()
    page = _text(client.get(receipt.location))
    assert 'href="/visit/sixmwt"' not in page and "还有一部分" not in page
    visit = _text(client.get("/visit"))
    assert "6分钟步行试验" in visit and "已完成" in visit
    assert 'href="/visit/sixmwt"' not in visit and "在医院由研究护士陪同完成" in visit


def test_pages_of_one_kind_do_not_open_for_the_other(client: FlaskClient) -> None:
    participant = make_participant()
    db.session.commit()
    Walker(client, participant, "baseline").start()
    assert client.get("/visit/sixmwt/q/1").status_code == 404
    assert client.get("/visit/mlhfq/part/before").status_code == 404
    assert client.get("/visit/mlhfq/timer").status_code == 404
    assert client.get("/visit/sixmwt/part/nosuch").status_code == 404


def test_the_walk_log_is_not_offered_where_the_visit_has_none(client: FlaskClient) -> None:
    _d7_walker(client)
    assert client.get("/visit/mlhfq").status_code == 404  # Day 7 has no questionnaire


def test_walk_log_pages_need_a_started_visit(client: FlaskClient) -> None:
    for path in (
        "/visit/sixmwt",
        "/visit/sixmwt/part/before",
        "/visit/sixmwt/timer",
        "/visit/sixmwt/review",
    ):
        assert client.get(path).status_code == 401, path


def test_opening_walk_log_pages_changes_nothing(client: FlaskClient) -> None:
    _d7_walker(client)
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    for path in (
        "/visit/sixmwt",
        "/visit/sixmwt/part/before",
        "/visit/sixmwt/part/walk",
        "/visit/sixmwt/timer",
        "/visit/sixmwt/review",
        "/visit/sixmwt/submit",
    ):
        # Pages (200) or, for a log not yet complete, a redirect to where it is not (303).
        assert client.get(path).status_code in (200, 303), path
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert db.session.scalar(select(func.count()).select_from(DraftAnswer)) == 0


def test_a_late_timing_never_overwrites_values_typed_on_another_device(client: FlaskClient) -> None:
    walker = _d7_walker(client)
    _token, seen_at_start = walker.timer_page()  # the assessor's phone starts timing
    walker.part("walk", {"laps": "6", "partial_lap_m": "30", "stopped_early": "no"})  # by hand
    late = walker.timer(started_from=seen_at_start)
    assert late.status_code == 409 and late.json == {"ok": False, "conflict": True}
    assert (_draft("laps"), _draft("timer")) == (6, None)
    replaced = walker.timer(started_from=seen_at_start, replace="1")
    assert replaced.json["ok"] and _draft("laps") == 7 and _draft("timer")["run_id"]
    again = walker.timer(started_from=seen_at_start)  # the same timing sent twice is no conflict
    assert again.json["ok"]


def test_the_walk_log_admits_only_staff_entry(client: FlaskClient) -> None:
    participant = make_participant()
    token = issue_token(participant)
    db.session.commit()
    app = client.application
    paths = ("/visit/sixmwt/part/before", "/visit/sixmwt/timer")
    anonymous = app.test_client()
    patient = app.test_client()
    Patient(patient, token).start()
    monitor_browser = StaffBrowser(app.test_client())
    make_staff("monitor-w", Role.MONITOR, [participant.site])
    db.session.commit()
    monitor_browser.sign_in("monitor-w")
    nurse = Walker(app.test_client(), participant, "baseline")
    nurse.start()
    for path in paths:
        assert anonymous.get(path).status_code == 401, path
        assert patient.get(path).status_code == 403, path
        assert monitor_browser.get(path).status_code == 401, path
        assert nurse.client.get(path).status_code == 200, path
