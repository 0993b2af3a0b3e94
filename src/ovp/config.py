"""Settings, from `ovp` flags or OVP_* environment variables (the flags win)."""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Literal

AuthMode = Literal["keys", "open"]
SqliteSynchronous = Literal["FULL", "NORMAL", "OFF"]

DEFAULT_DATABASE_URL = "sqlite:///ovp.db"


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
    # For test suites, not a flag: every write work runs twice, the first time undone (see
    # ovp.store.database.Database), so that a work with an effect outside its transaction shows.
    rehearse_writes: bool = False

    def to_environment(self) -> dict[str, str]:
        """The OVP_* variables that recreate these settings, for worker processes."""
        return {f"OVP_{field.name.upper()}": str(getattr(self, field.name)) for field in fields(self)}

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
            rehearse_writes=env.get("OVP_REHEARSE_WRITES", "False") == "True",
        )
