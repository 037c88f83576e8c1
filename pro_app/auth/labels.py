"""Role names as staff read them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pro_app.models import Role

ROLE_LABELS = {
    Role.COORDINATOR: _l("Coordinator"),
    Role.MONITOR: _l("Monitor"),
    Role.ADMIN: _l("Administrator"),
}


def role_name(role: Role) -> str:
    return str(ROLE_LABELS[role])
