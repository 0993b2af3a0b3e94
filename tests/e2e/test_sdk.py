"""The official `telnyx` Python SDK against real `ovp serve` processes, exactly as a user would drive it."""

from __future__ import annotations

import re
import secrets
import signal
from typing import Any

import httpx
import pytest
import telnyx
from telnyx.types import OutboundVoiceProfile

from tests.e2e.servers import PROFILES, OvpServer, StartServer, run_ovp

pytestmark = pytest.mark.e2e

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
UNKNOWN_ID = "1293384261075731499"

DEFAULT_CALL_RECORDING = {
    "call_recording_type": "none",
    "call_recording_caller_phone_numbers": [],
    "call_recording_channels": "single",
    "call_recording_format": "wav",
}

RICH_FIELDS: dict[str, Any] = {
    "tags": ["office", "emea"],
    "concurrent_call_limit": 10,
    "calling_window": {"start_time": "08:00", "end_time": "20:00", "calls_per_cld": 5},
    "call_recording": {
        "call_recording_type": "by_caller_phone_number",
        "call_recording_caller_phone_numbers": ["+13125550100"],
        "call_recording_channels": "dual",
        "call_recording_format": "mp3",
    },
    "whitelisted_destinations": ["US", "GB", "DE"],
    "daily_spend_limit": "100.00",
    "daily_spend_limit_enabled": True,
    "max_destination_rate": 0.25,
}


def dump(profile: OutboundVoiceProfile | None) -> dict[str, Any]:
    """The profile as the JSON document the SDK received (every field the server sent)."""
    assert profile is not None
    document: dict[str, Any] = profile.to_dict(mode="json")
    return document


def first_error(error: telnyx.APIStatusError) -> dict[str, Any]:
    body = error.response.json()
    assert isinstance(body, dict)
    assert error.body == body
    errors = body["errors"]
    assert isinstance(errors, list)
    assert errors
    first: dict[str, Any] = errors[0]
    assert isinstance(first["code"], str)
    return first


def is_numeric_id(value: object) -> bool:
    return isinstance(value, str) and value.isdigit() and 0 < int(value) < 2**63


# 1. Every operation --------------------------------------------------------------------------------------


def test_create_answers_a_profile_with_the_documented_defaults(client: telnyx.Telnyx) -> None:
    created = client.outbound_voice_profiles.create(name="Head office")
    profile = created.data
    assert profile is not None
    assert profile.name == "Head office"
    assert is_numeric_id(profile.id)
    assert profile.record_type == "outbound_voice_profile"
    assert profile.traffic_type == "conversational"
    assert profile.service_plan == "global"
    assert profile.usage_payment_method == "rate-deck"
    assert profile.enabled is True
    assert profile.whitelisted_destinations == ["US", "CA"]
    assert profile.connections_count == 0
    assert profile.concurrent_call_limit is None
    assert profile.max_destination_rate is None
    assert profile.daily_spend_limit is None
    assert profile.daily_spend_limit_enabled is False
    assert profile.billing_group_id is None
    assert profile.tags == []
    assert profile.call_recording is not None
    assert profile.call_recording.to_dict(mode="json") == DEFAULT_CALL_RECORDING
    assert profile.calling_window is not None
    assert profile.calling_window.start_time is None
    assert profile.calling_window.end_time is None
    assert profile.calling_window.calls_per_cld is None
    assert profile.created_at is not None
    assert TIMESTAMP.match(profile.created_at), profile.created_at
    assert profile.updated_at is not None
    assert TIMESTAMP.match(profile.updated_at), profile.updated_at


def test_retrieve_update_list_and_delete(client: telnyx.Telnyx) -> None:
    profiles = client.outbound_voice_profiles
    created = dump(profiles.create(name="Branch", tags=["a"], concurrent_call_limit=3).data)
    profile_id = created["id"]

    retrieved = profiles.retrieve(profile_id)
    assert dump(retrieved.data) == created

    updated = dump(profiles.update(profile_id, name="Branch 2", enabled=False, tags=["b", "c"]).data)
    assert updated["name"] == "Branch 2"
    assert updated["enabled"] is False
    assert updated["tags"] == ["b", "c"]
    assert updated["concurrent_call_limit"] == 3
    assert updated["id"] == profile_id
    assert updated["created_at"] == created["created_at"]
    assert dump(profiles.retrieve(profile_id).data) == updated

    page = profiles.list()
    assert [dump(item) for item in page.data] == [updated]
    assert page.meta is not None
    assert page.meta.page_number == 1
    assert page.meta.total_pages == 1

    deleted = profiles.delete(profile_id)
    assert dump(deleted.data) == updated  # the profile as it was

    with pytest.raises(telnyx.NotFoundError):
        profiles.retrieve(profile_id)
    with pytest.raises(telnyx.NotFoundError):
        profiles.delete(profile_id)
    assert list(profiles.list()) == []


# 2. The documented PATCH: only `name` --------------------------------------------------------------------


def _assert_only_name_changed(before: dict[str, Any], after: dict[str, Any]) -> None:
    assert after["name"] == "office"
    assert TIMESTAMP.match(after["updated_at"]), after["updated_at"]
    assert after["updated_at"] >= before["created_at"]
    assert after["updated_at"] >= before["updated_at"]
    unchanged = {key: value for key, value in before.items() if key not in ("name", "updated_at")}
    assert {key: after[key] for key in unchanged} == unchanged
    assert set(after) == set(before)


def test_patch_with_only_a_name_keeps_every_other_field(client: telnyx.Telnyx) -> None:
    profiles = client.outbound_voice_profiles
    before = dump(profiles.create(name="Warehouse", **RICH_FIELDS).data)
    assert before["tags"] == ["office", "emea"]
    assert before["concurrent_call_limit"] == 10
    assert before["calling_window"] == {"start_time": "08:00:00", "end_time": "20:00:00", "calls_per_cld": 5}
    assert before["call_recording"] == RICH_FIELDS["call_recording"]
    assert before["whitelisted_destinations"] == ["US", "GB", "DE"]
    assert before["daily_spend_limit"] == "100.00"
    assert before["daily_spend_limit_enabled"] is True
    assert before["max_destination_rate"] == 0.25

    after = dump(profiles.update(before["id"], name="office").data)
    _assert_only_name_changed(before, after)
    assert dump(profiles.retrieve(before["id"]).data) == after


def test_patch_with_only_a_name_over_raw_http(client: telnyx.Telnyx, http: httpx.Client) -> None:
    before = dump(client.outbound_voice_profiles.create(name="Warehouse", **RICH_FIELDS).data)
    response = http.patch(f"{PROFILES}/{before['id']}", json={"name": "office"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    after = response.json()["data"]
    _assert_only_name_changed(before, after)
    # The raw document and the SDK's view of it agree field for field.
    assert dump(client.outbound_voice_profiles.retrieve(before["id"]).data) == after


# 3. Listing: auto-paging, the name filter, sorting -------------------------------------------------------


def test_auto_paging_walks_every_page_newest_first(client: telnyx.Telnyx) -> None:
    profiles = client.outbound_voice_profiles
    created_ids = []
    for number in range(7):
        profile = profiles.create(name=f"Paged {number}").data
        assert profile is not None
        created_ids.append(profile.id)

    first_page = profiles.list(page_size=2)
    assert len(first_page.data) == 2
    assert first_page.meta is not None
    assert first_page.meta.total_pages == 4
    assert first_page.has_next_page()

    seen = [profile.id for profile in first_page]  # iterating the page auto-pages through all four
    assert len(seen) == 7
    assert len(set(seen)) == 7
    assert seen == list(reversed(created_ids))

    pages = list(profiles.list(page_size=2).iter_pages())
    assert [len(page.data) for page in pages] == [2, 2, 2, 1]

    oldest_first = [profile.id for profile in profiles.list(page_size=3, sort="created_at")]
    assert oldest_first == created_ids


def test_name_filter_ignores_case_and_sort_by_name(client: telnyx.Telnyx) -> None:
    profiles = client.outbound_voice_profiles
    # Telnyx does not say whether sorting by name ignores case, so the names share a capital.
    for name in ("Charlie office", "Alpha OFFICE", "Bravo warehouse", "Delta Office", "Echo"):
        profiles.create(name=name)

    matched = profiles.list(filter={"name": {"contains": "office"}}, sort="name")
    assert [profile.name for profile in matched] == ["Alpha OFFICE", "Charlie office", "Delta Office"]

    upper = profiles.list(filter={"name": {"contains": "OFFICE"}}, sort="-name", page_size=1)
    assert [profile.name for profile in upper] == ["Delta Office", "Charlie office", "Alpha OFFICE"]

    names = [profile.name for profile in profiles.list(sort="name")]
    assert names == ["Alpha OFFICE", "Bravo warehouse", "Charlie office", "Delta Office", "Echo"]

    assert list(profiles.list(filter={"name": {"contains": "nothing like it"}})) == []


# 4. Errors as the SDK's exceptions -----------------------------------------------------------------------


@pytest.mark.parametrize("profile_id", [UNKNOWN_ID, "not-a-number"])
def test_unknown_or_malformed_id_is_not_found(client: telnyx.Telnyx, profile_id: str) -> None:
    with pytest.raises(telnyx.NotFoundError) as caught:
        client.outbound_voice_profiles.retrieve(profile_id)
    assert caught.value.status_code == 404
    error = first_error(caught.value)
    assert error["code"] == "10005"
    assert error["title"] == "Resource not found"

    with pytest.raises(telnyx.NotFoundError):
        client.outbound_voice_profiles.update(profile_id, name="office")
    with pytest.raises(telnyx.NotFoundError):
        client.outbound_voice_profiles.delete(profile_id)


def test_a_name_too_short_is_unprocessable(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as caught:
        client.outbound_voice_profiles.create(name="ab")
    assert caught.value.status_code == 422
    error = first_error(caught.value)
    assert error["code"] == "10025"
    assert error["source"] == {"pointer": "/name"}
    assert error["meta"]["url"].endswith("/10025")
    assert list(client.outbound_voice_profiles.list()) == []


def test_a_bad_key_is_an_authentication_error(start_server: StartServer) -> None:
    server = start_server(auth="keys")
    with server.client("KEYnot-a-real-key") as client, pytest.raises(telnyx.AuthenticationError) as caught:
        client.outbound_voice_profiles.list()
    assert caught.value.status_code == 401
    error = first_error(caught.value)
    assert error["code"] == "10009"
    assert error["title"] == "Authentication failed"


# 5. Accounts are kept apart ------------------------------------------------------------------------------


def test_one_account_cannot_reach_another_accounts_profiles(server: OvpServer) -> None:
    with server.client("alpha") as alpha, server.client("beta") as beta:
        mine = alpha.outbound_voice_profiles.create(name="Alpha office").data
        assert mine is not None
        assert mine.id is not None

        with pytest.raises(telnyx.NotFoundError) as caught:
            beta.outbound_voice_profiles.retrieve(mine.id)
        assert first_error(caught.value)["code"] == "10005"
        with pytest.raises(telnyx.NotFoundError):
            beta.outbound_voice_profiles.update(mine.id, name="Hijacked")
        with pytest.raises(telnyx.NotFoundError):
            beta.outbound_voice_profiles.delete(mine.id)
        assert list(beta.outbound_voice_profiles.list()) == []
        assert list(beta.outbound_voice_profiles.list(filter={"name": {"contains": "alpha"}})) == []

        # alpha's profile is untouched by all of that.
        assert dump(alpha.outbound_voice_profiles.retrieve(mine.id).data) == dump(mine)
        assert [profile.id for profile in alpha.outbound_voice_profiles.list()] == [mine.id]


# 6. Keys mode and the `ovp keys` commands ----------------------------------------------------------------


def test_keys_create_list_and_revoke(start_server: StartServer, database_url: str) -> None:
    url = database_url
    made = run_ovp("keys", "create", "--account", "acme", "--database", url)
    assert made.returncode == 0, made.stderr
    lines = made.stdout.splitlines()
    assert len(lines) == 1, made.stdout
    secret = lines[0].strip()
    assert secret
    key_id_match = re.search(r"\b(key_[0-9a-f]+)\b", made.stderr)
    assert key_id_match, made.stderr
    key_id = key_id_match.group(1)

    server = start_server(auth="keys")
    with server.client(secret) as acme:
        created = acme.outbound_voice_profiles.create(name="Acme office").data
        assert created is not None
        assert [profile.id for profile in acme.outbound_voice_profiles.list()] == [created.id]

        with server.client("KEY" + secrets.token_urlsafe(32)) as stranger, pytest.raises(
            telnyx.AuthenticationError
        ) as caught:
            stranger.outbound_voice_profiles.list()
        assert first_error(caught.value)["code"] == "10009"

        listed = run_ovp("keys", "list", "--database", url)
        assert listed.returncode == 0, listed.stderr
        assert key_id in listed.stdout
        assert "acme" in listed.stdout
        assert secret not in listed.stdout
        assert secret not in listed.stderr

        revoked = run_ovp("keys", "revoke", key_id, "--database", url)
        assert revoked.returncode == 0, revoked.stderr

        with pytest.raises(telnyx.AuthenticationError) as caught:
            acme.outbound_voice_profiles.list()
        assert first_error(caught.value)["code"] == "10009"
        with pytest.raises(telnyx.AuthenticationError):
            acme.outbound_voice_profiles.retrieve(str(created.id))

    again = run_ovp("keys", "revoke", key_id, "--database", url)
    assert again.returncode != 0
    assert key_id in again.stderr


# 7. A restart keeps everything ---------------------------------------------------------------------------


def _raw_documents(server: OvpServer, token: str, ids: list[str]) -> tuple[list[Any], dict[str, Any]]:
    with server.http(token) as http:
        listing = http.get(PROFILES, params={"page[size]": 250})
        assert listing.status_code == 200, listing.text
        one_by_one = {}
        for profile_id in ids:
            response = http.get(f"{PROFILES}/{profile_id}")
            assert response.status_code == 200, response.text
            one_by_one[profile_id] = response.json()["data"]
    return listing.json()["data"], one_by_one


def test_a_restart_keeps_every_profile(start_server: StartServer, database_url: str, account: str) -> None:
    first = start_server(auth="open")
    with first.client(account) as client:
        profiles = client.outbound_voice_profiles
        kept = [
            dump(profiles.create(name="Plain").data),
            dump(profiles.create(name="Rich", **RICH_FIELDS).data),
            dump(profiles.create(name="To update", enabled=False).data),
        ]
        doomed = dump(profiles.create(name="To delete").data)
        kept[2] = dump(
            profiles.update(
                kept[2]["id"],
                name="Updated",
                calling_window={"start_time": "22:00"},
                whitelisted_destinations=["FR"],
            ).data
        )
        kept[0] = dump(profiles.update(kept[0]["id"], name="Plain renamed").data)
        profiles.delete(doomed["id"])
        sdk_list_before = [dump(profile) for profile in profiles.list()]
    ids = [profile["id"] for profile in kept]
    raw_list_before, raw_each_before = _raw_documents(first, account, ids)
    assert len(raw_list_before) == 3

    # SIGTERM is a graceful shutdown; a server may end by the signal itself after it, so the status may be -15.
    assert first.stop() in (0, -signal.SIGTERM)
    assert "Application shutdown complete" in first.log()

    second = start_server(auth="open", database_url=database_url)
    assert second.pid != first.pid
    assert second.database_url == first.database_url
    raw_list_after, raw_each_after = _raw_documents(second, account, ids)
    assert raw_list_after == raw_list_before
    assert raw_each_after == raw_each_before
    with second.client(account) as client:
        profiles = client.outbound_voice_profiles
        assert [dump(profile) for profile in profiles.list()] == sdk_list_before
        for before in kept:
            assert dump(profiles.retrieve(before["id"]).data) == before
        with pytest.raises(telnyx.NotFoundError):
            profiles.retrieve(doomed["id"])
        # The restarted server goes on working: new ids do not collide with the old ones.
        fresh = profiles.create(name="After restart").data
        assert fresh is not None
        assert fresh.id not in {*ids, doomed["id"]}
