"""An operator's whole flow, as the README tells it, against a real `ovp serve` in keys mode: a key
and a rate deck made with the `ovp` command, a profile and a connection made with the official SDK,
then a switch asking by connection over plain HTTP, ending its call, and seeing the spend booked."""

from __future__ import annotations

import csv
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import StartServer, run_ovp

pytestmark = pytest.mark.e2e

CALLS = "/ovp/call_authorizations"


def test_an_operator_sets_up_and_a_switch_asks(start_server: StartServer, database_url: str, tmp_path: Path) -> None:
    made = run_ovp("keys", "create", "--account", "acme", "--database", database_url)
    assert made.returncode == 0, made.stderr
    key = made.stdout.strip()
    deck = tmp_path / "deck.csv"
    deck.write_text("prefix,rate,name\n44,0.0200,United Kingdom\n4420,0.0120,London\n", encoding="utf-8")
    imported = run_ovp("rates", "import", str(deck), "--account", "acme", "--database", database_url)
    assert imported.returncode == 0, imported.stderr

    server = start_server(auth="keys")
    sdk = server.client(key)
    profile = sdk.outbound_voice_profiles.create(
        name="london office", whitelisted_destinations=["GB"], daily_spend_limit="1.00",
        daily_spend_limit_enabled=True,
    ).data
    assert profile is not None
    assert profile.id is not None
    trunk = sdk.credential_connections.create(
        connection_name="pbx trunk", user_name="pbxtrunk1", password="s3cret-passw0rd",
        outbound={"outbound_voice_profile_id": profile.id},
    ).data
    assert trunk is not None

    with server.http(key) as switch:
        allowed = switch.post(CALLS, json={"connection_id": trunk.id, "to": "+442071838750", "from": "+441632960001"})
        assert allowed.status_code == 200, allowed.text
        call = allowed.json()["data"]
        assert (call["decision"], call["country_code"], call["prefix"], call["rate"]) == ("allowed", "GB", "4420",
                                                                                          "0.0120")
        answered = switch.post(f"{CALLS}/{call['id']}/actions/answer").json()["data"]
        assert answered["status"] == "active"
        ended = switch.post(f"{CALLS}/{call['id']}/actions/end", json={"duration_secs": 150}).json()["data"]
        assert (ended["billed_secs"], ended["cost"]) == (180, "0.036000")
        usage = switch.get(f"/ovp/outbound_voice_profiles/{profile.id}/usage").json()["data"]
        assert (usage["spent"], usage["active_calls"]) == ("0.036000", 0)
        assert switch.get(f"{CALLS}/{call['id']}", headers={"Authorization": "Bearer not-a-key"}).status_code == 401


def test_an_operator_exports_the_decisions_over_a_real_server(http: httpx.Client) -> None:
    """The export comes chunked from the HTTP server, as it is made, and reads as the list."""
    profile = http.post("/v2/outbound_voice_profiles", json={"name": "closed", "enabled": False}).json()["data"]
    refused = [http.post(CALLS, json={"outbound_voice_profile_id": profile["id"], "to": "+442071838750",
                                      "from": "+441632960001"}).json()["data"] for _ in range(3)]
    assert {call["code"] for call in refused} == {"D15"}
    with http.stream("GET", CALLS, headers={"Accept": "text/csv"}) as response:
        assert response.status_code == 200
        assert response.headers["transfer-encoding"] == "chunked"
        lines = list(response.iter_lines())
    rows = list(csv.DictReader(lines))
    assert [row["id"] for row in rows] == [call["id"] for call in reversed(refused)]
    assert {(row["decision"], row["code"], row["to"]) for row in rows} == {("rejected", "D15", "+442071838750")}
    totals = http.get("/ovp/usage_reports", params={"group_by": "code"}).json()["data"]
    assert [(total["code"], total["refused"]) for total in totals] == [("D15", 3)]
