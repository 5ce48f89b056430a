"""Kafka's own code as the judge: what MirrorMaker 2 will really copy, and which config keys exist.

``tests/kafka_facts/MirrorSelection.java`` builds each flow's topic filter and replication policy from the
configuration we render (so the parsing of the pattern settings, the regex dialect, what counts as internal,
cycle detection and the identity policy's special names are Kafka 4.3.1's) and lists what it would copy out of
everything that exists on the source cluster. It must be exactly what our flow plans say: nothing skipped
silently, nothing extra. The shipped files and generated topologies of all four architectures are judged in
one JVM run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from components.engines.mirrormaker2 import bodies as mirror
from components.engines.mirrormaker2 import plan as mirror_plan
from stacks import naming
from stacks.loader import TopologyError, load_topology, validate_data
from stacks.model import KAFKA_KEYS_FILE, Topology
from tests.conftest import MM2_FILES, ROOT, raw
from tests.generated import topologies

FACTS = ROOT / "tests/kafka_facts"


def _java(libs: Path, program: str, stdin: str = "") -> str:
    result = subprocess.run(
        ["java", "-cp", f"{libs}/*", str(FACTS / program)],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _visible(topic: str, acls: list[dict]) -> bool:
    """Whether a principal can see a topic at all (any allowed operation on it implies Describe in Kafka)."""
    for acl in acls:
        res = acl["resource"]
        if acl["type"] != "allow" or res["type"] != "topic":
            continue
        name = res["name"]
        if name in ("*", topic) or (res["patternType"] == "prefix" and topic.startswith(name)):
            return True
    return False


def _flows(label: str, t: Topology) -> tuple[list[dict], dict[str, dict[str, str]]]:
    """The flows as MirrorMaker's source connector is configured, and what our plans say each copies."""
    flows, expected = [], {}
    for plan in mirror_plan.flow_plans(t):
        config = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in plan.source_config.items()}
        config["topics"] = plan.topics_pattern  # what Strimzi writes from topicsPattern
        if plan.topics_exclude:
            config["topics.exclude"] = plan.topics_exclude
        fid = f"{label}:{plan.name}"
        # MirrorMaker lists the source's topics as the flow's principal: it only ever sees what its ACLs allow.
        acls = mirror.source_acls(t, plan)
        visible = sorted(name for name in t.topic_census(plan.source) if _visible(name, acls))
        flows.append({"id": fid, "source": plan.source, "target": plan.target, "config": config, "topics": visible})
        expected[fid] = dict(zip(plan.topics, plan.remote_topics, strict=True))
        if t.heartbeats and "heartbeats" in visible:
            expected[fid]["heartbeats"] = f"{plan.source}.heartbeats"
    return flows, expected


def test_mirrormaker_copies_exactly_what_each_flow_plan_says(libs):
    flows: list[dict] = []
    expected: dict[str, dict[str, str]] = {}
    for path in MM2_FILES:  # what MirrorMaker 2 copies: the stacks that run it
        f, e = _flows(path.name, load_topology(path))
        flows += f
        expected.update(e)

    @settings(max_examples=150, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(topologies())
    def collect(data):
        f, e = _flows(f"generated-{len(expected)}", validate_data(data, "<generated>"))
        flows.extend(f)
        expected.update(e)

    collect()
    assert len(flows) > 100
    copied = json.loads(_java(libs, "MirrorSelection.java", json.dumps(flows)))
    wrong = {fid: (copied.get(fid), want) for fid, want in expected.items() if copied.get(fid) != want}
    assert not wrong, json.dumps(dict(list(wrong.items())[:5]), indent=1)


def test_the_config_key_tables_are_what_the_jars_define(libs):
    assert json.loads(_java(libs, "KafkaConfigKeys.java")) == json.loads(KAFKA_KEYS_FILE.read_text())


# Names at and across MirrorMaker 2's naming rules (issue 25), added to a stack of each policy.
NEAR_RULES = {
    "stacks/dev.yaml": ["service-heartbeats", "heartbeats_audit", "xheartbeatsx", "audit.us-west-2.events"],
    "stacks/prod.yaml": ["device-heartbeats", "audit.eu-west-1.events", "audit.us-east-1.events", "eu-west-1-x.events"],
}


def test_the_names_refused_for_mirrormakers_rules_are_exactly_those_kafka_would_not_copy_as_planned(libs, monkeypatch):
    """Each name is either refused by the model, with the MirrorMaker rule it breaks, or copied by Kafka's own
    classes exactly as planned; and every refused one, planned anyway with the two rules switched off, is one Kafka
    really renames or drops (so the rules refuse no more than Kafka does)."""
    accepted: list[dict] = []
    refused: list[dict] = []
    expected: dict[str, dict[str, str]] = {}
    for stack, names in NEAR_RULES.items():
        for name in names:
            data = raw(stack)
            data["topics"][name] = {"partitions": 3, "replication_factor": 1}
            label = f"{stack}:{name}"
            try:
                flows, want = _flows(label, validate_data(data, stack))
                accepted += flows
            except TopologyError as exc:
                assert "MirrorMaker 2" in str(exc), str(exc)
                with monkeypatch.context() as m:  # what we would have planned without the two rules
                    m.setattr(naming, "mm2_identity_renames", lambda topic: False)
                    m.setattr(naming, "mm2_cycle", lambda *args: False)
                    flows, want = _flows(label, validate_data(data, stack))
                refused += [{**f, "refused": name} for f in flows]
            expected.update(want)
    assert accepted and refused
    copied = json.loads(
        _java(
            libs, "MirrorSelection.java", json.dumps([{k: v for k, v in f.items() if k != "refused"} for f in accepted + refused])
        )
    )
    wrong = [f["id"] for f in accepted if copied.get(f["id"]) != expected[f["id"]]]
    assert not wrong, wrong
    names_refused = {f["refused"] for f in refused}
    mishandled = {
        f["refused"]
        for f in refused
        if f["refused"] in expected[f["id"]] and copied.get(f["id"], {}).get(f["refused"]) != expected[f["id"]][f["refused"]]
    }
    assert mishandled == names_refused, (names_refused, mishandled)
