"""Which call records a list, an export or a usage report asks for: the filters of
GET /ovp/call_authorizations and GET /ovp/usage_reports, parsed from Telnyx's deepObject
parameters. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from ovp.domain.errors import Problem, ProblemList
from ovp.domain.ids import parse_id
from ovp.domain.listing import ListQuery, parse_choice, parse_moment, parse_page
from ovp.domain.resource import parse_uuid
from ovp.domain.validation import BAD_VALUE, MISSING

DecisionKind = Literal["allowed", "rejected"]
CallStatus = Literal["ringing", "active", "ended", "expired"]
GroupBy = Literal["outbound_voice_profile_id", "connection_id", "billing_group_id", "country_code", "code"]
# A refusal's code: Telnyx's (D1, D11, ...) or ovp's (OVP2, ...).
_MAX_CODE_LENGTH = 16
_ID_FILTERS = {"outbound_voice_profile_id": "profile_id", "connection_id": "connection_id"}


@dataclass(frozen=True)
class DecisionFilter:
    """Every filter a call record must pass; None: not filtered."""

    decision: DecisionKind | None = None
    code: str | None = None
    status: CallStatus | None = None
    profile_id: int | None = None
    connection_id: int | None = None
    billing_group_id: str | None = None
    since_ms: int | None = None  # authorized (or refused) at or after
    until_ms: int | None = None  # before

    @property
    def allowed_ones(self) -> bool:
        """Whether allowed calls can pass: they have no code."""
        return self.decision != "rejected" and self.code is None

    @property
    def refused_ones(self) -> bool:
        """Whether refused calls can pass: they have no status."""
        return self.decision != "allowed" and self.status is None


@dataclass(frozen=True)
class DecisionListQuery:
    page: ListQuery
    filter: DecisionFilter


def _id(params: Mapping[str, str], name: str, problems: ProblemList) -> int | None:
    raw = params.get(name)
    if not raw:
        return None
    found = parse_id(raw)
    if found is None:
        code, title = BAD_VALUE
        problems.add(Problem(code, title, f"{name} must be an id such as '1293384261075731499'.", parameter=name))
    return found


def _filter(params: Mapping[str, str], problems: ProblemList) -> DecisionFilter:
    code = params.get("filter[code]") or None
    if code is not None and len(code) > _MAX_CODE_LENGTH:
        problem_code, title = BAD_VALUE
        problems.add(Problem(problem_code, title, f"filter[code] is a refusal's code such as 'D2', at most "
                             f"{_MAX_CODE_LENGTH} characters.", parameter="filter[code]"))
        code = None
    ids = {field: _id(params, f"filter[{name}]", problems) for name, field in _ID_FILTERS.items()}
    billing_group = params.get("filter[billing_group_id]") or None
    if billing_group is not None:
        billing_group = parse_uuid(billing_group)
        if billing_group is None:
            problem_code, title = BAD_VALUE
            problems.add(Problem(problem_code, title, "filter[billing_group_id] must be a billing group's id, a UUID.",
                                 parameter="filter[billing_group_id]"))
    since = parse_moment(params, "filter[authorized_at][gte]", problems)
    until = parse_moment(params, "filter[authorized_at][lt]", problems)
    return DecisionFilter(
        decision=parse_choice(params, "filter[decision]", get_args(DecisionKind), problems),  # type: ignore[arg-type]
        code=code,
        status=parse_choice(params, "filter[status]", get_args(CallStatus), problems),  # type: ignore[arg-type]
        billing_group_id=billing_group, since_ms=since, until_ms=until, **ids,
    )


def parse_decision_list_query(params: Mapping[str, str]) -> DecisionListQuery:
    """The list's page and filters. Raises InvalidInput naming each bad parameter."""
    problems = ProblemList()
    page_number, page_size = parse_page(params, problems)
    found = _filter(params, problems)
    problems.raise_if_any()
    return DecisionListQuery(ListQuery(page_number, page_size), found)


@dataclass(frozen=True)
class UsageReportQuery:
    group_by: GroupBy
    filter: DecisionFilter


def parse_usage_report_query(params: Mapping[str, str]) -> UsageReportQuery:
    """What a usage report groups by (required) and the records it totals. Raises InvalidInput
    naming each bad parameter."""
    problems = ProblemList()
    found = _filter(params, problems)
    group_by = parse_choice(params, "group_by", get_args(GroupBy), problems)
    if group_by is None and not params.get("group_by"):
        code, title = MISSING
        problems.add(Problem(code, title, f"group_by is required: one of {', '.join(get_args(GroupBy))}.",
                             parameter="group_by"))
    problems.raise_if_any()
    assert group_by is not None
    return UsageReportQuery(group_by, found)  # type: ignore[arg-type]
