"""The coordinator's desk: enrolment, visit schedules, the due board, visit links, staff entry."""

from flask import Blueprint

from pro_app import errorpages
from pro_app.auth.access import require_role
from pro_app.models import Role

bp = Blueprint("coordinator", __name__, url_prefix="/desk")
bp.before_request(require_role(Role.COORDINATOR))
errorpages.staff_pages(bp)

from pro_app.coordinator import views  # noqa: E402,F401  (routes register on import)
