"""Handlers for Telnyx's /v2/webhook_deliveries (what ovp delivered to a connection's webhook URL,
and what failed) and ovp's /ovp/webhook_signing_key (the public key that verifies every event)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import orjson

from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.clock import timestamp_of_ms, wall_ms
from ovp.domain.errors import NotFound
from ovp.domain.resource import parse_uuid
from ovp.domain.webhooks.deliveries import parse_delivery_list_query
from ovp.domain.webhooks.signing import KeyPair
from ovp.services import webhook_deliveries as service
from ovp.store.webhooks import Delivery

DELIVERIES = "/v2/webhook_deliveries"


def delivery_view(delivery: Delivery, account_id: str) -> dict[str, Any]:
    """A delivery in the SDKs' WebhookDelivery shape; `status` is null while it is being retried."""
    return {
        "record_type": "webhook_delivery",
        "id": delivery.id,
        "user_id": account_id,
        "status": delivery.status if delivery.status != "pending" else None,
        "started_at": timestamp_of_ms(delivery.created_ms),
        "finished_at": None if delivery.finished_ms is None else timestamp_of_ms(delivery.finished_ms),
        "webhook": orjson.Fragment(orjson.dumps(orjson.loads(delivery.payload)["data"])),
        "attempts": orjson.Fragment(delivery.attempts),
    }


async def list_deliveries(request: Request) -> Response:
    query = parse_delivery_list_query(request.query)
    account_id = request.account_id
    found, meta = await request.app.database.read(lambda tx: service.list_page(tx, account_id, query))
    return json_response({"data": [delivery_view(delivery, account_id) for delivery in found], "meta": asdict(meta)})


async def retrieve_delivery(request: Request) -> Response:
    delivery_id = parse_uuid(request.path_params["id"])
    if delivery_id is None:
        raise NotFound()
    account_id = request.account_id
    found = await request.app.database.read_one(lambda tx: service.retrieve(tx, account_id, delivery_id))
    return json_response({"data": delivery_view(found, account_id)})


async def signing_key(request: Request) -> Response:
    pair = await request.app.database.read_one(service.signing_key)
    if pair is None:  # asked before this deployment's first sender made it
        candidate, now_ms = KeyPair.generate(), wall_ms()
        pair = await request.app.database.write(lambda tx: service.ensure_signing_key(tx, candidate, now_ms))
    return json_response({"data": {"record_type": "webhook_signing_key", "public_key": pair.public_key,
                                   "algorithm": "ed25519"}})


routes = [
    Route.at(DELIVERIES, {"GET": list_deliveries}),
    Route.at(DELIVERIES + "/{id}", {"GET": retrieve_delivery}),
    Route.at("/ovp/webhook_signing_key", {"GET": signing_key}),
]
