"""An FQDN of an FQDN connection (Telnyx's `/v2/fqdns`; shapes from the official SDKs' types, PyPI
`telnyx` 4.189 `types/fqdn*.py`, npm `telnyx` 7.24 `resources/fqdns`): a domain name where Telnyx
reaches the connection.

**T:** "For cases where a port is not set, the DNS record type must be 'srv'. For cases where a
port is set, the DNS record type must be 'a'. If the DNS record type is 'a' and a port is not
specified, 5060 will be used." `connection_id`, `fqdn` and `dns_record_type` are required on create.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, TypedDict

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from ovp.domain.connections.fields import ConnectionReference
from ovp.domain.errors import InvalidInput, Problem, ProblemList
from ovp.domain.listing import ListQuery, parse_connection_filter, parse_page, parse_port_filter
from ovp.domain.patch import merge_patch
from ovp.domain.resource import NUMERIC_IDS, Kind
from ovp.domain.validation import BAD_VALUE, parse_object

RECORD_TYPE = "fqdn"
DEFAULT_PORT = 5060
_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
_FQDN = re.compile(rf"{_LABEL}(\.{_LABEL})+\.?")


def _fqdn(value: str) -> str:
    if len(value) > 253 or not _FQDN.fullmatch(value):
        raise PydanticCustomError("fqdn", "{value} is not a fully qualified domain name such as 'pbx.example.com'",
                                  {"value": repr(value)})
    return value


FqdnName = Annotated[str, AfterValidator(_fqdn)]


class FqdnDocument(TypedDict):
    id: str
    record_type: str
    connection_id: str
    fqdn: str
    port: int | None
    dns_record_type: str
    created_at: str
    updated_at: str


class FqdnChanges(BaseModel):
    """What an update sends: any field."""

    model_config = ConfigDict(extra="ignore", strict=True)

    connection_id: ConnectionReference = ""
    fqdn: FqdnName = ""
    dns_record_type: Literal["a", "srv"] = "a"
    port: Annotated[int, Field(ge=1, le=65535)] | None = None


class NewFqdn(FqdnChanges):
    connection_id: ConnectionReference
    fqdn: FqdnName
    dns_record_type: Literal["a", "srv"]


def new_fqdn(fqdn_id: int, now: str) -> FqdnDocument:
    return {"id": str(fqdn_id), "record_type": RECORD_TYPE, "connection_id": "", "fqdn": "", "port": None,
            "dns_record_type": "a", "created_at": now, "updated_at": now}


def parse_new(body: object) -> dict[str, Any]:
    return parse_object(NewFqdn, body).model_dump(exclude_unset=True)


def parse_changes(body: object) -> dict[str, Any]:
    return parse_object(FqdnChanges, body).model_dump(exclude_unset=True)


def apply_changes(fqdn: FqdnDocument, changes: dict[str, Any], now: str) -> FqdnDocument:
    """The changes applied, then the record type's port rule: an 'a' record without a port takes
    5060; an 'srv' record has none."""
    result: FqdnDocument = merge_patch(fqdn, changes, {}, now)  # type: ignore[assignment]
    if result["dns_record_type"] == "a" and result["port"] is None:
        result["port"] = DEFAULT_PORT
    if result["dns_record_type"] == "srv" and result["port"] is not None:
        if "port" in changes and changes["port"] is not None:
            code, title = BAD_VALUE
            raise InvalidInput([Problem(code, title, "An srv record has no port: its DNS record gives it.",
                                        pointer="/port")])
        result["port"] = None
    return result


@dataclass(frozen=True)
class FqdnListQuery:
    page: ListQuery
    connection_id: int | None = None
    fqdn: str | None = None
    port: int | None = None
    dns_record_type: str | None = None


def parse_fqdn_list_query(params: Mapping[str, str]) -> FqdnListQuery:
    """page[...] and filter[connection_id], filter[fqdn], filter[port], filter[dns_record_type];
    raises InvalidInput naming each bad parameter."""
    problems = ProblemList()
    page_number, page_size = parse_page(params, problems)
    connection_id = parse_connection_filter(params, problems)
    port = parse_port_filter(params, problems)
    record_type = params.get("filter[dns_record_type]")
    if record_type is not None and record_type not in ("a", "srv"):
        code, title = BAD_VALUE
        problems.add(Problem(code, title, "filter[dns_record_type] must be a or srv.",
                             parameter="filter[dns_record_type]"))
    fqdn = params.get("filter[fqdn]") or None
    problems.raise_if_any()
    return FqdnListQuery(ListQuery(page_number, page_size), connection_id, fqdn, port, record_type)


KIND = Kind[FqdnDocument, int](
    RECORD_TYPE, NUMERIC_IDS, lambda fqdn_id, _account, now: new_fqdn(fqdn_id, now), parse_new, parse_changes,
    apply_changes,
)
