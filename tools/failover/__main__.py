"""``python -m tools.failover``: the command of ``tools.failover.cli``, with its exit status."""

import sys

from tools.failover.cli import main

sys.exit(main())
