"""Reading and writing transactions: a GET reads (on SQLite a write inside it fails loudly), a POST
writes, a GET endpoint that writes carries the named marker, and `settle` ends the transaction
before the page is rendered."""

from __future__ import annotations

import pytest
from flask import Flask, g
from flask import Response as FlaskResponse
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError

from pro_app import database
from pro_app.extensions import db
from pro_app.models import Site
from pro_app.web import unit_of_work
from tests.factories import make_site


def _unsaved_site(code: str) -> Site:
    site = Site(
        code=code,
        name_en=code,
        name_zh=code,
        timezone="Asia/Shanghai",
        study_id_pattern=r"^X$",
        contact_en="-",
        contact_zh="-",
    )
    db.session.add(site)  # pending until a flush or commit
    return site


def _new_site(code: str) -> None:
    _unsaved_site(code)
    db.session.flush()


def test_a_get_reads_and_a_post_writes(app_ctx: Flask) -> None:
    with app_ctx.test_request_context("/visit", method="GET"):
        unit_of_work._begin()
        assert database.is_reading()
    with app_ctx.test_request_context("/visit", method="POST"):
        unit_of_work._begin()
        assert not database.is_reading()
    with app_ctx.test_request_context("/monitor/exports/SEH/csv", method="GET"):
        unit_of_work._begin()
        assert not database.is_reading()  # marked: @unit_of_work.writes_on_get


def test_the_marked_get_endpoints_are_the_audited_downloads(app_ctx: Flask) -> None:
    marked = sorted(
        endpoint
        for endpoint, view in app_ctx.view_functions.items()
        if getattr(view, "_pro_writes_on_get", False)
    )
    assert marked == [
        "monitor.download_pdf",
        "monitor.export_download",
        "monitor.participant_binder",
        "monitor.site_binder",
    ]


@pytest.mark.sqlite_only  # PostgreSQL's readers take no locks: it needs no guard
def test_a_write_inside_a_reading_transaction_fails_loudly(app_ctx: Flask) -> None:
    make_site("SEH")
    db.session.commit()
    with app_ctx.app_context(), database.reading():
        assert db.session.scalar(select(Site.code).where(Site.code == "SEH")) == "SEH"
        with pytest.raises(OperationalError, match="readonly"):
            _new_site("RO1")
        db.session.rollback()
    # The flag ends with the reading transaction: the connection writes again.
    with app_ctx.app_context():
        _new_site("RW1")
        db.session.commit()


def test_settle_commits_before_rendering_and_reads_afterwards(app_ctx: Flask) -> None:
    # Each block is a request of its own: its own app context, so its own session.
    with app_ctx.app_context(), app_ctx.test_request_context("/visit/mlhfq/q/1", method="POST"):
        unit_of_work._begin()
        _new_site("ST1")
        unit_of_work.keep_changes()
        unit_of_work.settle(refused=True)  # kept: committed now, before any page
        assert g.get("unit_of_work_settled") and database.is_reading()
        assert db.session.scalar(select(Site.code).where(Site.code == "ST1")) == "ST1"
        unit_of_work._end(None)
    with app_ctx.app_context(), app_ctx.test_request_context("/visit/mlhfq/q/1", method="POST"):
        unit_of_work._begin()
        _new_site("ST2")
        unit_of_work.settle(refused=True)  # a plain refusal: rolled back
        unit_of_work._end(None)
    with app_ctx.app_context():
        codes = set(db.session.scalars(select(Site.code).where(Site.code.in_(["ST1", "ST2"]))))
        assert codes == {"ST1"}


@pytest.mark.sqlite_only  # PostgreSQL's readers take no locks: it needs no guard
def test_a_reading_request_that_ends_with_a_change_still_fails_loudly(app_ctx: Flask) -> None:
    # A reading request ends without a commit; one left holding a change is committed, so the
    # query-only guard still refuses it instead of the change vanishing at teardown.
    with app_ctx.app_context(), app_ctx.test_request_context("/visit", method="GET"):
        unit_of_work._begin()
        db.session.scalar(select(Site.id).limit(1))
        _unsaved_site("RO2")
        with pytest.raises(OperationalError, match="readonly"):
            unit_of_work._finish(FlaskResponse("page"))
        db.session.rollback()
        unit_of_work._end(None)


def test_a_reading_request_commits_nothing_and_its_afterwards_steps_write(app_ctx: Flask) -> None:
    with app_ctx.app_context(), app_ctx.test_request_context("/visit", method="GET"):
        unit_of_work._begin()
        db.session.scalar(select(Site.id).limit(1))
        committed: list[object] = []
        event.listen(db.session(), "after_commit", committed.append)
        unit_of_work._finish(FlaskResponse("page"))
        assert committed == []  # nothing to commit: the session is closed instead
        unit_of_work.afterwards(lambda: _new_site("AF1"))
        unit_of_work._finish(FlaskResponse("page"))
        assert committed  # the step's own transaction
        unit_of_work._end(None)
    with app_ctx.app_context():
        assert db.session.scalar(select(Site.code).where(Site.code == "AF1")) == "AF1"
