"""`flask staff ...` and the demo command's staff accounts."""

from __future__ import annotations

from flask.testing import FlaskCliRunner
from sqlalchemy import func, select

from pro_app.extensions import db
from pro_app.models import AuditEvent, Participant, Role, StaffSession, StaffUser
from tests.actions import StaffBrowser
from tests.factories import make_site


def _user(username: str) -> StaffUser | None:
    db.session.expire_all()
    return db.session.scalar(select(StaffUser).where(StaffUser.username == username))


def test_create_reads_the_password_from_stdin_and_forces_a_change(runner: FlaskCliRunner) -> None:
    make_site("SEH")
    make_site("XYZ")
    db.session.commit()
    result = runner.invoke(
        args=[
            "staff",
            "create",
            "Nurse.Li",
            "--role",
            "coordinator",
            "--site",
            "SEH",
            "--site",
            "XYZ",
        ],
        input="a-long-enough-secret\n",
    )
    assert result.exit_code == 0, result.output
    staff = _user("nurse.li")
    assert staff is not None and staff.role is Role.COORDINATOR
    assert {site.code for site in staff.sites} == {"SEH", "XYZ"}
    assert staff.must_change_password and staff.password_hash.startswith("$argon2id$")
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.created")).one()
    assert event.actor == "system:cli" and "a-long-enough-secret" not in str(event.details)


def test_create_refusals_exit_nonzero_and_change_nothing(runner: FlaskCliRunner) -> None:
    make_site("SEH")
    db.session.commit()
    cases = [
        (
            ["staff", "create", "li", "--role", "coordinator", "--site", "SEH"],
            "a-long-enough-secret",
        ),
        (
            ["staff", "create", "nurse", "--role", "coordinator", "--site", "NOPE"],
            "a-long-enough-secret",
        ),
        (["staff", "create", "nurse", "--role", "coordinator", "--site", "SEH"], "short"),
        (
            ["staff", "create", "nurse", "--role", "coordinator", "--site", "SEH"],
            "nurse-nurse-nurse",
        ),
        (["staff", "create", "nurse", "--role", "chief", "--site", "SEH"], "a-long-enough-secret"),
    ]
    for args, password in cases:
        result = runner.invoke(args=args, input=password + "\n")
        assert result.exit_code != 0, args
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 0


def test_disable_reset_password_and_set_role(runner: FlaskCliRunner) -> None:
    make_site("SEH")
    db.session.commit()
    runner.invoke(
        args=["staff", "create", "nurse", "--role", "coordinator", "--site", "SEH"],
        input="a-long-enough-secret\n",
    )
    browser = StaffBrowser(runner.app.test_client())
    assert browser.sign_in("nurse", "a-long-enough-secret").status_code == 303

    result = runner.invoke(args=["staff", "reset-password", "nurse"], input="another-long-secret\n")
    assert result.exit_code == 0, result.output
    assert browser.get("/staff/account").status_code == 302, "reset signs out everywhere"
    assert browser.sign_in("nurse", "another-long-secret").status_code == 303

    assert runner.invoke(args=["staff", "set-role", "nurse", "monitor"]).exit_code == 0
    user = _user("nurse")
    assert user is not None and user.role is Role.MONITOR
    assert runner.invoke(args=["staff", "disable", "nurse"]).exit_code == 0
    user = _user("nurse")
    assert user is not None and not user.is_active
    open_sessions = db.session.scalar(
        select(func.count()).select_from(StaffSession).where(StaffSession.ended_at.is_(None))
    )
    assert open_sessions == 0
    listing = runner.invoke(args=["staff", "list"]).output
    assert "nurse" in listing and "disabled" in listing
    assert runner.invoke(args=["staff", "disable", "nobody"]).exit_code == 1
    actions = [e.action for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]
    for expected in ("staff.password_reset", "staff.role_changed", "staff.disabled"):
        assert expected in actions


def test_demo_prints_staff_logins_once_and_keeps_data(runner: FlaskCliRunner) -> None:
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    for role in ("coordinator", "monitor", "admin"):
        assert f"demo-{role}  password " in first.output
    assert "/staff/login" in first.output
    line = next(line for line in first.output.splitlines() if "demo-coordinator  password" in line)
    password = line.split("password ")[1].split()[0]
    browser = StaffBrowser(runner.app.test_client())
    signed_in = browser.sign_in("demo-coordinator", password)
    assert signed_in.status_code == 303

    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0, second.output
    assert "password " not in second.output.replace("reset-password", "")
    assert "staff reset-password demo-coordinator" in second.output
    assert db.session.scalar(select(func.count()).select_from(Participant)) == 1
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 3
