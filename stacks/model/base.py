"""The smallest shared pieces of the model: the strict base of every section and the shapes several sections use.

Owns: ``Strict`` (frozen, unknown keys rejected), ``Resources`` and the quantity patterns, ``ReplicationPolicy``,
the DNS name patterns several sections check their names against, and ``dns_label`` (the one message for a name
that must be a DNS label). Every other model module builds on this one, which imports nothing of the project.

Deliberately not here: any rule or any section with a meaning of its own.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

QUANTITY_RE = re.compile(r"^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$")
CPU_RE = re.compile(r"^([0-9]+m|[0-9]+(\.[0-9]+)?)$")
DNS1123_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
DNS_NAME_RE = re.compile(r"^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class Strict(BaseModel):
    """Base of every section: frozen, unknown keys rejected, values validated on assignment."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True, use_enum_values=False)


class ReplicationPolicy(StrEnum):
    IDENTITY = "identity"
    PREFIXED = "prefixed"


class Resources(Strict):
    cpu: str = Field(default="1", pattern=CPU_RE.pattern, description="CPU request (and limit) per pod.")
    memory: str = Field(default="4Gi", pattern=QUANTITY_RE.pattern, description="Memory request and limit per pod.")


def dns_label(value: str, what: str) -> str:
    if not DNS1123_LABEL_RE.fullmatch(value) or len(value) > 63:
        raise ValueError(f"{what} {value!r} must be a lowercase DNS label: a-z, 0-9 and '-', starting and ending alphanumeric")
    return value
