"""Table-driven tests of a credential connection's defaults, validation and merge, and of its list query."""

from __future__ import annotations

from typing import Any

import pytest

from ovp.domain.connections.credential_connection import (
    MASKED_PASSWORD,
    ConnectionDocument,
    apply_changes,
    new_connection,
    outbound_profile_id,
    parse_changes,
    parse_new,
    wire_view,
)
from ovp.domain.connections.listing import ConnectionListQuery, parse_connection_list_query
from ovp.domain.errors import InvalidInput
from ovp.domain.listing import ListQuery

NOW = "2026-01-02T03:04:05.678Z"
LATER = "2026-01-02T03:04:06.000Z"
CREDENTIALS = {"connection_name": "office", "user_name": "office1", "password": "s3cret-pass"}


def stored(**fields: Any) -> ConnectionDocument:
    return apply_changes(new_connection(1, NOW), parse_new({**CREDENTIALS, **fields}), NOW)


def created(**fields: Any) -> dict[str, Any]:
    return dict(stored(**fields))


def create_problems(body: Any) -> list[tuple[str, str | None]]:
    with pytest.raises(InvalidInput) as caught:
        apply_changes(new_connection(1, NOW), parse_new(body), NOW)
    return [(problem.code, problem.pointer) for problem in caught.value.problems]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("record_type", "credential_connection"),
        ("active", True),
        ("anchorsite_override", "Latency"),
        ("dtmf_type", "RFC 2833"),
        ("encrypted_media", None),
        ("sip_uri_calling_preference", "disabled"),
        ("webhook_api_version", "1"),
        ("webhook_event_failover_url", ""),
        ("webhook_event_url", None),
        ("webhook_timeout_secs", None),
        ("noise_suppression", "disabled"),
        ("tags", []),
        ("outbound", {"ani_override": "", "ani_override_type": "always", "call_parking_enabled": False,
                      "channel_limit": None, "generate_ringback_tone": False, "instant_ringback_enabled": True,
                      "localization": "US", "outbound_voice_profile_id": None, "t38_reinvite_source": "telnyx"}),
        ("rtcp_settings", {"capture_enabled": False, "port": "rtp+1", "report_frequency_secs": 5}),
        ("jitter_buffer", {"enable_jitter_buffer": False, "jitterbuffer_msec_max": None,
                           "jitterbuffer_msec_min": None}),
        ("noise_suppression_details", {"engine": "denoiser", "attenuation_limit": None}),
        ("created_at", NOW),
        ("updated_at", NOW),
    ],
)
def test_defaults(field: str, expected: object) -> None:
    assert created()[field] == expected


def test_inbound_defaults() -> None:
    inbound = created()["inbound"]
    assert inbound["codecs"] == ["G722", "G711U", "G711A", "G729", "OPUS", "H.264"]
    assert (inbound["ani_number_format"], inbound["dnis_number_format"]) == ("E.164-national", "e164")
    assert (inbound["timeout_1xx_secs"], inbound["timeout_2xx_secs"]) == (3, 90)
    assert inbound["sip_compact_headers_enabled"] is True
    assert inbound["channel_limit"] is None


@pytest.mark.parametrize(
    ("sent", "field", "stored"),
    [
        ({"connection_name": "Front desk"}, "connection_name", "Front desk"),
        ({"user_name": "abcd"}, "user_name", "abcd"),
        ({"user_name": "1234a5678"}, "user_name", "1234a5678"),
        ({"android_push_credential_id": "06B09DFD-7154-4980-8B75-CEBF7A9D4F8E"}, "android_push_credential_id",
         "06b09dfd-7154-4980-8b75-cebf7a9d4f8e"),
        ({"webhook_event_url": "https://example.com/hooks"}, "webhook_event_url", "https://example.com/hooks"),
        ({"webhook_event_failover_url": None}, "webhook_event_failover_url", None),
        ({"encrypted_media": "SRTP"}, "encrypted_media", "SRTP"),
        ({"tags": ["a", "b"]}, "tags", ["a", "b"]),
    ],
)
def test_values_are_kept(sent: dict[str, Any], field: str, stored: object) -> None:
    assert created(**sent)[field] == stored


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, [("10004", "/connection_name"), ("10004", "/user_name"), ("10004", "/password")]),
        ({**CREDENTIALS, "user_name": "abc"}, [("10015", "/user_name")]),
        ({**CREDENTIALS, "user_name": "a" * 33}, [("10015", "/user_name")]),
        ({**CREDENTIALS, "user_name": "office one"}, [("10015", "/user_name")]),
        ({**CREDENTIALS, "user_name": "12345abc"}, [("10015", "/user_name")]),  # no letter among the first 5
        ({**CREDENTIALS, "password": "short"}, [("10025", "/password")]),
        ({**CREDENTIALS, "password": "p" * 129}, [("10025", "/password")]),
        ({**CREDENTIALS, "connection_name": ""}, [("10025", "/connection_name")]),
        ({**CREDENTIALS, "connection_name": 5}, [("10026", "/connection_name")]),
        ({**CREDENTIALS, "active": "true"}, [("10026", "/active")]),
        ({**CREDENTIALS, "active": None}, [("10026", "/active")]),
        ({**CREDENTIALS, "dtmf_type": "rfc2833"}, [("10032", "/dtmf_type")]),
        ({**CREDENTIALS, "webhook_event_url": "example.com"}, [("10015", "/webhook_event_url")]),
        ({**CREDENTIALS, "webhook_timeout_secs": 31}, [("10033", "/webhook_timeout_secs")]),
        ({**CREDENTIALS, "ios_push_credential_id": "nope"}, [("10015", "/ios_push_credential_id")]),
        ({**CREDENTIALS, "outbound": {"outbound_voice_profile_id": "abc"}},
         [("10015", "/outbound/outbound_voice_profile_id")]),
        ({**CREDENTIALS, "outbound": {"outbound_voice_profile_id": 1293384261075731499}},
         [("10026", "/outbound/outbound_voice_profile_id")]),
        ({**CREDENTIALS, "outbound": {"localization": "usa"}}, [("10015", "/outbound/localization")]),
        ({**CREDENTIALS, "outbound": {"channel_limit": -1}}, [("10033", "/outbound/channel_limit")]),
        ({**CREDENTIALS, "inbound": {"timeout_2xx_secs": 601}}, [("10033", "/inbound/timeout_2xx_secs")]),
        ({**CREDENTIALS, "inbound": "none"}, [("10026", "/inbound")]),
        ({**CREDENTIALS, "rtcp_settings": {"port": "5060"}}, [("10032", "/rtcp_settings/port")]),
        ({**CREDENTIALS, "webhook_api_version": "texml"}, [("10015", "/webhook_api_version")]),
        ({**CREDENTIALS, "jitter_buffer": {"jitterbuffer_msec_min": 300, "jitterbuffer_msec_max": 100}},
         [("10015", "/jitter_buffer/jitterbuffer_msec_min")]),
        ([CREDENTIALS], [("10026", "")]),
    ],
)
def test_every_problem_is_reported_with_its_pointer(body: Any, expected: list[tuple[str, str]]) -> None:
    assert create_problems(body) == expected


def test_unknown_and_read_only_fields_are_ignored() -> None:
    connection = created(id="42", record_type="other", created_at="then", surprise=True)
    read_only = (connection["id"], connection["record_type"], connection["created_at"])
    assert read_only == ("1", "credential_connection", NOW)
    assert "surprise" not in connection


def test_texml_is_accepted_with_call_parking() -> None:
    connection = created(webhook_api_version="texml", outbound={"call_parking_enabled": True})
    assert connection["webhook_api_version"] == "texml"


def test_an_update_requires_nothing_and_merges_nested_objects() -> None:
    before = stored(outbound={"channel_limit": 5, "outbound_voice_profile_id": "1293384261075731499"},
                    inbound={"codecs": ["G722"]})
    after = apply_changes(before, parse_changes({"outbound": {"localization": "GB"}, "inbound": {"codecs": ["OPUS"]}}),
                          LATER)
    assert after["outbound"] == {**before["outbound"], "localization": "GB"}
    assert after["inbound"]["codecs"] == ["OPUS"]  # arrays are replaced whole
    assert after["updated_at"] == LATER
    assert {**after, "outbound": before["outbound"], "inbound": before["inbound"], "updated_at": NOW} == before


@pytest.mark.parametrize(
    ("sent", "outbound_profile"),
    [
        ({"outbound": {"outbound_voice_profile_id": None}}, None),
        ({"outbound": None}, None),  # null restores the defaults
        ({"outbound": {"outbound_voice_profile_id": "7"}}, 7),
        ({"outbound": {}}, 1293384261075731499),
        ({}, 1293384261075731499),
    ],
)
def test_an_update_attaches_and_detaches_the_profile(sent: dict[str, Any], outbound_profile: int | None) -> None:
    before = stored(outbound={"outbound_voice_profile_id": "1293384261075731499"})
    assert outbound_profile_id(apply_changes(before, parse_changes(sent), LATER)) == outbound_profile


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"user_name": "ab"}, [("10015", "/user_name")]),
        ({"connection_name": None}, [("10026", "/connection_name")]),
        ({"outbound": {"outbound_voice_profile_id": "0123"}}, [("10015", "/outbound/outbound_voice_profile_id")]),
        ({"tags": "office"}, [("10026", "/tags")]),
    ],
)
def test_update_problems(body: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_changes(body)
    assert [(problem.code, problem.pointer) for problem in caught.value.problems] == expected


@pytest.mark.parametrize(("reveal", "shown"), [(True, "s3cret-pass"), (False, MASKED_PASSWORD)])
def test_the_password_is_shown_only_when_asked(reveal: bool, shown: str) -> None:
    connection = stored()
    assert wire_view(connection, reveal_password=reveal)["password"] == shown
    assert connection["password"] == "s3cret-pass"  # the view never changes what is stored


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ConnectionListQuery()),
        ({"sort": "connection_name", "page[size]": "5"},
         ConnectionListQuery(ListQuery(page_size=5, sort_field="connection_name", descending=False))),
        ({"sort": "-active"}, ConnectionListQuery(ListQuery(sort_field="active", descending=True))),
        ({"filter[connection_name][contains]": "Off"}, ConnectionListQuery(ListQuery(name_contains="Off"))),
        ({"filter[outbound.outbound_voice_profile_id]": "12"}, ConnectionListQuery(profile_id=12)),
        ({"filter[outbound_voice_profile_id]": "12"}, ConnectionListQuery(profile_id=12)),
        ({"filter[outbound.outbound_voice_profile_id]": "12", "filter[outbound_voice_profile_id]": "12"},
         ConnectionListQuery(profile_id=12)),
        ({"filter[outbound.outbound_voice_profile_id]": ""}, ConnectionListQuery()),
    ],
)
def test_list_query_parses(params: dict[str, str], expected: ConnectionListQuery) -> None:
    assert parse_connection_list_query(params) == expected


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"sort": "name"}, [("10032", "sort")]),
        ({"filter[connection_name][contains]": "of"}, [("10025", "filter[connection_name][contains]")]),
        ({"filter[outbound.outbound_voice_profile_id]": "x"},
         [("10015", "filter[outbound.outbound_voice_profile_id]")]),
        ({"filter[outbound.outbound_voice_profile_id]": "1", "filter[outbound_voice_profile_id]": "2"},
         [("10015", "filter[outbound_voice_profile_id]")]),
        ({"page[size]": "0", "sort": "-enabled", "filter[outbound_voice_profile_id]": "-3"},
         [("10033", "page[size]"), ("10032", "sort"), ("10015", "filter[outbound_voice_profile_id]")]),
    ],
)
def test_list_query_rejects_each_bad_parameter_by_name(params: dict[str, str], expected: list[tuple[str, str]]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_connection_list_query(params)
    assert [(problem.code, problem.parameter) for problem in caught.value.problems] == expected
