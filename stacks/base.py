"""The smallest shared pieces of the model: the strict base of every section and the shapes several sections use.

Owns: ``Strict`` (frozen, unknown keys rejected), ``Resources`` and the quantity patterns, ``ReplicationPolicy``.
They live apart from ``stacks.model`` only so that ``stacks.replication`` can build on them without importing
the whole model (which imports it back); ``stacks.model`` re-exports every name here.

Deliberately not here: any rule or any section with a meaning of its own.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

QUANTITY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$")
CPU_RE = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$")


class Strict(BaseModel):
    """Base of every section: frozen, unknown keys rejected, values validated on assignment."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, use_enum_values=False)


class ReplicationPolicy(StrEnum):
    IDENTITY = "identity"
    PREFIXED = "prefixed"


class Resources(Strict):
    cpu: str = Field(default="1", pattern=CPU_RE.pattern, description="CPU request (and limit) per pod.")
    memory: str = Field(default="4Gi", pattern=QUANTITY_RE.pattern, description="Memory request and limit per pod.")
