"""What staff read when something is refused: every refusal code of the services and of the staff
pages, with its limits as parameters; and role names. GCP terms (GLOSSARY.md)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from pro_app.models import Role
from pro_app.web.messages import Catalogue

STAFF = Catalogue(
    "staff",
    {
        # --- a typed value refused (code "field.rule"; "*.rule" for any field) -------------------
        "*.required": _l("Please fill this in."),
        "reason.required": _l("Please give a reason (at least %(min)s characters)."),
        "entry_reason.required": _l("Please give a reason (at least %(min)s characters)."),
        "*.too_long": _l("Please keep it under %(max)s characters."),
        "reason.too_long": _l("Please keep the reason under %(max)s characters."),
        "study_id.format": _l("Use this site's format, for example %(example)s."),
        "study_id.taken": _l("This study id is already in use."),
        "birth_year.age": _l("Age at Day 0 must be %(min)s to %(max)s years (protocol)."),
        "height_cm.range": _l("Height must be between %(min)s and %(max)s cm."),
        "*.unknown": _l("Choose a language from the list."),
        "day0.range": _l(
            "Day 0 must be within %(past)s days before and %(future)s days after today."
        ),
        "day0.unchanged": _l("This is already the Day 0 on record."),
        "day0.overlaps_visit_with_data": _l(
            "With this Day 0 a visit window would overlap a visit that already has answers."
        ),
        "username.format": _l(
            "3 to 64 characters: lower-case letters, digits, dot, hyphen or underscore."
        ),
        "username.taken": _l("This username is already taken."),
        "password.too_short": _l("Use at least %(min)s characters."),
        "password.too_long": _l("Use at most %(max)s characters."),
        "password.contains_username": _l("The password must not contain the username."),
        "password.too_simple": _l("Too simple: use more different characters."),
        "password.unchanged": _l("Choose a password different from the current one."),
        "current_password.wrong": _l("The current password is not right."),
        "sites.required": _l("Choose at least one site."),
        "timezone.unknown": _l("Unknown time zone: use a name such as Asia/Shanghai."),
        "study_id_pattern.invalid": _l("This is not a valid regular expression."),
        "study_id_example.does_not_match": _l("The example does not match the format."),
        "phone.invalid": _l("Write the number with digits, e.g. +86 21 3880 4518."),
        "correction_reason.required": _l(
            "Please give the reason for the change (at least %(min)s characters)."
        ),
        "reason_code.required": _l("Please choose why the record is changed."),
        "reason_code.unknown": _l("Please choose a reason from the list."),
        "text.required": _l("Please write your question or answer (at least %(min)s characters)."),
        "text.too_long": _l("Please keep it under %(max)s characters."),
        "field.unknown": _l("Please choose an item of this record from the list."),
        "changes.none": _l("Nothing was changed: change at least one value, or go back."),
        # --- an action refused ------------------------------------------------------------------
        "record.superseded": _l(
            "This version has been replaced (the current one is version %(version)s): open the "
            "current version."
        ),
        "correction.refused": _l("Please look at the values marked below."),
        "query.closed": _l("This query is closed: it takes no further answer."),
        "link.already_issued": _l(
            "This visit already has an active link. To replace it, use Reissue and give a reason."
        ),
        "link.none_active": _l("This visit has no active link."),
        "visit.complete": _l("Every questionnaire of this visit is already submitted."),
        "visit.no_instruments": _l("There is no questionnaire at this visit."),
        "visit.no_patient_part": _l(
            "Nothing at this visit is answered by the participant: use staff entry."
        ),
        "instrument.at_clinic": _l("This part is entered by staff: use staff entry."),
        "link.expired": _l("The window of this visit closed on %(date)s."),
        "link.not_yet_open": _l(
            "The window of this visit opens on %(date)s. Staff entry is possible from then."
        ),
        "participant.withdrawn": _l("This participant has withdrawn: no new links or entries."),
        "account.self_lockout": _l(
            "You cannot remove your own administrator role or disable your own account."
        ),
        "signin.invalid": _l("Wrong username or password."),
        "signin.locked": _l(
            "Too many failed sign-ins: signing in is paused. Try again in %(minutes)s minutes, "
            "or ask an administrator to unlock it."
        ),
        "signin.bad_code": _l(
            "That code is not right, or was already used. Enter the current code."
        ),
        "totp.setup_code": _l(
            "That code is not right. Check the time on your phone and try the new code."
        ),
        "totp.still_on": _l("That code is not right. Two-step sign-in is still on."),
        "pdf.not_ready": _l("The signed PDF of this record is not ready yet. Try again later."),
        "record.incomplete": _l("The record is not complete: fill in what is marked."),
        "record.already_submitted": _l("This record is already submitted."),
        "timer.conflict": _l("The walk part was changed on another device."),
        "staff_entry.ended": _l(
            "Your staff sign-in has ended. Sign in again and restart the entry from the "
            "participant page. Saved answers are kept."
        ),
        "answer.invalid": _l("Please choose one answer."),
        "session.missing": _l("Please open the link again."),
        "session.answer_lost": _l(
            "The last answer was not saved: open the link and give it again."
        ),
        "link.unknown": _l("This link does not work."),
        "link.revoked": _l("This link is no longer valid."),
        # --- pages that cannot be shown ---------------------------------------------------------
        "csrf": (
            _l("This form has expired"),
            _l("Nothing was changed. Go back, reload the page and try again."),
        ),
        "forbidden": (_l("No access"), _l("Your role does not give access to this page.")),
        "not_found": (
            _l("Not found"),
            _l("It does not exist, or it belongs to a site you do not work at."),
        ),
        "error": (
            _l("Something went wrong"),
            _l("Nothing was changed. Please go back and try again."),
        ),
        "action.refused": _l("This cannot be done now."),
        "export.history_not_in_sdtm": _l(
            "SDTM holds the current version of each record only: export the history as CSV, "
            "ODM or FHIR."
        ),
    },
)

ROLES = {
    Role.COORDINATOR: _l("Coordinator"),
    Role.MONITOR: _l("Monitor"),
    Role.ADMIN: _l("Administrator"),
}


def role_name(role: Role) -> str:
    return str(ROLES[role])
