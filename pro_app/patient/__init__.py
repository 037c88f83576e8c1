"""The patient's pages: a visit link, then one screen at a time, review, submit, receipt."""

from flask import Blueprint

from pro_app.web.visit_session import staff_entry_banner

bp = Blueprint("patient", __name__)

from pro_app.patient import choice_views, views, worksheet_views  # noqa: E402,F401
from pro_app.patient.flows import check_complete  # noqa: E402

check_complete()


@bp.context_processor
def _staff_entry_bar() -> dict[str, object]:
    """base.html shows a bar on every patient screen while staff enter data for a participant."""
    return {"staff_entry": staff_entry_banner()}
