"""SCRAM users of one region: a password Secret and a KafkaUser with its ACLs for every principal there.

Owns: the Pulumi resources for ``components.access.principals_in`` (application users, the super users,
MirrorMaker flow principals, heartbeat principals) in one region. Passwords come from ``Credentials`` and
are the same in every region.

Deliberately not here: generating passwords, deciding ACLs (``components.access``, ``components.engines.mirrormaker2.bodies``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components import kube
from components.access import principals_in
from components.flavors.strimzi import bodies as strimzi
from components.kube import custom_resource, secret_resource
from stacks.model import Topology


@dataclass(frozen=True)
class RegionalUsersArgs:
    topology: Topology
    region: str
    passwords: dict[str, pulumi.Output[str]]
    kafka: pulumi.Resource  # the region's Kafka resource; users are created once it exists


class RegionalUsers(pulumi.ComponentResource):
    """Every SCRAM principal of one region."""

    usernames: pulumi.Output[list[str]]
    """Names of the KafkaUsers created in this region."""

    def __init__(self, name: str, args: RegionalUsersArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("kafka-multiregion:index:RegionalUsers", name, None, opts)
        t = args.topology
        region = t.region(args.region)
        names = []
        for principal in principals_in(t, args.region):
            body = kube.secret(t, region, strimzi.password_secret(principal.name), "user", ("password",))
            pw = secret_resource(
                f"{name}-{principal.name}-password",
                body,
                {"password": args.passwords[principal.name]},
                # In the Kafka's namespace, which the API server needs to exist first.
                pulumi.ResourceOptions(parent=self, depends_on=[args.kafka]),
            )
            custom_resource(
                f"{name}-{principal.name}",
                strimzi.kafka_user(t, region, principal.name, principal.acls, principal.quotas),
                pulumi.ResourceOptions(parent=self, depends_on=[pw, args.kafka]),
            )
            names.append(principal.name)
        self.usernames = pulumi.Output.from_input(names)
        self.register_outputs({"usernames": self.usernames})
