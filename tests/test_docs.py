"""The documentation: every relative link in README.md and docs/*.md resolves, and every example
marked runnable (the line `<!-- runnable -->` right before its ```sh, ```python or ```js fence) runs
and exits 0 against a real `ovp serve --auth open`, with `OVP` set to its origin and `TOKEN` to a
token: shell with bash, Python with this environment's interpreter (which has the telnyx SDK), and
JavaScript with node beside the telnyx package that `make install` puts in tests/node."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.servers import OvpServer, clean_environment, launch

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = "<!-- runnable -->"
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


def runnable_blocks() -> dict[str, tuple[str, str]]:
    """Each block marked runnable, by page and line, with its language; a mark not followed by a
    fence of one of LANGUAGES is an empty block."""
    blocks: dict[str, tuple[str, str]] = {}
    for page in PAGES:
        lines = page.read_text().splitlines()
        for number, line in enumerate(lines, start=1):
            if line.strip() == RUNNABLE:
                language = lines[number].strip().removeprefix("```") if number < len(lines) else ""
                fenced = language in LANGUAGES and "```" in lines[number + 1:]
                end = lines.index("```", number + 1) if fenced else number
                blocks[f"{page.relative_to(ROOT)}:{number}"] = (language, "\n".join(lines[number + 1:end]))
    return blocks


BLOCKS = runnable_blocks()


def test_the_docs_have_runnable_examples() -> None:
    assert len(BLOCKS) >= 5, sorted(BLOCKS)
    assert [place for place, (_language, block) in BLOCKS.items() if not block.strip()] == [], \
        f"{RUNNABLE} must come right before a fenced block of one of {LANGUAGES}"
    assert {language for language, _block in BLOCKS.values()} == set(LANGUAGES)


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
    language, block = BLOCKS[place]
    if language == "sh":
        command = ["bash", "-euo", "pipefail", "-c", block]
    elif language == "python":
        (tmp_path / "example.py").write_text(block)
        command = [sys.executable, "example.py"]
    else:
        (tmp_path / "example.mjs").write_text(block)
        (tmp_path / "node_modules").symlink_to(NODE_MODULES)  # where `import ... from 'telnyx'` finds it
        node = shutil.which("node")
        assert node is not None, "the JavaScript examples need node"
        assert NODE_MODULES.is_dir(), "the JavaScript examples need the telnyx package: run `make install`"
        command = [node, "example.mjs"]
    done = subprocess.run(command, cwd=tmp_path, env=environment,
                          capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S, check=False)
    assert done.returncode == 0, f"{place} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
