"""Seeding: profiles given in the shape the API answers with (`{"data": [...]}`), ids kept."""

from __future__ import annotations

import re
from contextlib import suppress
from typing import Any

from ovp.domain import profile as rules
from ovp.domain.clock import now_timestamp
from ovp.domain.errors import InvalidInput, NotFound, Problem, ProblemList
from ovp.domain.ids import parse_id
from ovp.domain.validation import BAD_VALUE, WRONG_TYPE
from ovp.store import profiles as store
from ovp.store.database import Transaction

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


def _problem(kind: tuple[str, str], detail: str, pointer: str) -> Problem:
    code, title = kind
    return Problem(code, title, detail, pointer=pointer)


def _timestamp(item: dict[str, Any], field: str, default: str, at: str, problems: ProblemList) -> str:
    value = item.get(field, default)
    if not isinstance(value, str) or not TIMESTAMP.fullmatch(value):
        problems.add(_problem(BAD_VALUE, f"{field} must look like 2018-02-02T22:25:27.521Z.", f"{at}/{field}"))
        return default
    return value


def _one(tx: Transaction, account_id: str, item: object, at: str, now: str, problems: ProblemList) -> bool:
    """Stores one seeded profile, replacing the account's own profile of that id; False if it was refused."""
    if not isinstance(item, dict):
        problems.add(_problem(WRONG_TYPE, "Each seeded profile must be a JSON object.", at))
        return False
    profile_id = parse_id(str(item.get("id", "")))
    if profile_id is None:
        problems.add(_problem(BAD_VALUE, "id must be a numeric string such as '1293384261075731499'.", f"{at}/id"))
        return False
    created_at = _timestamp(item, "created_at", now, at, problems)
    updated_at = _timestamp(item, "updated_at", created_at, at, problems)
    try:
        profile = rules.apply_changes(rules.new_profile(profile_id, created_at), rules.parse_changes(item), updated_at)
    except InvalidInput as error:
        for problem in error.problems:
            problems.add(Problem(problem.code, problem.title, problem.detail, pointer=at + (problem.pointer or "")))
        return False
    with suppress(NotFound):  # ids are the account's own: a seed replaces its profile of that id, if any
        store.delete(tx, account_id, store.get(tx, account_id, profile_id, for_update=True))
    store.insert(tx, account_id, profile)
    return True


def load(tx: Transaction, account_id: str, seed: object) -> int:
    """Stores every profile of the seed, or none: raises InvalidInput listing every problem."""
    if not isinstance(seed, dict) or not isinstance(seed.get("data"), list):
        raise InvalidInput([_problem(WRONG_TYPE, 'A seed is {"data": [profile, ...]}.', "/data")])
    problems = ProblemList()
    now = now_timestamp()
    stored = sum(_one(tx, account_id, item, f"/data/{index}", now, problems) for index, item in enumerate(seed["data"]))
    problems.raise_if_any()
    return stored
