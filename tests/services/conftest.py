"""The services run in a transaction the test opens, on a migrated database of each backend."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.databases import BlockingDatabase, migrated_database


@pytest.fixture
def database(file_database_url: str) -> Iterator[BlockingDatabase]:
    """A file, not memory: some tests open concurrent transactions on it."""
    with migrated_database(file_database_url) as opened:
        yield opened
