"""The wheels the container image installs ovp from (Containerfile), written outside the image: inside
a container the package indexes may not be reachable (a proxy's certificate the container does not
trust), so the image's build stage installs from these files alone.

    python -m image.wheels --python 3.12 build/image

writes ovp's own wheel into ovp/, and into dependencies/ every dependency pinned by constraints.txt,
as binary wheels for the image's Python (X.Y, or X.Y.Z) on this machine's architecture under glibc
2.28 or newer, with requirements.txt, ovp's own requirements: the image installs the dependencies in
a layer of their own, which a change to ovp alone leaves as it was.

pip decides which dependencies apply by the markers of the Python that runs it, not the target's; so
the dependencies whose markers hold for the target's Python are fetched too (redis needs
async-timeout below 3.11.3, Debian bookworm's 3.11.2, say). A dependency the image needs and lacks
fails its build, by name.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parents[1]
# manylinux_2_17 (manylinux2014) to manylinux_2_36: Debian bookworm's glibc, the oldest of the bases
# the image supports (python:3.12-slim is bookworm too), runs all of them.
GLIBC_MINORS = range(17, 37)


def main() -> int:
    parser = argparse.ArgumentParser(description="The wheels of ovp's container image.")
    parser.add_argument("--python", required=True, help="the image's Python: X.Y or X.Y.Z")
    parser.add_argument("directory", type=Path, help="emptied, then given ovp/ and dependencies/")
    arguments = parser.parse_args()
    own, dependencies = arguments.directory / "ovp", arguments.directory / "dependencies"
    if arguments.directory.exists() and {entry.name for entry in arguments.directory.iterdir()} - {own.name,
                                                                                                  dependencies.name}:
        raise SystemExit(f"{arguments.directory} holds more than a former run's ovp/ and dependencies/: not emptied")
    shutil.rmtree(arguments.directory, ignore_errors=True)
    dependencies.mkdir(parents=True)
    pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(own), str(ROOT))
    wheel = next(own.glob("ovp_server-*.whl"))
    (dependencies / "requirements.txt").write_text("".join(
        f"{line}\n" for line in requirements(wheel) if "extra ==" not in line))
    wanted, asked = [str(wheel)], set[str]()
    while wanted:
        if asked.issuperset(wanted):
            raise SystemExit(f"pip fetched no wheel that meets {', '.join(wanted)}")
        asked.update(wanted)
        pip("download", "--quiet", *target_options(arguments.python), "--constraint", str(ROOT / "constraints.txt"),
            "--dest", str(dependencies), *wanted)
        wanted = sorted(missing([wheel, *dependencies.glob("*.whl")], arguments.python))
    for copy in dependencies.glob("ovp_server-*.whl"):
        copy.unlink()
    return 0


def pip(*arguments: str) -> None:
    subprocess.run([sys.executable, "-m", "pip", *arguments], check=True)


def target_options(python: str) -> list[str]:
    machine = platform.machine()
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in GLIBC_MINORS] + [f"manylinux2014_{machine}"]
    return ["--only-binary=:all:", "--implementation", "cp", "--python-version", python,
            *(option for name in platforms for option in ("--platform", name))]


def missing(wheels: list[Path], python: str) -> set[str]:
    """The requirements of `wheels` that hold for the target's Python and that none of them meets by
    name (extras aside: the host's pip took the same ones)."""
    major_minor = ".".join(python.split(".")[:2])
    full = python if python.count(".") == 2 else f"{python}.0"
    environment = {"python_version": major_minor, "python_full_version": full, "extra": ""}
    present: set[str] = set()
    required: dict[str, str] = {}
    for wheel in wheels:
        present.add(canonicalize_name(parse_wheel_filename(wheel.name)[0]))
        for line in requirements(wheel):
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                required[canonicalize_name(requirement.name)] = requirement.name + str(requirement.specifier)
    return {spec for name, spec in required.items() if name not in present}


def requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        headers = HeaderParser().parsestr(archive.read(metadata).decode())
    return headers.get_all("Requires-Dist") or []


if __name__ == "__main__":
    sys.exit(main())
