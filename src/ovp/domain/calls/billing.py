"""What a call costs: billed time in increments, and money kept as whole millionths of a dollar.

Costs are summed in the database, so they are integers there: a micro-dollar is fine enough for
per-minute rates of up to six decimal places, and exact under addition on every backend.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

MICROS_PER_DOLLAR = 1_000_000
_INCREMENT = re.compile(r"([1-9][0-9]{0,3})/([1-9][0-9]{0,3})")


@dataclass(frozen=True)
class BillingIncrement:
    """`initial/subsequent` seconds, as carriers write it: 60/60 bills whole minutes, 1/1 by the
    second, 30/6 a first half minute then six-second steps."""

    initial: int = 60
    subsequent: int = 60

    @classmethod
    def parse(cls, text: str) -> BillingIncrement:
        match = _INCREMENT.fullmatch(text.strip())
        if match is None:
            raise ValueError(f"a billing increment is initial/subsequent seconds, such as 60/60, not {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.initial}/{self.subsequent}"

    def billed_seconds(self, duration: int) -> int:
        """A call that never connected (0 s) costs nothing; any other pays the first increment,
        then each started subsequent one."""
        if duration <= 0:
            return 0
        beyond = max(0, duration - self.initial)
        return self.initial + -(-beyond // self.subsequent) * self.subsequent


def cost_micros(per_minute: Decimal, billed_seconds: int) -> int:
    """The cost of `billed_seconds` at a per-minute rate, rounded half up to a micro-dollar."""
    exact = per_minute * billed_seconds * MICROS_PER_DOLLAR / 60
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def dollars(micros: int) -> Decimal:
    return Decimal(micros) / MICROS_PER_DOLLAR


def money_text(micros: int) -> str:
    """Dollars as Telnyx writes money: a string, here with six decimals ("0.050000")."""
    return f"{dollars(micros):.6f}"
