"""Static files: hashed names, immutable caching, gzip and Brotli, a favicon; HTML compressed only
where it carries no secret; a missing or stale build stops the app."""

from __future__ import annotations

import gzip
import re
import shutil
from pathlib import Path

import brotli
import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from pro_app import create_app
from pro_app.config import ConfigError
from pro_app.web import static_files
from tests.actions import Patient
from tests.conftest import make_settings
from tests.factories import issue_token, make_participant

_CSS = re.compile(r'href="(/static/css/app\.[0-9a-f]{12}\.css)"')


def _get(client: FlaskClient, url: str, **headers: str) -> TestResponse:
    """A static response, read and closed (WhiteNoise hands over an open file)."""
    response = client.get(url, headers=headers)
    response.get_data()
    response.close()
    return response


def _stylesheet(client: FlaskClient) -> str:
    page = client.get("/s/unknown-link").get_data(as_text=True)
    found = _CSS.search(page)
    assert found, "pages link the hashed stylesheet"
    return found.group(1)


def test_static_files_have_hashed_names_immutable_caching_and_compression(
    client: FlaskClient,
) -> None:
    url = _stylesheet(client)
    plain = _get(client, url)
    assert plain.status_code == 200 and b"--brand" in plain.data
    assert "immutable" in plain.headers["Cache-Control"]
    assert "max-age=315360000" in plain.headers["Cache-Control"]
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    as_gzip = _get(client, url, **{"Accept-Encoding": "gzip"})
    assert as_gzip.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(as_gzip.data) == plain.data
    assert len(as_gzip.data) < len(plain.data) / 2
    as_brotli = _get(client, url, **{"Accept-Encoding": "br, gzip"})
    assert as_brotli.headers["Content-Encoding"] == "br"
    assert brotli.decompress(as_brotli.data) == plain.data
    assert "Accept-Encoding" in as_brotli.headers["Vary"]
    # The unhashed name is never served.
    assert _get(client, "/static/css/app.css").status_code == 404


def test_a_favicon_is_served(client: FlaskClient) -> None:
    icon = _get(client, "/favicon.ico")
    assert icon.status_code == 200 and icon.data[:4] == b"\x00\x00\x01\x00"
    assert icon.headers["Content-Type"] in ("image/x-icon", "image/vnd.microsoft.icon")
    assert 'rel="icon"' in client.get("/s/unknown-link").get_data(as_text=True)


def test_html_is_compressed_only_where_it_carries_no_secret(client: FlaskClient) -> None:
    patient = Patient(client, issue_token(make_participant()))
    patient.start()
    intro = client.get("/visit/mlhfq", headers={"Accept-Encoding": "gzip"})
    assert intro.status_code == 200 and intro.headers.get("Content-Encoding") == "gzip"
    assert "/static/js/" not in gzip.decompress(intro.data).decode()
    item = client.get("/visit/mlhfq/q/1", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in item.headers and b"csrf_token" in item.data
    landing = patient.open_link()
    assert "Content-Encoding" not in landing.headers
    sign_in = client.get("/staff/login", headers={"Accept-Encoding": "gzip"})
    assert sign_in.status_code == 200 and "Content-Encoding" not in sign_in.headers
    assert b"csrf_token" in sign_in.data


def test_a_missing_or_stale_build_stops_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "static"
    shutil.copytree(static_files.SOURCE, source)
    monkeypatch.setattr(static_files, "SOURCE", source)
    monkeypatch.setattr(static_files, "BUILD", tmp_path / "build")
    monkeypatch.setattr(static_files, "MANIFEST", tmp_path / "build" / "manifest.json")
    settings = make_settings(f"sqlite:///{tmp_path / 'x.sqlite3'}", tmp_path)
    with pytest.raises(ConfigError, match="run `make static`"):
        create_app({"TESTING": True}, settings=settings)
    static_files.build()
    assert isinstance(create_app({"TESTING": True}, settings=settings), Flask)
    (source / "css" / "app.css").write_text("body { color: red; }")
    with pytest.raises(ConfigError, match="changed since the last build"):
        create_app({"TESTING": True}, settings=settings)


@pytest.mark.parametrize("root", ["", "/trial"])
def test_templates_name_the_same_hashed_urls_as_url_for(app: Flask, root: str) -> None:
    names = static_files.load_manifest()["files"]
    with app.test_request_context("/", base_url=f"http://localhost{root}/"):
        static_url = app.jinja_env.globals["static_url"]
        for name in names:
            assert static_url(name) == url_for("static", filename=name)
            assert static_url(name).startswith(f"{root}/static/")
        with pytest.raises(ConfigError, match="make static"):
            static_url("css/missing.css")
