"""Routes for /v2/ips; the rules live in ovp.services.ips."""

from __future__ import annotations

from ovp.api.resources import Collection
from ovp.domain.billing_group import parse_group_id
from ovp.domain.ip import parse_ip_list_query
from ovp.services import ips as service

# Telnyx documents 201 for create, as for the connections.
routes = Collection(
    "/v2/ips", parse_ip_list_query,
    service.list_page, service.create, service.retrieve, service.update, service.delete, parse_group_id,
    created_status=201,
).routes()
