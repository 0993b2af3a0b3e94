"""Entry point for `python -m bench`, kept to one line so the logic stays importable and typed."""

from bench.cli import main

raise SystemExit(main())
