"""The ids the runner puts in its copy of the generated tests, in place of ids no resource of ovp's
can have: the literal "id", a UUID where connection ids are numbers, one id given to several kinds
of connection, and a webhook delivery's id, which only the server makes (read before each test).

Each rule replaces whole lines of one file (leading space aside), so that an id given as something
else in the same file (an outbound_voice_profile_id in a body) stays as it is. A rule that matches
no line fails the run: the sdist changed under it.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.sdk_generated import seed


@dataclass(frozen=True)
class Substitution:
    file: str  # under tests/api_resources
    old: str  # a whole line, without its indentation
    new: str
    why: str


def _id_lines(file: str, old_id: str, new: str, why: str, *, keyword: str | None = "id") -> list[Substitution]:
    """The id given positionally (`"old",`) and, unless `keyword` is None, by keyword (`keyword="old",`)."""
    positional = Substitution(file, f'"{old_id}",', new + ",", why)
    if keyword is None:
        return [positional]
    return [positional, Substitution(file, f'{keyword}="{old_id}",', f"{keyword}={new},", why)]


def _quoted(value: str) -> str:
    return f'"{value}"'


# The tests give 1293384261075731499 to a profile and to connections of three kinds; connections of
# every kind share their ids (in ovp as in Telnyx), so each kind gets its own and the profile keeps it.
_SHARED = "1293384261075731499 is the seeded profile's id"
_NOT_AN_ID = '"{}" is no connection id: the seeded {} connection'

SUBSTITUTIONS: tuple[Substitution, ...] = (
    *_id_lines("test_credential_connections.py", "id", _quoted(seed.CREDENTIAL_CONNECTION),
               _NOT_AN_ID.format("id", "credential")),
    *_id_lines("credential_connections/test_actions.py", "id", _quoted(seed.CREDENTIAL_CONNECTION),
               _NOT_AN_ID.format("id", "credential"), keyword=None),
    *_id_lines("test_connections.py", "id", _quoted(seed.CREDENTIAL_CONNECTION),
               _NOT_AN_ID.format("id", "credential"), keyword=None),
    *_id_lines("test_ip_connections.py", "id", _quoted(seed.IP_CONNECTION),
               _NOT_AN_ID.format("id", "IP")),
    Substitution("test_ips.py", 'connection_id="6a09cdc3-8948-47f0-aa62-74ac943d6c58",',
                 f'connection_id="{seed.IP_CONNECTION}",',
                 "connection ids are numbers, not UUIDs: the seeded IP connection"),
    *_id_lines("test_fqdn_connections.py", "1293384261075731499", _quoted(seed.FQDN_CONNECTION),
               _SHARED + ": the seeded FQDN connection (test_fqdns.py's connection_id)"),
    *_id_lines("fqdn_connections/test_fqdn_authentication.py", "fqdn_connection_id", _quoted(seed.FQDN_CONNECTION),
               _NOT_AN_ID.format("fqdn_connection_id", "FQDN"), keyword="fqdn_connection_id"),
    *_id_lines("test_call_control_applications.py", "1293384261075731499", _quoted(seed.CALL_CONTROL_APPLICATION),
               _SHARED + ": the seeded Call Control application"),
    *_id_lines("test_texml_applications.py", "1293384261075731499", _quoted(seed.TEXML_APPLICATION),
               _SHARED + ": the seeded TeXML application"),
    Substitution("test_webhook_deliveries.py", '"C9C0797E-901D-4349-A33C-C2C8F31A92C2",',
                 'seeded_id("webhook_delivery"),',
                 "a delivery's id is the server's: the delivery of the call made before the test"),
)
