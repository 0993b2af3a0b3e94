"""Telnyx's GET /v2/detail_records (the SDKs' `detail_records.list`): the account's finished calls
and refusals as sip-trunking detail records."""

from __future__ import annotations

from dataclasses import asdict

from ovp.api.call_views import detail_record_view
from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.calls.detail_records import parse_detail_record_query
from ovp.domain.clock import CLOCK
from ovp.services import call_records as service

DETAIL_RECORDS = "/v2/detail_records"


async def list_detail_records(request: Request) -> Response:
    now_ms = CLOCK.now_ms()
    query, account_id = parse_detail_record_query(request.query, now_ms), request.account_id
    found, meta = await request.app.database.read(
        lambda tx: service.detail_record_page(tx, account_id, query, now_ms))
    return json_response({"data": [detail_record_view(record) for record in found], "meta": asdict(meta)})


routes = [Route.at(DETAIL_RECORDS, {"GET": list_detail_records})]
