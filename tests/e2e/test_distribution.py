"""ovp as a user gets it: the sdist and wheel built (`python -m build`), the wheel installed into a
fresh virtual environment, and there `ovp` run, its docs and document fetched, its migrations
applied, and a small user test suite run through its pytest plugin. The build leaves nothing behind
in the project's tree."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import venv
from pathlib import Path

import httpx
import pytest

from tests.e2e.servers import HOST, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("pyproject.toml", "README.md", "LICENSE", "src")
USER_SUITE = '''
import telnyx


def test_a_profile_round_trip(ovp_client):
    created = ovp_client.outbound_voice_profiles.create(name="from a user's suite")
    assert ovp_client.outbound_voice_profiles.retrieve(created.data.id).data.name == "from a user's suite"


def test_the_admin_fixture(ovp_admin, ovp_client):
    ovp_admin.arm_fault(method="GET", path="/v2/outbound_voice_profiles", status=503)
    try:
        ovp_client.with_options(max_retries=0).outbound_voice_profiles.list()
    except telnyx.InternalServerError:
        pass
    assert [entry["status"] for entry in ovp_admin.journal()] == [503]
'''


def _run(*command: str | Path, cwd: Path | None = None, timeout: float = 600) -> str:
    done = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{command}: {done.stdout}\n{done.stderr}"
    return done.stdout


def _status() -> str:
    return _run("git", "status", "--porcelain", "--untracked-files=all", cwd=ROOT)


def test_the_wheel_installs_and_serves_in_a_fresh_environment(tmp_path: Path) -> None:
    before = _status()
    source = tmp_path / "source"
    source.mkdir()
    for name in SHIPPED:  # built from a copy: a build writes build/ and *.egg-info beside its source
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, source / name)
    _run(sys.executable, "-m", "build", "--outdir", tmp_path / "dist", source)
    wheels = sorted((tmp_path / "dist").glob("ovp_server-*.whl"))
    assert len(wheels) == 1, list((tmp_path / "dist").iterdir())
    assert sorted((tmp_path / "dist").glob("ovp_server-*.tar.gz"))

    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python, ovp = environment / "bin" / "python", environment / "bin" / "ovp"
    _run(python, "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt", wheels[0], "pytest", "telnyx")
    assert _run(ovp, "--version").startswith("ovp ")
    url = f"sqlite:///{tmp_path / 'user.db'}"
    _run(ovp, "db", "upgrade", "--database", url)

    port = free_port()
    server = subprocess.Popen([ovp, "serve", "--auth", "open", "--port", str(port), "--database", url],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        origin = f"http://{HOST}:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{origin}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the installed ovp did not start"
            time.sleep(0.1)
        page = httpx.get(f"{origin}/docs", timeout=5)
        assert page.status_code == 200
        assets = [part.split('"')[0] for part in page.text.split('src="')[1:] + page.text.split('href="')[1:]
                  if part.startswith("docs/static/")]
        assert len(assets) >= 3
        for asset in assets:
            assert httpx.get(f"{origin}/{asset}", timeout=5).status_code == 200, asset
        assert httpx.get(f"{origin}/v2/openapi.json", timeout=5).json()["openapi"].startswith("3.")
    finally:
        server.terminate()
        server.wait(timeout=20)

    suite = tmp_path / "user-project"
    suite.mkdir()
    (suite / "test_user.py").write_text(USER_SUITE)
    output = _run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=suite)
    assert "2 passed" in output
    assert _status() == before, "the build or the install left files in the project's tree"
