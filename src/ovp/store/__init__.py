"""Persistence: tables, queries and migrations. Every query about a resource takes the account."""
