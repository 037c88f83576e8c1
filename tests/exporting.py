"""Helpers that run an export in memory and read it back, for the export tests."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection
from typing import Any

from pro_app.questionnaire.catalog import catalog
from pro_app.services.exports import flat, source


def csv_rows(*, history: bool = False, site_ids: Collection[int] | None = None) -> list[dict[str, str]]:
    """The flat records CSV, as the rows a CSV reader sees."""
    out = io.BytesIO()
    flat.write_rows(out, catalog(), source.records(site_ids, history=history))
    return list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"))))


def json_records(*, history: bool = False) -> list[dict[str, Any]]:
    out = io.BytesIO()
    flat.write_json(out, source.records(None, history=history))
    loaded: list[dict[str, Any]] = json.loads(out.getvalue())
    return loaded
