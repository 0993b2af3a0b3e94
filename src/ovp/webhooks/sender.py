"""Each server's sender: it claims due events from the database for a lease, posts each to its
connection's webhook URL (the failover URL when the primary fails), signed with the deployment's
key, and records the attempt.

Each turn of the sender is one write transaction: it records the attempts made since the last turn,
then claims what is due (a call's next event among it, made due by the record of the one before).
A call's due events come as a chain, sent one after the other by one task: a call whose events
gathered while its receiver was down, or while the sender was busy, costs a claim and a record an
event, not a put-off and a drawing forward besides for each of its later events.
On SQLite every write takes the file's one lock, which the workers' authorizations wait for: a
transaction for each claim and another for each batch of results took it six times as often under
load (docs/performance.md, "Call webhooks").

Nothing is held in memory but the events in flight and the attempts the next turn records: the
backlog lives in the database, so a server killed mid-backlog loses none (its leases run out, and
any server sends them). A receiver that is
slow or hung holds at most PER_RECEIVER of the IN_FLIGHT slots; its other due events wait for one
at most RECEIVER_WAIT_S, then are put off a second instead of waiting in line, so other receivers'
events and every authorization go on. A receiver that answers again after failing gets the events it missed at once."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import orjson
from prometheus_client import Counter

from ovp.domain.clock import wall_ms
from ovp.domain.errors import in_one_line
from ovp.domain.webhooks import retries, signing
from ovp.domain.webhooks.signing import KeyPair
from ovp.services import webhook_deliveries
from ovp.store import webhooks as store
from ovp.store.database import Database, Transaction
from ovp.store.webhooks import Claimed, Destination, Outcome
from ovp.webhooks import attempts
from ovp.webhooks.attempts import Attempt
from ovp.webhooks.client import Answer, Broken, Client, CouldNotConnect, receiver_of

log = logging.getLogger("ovp")

DELIVERIES = Counter("ovp_webhook_deliveries_total",
                     "Webhook delivery attempts by outcome: delivered, retry (failed, tried again later), failed "
                     "(given up).", ["outcome"])

IN_FLIGHT = 64
PER_RECEIVER = 8
DEFAULT_TIMEOUT_S = 10.0  # a connection without webhook_timeout_secs
# How often a server looks for events other servers wrote, or that came due again: with a turn's
# gather, an event due again waits at most a quarter of a second to be claimed.
IDLE_POLL_S = 0.15
# A turn's wait for more news and results: on SQLite each turn takes the file's one write lock,
# which every authorization waits for (docs/performance.md, "Call webhooks").
GATHER_S = 0.1
MAX_FAILING = 100_000  # connections remembered as failing (a hint: one forgotten waits for its retries)
USER_AGENT = "ovp-webhooks"
CLOSE_GRACE_S = 2.0
# How long a claimed event waits for one of its receiver's slots before it goes back to the queue
# (a second later), so that a hung receiver's events hold none of the other receivers' slots for long.
RECEIVER_WAIT_S = 1.0
MAX_TIMEOUT_S = 30  # webhook_timeout_secs at most
# A claimed event is another server's to send again only once its sender can no longer be at it:
# a wait for its receiver's share, the primary and the failover URL each up to their timeout. A
# chain's events share one lease: its sender goes on to the next only while the lease has room
# for that one's attempts, and hands the rest back otherwise.
LEASE_MS = int((RECEIVER_WAIT_S + 2 * MAX_TIMEOUT_S) * 1000) + 5_000
LEASE_MARGIN_S = 1.0


@dataclass(frozen=True)
class _Work:
    chain: list[Claimed]  # one call's events, in order
    destination: Destination
    claimed_at: float  # time.monotonic() before the claim: its lease runs from a moment after

    @property
    def call(self) -> tuple[str, int]:
        return self.chain[0].account_id, self.chain[0].call_id


class WebhookSender:
    def __init__(self, database: Database, *, in_flight: int = IN_FLIGHT, per_receiver: int = PER_RECEIVER,
                 idle_poll_s: float = IDLE_POLL_S) -> None:
        self._database = database
        self._idle_poll_s = idle_poll_s
        self._in_flight = in_flight
        self._per_receiver = per_receiver
        self._slots: dict[tuple[str, str, int], asyncio.Semaphore] = {}  # receiver (scheme, host, port) -> its share
        # Attempts made, recorded by the next turn; until then their events stay leased to this server.
        self._results: list[store.Finished] = []
        self._failing: set[tuple[str, int]] = set()  # connections whose receiver failed its last attempt here
        self._running: dict[asyncio.Task[None], tuple[str, int]] = {}  # each chain's task, and its call
        self._wake = asyncio.Event()
        self._room = asyncio.Event()  # half the slots are free
        self._tasks: list[asyncio.Task[None]] = []
        self._client: Client | None = None
        self._key: KeyPair | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Event()

    async def start(self) -> None:
        """Sends in the background, on the loop that started it (an app whose lifespan runs again
        on another loop, as a test tool may run it, keeps its first sender)."""
        if self._loop is not None:
            return
        self._loop = asyncio.get_running_loop()
        # An attempt records the headers sent: ovp's own (the transport adds Host and Content-Length).
        self._client = Client(attempts.KEPT_BYTES)
        self._tasks = [self._loop.create_task(self._send_forever())]

    def wake(self) -> None:
        """Something was written to send: look now rather than at the next poll."""
        self._wake.set()

    async def close(self) -> None:
        """Stops claiming between two database operations (a connection's set-up cut
        by a cancellation can leave its socket open), gives the attempts in flight a moment to end,
        records them, and cancels the rest, which hand their events back to the queue at once (or,
        when this last record fails, once their leases run out)."""
        if self._loop is not asyncio.get_running_loop():
            return
        self._stopping.set()
        self._wake.set()
        await asyncio.wait([*self._tasks], timeout=CLOSE_GRACE_S)
        if self._running:
            await asyncio.wait([*self._running], timeout=CLOSE_GRACE_S)
        remaining = [*self._tasks, *self._running]
        for task in remaining:
            task.cancel()
        for task in remaining:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks, self._running = [], {}
        if self._results:
            try:
                await self._turn(0)
            except Exception as error:  # their leases run out, and they are sent again
                log.warning("webhooks: could not record an attempt: %s", in_one_line(error))
        if self._client is not None:
            await self._client.close()
        self._loop = None
        self._stopping.clear()

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    async def _send_forever(self) -> None:
        while not self._stopping.is_set():
            try:
                if self._key is None:  # the first server to start makes the deployment's key pair
                    self._key = await self._database.write(functools.partial(
                        webhook_deliveries.ensure_signing_key, candidate=KeyPair.generate(), now_ms=wall_ms()))
                self._wake.clear()  # before counting: a slot freed or news from now on ends the wait below
                free = self._in_flight - len(self._running)
                claimed = await self._turn(free) if free > 0 or self._results else []
                for work in claimed:
                    task = asyncio.get_running_loop().create_task(self._deliver(work))
                    self._running[task] = work.call
                    task.add_done_callback(self._done)
                if self._stopping.is_set():
                    return
                # Every slot busy (a hung receiver's), or nothing more due now: wait for a slot, a
                # result or news, or the next poll, rather than turn round and round.
                if free <= 0 or sum(len(work.chain) for work in claimed) < free:  # (the claim counts events)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._idle_poll_s)
                    # News and results come with every call under load: a moment more gathers many
                    # into the next turn rather than a transaction for each.
                    await asyncio.sleep(GATHER_S)
                else:
                    # The room filled and more is due: go round again once half the slots are
                    # free, rather than claim the few that free one by one, a turn (and on
                    # SQLite the file's write lock) for each.
                    await self._half_free()
            except asyncio.CancelledError:
                raise
            except Exception as error:  # the database is down, say: try again shortly
                log.warning("webhooks: could not record attempts or claim events: %s", in_one_line(error))
                await self._pause(1.0)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.pop(task, None)
        self._wake.set()  # a slot is free
        if len(self._running) <= self._in_flight // 2:
            self._room.set()

    async def _half_free(self) -> None:
        """Waits until half the slots are free, at most a turn's gather."""
        self._room.clear()
        if len(self._running) > self._in_flight // 2:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), GATHER_S)

    async def _turn(self, limit: int) -> list[_Work]:
        """One transaction: records the attempts made since the last turn, then claims up to
        `limit` due events. If it fails, the attempts wait for the next turn (their events are
        still leased to this server)."""
        lease_ms = LEASE_MS
        results, self._results = self._results, []
        busy = set(self._running.values())
        claimed_at = time.monotonic()

        def turning(tx: Transaction) -> tuple[KeyPair | None, list[_Work]]:
            now_ms = wall_ms()
            if results:
                store.finish_all(tx, results, now_ms)
            if limit <= 0:
                return None, []
            chains = store.claim(tx, now_ms, lease_ms, limit, busy)
            destinations: dict[tuple[str, int], Destination] = {}
            works: list[_Work] = []
            for chain in chains:
                key = (chain[0].account_id, chain[0].connection_id)
                if key not in destinations:
                    destinations[key] = store.destination(tx, *key)
                works.append(_Work(chain, destinations[key], claimed_at))
            return store.signing_key(tx), works

        try:
            key, claimed = await self._database.write(turning)
        except BaseException:
            self._results = results + self._results
            raise
        self._key = key or self._key
        return claimed

    async def _deliver(self, work: _Work) -> None:
        """Sends a chain's events in order, in one of the receiver's slots; an event not delivered
        holds the rest of its chain back until its own next attempt, and the rest is handed back
        for the next claim when the chain's lease has no room left for another event. Cancelled
        (the server stops), it hands back at once what it had not recorded, the event whose attempt
        it cut included, rather than leave them leased to a server that no longer sends them."""
        slots = self._receiver_slots(work.destination.url)
        index = 0  # the chain's first event not yet recorded
        holding = False
        try:
            if slots is not None:
                holding = await _slot_of(slots)
                if not holding:  # the receiver is slow or hung: its events go back to the queue
                    self._put_off(work.chain, wall_ms() + 1000)
                    return
            for index, event in enumerate(work.chain):
                if index and not lease_has_room(work.claimed_at, work.destination, time.monotonic()):
                    self._put_off(work.chain[index:], wall_ms())
                    return
                made = await self._attempts(event, work.destination)
                last = index == len(work.chain) - 1
                outcome = self._record(event, made, back=self._receiver_back(event, made), last=last)
                if outcome.status == "pending":
                    self._put_off(work.chain[index + 1:], outcome.next_attempt_ms)
                    return
        except asyncio.CancelledError:
            self._put_off(work.chain[index:], wall_ms())
            raise
        finally:
            if holding and slots is not None:
                slots.release()

    def _receiver_back(self, event: Claimed, made: list[Attempt]) -> bool:
        """Whether the connection's receiver answered again after this server saw it fail: once per
        recovery, its waiting events are then made due at once (a statement that reads all of them)."""
        key = (event.account_id, event.connection_id)
        if not any(attempt.delivered for attempt in made):
            if len(self._failing) < MAX_FAILING:
                self._failing.add(key)
            return False
        if key in self._failing:
            self._failing.discard(key)
            return True
        return False

    def _receiver_slots(self, url: str | None) -> asyncio.Semaphore | None:
        receiver = None if url is None else receiver_of(url)
        if receiver is None:  # no URL, or one no attempt can reach: each fails at once
            return None
        if receiver not in self._slots:
            self._slots[receiver] = asyncio.Semaphore(self._per_receiver)
        return self._slots[receiver]

    async def _attempts(self, event: Claimed, destination: Destination) -> list[Attempt]:
        """The attempt at the primary URL, and at the failover URL when that one failed."""
        if destination.url is None:
            now = wall_ms()
            return [Attempt(None, [], now, now, None, [], "", [attempts.NO_URL])]
        timeout = _timeout_s(destination)
        made = [await self._post(destination.url, event.payload, timeout)]
        if not made[0].delivered and destination.failover_url:
            made.append(await self._post(destination.failover_url, event.payload, timeout))
        return made

    async def _post(self, url: str, body: str, timeout_s: float) -> Attempt:
        assert self._client is not None
        assert self._key is not None
        sent = [("content-type", "application/json"), ("user-agent", USER_AGENT),
                *signing.headers(self._key.private_key, int(time.time()), body).items()]
        started = wall_ms()
        try:
            answer: Answer = await self._client.post(url, sent, body.encode(), timeout_s)
        except (CouldNotConnect, Broken, TimeoutError) as error:
            return Attempt(url, _pairs(sent), started, wall_ms(), None, [], "", [_transport_error(error)])
        errors = [] if 200 <= answer.status < 300 else [attempts.NOT_2XX]
        return Attempt(url, _pairs(sent), started, wall_ms(), answer.status, answer.headers,
                       attempts.kept(answer.body), errors)

    def _record(self, event: Claimed, made: list[Attempt], *, back: bool, last: bool) -> Outcome:
        now = wall_ms()
        history = [attempt.to_json() for attempt in reversed(made)] + orjson.loads(event.attempts)
        count = event.attempt_count + 1
        delivered = any(attempt.delivered for attempt in made)
        retry = None if delivered else retries.next_attempt_ms(count, now, event.created_ms)
        status = "delivered" if delivered else "pending" if retry is not None else "failed"
        next_ms, finished = (retry, None) if retry is not None else (now, now)
        DELIVERIES.labels({"delivered": "delivered", "pending": "retry", "failed": "failed"}[status]).inc()
        outcome = Outcome(event.id, status, next_ms, orjson.dumps(history).decode(), count, finished)
        # Done with, the chain's last event makes the call's next ones due (those written since the claim).
        self._recorded(store.Finished(event, outcome, back, draws_next=last and status != "pending"))
        return outcome

    def _put_off(self, events: list[Claimed], until_ms: int) -> None:
        """The events are tried at `until_ms`, no attempt made: their receiver has all its slots
        busy, the event before them in their chain was not delivered, or their lease ran short."""
        for event in events:
            self._recorded(store.Finished(event, Outcome(event.id, "pending", until_ms, event.attempts,
                                                         event.attempt_count, None), back=False))

    def _recorded(self, finished: store.Finished) -> None:
        """For the next turn to write; its slot is free meanwhile."""
        self._results.append(finished)
        self._wake.set()


async def _slot_of(slots: asyncio.Semaphore) -> bool:
    """One of a receiver's slots, waited for up to RECEIVER_WAIT_S; False when none came free."""
    try:
        if slots.locked():  # (wait_for costs a task: only when there is something to wait for)
            await asyncio.wait_for(slots.acquire(), RECEIVER_WAIT_S)
        else:
            await slots.acquire()
    except TimeoutError:
        return False
    return True


def lease_has_room(claimed_at: float, destination: Destination, now: float) -> bool:
    """Whether a lease taken at `claimed_at` (time.monotonic()) leaves room at `now` for one more
    event's attempts to `destination`: the primary URL, and the failover URL when there is one,
    each up to the connection's timeout."""
    left_s = LEASE_MS / 1000 - (now - claimed_at)
    urls = 2 if destination.failover_url else 1
    return left_s > urls * _timeout_s(destination) + LEASE_MARGIN_S


def _timeout_s(destination: Destination) -> float:
    return float(destination.timeout_secs) if destination.timeout_secs else DEFAULT_TIMEOUT_S


def _pairs(headers: Sequence[tuple[str, str]]) -> list[list[str]]:
    return [[name, value] for name, value in headers]


def _transport_error(error: CouldNotConnect | Broken | TimeoutError) -> int:
    """An attempt's error code for a request that got no HTTP answer."""
    if isinstance(error, TimeoutError):
        return attempts.TIMED_OUT
    if isinstance(error, CouldNotConnect):
        return attempts.COULD_NOT_CONNECT
    return attempts.TRANSPORT
