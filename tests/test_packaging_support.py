"""Helpers for the packaging tests (this file holds no tests): a copy of the checkout as a
build would see it, fresh virtual environments, and a `zenhire-mock serve` child process
whose banner gives its URL."""

from __future__ import annotations

import contextlib
import fnmatch
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

ROOT = Path(__file__).resolve().parent.parent
# Never part of a build: environments, caches, build output.
NOT_SOURCE = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".hypothesis"}


def copy_checkout(dest: Path) -> Path:
    """The checkout's source (links kept as links, as git keeps them) without envs or caches."""
    def ignore(folder: str, names: list[str]) -> set[str]:
        return {n for n in names if n in NOT_SOURCE or n.endswith((".egg-info", ".pyc"))}
    shutil.copytree(ROOT, dest, symlinks=True, ignore=ignore)
    return dest


def make_venv(path: Path) -> Path:
    """A fresh virtual environment (no packages but pip); returns its bin folder."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=120)
    return path / "bin"


def pip(bin_dir: Path, *args: str, cwd: Path | None = None) -> None:
    """pip in that environment (the machine's pip configuration and cache apply)."""
    r = subprocess.run([str(bin_dir / "python"), "-m", "pip", *args], capture_output=True, text=True,
                       cwd=cwd, timeout=600)
    assert r.returncode == 0, f"pip {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"


def clean_env(bin_dir: Path, **extra: str) -> dict[str, str]:
    """The environment with only this venv's scripts first on PATH and no ZENHIRE_MOCK_* settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("ZENHIRE_MOCK_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env


def run(argv: list[str], *, env: dict, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)


@contextlib.contextmanager
def serving(argv: list[str], *, env: dict, cwd: Path) -> Iterator[str]:
    """Run ``argv`` (a `zenhire-mock serve` command with ``--port 0`` or ZENHIRE_MOCK_PORT=0) and
    yield its base URL from the banner; Ctrl-C it afterwards and expect a clean exit."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    try:
        banner = proc.stdout.readline()
        if not banner.startswith("zenhire-mock serving "):
            proc.kill()
            _, err = proc.communicate(timeout=30)
            raise AssertionError(f"no banner: {banner!r}\n{err[-3000:]}")
        yield banner.split()[2]
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        try:
            _, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def dockerignored(relpath: str, patterns: list[str]) -> bool:
    """Whether .dockerignore leaves ``relpath`` out of the build context (Docker's rules for the
    pattern kinds used there: root-anchored names and globs, and ``**/`` at any depth)."""
    parts = relpath.split("/")
    for pattern in patterns:
        if pattern.startswith("**/"):
            if any(fnmatch.fnmatch(part, pattern[3:]) for part in parts):
                return True
        elif fnmatch.fnmatch(relpath, pattern) or fnmatch.fnmatch(parts[0], pattern):
            return True
    return False
