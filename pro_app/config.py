"""Configuration: safe defaults, overridden by PRO_* environment variables."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from pro_app.database import READING_BIND, READING_ENGINE

REPO_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = REPO_ROOT / "instance"


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says which setting and why."""


def _secret_key(instance_dir: Path) -> str:
    """A per-installation key kept under instance/, so restarts keep sessions valid."""
    key_file = instance_dir / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def _audit_key(env: dict[str, str], instance_dir: Path) -> bytes:
    """The key of the audit trail's MAC chain: from PRO_AUDIT_KEY (hex), or the file
    PRO_AUDIT_KEY_FILE (default instance/audit.key, made once with 256 random bits). It is never
    in the database, so a person who can only change the database cannot forge the chain."""
    if env.get("PRO_AUDIT_KEY"):
        try:
            key = bytes.fromhex(env["PRO_AUDIT_KEY"])
        except ValueError:
            raise ConfigError("PRO_AUDIT_KEY must be hexadecimal") from None
    else:
        key_file = Path(env.get("PRO_AUDIT_KEY_FILE", str(instance_dir / "audit.key")))
        if not key_file.exists():
            key_file.parent.mkdir(parents=True, exist_ok=True)
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        try:
            key = bytes.fromhex(key_file.read_text().strip())
        except ValueError:
            raise ConfigError(f"{key_file} must hold the audit key in hexadecimal") from None
    if len(key) < 32:
        raise ConfigError("the audit key must be at least 256 bits (64 hex digits)")
    return key


def _int(env: dict[str, str], name: str, default: int) -> int:
    try:
        return int(env.get(name, str(default)))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number") from None


@dataclass(frozen=True)
class PoolSettings:
    """Each process's database connection pool. A gunicorn worker serves `--threads` requests at
    once, each holding one connection for its transaction: `size` = threads (PRO_DB_POOL_SIZE,
    `make run` sets it from --threads), a small overflow for bookkeeping and the odd extra
    connection, connections recycled before firewalls or PostgreSQL's idle timeouts drop them. A
    PostgreSQL server therefore sees at most hosts x workers x (size + overflow) connections plus
    the PDF workers' and the CLI's (docs/deployment.md)."""

    size: int = 4
    max_overflow: int = 2
    timeout: int = 10
    recycle: int = 1800
    # A round trip per checkout; off by default (a dropped connection fails one request and
    # SQLAlchemy then replaces the pool's connections). Turn on behind poolers that cut idlers.
    pre_ping: bool = False

    @classmethod
    def from_env(cls, env: dict[str, str]) -> PoolSettings:
        return cls(
            size=_int(env, "PRO_DB_POOL_SIZE", cls.size),
            max_overflow=_int(env, "PRO_DB_MAX_OVERFLOW", cls.max_overflow),
            timeout=_int(env, "PRO_DB_POOL_TIMEOUT", cls.timeout),
            recycle=_int(env, "PRO_DB_POOL_RECYCLE", cls.recycle),
            pre_ping=env.get("PRO_DB_POOL_PRE_PING", "0") == "1",
        )

    def engine_options(self, url: str) -> dict[str, object]:
        options: dict[str, object] = {
            "pool_recycle": self.recycle,
            "pool_pre_ping": self.pre_ping,
        }
        if not _in_memory(url):  # one shared in-memory SQLite connection has no pool to size
            options.update(
                pool_size=self.size, max_overflow=self.max_overflow, pool_timeout=self.timeout
            )
        return options


def _in_memory(url: str) -> bool:
    return url.startswith("sqlite") and (
        url.rstrip("/") in ("sqlite:", "sqlite") or ":memory:" in url
    )


@dataclass(frozen=True)
class Settings:
    """The PRO_* settings, read once by the app factory."""

    env: str
    database_url: str
    secret_key: str
    textpack_dir: Path
    instruments_dir: Path
    base_url: str
    link_grace_days: int
    idle_minutes: int
    pdf_cert_file: str
    pdf_cert_password: str
    pdf_timestamp_url: str
    run_pdf_worker: bool
    audit_key: bytes = field(repr=False)
    audit_checkpoint_dir: Path
    ratelimit_storage_uri: str = "memory://"
    ratelimit_links: str = "30 per minute;300 per hour"
    ratelimit_signin: str = "20 per minute;200 per hour"
    ratelimit_account: str = "20 per minute;100 per hour"
    # Behind a TLS-terminating proxy: how many proxies set X-Forwarded-* (0: not behind one).
    proxy_fix: int = 0
    pool: PoolSettings = field(default_factory=lambda: PoolSettings())

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        instance_dir = Path(env.get("PRO_INSTANCE_DIR", str(INSTANCE_DIR)))
        return cls(
            env=env.get("PRO_ENV", "development"),
            database_url=env.get(
                "PRO_DATABASE_URL", f"sqlite:///{instance_dir / 'prime_pro.sqlite3'}"
            ),
            secret_key=env.get("PRO_SECRET_KEY") or _secret_key(instance_dir),
            textpack_dir=Path(env.get("PRO_TEXTPACK_DIR", str(instance_dir / "textpacks"))),
            instruments_dir=Path(env.get("PRO_INSTRUMENTS_DIR", str(REPO_ROOT / "instruments"))),
            base_url=env.get("PRO_BASE_URL", "http://127.0.0.1:5000").rstrip("/"),
            link_grace_days=int(env.get("PRO_LINK_GRACE_DAYS", "0")),
            idle_minutes=int(env.get("PRO_IDLE_MINUTES", "15")),
            pdf_cert_file=env.get("PRO_PDF_CERT_FILE", str(instance_dir / "demo-signer.p12")),
            pdf_cert_password=env.get("PRO_PDF_CERT_PASSWORD", ""),
            pdf_timestamp_url=env.get("PRO_PDF_TIMESTAMP_URL", ""),
            run_pdf_worker=env.get("PRO_RUN_PDF_WORKER", "0") == "1",
            audit_key=_audit_key(env, instance_dir),
            audit_checkpoint_dir=Path(
                env.get("PRO_AUDIT_CHECKPOINT_DIR", str(instance_dir / "audit-checkpoints"))
            ),
            ratelimit_storage_uri=env.get("PRO_RATELIMIT_STORAGE_URI", "memory://"),
            ratelimit_links=env.get("PRO_RATELIMIT_LINKS", cls.ratelimit_links),
            ratelimit_signin=env.get("PRO_RATELIMIT_SIGNIN", cls.ratelimit_signin),
            ratelimit_account=env.get("PRO_RATELIMIT_ACCOUNT", cls.ratelimit_account),
            proxy_fix=_whole_number(env, "PRO_PROXY_FIX", 0),
            pool=PoolSettings.from_env(env),
        )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def flask_config(self) -> dict[str, object]:
        """The Flask config keys these settings map to."""
        url = self.database_url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine_options = self.pool.engine_options(url)
        binds: dict[str, object] = {}
        if url.startswith("sqlite") and not _in_memory(url):
            # Reading transactions' own pool, so no connection switches its query-only flag
            # (pro_app/database.py).
            binds[READING_BIND] = {
                "url": url,
                "execution_options": {READING_ENGINE: True},
                **engine_options,
            }
        return {
            "SECRET_KEY": self.secret_key,
            "SQLALCHEMY_DATABASE_URI": url,
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
            "SQLALCHEMY_BINDS": binds,
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": self.is_production,
            "WTF_CSRF_TIME_LIMIT": None,
            "BABEL_DEFAULT_LOCALE": "zh_Hans",
            "BABEL_DEFAULT_TIMEZONE": "UTC",
            "BABEL_TRANSLATION_DIRECTORIES": str(REPO_ROOT / "translations"),
            "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
            "RATELIMIT_STORAGE_URI": self.ratelimit_storage_uri,
            # Redis down: each process counts in memory until it answers again (Flask-Limiter
            # checks it with growing pauses), so no patient meets an error page for it.
            "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
            "RATELIMIT_LINKS": self.ratelimit_links,
            "RATELIMIT_SIGNIN": self.ratelimit_signin,
            "RATELIMIT_ACCOUNT": self.ratelimit_account,
            "PRO_SETTINGS": self,
        }


def current() -> Settings:
    """The running app's settings (inside an app context: a request, a command, the worker)."""
    from flask import current_app

    settings: Settings = current_app.config["PRO_SETTINGS"]
    return settings


def _whole_number(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit():
        raise ConfigError(f"{name} must be a whole number (how many proxies stand in front)")
    return int(value)
