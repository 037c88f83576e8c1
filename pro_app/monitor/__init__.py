"""The monitor's area: read-only review of sealed records, signed PDFs, binders and PDF checks."""

from flask import Blueprint

from pro_app.models import Role
from pro_app.web import errorpages
from pro_app.web.access import require_role

bp = Blueprint("monitor", __name__, url_prefix="/monitor")
bp.before_request(require_role(Role.MONITOR))
errorpages.staff_pages(bp)

from pro_app.monitor import review, views  # noqa: E402,F401  (routes register on import)
from pro_app.web.messages.monitor import pdf_state  # noqa: E402


@bp.context_processor
def _helpers() -> dict[str, object]:
    return {"pdf_state": pdf_state}
