"""Signing events as Telnyx signs them: Ed25519 over "<timestamp>|<body>", the signature and the
timestamp in the telnyx-signature-ed25519 and telnyx-timestamp headers, both base64 or decimal as
the official SDKs' webhooks.unwrap reads them."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache

from nacl.signing import SigningKey


@dataclass(frozen=True)
class KeyPair:
    private_key: str  # base64 of the 32-byte seed
    public_key: str  # base64 of the 32-byte public key: what a client hands unwrap as `key`

    @classmethod
    def generate(cls) -> KeyPair:
        key = SigningKey.generate()
        return cls(base64.b64encode(bytes(key)).decode(), base64.b64encode(bytes(key.verify_key)).decode())


def headers(private_key: str, timestamp: int, body: str) -> dict[str, str]:
    """The headers that sign `body` at `timestamp` (epoch seconds, from the wall clock: the SDKs
    refuse a signature more than five minutes from their own)."""
    signed = _signing_key(private_key).sign(f"{timestamp}|{body}".encode()).signature
    return {"telnyx-signature-ed25519": base64.b64encode(signed).decode(), "telnyx-timestamp": str(timestamp)}


@lru_cache(maxsize=4)
def _signing_key(private_key: str) -> SigningKey:
    """The key made from its seed once (a derivation each event would cost as much as signing)."""
    return SigningKey(base64.b64decode(private_key))
