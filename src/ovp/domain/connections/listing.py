"""The connection list query (credential connections', and `/v2/connections` across every kind):
profiles' page, sort and name filter, plus a profile filter and an FQDN filter."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ovp.domain.errors import Problem, ProblemList
from ovp.domain.ids import parse_id
from ovp.domain.listing import ListQuery, ListShape, read_list_query
from ovp.domain.validation import BAD_VALUE

# Telnyx: the name filter "requires at least three characters".
CONNECTION_LIST = ListShape(("created_at", "connection_name", "active"), "filter[connection_name][contains]",
                            min_filter_length=3)
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


def _profile_filter(params: Mapping[str, str], problems: ProblemList) -> int | None:
    profile_id: int | None = None
    code, title = BAD_VALUE
    for name in PROFILE_FILTERS:
        raw = params.get(name) or None
        if raw is None:
            continue
        value = parse_id(raw)
        if value is None:
            problems.add(Problem(code, title, f"{name} must be an outbound voice profile id such as "
                                 "'1293384261075731499'.", parameter=name))
        elif profile_id is not None and value != profile_id:
            problems.add(Problem(code, title, f"{name} names another profile than {PROFILE_FILTERS[0]}.",
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


def parse_connection_list_query(params: Mapping[str, str]) -> ConnectionListQuery:
    """Raises InvalidInput naming each bad parameter in `source.parameter`."""
    problems = ProblemList()
    page = read_list_query(params, CONNECTION_LIST, problems)
    profile_id = _profile_filter(params, problems)
    fqdn = _fqdn_filter(params, problems)
    problems.raise_if_any()
    return ConnectionListQuery(page, profile_id, fqdn)
