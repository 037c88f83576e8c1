"""The audit trail as staff read it: one site's or one participant's events, filtered by user,
action and dates, a page at a time, with UTC and site time; and the same events as CSV. Monitors
and coordinators of the site see it (each area has its routes; this is what they share)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, render_template, request, stream_with_context
from werkzeug.datastructures import MultiDict

from pro_app.models import Participant, Site
from pro_app.services import audit, roster
from pro_app.services.exports.flat import neutralise
from pro_app.web.access import current_staff

PER_PAGE = 50
CSV_COLUMNS = (
    "event_id",
    "occurred_at_utc",
    "occurred_at_site",
    "site",
    "participant_id",
    "visit_id",
    "action",
    "actor",
    "details",
    "prev_mac",
    "mac",
)


@dataclass(frozen=True)
class Filters:
    """What the filter form asked for, as typed (kept in the form and in the page links)."""

    actor: str = ""
    action: str = ""
    since: str = ""
    until: str = ""
    page: int = 1

    @property
    def args(self) -> dict[str, str]:
        given = {"actor": self.actor, "action": self.action, "since": self.since}
        return {key: value for key, value in {**given, "until": self.until}.items() if value}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def read_filters(args: MultiDict[str, str]) -> Filters:
    try:
        page = max(1, int(args.get("page", "1")))
    except ValueError:
        page = 1
    since, until = args.get("since", "")[:10], args.get("until", "")[:10]
    return Filters(
        actor=args.get("actor", "")[:100].strip(),
        action=args.get("action", "")[:60].strip(),
        since=since if _day(since) else "",
        until=until if _day(until) else "",
        page=page,
    )


def selection(
    filters: Filters, site: Site, participant: Participant | None = None
) -> audit.EventFilter:
    """Dates are the site's calendar days: from the start of `since` to the end of `until`."""
    zone = ZoneInfo(site.timezone)

    def start_of(day: date | None) -> datetime | None:
        return datetime.combine(day, datetime.min.time(), zone) if day else None

    until = _day(filters.until)
    return audit.EventFilter(
        site_ids=frozenset({site.id}),
        participant_id=participant.id if participant else None,
        actor=filters.actor,
        action=filters.action,
        since=start_of(_day(filters.since)),
        until=start_of(until + timedelta(days=1)) if until else None,
    )


def page(
    template_args: Mapping[str, object],
    filters: Filters,
    site: Site,
    participant: Participant | None = None,
) -> str:
    chosen = selection(filters, site, participant)
    events, total = audit.events(chosen, page=filters.page, per_page=PER_PAGE)
    return render_template(
        "staff/audit.html",
        events=events,
        total=total,
        filters=filters,
        pages=max(1, -(-total // PER_PAGE)),
        actions=audit.actions(frozenset({site.id})),
        site=site,
        participant=participant,
        **template_args,
    )


def csv_download(
    filename: str, site: Site, filters: Filters, participant: Participant | None
) -> Response:
    """The selected events as CSV, streamed row by row (a spreadsheet opens it: UTF-8 with BOM)."""
    chosen = selection(filters, site, participant)
    zone = ZoneInfo(site.timezone)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + buffer.getvalue()
        for event in audit.all_events(chosen):
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(
                neutralise(value)
                for value in (
                    event.id,
                    event.occurred_at.isoformat(),
                    event.occurred_at.astimezone(zone).isoformat(),
                    site.code,
                    event.participant_id or "",
                    event.visit_id or "",
                    event.action,
                    event.actor,
                    json.dumps(event.details, ensure_ascii=False, sort_keys=True),
                    event.prev_hash,
                    event.hash,
                )
            )
            yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response


def add_routes(bp: Blueprint, *, site_nav: str) -> None:
    """The audit trail's four routes on a staff area (a participant's and the site's; page and CSV),
    scoped to the signed-in user's sites like every other page of the area."""

    def site_ids() -> set[int]:
        staff = current_staff()
        assert staff is not None  # the area's guard admits only its signed-in staff
        return staff.site_ids

    def links(page: str, nav: str, **endpoint_args: int) -> dict[str, object]:
        return {
            "nav": nav,
            "csv_endpoint": f"{bp.name}.{page}_audit_csv",
            "page_endpoint": f"{bp.name}.{page}_audit",
            "endpoint_args": endpoint_args,
        }

    def participant_audit(participant_id: int) -> str:
        found = roster.participant_for(site_ids(), participant_id)
        chosen = read_filters(request.args)
        return page(
            links("participant", "participants", participant_id=found.id), chosen, found.site, found
        )

    def participant_audit_csv(participant_id: int) -> Response:
        found = roster.participant_for(site_ids(), participant_id)
        name = f"audit_{found.site.code}_{found.study_id}.csv"
        return csv_download(name, found.site, read_filters(request.args), found)

    def site_audit(site_id: int) -> str:
        site = roster.site_for(site_ids(), site_id)
        return page(links("site", site_nav, site_id=site.id), read_filters(request.args), site)

    def site_audit_csv(site_id: int) -> Response:
        site = roster.site_for(site_ids(), site_id)
        return csv_download(f"audit_{site.code}.csv", site, read_filters(request.args), None)

    bp.add_url_rule("/participants/<int:participant_id>/audit", view_func=participant_audit)
    bp.add_url_rule("/participants/<int:participant_id>/audit.csv", view_func=participant_audit_csv)
    bp.add_url_rule("/sites/<int:site_id>/audit", view_func=site_audit)
    bp.add_url_rule("/sites/<int:site_id>/audit.csv", view_func=site_audit_csv)
