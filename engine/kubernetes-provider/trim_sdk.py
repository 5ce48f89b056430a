"""Trims the Kubernetes Go SDK that pulumi-resource-kubernetes compiles in, to the part the provider needs.

Usage: python3 trim_sdk.py SDK_COPY   (a writable copy of github.com/pulumi/pulumi-kubernetes/sdk/v4, which
engine/build.sh puts beside the provider's wrapper and points a ``replace`` at).

Why: the provider's ``yaml/v2`` components (ConfigFile, ConfigGroup; Helm v4 and Kustomize v2 reuse them) register
each object through the SDK's ``yaml/v2.RegisterResource``, a switch over every built-in kind that imports the typed
Go SDK of every API group: some sixty of the largest packages there are, about a third of the provider's cold
build (8-10 minutes on 2 cores) for structs whose only use there is to receive the registered object's outputs.
This rewrites that one function to register every kind under the same type token (``kubernetes:<group/version>:
<Kind>``, ``core/v1`` for the core group, exactly the tokens of the switch) with the SDK's untyped
``apiextensions.CustomResource``, which is what the switch already does for any kind it does not list (every
custom resource). The engine sees the same resources, URNs and inputs; the component's Go-side output structs are
untyped, which nothing in the provider reads. Nothing else in the SDK is changed.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

IMPORTS = """import (
\t"fmt"

\t"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
\t"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)
"""


def trim(sdk: Path) -> None:
    kinds = sdk / "go" / "kubernetes" / "yaml" / "v2" / "kinds.go"
    src = kinds.read_text()
    typed = re.findall(r"\tvar res [a-z0-9]+\.[A-Za-z0-9]+\n", src)
    if len(typed) < 100:  # the switch has about 160 cases: anything else is a different SDK than this was written for
        sys.exit(f"trim_sdk.py: {kinds} has {len(typed)} typed registrations; the SDK changed, review this script")
    src = re.sub(r"\tvar res [a-z0-9]+\.[A-Za-z0-9]+\n", "\tvar res apiextensions.CustomResource\n", src)
    src, n = re.subn(r"import \(\n.*?\n\)\n", IMPORTS, src, count=1, flags=re.S)
    if n != 1:
        sys.exit(f"trim_sdk.py: no import block in {kinds}")
    kinds.chmod(0o644)
    kinds.write_text(src)


if __name__ == "__main__":
    trim(Path(sys.argv[1]))
