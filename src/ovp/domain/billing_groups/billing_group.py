"""The billing group: a name an account files costs under (Telnyx's `/v2/billing_groups`; shapes from
the official SDKs' types, PyPI `telnyx` 4.189 `types/billing_group*.py` and npm `telnyx` 7.24
`resources/billing-groups`). A profile's `billing_group_id` may name one.

Ids are UUIDs, as Telnyx's are. `organization_id` is Telnyx's id of the owning organization; ovp
answers a UUID derived from the account, the same on every answer. A deleted group is answered once
more, with `deleted_at` set, and then is gone.
"""

from __future__ import annotations

import uuid
from typing import Any, TypedDict

from pydantic import BaseModel, ConfigDict

from ovp.domain.connections.fields import ShortText
from ovp.domain.patch import merge_patch
from ovp.domain.resource import UUID_IDS, Kind
from ovp.domain.validation import parse_object

RECORD_TYPE = "billing_group"
_ORGANIZATIONS = uuid.UUID("0c6f4b1e-5d0a-4a53-8e7e-3f9b2a61c7d4")  # ovp's namespace for organization ids


class BillingGroupDocument(TypedDict):
    id: str
    record_type: str
    name: str | None
    organization_id: str
    created_at: str
    updated_at: str
    deleted_at: str | None


class BillingGroupChanges(BaseModel):
    # Strict, and unknown or read-only fields ignored, as for profiles. No field is required.
    model_config = ConfigDict(extra="ignore", strict=True)

    # A name, or none sent: the document gives it no null (a new group's name is null until one is).
    name: ShortText = ""


def organization_id(account_id: str) -> str:
    return str(uuid.uuid5(_ORGANIZATIONS, account_id))


def new_billing_group(group_id: str, account_id: str, now: str) -> BillingGroupDocument:
    return {"id": group_id, "record_type": RECORD_TYPE, "name": None, "organization_id": organization_id(account_id),
            "created_at": now, "updated_at": now, "deleted_at": None}


def parse_changes(body: object) -> dict[str, Any]:
    """The fields of a create or update request, validated; raises InvalidInput listing every problem."""
    return parse_object(BillingGroupChanges, body).model_dump(exclude_unset=True)


def apply_changes(group: BillingGroupDocument, changes: dict[str, Any], now: str) -> BillingGroupDocument:
    result: BillingGroupDocument = merge_patch(group, changes, {}, now)  # type: ignore[assignment]
    return result


def _deleted_view(group: BillingGroupDocument, now: str) -> dict[str, Any]:
    """A deleted group is answered once more, with `deleted_at` set."""
    return {**group, "deleted_at": now}


KIND = Kind[BillingGroupDocument, str](
    RECORD_TYPE, UUID_IDS, new_billing_group, parse_changes, parse_changes, apply_changes,
    deleted_view=_deleted_view,
)
