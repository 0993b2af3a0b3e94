"""An account's own settings, read and changed at /ovp/account: its channel limit, Telnyx's
account-wide limit of concurrent outbound calls (D1)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from ovp.domain.connections.fields import ChannelLimit
from ovp.domain.validation import parse_object

RECORD_TYPE = "account"


@dataclass(frozen=True)
class Account:
    channel_limit: int | None = None  # None: no limit

    def view(self) -> dict[str, Any]:
        return {"record_type": RECORD_TYPE, "channel_limit": self.channel_limit}


class AccountChanges(BaseModel):
    # Strict, unknown fields ignored (and named in Ovp-Ignored-Fields), as for every resource.
    model_config = ConfigDict(extra="ignore", strict=True)

    channel_limit: ChannelLimit | None = None


def parse_account_changes(body: object) -> AccountChanges:
    """Raises InvalidInput listing every problem."""
    return parse_object(AccountChanges, body)


def changed(account: Account, changes: AccountChanges) -> Account:
    """The account with what `changes` sets (a field left out keeps its value)."""
    if "channel_limit" not in changes.model_fields_set:
        return account
    return Account(channel_limit=changes.channel_limit)
