"""Table-driven tests of what a client may send, and how changes apply."""

from __future__ import annotations

from typing import Any

import pytest

from ovp.domain.errors import InvalidInput
from ovp.domain.profiles.profile import apply_changes, new_profile, parse_changes

NOW = "2026-01-02T03:04:05.678Z"
LATER = "2026-01-02T03:04:06.000Z"


def created(**fields: Any) -> dict[str, Any]:
    profile = apply_changes(new_profile(1, NOW), parse_changes({"name": "office", **fields}), NOW)
    return dict(profile)


def create_from(body: Any) -> None:
    apply_changes(new_profile(1, NOW), parse_changes(body), NOW)


def problems(body: Any) -> list[tuple[str, str | None]]:
    with pytest.raises(InvalidInput) as caught:
        create_from(body)
    return [(problem.code, problem.pointer) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("traffic_type", "conversational"),
        ("service_plan", "global"),
        ("usage_payment_method", "rate-deck"),
        ("enabled", True),
        ("concurrent_call_limit", None),
        ("whitelisted_destinations", ["US", "CA"]),
        ("max_destination_rate", None),
        ("daily_spend_limit", None),
        ("daily_spend_limit_enabled", False),
        (
            "call_recording",
            {
                "call_recording_type": "none",
                "call_recording_caller_phone_numbers": [],
                "call_recording_channels": "single",
                "call_recording_format": "wav",
            },
        ),
        ("calling_window", {"start_time": None, "end_time": None, "calls_per_cld": None}),
        ("billing_group_id", None),
        ("tags", []),
        ("record_type", "outbound_voice_profile"),
    ],
)
def test_defaults(field: str, expected: object) -> None:
    assert created()[field] == expected


@pytest.mark.parametrize(
    ("sent", "field", "stored"),
    [
        ({"daily_spend_limit": "100"}, "daily_spend_limit", "100.00"),
        ({"daily_spend_limit": "0.5"}, "daily_spend_limit", "0.50"),
        ({"daily_spend_limit": "12.34"}, "daily_spend_limit", "12.34"),
        ({"calling_window": {"start_time": "08:00"}}, "calling_window",
         {"start_time": "08:00:00", "end_time": None, "calls_per_cld": None}),
        ({"calling_window": {"start_time": "08:00:00.00Z", "end_time": "20:00:00"}}, "calling_window",
         {"start_time": "08:00:00", "end_time": "20:00:00", "calls_per_cld": None}),
        ({"whitelisted_destinations": ["US", "BR", "US", "AU"]}, "whitelisted_destinations", ["US", "BR", "AU"]),
        ({"billing_group_id": "6A09CDC3-8948-47F0-AA62-74AC943D6C58"}, "billing_group_id",
         "6a09cdc3-8948-47f0-aa62-74ac943d6c58"),
        ({"max_destination_rate": 10}, "max_destination_rate", 10),
        ({"concurrent_call_limit": 10}, "concurrent_call_limit", 10),
        ({"tags": ["a", "b"]}, "tags", ["a", "b"]),
    ],
)
def test_values_are_normalised(sent: dict[str, Any], field: str, stored: object) -> None:
    assert created(**sent)[field] == stored


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("10004", "/name")]),
        ({"name": "ab"}, [("10025", "/name")]),
        ({"name": "x" * 256}, [("10025", "/name")]),
        ({"name": 5}, [("10026", "/name")]),
        ({"name": "office", "enabled": "yes"}, [("10026", "/enabled")]),
        ({"name": "office", "enabled": None}, [("10026", "/enabled")]),
        ({"name": "office", "traffic_type": "short_duration"}, [("10032", "/traffic_type")]),
        ({"name": "office", "service_plan": "us"}, [("10032", "/service_plan")]),
        ({"name": "office", "usage_payment_method": "tariff"}, [("10032", "/usage_payment_method")]),
        ({"name": "office", "concurrent_call_limit": 0}, [("10033", "/concurrent_call_limit")]),
        ({"name": "office", "concurrent_call_limit": "5"}, [("10026", "/concurrent_call_limit")]),
        ({"name": "office", "concurrent_call_limit": 1.5}, [("10026", "/concurrent_call_limit")]),
        ({"name": "office", "max_destination_rate": -0.01}, [("10033", "/max_destination_rate")]),
        ({"name": "office", "max_destination_rate": "10"}, [("10026", "/max_destination_rate")]),
        ({"name": "office", "whitelisted_destinations": ["US", "XX"]}, [("10015", "/whitelisted_destinations/1")]),
        ({"name": "office", "whitelisted_destinations": ["us"]}, [("10015", "/whitelisted_destinations/0")]),
        ({"name": "office", "whitelisted_destinations": "US"}, [("10026", "/whitelisted_destinations")]),
        ({"name": "office", "daily_spend_limit": "-1"}, [("10033", "/daily_spend_limit")]),
        ({"name": "office", "daily_spend_limit": "1.001"}, [("10015", "/daily_spend_limit")]),
        ({"name": "office", "daily_spend_limit": "ten"}, [("10015", "/daily_spend_limit")]),
        ({"name": "office", "daily_spend_limit": 100}, [("10026", "/daily_spend_limit")]),
        ({"name": "office", "daily_spend_limit_enabled": True}, [("10004", "/daily_spend_limit")]),
        ({"name": "office", "call_recording": {"call_recording_type": "some"}},
         [("10032", "/call_recording/call_recording_type")]),
        ({"name": "office", "call_recording": {"call_recording_type": "by_caller_phone_number"}},
         [("10004", "/call_recording/call_recording_caller_phone_numbers")]),
        ({"name": "office", "call_recording": {"call_recording_caller_phone_numbers": ["5551234"]}},
         [("10015", "/call_recording/call_recording_caller_phone_numbers/0")]),
        ({"name": "office", "call_recording": {"call_recording_channels": "quad"}},
         [("10032", "/call_recording/call_recording_channels")]),
        ({"name": "office", "call_recording": {"call_recording_format": "ogg"}},
         [("10032", "/call_recording/call_recording_format")]),
        ({"name": "office", "call_recording": "all"}, [("10026", "/call_recording")]),
        ({"name": "office", "calling_window": {"start_time": "25:00"}}, [("10015", "/calling_window/start_time")]),
        ({"name": "office", "calling_window": {"calls_per_cld": -1}}, [("10033", "/calling_window/calls_per_cld")]),
        ({"name": "office", "billing_group_id": "not-a-uuid"}, [("10015", "/billing_group_id")]),
        ({"name": "office", "tags": ["ok", 7]}, [("10026", "/tags/1")]),
        ([], [("10026", "")]),
        ("office", [("10026", "")]),
    ],
)
def test_each_problem_has_its_code_and_pointer(body: Any, expected: list[tuple[str, str]]) -> None:
    assert problems(body) == expected


def test_every_problem_is_reported_at_once() -> None:
    found = problems({"name": "ab", "enabled": 1, "traffic_type": "x", "concurrent_call_limit": 0, "tags": [1]})
    assert sorted(found) == sorted(
        [("10025", "/name"), ("10026", "/enabled"), ("10032", "/traffic_type"),
         ("10033", "/concurrent_call_limit"), ("10026", "/tags/0")]
    )


def test_enum_problem_lists_the_allowed_values() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_changes({"name": "office", "call_recording": {"call_recording_channels": "quad"}})
    assert "'single'" in caught.value.problems[0].detail
    assert "'dual'" in caught.value.problems[0].detail


def test_read_only_and_unknown_fields_are_ignored() -> None:
    profile = created(id="42", record_type="other", created_at="x", connections_count=9, colour="blue")
    assert profile["id"] == "1"
    assert profile["record_type"] == "outbound_voice_profile"
    assert profile["created_at"] == NOW
    assert "colour" not in profile
    assert "connections_count" not in profile


def test_update_keeps_what_was_not_sent_and_moves_updated_at() -> None:
    before = created(tags=["a"], concurrent_call_limit=5, calling_window={"start_time": "08:00", "calls_per_cld": 3})
    after = apply_changes(before, parse_changes({"name": "renamed"}), LATER)  # type: ignore[arg-type]
    assert after["name"] == "renamed"
    assert {**after, "name": "office", "updated_at": NOW} == before
    assert after["updated_at"] == LATER
    assert after["created_at"] == NOW


@pytest.mark.parametrize(
    ("change", "expected_window"),
    [
        ({"end_time": "20:00"}, {"start_time": "08:00:00", "end_time": "20:00:00", "calls_per_cld": 3}),
        ({"start_time": None}, {"start_time": None, "end_time": None, "calls_per_cld": 3}),
        ({}, {"start_time": "08:00:00", "end_time": None, "calls_per_cld": 3}),
    ],
)
def test_nested_objects_merge_field_by_field(change: dict[str, Any], expected_window: dict[str, Any]) -> None:
    before = created(calling_window={"start_time": "08:00", "calls_per_cld": 3})
    after = apply_changes(before, parse_changes({"name": "office", "calling_window": change}), LATER)  # type: ignore[arg-type]
    assert after["calling_window"] == expected_window


def test_null_nested_object_restores_its_defaults() -> None:
    before = created(call_recording={"call_recording_type": "all", "call_recording_format": "mp3"})
    after = apply_changes(before, parse_changes({"name": "office", "call_recording": None}), LATER)  # type: ignore[arg-type]
    assert after["call_recording"] == created()["call_recording"]


def test_arrays_are_replaced_whole_and_null_clears_nullable_fields() -> None:
    before = created(whitelisted_destinations=["US", "BR"], concurrent_call_limit=4, daily_spend_limit="5")
    after = apply_changes(
        before,  # type: ignore[arg-type]
        parse_changes({"name": "office", "whitelisted_destinations": ["AU"], "concurrent_call_limit": None,
                       "daily_spend_limit": None}),
        LATER,
    )
    assert after["whitelisted_destinations"] == ["AU"]
    assert after["concurrent_call_limit"] is None
    assert after["daily_spend_limit"] is None


def test_consistency_is_checked_on_the_merged_profile() -> None:
    before = created(daily_spend_limit="100", daily_spend_limit_enabled=True)
    with pytest.raises(InvalidInput) as caught:
        apply_changes(before, parse_changes({"name": "office", "daily_spend_limit": None}), LATER)  # type: ignore[arg-type]
    assert [(p.code, p.pointer) for p in caught.value.problems] == [("10004", "/daily_spend_limit")]


def test_negative_zero_spend_limit_is_stored_as_zero() -> None:
    assert created(daily_spend_limit="-0")["daily_spend_limit"] == "0.00"
