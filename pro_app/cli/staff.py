"""`flask staff ...`: create, disable, enable, list staff accounts, reset passwords, change roles.

Passwords are asked at a hidden prompt, or read from standard input when it is not a terminal
(`printf '%s\\n' "$PW" | flask staff create ...`); they are never taken as an argument, where they
would end up in the shell history and the process list.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from pro_app.cli.common import CLI_ACTOR, fail, refused
from pro_app.errors import InputRejected, SelfLockout
from pro_app.extensions import db
from pro_app.models import Role, Site, StaffUser
from pro_app.services import accounts

staff_cli = AppGroup("staff", help="Manage staff accounts.")

ROLES = click.Choice([role.value for role in Role])


def read_password(confirm: bool = True) -> str:
    if sys.stdin.isatty():
        value: str = click.prompt(
            "Password", hide_input=True, confirmation_prompt=confirm, prompt_suffix=": "
        )
        return value
    return sys.stdin.readline().rstrip("\r\n")


def _account(username: str) -> StaffUser:
    staff = accounts.find_by_username(username)
    if staff is None:
        fail(f"no staff account {username!r}")
    assert staff is not None
    return staff


def _sites(codes: tuple[str, ...]) -> list[Site]:
    found = list(db.session.scalars(select(Site).where(Site.code.in_(codes))))
    missing = sorted(set(codes) - {site.code for site in found})
    if missing:
        fail(f"no site with code {', '.join(missing)}")
    return found


@staff_cli.command("create")
@click.argument("username")
@click.option("--role", type=ROLES, required=True)
@click.option("--site", "site_codes", multiple=True, required=True, help="Site code; repeatable.")
@click.option(
    "--language", type=click.Choice(["zh_Hans", "en"]), default="zh_Hans", show_default=True
)
def create(username: str, role: str, site_codes: tuple[str, ...], language: str) -> None:
    """Create an account. The user must choose a new password at first sign-in."""
    sites = _sites(site_codes)
    password = read_password()
    try:
        staff = accounts.create_staff(
            username=username,
            role=Role(role),
            sites=sites,
            password=password,
            language=language,
            actor=CLI_ACTOR,
        )
    except InputRejected as exc:
        refused(exc)
        return
    db.session.commit()
    click.echo(
        f"created {staff.username} ({staff.role.value}) at {', '.join(s.code for s in sites)}"
    )


@staff_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable an account and end its sessions; its history stays."""
    staff = _account(username)
    accounts.set_active(staff, False, actor=CLI_ACTOR)
    db.session.commit()
    click.echo(f"disabled {staff.username}")


@staff_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    staff = _account(username)
    accounts.set_active(staff, True, actor=CLI_ACTOR)
    db.session.commit()
    click.echo(f"enabled {staff.username}")


@staff_cli.command("reset-password")
@click.argument("username")
def reset_password(username: str) -> None:
    """Set a new password (to be changed at next sign-in); unlocks and signs out everywhere."""
    staff = _account(username)
    password = read_password()
    try:
        accounts.reset_password(staff, password, actor=CLI_ACTOR)
    except InputRejected as exc:
        refused(exc)
        return
    db.session.commit()
    click.echo(f"password of {staff.username} reset; it must be changed at next sign-in")


@staff_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLES)
def set_role(username: str, role: str) -> None:
    staff = _account(username)
    try:
        accounts.set_role(staff, Role(role), actor=CLI_ACTOR)
    except SelfLockout:  # pragma: no cover - the command line acts as nobody
        fail("refused")
    db.session.commit()
    click.echo(f"{staff.username} is now {staff.role.value}")


@staff_cli.command("list")
def list_staff() -> None:
    for staff in db.session.scalars(select(StaffUser).order_by(StaffUser.username)):
        state = "active" if staff.is_active else "disabled"
        sites = ",".join(site.code for site in staff.sites)
        two_step = "2FA" if staff.totp_secret else "-"
        click.echo(f"{staff.username:24} {staff.role.value:12} {state:9} {two_step:4} {sites}")
