"""Finding the real-engine binaries that ``engine/build.sh`` (``make engine``) builds and caches, and building
them beside the other tests.

Owns: running the (idempotent) build script and reading the manifest it writes last, ``engine.json`` in
``$KMR_ENGINE_DIR`` (default ``~/.cache/kafka-multiregion``); with ``KMR_ENGINE_BUILD=background`` (``make test``,
``make test-all``), starting that build once when the test run starts, from the controlling pytest process (never
from an xdist worker), with its log and exit code in ``$KMR_ENGINE_DIR/build.log`` and ``build.rc``, and waiting
for it from the worker that runs the real-engine tests. Deliberately not here: building (the script), and
deciding to skip or fail (``conftest``).

Why in the background: the build is 30-40 minutes of compiling on a cold machine and a hash check on a warm one.
Run first, all of it adds to a cold ``make test``; run beside the Kafka and unit tests (``nice``d by the script,
so their timing is not the build's), it only delays the real-engine tests, which wait for it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "engine" / "build.sh"
REQUEST = "KMR_ENGINE_BUILD"  # "background": this run builds the engine beside the tests
STARTED = "KMR_ENGINE_BUILD_LOG"  # set by the controller once the build started; the xdist workers inherit it
WAIT_LIMIT = 90 * 60.0  # seconds: a cold build is about 35 minutes on 2 cores; CI's whole run has 90

_background: list[subprocess.Popen[bytes]] = []  # the build this process started, if any


class MissingError(Exception):
    """The binaries are not built and cannot be built here."""


def engine_dir() -> Path:
    return Path(os.environ.get("KMR_ENGINE_DIR") or Path.home() / ".cache" / "kafka-multiregion")


@dataclass(frozen=True)
class Binaries:
    pulumi_root: Path  # holds bin/pulumi (the Automation API's PulumiCommand root)
    pulumi_home: Path  # the plugins, installed by the build script; never the user's ~/.pulumi
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path


def start_background_build() -> None:
    """In the controlling process, when asked and Go is there: start the build, once per run."""
    if os.environ.get(REQUEST) != "background" or STARTED in os.environ or not shutil.which("go"):
        return
    out = engine_dir()
    out.mkdir(parents=True, exist_ok=True)
    log, rc = out / "build.log", out / "build.rc"
    rc.unlink(missing_ok=True)
    # The shell around the script writes its exit code under a temporary name first: a reader never sees half of it.
    script = f'"{BUILD}" >"{log}" 2>&1; echo $? >"{rc}.tmp"; mv "{rc}.tmp" "{rc}"'
    _background.append(subprocess.Popen(["sh", "-c", script], stdin=subprocess.DEVNULL, start_new_session=True))
    os.environ[STARTED] = str(log)


def finish_background_build() -> None:
    """In the controlling process, when the run ends: a build still going is waited for (stopping it would throw
    its work away), saying so."""
    for build in _background:
        if build.poll() is None:
            print(f"\nwaiting for the engine build to finish (log: {os.environ.get(STARTED)})", flush=True)
            build.wait()


def _wait_for_background_build() -> None:
    log = Path(os.environ[STARTED])
    rc = log.with_name("build.rc")
    deadline = time.monotonic() + WAIT_LIMIT
    while not rc.exists():
        if time.monotonic() > deadline:
            raise MissingError(f"engine/build.sh still running after {WAIT_LIMIT / 60:.0f} minutes; see {log}")
        time.sleep(1)
    code = rc.read_text().strip()
    if code != "0":
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:]) if log.exists() else ""
        raise MissingError(f"engine/build.sh failed (exit {code}); {log}:\n{tail}")


def binaries(build: bool = True) -> Binaries:
    """Build what is missing, or wait for the background build (a warm run takes seconds), then the paths of
    everything."""
    if STARTED in os.environ:
        _wait_for_background_build()
    elif build and shutil.which("go"):
        proc = subprocess.run([str(BUILD)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise MissingError(f"engine/build.sh failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    manifest = engine_dir() / "engine.json"
    if not manifest.exists():
        raise MissingError(f"{manifest} does not exist: run `make engine` (needs Go and the Go module proxy)")
    data = json.loads(manifest.read_text())
    found = Binaries(
        pulumi_root=Path(data["pulumi_root"]),
        pulumi_home=Path(data["pulumi_home"]),
        etcd=Path(data["etcd"]),
        kube_apiserver=Path(data["kube_apiserver"]),
        kube_controller_manager=Path(data["kube_controller_manager"]),
    )
    for path in (found.pulumi_root / "bin" / "pulumi", found.etcd, found.kube_apiserver, found.kube_controller_manager):
        if not os.access(path, os.X_OK):
            raise MissingError(f"{path} is missing: run `make engine`")
    return found
