"""How a call ended, in Telnyx's words: the cause, the SIP status and who hung up, as a call.hangup
webhook gives them (a sip-trunking detail record gives the cause and the status too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.refusal import Refusal

Ending = Literal["ended", "expired"]


@dataclass(frozen=True)
class Hangup:
    cause: str  # as Telnyx's call.hangup spells it: normal_clearing, originator_cancel, ...
    sip_status: str  # "200", "487", ..., or "unspecified"
    source: str  # caller, callee or unknown
    answered: bool  # whether the call had been answered when it ended


# An allowed call's, by how it ended and whether it had been answered.
_OF_CALL = {
    ("ended", True): Hangup("normal_clearing", "200", "caller", answered=True),
    ("ended", False): Hangup("originator_cancel", "487", "caller", answered=False),
    ("expired", True): Hangup("time_limit", "unspecified", "unknown", answered=True),  # its maximum duration
    ("expired", False): Hangup("timeout", "408", "unknown", answered=False),  # its set-up timed out
}


def of_call(call: Authorization, how: Ending) -> Hangup:
    """The hangup of an allowed call the switch ended, or that expired unended."""
    return _OF_CALL[how, call.answered_ms is not None]


def of_finished_call(call: Authorization) -> Hangup:
    """The hangup of an allowed call that has finished: ended, or else expired."""
    return of_call(call, "ended" if call.ended_ms is not None else "expired")


def of_refusal(refusal: Refusal) -> Hangup:
    """A refused call's: call_rejected, with the refusal's SIP status."""
    return Hangup("call_rejected", str(refusal.sip_status), "callee", answered=False)
