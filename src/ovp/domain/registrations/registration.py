"""SIP registrations: what a switch that accepted a credential connection's REGISTER reports of it
(ovp's own POST /ovp/sip_registrations), and the status Telnyx answers for the connection (POST
/v2/credential_connections/{id}/actions/check_registration_status; its shape from the SDKs' types,
PyPI telnyx 4.189 `types/credential_connections/action_check_registration_status_response.py`, npm
telnyx `resources/credential-connections/actions`).

A binding is one contact of the connection, as a registrar keeps it: a REGISTER binds its contact
for `expires` seconds, or with `expires` 0 removes it (the contact `*` removes every one of the
connection's, as RFC 3261 §10.2.2 has it). Expiry is read on ovp's clock (ovp.domain.clock.CLOCK).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ovp.domain.addresses.ip import IpAddress, Port
from ovp.domain.clock import timestamp_of_ms
from ovp.domain.errors import Problem
from ovp.domain.validation import BAD_VALUE, parse_object_checked

RECORD_TYPE = "sip_registration"
STATUS_RECORD_TYPE = "registration_status"  # T: the record_type of Telnyx's example
EVERY_CONTACT = "*"
# RFC 3261 §20.19: delta-seconds up to 2**32 - 1.
MAX_EXPIRES_SECS = 2**32 - 1

# The statuses ovp answers, of the SDKs' six: "Not Applicable", "Failed" and "Unregistered" need
# what ovp is never told (a connection that takes no registrations, a REGISTER the switch refused).
Status = Literal["Registered", "Expired", "Not Registered"]
# As a registrar keeps a contact: a SIP or SIPS URI, without its angle brackets, with no whitespace
# or control character (PostgreSQL cannot store NUL); or `*`, every contact.
Contact = Annotated[str, Field(min_length=1, max_length=512, pattern=r"^(\*|[sS][iI][pP][sS]?:[^\x00-\x20\x7f]+)$")]
# A header's value: SIP allows horizontal tabs in it, no other control character.
UserAgent = Annotated[str, Field(max_length=255, pattern=r"^[^\x00-\x08\x0a-\x1f\x7f]*$")]
Transport = Literal["UDP", "TCP", "TLS", "SCTP", "WS", "WSS"]


class RegistrationReport(BaseModel):
    """POST /ovp/sip_registrations: a REGISTER the switch accepted, as it reports it."""

    model_config = ConfigDict(extra="ignore", strict=True)

    user_name: Annotated[str, Field(min_length=1, max_length=64)]  # the digest's user name
    contact: Contact
    ip_address: IpAddress  # where the REGISTER came from
    port: Port
    transport: Transport
    user_agent: UserAgent | None = None
    expires: Annotated[int, Field(ge=0, le=MAX_EXPIRES_SECS)]  # seconds the registrar granted; 0 removes


@dataclass(frozen=True)
class Binding:
    contact: str
    ip_address: str
    port: int
    transport: str
    user_agent: str | None
    registered_ms: int
    expires_ms: int  # bound until then, on ovp's clock


def parse_report(body: object) -> RegistrationReport:
    """The report, every problem at once: its fields', and `*` with anything but a removal."""
    return parse_object_checked(RegistrationReport, body, _every_contact_removed)


def _every_contact_removed(body: dict[str, object]) -> list[Problem]:
    if body.get("contact") != EVERY_CONTACT or body.get("expires") == 0:
        return []
    code, title = BAD_VALUE
    return [Problem(code, title, "contact: '*' removes every contact, and takes expires 0.", pointer="/contact")]


def binding_of(report: RegistrationReport, now_ms: int) -> Binding:
    return Binding(report.contact, report.ip_address, report.port, report.transport, report.user_agent,
                   now_ms, now_ms + report.expires * 1000)


def current(bindings: Sequence[Binding], now_ms: int) -> tuple[Status, Binding | None]:
    """The connection's status and the binding it reads from: the latest registration of those
    still bound, else the latest of those expired (a switch's report of the connection forgets
    them, see ovp.services.registrations), else none."""
    live = [binding for binding in bindings if binding.expires_ms > now_ms]
    shown = live or bindings
    if not shown:
        return "Not Registered", None
    latest = max(shown, key=lambda binding: (binding.registered_ms, binding.contact))
    return ("Registered" if live else "Expired"), latest


def registration_time(milliseconds: int) -> str:
    """T: Telnyx's example writes `last_registration` as 2021-09-28T15:11:02: to the second, with no
    offset. P: in UTC."""
    return timestamp_of_ms(milliseconds)[:19]


def status_view(user_name: str, bindings: Sequence[Binding], now_ms: int) -> dict[str, Any]:
    status, binding = current(bindings, now_ms)
    return {
        "record_type": STATUS_RECORD_TYPE,
        "status": status,
        "sip_username": user_name,
        "ip_address": binding.ip_address if binding is not None else None,
        "port": binding.port if binding is not None else None,
        "transport": binding.transport if binding is not None else None,
        "user_agent": binding.user_agent if binding is not None else None,
        "last_registration": registration_time(binding.registered_ms) if binding is not None else None,
    }


def binding_view(connection_id: int, user_name: str, binding: Binding) -> dict[str, Any]:
    """What ovp keeps of a report; a removal's `expires_at` is its own time, bound no longer."""
    return {
        "record_type": RECORD_TYPE,
        "connection_id": str(connection_id),
        "user_name": user_name,
        "contact": binding.contact,
        "ip_address": binding.ip_address,
        "port": binding.port,
        "transport": binding.transport,
        "user_agent": binding.user_agent,
        "expires": (binding.expires_ms - binding.registered_ms) // 1000,
        "registered_at": timestamp_of_ms(binding.registered_ms),
        "expires_at": timestamp_of_ms(binding.expires_ms),
    }
