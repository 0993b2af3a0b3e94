"""The clock tests can move (open mode's POST /_ovp/admin/clock): every rule bound to time reads
it, so a test of midnight or of a set-up timeout need not wait for the wall clock."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime

import pytest

from ovp.domain.clock import CLOCK
from tests.api.test_calls_http import CALLS, answer, ask, end, load_deck, usage
from tests.conftest import PROFILES, Api

CLOCK_PATH = "/_ovp/admin/clock"


@pytest.fixture
def ready(api: Api) -> Iterator[Api]:
    load_deck(api)
    yield api
    CLOCK.reset()  # the process's clock: the next test starts on the wall clock


def move(api: Api, **body: object) -> dict[str, object]:
    response = api.request("POST", CLOCK_PATH, json=body)
    assert response.status_code == 200, response.text
    data: dict[str, object] = response.json()["data"]
    return data


def test_a_frozen_clock_stamps_what_is_written(ready: Api) -> None:
    assert move(ready, now="2026-12-31T23:59:50Z") == {"record_type": "clock", "now": "2026-12-31T23:59:50.000Z",
                                                       "frozen": True}
    profile = ready.create(name="new year")
    assert profile["created_at"] == profile["updated_at"] == "2026-12-31T23:59:50.000Z"
    assert move(ready, advance_secs=15.5)["now"] == "2027-01-01T00:00:05.500Z"
    patched = ready.request("PATCH", f"{PROFILES}/{profile['id']}", json={"name": "renamed"}).json()["data"]
    assert (patched["created_at"], patched["updated_at"]) == ("2026-12-31T23:59:50.000Z", "2027-01-01T00:00:05.500Z")
    call = ask(ready, profile)
    assert call["authorized_at"] == "2027-01-01T00:00:05.500Z"


def test_the_days_spend_resets_at_midnight_utc(ready: Api) -> None:
    move(ready, now="2026-12-31T23:00:00+01:00")  # 22:00 UTC
    profile = ready.create(daily_spend_limit="0.05", daily_spend_limit_enabled=True)
    end(ready, ask(ready, profile)["id"], 1200)  # twenty minutes at 0.005: 0.10 spent
    assert usage(ready, profile)["spent"] == "0.100000"
    assert ask(ready, profile)["code"] == "OVP5"
    move(ready, advance_secs=2 * 3600 - 1)  # 23:59:59 UTC
    assert ask(ready, profile)["code"] == "OVP5"
    move(ready, advance_secs=1)
    fresh = usage(ready, profile)
    assert (fresh["day"], fresh["spent"]) == ("2027-01-01", "0.000000")
    assert ask(ready, profile)["decision"] == "allowed"


def test_a_calling_window_opens_and_closes_by_the_clock(ready: Api) -> None:
    profile = ready.create(calling_window={"start_time": "08:00:00", "end_time": "20:00:00"})
    move(ready, now="2026-06-01T07:59:59Z")
    assert ask(ready, profile)["code"] == "OVP3"
    move(ready, advance_secs=1)
    assert ask(ready, profile)["decision"] == "allowed"
    move(ready, now="2026-06-01T20:00:01Z")
    assert ask(ready, profile)["code"] == "OVP3"


def test_the_set_up_timeout_and_the_maximum_duration_pass_by_the_clock(ready: Api) -> None:
    move(ready, now="2026-06-01T12:00:00Z")
    profile = ready.create(concurrent_call_limit=1)
    ringing = ask(ready, profile)
    assert ask(ready, profile)["code"] == "D2"
    move(ready, advance_secs=121)  # the set-up timeout is 120 s
    assert ready.request("GET", f"{CALLS}/{ringing['id']}").json()["data"]["status"] == "expired"
    late = ready.request("POST", f"{CALLS}/{ringing['id']}/actions/answer")
    assert late.status_code == 422
    answered = ask(ready, profile)
    assert answer(ready, answered["id"])["status"] == "active"
    move(ready, advance_secs=4 * 3600 - 1)
    assert ask(ready, profile)["code"] == "D2"
    move(ready, advance_secs=1)  # four hours after the answer
    assert ready.request("GET", f"{CALLS}/{answered['id']}").json()["data"]["status"] == "expired"
    assert ask(ready, profile)["decision"] == "allowed"


def test_a_reset_returns_to_the_wall_clock(ready: Api) -> None:
    move(ready, now="2001-01-01T00:00:00Z")
    assert ready.request("GET", CLOCK_PATH).json()["data"]["now"].startswith("2001-01-01T00:00:00")
    back = ready.request("DELETE", CLOCK_PATH).json()["data"]
    assert back["frozen"] is False
    assert abs(datetime.fromisoformat(back["now"]).timestamp() - time.time()) < 5
    moved_on = move(ready, advance_secs=3600)
    assert moved_on["frozen"] is False
    assert abs(datetime.fromisoformat(str(moved_on["now"])).timestamp() - time.time() - 3600) < 5


@pytest.mark.parametrize(("body", "pointers"), [
    ({}, ["/now"]),
    ({"now": "2026-12-31T23:59:50Z", "advance_secs": 1}, ["/now"]),
    ({"now": "2026-12-31T23:59:50"}, ["/now"]),
    ({"now": "yesterday"}, ["/now"]),
    ({"now": 1767225590}, ["/now"]),
    ({"advance_secs": "10"}, ["/advance_secs"]),
    ({"advance_secs": 10 ** 12}, ["/advance_secs"]),
    ({"advance_secs": 1, "speed": 2}, ["/speed"]),
])
def test_a_bad_move_names_its_problem_and_moves_nothing(ready: Api, body: dict[str, object],
                                                        pointers: list[str]) -> None:
    response = ready.request("POST", CLOCK_PATH, json=body)
    assert response.status_code == 422, response.text
    assert [error["source"]["pointer"] for error in response.json()["errors"]] == pointers
    assert ready.request("GET", CLOCK_PATH).json()["data"]["frozen"] is False
