"""`python -m tests.sdk_generated` (`make sdk-tests`): the Telnyx Python SDK's generated tests of
the resources ovp serves, against a real `ovp serve --auth open` on a loopback port with a temporary
SQLite database; passed out of run per resource file, and why each failure failed. Exits non-zero
when any test that is not deselected fails. Arguments after `--` go to pytest."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.e2e.servers import clean_environment, launch
from tests.sdk_generated import environment, report, seed, workdir
from tests.sdk_generated.deselection import DESELECTED, deselections, unused
from tests.sdk_generated.substitutions import SUBSTITUTIONS

PLUGIN = Path(__file__).with_name("plugin.py")


def _print_substitutions(done: Sequence[workdir.Substituted]) -> None:
    print("Ids substituted in the copy of the tests:")
    for each in done:
        lines = ", ".join(str(number) for number in each.lines)
        print(f"  {each.rule.file} lines {lines}: {each.rule.old} -> {each.rule.new} ({each.rule.why})")


def _run_tests(python: Path, work: Path, files: Sequence[str], pytest_args: Sequence[str]) -> tuple[int, Path]:
    """Runs pytest in the run's virtualenv against a server of its own; its exit status, and its results."""
    results = work / "results.json"
    settings = {"seed": seed.SEED, "call": seed.CALL, "call_for": list(seed.CALL_FOR),
                "deselected": deselections(DESELECTED.read_text()), "results": str(results)}
    (work / "ovp_run.json").write_text(json.dumps(settings, indent=1))
    with tempfile.TemporaryDirectory(prefix="ovp-sdk-tests-") as temporary:
        server = launch(Path(temporary), f"sqlite:///{temporary}/ovp.db", extra=["--no-access-log"])
        print(f"ovp serve --auth open: pid {server.pid}, {server.origin}, database {server.database_url}")
        try:
            command = [str(python), "-m", "pytest", "-p", workdir.PLUGIN, "-q", "--tb=no", *pytest_args,
                       *(str(workdir.RESOURCES / file) for file in files)]
            env = {**clean_environment(), "TEST_API_BASE_URL": server.base_url,
                   "OVP_SDK_RUN": str(work / "ovp_run.json")}
            status = subprocess.run(command, cwd=work, env=env, check=False).returncode
        finally:
            server.stop()
    return status, results


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sdk_generated", description=__doc__.split("\n\n")[0])
    parser.add_argument("--file", action="append", choices=workdir.RESOURCE_FILES, dest="files",
                        help="run only this file of tests/api_resources (may be given again)")
    parser.add_argument("pytest_args", nargs="*", help="after --: more arguments for pytest")
    options = parser.parse_args(argv)
    files = options.files or list(workdir.RESOURCE_FILES)
    tree, python = environment.sdist(), environment.virtualenv()
    work = environment.CACHE / "work"
    _print_substitutions(workdir.prepare(tree, work, PLUGIN, SUBSTITUTIONS))
    status, results = _run_tests(python, work, files, options.pytest_args)
    if not results.exists():
        print(f"pytest exited with {status} before any result was written", file=sys.stderr)
        return status or 1
    found = report.outcomes(json.loads(results.read_text()))
    print("\n" + "\n".join(report.table(found, files)))
    failing = report.failures(found)
    if failing:
        print("\nFailures:\n" + "\n".join(f"  {line}" for line in failing))
    stale = unused(deselections(DESELECTED.read_text()), found, files)
    if stale:
        print("\nDeselected but no such test (the list is stale):\n" + "\n".join(f"  {name}" for name in stale))
    # pytest's 1 is "some tests failed", which the lines above tell; anything else is the run's own trouble.
    return 1 if failing or stale or status not in (0, 1) else 0


if __name__ == "__main__":
    sys.exit(main())
