"""The registry of instrument kinds: the one place that knows which kinds exist.

The rest of the application asks `kind_of(instrument)` and calls the interface of
`InstrumentKind`; adding a kind is a new module here and one line in KINDS (plus its patient
screens and PDF section, which the layers above attach by the kind's name).
"""

from __future__ import annotations

from typing import Any

from pro_app.questionnaire.definitions import Instrument
from pro_app.questionnaire.kinds.base import InstrumentKind
from pro_app.questionnaire.kinds.choice import ChoiceKind
from pro_app.questionnaire.kinds.worksheet import WorksheetKind

KINDS: dict[str, InstrumentKind[Any]] = {
    kind.name: kind for kind in (ChoiceKind(), WorksheetKind())
}


def kind_of(instrument: Instrument) -> InstrumentKind[Any]:
    return KINDS[instrument.kind]


def require_parts(layer: str, parts: dict[str, Any]) -> None:
    """Refuse to start when a layer lacks its part of a registered kind (e.g. a PDF section)."""
    missing = sorted(set(KINDS) - set(parts))
    if missing:
        raise RuntimeError(f"{layer} has no part for the instrument kinds {missing}")
