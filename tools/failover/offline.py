"""``tools.failover --offline``: what a verb would turn and what each name would then answer, from the stack alone.

Owns: the Route53 zone a stack declares, as ``tools.failover.zone.read`` would return it right after ``pulumi up``
(no AWS call, no credentials): from a recording of the program under Pulumi mocks (``tools.plan.harness``; the CLI
makes it), its declared health checks and records go through ``tools.failover.route53``'s translation (the same calls the
moto-server tests seed a zone with), every switch on, and every endpoint observed healthy unless named down
(``--down REGION``); and that zone with a verb's changes applied (``after``) as the live tool applies them.
``tools.failover`` plans, refuses and prints on it exactly as on Route53 read back.

Deliberately not here: deciding or printing anything (the verbs, the answer rules and the output are the live
tool's, unchanged: ``tools.failover``, ``tools.failover.actions``, ``tools.failover.answer``), and what the real
zone holds (switches turned off earlier, hand edits, real health): ``status`` reads that.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from components.dns_records import TAG_SWITCHED_OFF, CheckRef, CheckRole
from tools.failover import route53
from tools.failover.actions import Change
from tools.failover.zone import Check, Snapshot
from tools.plan.harness import Recording

ZONE_ID = "not read: as the stack declares it"


def declared_zone(rec: Recording, down: Collection[str] = ()) -> Snapshot:
    """The zone right after ``pulumi up`` of the recorded program: what Route53 would return for it, every switch on,
    each endpoint observed healthy unless its region is in ``down``."""
    env = rec.topology.environment
    checks: dict[str, Check] = {}
    for check_id, declared, tag_list in route53.health_check_calls(rec):
        tags = {t["Key"]: t["Value"] for t in tag_list}
        ref = CheckRef.from_tags(tags, env)
        # A created check is enabled and not inverted (Route53's defaults, which a read returns).
        config = {**declared["HealthCheckConfig"], "Inverted": False, "Disabled": False}
        observed = None
        if ref is not None and ref.role is CheckRole.ENDPOINT:
            observed = ref.region not in down
        checks[check_id] = Check(check_id, ref, config, tags, observed)
    records = tuple(
        {**change["ResourceRecordSet"], "Name": change["ResourceRecordSet"]["Name"].rstrip(".")}
        for change in route53.record_changes(rec, {i: i for i in checks})
    )
    return Snapshot(ZONE_ID, records, checks)


def after(snap: Snapshot, changes: list[Change], mark: str) -> Snapshot:
    """The zone once ``changes`` are applied as the live tool applies them: a switch turned off inverted and
    marked, one turned on un-inverted and unmarked."""
    turned = {c.switch.check.id: c.off for c in changes}
    checks: dict[str, Check] = {}
    for i, c in snap.checks.items():
        if i not in turned:
            checks[i] = c
            continue
        tags: Mapping[str, str] = {k: v for k, v in c.tags.items() if k != TAG_SWITCHED_OFF}
        if turned[i]:
            tags = {**tags, TAG_SWITCHED_OFF: mark}
        checks[i] = Check(c.id, c.ref, {**c.config, "Inverted": turned[i]}, tags, c.observed)
    return Snapshot(snap.zone_id, snap.records, checks)
