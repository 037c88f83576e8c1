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

from flask import Response, render_template, stream_with_context
from werkzeug.datastructures import MultiDict

from pro_app.models import Participant, Site
from pro_app.services import audit
from pro_app.services.exports.flat import neutralise

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
