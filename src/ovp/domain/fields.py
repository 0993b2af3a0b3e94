"""Field types of a profile: each normalises what a client sends into the form ovp returns."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Annotated

import pycountry
from pydantic import AfterValidator, Field
from pydantic_core import PydanticCustomError

MAX_SPEND_LIMIT = Decimal("999999999.99")
MAX_INT32 = 2**31 - 1

_COUNTRY_CODES = frozenset(country.alpha_2 for country in pycountry.countries)
MAX_E164_DIGITS = 15
E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_DECIMAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
_TIME_OF_DAY = re.compile(
    r"(?P<hour>[01][0-9]|2[0-3]):(?P<minute>[0-5][0-9])"
    r"(?::(?P<second>[0-5][0-9])(?:\.[0-9]{1,6})?)?(?:Z|\+00:?00)?"
)


def _country_code(value: str) -> str:
    if value not in _COUNTRY_CODES:
        raise PydanticCustomError(
            "country_code",
            "{value} is not an ISO 3166-1 alpha-2 country code in capitals, such as 'US'",
            {"value": repr(value)},
        )
    return value


def _e164_number(value: str) -> str:
    if not E164.fullmatch(value):
        raise PydanticCustomError(
            "e164", "{value} is not a phone number in E.164 format, such as '+19705555098'", {"value": repr(value)}
        )
    return value


def _time_of_day(value: str) -> str:
    match = _TIME_OF_DAY.fullmatch(value)
    if match is None:
        raise PydanticCustomError(
            "time_of_day",
            "{value} is not a UTC time of day such as '08:00', '08:00:00' or '08:00:00.00Z'",
            {"value": repr(value)},
        )
    return f"{match['hour']}:{match['minute']}:{match['second'] or '00'}"


def _spend_limit(value: str) -> str:
    if not _DECIMAL.fullmatch(value):
        raise PydanticCustomError(
            "decimal", "{value} is not a decimal amount in USD such as '100.00'", {"value": repr(value)}
        )
    amount = Decimal(value)
    if amount < 0 or amount > MAX_SPEND_LIMIT:
        raise PydanticCustomError(
            "greater_than_equal",
            "{value} must be between 0 and {maximum}",
            {"value": repr(value), "maximum": str(MAX_SPEND_LIMIT)},
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise PydanticCustomError("decimal", "{value} has more than 2 decimal places", {"value": repr(value)})
    return str(abs(amount).quantize(Decimal("0.01")))  # abs: "-0" is "0.00"


def _billing_group_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise PydanticCustomError("uuid", "{value} is not a UUID", {"value": repr(value)}) from None


def _without_duplicates(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


CountryCode = Annotated[str, AfterValidator(_country_code)]
# Bounds on arrays keep one request from holding a worker: an over-long array fails at once.
MAX_COUNTRIES = 300  # more than there are countries
MAX_LIST_ITEMS = 100
CountryCodes = Annotated[list[CountryCode], Field(max_length=MAX_COUNTRIES), AfterValidator(_without_duplicates)]
Tag = Annotated[str, Field(max_length=255)]
Tags = Annotated[list[Tag], Field(max_length=MAX_LIST_ITEMS)]
E164Number = Annotated[str, AfterValidator(_e164_number)]
E164Numbers = Annotated[list[E164Number], Field(max_length=MAX_LIST_ITEMS)]
TimeOfDay = Annotated[str, AfterValidator(_time_of_day)]
SpendLimit = Annotated[str, AfterValidator(_spend_limit)]
BillingGroupId = Annotated[str, AfterValidator(_billing_group_id)]
def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL, and no name needs one.
    if "\x00" in value:
        raise PydanticCustomError("nul_character", "must not contain NUL characters")
    return value


ProfileName = Annotated[str, Field(min_length=3, max_length=255), AfterValidator(_no_nul)]
CallLimit = Annotated[int, Field(ge=1, le=MAX_INT32)]
CallsPerNumber = Annotated[int, Field(ge=0, le=MAX_INT32)]
Rate = Annotated[float, Field(ge=0, allow_inf_nan=False)]
