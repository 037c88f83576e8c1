"""The floor of the load bench: a minimal Flask app with the same URLs and the same shape of pages
as the patient flow (a landing page with a Start form, an intro with a Start link, 21 item pages
each a form with a CSRF field that POSTs and redirects with 303, a review, a confirmation and a
receipt), but no database, no templates and no checks. Served by the very same gunicorn command
as PRIME-PRO, it is what Flask and gunicorn alone cost on this machine.

    gunicorn --workers 2 --threads 4 --config python:pro_app.gunicorn_conf bench.hello_app:app
"""

from __future__ import annotations

from flask import Flask, redirect, request
from werkzeug.wrappers import Response

ITEMS = 21
CSRF = "hello-csrf-token"

app = Flask(__name__)


def _page(body: str) -> str:
    return f"<!doctype html><html><head><title>hello</title></head><body>{body}</body></html>"


@app.get("/s/<token>")
def landing(token: str) -> str:
    return _page(
        f'<form method="post" action="/s/{token}">'
        f'<input type="hidden" name="start_token" value="{token}">'
        '<button class="button primary" type="submit">Start</button></form>'
    )


@app.post("/s/<token>")
def start(token: str) -> Response:
    if request.form.get("start_token") != token:
        return Response("bad start token", 400)
    return redirect("/visit/mlhfq/intro", 303)


@app.get("/visit/mlhfq/intro")
def intro() -> str:
    return _page('<a class="button primary" href="/visit/mlhfq/q/1">Start</a>')


@app.route("/visit/mlhfq/q/<int:number>", methods=["GET", "POST"])
def item(number: int) -> str | Response:
    if request.method == "POST":
        if request.form.get("csrf_token") != CSRF:
            return Response("bad csrf token", 400)
        following = f"/visit/mlhfq/q/{number + 1}" if number < ITEMS else "/visit/mlhfq/review"
        return redirect(following, 303)
    choices = "".join(f'<input type="radio" name="answer" value="{v}">' for v in range(6))
    return _page(
        '<form method="post" class="card item" novalidate>'
        f'<input type="hidden" name="csrf_token" value="{CSRF}">{choices}'
        '<button type="submit" name="action" value="next">Next</button></form>'
    )


@app.get("/visit/mlhfq/review")
def review() -> str:
    return _page('<a class="button primary" href="/visit/mlhfq/submit">Submit</a>')


@app.route("/visit/mlhfq/submit", methods=["GET", "POST"])
def submit() -> str | Response:
    if request.method == "POST":
        if request.form.get("csrf_token") != CSRF:
            return Response("bad csrf token", 400)
        return redirect("/visit/mlhfq/receipt", 303)
    return _page(
        f'<form method="post"><input type="hidden" name="csrf_token" value="{CSRF}">'
        '<button class="button primary" type="submit">Yes, submit</button></form>'
    )


@app.get("/visit/mlhfq/receipt")
def receipt() -> str:
    return _page("<p>Thank you.</p>")
