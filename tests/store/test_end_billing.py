"""On PostgreSQL the end of a call is billed by the database, in the statement that ends it (see
ovp.store.calls): it must bill exactly as ovp.domain.billing does, which SQLite's ends use."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest

from ovp.domain.billing import BillingIncrement, cost_micros
from ovp.store.calls import BILLED_SQL, COST_SQL
from tests.databases import SKIPPED_REASON, postgres_admin_url, scratch_postgres_connection

pytestmark = pytest.mark.skipif(postgres_admin_url() is None, reason=SKIPPED_REASON)

INCREMENTS = ["60/60", "1/1", "30/6", "6/6", "60/1", "1/60", "9999/9999"]
# Rates of up to six decimals, as decks give them; 0.000001 and 0.000003 make costs of exactly half
# a micro-dollar, rounded up.
RATES = ["0", "0.000001", "0.000003", "0.01", "0.0123", "0.45", "1.234567", "12.5", "999.999999"]
DURATIONS = [0, 1, 5, 6, 7, 29, 30, 31, 59, 60, 61, 119, 3599, 3600, 3601, 31 * 24 * 3600]


@pytest.fixture(scope="module")
def connection() -> Iterator[psycopg.Connection]:
    with scratch_postgres_connection() as connection:
        yield connection


def test_the_database_bills_an_ended_call_as_ovp_does(connection: psycopg.Connection) -> None:
    sql = (f"SELECT {BILLED_SQL}, {COST_SQL} FROM (SELECT %(increment)s::text AS billing_increment, "  # noqa: S608
           "%(rate)s::text AS per_minute) AS call").replace(":duration_secs", "%(duration)s::int")
    differences = []
    for increment, rate, duration in itertools.product(INCREMENTS, RATES, DURATIONS):
        row = connection.execute(sql, {"increment": increment, "rate": rate, "duration": duration}).fetchone()
        assert row is not None
        billed, cost = row
        expected_billed = BillingIncrement.parse(increment).billed_seconds(duration)
        expected = (expected_billed, cost_micros(Decimal(rate), expected_billed))
        if (billed, cost) != expected:
            differences.append((increment, rate, duration, (billed, cost), expected))
    assert not differences, differences[:10]
