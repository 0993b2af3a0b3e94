"""On PostgreSQL the database bills a call where its statement stores it (see ovp.store.calls): the
first increment reserved when the call is recorded, the cost when it ends. Both must come out
exactly as ovp.domain.calls.billing has them, which SQLite's authorizations and ends use."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal

import pytest

from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.billing import BillingIncrement, cost_micros
from ovp.store import calls, rates
from ovp.store.calls import BILLED_SQL, COST_SQL
from ovp.store.database import Work
from tests.databases import (
    SKIPPED_REASON,
    migrated_database,
    postgres_admin_url,
    scratch_postgres_connection,
    scratch_postgres_database,
)

pytestmark = pytest.mark.skipif(postgres_admin_url() is None, reason=SKIPPED_REASON)

INCREMENTS = ["60/60", "1/1", "30/6", "6/6", "60/1", "1/60", "9999/9999"]
# Rates of up to six decimals, as decks give them; 0.000001 and 0.000003 make costs of exactly half
# a micro-dollar, rounded up.
RATES = ["0", "0.000001", "0.000003", "0.01", "0.0123", "0.45", "1.234567", "12.5", "999.999999"]
DURATIONS = [0, 1, 5, 6, 7, 29, 30, 31, 59, 60, 61, 119, 3599, 3600, 3601, 31 * 24 * 3600]
DIALLED = "+15550100"


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    admin_url = postgres_admin_url()
    assert admin_url is not None
    with scratch_postgres_database(admin_url) as url:
        yield url


def test_the_database_bills_an_ended_call_as_ovp_does() -> None:
    sql = (f"SELECT {BILLED_SQL}, {COST_SQL} FROM (SELECT %(increment)s::text AS billing_increment, "  # noqa: S608
           "%(rate)s::text AS per_minute) AS call").replace(":duration_secs", "%(duration)s::int")
    differences = []
    with scratch_postgres_connection() as connection:
        for increment, rate, duration in itertools.product(INCREMENTS, RATES, DURATIONS):
            row = connection.execute(sql, {"increment": increment, "rate": rate, "duration": duration}).fetchone()
            assert row is not None
            billed = BillingIncrement.parse(increment).billed_seconds(duration)
            if tuple(row) != (billed, cost_micros(Decimal(rate), billed)):
                differences.append((increment, rate, duration, tuple(row)))
    assert not differences, differences[:10]


def _deck(account_id: str, rate: str) -> Work[int]:
    return lambda tx: rates.replace_deck(tx, account_id, {"1": Decimal(rate)})


def _record(account_id: str, call: Authorization, initial_secs: int) -> Work[bool]:
    return lambda tx: calls.rate_counters_and_record(tx, account_id, DIALLED[1:], None, call, initial_secs)[2]


def _stored(account_id: str, call_id: int) -> Work[Authorization | None]:
    return lambda tx: calls.get(tx, account_id, call_id)


def test_the_database_reserves_a_recorded_calls_first_increment_as_ovp_does(url: str) -> None:
    initials = sorted({BillingIncrement.parse(increment).initial for increment in INCREMENTS})
    recorded: dict[tuple[str, int], tuple[str, str, int]] = {}
    with migrated_database(url) as database:
        for index, rate in enumerate(RATES):
            database.write(_deck(f"rate-{index}", rate))
        for (index, rate), initial in itertools.product(enumerate(RATES), initials):
            call = Authorization(
                id=len(recorded) + 1, profile_id=1, connection_id=None, dialled=DIALLED, caller="+15550101",
                country="US", prefix="", per_minute="0", billing_increment=f"{initial}/60", reserved_micros=0,
                recording="{}", authorized_ms=0, expires_ms=1, max_duration_secs=60)
            assert database.write(_record(f"rate-{index}", call, initial)), (rate, initial)
            stored = database.read(_stored(f"rate-{index}", call.id))
            assert stored is not None
            recorded[(rate, initial)] = (stored.prefix, stored.per_minute, stored.reserved_micros)
    expected = {(rate, initial): ("1", rate, cost_micros(Decimal(rate), initial))
                for rate, initial in itertools.product(RATES, initials)}
    assert recorded == expected
