"""Changing a site's names, time zone, study-id format, the contact line printed on slips and the
phone number patients can tap on error pages."""

from __future__ import annotations

import re
from collections.abc import Iterable
from zoneinfo import available_timezones

from sqlalchemy import select

from pro_app.errors import InputRejected
from pro_app.extensions import db
from pro_app.models import Site
from pro_app.services import audit

# A number as people write it: digits, spaces, dashes, brackets, a leading plus; 5 digits or more.
PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{3,38}[0-9]")

EDITABLE = (
    "name_en",
    "name_zh",
    "timezone",
    "study_id_pattern",
    "study_id_example",
    "contact_en",
    "contact_zh",
    "phone",
)
REQUIRED = ("name_en", "name_zh", "timezone", "study_id_pattern", "study_id_example")


def covers_every_site(site_ids: Iterable[int]) -> bool:
    """Whether a user of these sites sees the whole trial (a trial's monitor, often): their
    lists and counts then need not join each row to its participant to check the site."""
    return set(db.session.scalars(select(Site.id))) <= set(site_ids)


def update_site(site: Site, *, actor: str, **values: str) -> dict[str, list[str]]:
    """Apply the changed fields; returns {field: [old, new]} (also the audit event's content)."""
    cleaned = {key: (values.get(key) or "").strip() for key in EDITABLE}
    for key in REQUIRED:
        if not cleaned[key]:
            raise InputRejected(key, "required")
    if cleaned["timezone"] not in available_timezones():
        raise InputRejected("timezone", "unknown")
    pattern = cleaned["study_id_pattern"]
    try:
        compiled = re.compile(pattern)
    except re.error:
        raise InputRejected("study_id_pattern", "invalid") from None
    if not compiled.fullmatch(cleaned["study_id_example"].upper()):
        raise InputRejected("study_id_example", "does_not_match")
    cleaned["study_id_example"] = cleaned["study_id_example"].upper()
    if cleaned["phone"] and not PHONE.fullmatch(cleaned["phone"]):
        raise InputRejected("phone", "invalid")
    changes = {}
    for key, value in cleaned.items():
        old = getattr(site, key)
        if old != value:
            changes[key] = [old, value]
            setattr(site, key, value)
    if changes:
        db.session.flush()
        audit.record("site.updated", actor, site_id=site.id, code=site.code, changes=changes)
    return changes
