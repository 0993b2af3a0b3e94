"""The emulator's admin surface, under /_ovp/admin, in open mode only: reset, seed, the request
journal, fault injection and the clock. Each acts on the caller's account (its bearer token),
except a reset with `?scope=all` and the clock, which is the server's (each worker's) own."""

from __future__ import annotations

from dataclasses import asdict

from ovp.api.context import Emulator
from ovp.api.http import Request, Response, json_response
from ovp.api.routing import Route
from ovp.domain.clock import CLOCK
from ovp.domain.errors import InvalidInput, Problem
from ovp.domain.validation import NOT_IN_ENUM
from ovp.emulator import clock
from ovp.emulator.faults import parse_fault
from ovp.emulator.journal import MAX_ENTRIES_PER_ACCOUNT, webhook_attempts
from ovp.services import seed
from ovp.store import accounts as account_store
from ovp.store import billing_groups as billing_group_store
from ovp.store import calls as call_store
from ovp.store import connections as connection_store
from ovp.store import fqdns as fqdn_store
from ovp.store import ips as ip_store
from ovp.store import profiles as store
from ovp.store import rates as rate_store
from ovp.store import registrations as registration_store
from ovp.store import webhooks as webhook_store
from ovp.store.database import Transaction

PREFIX = "/_ovp/admin"


def _emulator(request: Request) -> Emulator:
    emulator = request.app.emulator
    assert emulator is not None, "admin routes are routed only in open mode"
    return emulator


async def reset(request: Request) -> Response:
    scope = request.query.get("scope", "account")
    if scope not in ("account", "all"):
        code, title = NOT_IN_ENUM
        raise InvalidInput([Problem(code, title, "scope must be account or all.", parameter="scope")])
    emulator, account_id = _emulator(request), request.account_id
    everything = scope == "all"

    def wipe(tx: Transaction) -> int:
        # Connections first: they name profiles. Then the account's calls, registrations, rates, billing
        # groups, addresses and settings.
        if everything:
            connection_store.any_kind.delete_everything(tx)
            call_store.delete_everything(tx)
            registration_store.delete_everything(tx)
            webhook_store.delete_everything(tx)
            rate_store.delete_everything(tx)
            billing_group_store.table.delete_everything(tx)
            ip_store.table.delete_everything(tx)
            fqdn_store.table.delete_everything(tx)
            account_store.delete_everything(tx)
            return store.delete_everything(tx)
        connection_store.any_kind.delete_account(tx, account_id)
        call_store.delete_account(tx, account_id)
        registration_store.delete_account(tx, account_id)
        webhook_store.delete_account(tx, account_id)
        rate_store.delete_account(tx, account_id)
        billing_group_store.table.delete_account(tx, account_id)
        ip_store.table.delete_account(tx, account_id)
        fqdn_store.table.delete_account(tx, account_id)
        account_store.delete_account(tx, account_id)
        return store.delete_account(tx, account_id)

    deleted = await request.app.database.write_long(wipe)
    emulator.journal.clear(None if everything else account_id)
    emulator.faults.clear(None if everything else account_id)
    return json_response({"data": {"scope": scope, "deleted_profiles": deleted}})


async def load_seed(request: Request) -> Response:
    body, account_id = await request.json(), request.account_id
    loaded = await request.app.database.write_long(lambda tx: seed.load(tx, account_id, body))
    # One count of each kind: loaded_profiles, loaded_connections (of every kind), loaded_billing_groups, ...
    return json_response({"data": {f"loaded_{kind}": count for kind, count in asdict(loaded).items()}})


async def journal(request: Request) -> Response:
    """The account's requests (kept by this process) and, beside them, every attempt to deliver
    one of its webhooks (kept in the database, whichever process or server sent it)."""
    emulator, account_id = _emulator(request), request.account_id
    requests = emulator.journal.entries(account_id)
    cleared_ns = emulator.journal.cleared_at_ns(account_id)
    tried = await request.app.database.read_one(
        lambda tx: webhook_store.tried(tx, account_id, cleared_ns // 1_000_000, MAX_ENTRIES_PER_ACCOUNT))
    attempts = [entry for payload, made in tried for entry in webhook_attempts(payload, made)
                if entry.time_ns >= cleared_ns]
    entries = sorted([*requests, *attempts], key=lambda entry: entry.time_ns)[-MAX_ENTRIES_PER_ACCOUNT:]
    return json_response({"data": [entry.to_json() for entry in entries]})


async def clear_journal(request: Request) -> Response:
    emulator = _emulator(request)
    cleared = len(emulator.journal.entries(request.account_id))
    emulator.journal.clear(request.account_id)
    return json_response({"data": {"cleared": cleared}})


async def arm_fault(request: Request) -> Response:
    fault = _emulator(request).faults.arm(request.account_id, parse_fault(await request.json()))
    return json_response({"data": fault.to_json()})


async def faults(request: Request) -> Response:
    return json_response({"data": [fault.to_json() for fault in _emulator(request).faults.armed(request.account_id)]})


async def clear_faults(request: Request) -> Response:
    emulator = _emulator(request)
    cleared = len(emulator.faults.armed(request.account_id))
    emulator.faults.clear(request.account_id)
    return json_response({"data": {"cleared": cleared}})


async def move_clock(request: Request) -> Response:
    _emulator(request)
    clock.move(CLOCK, clock.parse_clock(await request.json()))
    return json_response({"data": clock.shown(CLOCK)})


async def read_clock(request: Request) -> Response:
    _emulator(request)
    return json_response({"data": clock.shown(CLOCK)})


async def reset_clock(request: Request) -> Response:
    _emulator(request)
    CLOCK.reset()
    return json_response({"data": clock.shown(CLOCK)})


routes = [
    Route.at(f"{PREFIX}/reset", {"POST": reset}),
    Route.at(f"{PREFIX}/seed", {"POST": load_seed}),
    Route.at(f"{PREFIX}/journal", {"GET": journal, "DELETE": clear_journal}),
    Route.at(f"{PREFIX}/faults", {"GET": faults, "POST": arm_fault, "DELETE": clear_faults}),
    Route.at(f"{PREFIX}/clock", {"GET": read_clock, "POST": move_clock, "DELETE": reset_clock}),
]
