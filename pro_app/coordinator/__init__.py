"""The coordinator's desk: enrolment, visit schedules, the due board, visit links, staff entry."""

from flask import Blueprint

from pro_app.models import Role
from pro_app.web import errorpages
from pro_app.web.access import require_role

bp = Blueprint("coordinator", __name__, url_prefix="/desk")
bp.before_request(require_role(Role.COORDINATOR))
errorpages.staff_pages(bp)

from pro_app.coordinator import records, views  # noqa: E402,F401  (routes register on import)
