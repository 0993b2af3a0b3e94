"""Routes for /v2/outbound_voice_profiles; the rules live in ovp.services.profiles."""

from __future__ import annotations

from ovp.api.resources import Collection
from ovp.domain.ids import parse_id
from ovp.domain.listing import parse_list_query
from ovp.services import profiles as service

# The contract documents 200 for create, not 201.
routes = Collection(
    "/v2/outbound_voice_profiles", parse_list_query,
    service.list_page, service.create, service.retrieve, service.update, service.delete, parse_id,
).routes()
