"""The connection list queries (of each kind, and `/v2/connections` across every kind): profiles'
page, sort and name filter, plus a profile filter and, for SIP connections, an FQDN filter. Each
kind names its parameters as its SDK types do."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import partial

from ovp.domain.errors import Problem, ProblemList
from ovp.domain.ids import parse_id
from ovp.domain.listing import ListQuery, ListShape, read_list_query
from ovp.domain.validation import BAD_VALUE

# The sorts by name: a TeXML application's name is its friendly_name.
NAME_SORTS = ("connection_name", "friendly_name")
# Telnyx documents the first; the Python SDK's `filter={"outbound_voice_profile_id": ...}` sends the second.
PROFILE_FILTERS = ("filter[outbound.outbound_voice_profile_id]", "filter[outbound_voice_profile_id]")
# Telnyx: connections "with an fqdn that equals the given value"; case-sensitive, the whole string.
FQDN_FILTER = "filter[fqdn]"
MAX_FQDN_LENGTH = 255


@dataclass(frozen=True)
class ConnectionListQuery:
    page: ListQuery = field(default_factory=ListQuery)
    profile_id: int | None = None
    fqdn: str | None = None


@dataclass(frozen=True)
class ConnectionListShape:
    """One kind's list parameters: its page, sort and name filter, the names its profile filter
    goes by (the first as Telnyx documents it), and whether it has a filter by FQDN."""

    page: ListShape
    profile_filters: tuple[str, ...] = PROFILE_FILTERS
    fqdn_filter: bool = True


# Telnyx: a name filter "requires at least three characters".
CONNECTION_LIST = ConnectionListShape(ListShape(("created_at", "connection_name", "active"),
                                                "filter[connection_name][contains]", min_filter_length=3))
CALL_CONTROL_APPLICATION_LIST = ConnectionListShape(
    ListShape(("created_at", "connection_name", "active"), "filter[application_name][contains]",
              min_filter_length=3), fqdn_filter=False)
TEXML_APPLICATION_LIST = ConnectionListShape(
    ListShape(("created_at", "friendly_name", "active"), "filter[friendly_name]", min_filter_length=3),
    ("filter[outbound_voice_profile_id]",), fqdn_filter=False)


def _profile_filter(params: Mapping[str, str], names: tuple[str, ...], problems: ProblemList) -> int | None:
    profile_id: int | None = None
    code, title = BAD_VALUE
    for name in names:
        raw = params.get(name) or None
        if raw is None:
            continue
        value = parse_id(raw)
        if value is None:
            problems.add(Problem(code, title, f"{name} must be an outbound voice profile id such as "
                                 "'1293384261075731499'.", parameter=name))
        elif profile_id is not None and value != profile_id:
            problems.add(Problem(code, title, f"{name} names another profile than {names[0]}.",
                                 parameter=name))
        else:
            profile_id = value
    return profile_id


def _fqdn_filter(params: Mapping[str, str], problems: ProblemList) -> str | None:
    fqdn = params.get(FQDN_FILTER) or None
    if fqdn is not None and len(fqdn) > MAX_FQDN_LENGTH:
        code, title = BAD_VALUE
        problems.add(Problem(code, title, f"{FQDN_FILTER} must be at most {MAX_FQDN_LENGTH} characters.",
                             parameter=FQDN_FILTER))
    return fqdn


def read_connection_list_query(shape: ConnectionListShape, params: Mapping[str, str]) -> ConnectionListQuery:
    """Raises InvalidInput naming each bad parameter in `source.parameter`."""
    problems = ProblemList()
    page = read_list_query(params, shape.page, problems)
    profile_id = _profile_filter(params, shape.profile_filters, problems)
    fqdn = _fqdn_filter(params, problems) if shape.fqdn_filter else None
    problems.raise_if_any()
    return ConnectionListQuery(page, profile_id, fqdn)


parse_connection_list_query = partial(read_connection_list_query, CONNECTION_LIST)
parse_call_control_application_list_query = partial(read_connection_list_query, CALL_CONTROL_APPLICATION_LIST)
parse_texml_application_list_query = partial(read_connection_list_query, TEXML_APPLICATION_LIST)
