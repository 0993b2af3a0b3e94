"""The services run in a transaction the test opens, on a migrated database of each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ovp.store.database import Database
from tests.databases import migrated_database


@pytest.fixture
def database(file_database_url: str) -> Iterator[Database]:
    """A file, not memory: some tests open concurrent transactions on it."""
    with migrated_database(file_database_url) as opened:
        yield opened
