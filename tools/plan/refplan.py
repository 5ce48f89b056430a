"""Planning a stack file as a git ref had it, with that ref's own code: the base side of a pull-request diff.

Owns: a throwaway ``git worktree`` of the ref (detached, in a temporary directory, always removed), running
the ref's own program under the ref's own mocks there (a separate Python process, so today's modules are not
the ones imported) and reading its registrations back. A change to a component (a broker default, a label)
then shows in the diff of a stack file that did not change, which planning both sides with today's code hides.

Deliberately not here: the diff itself (``tools.plan.diff``, run by ``tools.plan.cli``); the stack file's
validation rules (today's loader still reads the base file, so a file today's rules reject is reported as such).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from stacks.loader import Problem, TopologyError, load_topology
from tools.plan.harness import Recording, Registration

# Runs inside the ref's worktree with the ref's code: its harness, its program, its mocks. A ref from before tools/
# was grouped by job (issue 27) has its harness at tools/harness.py: a pull request's base may be such a ref.
_DUMP = """
import dataclasses, json, sys
from stacks.loader import load_topology
try:
    from tools.plan.harness import run_program
except ImportError:
    from tools.harness import run_program
path = sys.argv[1]
rec = run_program(path, load_topology(path))
json.dump({"registrations": [dataclasses.asdict(r) for r in rec.registrations], "outputs": rec.outputs,
           "secrets": sorted(rec.secrets)}, sys.stdout)
"""


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True, cwd=cwd).stdout


def _fail(spec: str, message: str) -> TopologyError:
    return TopologyError(spec, [Problem("", message)])


def recording_at(spec: str, workdir: Path) -> Recording:
    """``spec`` is ``GIT_REF:path``: the ref's code's recording of the ref's file (copied into ``workdir``)."""
    ref, _, path = spec.partition(":")
    try:
        top = Path(_git("rev-parse", "--show-toplevel").strip())
        commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}").strip()
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        stderr = getattr(exc, "stderr", "") or str(exc)
        raise _fail(spec, f"cannot read it from git ({stderr.strip()}); check the ref and path") from None
    keep = workdir / f"{ref.replace('/', '_')}-{Path(path).name}"
    with tempfile.TemporaryDirectory(prefix="kmr-worktree-") as tmp:
        tree = Path(tmp) / "base"
        _git("worktree", "add", "--detach", "--quiet", str(tree), commit, cwd=top)
        try:
            stack_file = tree / path
            if not stack_file.is_file():
                raise _fail(spec, f"{path} does not exist at {ref}; check the ref and path")
            keep.write_bytes(stack_file.read_bytes())
            proc = subprocess.run([sys.executable, "-c", _DUMP, path], cwd=tree, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                raise _fail(spec, f"the code at {ref} could not plan {path}:\n{proc.stderr.strip()[-2000:]}")
            data = json.loads(proc.stdout)
        finally:
            _git("worktree", "remove", "--force", str(tree), cwd=top)
    topology = load_topology(str(keep))
    fields = {f.name for f in dataclasses.fields(Registration)}
    registrations = [Registration(**{k: v for k, v in r.items() if k in fields}) for r in data["registrations"]]
    outputs: dict[str, Any] = data["outputs"]
    return Recording(topology=topology, registrations=registrations, outputs=outputs, secrets=set(data["secrets"]))
