"""`python -m bench.alternate --before COMMIT [--pairs N] [-- BENCH ARGUMENTS]`: this checkout's
code against the code of an earlier commit, measured in the same sitting.

On these machines one day runs two or three times as fast as another, and a sitting drifts too, so
a change is judged only against the code before it measured beside it. This checks COMMIT out in
a git worktree of its own (a temporary directory, removed at the end), then runs `python -m bench`
with the given arguments in each checkout in turn, `--pairs` times, the order swapped every pair so
that a drift of the machine weighs on both alike. Each run uses its own checkout's code and harness
(`PYTHONPATH`), and this checkout's installed packages. It prints, for each scenario, each pair's
ratio (this code over the code before) and the ratio of the medians; a call's figure compares
requests a second, since the number of requests a call takes may differ between the two.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench.report import RESULTS_PATH

ROOT = Path(__file__).resolve().parent.parent
RESULTS = RESULTS_PATH.resolve().relative_to(ROOT)  # where a checkout's `python -m bench` writes its figures
ROLES = ("before", "now")


@dataclass(frozen=True)
class Figure:
    requests_per_s: float
    server_cpu_us: float | None


Run = dict[str, Figure]  # scenario key -> its figure


def _say(message: str) -> None:
    print(f"bench.alternate: {message}", file=sys.stderr, flush=True)


@contextmanager
def _worktree(commit: str) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="ovp-before-") as parent:
        tree = Path(parent) / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(tree), commit],
                       check=True)
        try:
            yield tree
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=False)


def _run(tree: Path, arguments: Sequence[str]) -> Run:
    """`python -m bench ARGUMENTS` in `tree`, with that tree's code; its figures by scenario."""
    results = tree / RESULTS
    results.unlink(missing_ok=True)
    environment = {**os.environ, "PYTHONPATH": f"{tree / 'src'}{os.pathsep}{tree}"}
    subprocess.run([sys.executable, "-m", "bench", *arguments], cwd=tree, env=environment, check=False,
                   stdout=subprocess.DEVNULL)
    if not results.exists():
        raise SystemExit(f"bench.alternate: `python -m bench` in {tree} wrote no {RESULTS}")
    scenarios = orjson.loads(results.read_bytes())["scenarios"]
    return {key: Figure(float(found["result"]["requests_per_s"]), found.get("server_cpu_us_per_request"))
            for key, found in scenarios.items() if found.get("result")}


def table(pairs: Sequence[dict[str, Run]]) -> list[str]:
    """A Markdown table: each scenario's medians, their ratio, and each pair's ratio."""
    lines = ["| scenario | before, median req/s | now, median req/s | now / before | each pair "
             "| server CPU a request, before / now |", "|---|--:|--:|--:|---|--:|"]
    scenarios = [key for key in pairs[0]["before"] if all(key in pair[role] for pair in pairs for role in ROLES)]
    for key in scenarios:
        before = statistics.median(pair["before"][key].requests_per_s for pair in pairs)
        now = statistics.median(pair["now"][key].requests_per_s for pair in pairs)
        each = ", ".join(f"{pair['now'][key].requests_per_s / pair['before'][key].requests_per_s:.2f}"
                         for pair in pairs)
        cpu = " / ".join(_median_cpu(pairs, role, key) for role in ROLES)
        lines.append(f"| {key} | {before:,.0f} | {now:,.0f} | {now / before:.2f} | {each} | {cpu} |")
    return lines


def _median_cpu(pairs: Sequence[dict[str, Run]], role: str, key: str) -> str:
    """The median of the server's CPU a request (µs) over the pairs, "-" where a run had none."""
    found = [cpu for pair in pairs if (cpu := pair[role][key].server_cpu_us) is not None]
    return f"{statistics.median(found):,.0f} µs" if found else "-"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alternate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="the commit to measure this checkout against")
    parser.add_argument("--pairs", type=int, default=3, help="runs of each, alternated (3)")
    parser.add_argument("bench", nargs=argparse.REMAINDER, help="after --: the arguments of python -m bench")
    args = parser.parse_args(argv)
    arguments = [argument for argument in args.bench if argument != "--"]
    pairs: list[dict[str, Run]] = []
    with _worktree(args.before) as before:
        trees = {"before": before, "now": ROOT}
        for number in range(args.pairs):
            pair: dict[str, Run] = {}
            for role in ROLES if number % 2 == 0 else tuple(reversed(ROLES)):
                _say(f"pair {number + 1} of {args.pairs}: {role}")
                pair[role] = _run(trees[role], arguments)
            pairs.append(pair)
    print(f"this checkout against {args.before}, {args.pairs} pairs of `python -m bench {' '.join(arguments)}`:")
    print("\n".join(table(pairs)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
