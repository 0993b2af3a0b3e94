"""Routes for /v2/fqdns; the rules live in ovp.services.fqdns."""

from __future__ import annotations

from ovp.api.resources import Collection
from ovp.domain.fqdn import parse_fqdn_list_query
from ovp.domain.ids import parse_id
from ovp.services import fqdns as service

# Telnyx documents 201 for create, as for IPs.
routes = Collection(
    "/v2/fqdns", parse_fqdn_list_query,
    service.list_page, service.create, service.retrieve, service.update, service.delete, parse_id,
    created_status=201,
).routes()
