"""The plugin the engine runs for the kafka-multiregion package: ``python provider <engine address> [flags]``
(the Python language host does, as PulumiPlugin.yaml here says). It prints the port it serves on, then serves
``KafkaEstate`` until the engine stops it.

Thin on purpose: it puts the repository root first on the path (in place of this directory: nothing here is
imported by name from there), then hands over to ``components.package.serve``.
"""

import sys
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)

from components.package import serve  # noqa: E402 - importable only once the root is on the path

if __name__ == "__main__":
    serve(sys.argv[1:])
