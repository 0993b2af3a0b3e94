"""Settings, from `ovp` flags or OVP_* environment variables (the flags win)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Literal

AuthMode = Literal["keys", "open"]
SqliteSynchronous = Literal["FULL", "NORMAL", "OFF"]

DEFAULT_DATABASE_URL = "sqlite:///ovp.db"
# The distribution's name on package indexes (`ovp` there is another project's); the import
# package and the command are `ovp`.
DISTRIBUTION = "ovp-server"


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str = DEFAULT_DATABASE_URL
    auth: AuthMode = "keys"
    workers: int = 1
    sqlite_synchronous: SqliteSynchronous = "NORMAL"
    billing_increment: str = "60/60"  # initial/subsequent seconds
    max_call_duration: int = 4 * 3600  # seconds before an authorization never ended expires
    db_timeout: float = 5.0  # seconds any one database operation may take
    # Rate limit per API key in keys mode ("100/second"; "0": none), and the store the workers and
    # servers of a deployment share for it (redis://host:6379; none: in the process).
    rate_limit: str = "100/second"
    rate_limit_storage: str | None = None
    max_in_flight: int = 256  # requests in progress per worker; past it, 503 at once
    body_timeout: float = 10.0  # seconds for a request's body to arrive once its head has
    head_timeout: float = 10.0  # seconds for a request's line and headers to arrive once they begin
    idle_timeout: float = 5.0  # seconds a connection may stay open with no request on it
    shutdown_timeout: float = 10.0  # seconds to finish the requests in progress on SIGTERM
    max_connections: int = 4096  # open connections per worker (kept below the file descriptor limit)
    log_format: str = "text"  # or "json"
    access_log: bool = True
    # For test suites, not a flag: every write work runs twice, the first time undone (see
    # ovp.store.database.Database), so that a work with an effect outside its transaction shows.
    rehearse_writes: bool = False

    def to_environment(self) -> dict[str, str]:
        """The OVP_* variables that recreate these settings, for worker processes."""
        return {f"OVP_{field.name.upper()}": "" if getattr(self, field.name) is None else str(getattr(self, field.name))
                for field in fields(self)}

    @classmethod
    def from_environment(cls) -> Settings:
        env = os.environ
        defaults = cls()
        auth = env.get("OVP_AUTH", defaults.auth)
        synchronous = env.get("OVP_SQLITE_SYNCHRONOUS", defaults.sqlite_synchronous).upper()
        if auth not in ("keys", "open"):
            raise ValueError(f"OVP_AUTH must be keys or open, not {auth!r}")
        if synchronous not in ("FULL", "NORMAL", "OFF"):
            raise ValueError(f"OVP_SQLITE_SYNCHRONOUS must be FULL, NORMAL or OFF, not {synchronous!r}")
        return cls(
            host=env.get("OVP_HOST", defaults.host),
            port=int(env.get("OVP_PORT", defaults.port)),
            database_url=env.get("OVP_DATABASE_URL", defaults.database_url),
            auth=auth,  # type: ignore[arg-type]
            workers=int(env.get("OVP_WORKERS", defaults.workers)),
            sqlite_synchronous=synchronous,  # type: ignore[arg-type]
            billing_increment=env.get("OVP_BILLING_INCREMENT", defaults.billing_increment),
            max_call_duration=int(env.get("OVP_MAX_CALL_DURATION", defaults.max_call_duration)),
            db_timeout=float(env.get("OVP_DB_TIMEOUT", defaults.db_timeout)),
            rate_limit=env.get("OVP_RATE_LIMIT", defaults.rate_limit),
            rate_limit_storage=env.get("OVP_RATE_LIMIT_STORAGE") or None,
            max_in_flight=int(env.get("OVP_MAX_IN_FLIGHT", defaults.max_in_flight)),
            body_timeout=float(env.get("OVP_BODY_TIMEOUT", defaults.body_timeout)),
            head_timeout=float(env.get("OVP_HEAD_TIMEOUT", defaults.head_timeout)),
            idle_timeout=float(env.get("OVP_IDLE_TIMEOUT", defaults.idle_timeout)),
            shutdown_timeout=float(env.get("OVP_SHUTDOWN_TIMEOUT", defaults.shutdown_timeout)),
            max_connections=int(env.get("OVP_MAX_CONNECTIONS", defaults.max_connections)),
            log_format=env.get("OVP_LOG_FORMAT", defaults.log_format),
            access_log=env.get("OVP_ACCESS_LOG", str(defaults.access_log)) == "True",
            rehearse_writes=env.get("OVP_REHEARSE_WRITES", "False") == "True",
        )
