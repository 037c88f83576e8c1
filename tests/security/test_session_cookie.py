"""The session cookie's serializer is built once for the app's keys (Flask built two for every
request), and a new one as soon as the keys change: a rotated secret key no longer reads old
cookies, unless the old key is kept as a fallback."""

from __future__ import annotations

import pytest
from flask import Flask
from itsdangerous import BadSignature

from pro_app.web.security import SessionCookies


def test_the_cookie_serializer_follows_the_keys(app: Flask) -> None:
    interface = app.session_interface
    assert isinstance(interface, SessionCookies)
    first = interface.get_signing_serializer(app)
    assert first is not None
    assert interface.get_signing_serializer(app) is first
    signed = first.dumps({"patient_link": 7})
    old_key, old_fallbacks = app.secret_key, app.config["SECRET_KEY_FALLBACKS"]
    try:
        app.secret_key = "a-rotated-secret-key"
        rotated = interface.get_signing_serializer(app)
        assert rotated is not None and rotated is not first
        with pytest.raises(BadSignature):
            rotated.loads(signed)
        app.config["SECRET_KEY_FALLBACKS"] = [old_key]
        with_fallback = interface.get_signing_serializer(app)
        assert with_fallback is not None
        assert with_fallback.loads(signed) == {"patient_link": 7}
    finally:
        app.secret_key = old_key
        app.config["SECRET_KEY_FALLBACKS"] = old_fallbacks
    assert interface.get_signing_serializer(app) is first
