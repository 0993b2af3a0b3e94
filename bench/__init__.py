"""Load benchmark for ovp: `python -m bench` measures PATCH, GET one and a list page with wrk.

It lives beside the package rather than in tests/ because it is slow, needs wrk and
measures speed, not correctness; a run starts its own server so numbers never depend
on whatever happens to be listening on a developer's port.

Run from the repository root (wrk must be on PATH):

    .venv/bin/python -m bench                      # 10 s per scenario, 1 worker, SQLite
    .venv/bin/python -m bench --duration 5 --scenarios patch --check-floor
    .venv/bin/python -m bench --workers 2 --database-url postgresql://user@localhost/ovp
"""
