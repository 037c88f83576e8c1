"""Small pieces the kinds share when they describe themselves in data standards (CDISC, FHIR)."""

from __future__ import annotations

from typing import Any

from pro_app.languages import Bilingual

LOINC = "http://loinc.org"
FHIR_TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
NOT_DONE = "NOT DONE"
# SDTM character results and test names have fixed maximum lengths.
TEST_LENGTH = 40


def number_text(value: float | int) -> str:
    """A number as a result is written: 21, not 21.0; 0.5 as 0.5."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_name(text: str) -> str:
    """An SDTM --TEST value: at most 40 characters, plain ASCII."""
    return text.encode("ascii", "replace").decode()[:TEST_LENGTH]


def fhir_text(text: Bilingual) -> dict[str, Any]:
    """An item's English text with its Chinese as a FHIR translation extension."""
    return {
        "text": text.en,
        "_text": {
            "extension": [
                {
                    "url": FHIR_TRANSLATION,
                    "extension": [
                        {"url": "lang", "valueCode": "zh-Hans"},
                        {"url": "content", "valueString": text.zh},
                    ],
                }
            ]
        },
    }
