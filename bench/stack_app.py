"""The stack floor of the load bench: the patient flow of bench/hello_app.py built on the libraries
PRIME-PRO must use (the brief's fixed choices), each doing the least a real questionnaire needs,
and nothing of PRIME-PRO's own: no audit trail, no link checks, no security headers, no rate
limits, no scoring. Served by the very same gunicorn command, it is what the stack alone costs, so
the bench can say how much of PRIME-PRO's gap to the hello floor is the stack's and how much is
its own code.

Per request, as a minimal app on this stack would do it:
- Flask's signed session cookie, read on every request (the link's token, set by Start);
- Flask-WTF's CSRF token in every form, checked on every POST (CSRFProtect);
- Flask-Babel: the locale from the session, page strings from PRIME-PRO's own catalogue;
- a Jinja page that extends a base layout, from a loader that caches it compiled;
- SQLAlchemy 2's ORM session: one statement to read what the page shows, and on a POST one write
  and a commit (SQLite in WAL with full synchronous commits, as PRIME-PRO runs it);
- WhiteNoise in front, as PRIME-PRO has it.

    STACK_DATABASE_URL=sqlite:////tmp/stack.sqlite3 \\
        gunicorn --workers 4 --config python:pro_app.gunicorn_conf 'bench.stack_app:create_app()'

(the bench makes the tables first: `create_tables()`).
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from flask import Flask, abort, redirect, render_template, request, session
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from jinja2 import DictLoader
from sqlalchemy import JSON, Engine, ForeignKey, String, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from werkzeug.wrappers import Response
from whitenoise import WhiteNoise

ITEMS = 21
REPO = Path(__file__).resolve().parent.parent


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)


class Link(db.Model):  # type: ignore[name-defined]
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(8))


class Answer(db.Model):  # type: ignore[name-defined]
    token: Mapped[str] = mapped_column(ForeignKey("link.token"), primary_key=True)
    item: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int]


class Record(db.Model):  # type: ignore[name-defined]
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(ForeignKey("link.token"), index=True)
    answers: Mapped[dict[str, int]] = mapped_column(JSON)


@event.listens_for(Engine, "connect")
def _sqlite_as_prime_pro(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()


_BASE = """<!doctype html>
<html lang="{{ 'zh-Hans' if locale.startswith('zh') else 'en' }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{% block title %}{{ _("PRIME study") }}{% endblock %}</title>
<link rel="stylesheet" href="/static/css/app.css"></head>
<body><header class="topbar"><span class="brand">{{ _("PRIME study") }}</span></header>
<main id="main">{% block content %}{% endblock %}</main></body></html>"""

_TEMPLATES = {
    "base.html": _BASE,
    "landing.html": """{% extends "base.html" %}{% block content %}
<form method="post" action="/s/{{ token }}">
<input type="hidden" name="start_token" value="{{ token }}">
<button class="button primary" type="submit">{{ _("Start") }}</button></form>{% endblock %}""",
    "link.html": """{% extends "base.html" %}{% block content %}
<p>{{ text }}</p>
<a class="button primary" href="{{ href }}">{{ _("Next") }}</a>{% endblock %}""",
    "item.html": """{% extends "base.html" %}
{% block title %}{{ _("Question %(number)s of %(total)s", number=number, total=total) }}{% endblock %}
{% block content %}<form method="post" class="card item" novalidate>
<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<p class="progress-text">{{ _("Question %(number)s of %(total)s", number=number, total=total) }}</p>
<fieldset><legend><h1 class="question">{{ number }}</h1></legend>
{% for value in range(6) %}<label class="choice">
<input type="radio" name="answer" value="{{ value }}"{% if saved == value %} checked{% endif %}>
<span class="choice-number">{{ value }}</span></label>{% endfor %}</fieldset>
<button class="button secondary" type="submit" name="action" value="back">{{ _("Previous") }}</button>
<button class="button primary" type="submit" name="action" value="next">{{ _("Next") }}</button>
<p class="save-state">{% if saved is not none %}✓ {{ _("Saved") }}{% endif %}</p>
</form>{% endblock %}""",
    "submit.html": """{% extends "base.html" %}{% block content %}
<form method="post"><input type="hidden" name="csrf_token" value="{{ csrf_token() }}">
<button class="button primary" type="submit">{{ _("Start") }}</button></form>{% endblock %}""",
}


def create_app() -> Flask:
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY="stack-floor-secret-key",  # noqa: S106 (a bench app on 127.0.0.1, no data)
        SQLALCHEMY_DATABASE_URI=os.environ["STACK_DATABASE_URL"],
        BABEL_TRANSLATION_DIRECTORIES=str(REPO / "translations"),
        BABEL_DEFAULT_LOCALE="zh_Hans",
    )
    app.jinja_loader = DictLoader(_TEMPLATES)
    db.init_app(app)
    csrf = CSRFProtect(app)
    Babel(app, locale_selector=lambda: session.get("language", "zh_Hans"))

    @app.context_processor
    def locale() -> dict[str, str]:
        return {"locale": session.get("language", "zh_Hans")}

    @app.get("/s/<token>")
    def landing(token: str) -> str:
        db.session.get(Link, token)
        return render_template("landing.html", token=token)

    @app.post("/s/<token>")
    @csrf.exempt  # as PRIME-PRO's: a token bound to the link replaces the cookie-bound one
    def start(token: str) -> Response:
        if request.form.get("start_token") != token:
            abort(400)
        if db.session.get(Link, token) is None:
            db.session.add(Link(token=token, language="zh_Hans"))
        db.session.commit()
        session["token"] = token
        return redirect("/visit/mlhfq/intro", 303)

    def _link() -> Link:
        link = db.session.get(Link, session.get("token", ""))
        if link is None:
            abort(403)
        return link

    @app.get("/visit/mlhfq/intro")
    def intro() -> str:
        _link()
        return render_template("link.html", text="MLHFQ", href="/visit/mlhfq/q/1")

    @app.route("/visit/mlhfq/q/<int:number>", methods=["GET", "POST"])
    def item(number: int) -> str | Response:
        token = session.get("token")
        if token is None or not 1 <= number <= ITEMS:
            abort(404)
        answer = db.session.get(Answer, (token, number))
        if request.method == "POST":
            value = int(request.form["answer"])
            if answer is None:
                db.session.add(Answer(token=token, item=number, value=value))
            else:
                answer.value = value
            db.session.commit()
            following = f"/visit/mlhfq/q/{number + 1}" if number < ITEMS else "/visit/mlhfq/review"
            return redirect(following, 303)
        saved = answer.value if answer is not None else None
        return render_template("item.html", number=number, total=ITEMS, saved=saved)

    @app.get("/visit/mlhfq/review")
    def review() -> str:
        link = _link()
        count = len(db.session.scalars(select(Answer).where(Answer.token == link.token)).all())
        return render_template("link.html", text=str(count), href="/visit/mlhfq/submit")

    @app.route("/visit/mlhfq/submit", methods=["GET", "POST"])
    def submit() -> str | Response:
        link = _link()
        if request.method == "POST":
            answers = db.session.scalars(select(Answer).where(Answer.token == link.token)).all()
            db.session.add(
                Record(token=link.token, answers={str(a.item): a.value for a in answers})
            )
            db.session.commit()
            return redirect("/visit/mlhfq/receipt", 303)
        return render_template("submit.html")

    @app.get("/visit/mlhfq/receipt")
    def receipt() -> str:
        link = _link()
        db.session.scalars(select(Record.id).where(Record.token == link.token)).first()
        return render_template("link.html", text="✓", href="/")

    static = str(REPO / "pro_app" / "static_build")
    app.wsgi_app = WhiteNoise(app.wsgi_app, root=static, prefix="/static/")  # type: ignore[method-assign]
    return app


def create_tables() -> None:
    """Make the tables (the bench calls this once, before gunicorn starts its workers)."""
    with create_app().app_context():
        db.create_all()
        db.session.remove()
        db.engine.dispose()
