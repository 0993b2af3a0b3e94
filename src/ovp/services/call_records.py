"""Reading the calls on record, allowed and refused: pages, an export's chunks, usage reports, and
pages of them as Telnyx's detail records."""

from __future__ import annotations

from ovp.domain.calls.authorization import Authorization
from ovp.domain.calls.decisions import DecisionFilter, DecisionListQuery, UsageReportQuery
from ovp.domain.calls.detail_records import DetailRecordQuery
from ovp.domain.calls.refusal import Refusal
from ovp.domain.listing import PageMeta
from ovp.store import decisions as store
from ovp.store.database import Transaction

CallRecord = Authorization | Refusal


def list_page(tx: Transaction, account_id: str, query: DecisionListQuery,
              now_ms: int) -> tuple[list[CallRecord], PageMeta]:
    """One page of the account's call records, newest first, and its meta (a snapshot: read())."""
    found, total = store.page(tx, account_id, query.filter, now_ms, limit=query.page.page_size,
                              offset=query.page.offset)
    return found, PageMeta.of(query.page, total)


def detail_record_page(tx: Transaction, account_id: str, query: DetailRecordQuery,
                       now_ms: int) -> tuple[list[CallRecord], PageMeta]:
    """One page of the account's finished calls and refusals as detail records, in the query's
    order, and its meta (a snapshot: read())."""
    if query.matches_nothing:
        return [], PageMeta.of(query.page, 0)
    found, total = store.page(tx, account_id, query.filter, now_ms, limit=query.page.page_size,
                              offset=query.page.offset, order=query.order)
    return found, PageMeta.of(query.page, total)


def export_chunk(tx: Transaction, account_id: str, found: DecisionFilter, now_ms: int, before_id: int | None,
                 size: int) -> list[CallRecord]:
    """The next chunk of an export, after the record `before_id` (a snapshot: read())."""
    return store.chunk(tx, account_id, found, now_ms, before_id=before_id, limit=size)


def usage_report(tx: Transaction, account_id: str, query: UsageReportQuery, now_ms: int) -> list[store.Totals]:
    return store.report(tx, account_id, query.filter, query.group_by, now_ms)
