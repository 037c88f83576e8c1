"""The patient's pages: a visit link, then one item per screen, review, submit, receipt."""

from flask import Blueprint

bp = Blueprint("patient", __name__)

from pro_app.patient import views  # noqa: E402,F401  (routes register on import)
