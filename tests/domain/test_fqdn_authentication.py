"""Table-driven tests of an FQDN connection's authentication: where each of its fields is the
connection's, how the password shows, and a seeded connection's authentication."""

from __future__ import annotations

from typing import Any

import pytest

from ovp.domain.connections import fqdn_authentication as authentication
from ovp.domain.connections import fqdn_connection
from ovp.domain.errors import InvalidInput

NOW = "2026-01-02T03:04:05.678Z"


def connection(**changes: Any) -> dict[str, Any]:
    return fqdn_connection.apply_changes(fqdn_connection.new_fqdn_connection(7, NOW), changes, NOW)


@pytest.mark.parametrize(
    ("sent", "changes"),
    [
        ({"user_name": "pbx0001"}, {"user_name": "pbx0001"}),
        ({"password": "s3cret-pass"}, {"password": "s3cret-pass"}),
        ({"fqdn_outbound_authentication": "ip-authentication"}, {"outbound": {"ip_authentication_method":
                                                                              "ip-authentication"}}),
        ({"ip_authentication_method": "token"}, {"fqdn_authentication": {"ip_authentication_method": "token"}}),
        ({"txt_name": "_teams", "txt_ttl": 0, "txt_value": "v"},
         {"txt_name": "_teams", "txt_ttl": 0, "txt_value": "v"}),
        ({"webhook_url": "https://a.example"}, {"webhook_event_url": "https://a.example"}),
        ({"failover_url": ""}, {"webhook_event_failover_url": ""}),
        ({"user_name": None, "webhook_url": None}, {"user_name": None, "webhook_event_url": None}),
        ({"microsoft_teams_sbc": True, "id": "9"}, {}),  # read-only here
    ],
)
def test_each_field_is_the_connections(sent: dict[str, Any], changes: dict[str, Any]) -> None:
    assert authentication.parse_changes(sent) == changes


def test_the_view_reads_each_field_where_the_connection_keeps_it() -> None:
    changed = connection(**authentication.parse_changes({
        "user_name": "pbx0001", "password": "s3cret-pass", "fqdn_outbound_authentication": "credential-authentication",
        "ip_authentication_method": "p-charge-info", "txt_ttl": 60}), microsoft_teams_sbc=True)
    assert authentication.view(changed) == {
        "id": "7", "record_type": "fqdn_authentication", "connection_id": "7", "user_name": "pbx0001",
        "password": "********", "fqdn_outbound_authentication": "credential-authentication",
        "ip_authentication_method": "p-charge-info", "microsoft_teams_sbc": True, "txt_name": None, "txt_ttl": 60,
        "txt_value": None, "webhook_url": None, "failover_url": "",
    }
    assert "fqdn_authentication" not in fqdn_connection.wire_view(changed)


@pytest.mark.parametrize(
    ("previous", "now", "shown"),
    [
        (None, None, None),  # nothing to mask
        (None, "s3cret-pass", "s3cret-pass"),  # the write changed it
        ("s3cret-pass", "s3cret-pass", "********"),  # the same one again
        ("s3cret-pass", "an0ther-pass", "an0ther-pass"),
        ("s3cret-pass", None, None),
    ],
)
def test_a_written_password_shows_when_the_write_changed_it(previous: str | None, now: str | None,
                                                            shown: str | None) -> None:
    before, after = connection(password=previous), connection(password=now)
    assert authentication.written_view(after, before)["password"] == shown
    assert fqdn_connection.KIND.shown_written(after, before, 0)["password"] == shown


def test_a_seeded_connections_authentication_merges_into_its_outbound() -> None:
    seeded = authentication.parse_seeded({
        "connection_name": "pbx", "outbound": {"channel_limit": 2},
        "fqdn_authentication": {"fqdn_outbound_authentication": "ip-authentication", "user_name": "pbx0001"}})
    assert seeded["outbound"] == {"channel_limit": 2, "ip_authentication_method": "ip-authentication"}
    assert seeded["user_name"] == "pbx0001"
    assert authentication.parse_seeded({"connection_name": "pbx"}) == {"connection_name": "pbx"}


def test_a_seeded_connections_problems_are_listed_together() -> None:
    with pytest.raises(InvalidInput) as caught:
        authentication.parse_seeded({"connection_name": "", "fqdn_authentication": {"txt_ttl": -1}})
    assert sorted(problem.pointer or "" for problem in caught.value.problems) == [
        "/connection_name", "/fqdn_authentication/txt_ttl"]
