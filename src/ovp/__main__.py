"""`python -m ovp`: the `ovp` command."""

from ovp.cli import main

main()
