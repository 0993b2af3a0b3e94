"""Creating under a new id. Ids are made without coordination between servers, so the rare clash
with another server's id is tried again under another."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ovp.domain.ids import IdGenerator
from ovp.domain.resource import NUMERIC_IDS, Ids
from ovp.store.documents import DuplicateId

ID_ATTEMPTS = 5
K = TypeVar("K")
T = TypeVar("T")


def with_new(ids: Ids[K], generator: IdGenerator, insert: Callable[[K], T]) -> T:
    """`insert` run with a fresh id of the kind `ids` draws, again with another when the id is taken."""
    for _attempt in range(ID_ATTEMPTS):
        try:
            return insert(ids.draw(generator))
        except DuplicateId:
            ids.clashed(generator)
    raise RuntimeError("could not draw a free id")


def with_new_id(generator: IdGenerator, insert: Callable[[int], T]) -> T:
    """`insert` run with a fresh numeric id (see with_new)."""
    return with_new(NUMERIC_IDS, generator, insert)
