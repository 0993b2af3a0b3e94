"""A server killed with SIGKILL in the middle of a concurrent write load loses no acknowledged
write and half-applies none.

The test process writes to a real `ovp serve` from many connections at once: creates, and PATCHes
of profiles it created. Every write carries a number of its own, and every field it sets is
derived from that number, so a profile read back names the one write it came from, and a mix of
two writes shows as fields that disagree. PATCHes of one profile are sent one after the other (the
next only once the last has been answered), so the order in which they commit is known.

Partway through, the server is killed by its PID. Writes that were answered 200 before that are
acknowledged; writes whose answer never came are unknown: each may or may not have been applied.
A new server on the same database must then show, for every profile, exactly the last acknowledged
write, or an unknown write sent after it, and no profile that no create could have made.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import signal
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.load import async_client
from tests.e2e.servers import PROFILES, OvpServer, launch

pytestmark = pytest.mark.e2e

Document = dict[str, Any]

TOKEN = "crash-safety"
WRITERS = 24  # each with a connection of its own and at most one request in flight
REQUEST_TIMEOUT_S = 10.0
CREATE_SHARE = 0.4  # the rest are PATCHes, whenever a profile is free to take one
KILL_AFTER_ACKS = (250, 1000)  # the kill comes after a random number of acknowledged writes in this range...
KILL_AFTER_S = 2.0  # ...or this long after the first, whichever comes first
FIRST_ACK_WITHIN_S = 15.0  # the first acknowledged write (a create) comes within this, however slow the machine
MAX_WRITES = 50_000  # a bound that the kill is meant to come well before
LOAD_DEADLINE_S = 30.0  # the load, kill included, ends within this, whatever happens
PAGE_SIZE = 250
TIMESTAMPS = ("created_at", "updated_at")
COUNTRIES = (["US", "CA"], ["BR", "AU", "DE"], ["FR"], ["GB", "JP"])

ACKED = "acked"  # answered 200: it must be there
UNKNOWN = "unknown"  # sent, never answered: it may be there
REFUSED = "refused"  # answered, but not 200: none should be


def body(create: int, number: int, rng: random.Random) -> Document:
    """The body of write `number` to the profile created by write `create` (a create has
    create == number). Every field depends on `number`; the same fields are sent every time, so a
    write replaces all of them, and a profile at rest shows one write's values, all of them."""
    return {
        "name": f"crash c{create} w{number}",
        "tags": [f"c{create}", f"w{number}", *(rng.randbytes(100).hex() for _ in range(3))],
        "concurrent_call_limit": number,
        "max_destination_rate": number + 0.5,
        "daily_spend_limit": f"{number}.25",
        "daily_spend_limit_enabled": number % 2 == 0,
        "enabled": number % 3 != 0,
        "whitelisted_destinations": COUNTRIES[number % len(COUNTRIES)],
        "billing_group_id": f"00000000-0000-4000-8000-{number:012d}",
        "calling_window": {"calls_per_cld": number},
        "call_recording": {
            "call_recording_format": "mp3" if number % 2 else "wav",
            "call_recording_channels": "dual" if number % 5 else "single",
        },
    }


def merged(document: Document, changes: Document) -> Document:
    """`document` with `changes` applied as ovp applies a PATCH of these fields: nested objects
    merge field by field, everything else is replaced."""
    result = dict(document)
    for key, value in changes.items():
        result[key] = {**document[key], **value} if isinstance(value, dict) else value
    return result


def without(document: Document, *keys: str) -> Document:
    return {key: value for key, value in document.items() if key not in keys}


def marks(document: Document) -> tuple[int, int]:
    """The create and the write a stored profile names in its first two tags."""
    tags = document["tags"]
    assert len(tags) >= 2, document
    assert tags[0].startswith("c"), document
    assert tags[1].startswith("w"), document
    return int(tags[0][1:]), int(tags[1][1:])


@dataclass
class Write:
    number: int
    create: int  # the number of the create that made the profile (this one's own, for a create)
    body: Document
    profile_id: str | None  # None for a create until it is acknowledged
    outcome: str = "pending"
    document: Document | None = None  # what the 200 answered
    problem: str = ""
    before_kill: bool = True  # whether its failure, if it failed, was seen before the kill

    @property
    def is_create(self) -> bool:
        return self.number == self.create


@dataclass
class Load:
    server: OvpServer
    rng: random.Random
    kill_after_acks: int
    writes: dict[int, Write] = field(default_factory=dict)
    history: dict[str, list[Write]] = field(default_factory=dict)  # per profile, in the order sent
    idle: list[str] = field(default_factory=list)  # acknowledged profiles with no write in flight
    acks: int = 0
    killed: bool = False
    killed_after_s: float = 0.0
    first: asyncio.Event = field(default_factory=asyncio.Event)
    enough: asyncio.Event = field(default_factory=asyncio.Event)

    def next_write(self) -> tuple[str, str, Write]:
        """The next request: a PATCH of a free profile, or a create."""
        number = len(self.writes) + 1
        if self.idle and self.rng.random() >= CREATE_SHARE:
            profile_id = self.idle.pop(self.rng.randrange(len(self.idle)))
            create = self.history[profile_id][0].number
            write = Write(number, create, body(create, number, self.rng), profile_id)
            self.history[profile_id].append(write)
            method, path = "PATCH", f"{PROFILES}/{profile_id}"
        else:
            write = Write(number, number, body(number, number, self.rng), None)
            method, path = "POST", PROFILES
        self.writes[number] = write
        return method, path, write

    async def send(self, client: httpx.AsyncClient, method: str, path: str, write: Write) -> None:
        try:
            response = await client.request(method, path, json=write.body)
        except httpx.TransportError as error:
            write.outcome, write.problem, write.before_kill = UNKNOWN, repr(error), not self.killed
            return
        if response.status_code != 200:
            write.outcome, write.problem = REFUSED, f"HTTP {response.status_code}: {response.text}"
            return
        write.outcome, write.document = ACKED, response.json()["data"]
        assert write.document is not None
        if write.profile_id is None:
            write.profile_id = write.document["id"]
            assert write.profile_id not in self.history, f"the id {write.profile_id} was answered twice"
            self.history[write.profile_id] = [write]
        self.idle.append(write.profile_id)
        self.acks += 1
        self.first.set()
        if self.acks >= self.kill_after_acks:
            self.enough.set()

    async def writer(self, client: httpx.AsyncClient) -> None:
        while not self.killed and len(self.writes) < MAX_WRITES:
            await self.send(client, *self.next_write())

    async def killer(self, started: float) -> None:
        """SIGKILL, by its PID, once enough writes were acknowledged, with requests in flight. The
        clock starts at the first acknowledgement, not before: a server that the machine's load
        slows at its start still has some of its writes acknowledged before the kill (a server that
        acknowledges none in FIRST_ACK_WITHIN_S fails the test)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.first.wait(), FIRST_ACK_WITHIN_S)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.enough.wait(), KILL_AFTER_S)
        os.kill(self.server.pid, signal.SIGKILL)
        self.killed = True
        self.killed_after_s = time.monotonic() - started

    async def run(self) -> None:
        # A client per writer: one httpx client with many connections spends more time choosing a
        # connection (httpcore scans them all on every event) than sending on it. The clients
        # share one TLS context, unused on http:// but costly to make, about 50 ms each.
        tls = ssl.create_default_context()
        async with contextlib.AsyncExitStack() as stack:
            clients = [
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=self.server.origin,
                        headers={"Authorization": f"Bearer {TOKEN}"},
                        timeout=REQUEST_TIMEOUT_S,
                        verify=tls,
                        limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    )
                )
                for _ in range(WRITERS)
            ]
            started = time.monotonic()
            jobs = [self.killer(started), *(self.writer(client) for client in clients)]
            await asyncio.wait_for(asyncio.gather(*jobs), LOAD_DEADLINE_S)


@pytest.fixture
def servers(file_database_url: str) -> Iterator[list[OvpServer]]:
    """The servers the test starts; each is stopped by its own PID at the end, killed or not, and
    before its database is emptied."""
    started: list[OvpServer] = []
    yield started
    for server in started:
        server.stop()


def all_profiles(client: httpx.Client) -> list[Document]:
    """Every profile of the account, page by page; each page's meta must tell the same story."""
    profiles: list[Document] = []
    totals: set[int] = set()
    number = 1
    while True:
        response = client.get(PROFILES, params={"page[size]": str(PAGE_SIZE), "page[number]": str(number)})
        assert response.status_code == 200, response.text
        page = response.json()
        meta = page["meta"]
        totals.add(meta["total_results"])
        assert meta["page_number"] == number, meta
        assert meta["page_size"] == PAGE_SIZE, meta
        assert meta["total_pages"] == -(-meta["total_results"] // PAGE_SIZE), meta
        profiles += page["data"]
        if number >= meta["total_pages"]:
            break
        assert len(page["data"]) == PAGE_SIZE, meta
        number += 1
    assert len(totals) == 1, f"total_results changed between pages: {totals}"
    assert len(profiles) == totals.pop(), "the pages do not add up to total_results"
    ids = [profile["id"] for profile in profiles]
    assert len(set(ids)) == len(ids), "a profile is listed twice"
    return profiles


async def read_each(server: OvpServer, ids: list[str]) -> dict[str, Document]:
    """GET of every profile by its id, as a client would read it after the restart."""
    async with async_client(server.origin, TOKEN, 16) as client:
        gate = asyncio.Semaphore(16)

        async def read(profile_id: str) -> tuple[str, Document]:
            async with gate:
                response = await client.get(f"{PROFILES}/{profile_id}")
            assert response.status_code == 200, f"{profile_id}: {response.text}"
            document: Document = response.json()["data"]
            return profile_id, document

        return dict(await asyncio.wait_for(asyncio.gather(*(read(each) for each in ids)), LOAD_DEADLINE_S))


def check_acknowledged_profile(load: Load, profile_id: str, found: Document) -> str:
    """The profile is at its last acknowledged write, or at a write sent after it whose answer
    never came; with all the fields of that one write. Answers which of the two it is."""
    history = load.history[profile_id]
    last = max(index for index, write in enumerate(history) if write.outcome == ACKED)
    acknowledged = history[last]
    assert acknowledged.document is not None
    create, number = marks(found)
    assert create == history[0].number, f"{profile_id} names create {create}, not {history[0].number}: {found}"
    if number == acknowledged.number:
        assert found == acknowledged.document, (
            f"{profile_id} is at its last acknowledged write {number}, but not as acknowledged:\n"
            f"stored:       {found}\nacknowledged: {acknowledged.document}"
        )
        return ACKED
    later = {write.number: write for write in history[last + 1:] if write.outcome == UNKNOWN}
    sent = {write.number: write.outcome for write in history}
    assert number in later, (
        f"{profile_id} is at write {number} ({sent.get(number, 'never sent to it')}), but its last "
        f"acknowledged write is {acknowledged.number}; its writes in order: {sent}\nstored: {found}"
    )
    expected = merged(acknowledged.document, later[number].body)
    assert without(found, "updated_at") == without(expected, "updated_at"), (
        f"{profile_id} is at unknown write {number}, but not wholly:\nstored:   {found}\nexpected: {expected}"
    )
    assert found["updated_at"] >= acknowledged.document["updated_at"], found
    return UNKNOWN


def check_unacknowledged_create(load: Load, template: Document, found: Document) -> None:
    """A profile whose create was never answered: it was in flight, it is whole, and it was made once."""
    create, number = marks(found)
    write = load.writes.get(create)
    assert write is not None, f"{found['id']} names create {create}, which was never sent: {found}"
    assert write.is_create, f"{found['id']} names create {create}, which was a PATCH: {found}"
    assert write.outcome == UNKNOWN, f"{found['id']} names create {create}, which was {write.outcome}: {found}"
    assert number == create, f"{found['id']} was created unanswered, yet names write {number}: {found}"
    expected = merged(template, write.body)
    assert without(found, "id", *TIMESTAMPS) == without(expected, "id", *TIMESTAMPS), (
        f"unknown create {create} is stored, but not as sent:\nstored:   {found}\nexpected: {expected}"
    )
    assert found["created_at"] == found["updated_at"], found


def test_a_killed_server_keeps_every_acknowledged_write_whole(
    file_database_url: str, tmp_path: Path, servers: list[OvpServer]
) -> None:
    seed = secrets.randbits(32)
    rng = random.Random(seed)
    context = f"(seed {seed}, {file_database_url.split(':', 1)[0]})"
    started = time.monotonic()

    servers.append(launch(tmp_path, file_database_url, auth="open"))
    victim = servers[-1]
    phases = {"start": time.monotonic() - started}
    load = Load(victim, rng, kill_after_acks=rng.randint(*KILL_AFTER_ACKS))
    asyncio.run(load.run())
    assert victim.process.wait(timeout=10) == -signal.SIGKILL, context
    victim.stop()  # reaped already; this closes its log
    phases["load"] = time.monotonic() - started - sum(phases.values())

    writes = list(load.writes.values())
    refused = [write for write in writes if write.outcome == REFUSED]
    assert not refused, f"{context} writes refused under load: {[(w.number, w.problem) for w in refused[:5]]}"
    early = [write for write in writes if write.outcome == UNKNOWN and write.before_kill]
    assert not early, f"{context} writes failed before the kill: {[(w.number, w.problem) for w in early[:5]]}"
    assert all(write.outcome in (ACKED, UNKNOWN) for write in writes), context
    acked = [write for write in writes if write.outcome == ACKED]
    unknown = [write for write in writes if write.outcome == UNKNOWN]
    acked_creates = [write for write in acked if write.is_create]
    assert acked_creates, f"{context} no create was acknowledged before the kill"

    servers.append(launch(tmp_path, file_database_url, auth="open"))
    survivor = servers[-1]
    phases["restart"] = time.monotonic() - started - sum(phases.values())
    with survivor.http(TOKEN) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200, f"{context} {ready.text}"
        listed = all_profiles(client)
    by_id = {profile["id"]: profile for profile in listed}
    read = asyncio.run(read_each(survivor, list(by_id)))
    for profile_id, document in read.items():
        assert document == by_id[profile_id], f"{context} GET and list disagree on {profile_id}"

    missing = [write.profile_id for write in acked_creates if write.profile_id not in by_id]
    assert not missing, f"{context} acknowledged creates lost after the kill: {missing[:10]} of {len(missing)}"
    template = acked_creates[0].document
    assert template is not None
    outcomes: dict[str, int] = {ACKED: 0, UNKNOWN: 0}
    unanswered_creates: list[int] = []
    for profile_id, found in by_id.items():
        try:
            if profile_id in load.history:
                outcomes[check_acknowledged_profile(load, profile_id, found)] += 1
            else:
                check_unacknowledged_create(load, template, found)
                unanswered_creates.append(marks(found)[0])
        except AssertionError as error:
            raise AssertionError(f"{context} {error}") from None
    assert len(set(unanswered_creates)) == len(unanswered_creates), f"{context} a create was applied twice"
    assert len(by_id) == len(acked_creates) + len(unanswered_creates), context

    # The database takes writes again: no lock or half-finished transaction was left behind.
    with survivor.http(TOKEN) as client:
        after = client.patch(f"{PROFILES}/{next(iter(load.history))}", json={"name": "after the crash"})
    assert after.status_code == 200, f"{context} {after.text}"

    phases["check"] = time.monotonic() - started - sum(phases.values())
    print(
        f"\n{context}: killed after {load.killed_after_s:.2f} s; {len(acked)} acknowledged writes verified "
        f"({len(acked_creates)} creates, {len(acked) - len(acked_creates)} PATCHes), {len(unknown)} unknown "
        f"({sum(w.is_create for w in unknown)} creates); {len(by_id)} profiles after restart, "
        f"{outcomes[UNKNOWN]} at an unknown PATCH, {len(unanswered_creates)} from unanswered creates; "
        f"{time.monotonic() - started:.1f} s in all ({', '.join(f'{k} {v:.1f}' for k, v in phases.items())})"
    )
