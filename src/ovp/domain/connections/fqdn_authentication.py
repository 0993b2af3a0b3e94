"""An FQDN connection's authentication, `/v2/fqdn_connections/{id}/fqdn_authentication`: how the
calls of the PBX behind it authenticate (credentials or IP), and its Microsoft Teams TXT record.
Shapes from the official SDKs' types (PyPI `telnyx` 4.189: `types/fqdn_connections/fqdn_authentication*.py`;
npm `telnyx` 7.24: `resources/fqdn-connections/fqdn-authentication`).

It is not a document of its own but a view of the connection's, and a PATCH of it: one truth, so
that a change made either way shows both ways. What it shares with the connection is the
connection's field (`_KEPT_AT`); the one field only it has, `ip_authentication_method`, is kept in
the connection's document under `fqdn_authentication`, which the connection's own answers leave out.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ovp.domain.connections import fqdn_connection
from ovp.domain.connections.fields import FailoverUrl, Password, ShortText, TxtTtl, Url, UserName
from ovp.domain.errors import InvalidInput, ProblemList, problems_at
from ovp.domain.resource import Changes, View
from ovp.domain.validation import parse_object

RECORD_TYPE = "fqdn_authentication"
SEEDED_AS = "fqdn_authentication"  # a seeded FQDN connection's key of its authentication

# Each field the authentication answers, and where the connection's document keeps it.
_KEPT_AT: dict[str, tuple[str, ...]] = {
    "user_name": ("user_name",),
    "password": ("password",),
    "fqdn_outbound_authentication": ("outbound", "ip_authentication_method"),
    "ip_authentication_method": (fqdn_connection.AUTHENTICATION, "ip_authentication_method"),
    "microsoft_teams_sbc": ("microsoft_teams_sbc",),  # answered here, set on the connection
    "txt_name": ("txt_name",),
    "txt_ttl": ("txt_ttl",),
    "txt_value": ("txt_value",),
    "webhook_url": ("webhook_event_url",),
    "failover_url": ("webhook_event_failover_url",),
}


class AuthenticationChanges(BaseModel):
    """What a PATCH may send: any field, none required; null clears one, as the connection's own
    fields are cleared. The rules are those of the connection's fields (a credential connection's,
    for the user name and password)."""

    model_config = ConfigDict(extra="ignore", strict=True)

    user_name: UserName | None = None
    password: Password | None = None
    fqdn_outbound_authentication: Literal["ip-authentication", "credential-authentication"] | None = None
    ip_authentication_method: Literal["token", "p-charge-info"] | None = None
    txt_name: ShortText | None = None
    txt_ttl: TxtTtl | None = None
    txt_value: ShortText | None = None
    webhook_url: Url | None = None
    failover_url: FailoverUrl | None = None


def parse_changes(body: object) -> Changes:
    """A PATCH's fields, validated (InvalidInput lists every problem, pointed at in the body sent),
    as changes of the connection: `ovp.domain.connections.fqdn_connection.apply_changes` applies them."""
    changes: dict[str, Any] = {}
    for field, value in parse_object(AuthenticationChanges, body).model_dump(exclude_unset=True).items():
        *parents, name = _KEPT_AT[field]
        nested = changes
        for parent in parents:  # a nested object of the connection merges field by field
            nested = nested.setdefault(parent, {})
        nested[name] = value
    return changes


def view(connection: dict[str, Any], *, reveal_password: bool = False) -> View:
    """The connection's authentication, as the API answers it: its password as the connection's."""
    shown: dict[str, Any] = {"id": connection["id"], "record_type": RECORD_TYPE, "connection_id": connection["id"]}
    for field, path in _KEPT_AT.items():
        value: Any = connection
        for key in path:
            value = value[key]
        shown[field] = value
    shown["password"] = fqdn_connection.shown_password(connection["password"], reveal=reveal_password)
    return shown


def written_view(connection: dict[str, Any], previous: dict[str, Any]) -> View:
    """The answer to a PATCH: the password in full when the PATCH changed it."""
    return view(connection, reveal_password=fqdn_connection.password_revealed(connection, previous))


def parse_seeded(item: object) -> Changes:
    """A seeded FQDN connection: what its create takes, and its authentication under
    `fqdn_authentication` as the PATCH takes it, applied after. InvalidInput lists every problem."""
    problems = ProblemList()
    changes: dict[str, Any] = {}
    try:
        changes = fqdn_connection.parse_new(item)
    except InvalidInput as error:
        problems.extend(error.problems)
    if isinstance(item, dict) and SEEDED_AS in item:
        try:
            authentication = parse_changes(item[SEEDED_AS])
        except InvalidInput as error:
            problems.extend(problems_at(error.problems, f"/{SEEDED_AS}"))
        else:
            outbound = {**(changes.get("outbound") or {}), **authentication.pop("outbound", {})}
            changes.update(authentication, **({"outbound": outbound} if outbound else {}))
    problems.raise_if_any()
    return changes
