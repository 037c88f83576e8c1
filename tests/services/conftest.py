"""Service tests run inside the rolled-back app context (a module may override this fixture)."""

from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture(autouse=True)
def in_app_context(app_ctx: Flask) -> Flask:
    return app_ctx
