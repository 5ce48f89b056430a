"""Finding the real-engine binaries that ``engine/build.sh`` (``make engine``) builds and caches.

Owns: running the (idempotent) build script and reading the manifest it writes last, ``engine.json`` in
``$KMR_ENGINE_DIR`` (default ``~/.cache/kafka-multiregion``). Deliberately not here: building (the script),
and deciding to skip or fail (``conftest``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


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


def binaries(build: bool = True) -> Binaries:
    """Build what is missing (a warm run takes seconds), then the paths of everything."""
    if build and shutil.which("go"):
        proc = subprocess.run([str(ROOT / "engine" / "build.sh")], capture_output=True, text=True, check=False)
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
