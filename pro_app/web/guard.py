"""Refusals at the edge of the request, before any view, session or database work.

Input no page can mean is refused here with a bilingual 400 page that changes nothing:
- a control character (NUL and the other C0 characters, DEL) in the path, a query value or a
  header; in a form value the same, except the tab and line breaks a text box may hold;
- a body that cannot be read (a malformed chunked body, a broken multipart body);
- a file sent where the page expects only text (every form but the PDF check's upload).

Integer ids in URLs are bounded to the 32-bit INTEGER range by the `int` converter installed
here (`BoundedInt`): a larger id is a 404, never a database error. `install_converters` must run
before the blueprints register their rules.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter, Map

# Every C0 control character and DEL: nothing a person types in a path, a query or a header.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# In a form value a text box may hold tabs and line breaks; the rest is refused.
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Headers may carry a tab (folded values); nothing else below the space.
_CONTROL_IN_HEADER = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
# The largest id a 32-bit INTEGER column holds (SQLite's are 64-bit, PostgreSQL's are not).
MAX_ID = 2**31 - 1
F = TypeVar("F", bound=Callable[..., Any])


class InputRefused(BadRequest):
    """A request no page can mean: refused before any view runs; nothing is changed."""

    code = 400

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BoundedInt(IntegerConverter):
    """Flask's `int` converter, bounded to 0..2^31-1: larger ids do not match (404)."""

    def __init__(
        self,
        url_map: Map,
        fixed_digits: int = 0,
        min: int | None = None,
        max: int | None = None,
        signed: bool = False,
    ) -> None:
        super().__init__(
            url_map,
            fixed_digits=fixed_digits,
            min=0 if min is None else min,
            max=MAX_ID if max is None else max,
            signed=signed,
        )


def install_converters(app: Flask) -> None:
    app.url_map.converters["int"] = BoundedInt


def accepts_files(view: F) -> F:
    """Mark a view that takes a file upload; every other view refuses one."""
    view.accepts_files = True  # type: ignore[attr-defined]
    return view


def _view_accepts_files() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "accepts_files", False))


def has_control(value: str, *, text: bool = False) -> bool:
    return bool((_CONTROL_IN_TEXT if text else _CONTROL).search(value))


def _any(values: Iterable[str], *, text: bool = False) -> bool:
    return any(has_control(value, text=text) for value in values)


def check_request() -> None:
    """The `before_request` guard (registered first, so it runs before every other)."""
    if has_control(request.path):
        raise InputRefused("control character in the path")
    if _any(request.args.keys()) or _any(request.args.values()):
        raise InputRefused("control character in the query")
    for name, value in request.headers.items():
        if _CONTROL_IN_HEADER.search(name) or _CONTROL_IN_HEADER.search(value):
            raise InputRefused("control character in a header")
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    try:
        # Parse the whole body now: a broken one is refused here, not half-way through a view.
        form = request.form
        files = request.files
    except HTTPException as error:
        if error.code != 400:
            raise  # too large (413): already a clear answer
        raise InputRefused("unreadable body") from None
    except Exception:  # whatever the server's reader raises on a broken body
        raise InputRefused("unreadable body") from None
    if files and not _view_accepts_files():
        raise InputRefused("a file where text was expected")
    if _any(upload.filename or "" for upload in files.values()):
        raise InputRefused("control character in a file name")
    if _any(form.keys()) or _any(form.values(), text=True):
        raise InputRefused("control character in a form value")


def init_app(app: Flask) -> None:
    """Install the bounded `int` converter and the guard; before any blueprint is registered."""
    install_converters(app)
    app.before_request_funcs.setdefault(None, []).insert(0, check_request)
