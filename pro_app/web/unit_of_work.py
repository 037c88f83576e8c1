"""One unit of work per request, in the spirit of indico's `RH.process`.

Views never commit. When the view returns a success (status below 400) the request's changes are
committed; when it returns a refusal (400 and up) or raises, they are rolled back. The few
refusals whose changes must stay (a failed sign-in is counted; the part of a worksheet screen that
was saved while another field was refused) say so with `keep_changes()`. A step that must be
committed before the request goes on (a sign-in attempt is counted before argon2 runs) uses
`in_own_transaction()`.

Bookkeeping that must happen whatever the request's fate (a staff session's idle clock) is queued
with `afterwards()` and runs in its own short transaction once the request's is over.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, Response, g

from pro_app.extensions import db

T = TypeVar("T")
_KEEP = "unit_of_work_keep"
_AFTERWARDS = "unit_of_work_afterwards"


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


def discard() -> None:
    """Forget what this request changed so far (an error handler calls this first)."""
    db.session.rollback()


def _finish(response: Response) -> Response:
    if response.status_code < 400 or g.get(_KEEP):
        db.session.commit()
    else:
        db.session.rollback()
    steps: list[Callable[[], None]] = g.pop(_AFTERWARDS, [])
    for step in steps:
        step()
        db.session.commit()
    return response


def init_app(app: Flask) -> None:
    # Registered first, so it runs last: after every other after_request function.
    app.after_request(_finish)
