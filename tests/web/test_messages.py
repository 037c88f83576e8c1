"""Every code has its words: each refusal, finding and PDF-check result the code base can produce
is in the catalogue of whoever reads it, in English and in Chinese, with its limits filled in."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale

from pro_app import errors
from pro_app.config import REPO_ROOT
from pro_app.questionnaire.catalog import catalog
from pro_app.web.messages import Catalogue
from pro_app.web.messages.monitor import MONITOR
from pro_app.web.messages.patient import PATIENT
from pro_app.web.messages.staff import STAFF

SOURCE = REPO_ROOT / "pro_app"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _calls(names: set[str]) -> Iterator[tuple[Path, ast.Call]]:
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                if name in names:
                    yield path, node


def _literal(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


@pytest.mark.parametrize("catalogue", [PATIENT, STAFF, MONITOR], ids=lambda c: c.audience)
def test_every_message_reads_in_english_and_chinese(app: Flask, catalogue: Catalogue) -> None:
    with app.test_request_context():
        for code, message in catalogue.messages.items():
            parts = message if isinstance(message, tuple) else (message,)
            for part in parts:
                params = {name: "7" for name in PLACEHOLDER.findall(part._args[0])}
                with force_locale("en"):
                    english = str(part) % params if params else str(part)
                with force_locale("zh_Hans"):
                    chinese = str(part) % params if params else str(part)
                assert english and chinese, code
                assert chinese != english, f"{catalogue.audience}:{code} has no Chinese message"
                assert "%(" not in english + chinese, code
                for value in params.values():  # every limit shows in both languages
                    assert value in english and value in chinese, code


def test_every_refusal_the_services_raise_has_staff_words() -> None:
    codes = set()
    for path, call in _calls({"InputRejected", "EnrolmentError", "ReasonRequired"}):
        field, rule = (_literal(arg) for arg in call.args[:2])
        if rule is not None:
            # A field named at run time (a loop over a form's fields) needs the "*.rule" words.
            codes.add(f"{field or '*'}.{rule}")
        else:
            assert path.name in {"errors.py", "reasons.py"}, f"{path}: a refusal rule is computed"
    for _path, call in _calls({"require_reason"}):
        field = _literal(call.args[1]) if len(call.args) > 1 else "reason"
        codes |= {f"{field}.required", f"{field}.too_long"}
    assert len(codes) > 25
    missing = sorted(code for code in codes if code not in STAFF)
    assert not missing, missing


def test_every_domain_error_has_words_for_staff_and_patients_for_theirs() -> None:
    codes = {cls.code for cls in _subclasses(errors.DomainError) if cls is not errors.InputRejected}
    assert {"link.unknown", "signin.locked", "account.self_lockout"} <= codes
    assert sorted(code for code in codes if code not in STAFF) == []
    patient_facing = {
        errors.LinkUnknown,
        errors.LinkRevoked,
        errors.LinkExpired,
        errors.LinkNotYetOpen,
        errors.ParticipantWithdrawn,
        errors.PatientSessionMissing,
        errors.InstrumentNotInVisit,
        errors.InvalidAnswer,
        errors.StaffEntryEnded,
    }
    assert sorted(cls.code for cls in patient_facing if cls.code not in PATIENT.messages) == []


def test_every_worksheet_finding_has_patient_words(app: Flask) -> None:
    codes = set()
    for _path, call in _calls({"InputError"}):
        codes.add(_literal(call.args[0]))
    for _path, call in _calls({"Finding"}):
        if len(call.args) >= 3 and (code := _literal(call.args[2])) is not None:
            codes.add(code)
    with app.app_context():
        for instrument in catalog().instruments.values():
            codes |= {check.code for check in getattr(instrument, "checks", ())}
    codes.discard(None)
    assert {"not_a_number", "distance_over_max", "diastolic_not_below_systolic"} <= codes
    assert sorted(code for code in codes if code not in PATIENT.messages) == []


def test_every_pdf_check_finding_has_monitor_words() -> None:
    codes = {_literal(call.args[0]) for _path, call in _calls({"Problem"}) if call.args}
    assert {"signature.digest_mismatch", "record.altered", "pdf.not_on_file"} <= codes
    assert sorted(code for code in codes if code not in MONITOR.messages) == []


def test_a_limit_in_a_message_comes_from_its_parameter(app: Flask) -> None:
    refusal = errors.EnrolmentError("birth_year", "age", min=21, max=75)
    with app.test_request_context(), force_locale("zh_Hans"):
        assert STAFF.text(refusal.code, refusal.params) == "第0天时的年龄须为21至75岁（方案规定）。"
    with app.test_request_context(), force_locale("en"):
        assert "21 to 75" in STAFF.text(refusal.code, refusal.params)
