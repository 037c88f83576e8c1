"""A signed-in staff member's own account: password, two-step sign-in, language. Any role."""

from flask import Blueprint

from pro_app.web import errorpages
from pro_app.web.access import ALL_ROLES, require_role

bp = Blueprint("account", __name__, url_prefix="/staff")
bp.before_request(require_role(*ALL_ROLES))
errorpages.staff_pages(bp)

from pro_app.account import views  # noqa: E402,F401  (routes register on import)
