"""Routes for /v2/billing_groups; the rules live in ovp.services.billing_groups."""

from __future__ import annotations

from ovp.api.resources import Collection
from ovp.domain.billing_group import parse_group_id
from ovp.domain.listing import parse_page_query
from ovp.services import billing_groups as service

# Telnyx documents 200 for create, as for profiles.
routes = Collection(
    "/v2/billing_groups", parse_page_query,
    service.list_page, service.create, service.retrieve, service.update, service.delete, parse_group_id,
).routes()
