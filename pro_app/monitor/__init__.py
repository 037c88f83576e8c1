"""The monitor's area: read-only review of sealed records, signed PDFs, binders and PDF checks."""

from flask import Blueprint

from pro_app import errorpages
from pro_app.auth.access import require_role
from pro_app.models import Role

bp = Blueprint("monitor", __name__, url_prefix="/monitor")
bp.before_request(require_role(Role.MONITOR))
errorpages.staff_pages(bp)

from pro_app.monitor import views  # noqa: E402,F401  (routes register on import)
