"""A pytest plugin for the generated tests' own run, copied there as tests/ovp_account.py and loaded
with `-p tests.ovp_account`. It runs in that run's virtualenv, so it imports only what the run
has (pytest, httpx), and takes its settings from the JSON file $OVP_SDK_RUN names:

    {"seed": {...}, "call": {...}, "call_for": ["file", ...], "deselected": {"file::test": "why"},
     "results": "path"}

- Before each test, the account of the tests' API key is reset and seeded (and, for the files in
  `call_for`, a call is made, whose webhook delivery's id `seeded_id("webhook_delivery")` answers).
- The tests in `deselected` (a file under tests/api_resources, and a test function of its sync and
  async classes) are deselected.
- Each test's outcome, with a one-line reason for a failure, is written to `results`.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest

ADMIN = "/_ovp/admin"
RESOURCES = Path("tests/api_resources")
REASON_CHARS = 300
_seeded: dict[str, str] = {}
_outcomes: dict[str, dict[str, str]] = {}


@functools.cache
def _run() -> dict[str, Any]:
    settings: dict[str, Any] = json.loads(Path(os.environ["OVP_SDK_RUN"]).read_text())
    return settings


def seeded_id(name: str) -> str:
    """The id of a resource made for this test by the server (a webhook delivery)."""
    return _seeded[name]


def _file(item: pytest.Item) -> str:
    return item.path.relative_to(item.config.rootpath / RESOURCES).as_posix()


def _test(item: pytest.Item) -> str:
    return f"{_file(item)}::{getattr(item, 'originalname', item.name)}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    deselected = _run()["deselected"]
    dropped = [item for item in items if _test(item) in deselected]
    for item in dropped:
        _record(item.nodeid, "deselected", deselected[_test(item)])
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if _test(item) not in deselected]


def _answer(response: httpx.Response) -> Any:
    if response.is_error:
        raise RuntimeError(f"{response.request.method} {response.request.url.path}: "
                           f"{response.status_code} {response.text}")
    return response.json()["data"]


@pytest.fixture(autouse=True)
def ovp_account(request: pytest.FixtureRequest) -> None:
    """The account reset and seeded, so that no test sees what another made or deleted."""
    conftest = importlib.import_module("tests.conftest")  # the sdist's: its server and API key
    origin = str(conftest.base_url).removesuffix("/v2")
    run = _run()
    with httpx.Client(base_url=origin, headers={"Authorization": f"Bearer {conftest.api_key}"},
                      timeout=30.0) as http:
        _answer(http.post(f"{ADMIN}/reset"))
        _answer(http.post(f"{ADMIN}/seed", json=run["seed"]))
        if _file(request.node) in run["call_for"]:
            _answer(http.post("/ovp/call_authorizations", json=run["call"]))
            _seeded["webhook_delivery"] = _answer(http.get("/v2/webhook_deliveries"))[0]["id"]


def _reason(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = str(crash.message) if crash is not None else str(report.longrepr)
    if report.skipped and isinstance(report.longrepr, tuple):
        text = str(report.longrepr[2])
    line = " ".join(text.split())
    return line if len(line) <= REASON_CHARS else line[:REASON_CHARS - 1] + "…"


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    known = _outcomes.get(report.nodeid)
    if known is not None and known["outcome"] != "passed":
        return  # the first phase that did not pass says why
    outcome = report.outcome if report.when == "call" or not report.passed else "passed"
    _record(report.nodeid, outcome, "" if report.passed else _reason(report))


def _record(nodeid: str, outcome: str, reason: str) -> None:
    path, _, rest = nodeid.partition("::")
    file = Path(path).relative_to(RESOURCES).as_posix()
    _outcomes[nodeid] = {"file": file, "test": rest, "outcome": outcome, "reason": reason}


def pytest_sessionfinish(session: pytest.Session) -> None:
    Path(_run()["results"]).write_text(json.dumps(list(_outcomes.values()), indent=1))
