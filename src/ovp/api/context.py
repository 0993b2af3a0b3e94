"""What a request handler needs from the running app."""

from __future__ import annotations

from dataclasses import dataclass

from ovp.config import Settings
from ovp.domain.ids import IdGenerator
from ovp.store.database import Database


@dataclass
class AppContext:
    settings: Settings
    database: Database
    ids: IdGenerator
