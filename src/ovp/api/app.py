"""The ASGI application: lifespan, and the path of a request: its id, overload shedding, routing,
authentication, rate limits, the handler, errors turned into envelopes, the access log and metrics."""

from __future__ import annotations

import gc
import logging
import time

from ovp.api import (
    account,
    admin,
    all_connections,
    calls,
    detail_records,
    docs,
    documents,
    emulating,
    fqdn_authentication,
    ip_sources,
    metrics,
    probes,
    rates,
    registrations,
    resources,
    sip_credentials,
    webhooks,
)
from ovp.api.asgi import Receive, Scope, Send
from ovp.api.auth import AccountResolver, authenticate, keys_resolver, open_resolver
from ovp.api.context import AppContext, Emulator
from ovp.api.http import ClientGone, Request, Response, error_response, send_response
from ovp.api.ignored import HEADER as IGNORED_HEADER
from ovp.api.ignored import ignored_fields
from ovp.api.rate_limits import RateLimiter
from ovp.api.request_ids import current_request_id, request_id_from
from ovp.api.routing import Match, Router
from ovp.config import Settings
from ovp.domain.calls.billing import BillingIncrement
from ovp.domain.errors import (
    MethodNotAllowed,
    NotFound,
    OvpError,
    ServiceUnavailable,
    Unexpected,
    UriTooLong,
    in_one_line,
)
from ovp.domain.ids import IdGenerator
from ovp.emulator.faults import FaultBook
from ovp.emulator.journal import Journal
from ovp.services.calls import CallSettings
from ovp.store import keys
from ovp.store.backends import is_memory_sqlite, open_database
from ovp.store.checkpoint import WalCheckpoints
from ovp.store.database import Database
from ovp.webhooks.expiry import ExpirySweep
from ovp.webhooks.sender import WebhookSender

log = logging.getLogger("ovp")
access_log = logging.getLogger("ovp.access")

# What an access log line and the metrics call a request that no route knows.
UNMATCHED = "unmatched"
# A request's URL at most (path and query, as sent); past it, 414.
URL_BYTES = 8 * 1024
# The status logged for a request whose client went away before it arrived whole (nginx's word).
CLIENT_GONE = 499
_SHED = error_response(ServiceUnavailable("The server is answering as many requests as it takes; try again shortly."))
SHED_BODY, SHED_HEADERS = _SHED.body, _SHED.headers


class Shedding:
    """Counts shed requests, and logs them at most once a second, in one line."""

    def __init__(self, max_in_flight: int) -> None:
        self._max_in_flight = max_in_flight
        self._since_logged = 0
        self._logged_at = 0.0

    def shed(self, route: str, method: str) -> None:
        metrics.SHED.inc()
        metrics.REQUESTS.labels(route, method, "503").inc()
        self._since_logged += 1
        now = time.monotonic()
        if now - self._logged_at >= 1.0:
            log.warning("overloaded: %d requests answered 503 at once since the last such line (more than %d "
                        "were in progress)", self._since_logged, self._max_in_flight)
            self._since_logged, self._logged_at = 0, now


class OvpApp:
    def __init__(self, context: AppContext, resolve: AccountResolver, *, migrate: bool,
                 rate_limiter: RateLimiter | None = None) -> None:
        """`migrate`: bring the database up to date as the app starts."""
        self.context = context
        self.resolve = resolve
        self.migrate = migrate
        self.rate_limiter = rate_limiter
        self.shedding = Shedding(context.settings.max_in_flight)
        self._in_flight = 0  # requests being answered, of this process
        emulator_routes = admin.routes if context.emulator is not None else []
        self.router = Router([
            *resources.routes, *fqdn_authentication.routes, *all_connections.routes, *calls.routes,
            *account.routes, *rates.routes, *sip_credentials.routes, *registrations.routes, *webhooks.routes,
            *detail_records.routes, *ip_sources.routes, *probes.routes, *documents.routes, *docs.routes,
            *metrics.routes, *emulator_routes,
        ])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        request = Request.of(scope, receive, self.context)
        request_id = request_id_from(request.headers.get("x-request-id"))
        token = current_request_id.set(request_id)  # on every log line written for this request
        try:
            match = self.router.match(scope["path"])
            route = match.route.template if match is not None else UNMATCHED
            if self._in_flight >= self.context.settings.max_in_flight and (match is None or not match.route.public):
                # Overload is shed at once, not queued; the probes and documents never are.
                self.shedding.shed(route, request.method)
                await send_response(send, Response(503, SHED_BODY, {**SHED_HEADERS, "x-request-id": request_id}),
                                    include_body=scope["method"] != "HEAD")
                return
            self._in_flight += 1
            try:
                response = await self._answer(request, match)
            except ClientGone:  # never applied, and there is nobody to answer
                self._finished(request.method, scope["path"], scope["query_string"], request.account_id, route,
                               CLIENT_GONE, started)
                return
            finally:
                self._in_flight -= 1
            response.headers.update(request.response_headers)
            response.headers["x-request-id"] = request_id
            ignored = _ignored_by(request, route, response.status)
            if ignored:
                response.headers[IGNORED_HEADER] = ",".join(ignored)
            if self.context.emulator is not None and emulating.journaled(request):
                self.context.emulator.journal.record(request.account_id,
                                                     emulating.entry(request, response.status, ignored))
            await send_response(send, response, include_body=scope["method"] != "HEAD")
            self._finished(request.method, scope["path"], scope["query_string"], request.account_id, route,
                           response.status, started, ignored)
        finally:
            current_request_id.reset(token)

    async def _answer(self, request: Request, match: Match | None) -> Response:
        metrics.IN_PROGRESS.inc()
        try:
            return await self._dispatch(request, match)
        except OvpError as error:
            return error_response(error)
        except ClientGone:
            raise
        except Exception:
            # The trace goes to the server's log; the client learns nothing of it.
            log.exception("unexpected error answering %s %s", request.method, request.scope["path"])
            return error_response(Unexpected())
        finally:
            metrics.IN_PROGRESS.dec()

    async def _dispatch(self, request: Request, match: Match | None) -> Response:
        target_bytes = len(request.scope.get("raw_path") or b"") + len(request.scope["query_string"])
        if target_bytes > URL_BYTES:
            raise UriTooLong(URL_BYTES)
        if match is None:
            raise NotFound(self._not_found(request.scope["path"]))
        method = "GET" if request.method == "HEAD" else request.method
        handler = match.route.handlers.get(method)
        if handler is None:
            raise MethodNotAllowed(match.route.allowed)
        if not match.route.public:
            caller = await authenticate(request.headers.get("authorization", ""), self.resolve)
            request.account_id = caller.account_id
            if self.rate_limiter is not None and caller.key_id is not None:
                verdict = await self.rate_limiter.check(caller.key_id, caller.rate_limit)
                if verdict is not None:
                    request.response_headers.update(verdict.headers)
                    if not verdict.allowed:
                        metrics.RATE_LIMITED.inc()
                        raise verdict.refusal()
        request.path_params = match.path_params
        if self.context.emulator is not None and emulating.journaled(request):
            await emulating.inject_fault(self.context.emulator, request)
        return await handler(request)

    def _not_found(self, path: str) -> str:
        """What a 404 for `path` says: where the route probably is, when a usual slip explains it (an
        SDK's base URL without /v2, one of ovp's own routes asked under /v2, or the reverse)."""
        candidates = [] if path.startswith(("/v2/", "/ovp/")) else ["/v2" + path, "/ovp" + path]
        for wrong, right in (("/v2/v2/", "/v2/"), ("/v2/", "/ovp/"), ("/ovp/", "/v2/")):
            if path.startswith(wrong):
                candidates.append(right + path.removeprefix(wrong))
        for candidate in candidates:
            found = self.router.match(candidate)
            if found is not None and not found.route.public:
                hint = " (an SDK's base URL ends in /v2)" if candidate == "/v2" + path else ""
                return f"No route at {path}: did you mean {candidate}?{hint}"
        return NotFound.DEFAULT_DETAIL

    def _finished(self, method: str, path: str, query_string: bytes, account_id: str, route: str, status: int,
                  started: float, ignored: list[str] | None = None) -> None:
        """The request's access log line and metrics."""
        seconds = time.perf_counter() - started
        metrics.REQUESTS.labels(route, method, str(status)).inc()
        metrics.REQUEST_SECONDS.labels(route, method).observe(seconds)
        if access_log.isEnabledFor(logging.INFO):
            target = path + ("?" + query_string.decode("latin-1") if query_string else "")
            fields: dict[str, object] = {"method": method, "path": target, "status": status,
                                         "duration_ms": round(seconds * 1000, 3), "account": account_id or None}
            if ignored:
                fields["ignored_fields"] = ignored
            # Made and handled here rather than by access_log.info, which would first look up the
            # stack for the caller's file and line: the same for every line, a quarter of its cost.
            access_log.handle(access_log.makeRecord(
                access_log.name, logging.INFO, __file__, 0, "%s %s %d %.1fms account=%s%s",
                (method, target, status, seconds * 1000, account_id or "-",
                 f" ignored={','.join(ignored)}" if ignored else ""), None, extra={"fields": fields},
            ))

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        database = self.context.database
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    if self.migrate:
                        await database.migrate()
                    await database.start()
                    if self.context.webhooks is not None:
                        await self.context.webhooks.start()
                    if self.context.expiry is not None:
                        await self.context.expiry.start()
                except Exception as error:  # the server must not serve: say why in one line, and stop
                    reason = in_one_line(error)
                    log.error("start-up failed: %s", reason)
                    await send({"type": "lifespan.startup.failed", "message": reason})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.context.expiry is not None:
                    await self.context.expiry.close()
                if self.context.webhooks is not None:
                    await self.context.webhooks.close()
                await database.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


WRITES = frozenset({"POST", "PATCH", "PUT"})


def _ignored_by(request: Request, route: str, status: int) -> list[str]:
    """What a write that succeeded ignored of its body: the fields ovp's document does not know."""
    if status >= 300 or request.method not in WRITES or not isinstance(request.body, dict):
        return []
    return ignored_fields(request.method, route, request.body)


# Allocations between young-generation collections: CPython's default (700) runs one every few
# requests here, and each full collection walked every object the server made at start.
GC_YOUNG_THRESHOLD = 10_000


def _quiet_garbage_collector() -> None:
    """Keeps collection pauses off the latency tail: what exists once the app is made (modules,
    schemas, the database engine) lives for good, so it is frozen out of collections,
    and young collections run less often. A server's p99 fell from about 28 ms to 4 ms with
    this (PATCH at 32 connections, `python -m bench`)."""
    gc.collect()
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


def _resolver(settings: Settings, database: Database) -> AccountResolver:
    if settings.auth == "open":
        return open_resolver

    async def lookup(secret_hash: str) -> keys.KeyOwner | None:
        return await database.read_one(lambda tx: keys.owner_of(tx, secret_hash))

    return keys_resolver(lookup)


def create_app(settings: Settings, *, migrate: bool = True) -> OvpApp:
    """`migrate`: the app brings the database up to date as it starts (`ovp serve` does it once,
    before its workers start)."""
    database = open_database(settings.database_url, timeout_s=settings.db_timeout,
                             sqlite_synchronous=settings.sqlite_synchronous,
                             sqlite_checkpoints=WalCheckpoints.THREAD,
                             rehearse_writes=settings.rehearse_writes)
    database.observer = metrics.DatabaseMetrics(database.backend)
    emulator = Emulator(Journal(), FaultBook()) if settings.auth == "open" else None
    calls = CallSettings(BillingIncrement.parse(settings.billing_increment), settings.max_call_duration,
                         settings.setup_timeout)
    sender = WebhookSender(database) if settings.send_webhooks else None
    expiry = ExpirySweep(database, sender.wake if sender else None) if settings.sweep_expiry else None
    context = AppContext(settings=settings, database=database, ids=IdGenerator(), emulator=emulator, calls=calls,
                         webhooks=sender, expiry=expiry)
    # Rate limits are for keys: an open-mode account is a test's, which injects its own 429s.
    rate_limiter = (RateLimiter(settings.rate_limit, settings.rate_limit_storage)
                    if settings.auth == "keys" and settings.rate_limit != "0" else None)
    return OvpApp(context, _resolver(settings, database), migrate=migrate, rate_limiter=rate_limiter)


def app_from_environment() -> OvpApp:
    """The app of a worker process, its settings read from the environment; `ovp serve` migrated
    the database already, unless it is in memory, and so the worker's own. The collector is tuned
    here, in a process that only serves, and not in create_app, which test processes call too."""
    settings = Settings()
    app = create_app(settings, migrate=is_memory_sqlite(settings.database_url))
    _quiet_garbage_collector()
    return app
