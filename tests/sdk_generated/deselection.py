"""The generated tests the runner deselects (deselected.txt beside this file): each sends a value
Telnyx's own contract refuses, so that no server that keeps to the contract could pass it. A line
names a file under tests/api_resources and a test function (of its sync and its async class), then
why, which is required."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tests.sdk_generated.report import Outcome

DESELECTED = Path(__file__).with_name("deselected.txt")


class BadDeselection(ValueError):
    """A line of the list without a reason, or not of the form file::test."""


def deselections(text: str) -> dict[str, str]:
    """`file::test` -> why, from the list's text."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, why = line.strip().partition(" ")
        if "::" not in name or not why.strip():
            raise BadDeselection(f"{DESELECTED.name} line {number}: want `file::test why`, got {line!r}")
        found[name] = why.strip()
    return found


def unused(deselected: dict[str, str], found: Sequence[Outcome], files: Sequence[str]) -> list[str]:
    """The entries, of the files run, that deselected no test: the sdist no longer has that test."""
    used = {f"{each.file}::{each.function}" for each in found if each.outcome == "deselected"}
    return [name for name in deselected if name.partition("::")[0] in files and name not in used]
