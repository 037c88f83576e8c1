"""Command-line verbs for coordinators and operators (`flask --app wsgi ...`)."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from pro_app import clock
from pro_app.cli.backup import backup, restore
from pro_app.cli.common import CLI_ACTOR, fail, refused
from pro_app.cli.pdf import pdf_cli
from pro_app.cli.staff import staff_cli
from pro_app.errors import DomainError, EnrolmentError
from pro_app.extensions import db
from pro_app.languages import LANGUAGES
from pro_app.models import Participant, ParticipantStatus, Role, Sex, Site, Visit
from pro_app.questionnaire.catalog import catalog
from pro_app.services import accounts, answering, audit, enrolment, exports, links
from pro_app.services.exports import flat
from pro_app.services.exports import source as export_source
from pro_app.services.exports.targets import StreamTarget, target_for

participants_cli = AppGroup("participants", help="Enrol participants.")
links_cli = AppGroup("links", help="Issue and revoke visit links.")
export_cli = AppGroup("export", help="Export sealed records (see docs/exports.md).")
sites_cli = AppGroup("sites", help="Manage sites.")
audit_cli = AppGroup("audit", help="Check the audit trail.")
instruments_cli = AppGroup("instruments", help="Check instrument files and text packs.")


def link_url(token: str) -> str:
    return f"{current_app.config['PRO_SETTINGS'].base_url}/s/{token}"


def _grace_days() -> int:
    grace: int = current_app.config["PRO_SETTINGS"].link_grace_days
    return grace


@sites_cli.command("create")
@click.argument("code")
@click.option("--name-en", required=True)
@click.option("--name-zh", required=True)
@click.option("--timezone", default="Asia/Shanghai", show_default=True)
@click.option("--study-id-pattern", default=r"^PRIME-\d{3}$", show_default=True)
@click.option("--contact-en", default="")
@click.option("--contact-zh", default="")
@click.option("--phone", default="", help="Tap-to-call number on patient error pages.")
def create_site(code: str, **fields: str) -> None:
    """Create a site, or update its names if it exists."""
    site = ensure_site(code, **fields)
    db.session.commit()
    click.echo(f"site {site.code}: {site.name_en} / {site.name_zh}")


def ensure_site(code: str, **fields: str) -> Site:
    site = db.session.scalar(db.select(Site).where(Site.code == code))
    created = site is None
    if site is None:
        site = Site(code=code)
        db.session.add(site)
    for key, value in fields.items():
        setattr(site, key, value)
    db.session.flush()
    action = "site.created" if created else "site.updated"
    audit.record(action, CLI_ACTOR, site_id=site.id, code=code)
    return site


@participants_cli.command("enrol")
@click.argument("study_id")
@click.option("--site", "site_code", required=True, help="Site code, e.g. SEH.")
@click.option("--sex", type=click.Choice([s.value for s in Sex]), required=True)
@click.option("--birth-year", type=int, required=True)
@click.option("--height", "height_cm", type=int, required=True, help="Height in cm.")
@click.option(
    "--language", type=click.Choice(["zh_Hans", "en"]), default="zh_Hans", show_default=True
)
@click.option(
    "--day0", type=click.DateTime(["%Y-%m-%d"]), required=True, help="First infusion date."
)
def enrol_participant(
    study_id: str,
    site_code: str,
    sex: str,
    birth_year: int,
    height_cm: int,
    language: str,
    day0: object,
) -> None:
    """Enrol a participant (study id only: no name, phone or ID number) and lay out the visits."""
    site = db.session.scalar(db.select(Site).where(Site.code == site_code))
    if site is None:
        fail(f"no site with code {site_code}")
        return
    assert hasattr(day0, "date")
    try:
        participant = enrolment.enrol(
            site=site,
            study_id=study_id,
            sex=Sex(sex),
            birth_year=birth_year,
            height_cm=height_cm,
            preferred_language=language,
            day0=day0.date(),
            schedule=catalog().schedule,
            actor=CLI_ACTOR,
        )
    except EnrolmentError as exc:
        refused(exc)
        return
    db.session.commit()
    click.echo(f"enrolled {participant.study_id} at {site.code}")
    for visit in participant.visits:
        window = f"{visit.window_start} .. {visit.window_end}"
        click.echo(f"  {visit.code:9} {visit.target_date}  window {window}")


@links_cli.command("issue")
@click.argument("study_id")
@click.argument("visit_code")
@click.option("--reason", default="", help="Why: required when this replaces an active link.")
def issue_link(study_id: str, visit_code: str, reason: str) -> None:
    """Issue the link for a visit and print it (it is shown only this once). A visit that already
    has an active link is reissued, which needs --reason; the rules are those of the desk."""
    visit = _visit(study_id, visit_code)
    schedule, grace = catalog().schedule, _grace_days()
    try:
        if links.active_link(visit) is None:
            _link, token = links.issue_first(
                visit, actor=CLI_ACTOR, schedule=schedule, grace_days=grace
            )
        else:
            _link, token = links.reissue(
                visit, actor=CLI_ACTOR, reason=reason, schedule=schedule, grace_days=grace
            )
    except DomainError as exc:
        refused(exc)
        return
    db.session.commit()
    click.echo(link_url(token))


@links_cli.command("revoke")
@click.argument("study_id")
@click.argument("visit_code")
@click.option("--reason", required=True, help="Why (recorded in the audit trail).")
def revoke_link(study_id: str, visit_code: str, reason: str) -> None:
    """Revoke the active link of a visit, without a replacement."""
    visit = _visit(study_id, visit_code)
    try:
        links.revoke_active(visit, actor=CLI_ACTOR, reason=reason)
    except DomainError as exc:
        refused(exc)
        return
    db.session.commit()
    click.echo("revoked")


def _visit(study_id: str, visit_code: str) -> Visit:
    participant = enrolment.find_participant(study_id)
    if participant is None:
        fail(f"no participant {study_id}")
    assert participant is not None
    visit = enrolment.find_visit(participant, visit_code)
    if visit is None:
        fail(f"no visit {visit_code}; visits are {', '.join(catalog().schedule.codes)}")
    assert visit is not None
    return visit


def _export_request(fmt: str, history: bool) -> exports.ExportRequest:
    return exports.ExportRequest(
        format=fmt,
        site_ids=None,
        history=history,
        base_url=current_app.config["PRO_SETTINGS"].base_url,
    )


def _export_command(fmt: str, help_text: str) -> None:
    @export_cli.command(fmt, help=help_text)
    @click.option(
        "-o", "--output", "path", type=click.Path(path_type=Path), required=True, help="Where."
    )
    @click.option("--history", is_flag=True, help="Every version, not only the current ones.")
    def command(path: Path, history: bool) -> None:
        if fmt == "sdtm" and history:
            fail("SDTM tabulates the current data only; use --history with csv, odm or fhir")
        if fmt == "odm":
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as out:
                summary = exports.write(
                    _export_request(fmt, history),
                    StreamTarget(out),
                    catalog(),
                    actor=CLI_ACTOR,
                    destination=str(path),
                )
        else:
            summary = exports.write(
                _export_request(fmt, history),
                target_for(path),
                catalog(),
                actor=CLI_ACTOR,
                destination=str(path),
            )
        db.session.commit()
        versions = "record versions" if history else "current records"
        click.echo(f"{fmt}: {summary.records} {versions} -> {path}")


_export_command("csv", "Flat CSV (records.csv + dictionary.csv) into a folder or a .zip.")
_export_command("odm", "CDISC ODM 1.3.2 XML file.")
_export_command("sdtm", "SDTM datasets (.xpt and .csv) with define.xml into a folder or a .zip.")
_export_command("fhir", "FHIR R4 NDJSON (Questionnaire, QuestionnaireResponse): folder or .zip.")


@export_cli.command("responses")
@click.option(
    "--format", "fmt", type=click.Choice(["json", "csv"]), default="json", show_default=True
)
@click.option("--history", is_flag=True, help="Every version, not only the current ones.")
def export_responses(fmt: str, history: bool) -> None:
    """Print the sealed records to standard output: JSON as sealed, or the flat CSV rows."""
    out = sys.stdout.buffer
    records = export_source.records(None, history=history)
    count = (
        flat.write_json(out, records) if fmt == "json" else flat.write_rows(out, catalog(), records)
    )
    out.flush()
    audit.record("records.exported", CLI_ACTOR, format=fmt, history=history, records=count)
    db.session.commit()


@audit_cli.command("verify")
def verify_audit() -> None:
    """Walk the audit trail's MAC chain with the audit key and hold it against the newest signed
    checkpoint and the sealed records; exit 1 if an event was altered, inserted or removed."""
    report = audit.verify_chain()
    anchored = (
        f"; checkpoint {report.checkpoint.summary}" if report.checkpoint else "; no checkpoint yet"
    )
    if report.ok:
        click.echo(f"audit trail intact: {report.events} events{anchored}")
        return
    where = f" at event {report.first_bad_id}" if report.first_bad_id is not None else ""
    fail(f"audit trail broken{where}: {report.fault}{anchored}")


@audit_cli.command("checkpoint")
def checkpoint_audit() -> None:
    """Write a signed checkpoint of the trail now (also done daily and at every binder export)."""
    written = audit.write_checkpoint("requested")
    click.echo(f"checkpoint {written.path}: {written.summary}")


@instruments_cli.command("check")
def check_instruments() -> None:
    """Instruments, text packs and the schedule were validated at start-up; say what is in use."""
    loaded = catalog()
    for instrument in loaded.instruments.values():
        click.echo(f"{instrument.id} {instrument.version} ({len(instrument.item_ids)} items)")
    for (instrument_id, language), pack in sorted(loaded.textpacks.items()):
        kind = "DEMO wording" if pack.demo else "licensed"
        identity = f"{pack.pack_id} sha256 {pack.sha256[:12]}…"
        click.echo(f"  {instrument_id}/{language}: {identity} {kind}")
    for instrument_id, scales in loaded.scales.items():
        for scale in scales:
            for language in LANGUAGES:
                found = loaded.scale_pack(scale, language)
                shown = (
                    f"{found.pack_id} sha256 {found.sha256[:12]}… ({found.scale_version})"
                    if found
                    else "not installed: numbers only"
                )
                click.echo(f"  {instrument_id} {scale}/{language}: {shown}")
    click.echo(f"schedule {loaded.schedule.version}: {', '.join(loaded.schedule.codes)}")


@click.command("demo")
def demo() -> None:
    """Create (or keep) the demo site, participant and staff; print a link to the current visit."""
    site = ensure_site(
        "SEH",
        name_en="Shanghai East Hospital, Heart Failure Department",
        name_zh="上海市东方医院 心力衰竭科",
        timezone="Asia/Shanghai",
        study_id_pattern=r"^PRIME-\d{3}$",
        contact_en="Study nurse: +86 21 3880 4518",
        contact_zh="研究护士电话：021-3880 4518",
        phone="+86 21 3880 4518",
    )
    today = clock.today_in(site.timezone)
    participant, visit = demo_visit(site, today, _grace_days())
    replaced = links.active_link(visit)
    _link, token = links.issue(visit, actor=CLI_ACTOR, reason="demo start")
    created = {role: ensure_demo_staff(role, site) for role in Role}
    db.session.commit()
    closes = links.closes_on(visit, _grace_days())
    click.echo(
        f"Demo participant {participant.study_id}, visit {visit.code}: open from "
        f"{visit.window_start} until {closes} (site time)"
    )
    click.echo(f"Patient link: {link_url(token)}")
    if replaced is not None:
        click.echo(
            "  (this replaces the link printed by the previous run, which no longer works: "
            "links are stored only as a hash, so an old one cannot be printed again)"
        )
    base_url = current_app.config["PRO_SETTINGS"].base_url
    click.echo(f"Staff sign-in: {base_url}/staff/login")
    for role, (username, password) in created.items():
        if password:
            note = "(change at first sign-in)"
            click.echo(f"  {role.value:12} {username}  password {password}  {note}")
        else:
            click.echo(
                f"  {role.value:12} {username}  (exists; to set a new password: "
                f".venv/bin/flask --app wsgi staff reset-password {username})"
            )


DEMO_OPEN_DAYS = 7


def demo_visit(site: Site, today: date, grace_days: int) -> tuple[Participant, Visit]:
    """A demo participant's visit with a part the patient answers, open today and for at least
    DEMO_OPEN_DAYS more days. An earlier demo participant is reused while one of theirs is;
    otherwise the next demo participant (PRIME-001, PRIME-002, ...) is enrolled with a Day 0 that
    puts the first such visit's window around today."""
    schedule = catalog().schedule
    number = 1
    while (participant := enrolment.find_participant(f"PRIME-{number:03d}")) is not None:
        for visit in participant.visits:
            planned = schedule.visit(visit.code)
            if (
                participant.status is ParticipantStatus.ACTIVE
                and planned.patient_instruments
                and visit.window_start <= today
                and links.closes_on(visit, grace_days) >= today + timedelta(days=DEMO_OPEN_DAYS)
                and not set(planned.patient_instruments) <= answering.sealed_instruments(visit.id)
            ):
                return participant, visit
        number += 1
    first = next(planned for planned in schedule.visits if planned.patient_instruments)
    day0 = today + timedelta(days=DEMO_OPEN_DAYS - first.day - first.days_after - grace_days)
    latest = today + timedelta(days=first.days_before - first.day)
    participant = enrolment.enrol(
        site=site,
        study_id=f"PRIME-{number:03d}",
        sex=Sex.FEMALE,
        birth_year=today.year - 68,
        height_cm=160,
        preferred_language="zh_Hans",
        day0=min(day0, latest),
        schedule=schedule,
        actor=CLI_ACTOR,
    )
    return participant, next(v for v in participant.visits if v.code == first.code)


def ensure_demo_staff(role: Role, site: Site) -> tuple[str, str | None]:
    """The demo account for a role at the demo site: (username, password if created just now)."""
    username = f"demo-{role.value}"
    if accounts.find_by_username(username) is not None:
        return username, None
    password = accounts.temporary_password()
    accounts.create_staff(
        username=username, role=role, sites=[site], password=password, actor=CLI_ACTOR
    )
    return username, password


def init_app(app: Flask) -> None:
    for group in (participants_cli, links_cli, export_cli, sites_cli, audit_cli, instruments_cli):
        app.cli.add_command(group)
    app.cli.add_command(demo)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(staff_cli)
    app.cli.add_command(pdf_cli)
