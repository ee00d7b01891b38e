"""Docs are tested: the README's two commands run, every view is documented."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from seamless_catalog.store.views import view_files
from tests.paths import REPO

sys.path.insert(0, str(REPO / "scripts"))
from readme_commands import quickstart_commands  # noqa: E402


def test_readme_has_the_two_commands_and_ci_runs_them():
    setup, tests = quickstart_commands()
    assert setup.startswith("pip install") and "seamless-catalog quickstart" in setup
    assert "pytest" in tests
    ci = (REPO / ".ci" / "run").read_text()
    assert "readme_commands.py 1" in ci and "readme_commands.py 2" in ci


@pytest.mark.slow  # a pip install into a new virtualenv, then the quickstart: half a minute
def test_readme_setup_command_runs(tmp_path):
    """Run the README's first command in a throwaway venv that sees this machine's packages."""
    if os.environ.get("SEAMLESS_CATALOG_SKIP_README_INSTALL"):
        pytest.skip("SEAMLESS_CATALOG_SKIP_README_INSTALL is set (.ci/run ran it already)")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    setup = quickstart_commands()[0].replace("--catalog demo", f"--catalog {tmp_path}/demo")
    env = dict(
        os.environ,
        PATH=f"{venv}/bin:{os.environ['PATH']}",
        VIRTUAL_ENV=str(venv),
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    proc = subprocess.run(
        ["bash", "-c", setup], cwd=REPO, env=env, capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Turn-taking per pair" in proc.stdout
    assert (tmp_path / "demo" / "catalog.duckdb").exists()


def test_every_view_has_a_description_and_is_in_the_readme():
    readme = (REPO / "README.md").read_text()
    for vf in view_files():
        assert len(vf.description) > 20, vf.path
        assert f"`{vf.name}`" in readme, f"README does not mention view {vf.name}"
