"""The outbound voice profile: its defaults, what a client may send, and how changes apply.

A profile is kept as its wire document (the JSON object Telnyx returns, less `connections_count`),
so reading one back needs no mapping. Create and update are the same operation: create applies the
client's changes to the default profile, update to the stored one.
"""

from __future__ import annotations

from typing import Any, Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from ovp.domain.errors import Problem, ProblemList
from ovp.domain.fields import (
    BillingGroupId,
    CallLimit,
    CallsPerNumber,
    CountryCodes,
    E164Numbers,
    ProfileName,
    Rate,
    SpendLimit,
    Tags,
    TimeOfDay,
)
from ovp.domain.patch import merge_patch
from ovp.domain.resource import NUMERIC_IDS, Kind
from ovp.domain.validation import MISSING, parse_object

RECORD_TYPE = "outbound_voice_profile"


class CallRecordingDocument(TypedDict):
    call_recording_type: str
    call_recording_caller_phone_numbers: list[str]
    call_recording_channels: str
    call_recording_format: str


class CallingWindowDocument(TypedDict):
    start_time: str | None
    end_time: str | None
    calls_per_cld: int | None


class ProfileDocument(TypedDict):
    id: str
    record_type: str
    name: str
    traffic_type: str
    service_plan: str
    usage_payment_method: str
    enabled: bool
    concurrent_call_limit: int | None
    whitelisted_destinations: list[str]
    max_destination_rate: float | None
    daily_spend_limit: str | None
    daily_spend_limit_enabled: bool
    call_recording: CallRecordingDocument
    calling_window: CallingWindowDocument
    billing_group_id: str | None
    tags: list[str]
    created_at: str
    updated_at: str


def default_call_recording() -> CallRecordingDocument:
    return {
        "call_recording_type": "none",
        "call_recording_caller_phone_numbers": [],
        "call_recording_channels": "single",
        "call_recording_format": "wav",
    }


def default_calling_window() -> CallingWindowDocument:
    return {"start_time": None, "end_time": None, "calls_per_cld": None}


def new_profile(profile_id: int, now: str) -> ProfileDocument:
    """A profile with every default and an empty name, before the client's fields apply."""
    return {
        "id": str(profile_id),
        "record_type": RECORD_TYPE,
        "name": "",
        "traffic_type": "conversational",
        "service_plan": "global",
        "usage_payment_method": "rate-deck",
        "enabled": True,
        "concurrent_call_limit": None,
        "whitelisted_destinations": ["US", "CA"],
        "max_destination_rate": None,
        "daily_spend_limit": None,
        "daily_spend_limit_enabled": False,
        "call_recording": default_call_recording(),
        "calling_window": default_calling_window(),
        "billing_group_id": None,
        "tags": [],
        "created_at": now,
        "updated_at": now,
    }


class _Changes(BaseModel):
    # Strict: Telnyx does not turn "5" into 5, and neither do we. Unknown and read-only fields
    # (id, record_type, created_at, ...) are ignored, as Telnyx ignores them.
    model_config = ConfigDict(extra="ignore", strict=True)


class CallRecordingChanges(_Changes):
    call_recording_type: Literal["all", "none", "by_caller_phone_number"] = "none"
    call_recording_caller_phone_numbers: E164Numbers = Field(default_factory=list)
    call_recording_channels: Literal["single", "dual"] = "single"
    call_recording_format: Literal["wav", "mp3"] = "wav"


class CallingWindowChanges(_Changes):
    start_time: TimeOfDay | None = None
    end_time: TimeOfDay | None = None
    calls_per_cld: CallsPerNumber | None = None


class ProfileChanges(_Changes):
    """What a client may send on create and on update; `name` is required on both."""

    name: ProfileName
    traffic_type: Literal["conversational"] = "conversational"
    service_plan: Literal["global"] = "global"
    usage_payment_method: Literal["rate-deck"] = "rate-deck"
    enabled: bool = True
    concurrent_call_limit: CallLimit | None = None
    whitelisted_destinations: CountryCodes = Field(default_factory=list)
    max_destination_rate: Rate | None = None
    daily_spend_limit: SpendLimit | None = None
    daily_spend_limit_enabled: bool = False
    call_recording: CallRecordingChanges | None = None
    calling_window: CallingWindowChanges | None = None
    billing_group_id: BillingGroupId | None = None
    tags: Tags = Field(default_factory=list)


_NESTED_DEFAULTS = {"call_recording": default_call_recording, "calling_window": default_calling_window}


def parse_changes(body: object) -> dict[str, Any]:
    """The fields the client sent, validated and normalised; raises InvalidInput listing every problem."""
    return parse_object(ProfileChanges, body).model_dump(exclude_unset=True)


def apply_changes(profile: ProfileDocument, changes: dict[str, Any], now: str) -> ProfileDocument:
    """The profile with the changes applied as a JSON merge patch (RFC 7396): nested objects merge
    field by field, arrays are replaced whole, and `null` for a nested object restores its defaults."""
    result: ProfileDocument = merge_patch(profile, changes, _NESTED_DEFAULTS, now)  # type: ignore[assignment]
    check_consistency(result)
    return result


# Telnyx's schema gives these fields no null; when they are unset, the answer leaves them out,
# which every SDK reads as null (None, undefined) just the same.
_OMITTED_WHEN_NULL = ("max_destination_rate", "daily_spend_limit")


def wire_view(profile: ProfileDocument, connections_count: int) -> dict[str, Any]:
    """The profile as the API answers it."""
    view: dict[str, Any] = {key: value for key, value in profile.items()
                            if value is not None or key not in _OMITTED_WHEN_NULL}
    view["calling_window"] = {key: value for key, value in profile["calling_window"].items() if value is not None}
    view["connections_count"] = connections_count
    return view


def check_consistency(profile: ProfileDocument) -> None:
    """Rules that tie one field to another, checked on the profile as it would be stored."""
    problems = ProblemList()
    code, title = MISSING
    if profile["daily_spend_limit_enabled"] and profile["daily_spend_limit"] is None:
        problems.add(
            Problem(
                code,
                title,
                "daily_spend_limit is required while daily_spend_limit_enabled is true.",
                pointer="/daily_spend_limit",
            )
        )
    recording = profile["call_recording"]
    if (
        recording["call_recording_type"] == "by_caller_phone_number"
        and not recording["call_recording_caller_phone_numbers"]
    ):
        problems.add(
            Problem(
                code,
                title,
                "call_recording_caller_phone_numbers needs at least one number "
                "when call_recording_type is by_caller_phone_number.",
                pointer="/call_recording/call_recording_caller_phone_numbers",
            )
        )
    problems.raise_if_any()


KIND = Kind[ProfileDocument, int](
    RECORD_TYPE, NUMERIC_IDS, lambda profile_id, _account, now: new_profile(profile_id, now),
    parse_changes, parse_changes, apply_changes, view=wire_view,
)
