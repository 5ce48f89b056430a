"""An engine the product does not ship, added as ``components.variants`` says: its module and one line.

Owns: the proof that the registry is the only place that knows which engines exist — the toy engine of
``tests/toy_engine.py`` takes the MirrorMaker 2 section's place for one program run (the model's sections are
the model's: a new engine with settings of its own would add its section in ``stacks.model.replication``), and
the whole estate is planned with it: its resources, its principals in both regions, nothing of MirrorMaker's.

Deliberately not here: the layout rules (``tests/test_layout.py``), the real engines (their own tests).
"""

from __future__ import annotations

from components import access, variants


def test_a_toy_engine_registered_by_one_line_is_planned_in_place_of_mirrormaker(program, monkeypatch):
    monkeypatch.setitem(variants.ENGINES, "mirrormaker2", "tests.toy_engine")
    rec = program("stacks/dev.yaml")
    t = rec.topology
    toy = [r for r in rec.of_type("kubernetes:core/v1:ConfigMap") if r.name.startswith("toy-")]
    assert [(r.name, r.inputs["data"]["topics"]) for r in toy] == [("toy-us-east-1-to-us-west-2", "orders,payments")]
    assert rec.of_type("kubernetes:kafka.strimzi.io/v1:KafkaMirrorMaker2") == []
    for region, ops in (("us-east-1", ["Describe", "Read"]), ("us-west-2", ["Describe", "Write"])):
        (toy_principal,) = [p for p in access.principals_in(t, region) if p.kind == "toy"]
        assert {tuple(a["operations"]) for a in toy_principal.acls or []} == {tuple(ops)}
    users = [r for r in rec.of_type("kubernetes:kafka.strimzi.io/v1:KafkaUser") if r.name.endswith("toy-us-east-1-to-us-west-2")]
    assert len(users) == 2  # the flavor created its principal on both sides, asking the engine through the seam
    assert rec.outputs["flows"] == ["us-east-1 -> us-west-2"]
