"""``python -m tools.plan``: the command of ``tools.plan.cli``, with its exit status."""

import sys

from tools.plan.cli import main

sys.exit(main())
