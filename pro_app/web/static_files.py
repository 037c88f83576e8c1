"""Static files: `make static` builds them, WhiteNoise serves them.

The build copies `pro_app/static/` into `pro_app/static_build/files/` under content-hashed names
(`css/app.3f9c2b1d7e0a.css`) with gzip and Brotli copies beside each, and writes a manifest with a
digest of the sources. The app serves only that build: hashed names with a far-future immutable
`Cache-Control`, compressed when the browser accepts it (WhiteNoise picks the .br or .gz copy), and
`url_for('static', ...)` (in templates, `static_url(...)`) names the hashed file. A missing build,
or sources changed since the build, stop the app at start with a message saying to run `make
static`: unhashed files are never served. The favicon is also served at `/favicon.ico`, where
browsers look for it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask, request
from whitenoise import WhiteNoise
from whitenoise.compress import Compressor

from pro_app.config import ConfigError

SOURCE = Path(__file__).resolve().parent.parent / "static"
BUILD = Path(__file__).resolve().parent.parent / "static_build"
MANIFEST = BUILD / "manifest.json"
FAVICON = "favicon.ico"
# A year: the name changes whenever the content does, so a browser never needs to ask again.
IMMUTABLE_MAX_AGE = 365 * 24 * 3600
FAVICON_MAX_AGE = 24 * 3600


def _sources() -> list[Path]:
    return sorted(p for p in SOURCE.rglob("*") if p.is_file() and not p.name.startswith("."))


def source_digest() -> str:
    """One SHA-256 over every source file's path and bytes: any change makes the build stale."""
    digest = hashlib.sha256()
    for path in _sources():
        digest.update(path.relative_to(SOURCE).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def hashed_name(relative: str, content: bytes) -> str:
    path = Path(relative)
    fingerprint = hashlib.sha256(content).hexdigest()[:12]
    return path.with_name(f"{path.stem}.{fingerprint}{path.suffix}").as_posix()


def build() -> dict[str, Any]:
    """Write the hashed, compressed files and the manifest; returns the manifest."""
    staging = BUILD.with_name(BUILD.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    files: dict[str, str] = {}
    for path in _sources():
        relative = path.relative_to(SOURCE).as_posix()
        content = path.read_bytes()
        target = staging / "files" / hashed_name(relative, content)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        files[relative] = hashed_name(relative, content)
        if relative == FAVICON:
            root = staging / "root" / FAVICON
            root.parent.mkdir(parents=True, exist_ok=True)
            root.write_bytes(content)
    compressor = Compressor(quiet=True)
    for folder in ("files", "root"):
        for path in sorted((staging / folder).rglob("*")):
            if path.is_file() and compressor.should_compress(path.name):
                for _written in compressor.compress(str(path)):
                    pass
    manifest = {"digest": source_digest(), "files": files}
    (staging / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    shutil.rmtree(BUILD, ignore_errors=True)
    staging.rename(BUILD)
    return manifest


def ensure_built() -> dict[str, Any]:
    """Build unless the build is current (for `make static` and the test suite); one at a time."""
    BUILD.parent.mkdir(parents=True, exist_ok=True)
    with (BUILD.parent / ".static_build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return load_manifest()
        except ConfigError:
            return build()


def load_manifest() -> dict[str, Any]:
    if not MANIFEST.exists():
        raise ConfigError(
            f"static files are not built ({MANIFEST} is missing): run `make static` first"
        )
    manifest: dict[str, Any] = json.loads(MANIFEST.read_text())
    if manifest.get("digest") != source_digest():
        raise ConfigError(
            "static files changed since the last build (pro_app/static/ differs from "
            f"{BUILD}): run `make static` again"
        )
    return manifest


def _is_hashed(_path: str, url: str) -> bool:
    return url.startswith("/static/")


def _nosniff(headers: Any, _path: str, _url: str) -> None:
    headers["X-Content-Type-Options"] = "nosniff"


def init_app(app: Flask) -> None:
    manifest = load_manifest()
    files: dict[str, str] = manifest["files"]
    # URLs only: the files come from WhiteNoise, never from Flask's own static view.
    app.add_url_rule("/static/<path:filename>", endpoint="static", build_only=True)

    def hashed(name: str) -> str:
        if name not in files:
            raise ConfigError(f"no static file {name!r} in the build: run `make static`")
        return files[name]

    @app.url_defaults
    def _hashed(endpoint: str, values: dict[str, Any]) -> None:
        if endpoint == "static" and "filename" in values:
            values["filename"] = hashed(values["filename"])

    @app.template_global("static_url")
    def static_url(filename: str) -> str:
        """What `url_for('static', filename=...)` gives, for templates: the hashed file under the
        application's root, without a trip through the URL map (four of them on every page)."""
        return f"{request.script_root}/static/{quote(hashed(filename))}"

    served = WhiteNoise(
        app.wsgi_app,
        root=str(BUILD / "files"),
        prefix="static/",
        max_age=FAVICON_MAX_AGE,
        immutable_file_test=_is_hashed,
        add_headers_function=_nosniff,
    )
    if (BUILD / "root").is_dir():
        served.add_files(str(BUILD / "root"), prefix="")
    app.wsgi_app = served  # type: ignore[method-assign]


def main() -> None:
    manifest = ensure_built()
    print(f"static files: {len(manifest['files'])} hashed and compressed into {BUILD}")


if __name__ == "__main__":
    main()
