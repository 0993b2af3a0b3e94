"""The documentation: every relative link in README.md and docs/*.md resolves, and every example
marked runnable (the line `<!-- runnable -->` right before its ```sh, ```python or ```js fence) runs
and exits 0 against a real `ovp serve --auth open`, with `OVP` set to its origin and `TOKEN` to a
token: shell with bash, Python with this environment's interpreter (which has the telnyx SDK), and
JavaScript with node beside the telnyx package that `make install` puts in tests/node. A block
marked `<!-- runnable: needs kamailio sipp -->` is a walk-through that starts servers of its own: it
runs from the repository's root with OVP_PORT, SIP_PORT, CARRIER_PORT and PHONE_PORT free, and is
skipped (not root) or fails (root) as the switch tests are when those commands are missing. A block
marked `<!-- runnable: in the repository -->` runs from the repository's root, as its reader would,
for the files it names there."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.servers import OvpServer, clean_environment, free_port, launch
from tests.e2e.switch import free_udp_port, required

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = "<!-- runnable -->"
RUNNABLE_MARK = re.compile(r"<!-- runnable(?:: needs ([a-z ]+)|: (in the repository))? -->")
FENCE = re.compile(r"\s*(```|~~~)")
HEADING = re.compile(r"#{1,6}\s+(.*)")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
INLINE_CODE = re.compile(r"`[^`]*`")
EXTERNAL = ("http://", "https://", "mailto:")
BLOCK_TIMEOUT_S = 60


def prose(page: Path) -> list[str]:
    """The page's lines outside fenced code blocks."""
    lines: list[str] = []
    fenced = False
    for line in page.read_text().splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, spaces to '-', and only letters, digits, '-' and '_' kept."""
    return "".join(char for char in heading.strip().lower().replace(" ", "-") if char.isalnum() or char in "-_")


def anchors(page: Path) -> set[str]:
    """The anchors of a page's headings; a repeated heading gets -1, -2, ... as on GitHub."""
    found: set[str] = set()
    for line in prose(page):
        heading = HEADING.fullmatch(line)
        if heading is not None:
            base = anchor = slug(heading.group(1))
            count = 0
            while anchor in found:
                count += 1
                anchor = f"{base}-{count}"
            found.add(anchor)
    return found


def broken_link(page: Path, target: str) -> str | None:
    path, _, anchor = target.partition("#")
    linked = (page.parent / path).resolve() if path else page
    if not linked.exists():
        return f"{page.relative_to(ROOT)}: {target}: no such file"
    if anchor and anchor not in anchors(linked):
        return f"{page.relative_to(ROOT)}: {target}: no heading #{anchor} in {linked.relative_to(ROOT)}"
    return None


def test_every_relative_link_resolves() -> None:
    targets = [(page, target) for page in PAGES for line in prose(page)
               for target in LINK.findall(INLINE_CODE.sub("", line)) if not target.startswith(EXTERNAL)]
    assert targets, "no relative links found: the pattern is wrong"
    assert [problem for page, target in targets if (problem := broken_link(page, target))] == []


LANGUAGES = ("sh", "python", "js")
NODE_MODULES = ROOT / "tests" / "node" / "node_modules"


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    needs: tuple[str, ...]  # commands it runs beyond ovp's own: `<!-- runnable: needs kamailio sipp -->`
    in_repository: bool = False  # `<!-- runnable: in the repository -->`: from the repository's root


def runnable_blocks() -> dict[str, Block]:
    """Each block marked runnable, by page and line; a mark not followed by a fence of one of
    LANGUAGES is an empty block."""
    blocks: dict[str, Block] = {}
    for page in PAGES:
        lines = page.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            mark = RUNNABLE_MARK.fullmatch(line.strip())
            if mark is not None:
                language = lines[number].strip().removeprefix("```") if number < len(lines) else ""
                fenced = language in LANGUAGES and "```" in lines[number + 1:]
                end = lines.index("```", number + 1) if fenced else number
                needs = tuple((mark.group(1) or "").split())
                blocks[f"{page.relative_to(ROOT)}:{number}"] = Block(language, "\n".join(lines[number + 1:end]), needs,
                                                                     mark.group(2) is not None)
    return blocks


BLOCKS = runnable_blocks()


def test_the_docs_have_runnable_examples() -> None:
    assert len(BLOCKS) >= 5, sorted(BLOCKS)
    assert [place for place, block in BLOCKS.items() if not block.code.strip()] == [], \
        f"{RUNNABLE} must come right before a fenced block of one of {LANGUAGES}"
    assert {block.language for block in BLOCKS.values()} == set(LANGUAGES)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OvpServer]:
    """`ovp serve --auth open` on a free port, with a database of its own; stopped by its PID."""
    directory = tmp_path_factory.mktemp("docs-server")
    started = launch(directory, f"sqlite:///{directory / 'ovp.db'}", auth="open")
    yield started
    started.stop()


@pytest.mark.e2e
@pytest.mark.parametrize("place", sorted(BLOCKS))
def test_runnable_block(place: str, server: OvpServer, tmp_path: Path) -> None:
    environment = {
        **clean_environment(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "OVP": server.origin,
        "TOKEN": f"docs-{secrets.token_hex(8)}",
    }
    block = BLOCKS[place]
    cwd, code = (ROOT if block.in_repository else tmp_path), block.code
    if block.needs:  # a walk-through of its own (the switch's): from the repository's root, on free ports
        for needed in block.needs:
            required(needed)
        cwd = ROOT
        environment.update(OVP_PORT=str(free_port()), SIP_PORT=str(free_udp_port()),
                           CARRIER_PORT=str(free_udp_port()), PHONE_PORT=str(free_udp_port()))
    if block.language == "sh":
        command = ["bash", "-euo", "pipefail", "-c", code]
    elif block.language == "python":
        (tmp_path / "example.py").write_text(code)
        command = [sys.executable, "example.py"]
    else:
        (tmp_path / "example.mjs").write_text(code)
        (tmp_path / "node_modules").symlink_to(NODE_MODULES)  # where `import ... from 'telnyx'` finds it
        node = shutil.which("node")
        assert node is not None, "the JavaScript examples need node"
        assert NODE_MODULES.is_dir(), "the JavaScript examples need the telnyx package: run `make install`"
        command = [node, "example.mjs"]
    done = subprocess.run(command, cwd=cwd, env=environment,
                          capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"{place} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"


def test_the_readme_names_every_package_make_install_installs() -> None:
    makefile = (ROOT / "Makefile").read_text()
    declared = re.search(r"^DEBIAN_PACKAGES := (.*)$", makefile, re.MULTILINE)
    assert declared is not None, "the Makefile no longer declares DEBIAN_PACKAGES"
    readme = (ROOT / "README.md").read_text()
    missing = [package for package in declared.group(1).split() if f"`{package}`" not in readme]
    assert missing == [], f"README.md does not say that make install installs {missing}"
