"""Creating a resource under a new id. Ids are made without coordination between servers, so the
rare clash with another server's id is retried under a new node number."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from ovp.domain.ids import IdGenerator
from ovp.store.documents import DuplicateId

ID_ATTEMPTS = 5
T = TypeVar("T")


def with_new_id(ids: IdGenerator, insert: Callable[[int], T]) -> T:
    """`insert` run with a fresh id, again with another when the id is taken."""
    for _attempt in range(ID_ATTEMPTS):
        try:
            return insert(ids.next_id())
        except DuplicateId:
            ids.reseed()
    raise RuntimeError("could not draw a free id")


def with_new_uuid(insert: Callable[[str], T]) -> T:
    """`insert` run with a fresh random UUID (the ids Telnyx gives some resources), again with
    another in the unlikely event that the account has it."""
    for _attempt in range(ID_ATTEMPTS):
        try:
            return insert(str(uuid.uuid4()))
        except DuplicateId:
            continue
    raise RuntimeError("could not draw a free id")
