"""Emulator tools for open mode: a request journal and fault injection, kept per account.

They live in the memory of one server process: an emulator runs as one process per test run
(the pytest plugin, `ovp serve --auth open`), so each worker of a multi-worker server would
keep its own.
"""
