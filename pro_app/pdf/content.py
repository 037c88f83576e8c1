"""From a sealed record to the plain data of its PDF; the instrument-specific part comes from the
section of the record's instrument kind (pro_app/pdf/sections/).

This is the only step of the pipeline that reads ORM objects; what it returns holds none. It refuses
a record whose stored hash no longer matches its content, so a PDF never certifies an altered row.
"""

from __future__ import annotations

from flask_babel import gettext as _

from pro_app import records
from pro_app.canonical import canonical_json
from pro_app.languages import LANGUAGE_NAMES, Bilingual
from pro_app.models import Response
from pro_app.pdf.document import Line, RecordDocument, Signer
from pro_app.pdf.lines import both, pair
from pro_app.pdf.sections import section_builder
from pro_app.questionnaire.catalog import Catalog


class RecordAltered(RuntimeError):
    """The stored record no longer hashes to its sealed SHA-256: it must not be certified."""


def record_document(response: Response, catalog: Catalog, signer: Signer) -> RecordDocument:
    """The plain data of one sealed record's PDF."""
    visit = response.visit
    participant = visit.participant
    site = participant.site
    staff = response.staff
    canonical = response.canonical()
    if records.record_sha256(canonical) != response.record_sha256:
        raise RecordAltered(
            f"record {response.id}: stored content does not match its sealed SHA-256"
        )
    superseded = response.supersedes
    instrument = catalog.instrument(response.instrument_id)
    language = response.language
    try:
        planned = catalog.schedule.visit(visit.code)
        visit_name = pair(language, planned.name)
    except KeyError:  # a visit that a later protocol amendment removed from the schedule
        visit_name = Line(visit.code)
    pack = catalog.textpacks.get((instrument.id, language))
    wording_available = pack is not None and pack.sha256 == response.textpack_sha256
    return RecordDocument(
        language=language,
        trial_title=both(language, trial_title),
        site_name=pair(language, Bilingual(site.name_zh, site.name_en)),
        site_code=site.code,
        timezone=site.timezone,
        study_id=participant.study_id,
        visit_name=visit_name,
        visit_code=visit.code,
        visit_target=visit.target_date,
        window_start=visit.window_start,
        window_end=visit.window_end,
        instrument_title=pair(language, instrument.title),
        instrument_id=instrument.id,
        instrument_version=response.instrument_version,
        scoring_version=response.scoring_version,
        textpack_id=response.textpack_id,
        textpack_sha256=response.textpack_sha256,
        demo_wording=response.textpack_demo,
        wording_available=wording_available,
        languages=tuple(LANGUAGE_NAMES.get(code, code) for code in response.languages),
        entered_by=response.entered_by.value,
        staff_username=staff.username if staff else None,
        entry_reason=response.entry_reason,
        record_version=response.version,
        supersedes_version=superseded.version if superseded else None,
        correction_reason=response.correction_reason,
        correction_reason_label=(
            pair(language, label)
            if (label := catalog.change_reasons.label(response.correction_reason_code or ""))
            else None
        ),
        voided=response.voided,
        started_at=response.started_at,
        submitted_at=response.submitted_at,
        receipt_number=response.receipt_number,
        record_id=response.id,
        record_sha256=response.record_sha256,
        record_json=canonical_json(canonical),
        section=section_builder(instrument)(instrument, response, catalog, wording_available),
        copyright=None if response.textpack_demo else instrument.copyright or None,
        signer=signer,
    )


def trial_title() -> str:
    return _(
        "Multiple intravenous infusions of umbilical cord mesenchymal stem cells in heart failure "
        "with reduced ejection fraction (PRIME-HFrEF)"
    )
