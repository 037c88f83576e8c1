"""One unit of work per request, in the spirit of indico's `RH.process`.

Views never commit. When the view returns a success (status below 400) the request's changes are
committed; when it returns a refusal (400 and up) or raises, they are rolled back. The few
refusals whose changes must stay (a failed sign-in is counted; the part of a worksheet screen that
was saved while another field was refused) say so with `keep_changes()`. A step that must be
committed before the request goes on (a sign-in attempt is counted before argon2 runs) uses
`in_own_transaction()`.

Bookkeeping that must happen whatever the request's fate (a staff session's idle clock) is queued
with `afterwards()` and runs in its own short transaction once the request's is over.

GET and HEAD requests read: their transaction takes no write lock on SQLite, and a write inside it
fails loudly (pro_app/database.py). The few GET endpoints that write (a download that audits
itself) say so with the `@writes_on_get` marker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, current_app, g, request

from pro_app import database
from pro_app.extensions import db

T = TypeVar("T")
_KEEP = "unit_of_work_keep"
_AFTERWARDS = "unit_of_work_afterwards"
_SETTLED = "unit_of_work_settled"
_WRITES_ON_GET = "_pro_writes_on_get"
_READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

View = TypeVar("View", bound=Callable[..., object])


def writes_on_get(view: View) -> View:
    """Marks a GET endpoint that writes (a download that writes its audit event): its
    transaction takes the write lock like a POST's."""
    setattr(view, _WRITES_ON_GET, True)
    return view


def _view_writes() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _WRITES_ON_GET, False))


def _begin() -> None:
    database.set_reading(request.method in _READING_METHODS and not _view_writes())


def keep_changes() -> None:
    """This request answers with a refusal, but what it changed is part of the record."""
    setattr(g, _KEEP, True)


def afterwards(step: Callable[[], None]) -> None:
    """Run `step` in its own transaction after the request's own has committed or rolled back."""
    g.setdefault(_AFTERWARDS, []).append(step)


def in_own_transaction(step: Callable[[], T]) -> T:
    """Run `step` and commit what it wrote at once, before the rest of the request, even if it
    raises a refusal. Sign-in counts an attempt this way before checking the password, so no
    transaction (and no SQLite write lock) is held while argon2 runs."""
    try:
        return step()
    finally:
        db.session.commit()


def settle(*, refused: bool) -> None:
    """End the request's transaction now, before its page is rendered: commit, or roll back a
    refusal (unless `keep_changes()` was called). A writer holds SQLite's one write lock until
    then, so a page rendered after `settle` keeps no other writer waiting. Whatever the request
    reads afterwards runs in a reading transaction (a write would fail loudly)."""
    if refused and not g.get(_KEEP):
        db.session.rollback()
    else:
        db.session.commit()
    setattr(g, _SETTLED, True)
    database.set_reading(True)


def discard() -> None:
    """Forget what this request changed so far (an error handler calls this first)."""
    db.session.rollback()


def _unchanged() -> bool:
    session = db.session
    return not (session.new or session.dirty or session.deleted)


def _finish(response: Response) -> Response:
    steps: list[Callable[[], None]] = g.pop(_AFTERWARDS, [])
    if database.is_reading() and not steps and _unchanged():
        # A reading request (or one past `settle`) has nothing to commit: its statements ran in
        # autocommit. Closing the session ends its transaction for less than a commit costs.
        # (Pending changes would be a bug: they are committed below, where SQLite's query-only
        # guard makes them fail loudly.)
        db.session.close()
    elif g.get(_SETTLED):
        db.session.commit()  # only reads since `settle`
    elif response.status_code < 400 or g.get(_KEEP):
        db.session.commit()
    else:
        db.session.rollback()
    if steps:
        database.set_reading(False)
    for step in steps:
        step()
        db.session.commit()
    return response


def _end(_error: BaseException | None) -> None:
    database.set_reading(False)


def init_app(app: Flask) -> None:
    # Registered first, so it runs first among before_request and last among after_request.
    app.before_request(_begin)
    app.after_request(_finish)
    app.teardown_request(_end)
