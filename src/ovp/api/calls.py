"""Handlers for /ovp/call_authorizations: a switch asks before each outbound call, and says when
it ended. ovp's own resource, beside Telnyx's, in the same envelope."""

from __future__ import annotations

from datetime import datetime

from ovp.api import call_records
from ovp.api.call_views import allowed_view, refused_view
from ovp.api.http import Request, Response, json_response
from ovp.api.metrics import AUTHORIZATIONS
from ovp.api.resources import path_id
from ovp.api.routing import Route
from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.billing import money_text
from ovp.domain.calls.call_ids import record_of_path
from ovp.domain.calls.refusal import Refusal
from ovp.domain.clock import CLOCK
from ovp.domain.errors import NotFound
from ovp.services import calls as service

PREFIX = "/ovp/call_authorizations"


def _sent(request: Request, webhooks: int) -> None:
    """The write committed events to send: this server's sender sends them now."""
    if webhooks and request.app.webhooks is not None:
        request.app.webhooks.wake()


def _answer(authorization: Authorization, now: datetime) -> Response:
    return json_response({"data": allowed_view(authorization, int(now.timestamp() * 1000))})


async def authorize(request: Request) -> Response:
    asked = service.parse_authorize(await request.json())
    app, account_id, now = request.app, request.account_id, CLOCK.now()
    outcome = await app.database.write(
        lambda tx: service.authorize(tx, account_id, asked, app.ids, app.calls, now, app.full_profiles))
    _sent(request, outcome.subject.webhooks)
    if isinstance(outcome.decision, Refusal):
        AUTHORIZATIONS.labels("rejected", outcome.decision.code).inc()
        return json_response({"data": refused_view(outcome.decision)})
    AUTHORIZATIONS.labels("allowed", "").inc()
    return _answer(outcome.decision, now)


def call_path_id(request: Request) -> int:
    """A call is named by its record's id or by its call_control_id (`v3:<id>`), as its webhooks
    and its connection's active calls give it."""
    call_id = record_of_path(request.path_params["id"])
    if call_id is None:
        raise NotFound()
    return call_id


async def retrieve(request: Request) -> Response:
    call_id, account_id = call_path_id(request), request.account_id
    found = await request.app.database.read(lambda tx: service.retrieve_decision(tx, account_id, call_id))
    if isinstance(found, Refusal):
        return json_response({"data": refused_view(found)})
    return _answer(found, CLOCK.now())


async def answer(request: Request) -> Response:
    call_id, account_id, now = call_path_id(request), request.account_id, CLOCK.now()
    answered = await request.app.database.write(service.answering(account_id, call_id, now))
    _sent(request, answered.webhooks)
    return _answer(answered, now)


async def end(request: Request) -> Response:
    call_id = call_path_id(request)
    duration = service.parse_end(await request.json())
    account_id, now = request.account_id, CLOCK.now()
    ended = await request.app.database.write(service.ending(account_id, call_id, duration, now))
    _sent(request, ended.webhooks)
    return _answer(ended, now)


async def profile_usage(request: Request) -> Response:
    profile_id, account_id, now = path_id(request), request.account_id, CLOCK.now()
    counters = await request.app.database.read(lambda tx: service.profile_counters(tx, account_id, profile_id, now))
    return json_response({"data": {
        "record_type": "outbound_voice_profile_usage",
        "outbound_voice_profile_id": str(profile_id),
        "day": now.date().isoformat(),
        "active_calls": counters.active_calls,
        "reserved": money_text(counters.reserved_micros),
        "spent": money_text(counters.spent_micros),
        "currency": "USD",
    }})


routes = [
    Route.at(PREFIX, {"POST": authorize, "GET": call_records.list_records}),
    Route.at("/ovp/usage_reports", {"GET": call_records.usage_report}),
    Route.at(PREFIX + "/{id}", {"GET": retrieve}),
    Route.at(PREFIX + "/{id}/actions/answer", {"POST": answer}),
    Route.at(PREFIX + "/{id}/actions/end", {"POST": end}),
    Route.at("/ovp/outbound_voice_profiles/{id}/usage", {"GET": profile_usage}),
]
