"""Which call records a list, an export or a usage report asks for: the filters of
GET /ovp/call_authorizations and GET /ovp/usage_reports, parsed from Telnyx's deepObject
parameters, and what the records are filtered and sorted by (the detail records of
GET /v2/detail_records take more of them). Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, get_args

from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.refusal import Refusal
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
# A record's moments: when it was decided (allowed or refused), when it was answered (an allowed
# call, once the switch said so), and when it finished: ended, or expired unended, or, for a
# refusal, when it was refused.
Moment = Literal["started", "answered", "finished"]


def moment_of(record: Authorization | Refusal, moment: Moment) -> int | None:
    """The record's moment in epoch milliseconds, as the store filters and sorts by it: None for a
    call not answered; an allowed call not ended finishes at its expiry."""
    if isinstance(record, Refusal):
        return None if moment == "answered" else record.decided_ms
    if moment == "started":
        return record.authorized_ms
    if moment == "answered":
        return record.answered_ms
    return record.ended_ms if record.ended_ms is not None else record.expires_ms


@dataclass(frozen=True)
class Window:
    """Times at or after `low_ms` and before `high_ms`, in epoch milliseconds; None: unbounded."""

    low_ms: int | None = None
    high_ms: int | None = None

    def within(self, other: Window) -> Window:
        """The times in both."""
        lows = [low for low in (self.low_ms, other.low_ms) if low is not None]
        highs = [high for high in (self.high_ms, other.high_ms) if high is not None]
        return Window(max(lows) if lows else None, min(highs) if highs else None)


@dataclass(frozen=True)
class Order:
    """One key of a sort: a moment, newest first unless not `descending`. A record without the
    moment comes last either way."""

    moment: Moment
    descending: bool = True


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
    finished_only: bool = False  # allowed calls only once they ended or expired
    record_id: int | None = None
    caller: str | None = None  # as the record reads it
    dialled: str | None = None
    answered: Window | None = None
    finished: Window | None = None

    @property
    def allowed_ones(self) -> bool:
        """Whether allowed calls can pass: they have no code."""
        return self.decision != "rejected" and self.code is None

    @property
    def refused_ones(self) -> bool:
        """Whether refused calls can pass: they have no status, and were never answered."""
        return self.decision != "allowed" and self.status is None and self.answered is None


@dataclass(frozen=True)
class DecisionListQuery:
    page: ListQuery
    filter: DecisionFilter


def id_parameter(params: Mapping[str, str], name: str, problems: ProblemList) -> int | None:
    raw = params.get(name)
    if not raw:
        return None
    found = parse_id(raw)
    if found is None:
        code, title = BAD_VALUE
        problems.add(Problem(code, title, f"{name} must be an id such as '1293384261075731499'.", parameter=name))
    return found


def code_parameter(params: Mapping[str, str], name: str, problems: ProblemList) -> str | None:
    """A refusal's code."""
    code = params.get(name) or None
    if code is not None and (len(code) > _MAX_CODE_LENGTH or "\x00" in code):
        problem_code, title = BAD_VALUE
        problems.add(Problem(problem_code, title, f"{name} is a refusal's code such as 'D2', at most "
                             f"{_MAX_CODE_LENGTH} characters.", parameter=name))
        return None
    return code


def billing_group_parameter(params: Mapping[str, str], name: str, problems: ProblemList) -> str | None:
    raw = params.get(name) or None
    if raw is None:
        return None
    billing_group = parse_uuid(raw)
    if billing_group is None:
        problem_code, title = BAD_VALUE
        problems.add(Problem(problem_code, title, f"{name} must be a billing group's id, a UUID.", parameter=name))
    return billing_group


def _filter(params: Mapping[str, str], problems: ProblemList) -> DecisionFilter:
    since = parse_moment(params, "filter[authorized_at][gte]", problems)
    until = parse_moment(params, "filter[authorized_at][lt]", problems)
    return DecisionFilter(
        decision=parse_choice(params, "filter[decision]", get_args(DecisionKind), problems),  # type: ignore[arg-type]
        code=code_parameter(params, "filter[code]", problems),
        status=parse_choice(params, "filter[status]", get_args(CallStatus), problems),  # type: ignore[arg-type]
        profile_id=id_parameter(params, "filter[outbound_voice_profile_id]", problems),
        connection_id=id_parameter(params, "filter[connection_id]", problems),
        billing_group_id=billing_group_parameter(params, "filter[billing_group_id]", problems), since_ms=since,
        until_ms=until,
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
