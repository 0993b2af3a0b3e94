"""What the run needs once, kept in the cache directory (.cache/sdk-tests, ignored by git): the
Telnyx SDK's source distribution, fetched with pip and checked against its known digest, and a
virtualenv of the run's own with the pinned requirements (requirements.txt beside this file),
made again when they change."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
from pathlib import Path

SDK_VERSION = "4.189.0"
SDIST = f"telnyx-{SDK_VERSION}.tar.gz"
SDIST_SHA256 = "111436cebd6596270bd82b2eeecdb932682aa5833fd07f168e65c999702e235b"  # PyPI's, 4.189.0
REPOSITORY = Path(__file__).resolve().parents[2]
CACHE = REPOSITORY / ".cache" / "sdk-tests"
REQUIREMENTS = Path(__file__).with_name("requirements.txt")


class SetupFailed(RuntimeError):
    """The sdist or the virtualenv could not be had; the message says which step failed and why."""


def _run(*command: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SetupFailed(f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout}{done.stderr}")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sdist(cache: Path = CACHE) -> Path:
    """The unpacked sdist, fetched (pip download, from source only) and unpacked the first time."""
    archive, tree = cache / SDIST, cache / SDIST.removesuffix(".tar.gz")
    if not archive.exists():
        cache.mkdir(parents=True, exist_ok=True)
        _run(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             f"telnyx=={SDK_VERSION}", "--dest", str(cache))
    if _sha256(archive) != SDIST_SHA256:
        raise SetupFailed(f"{archive} is not PyPI's telnyx {SDK_VERSION} (sha256 {_sha256(archive)}); delete it")
    if not tree.exists():
        with tarfile.open(archive) as unpacking:
            unpacking.extractall(cache, filter="data")
    return tree


def virtualenv(cache: Path = CACHE) -> Path:
    """The python of the run's virtualenv, made (or made again) when the requirements changed."""
    venv, stamp = cache / "venv", cache / "venv" / "requirements.sha256"
    python = venv / "bin" / "python"
    wanted = _sha256(REQUIREMENTS)
    if not (stamp.exists() and stamp.read_text() == wanted and python.exists()):
        _run(sys.executable, "-m", "venv", "--clear", str(venv))
        _run(str(python), "-m", "pip", "install", "--quiet", "--requirement", str(REQUIREMENTS))
        stamp.write_text(wanted)
    return python
