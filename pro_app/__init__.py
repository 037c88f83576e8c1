"""PRIME-PRO: ePRO for the PRIME-HFrEF trial; `create_app` is the table of contents."""

from __future__ import annotations

from typing import Any

from flask import Flask

from pro_app.config import REPO_ROOT, ConfigError, Settings


def create_app(overrides: dict[str, Any] | None = None, settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(
        __name__,
        template_folder=str(REPO_ROOT / "templates"),
        static_folder=None,  # served from the hashed build by WhiteNoise (register_static)
        instance_path=str(REPO_ROOT / "instance"),
    )
    app.config.from_mapping(settings.flask_config())
    app.config.from_mapping(overrides or {})
    register_catalog(app, settings)
    register_edge_guard(app)
    register_extensions(app)
    register_blueprints(app)
    register_cli(app)
    register_error_pages(app)
    register_security(app, settings)
    register_templates(app)
    register_static(app)
    register_pdf_worker(app, settings)
    return app


def register_catalog(app: Flask, settings: Settings) -> None:
    from pro_app.questionnaire.catalog import load_catalog

    catalog = load_catalog(settings.textpack_dir, settings.instruments_dir)
    if settings.is_production and catalog.demo_packs:
        names = ", ".join(sorted(pack.path.name for pack in catalog.demo_packs))
        raise ConfigError(
            f"PRO_ENV=production refuses demo wording ({names}): install the licensed text packs "
            f"in PRO_TEXTPACK_DIR={settings.textpack_dir}"
        )
    app.extensions["pro_catalog"] = catalog


def register_edge_guard(app: Flask) -> None:
    """First: refusals at the edge of every request, and URL converters the blueprints use."""
    from pro_app.web import guard

    guard.init_app(app)


def register_extensions(app: Flask) -> None:
    from pro_app import database
    from pro_app.extensions import babel, csrf, db, migrate
    from pro_app.web import i18n, unit_of_work

    database.configure_engines()
    db.init_app(app)
    unit_of_work.init_app(app)
    migrate.init_app(app, db, directory=str(REPO_ROOT / "pro_app" / "migrations"))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.request_locale, timezone_selector=lambda: "UTC")
    i18n.init_app(app)


def register_blueprints(app: Flask) -> None:
    from pro_app.account import bp as account_bp
    from pro_app.admin import bp as admin_bp
    from pro_app.auth import bp as auth_bp
    from pro_app.coordinator import bp as coordinator_bp
    from pro_app.monitor import bp as monitor_bp
    from pro_app.patient import bp as patient_bp

    for blueprint in (patient_bp, auth_bp, account_bp, coordinator_bp, monitor_bp, admin_bp):
        app.register_blueprint(blueprint)


def register_cli(app: Flask) -> None:
    from pro_app import cli

    cli.init_app(app)


def register_error_pages(app: Flask) -> None:
    from pro_app.web import errorpages

    errorpages.init_app(app)


def register_security(app: Flask, settings: Settings) -> None:
    from pro_app.web import ratelimits, security

    security.init_app(app, settings)
    ratelimits.init_app(app)


def register_templates(app: Flask) -> None:
    from pro_app.web import templating

    templating.init_app(app)


def register_static(app: Flask) -> None:
    from pro_app.web import static_files

    static_files.init_app(app)


def register_pdf_worker(app: Flask, settings: Settings) -> None:
    """PRO_RUN_PDF_WORKER=1: a PDF worker thread in this process (tests). `make run` and
    production run `flask pdf worker` processes instead, so web processes never render PDFs."""
    if settings.run_pdf_worker:
        from pro_app.pdf.worker import start_background_worker

        start_background_worker(app)
