"""Passwords for every SCRAM principal of the environment, generated once and shared by all regions.

Owns: one ``random.RandomPassword`` per principal (application users, the admin and operator principals,
each MirrorMaker flow, each heartbeat Connect), wrapped as Pulumi secrets. The same password is used in every
region where the principal exists, so credentials survive a failover.

Deliberately not here: where the passwords go (``components.flavors.strimzi.users`` writes them into each region).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.access import all_principals
from stacks.model import Topology


@dataclass(frozen=True)
class CredentialsArgs:
    topology: Topology


class Credentials(pulumi.ComponentResource):
    """One secret password per principal."""

    passwords: dict[str, pulumi.Output[str]]
    """Principal name → password (a Pulumi secret)."""

    def __init__(self, name: str, args: CredentialsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:Credentials", name, None, opts)
        self.passwords = {}
        for principal in all_principals(args.topology):
            pw = random.RandomPassword(
                f"{principal}-password",
                random.RandomPasswordArgs(length=32, special=False),
                opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result"]),
            )
            self.passwords[principal] = pulumi.Output.secret(pw.result)
        self.register_outputs({})
