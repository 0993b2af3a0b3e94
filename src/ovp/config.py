"""Every setting of a served ovp, declared once: its type, default, environment variable (OVP_ and its
name in capitals) and help. `ovp serve`'s flags and `--help` are made from these declarations
(ovp.cli), worker processes read them from the environment, and the settings table of
docs/operating.md is checked against them (tests/cli/test_settings.py)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ovp.domain.calls.billing import BillingIncrement
from ovp.domain.rate_limit import RateLimitSyntaxError, parse_rate_limit

AuthMode = Literal["keys", "open"]
SqliteSynchronous = Literal["FULL", "NORMAL", "OFF"]
LogFormat = Literal["text", "json"]

ENVIRONMENT_PREFIX = "OVP_"
DEFAULT_DATABASE_URL = "sqlite:///ovp.db"
# The distribution's name on package indexes (`ovp` there is another project's); the import
# package and the command are `ovp`.
DISTRIBUTION = "ovp-server"


def setting(default: Any, help_text: str, *, flag: str | None = None, internal: bool = False,
            ge: float | None = None, le: float | None = None) -> Any:
    """A setting's declaration. `flag`: its flag when not --its-name; `internal`: for test suites,
    with no flag and not documented; `ge`/`le`: its range, checked on flags and variables alike."""
    return Field(default, description=help_text, ge=ge, le=le,
                 json_schema_extra={"flag": flag, "internal": internal})


def check_database_url(url: str) -> str:
    """`url` when it names SQLite or PostgreSQL in SQLAlchemy's form; ValueError otherwise."""
    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number
        backend = None
    if backend not in ("sqlite", "postgresql", "postgres"):
        raise ValueError(f"{url!r} is not a sqlite:/// or postgresql:// URL")
    return url


class Settings(BaseSettings):
    # Frozen: every worker process reads the same settings once, from the environment its server
    # made for it (to_environment). An empty variable counts as unset.
    model_config = SettingsConfigDict(env_prefix=ENVIRONMENT_PREFIX, frozen=True, env_ignore_empty=True,
                                      extra="forbid")

    host: str = setting("127.0.0.1", "Address to listen on.")
    port: int = setting(8000, "Port to listen on.", ge=1, le=65535)
    database_url: str = setting(
        DEFAULT_DATABASE_URL, "SQLAlchemy URL: sqlite:///path/ovp.db, sqlite:///:memory: or "
        "postgresql://user@host:5432/db (open mode without it: a temporary database of its own).", flag="--database")
    auth: AuthMode = setting("keys", "keys: only keys made with `ovp keys create`; open: any bearer token, each "
                                     "its own account.")
    workers: int = setting(1, "Processes that answer; one that dies is started again.", ge=1, le=64)
    admin_port: int | None = setting(
        None, "Port of the admin listener: /healthz, /readyz and /metrics for the whole server, every worker's "
        "state included, answered by a thread of the server's own whatever load the API port takes.",
        ge=1, le=65535)
    sqlite_synchronous: SqliteSynchronous = setting(
        "NORMAL", "SQLite durability: FULL also survives a power loss; NORMAL survives a crash of ovp.")
    billing_increment: str = setting("60/60", "How ended calls are billed: initial/subsequent seconds (60/60 whole "
                                              "minutes, 1/1 by the second).")
    max_call_duration: int = setting(4 * 3600, "Seconds an answered call may last: past them, a call never ended "
                                               "releases its slot.", ge=1, le=7 * 24 * 3600)
    setup_timeout: int = setting(120, "Seconds an allowed call may ring: a call whose answer the switch has not "
                                      "confirmed by then releases its slot.", ge=1, le=3600)
    db_timeout: float = setting(5.0, "Seconds any one database operation may take; past it, the request gets a "
                                     "503.", ge=0.1, le=300)
    rate_limit: str = setting("100/second", "Keys mode: requests each API key may make (100/second, 6000/minute; "
                                            "0: no limit).")
    rate_limit_storage: str | None = setting(
        None, "Where the rate limits count, shared by every worker and server: redis://HOST:6379 (none: each "
        "process counts apart, so with --workers 2 or more a shared store is needed).")
    body_timeout: float = setting(10.0, "Seconds a request's body may take to arrive once its head has; past it, "
                                        "408.", ge=0.1, le=3600)
    idle_timeout: float = setting(
        5.0, "Seconds a connection may go without a whole request head, from its opening or its last answer; past "
        "it, the connection closes (idle keep-alive connections and slow heads alike).", ge=0.1, le=60)
    shutdown_timeout: float = setting(10.0, "On SIGTERM, seconds to finish the requests in progress before "
                                            "stopping.", ge=1, le=1800)
    max_in_flight: int = setting(256, "Requests in progress per worker; past it, new ones get 503 at once (the "
                                      "probes never do).", ge=1, le=100_000)
    max_connections: int = setting(
        4096, "Connections a worker serves at once, kept below the file descriptor limit; past it, a new connection "
        "waits to be taken until one closes (an idle one closes after --idle-timeout).", ge=1, le=1_000_000)
    log_format: LogFormat = setting("text", "text: a line of time, level, logger, [request id] and message; json: "
                                            "one JSON object a line.")
    access_log: bool = setting(True, "One line per request: time, request id, method, path, status, duration "
                                     "and account.")
    send_webhooks: bool = setting(
        True, "Send the call webhooks that are due, from a process of the server's own (off: this server writes "
        "events, and the servers that send deliver them).")
    # A test tool that runs the app's lifespan again on loops of its own (schemathesis) would share
    # the database's connections between the sweep's loop and its own.
    sweep_expiry: bool = setting(True, "Test suites: sweep the expiry of calls with webhooks in the background.",
                                 internal=True)
    # Every write work runs twice, the first time undone (see ovp.store.database.Database), so that
    # a work with an effect outside its transaction shows.
    rehearse_writes: bool = setting(False, "Test suites: run every write twice, the first time undone.",
                                    internal=True)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, url: str) -> str:
        return check_database_url(url)

    @field_validator("sqlite_synchronous", mode="before")
    @classmethod
    def _synchronous(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @field_validator("billing_increment")
    @classmethod
    def _billing_increment(cls, value: str) -> str:
        return str(BillingIncrement.parse(value))

    @field_validator("rate_limit")
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_rate_limit(value)
        except RateLimitSyntaxError as error:
            raise ValueError(str(error)) from None
        return value.strip()

    @property
    def shutdown_seconds(self) -> int:
        """The shutdown timeout in whole seconds, as a server's process manager counts it."""
        return math.ceil(self.shutdown_timeout)

    def to_environment(self) -> dict[str, str]:
        """The OVP_* variables that make these settings again, for worker processes (None: empty)."""
        return {environment_variable(name): "" if value is None else str(value)
                for name, value in self.model_dump().items()}


def environment_variable(name: str) -> str:
    return ENVIRONMENT_PREFIX + name.upper()
