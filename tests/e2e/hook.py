"""Test support: ``tools.failover``'s ``--hook`` for the end-to-end estate: ``python -m tests.e2e.hook ACTION SUBJECT``.

Owns: the platform actions the tool asks for, done on the processes of one estate (its run directory in
``KMR_E2E_RUN``): ``close-listener``/``open-listener REGION`` write the region's load-balancer control file;
``stop-flow``/``start-flow NAME`` stop or start the MirrorMaker process of a flow from its rendered
``mm2.properties`` (the command the estate wrote beside it). It only acts: the tool judges the result by
reading back. In production these are Kubernetes changes (``tools.switchover`` prints them).

Deliberately not here: starting the estate (``tests.e2e.estate``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def _stop(pid_file: Path) -> None:
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pid_file.unlink()
        return
    for _ in range(300):  # 30 s for MirrorMaker to commit its positions and leave its group
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        os.killpg(pid, signal.SIGKILL)
    pid_file.unlink()


def main(argv: list[str]) -> int:
    action, subject = argv
    run = Path(os.environ["KMR_E2E_RUN"])
    if action in ("close-listener", "open-listener"):
        (run / f"lb-{subject}.ctl").write_text("closed" if action == "close-listener" else "open")
        return 0
    flow = run / "flows" / subject
    if action == "stop-flow":
        _stop(flow / "pid")
        return 0
    if action == "start-flow":
        if (flow / "pid").exists():
            return 0
        cmd = json.loads((flow / "cmd.json").read_text())
        with (flow / "stdout.log").open("ab") as out:
            p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        (flow / "pid").write_text(str(p.pid))
        return 0
    print(f"unknown action {action}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
