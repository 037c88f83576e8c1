"""The patient's pages: a visit link, then one item per screen, review, submit, receipt."""

from flask import Blueprint

bp = Blueprint("patient", __name__)

from pro_app.patient import views  # noqa: E402,F401  (routes register on import)
from pro_app.patient.session import staff_entry_banner  # noqa: E402


@bp.context_processor
def _staff_entry_bar() -> dict[str, object]:
    """base.html shows a bar on every patient screen while staff enter data for a participant."""
    return {"staff_entry": staff_entry_banner()}
