"""Backups and the restore drill (docs/security.md).

`make_backup` writes one tar file while the app runs: a consistent copy of the database
(SQLite's online backup API; PostgreSQL's `pg_dump` in custom format, one snapshot), which holds
the sealed records with their hashes and text-pack hashes, the signed PDFs and the audit trail;
the signed audit checkpoints (files outside the database, one written for the backup itself);
and a manifest with the SHA-256 of every member and the counts to check a restore against.
The audit key is not in the backup: it is kept apart, as in production.

`restore_backup` restores into an empty database only, checks every member's hash first, and
puts back the checkpoints. Both are audited.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, func, inspect, select

from pro_app import clock
from pro_app.extensions import db
from pro_app.models import AuditEvent, PdfDocument, Response
from pro_app.services import audit

FORMAT = "prime-pro-backup"
VERSION = 1
MANIFEST = "manifest.json"
CHECKPOINTS = "audit-checkpoints"


class BackupError(RuntimeError):
    """A backup or restore that cannot go on; the message says why (the CLI prints it)."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    engine: str
    responses: int
    pdfs: int
    events: int
    checkpoints: int
    sha256: str


def counts() -> dict[str, int]:
    def count(model: type) -> int:
        return int(db.session.scalar(select(func.count()).select_from(model)) or 0)

    return {"responses": count(Response), "pdfs": count(PdfDocument), "events": count(AuditEvent)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq URL without the password (kept out of the process list) and the environment."""
    url = engine.url.set(drivername="postgresql")
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(password=None).render_as_string(hide_password=False), env


def _run_pg_tool(name: str, arguments: list[str], env: dict[str, str]) -> None:
    """Run pg_dump or pg_restore; a failure is a BackupError with the tool's own words."""
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} is not installed (Debian: postgresql-client)")
    done = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [found, *arguments], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise BackupError(f"{name} failed: {done.stderr.strip()[:500]}")


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _dump_database(engine: Engine, target: Path) -> str:
    if engine.dialect.name == "sqlite":
        source = sqlite3.connect(_sqlite_path(engine))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)  # a consistent copy, page by page, while others write
        finally:
            copy.close()
            source.close()
        return "database.sqlite3"
    if engine.dialect.name == "postgresql":
        url, env = _libpq(engine)
        _run_pg_tool("pg_dump", ["--format=custom", "--no-owner", "--file", str(target), url], env)
        return "database.pgdump"
    raise BackupError(f"no backup method for {engine.dialect.name}")


def make_backup(target: Path, *, checkpoint_dir: Path, actor: str) -> BackupSummary:
    """Write the backup to `target` (a tar file). Commits its own audit event first, so the copy
    holds the record of its own making; then a checkpoint; then the snapshot."""
    engine = db.engine
    audit.record("backup.made", actor, file=target.name, engine=engine.dialect.name)
    db.session.commit()
    audit.write_checkpoint(f"backup {target.name}", checkpoint_dir)
    before = counts()
    db.session.rollback()
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / "database"
        member = _dump_database(engine, dump)
        files = {member: dump}
        for path in sorted(checkpoint_dir.glob("checkpoint-*.json")):
            files[f"{CHECKPOINTS}/{path.name}"] = path
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "engine": engine.dialect.name,
            "made_at": clock.utcnow().isoformat(),
            # At least these many: writes that came in during the snapshot are in it too.
            "counts": before,
            "files": {name: _sha256(path) for name, path in files.items()},
        }
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as archive:
            data = json.dumps(manifest, indent=2, sort_keys=True).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
            for name, path in files.items():
                archive.add(path, arcname=name, recursive=False)
        partial.replace(target)
    return BackupSummary(
        path=target,
        engine=engine.dialect.name,
        responses=before["responses"],
        pdfs=before["pdfs"],
        events=before["events"],
        checkpoints=len(files) - 1,
        sha256=_sha256(target),
    )


def _read_manifest(archive: tarfile.TarFile) -> dict[str, object]:
    try:
        member = archive.extractfile(MANIFEST)
        manifest = json.loads(member.read()) if member is not None else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError("this file is not a PRIME-PRO backup (no manifest)")
    if manifest.get("version") != VERSION:
        raise BackupError(f"backup format version {manifest.get('version')} is not supported")
    return manifest


def _extract_checked(archive: tarfile.TarFile, manifest: dict[str, object], into: Path) -> None:
    """Every member listed in the manifest, at a plain name, with the SHA-256 it lists."""
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise BackupError("the manifest lists no files")
    for name, expected in files.items():
        parts = Path(name).parts
        if Path(name).is_absolute() or ".." in parts or not parts:
            raise BackupError(f"refused member name {name!r}")
        source = archive.extractfile(name)
        if source is None:
            raise BackupError(f"{name} is missing from the backup")
        path = into / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            shutil.copyfileobj(source, out)
        if _sha256(path) != expected:
            raise BackupError(f"{name} does not match its SHA-256 in the manifest: damaged")


def restore_backup(source: Path, *, checkpoint_dir: Path, actor: str) -> dict[str, int]:
    """Restore `source` into this app's database, which must be empty; put the checkpoints back.
    Returns the restored counts (at least those in the manifest)."""
    engine = db.engine
    db.session.rollback()
    if inspect(engine).get_table_names():
        raise BackupError("the target database is not empty: restore only into a new database")
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        try:
            with tarfile.open(source, "r") as archive:
                manifest = _read_manifest(archive)
                _extract_checked(archive, manifest, folder)
        except (OSError, tarfile.TarError) as error:
            raise BackupError(f"cannot read {source}: {error}") from None
        if manifest.get("engine") != engine.dialect.name:
            raise BackupError(
                f"a {manifest.get('engine')} backup cannot be restored into {engine.dialect.name}"
            )
        _restore_database(engine, folder)
        _restore_checkpoints(folder / CHECKPOINTS, checkpoint_dir)
    db.session.rollback()
    restored = counts()
    expected = manifest.get("counts")
    if isinstance(expected, dict):
        for key, value in expected.items():
            if restored.get(key, 0) < int(value):
                raise BackupError(f"restored {key}: {restored.get(key)} < {value} in the manifest")
    audit.record("backup.restored", actor, file=source.name, **restored)
    db.session.commit()
    return restored


def _restore_database(engine: Engine, folder: Path) -> None:
    for each in {engine, *db.engines.values()}:  # SQLite's reading engine too
        each.dispose()
    if engine.dialect.name == "sqlite":
        dump = folder / "database.sqlite3"
        source = sqlite3.connect(dump)
        target = sqlite3.connect(_sqlite_path(engine))
        try:
            source.backup(target)
        finally:
            target.close()
            source.close()
        return
    url, env = _libpq(engine)
    _run_pg_tool(
        "pg_restore",
        [
            "--no-owner",
            "--exit-on-error",
            "--single-transaction",
            "--dbname",
            url,
            str(folder / "database.pgdump"),
        ],
        env,
    )


def _restore_checkpoints(source: Path, target: Path) -> None:
    if not source.is_dir():
        return
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("checkpoint-*.json")):
        existing = target / path.name
        if existing.exists() and existing.read_bytes() != path.read_bytes():
            raise BackupError(f"{existing} exists with other content: not overwritten")
        shutil.copy2(path, existing)
