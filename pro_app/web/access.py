"""Who is signed in (`current_staff`) and the guard each staff area registers (`require_role`).

A new staff area is one blueprint plus one line:

    bp = Blueprint("monitor", __name__, url_prefix="/monitor")
    bp.before_request(require_role(Role.MONITOR))

Inside its views, `current_staff()` is the signed-in user (never None there) and
`current_staff().site_ids` the sites whose data they may see.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for
from werkzeug.wrappers import Response as WerkzeugResponse

from pro_app.config import Settings
from pro_app.models import Role, StaffSession, StaffUser
from pro_app.services import signin
from pro_app.web import unit_of_work

SESSION_KEY = "staff_session"
ALL_ROLES = tuple(Role)
# Pages a user who must change their password can still reach.
_PASSWORD_CHANGE_ENDPOINTS = frozenset({"account.change_password", "account.language"})

Guard = Callable[[], WerkzeugResponse | None]


def settings() -> Settings:
    value: Settings = current_app.config["PRO_SETTINGS"]
    return value


def current_staff() -> StaffUser | None:
    """The signed-in staff user of this request, or None. Reading it never writes: ending an idle
    session and moving the idle clock run in their own transaction after the request's."""
    if "staff" in g:
        staff: StaffUser | None = g.staff
        return staff
    g.staff = None
    g.staff_session = None
    key = session.get(SESSION_KEY)
    if isinstance(key, str):
        resumed = signin.resume(key, settings().idle_minutes)
        if resumed.session is None:
            session.pop(SESSION_KEY, None)
            g.staff_session_ended = resumed.ended
            if resumed.ended is not None and resumed.ended_id is not None:
                unit_of_work.afterwards(partial(signin.expire, resumed.ended_id, resumed.ended))
        else:
            g.staff = resumed.session.staff
            g.staff_session = resumed.session
            if resumed.touch:
                unit_of_work.afterwards(partial(signin.touch, resumed.session.id))
    signed_in: StaffUser | None = g.staff
    return signed_in


def current_staff_session() -> StaffSession | None:
    current_staff()
    row: StaffSession | None = g.get("staff_session")
    return row


def require_role(*roles: Role) -> Guard:
    """A `before_request` guard: signed in, password changed, and one of `roles`; else out."""
    allowed = frozenset(roles)

    def guard() -> WerkzeugResponse | None:
        staff = current_staff()
        if staff is None:
            return redirect_to_sign_in()
        # Staff pages speak the staff member's own language, whatever the browser last chose.
        g.staff_language = staff.language
        if staff.must_change_password and request.endpoint not in _PASSWORD_CHANGE_ENDPOINTS:
            return redirect(url_for("account.change_password"))
        if staff.role not in allowed:
            abort(403)
        return None

    return guard


def redirect_to_sign_in() -> WerkzeugResponse:
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    args: dict[str, Any] = {}
    if target and safe_next(target):
        args["next"] = target
    if g.get("staff_session_ended") in ("idle", "max_age"):
        args["expired"] = "1"
    return redirect(url_for("auth.login", **args))


# A local path: no space, control character (C0, DEL, C1) or backslash anywhere.
_LOCAL_PATH = re.compile(r"/[^\x00-\x20\x7f-\x9f\\]*")


def safe_next(target: str | None) -> str | None:
    """A local path to return to after sign-in; anything else (another host, //evil, CR/LF or
    any control character, a backslash) is dropped: decided before any session or audit write."""
    if not isinstance(target, str) or len(target) > 2000 or not _LOCAL_PATH.fullmatch(target):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def begin_session(staff: StaffUser, *, second_factor: bool) -> None:
    """A fresh cookie for a fresh session: nothing from before sign-in is carried over."""
    key = signin.start_session(staff, second_factor=second_factor)
    session.clear()
    session[SESSION_KEY] = key


def home_for(staff: StaffUser) -> str:
    if staff.role is Role.COORDINATOR:
        return url_for("coordinator.board")
    if staff.role is Role.ADMIN:
        return url_for("admin.staff_list")
    return url_for("monitor.records")
