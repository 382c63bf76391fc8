"""The container image: ``hack/image.sh`` builds the repository's Dockerfile with buildah and smoke-tests it.

The script (run as the test suite would: the current tree, its caches under ``~/.cache/augur/image``)
builds the image on a Debian bookworm base it bootstraps (this machine reaches no container registry) from
a wheelhouse it keeps, checks in the image's container that it runs as 65532:65532, then, on a read-only
bind of the image's root with only ``/tmp`` writable (the chart's ``readOnlyRootFilesystem`` with an
emptyDir at ``/tmp``), that both services import and the entrypoint answers ``operator run --help`` and
``extender run --help``, and that the extender's planner process (a spawned child with shared memory, at
``SCHED_IDLE``) plans one pod there. This test then checks, by itself, what the image declares (user, entrypoint,
command, ports, environment), that ``/tmp`` is there, and that the runtime environment carries no pip,
setuptools or library test suites. Warm (base, wheelhouse and dependency layer cached) it takes about a
minute; a cold build (debootstrap, PyPI) several more, hence the long timeout. Skipped only where buildah
is not installed (``hack/setup.sh`` installs it).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import REPO

TAG = "localhost/augur:dev"
pytestmark = [
    pytest.mark.skipif(
        shutil.which("buildah") is None, reason="buildah is not installed (hack/setup.sh installs it from Debian)"
    ),
    pytest.mark.timeout(2400),  # the first test builds; a cold build bootstraps the base and the wheelhouse
]


@dataclass(frozen=True)
class Built:
    output: str  # hack/image.sh's stdout and stderr
    driver: str  # the storage driver it chose

    def buildah(self, *args: str) -> str:
        env = {**os.environ, "BUILDAH_ISOLATION": "chroot"}
        store = os.environ.get("AUGUR_IMAGE_STORE")  # as hack/image.sh reads it
        roots = ["--root", f"{store}/root", "--runroot", f"{store}/run"] if store else []
        cmd = ["buildah", *roots, "--storage-driver", self.driver, *args]
        return subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture(scope="module")
def built() -> Built:
    """Build and smoke-test the image."""
    run = subprocess.run(
        ["hack/image.sh"], cwd=REPO, capture_output=True, text=True, env={**os.environ, "TAG": TAG}, check=False
    )
    assert run.returncode == 0, f"hack/image.sh failed ({run.returncode}):\n{run.stderr[-4000:]}"
    summary = re.search(r"image localhost/augur:dev: .*; storage (\w+); smoke test passed", run.stdout)
    assert summary, run.stdout[-2000:]
    return Built(run.stdout + run.stderr, summary[1])


@pytest.fixture
def container(built: Built) -> Iterator[str]:
    name = built.buildah("from", "--quiet", TAG).strip()
    try:
        yield name
    finally:
        built.buildah("rm", name)


def test_the_image_builds_and_passes_its_smoke_test(built: Built) -> None:
    assert "smoke test: the image runs as 65532:65532" in built.output
    passed = "smoke test on a read-only root passed (both services import, --help, the planner process plans)"
    assert passed in built.output


def test_the_image_runs_the_operator_as_65532_without_a_shell_entrypoint(built: Built) -> None:
    config = json.loads(built.buildah("inspect", "--type", "image", TAG))["OCIv1"]["config"]
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["/opt/augur/bin/augur"]
    assert config["Cmd"] == ["operator", "run"]
    assert set(config["ExposedPorts"]) == {"8080/tcp", "8081/tcp", "8888/tcp"}
    assert "PYTHONDONTWRITEBYTECODE=1" in config["Env"]


def test_the_runtime_environment_has_no_pip_and_no_test_suites(built: Built, container: str) -> None:
    probe = (
        "import importlib.util as u, json, pathlib, sys, sysconfig\n"
        "site = pathlib.Path(sysconfig.get_paths()['purelib'])\n"
        "tests = [*site.glob('scipy/*/tests'), *site.glob('pandas/tests'), *site.glob('statsmodels/*/tests')]\n"
        "tmp = pathlib.Path('/tmp').stat().st_mode & 0o7777\n"
        "print(json.dumps({'tmp': oct(tmp), 'tools': [m for m in ('pip', 'setuptools', 'wheel') if u.find_spec(m)],\n"
        "                  'tests': sorted(str(p.relative_to(site)) for p in tests), 'prefix': sys.prefix}))"
    )
    out = built.buildah("run", container, "--", "/opt/augur/bin/python3", "-c", probe)
    found = json.loads(out.strip().splitlines()[-1])
    assert found["tools"] == [], f"build tools in the runtime environment: {found['tools']}"
    assert found["tests"] == [], f"test suites left in the image: {found['tests']}"
    assert found["prefix"] == "/opt/augur", out
    assert found["tmp"] == "0o1777", "/tmp must exist, world-writable and sticky (runs without an emptyDir too)"
