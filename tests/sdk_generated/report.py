"""The run's outcome as the runner prints it: passed out of run per resource file (deselected
tests apart), then each failure's one-line reason, a test's variants (sync and async classes,
loose, strict and aiohttp clients) gathered when they failed for the same reason."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

VARIANT = re.compile(r"^(?P<cls>\w+)::(?P<function>\w+)(?:\[(?P<param>[^\]]*)\])?$")


@dataclass(frozen=True)
class Outcome:
    file: str  # under tests/api_resources
    test: str  # Class::function[param]
    outcome: str  # passed, failed, skipped, deselected
    reason: str

    @property
    def function(self) -> str:
        found = VARIANT.match(self.test)
        return found["function"] if found else self.test

    @property
    def variant(self) -> str:
        found = VARIANT.match(self.test)
        if not found:
            return self.test
        mode = "async" if found["cls"].startswith("TestAsync") else "sync"
        return f"{mode} {found['param']}" if found["param"] else mode


def outcomes(results: Iterable[Mapping[str, str]]) -> list[Outcome]:
    return [Outcome(result["file"], result["test"], result["outcome"], result["reason"]) for result in results]


def failed(found: Sequence[Outcome]) -> list[Outcome]:
    return [each for each in found if each.outcome == "failed"]


def table(found: Sequence[Outcome], files: Sequence[str]) -> list[str]:
    counts: dict[str, Counter[str]] = {file: Counter() for file in files}
    for each in found:
        counts.setdefault(each.file, Counter())[each.outcome] += 1
    width = max(len(file) for file in counts)
    lines = [f"{'resource file':<{width}}  passed/run  deselected  skipped"]
    total: Counter[str] = Counter()
    for file, count in counts.items():
        total += count
        lines.append(_row(file, count, width))
    lines.append(_row("all", total, width))
    return lines


def _row(name: str, count: Counter[str], width: int) -> str:
    run = count["passed"] + count["failed"] + count["skipped"]
    return f"{name:<{width}}  {count['passed']:>6}/{run:<3}  {count['deselected']:>10}  {count['skipped']:>7}"


def failures(found: Sequence[Outcome]) -> list[str]:
    """One line per failing test function and reason, with the variants that failed so."""
    gathered: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for each in failed(found):
        gathered[(each.file, each.function, each.reason)].append(each.variant)
    return [f"{file}::{function} [{', '.join(variants)}]: {reason}"
            for (file, function, reason), variants in gathered.items()]
