"""Reading what was delivered, as Telnyx's GET /v2/webhook_deliveries shows it, and the key that
signs every event."""

from __future__ import annotations

from ovp.domain.errors import NotFound
from ovp.domain.listing import PageMeta
from ovp.domain.webhooks.deliveries import DeliveryListQuery
from ovp.domain.webhooks.signing import KeyPair
from ovp.store import webhooks as store
from ovp.store.database import Transaction


def list_page(tx: Transaction, account_id: str, query: DeliveryListQuery) -> tuple[list[store.Delivery], PageMeta]:
    found, total = store.deliveries(tx, account_id, query.filter, limit=query.page.page_size,
                                    offset=(query.page.page_number - 1) * query.page.page_size)
    return found, PageMeta.of(query.page, total)


def retrieve(tx: Transaction, account_id: str, delivery_id: str) -> store.Delivery:
    found = store.delivery(tx, account_id, delivery_id)
    if found is None:
        raise NotFound()
    return found


def signing_key(tx: Transaction) -> KeyPair | None:
    """The deployment's key pair; None until a server made it."""
    return store.signing_key(tx)


def ensure_signing_key(tx: Transaction, candidate: KeyPair, now_ms: int) -> KeyPair:
    """The deployment's key pair, `candidate` if no server made one yet."""
    return store.ensure_key(tx, candidate, now_ms)


def replace_signing_key(tx: Transaction, pair: KeyPair, now_ms: int) -> None:
    store.replace_key(tx, pair, now_ms)
