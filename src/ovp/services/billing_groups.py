"""Billing groups, declared: nothing of their own beyond the five operations (a profile's
billing_group_id keeps any UUID, as Telnyx documents no refusal)."""

from __future__ import annotations

from ovp.domain.billing_groups import billing_group as rules
from ovp.domain.billing_groups.billing_group import BillingGroupDocument
from ovp.domain.listing import ListQuery, parse_page_query
from ovp.services.resources import Resource
from ovp.store import billing_groups as store

resource = Resource[BillingGroupDocument, str, ListQuery](rules.KIND, store.table, parse_page_query, store.list_page)
