"""Routes for /v2/ip_connections; the rules live in ovp.services.ip_connections."""

from __future__ import annotations

from ovp.api.resources import Collection
from ovp.domain.connection_listing import parse_connection_list_query
from ovp.domain.ids import parse_id
from ovp.services import ip_connections as service

# Telnyx documents 201 for create, as for credential connections.
routes = Collection(
    "/v2/ip_connections", parse_connection_list_query,
    service.kind.list_page, service.kind.create, service.kind.retrieve, service.kind.update,
    service.kind.delete, parse_id,
    created_status=201,
).routes()
