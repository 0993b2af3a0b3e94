"""What a Telnyx-style resource's documents are, declared once in its domain module: their ids,
their defaults, what a client may send on create and on update, how changes apply, and how the API
shows them. No I/O: the service (ovp.services.resources) serves every resource from this.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ovp.domain.ids import IdGenerator, parse_id

D = TypeVar("D", bound=Mapping[str, Any])
K = TypeVar("K")
Changes = dict[str, Any]
View = dict[str, Any]


@dataclass(frozen=True)
class Ids(Generic[K]):
    """How a resource's ids are read from a path, drawn for a new resource, and described."""

    parse: Callable[[str], K | None]  # None: the text names no resource of this kind
    draw: Callable[[IdGenerator], K]
    clashed: Callable[[IdGenerator], None]  # another process drew the same id
    described: str


def parse_uuid(text: str) -> str | None:
    """A UUID in its canonical form; None when the text is not one."""
    try:
        return str(uuid.UUID(text))
    except ValueError:
        return None


def _nothing(_generator: IdGenerator) -> None:
    return None


def _next_id(generator: IdGenerator) -> int:
    return generator.next_id()


def _reseed(generator: IdGenerator) -> None:
    generator.reseed()


# Time-ordered numeric ids (ovp.domain.ids), the most of Telnyx's: a clash draws a new node number.
NUMERIC_IDS = Ids[int](parse_id, _next_id, _reseed, "a numeric string such as '1293384261075731499'")
# Random UUIDs, as Telnyx gives some resources (billing groups, IPs).
UUID_IDS = Ids[str](parse_uuid, lambda _ids: str(uuid.uuid4()), _nothing,
                    "a UUID such as 'f5586561-8ff0-4291-a0ac-84fe544797bd'")


def plain_view(document: Mapping[str, Any], _counted: int) -> View:
    return dict(document)


@dataclass(frozen=True)
class Kind(Generic[D, K]):
    """One kind of document. `new(id, account_id, now)`: every default, before the client's fields
    apply; `apply(document, changes, now)`: the changes applied, rules across fields checked.
    `view(document, counted)`: the document as the API shows it (`counted`: the number its table
    counts beside it, a profile's connections). `written_view(document, previous, counted)`: as
    an answer to the write that made it (`previous` None for a create). `deleted_view(document,
    now)`: as the answer to its delete."""

    record_type: str
    ids: Ids[K]
    new: Callable[[K, str, str], D]
    parse_new: Callable[[object], Changes]
    parse_changes: Callable[[object], Changes]
    apply: Callable[[D, Changes, str], D]
    view: Callable[[D, int], View] = plain_view
    written_view: Callable[[D, D | None, int], View] | None = None
    deleted_view: Callable[[D, str], View] | None = None

    def shown_written(self, document: D, previous: D | None, counted: int) -> View:
        if self.written_view is not None:
            return self.written_view(document, previous, counted)
        return self.view(document, counted)

    def shown_deleted(self, document: D, now: str) -> View:
        if self.deleted_view is not None:
            return self.deleted_view(document, now)
        return self.view(document, 0)

    def made(self, resource_id: K, account_id: str, changes: Changes, created: str, updated: str) -> D:
        """A new document of the client's changes (created and last updated at those times)."""
        return self.apply(self.new(resource_id, account_id, created), changes, updated)
