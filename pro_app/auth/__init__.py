"""Signing staff in and out. Public by nature: these pages are how one gets in."""

from flask import Blueprint

from pro_app.web import errorpages

bp = Blueprint("auth", __name__, url_prefix="/staff")
errorpages.staff_pages(bp)

from pro_app.auth import views  # noqa: E402,F401  (routes register on import)
from pro_app.web import labels  # noqa: E402
from pro_app.web.access import current_staff  # noqa: E402
from pro_app.web.charts import trend_svg  # noqa: E402
from pro_app.web.messages.staff import role_name  # noqa: E402

# Staff templates ask for these; patient pages never do, so they cost nothing there.
bp.add_app_template_global(current_staff, "current_staff")
bp.add_app_template_global(role_name, "role_name")
bp.record_once(lambda state: state.app.jinja_env.globals.update(staff_labels=labels))
bp.add_app_template_global(trend_svg, "trend_svg")
