"""Administration: staff accounts and sites of the admin's own sites. Never participant data."""

from flask import Blueprint

from pro_app.models import Role
from pro_app.web import errorpages
from pro_app.web.access import require_role

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_role(Role.ADMIN))
errorpages.staff_pages(bp)

from pro_app.admin import views  # noqa: E402,F401  (routes register on import)
