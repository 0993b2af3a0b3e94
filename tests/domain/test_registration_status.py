"""Table-driven tests of a credential connection's registration status: which binding answers, and
how a removal and the time of a registration read."""

from __future__ import annotations

import pytest

from ovp.domain.registrations.registration import (
    Binding,
    Status,
    binding_view,
    current,
    parse_report,
    registration_time,
)


def bound(contact: str, registered_ms: int, expires_ms: int) -> Binding:
    return Binding(contact, "192.0.2.10", 5060, "UDP", None, registered_ms, expires_ms)


DESK, SOFT = bound("sip:desk@192.0.2.10", 1_000, 61_000), bound("sip:soft@192.0.2.11", 2_000, 32_000)


@pytest.mark.parametrize(("bindings", "now_ms", "status", "shown"), [
    ([], 0, "Not Registered", None),
    ([DESK], 60_999, "Registered", DESK),
    ([DESK], 61_000, "Expired", DESK),  # bound until its expiry, not at it
    ([DESK, SOFT], 10_000, "Registered", SOFT),  # the latest registration of those bound
    ([DESK, SOFT], 40_000, "Registered", DESK),  # the latest has expired; an earlier one is still bound
    ([SOFT, DESK], 70_000, "Expired", SOFT),  # all expired: the latest registration
    # Registered in the same millisecond: the same one, whatever the order the store reads them in.
    ([bound("sip:b@h", 5, 10), bound("sip:a@h", 5, 10)], 20, "Expired", bound("sip:b@h", 5, 10)),
    ([bound("sip:a@h", 5, 10), bound("sip:b@h", 5, 10)], 20, "Expired", bound("sip:b@h", 5, 10)),
])
def test_which_binding_answers(bindings: list[Binding], now_ms: int, status: Status, shown: Binding | None) -> None:
    assert current(bindings, now_ms) == (status, shown)


def test_a_registration_reads_to_the_second_in_utc_with_no_offset() -> None:
    assert registration_time(1_632_841_862_999) == "2021-09-28T15:11:02"


def test_a_removal_is_bound_no_longer() -> None:
    report = parse_report({"user_name": "desk0001", "contact": "*", "ip_address": "192.0.2.10", "port": 5060,
                           "transport": "UDP", "expires": 0})
    view = binding_view(7, "desk0001", Binding("*", "192.0.2.10", 5060, "UDP", None, 5_000, 5_000))
    assert (report.contact, view["expires"], view["registered_at"], view["expires_at"]) == (
        "*", 0, "1970-01-01T00:00:05.000Z", "1970-01-01T00:00:05.000Z")
