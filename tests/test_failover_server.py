"""``python -m tools.failover`` as an operator runs it: a process, over HTTP, against a moto server seeded with
the Route53 the program declares, through a proxy that injects faults, and against zones edited by hand.

After every fault, Route53 read straight from the server (the whole zone: records, checks, each switch's
inversion and mark) is either as it was or as asked, the exit status says which (0 only when as asked), and what
the tool printed as read back is what a fresh ``status`` reads.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.dns_records import TAG_SWITCHED_OFF
from tests.conftest import raw
from tests.failover_zone import Zone
from tests.fault_proxy import ANY_CALL, ANY_READ, LIST_CHECKS, TAG_CHECK, UPDATE_CHECK, FaultProxy, Rule
from tests.moto_server import free_port
from tools.failover import cli as failover
from tools.failover.zone import FailoverError

# ----------------------------------------------------------------------------------------- every architecture

SCENARIOS: dict[str, list[tuple[tuple[str, ...], int, str]]] = {
    "stacks/dev.yaml": [
        (("promote", "us-east-1"), 0, "nothing to change: dev.kafka.example.com answers with us-east-1"),
        (("drain", "us-east-1"), 2, "routes by failover: `drain` does not apply; use promote"),
        (("promote", "us-west-2", "--dry-run"), 0, "would change 1 switch(es)"),
        (("promote", "us-west-2"), 0, "answers with us-west-2: FAILED OVER (intended us-east-1: us-east-1 switched off)"),
        (("promote", "us-west-2"), 0, "nothing to change: dev.kafka.example.com answers with us-west-2"),
        (("rollback",), 0, "dev.kafka.example.com answers with us-east-1: as intended"),
        (("drill", "promote", "us-west-2"), 0, "drill passed"),
    ],
    "stacks/prod.yaml": [
        (("promote", "eu-west-1"), 2, "routes by latency: `promote` does not apply; use drain or route-all"),
        (("drain", "eu-west-1"), 0, "prod.kafka.example.com answers with ap-southeast-1, us-east-1: FAILED OVER"),
        (("route-all", "us-east-1"), 0, "prod.kafka.example.com answers with us-east-1: FAILED OVER"),
        (("rollback",), 0, "prod.kafka.example.com answers with ap-southeast-1, eu-west-1, us-east-1: as intended"),
        (("drill", "drain", "us-east-1"), 0, "drill passed"),
    ],
    "examples/aggregation-hub.yaml": [
        (("status",), 0, "iot.kafka.example.com answers with us-east-2: as intended"),
        (("promote", "us-east-1"), 4, "aggregation-hub has nothing to fail over"),
        (("drill", "drain", "us-east-2"), 4, "aggregation-hub has nothing to fail over"),
    ],
    "examples/partitioned-domain.yaml": [
        (("status",), 0, "retail.kafka.example.com [EU] answers with eu-central-1, eu-west-1: as intended"),
        (("drain", "eu-west-1", "--domain", "us"), 4, "eu-west-1 answers none of the failover names"),
        (("drain", "eu-west-1", "--domain", "eu"), 0, "retail.kafka.example.com [EU] answers with eu-central-1: FAILED OVER"),
        (("drain", "eu-central-1"), 4, "afterwards eu.retail.kafka.example.com would answer with eu-central-1, eu-west-1 (every record unhealthy)"),
        (("rollback",), 0, "eu.retail.kafka.example.com answers with eu-central-1, eu-west-1: as intended"),
        (("drill", "route-all", "us-west-2", "--domain", "us"), 0, "drill passed"),
    ],
}  # fmt: skip


@pytest.mark.parametrize("stack", list(SCENARIOS))
def test_every_architecture_fails_over_and_back_or_says_why_it_cannot(stack, zone):
    z = zone(stack)
    seeded = z.switches()
    for args, code, expected in SCENARIOS[stack]:
        got, text, _ = z.run(*args)
        assert (got, expected) == (code, expected) and expected in text, f"{' '.join(args)}:\n{text}"
    assert z.switches() == seeded, "every scenario ends where it started"


# ----------------------------------------------------------------------------------------- --offline

# Per stack, verbs (with the regions taken as down) whose offline answer must be what the seeded zone answers.
OFFLINE_PROBES: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "stacks/dev.yaml": [(("status",), ("us-east-1",)), (("promote", "us-west-2"), ()), (("promote", "us-west-2"), ("us-west-2",))],
    "stacks/prod.yaml": [(("drain", "eu-west-1"), ()), (("route-all", "us-east-1"), ("us-east-1",))],
    "examples/aggregation-hub.yaml": [(("status",), ())],
    "examples/partitioned-domain.yaml": [
        (("drain", "eu-west-1", "--domain", "eu"), ("us-west-2",)), (("drain", "eu-central-1"), ()),
    ],
}  # fmt: skip


def _offline(z: Zone, args: tuple[str, ...], down: tuple[str, ...]) -> tuple[int, str]:
    """``--offline`` in this process, on the same recording the zone was seeded from (the tool runs it itself)."""
    lines: list[str] = []
    argv = [*args, "--stack", str(z.stack), "--offline", *(a for r in down for a in ("--down", r))]
    try:
        code = failover.run(argv, lines.append, record=lambda path, topology: z.rec)
    except FailoverError as exc:
        code, lines = exc.status, [*lines, f"error: {exc}"]
    return code, "\n".join(lines)


@pytest.mark.parametrize("stack", list(OFFLINE_PROBES))
def test_offline_answers_are_what_the_seeded_zone_answers_after_the_same_verb(stack, zone):
    for args, down in OFFLINE_PROBES[stack]:
        z = zone(stack)  # freshly seeded: every switch on, as --offline assumes
        z.proxy.reset(down={z.check_id("endpoint", r) for r in down})
        live_code, live, _ = z.run(*args)
        offline_code, offline = _offline(z, args, down)
        errors = [[line for line in text.splitlines() if line.startswith("error: ")] for text in (live, offline)]
        assert (offline_code, z.answers(offline), errors[1]) == (live_code, z.answers(live), errors[0]), (
            f"{' '.join(args)} down={down}:\n{live}\n--- offline:\n{offline}"
        )
        assert z.answers(live) or errors[0], f"{' '.join(args)}: nothing compared:\n{live}"


def test_a_stack_without_load_balancers_fails_over_through_its_override_names(zone, tmp_path):
    data = raw("stacks/dev.yaml")
    for i, region in enumerate(data["regions"]):
        region["kafka"]["listener_type"] = "nodeport"
        region["endpoint_override"] = f"kafka-{i}.nodes.example.net"
    path = tmp_path / "nodeport.yaml"
    path.write_text(yaml.safe_dump(data))
    z = zone(path)
    code, text, _ = z.run("promote", "us-west-2")
    assert code == 0 and "answers with us-west-2: FAILED OVER" in text, text


# ----------------------------------------------------------------------------------------- real health


def test_with_the_primary_down_promote_moves_the_name_and_keeps_it_there_until_the_primary_is_back(zone):
    z = zone("stacks/dev.yaml")
    primary = z.check_id("endpoint", "us-east-1")
    z.proxy.reset(down={primary})
    code, text, _ = z.run("status")
    assert (
        "us-east-1: endpoint DOWN" in text
        and "answers with us-west-2: FAILED OVER (intended us-east-1: us-east-1 is down)" in text
    )
    code, text, _ = z.run("promote", "us-west-2")
    assert code == 0 and "answers with us-west-2: FAILED OVER" in text, text
    z.proxy.reset()  # the primary comes back: the switch keeps clients on the secondary
    assert "answers with us-west-2: FAILED OVER (intended us-east-1: us-east-1 switched off)" in z.run("status")[1]
    z.proxy.reset(down={primary})
    code, text, _ = z.run("rollback")
    assert code == 4 and "rollback refused: us-east-1's endpoint check reports it down" in text, text
    z.proxy.reset()
    assert z.run("rollback")[0] == 0


def test_with_the_secondary_down_promote_refuses_and_changes_nothing(zone):
    z = zone("stacks/dev.yaml")
    before = z.switches()
    z.proxy.reset(down={z.check_id("endpoint", "us-west-2")})
    code, text, _ = z.run("promote", "us-west-2")
    assert code == 4 and "us-west-2's endpoint check reports it down" in text, text
    assert z.switches() == before


# ----------------------------------------------------------------------------------------- hand edits


def _upsert(z: Zone, set_id: str, **changes: Any) -> None:
    zid = z.r53.list_hosted_zones_by_name(DNSName="kafka.example.com")["HostedZones"][-1]["Id"]
    rrs = z.r53.list_resource_record_sets(HostedZoneId=zid)["ResourceRecordSets"]
    (rr,) = [r for r in rrs if r.get("SetIdentifier") == set_id]
    rr = {k: v for k, v in {**rr, **changes}.items() if v is not None}
    z.r53.change_resource_record_sets(HostedZoneId=zid, ChangeBatch={"Changes": [{"Action": "UPSERT", "ResourceRecordSet": rr}]})


def _stale_switch(z: Zone) -> None:
    made = z.r53.create_health_check(CallerReference="stale", HealthCheckConfig={"Type": "CALCULATED", "HealthThreshold": 0})
    tags = z._tags(z.check_id("switch", "us-east-1"))
    z.r53.change_tags_for_resource(
        ResourceType="healthcheck",
        ResourceId=made["HealthCheck"]["Id"],
        AddTags=[{"Key": k, "Value": v} for k, v in tags.items()],
    )


HAND_EDITS: dict[str, tuple[Callable[[Zone], None], str]] = {
    "health check removed from a record": (
        lambda z: _upsert(z, "us-east-1-primary", HealthCheckId=None),
        "record dev.kafka.example.com (us-east-1-primary): health check is None, the stack declares",
    ),
    "health checks swapped": (
        lambda z: _upsert(z, "us-east-1-primary", HealthCheckId=z.check_id("gate", "us-west-2")),
        "record dev.kafka.example.com (us-east-1-primary): health check is",
    ),
    "record value edited": (
        lambda z: _upsert(z, "us-west-2-secondary", ResourceRecords=[{"Value": "standby.example.net"}]),
        "record dev.kafka.example.com (us-west-2-secondary): value is ['standby.example.net'], the stack declares",
    ),
    "routing policy edited": (
        lambda z: _upsert(z, "us-west-2-secondary", Failover="PRIMARY"),
        "failover is 'PRIMARY', the stack declares 'SECONDARY'",
    ),
    "stale duplicate check with the same tags": (_stale_switch, "ambiguous: health checks"),
    "endpoint check inverted by hand": (
        lambda z: z.r53.update_health_check(HealthCheckId=z.check_id("endpoint", "us-east-1"), Inverted=True),
        "it was inverted by hand; un-invert it: aws route53 update-health-check --health-check-id",
    ),
}  # fmt: skip


@pytest.mark.parametrize("edit", list(HAND_EDITS))
def test_a_zone_edited_by_hand_is_refused_with_the_difference(edit, zone):
    z = zone("stacks/dev.yaml")
    change, difference = HAND_EDITS[edit]
    change(z)
    before = z.switches()
    code, text, _ = z.run("promote", "us-west-2")
    assert code == 3 and difference in text and "the zone does not match" in text, text
    assert z.switches() == before


def test_a_private_zone_of_the_same_name_is_not_the_stacks(zone):
    z = zone("stacks/dev.yaml", private_twin=True)
    code, text, _ = z.run("promote", "us-west-2")
    assert code == 0 and "answers with us-west-2: FAILED OVER" in text, text


def test_rollback_undoes_only_what_the_tool_did(zone):
    z = zone("stacks/prod.yaml")
    by_hand = z.check_id("switch", "ap-southeast-1")
    z.r53.update_health_check(HealthCheckId=by_hand, Inverted=True)
    assert z.run("drain", "eu-west-1")[0] == 0
    code, text, _ = z.run("rollback")
    assert code == 0 and "left alone: ap-southeast-1's switch for prod.kafka.example.com was turned off by hand" in text, text
    assert "prod.kafka.example.com answers with eu-west-1, us-east-1: FAILED OVER" in text
    assert z.switches()[by_hand] == (True, False)
    code, text, _ = z.run("route-all", "ap-southeast-1")
    assert code == 4 and "turned off by hand, not by this tool" in text, text


# ----------------------------------------------------------------------------------------- faults

ORIGINAL, INTENDED, EITHER, PRINTED = "original", "intended", "either", "printed"

# route-all us-east-1 on prod turns two switches off: tag, invert, tag, invert. An answer lost after Route53
# applied the change is not a failure: the read-back decides.
FAULTS: dict[str, tuple[list[Rule], int, str, str]] = {
    "answer lost once, botocore retries": ([Rule("lose", UPDATE_CHECK)], 0, INTENDED, "done; Route53 read back"),
    "every answer lost after the change was applied": (
        [Rule("lose", UPDATE_CHECK, times=0)], 0, INTENDED, "invert it: the connection to Route53 broke before an answer arrived; read back, it is applied",
    ),
    "the read after the change lost: the change stands": (
        [Rule("lose", LIST_CHECKS, nth=2, times=3)], 0, INTENDED, "read back, Route53 holds what was asked",
    ),
    "the second change refused": ([Rule("refuse", UPDATE_CHECK, nth=2)], 5, ORIGINAL, "AWS refused UpdateHealthCheck: AccessDenied"),
    "the second change throttled on every attempt": (
        [Rule("refuse", UPDATE_CHECK, nth=2, times=3, status=400, code="Throttling")], 5, ORIGINAL, "AWS throttled UpdateHealthCheck",
    ),
    "every change refused from the second on, the undo too": (
        [Rule("refuse", UPDATE_CHECK, nth=2, times=0)], 7, "printed", "undoing it failed",
    ),
    "a tag write refused": ([Rule("refuse", TAG_CHECK, nth=2)], 5, ORIGINAL, "Route53 is as it was"),
    "garbage instead of an answer": ([Rule("garbage", UPDATE_CHECK, nth=2)], 6, ORIGINAL, "something that is not its API"),
    "an HTML page (200) for the change only, its mark left to undo": (
        [Rule("html", UPDATE_CHECK, times=0)], 6, ORIGINAL,
        "answered UpdateHealthCheck with HTTP 200 and a <html> document (text/html; charset=utf-8), not UpdateHealthCheckResponse",
    ),
    "an HTML page (403) for the change: not AWS refusing": (
        [Rule("html", UPDATE_CHECK, times=0, page_status=403)], 6, ORIGINAL, "Route53 answered HTTP 403 without an API error",
    ),
    "an HTML page (200) for every call": (
        [Rule("html", ANY_CALL, times=0)], 6, ORIGINAL, "answered ListHostedZonesByName with HTTP 200 and a <html> document",
    ),
    "the marks acknowledged, never written": (
        [Rule("ack", TAG_CHECK, times=0)], 6, ORIGINAL, "the read-back differs: switch",
    ),
    "a server that never answers a change": ([Rule("hang", UPDATE_CHECK, times=0)], 6, ORIGINAL, "did not answer in time"),
    "a server that never answers a read": ([Rule("hang", ANY_READ, times=0)], 6, ORIGINAL, "did not answer in time"),
    "garbage to the first read": ([Rule("garbage", LIST_CHECKS)], 6, ORIGINAL, "something that is not its API"),
    "server gone mid-command": ([Rule("die", UPDATE_CHECK, nth=2)], 7, EITHER, "could not be read back"),
}  # fmt: skip


@pytest.mark.parametrize("fault", list(FAULTS))
def test_after_a_fault_route53_is_as_it_was_or_as_asked_and_the_tool_says_which(fault, zone, server):
    rules, code, outcome, said = FAULTS[fault]
    z = zone("stacks/prod.yaml")
    rest, original = z.read_back()
    intended = {**original, **{z.check_id("switch", r): (True, True) for r in ("eu-west-1", "ap-southeast-1")}}
    z.proxy.reset(*rules)
    got, text, seconds = z.run("route-all", "us-east-1")
    assert (got, said in text) == (code, True), text
    assert seconds < 25, "every call is bounded"
    assert "no public hosted zone" not in text, "an answer that is not Route53's is not a diagnosis of the zone"
    printed = z.answers(text.split("Route53 read back:" if got == 0 else "Route53 as read back:")[-1])
    if printed:  # what the tool printed as read back is what a fresh read says
        z.proxy.reset()
        assert printed == z.answers(z.run("status")[1])
    if outcome == EITHER:  # the tool could not read back: it says so and prints the command that finishes the job
        assert (
            "whether the change was applied is unknown" in text
            and "to finish what was asked: python -m tools.failover route-all" in text
        )
        z.proxy = FaultProxy(server.port)
        z.env["AWS_ENDPOINT_URL"] = z.proxy.url
        assert z.run("route-all", "us-east-1")[0] == 0
        outcome = INTENDED
    if outcome == PRINTED:  # left half-changed, and said so: the printed command returns it to how it was
        assert "to return to how it was: python -m tools.failover rollback" in text
        z.proxy.reset()
        assert z.run("rollback")[0] == 0
        outcome = ORIGINAL
    assert z.read_back() == (rest, original if outcome == ORIGINAL else intended)


# ----------------------------------------------------------------------------------------- marks and rollback


@pytest.mark.parametrize("lost", [UPDATE_CHECK, TAG_CHECK], ids=["un-invert", "unmark"])
def test_a_switch_turned_on_through_lost_answers_loses_its_mark_and_a_later_hand_off_stays_off(lost, zone):
    """rollback's answers are lost after Route53 applied them; a switch it turned on carries no mark, so when an
    operator later turns it off by hand, the next rollback leaves it off."""
    z = zone("stacks/prod.yaml")
    rest, seeded = z.read_back()
    eu = z.check_id("switch", "eu-west-1")
    assert z.run("drain", "eu-west-1")[0] == 0
    assert z.read_back() == (rest, {**seeded, eu: (True, True)})
    z.proxy.reset(Rule("lose", lost, times=0))
    code, text, _ = z.run("rollback")
    assert code == 0 and "read back, it is applied" in text and "done; Route53 read back" in text, text
    assert z.read_back() == (rest, seeded), "on, and its mark gone"
    z.proxy.reset()
    z.r53.update_health_check(HealthCheckId=eu, Inverted=True)  # an operator turns it off by hand
    code, text, _ = z.run("rollback")
    assert code == 0 and "left alone: eu-west-1's switch for prod.kafka.example.com was turned off by hand" in text, text
    assert z.read_back() == (rest, {**seeded, eu: (True, False)})


def test_rollback_removes_a_leftover_mark_from_a_switch_that_is_on(zone):
    """A mark on a switch that is on (left by an older tool, or by hand) is shown, and rollback removes it before
    a hand inversion could make the switch read as this tool's."""
    z = zone("stacks/prod.yaml")
    rest, seeded = z.read_back()
    eu = z.check_id("switch", "eu-west-1")
    z.r53.change_tags_for_resource(
        ResourceType="healthcheck", ResourceId=eu, AddTags=[{"Key": TAG_SWITCHED_OFF, "Value": "tools.failover drain eu-west-1"}]
    )
    assert "eu-west-1 on (leftover mark 'tools.failover drain eu-west-1': rollback removes it)" in z.run("status")[1]
    code, text, _ = z.run("rollback")
    assert code == 0 and "on: its leftover mark removed" in text, text
    assert z.read_back() == (rest, seeded)


def test_a_switch_turned_on_whose_mark_cannot_be_removed_is_turned_back_off_as_it_was(zone):
    """The un-invert applied, the unmark refused: on with a mark is not what rollback asked, so it is undone
    (exit 5, off and marked, as before) rather than reported done."""
    z = zone("stacks/prod.yaml")
    rest, seeded = z.read_back()
    eu = z.check_id("switch", "eu-west-1")
    assert z.run("drain", "eu-west-1")[0] == 0
    z.proxy.reset(Rule("refuse", TAG_CHECK, times=0))
    code, text, _ = z.run("rollback")
    assert code == 5 and "the change had been applied in part, and is undone" in text, text
    assert z.read_back() == (rest, {**seeded, eu: (True, True)})
    z.proxy.reset()
    assert z.run("rollback")[0] == 0
    assert z.read_back() == (rest, seeded)


def test_a_drill_whose_roll_back_fails_says_so_and_what_to_run(zone):
    z = zone("stacks/dev.yaml")
    original = z.switches()
    z.proxy.reset(Rule("refuse", UPDATE_CHECK, nth=2, times=0))  # the promote goes through, the roll back does not
    code, text, _ = z.run("drill", "promote", "us-west-2")
    assert code == 7 and "drill: rolling back failed" in text and "roll back: python -m tools.failover rollback" in text, text
    z.proxy.reset()
    assert z.run("rollback")[0] == 0
    assert z.switches() == original


def test_a_closed_port_and_a_missing_profile_are_one_line_each(zone):
    z = zone("stacks/dev.yaml")
    closed = {**z.env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}
    code, text, seconds = z.run("status", env=closed)
    assert code == 6 and "cannot reach Route53" in text and seconds < 15, text
    no_profile = {k: v for k, v in z.env.items() if not k.startswith("AWS_")} | {
        "AWS_PROFILE": "kafka-nope",
        "AWS_CONFIG_FILE": os.devnull,
    }
    code, text, _ = z.run("status", env=no_profile)
    assert (
        code == 5 and text.strip() == "error: AWS profile 'kafka-nope' is not configured; set AWS_PROFILE to one in ~/.aws/config"
    )
