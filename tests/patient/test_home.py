"""The site's address on its own (a link cut short, or the address `make run` prints): a page in
both languages that tells a patient where the questionnaire is and whom to call, and shows staff
where to sign in. It reads nothing of any participant and changes nothing."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent
from tests.factories import make_site

ZH = "如需填写问卷，请打开研究护士发给您的消息中的链接。"
EN = "To fill in your questionnaire, please open the link in the message from the study nurse."


def test_the_address_alone_says_where_the_questionnaire_is(client: FlaskClient) -> None:
    make_site()
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    page = client.get("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "PRIME-HFrEF研究" in text and "PRIME-HFrEF study" in text
    assert text.index(ZH) < text.index(EN)  # Chinese first, unless the patient prefers English
    assert text.count('href="tel:+862100000000"') == 2  # the study nurse, in each language
    assert '<a href="/staff/login">研究人员登录</a>' in text
    assert client.head("/").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == before
    assert "Set-Cookie" not in page.headers  # nothing remembered about this browser


def test_the_address_alone_in_english(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and '<html lang="en"' in text
    assert text.index(EN) < text.index(ZH)
    assert '<a href="/staff/login">Study staff: sign in</a>' in text
    # No site yet (a fresh install): no number to call, and still no error.
    assert "tel:" not in text


def test_the_address_alone_refuses_a_post(client: FlaskClient) -> None:
    page = client.post("/")
    text = page.get_data(as_text=True)
    assert page.status_code == 405
    assert "出了点问题" in text and "Something went wrong" in text  # the bilingual error page
