"""What a request handler needs from the running app."""

from __future__ import annotations

from dataclasses import dataclass, field

from ovp.config import Settings
from ovp.domain.ids import IdGenerator
from ovp.emulator.faults import FaultBook
from ovp.emulator.journal import Journal
from ovp.services.calls import CallSettings, FullProfiles
from ovp.store.database import Database
from ovp.webhooks.expiry import ExpirySweep
from ovp.webhooks.sender import WebhookSender


@dataclass
class Emulator:
    """Open mode's test tools; a server in keys mode has none."""

    journal: Journal
    faults: FaultBook


@dataclass
class AppContext:
    settings: Settings
    database: Database
    ids: IdGenerator
    emulator: Emulator | None = None
    calls: CallSettings = field(default_factory=CallSettings)
    full_profiles: FullProfiles = field(default_factory=FullProfiles)  # a hint of this process's own
    webhooks: WebhookSender | None = None  # made with the database, started with the app
    expiry: ExpirySweep | None = None  # every process that decides calls sweeps their expiry
