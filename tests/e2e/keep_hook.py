"""Test support: a ``--hook`` whose ``close-listener`` stops new connections but keeps the ones already made
(``closed-keep`` in the load balancer's control file): what closing a listener with a security-group change, or
by deregistering targets that drain their connections, does. Every other action is ``tests.e2e.hook``'s.

Deliberately not here: judging what the tool does with such a close (``test_clients_moved.py``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.e2e import hook


def main(argv: list[str]) -> int:
    action, subject = argv
    if action == "close-listener":
        (Path(os.environ["KMR_E2E_RUN"]) / f"lb-{subject}.ctl").write_text("closed-keep")
        return 0
    return hook.main(argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
