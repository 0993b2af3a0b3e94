"""A call's numbers as Telnyx reads them: the destination, dialled in E.164 or, without its "+",
by the national rules of the connection's `outbound.localization`; and the caller id the switch
must present, after the connection's `outbound.ani_override`. Pure, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import phonenumbers

from ovp.domain.fields import E164

# A number dialled as a phone's keypad dials it: digits only (an international prefix such as 011
# or 00 included), read by the connection's country.
_NATIONAL = re.compile(r"[0-9]{1,20}")

AniOverrideType = Literal["always", "normal", "emergency"]


@dataclass(frozen=True)
class Destination:
    number: str  # E.164
    country: str  # ISO 3166-1 alpha-2, from the number itself

    @property
    def digits(self) -> str:
        return self.number.removeprefix("+")


def parse_destination(dialled: str, localization: str | None = None) -> Destination | None:
    """The destination of a dialled number; None unless it is a valid number: in E.164, or, when
    `localization` names a country, in that country's national or international dialling."""
    if dialled.startswith("+"):
        # phonenumbers alone would forgive spaces and stray letters
        return _parsed(dialled, None) if E164.fullmatch(dialled) else None
    if localization and _NATIONAL.fullmatch(dialled):
        return _parsed(dialled, localization)
    return None


@lru_cache(maxsize=1024)
def _parsed(dialled: str, region: str | None) -> Destination | None:
    """Remembered for the last numbers, whatever connection an E.164 number came through (its
    region is None): libphonenumber takes some 15 µs a number, and a call asks for its number in
    the connection's terms, then in E.164."""
    try:
        parsed = phonenumbers.parse(dialled, region)
    except phonenumbers.NumberParseException:
        return None
    country = phonenumbers.region_code_for_number(parsed)
    if not phonenumbers.is_valid_number(parsed) or country is None:
        return None
    return Destination(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164), country)


def is_emergency(dialled: str, localization: str | None) -> bool:
    """Whether `dialled` is an emergency number (911, 112, ...) of the connection's country."""
    return localization is not None and phonenumbers.is_emergency_number(dialled, localization)


def is_valid_caller_id(caller: str) -> bool:
    """Telnyx presents only a caller id in +E.164 (else D35)."""
    return E164.fullmatch(caller) is not None


@dataclass(frozen=True)
class Outbound:
    """What a connection's `outbound` settings make of a call's numbers (Telnyx's defaults when
    the call is asked for by profile, without a connection: no override, and E.164 only)."""

    ani_override: str = ""
    ani_override_type: AniOverrideType = "always"
    localization: str | None = None

    def destination(self, dialled: str) -> Destination | None:
        return parse_destination(dialled, self.localization)

    def to(self, dialled: str) -> str:
        """The number the switch must dial: E.164 when it is a valid number, else as dialled."""
        destination = self.destination(dialled)
        return dialled if destination is None else destination.number

    def caller_id(self, caller: str, dialled: str) -> str:
        """The caller id to present: the override replaces the caller's own on every call
        (`always`), on every call but an emergency one (`normal`), or on emergency calls only."""
        if not self.ani_override:
            return caller
        emergency = is_emergency(dialled, self.localization)
        applies = {"always": True, "normal": not emergency, "emergency": emergency}[self.ani_override_type]
        return self.ani_override if applies else caller
