"""Handlers for the calls on record: GET /ovp/call_authorizations, a page in Telnyx's envelope or,
asked with `Accept: text/csv`, every matching record as CSV; and GET /ovp/usage_reports."""

from __future__ import annotations

import csv
import functools
import io
import logging
from collections.abc import AsyncIterator
from dataclasses import asdict
from typing import Any

from ovp.api.call_views import record_view
from ovp.api.http import Request, Response, json_response
from ovp.domain.calls.billing import money_text
from ovp.domain.calls.decisions import DecisionFilter, parse_decision_list_query, parse_usage_report_query
from ovp.domain.clock import CLOCK
from ovp.services import call_records as service

log = logging.getLogger("ovp")
# Records an export reads at a time: each chunk is one short read, so a long export holds no
# snapshot, no lock and no more memory than a chunk's.
EXPORT_CHUNK = 1000
# An export's columns: a record's fields, as its JSON has them, but the recording instruction.
CSV_COLUMNS = (
    "id", "decision", "status", "sip_code", "code", "reason", "outbound_voice_profile_id", "connection_id",
    "billing_group_id", "to", "from", "country_code", "prefix", "rate", "currency", "billing_increment",
    "authorized_at", "answered_at", "expires_at", "max_duration_secs", "ended_at", "duration_secs", "billed_secs",
    "cost",
)


def _wants_csv(request: Request) -> bool:
    accepted = [part.split(";", 1)[0].strip().lower() for part in request.headers.get("accept", "").split(",")]
    return "text/csv" in accepted and "application/json" not in accepted


async def list_records(request: Request) -> Response:
    query, account_id = parse_decision_list_query(request.query), request.account_id
    now_ms = CLOCK.now_ms()
    if _wants_csv(request):
        return Response(200, _csv_line(CSV_COLUMNS), {"content-disposition": 'attachment; filename="calls.csv"'},
                        media_type="text/csv; charset=utf-8",
                        stream=_exported(request, account_id, query.filter, now_ms))
    found, meta = await request.app.database.read(lambda tx: service.list_page(tx, account_id, query, now_ms))
    return json_response({"data": [record_view(record, now_ms) for record in found], "meta": asdict(meta)})


def _csv_line(*rows: tuple[object, ...]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\r\n").writerows(rows)  # RFC 4180's line ends
    return text.getvalue().encode()


def _csv_value(value: Any) -> object:
    return "" if value is None else value


async def _exported(request: Request, account_id: str, found: DecisionFilter, now_ms: int) -> AsyncIterator[bytes]:
    """Every record that passes `found`, newest first, a chunk at a time: the records made while it
    runs are newer than its first chunk, so it holds what there was when it began (less what was
    purged meanwhile), each record once."""
    database, before_id, sent = request.app.database, None, 0
    try:
        while True:
            records = await database.read(functools.partial(
                service.export_chunk, account_id=account_id, found=found, now_ms=now_ms, before_id=before_id,
                size=EXPORT_CHUNK))
            if not records:
                return
            views = [record_view(record, now_ms) for record in records]
            yield _csv_line(*(tuple(_csv_value(view.get(column)) for column in CSV_COLUMNS) for view in views))
            sent += len(records)
            if len(records) < EXPORT_CHUNK:
                return
            before_id = records[-1].id
    except Exception:
        log.exception("the export of call records stopped after %d records; the connection is dropped", sent)
        raise


async def usage_report(request: Request) -> Response:
    query, account_id = parse_usage_report_query(request.query), request.account_id
    now_ms = CLOCK.now_ms()
    totals = await request.app.database.read_one(lambda tx: service.usage_report(tx, account_id, query, now_ms))
    data = [{
        "record_type": "usage_report",
        query.group_by: None if total.group is None else str(total.group),
        "calls": total.calls,
        "allowed": total.allowed,
        "refused": total.refused,
        "billed_secs": total.billed_secs,
        "cost": money_text(total.cost_micros),
        "currency": "USD",
    } for total in totals]
    return json_response({"data": data, "meta": {"group_by": query.group_by, "total_results": len(data)}})
