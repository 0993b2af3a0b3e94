"""A call in progress as Telnyx's `GET /v2/connections/{id}/active_calls` shows it (SDK `telnyx`
4.189, `types/connection_list_active_calls_response.py`), made from one of ovp's call
authorizations that holds its slot.

- `call_control_id` is `v3:` and the authorization's id, as the call's webhooks carry it; either
  form names the call in `POST /ovp/call_authorizations/{id}/actions/end`.
- `call_leg_id` and `call_session_id` are UUIDs that Telnyx draws per call; ovp derives them from
  the authorization's id (ovp.domain.calls.call_ids), so each call keeps its own from one answer to
  the next, the same as its webhooks and its detail record carry.
- `call_duration` counts the whole seconds since the call was answered (since it was authorized,
  while it rings).
- `client_state` is empty: ovp is given none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ovp.domain.calls.call_ids import call_control_id, call_leg_id, call_session_id


@dataclass(frozen=True)
class ActiveCall:
    call_id: int
    since_ms: int  # answered, or authorized while it rings

    def view(self, now_ms: int) -> dict[str, Any]:
        return {
            "record_type": "call",
            "call_control_id": call_control_id(self.call_id),
            "call_leg_id": call_leg_id(self.call_id),
            "call_session_id": call_session_id(self.call_id),
            "client_state": "",
            "call_duration": max(now_ms - self.since_ms, 0) // 1000,
        }
