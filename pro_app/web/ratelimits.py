"""Rate limits (Flask-Limiter): per client address on link look-ups that find no link and on
starts, per address and per username on sign-in. A limit hit answers 429 with a bilingual "too
many attempts, try again in N minutes" page (web/errorpages.py).

Storage: `memory://` (the default) counts inside one process: right for one gunicorn worker.
With several workers or hosts, set PRO_RATELIMIT_STORAGE_URI to a shared Redis
(`redis://host:6379/0`), or each worker counts on its own (docs/security.md). The limits
themselves are settings (PRO_RATELIMIT_LINKS, PRO_RATELIMIT_SIGNIN, PRO_RATELIMIT_ACCOUNT).

Views are marked here (`start_limit`, `signin_limit`); each app gets its own Limiter, which
`init_app` attaches the marked views to once the blueprints are registered.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "pro_rate_limits"
EXTENSION = "pro_limiter"
_WAIT = "pro_ratelimit_wait"


def _setting(name: str) -> Callable[[], str]:
    return lambda: str(current_app.config[name])


def _username() -> str:
    name = request.form.get("username", "")
    return "account:" + name.strip().lower()[:128]


def _mark(view: F, *limits: dict[str, Any]) -> F:
    setattr(view, _MARK, [*getattr(view, _MARK, []), *limits])
    return view


def start_limit(view: F) -> F:
    """Starts (POST /s/<token>) that succeed, per client address: each writes an audit event. The
    limit is checked before the view and counted after it only when the Start went through (its
    303), so a guesser's failed tries, counted by `count_unknown_link`, never hold up a patient's
    Start from the same address."""
    return _mark(
        view,
        {"limit_value": _setting("RATELIMIT_LINKS"), "scope": "start", "deduct_when": _started},
    )


def _started(response: Response) -> bool:
    return response.status_code == 303


def count_unknown_link() -> None:
    """Count a link look-up (GET or POST /s/<token>) that found no link against the client
    address; raises RateLimitExceeded (a 429) once the address is over the limit.

    Only look-ups that fail are counted: a guesser's every try is one, while a patient's real
    link always opens and starts, even when someone behind the same address (a mobile carrier's
    shared address, a hospital's Wi-Fi) is guessing; and opening a real link costs no round trip
    to the shared count (14% of a landing's instructions, and the round trip's wait)."""
    limiter = limiter_of(current_app)
    with limiter.shared_limit(
        _setting("RATELIMIT_LINKS"), scope="link", key_func=get_remote_address
    ):
        pass


def signin_limit(view: F) -> F:
    """Sign-in and code posts, per client address (one count for both pages)."""
    return _mark(
        view,
        {"limit_value": _setting("RATELIMIT_SIGNIN"), "methods": ["POST"], "scope": "signin"},
    )


def account_limit(view: F) -> F:
    """Sign-in posts per username typed, whoever types it and from wherever."""
    return _mark(
        view,
        {
            "limit_value": _setting("RATELIMIT_ACCOUNT"),
            "methods": ["POST"],
            "key_func": _username,
            "scope": "account",
        },
    )


def limiter_of(app: Flask) -> Limiter:
    found: Limiter = app.extensions[EXTENSION]
    return found


def seconds_to_wait() -> int:
    """Seconds until the limit this request hit lets it through again (at least 1): the 429's
    Retry-After. Read once a request, so the page's minutes and the header tell the same wait
    (read twice, a second could tick over between them: "2 minutes" and Retry-After 60)."""
    known: int | None = g.get(_WAIT)
    if known is None:
        current = limiter_of(current_app).current_limit
        known = 60 if current is None else max(1, math.ceil(current.reset_at - time.time()))
        setattr(g, _WAIT, known)
    return known


def minutes_to_wait() -> int:
    """Whole minutes until the limit this request hit lets it through again (at least 1)."""
    return max(1, math.ceil(seconds_to_wait() / 60))


def init_app(app: Flask) -> None:
    """A Limiter of this app's own (storage and switches from its config), and the limits of
    every marked view. Runs after the blueprints are registered."""
    # No X-RateLimit-* headers on the pages a limit lets through: a patient's browser has no use
    # for them, a guesser learns from them how many tries are left, and with the counts in Redis
    # they cost two more round trips on every link opened (18% of the landing). A refused request
    # gets Retry-After from the 429 page (web/errorpages.py).
    limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)
    limiter.init_app(app)
    # Every limit is a view's own, checked by its wrapper when the view runs. The limiter's
    # check before every request looks only for default and application limits, of which there
    # are none: removed, it saves a tenth of a millisecond on each of a patient's requests.
    if limiter.limit_manager.default_limits or limiter.limit_manager.application_limits:
        raise RuntimeError("default or application rate limits would need the limiter's hook")
    hooks = app.before_request_funcs.get(None, [])
    if limiter._check_request_limit in hooks:  # not there when RATELIMIT_ENABLED is off
        hooks.remove(limiter._check_request_limit)
    app.extensions[EXTENSION] = limiter
    limited_endpoints = set()
    for endpoint, view in list(app.view_functions.items()):
        limited: Any = view
        for spec in getattr(view, _MARK, []):
            # Shared: one count per scope across the views that carry it (GET and POST /s/...).
            limited = limiter.shared_limit(**{"key_func": get_remote_address, **spec})(limited)
            limited_endpoints.add(endpoint)
        # The limiter's wrapper checks the view's limits when the view is called.
        app.view_functions[endpoint] = limited
    _hooks_where_limited(app, limiter, frozenset(limited_endpoints))


def _hooks_where_limited(app: Flask, limiter: Limiter, endpoints: frozenset[str]) -> None:
    """The limiter's hooks after each request (its conditional deductions; its headers are
    off) and at its end (clearing what it noted) only have work where a limit was checked: they
    run for the marked views only. Elsewhere, for each of a patient's answers, they cost 4-7% of
    the request (the limiter builds its per-request state to find nothing in it)."""
    if not limiter.enabled:
        return  # RATELIMIT_ENABLED off: the limiter registered no hooks
    after = app.after_request_funcs.get(None, [])
    teardown = app.teardown_request_funcs.get(None, [])
    # How Limiter.init_app registers them (Flask-Limiter 4): a partial of the header hook, and a
    # bound method for the teardown. Not found means another version: fail at start, not later.
    headers = [f for f in after if isinstance(f, partial) and f.args == (limiter,)]
    release = [f for f in teardown if getattr(f, "__self__", None) is limiter]
    if len(headers) != 1 or len(release) != 1:
        raise RuntimeError("the rate limiter's request hooks are not where they were expected")

    def limiter_headers(response: Response) -> Response:
        if request.endpoint in endpoints:
            found: Response = headers[0](response)
            return found
        return response

    def limiter_release(error: BaseException | None = None) -> None:
        if request.endpoint in endpoints:
            release[0](error)

    after[after.index(headers[0])] = limiter_headers
    teardown[teardown.index(release[0])] = limiter_release
