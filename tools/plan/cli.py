"""Offline plan and pull-request diff: the whole estate previewed without cloud credentials.

    python -m tools.plan STACK_FILE [--out DIR [--force]] [--format text|markdown|json]
    python -m tools.plan --diff OLD NEW [--format text|markdown|json|review] [--fail-on-destructive]
                         [--json FILE] [--full FILE] [--label NAME] [--stack-config FILE] [--max-chars N]

Owns: running the real program (``__main__.py``) under mocks via ``tools.plan.harness`` and presenting what it
registered: a summary by type and region, the component tree, every Kubernetes manifest per region under
``DIR/manifests/<region>/``, Helm releases, DNS records, MirrorMaker 2 flows (also as dedicated-mode
``mm2.properties``), the stack outputs, and a Mermaid diagram. Secrets appear as ``[secret]``; output is
byte-identical between runs. ``--diff`` compares two plans (stack files or ``GIT_REF:path``; OLD ``/dev/null``
for a new stack) and prints the changes by URN (``tools.plan.diff``) or, with ``--format review``, as a reviewer
judges them (``tools.plan.review``: risk first, capped for one pull-request comment; ``--json``/``--full`` write the
complete sections). A ``GIT_REF:path`` side is planned with that ref's own code (``tools.plan.refplan``), so a
component change shows in the diff of an unchanged stack file.

Deliberately not here: validation rules (``stacks``), resource bodies (``components``), the plan value and the
region of a resource (``tools.plan.recorded``), pairing and judging changes (``tools.plan.diff``, ``tools.plan.review``).
Every plan is held to ``tools.plan.invariants`` before anything is shown or written.
``--out`` replaces only a folder this tool wrote (it leaves a marker file), or an empty one, unless ``--force``.
Exit status: 0 done, 2 bad input or a refused ``--out`` (nothing written), 3 destructive changes with ``--fail-on-destructive``,
4 the plan broke an invariant (a defect of kafka-multiregion, not of the topology; nothing written).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

from components import dns_records, variants
from stacks.loader import TopologyError, load_topology
from stacks.model import Topology
from tools.plan import invariants, refplan, review
from tools.plan.diff import check_removals, diff, render_diff
from tools.plan.harness import Recording, Registration, redact, run_program
from tools.plan.recorded import Plan, region_of

SKIP_KINDS_IN_MANIFESTS = {"Release"}
# Written into every --out folder: only a folder carrying it (or holding nothing but what the tool writes) is
# replaced, so a mistyped --out (`examples`, `.`) is refused rather than wiped.
OUT_MARKER = ".kafka-multiregion-plan"
OUT_PARTS = {OUT_MARKER, "manifests", "helm", "mm2", "plan.json", "outputs.json", "summary.json", "tree.txt", "plan.md"}


def manifest_of(reg: Registration) -> dict[str, Any] | None:
    if reg.read or not reg.custom or not reg.type.startswith("kubernetes:") or reg.type.startswith("pulumi:providers"):
        return None
    kind = reg.type.rsplit(":", 1)[1]
    if kind in SKIP_KINDS_IN_MANIFESTS:
        return None
    body = _sorted(redact(reg.inputs))
    body.pop("__defaults", None)
    ordered = {"apiVersion": body.pop("apiVersion", None), "kind": body.pop("kind", kind), "metadata": body.pop("metadata", {})}
    return {**{k: v for k, v in ordered.items() if v is not None}, **dict(sorted(body.items()))}


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


class InvariantError(Exception):
    """A rendered plan broke an invariant: our defect, reported with every broken invariant."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"{source}: {p}" for p in problems)
        super().__init__(
            f"{lines}\nthe plan breaks an invariant of kafka-multiregion (a defect of ours, not of the file); please report it"
        )


def make_plan(stack_file: str) -> Plan:
    topology = load_topology(stack_file)
    return checked(Plan(topology, run_program(stack_file, topology)), stack_file)


def checked(plan: Plan, source: str) -> Plan:
    problems = invariants.check(plan.recording)
    if problems:
        raise InvariantError(source, problems)
    return plan


# ----------------------------------------------------------------------------------------- rendering


def summary(plan: Plan) -> dict[str, Any]:
    by_type: Counter[str] = Counter()
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    for reg in plan.registrations:
        by_type[reg.type] += 1
        by_region[region_of(reg, plan.topology)][reg.type] += 1
    return {
        "environment": plan.topology.environment,
        "architecture": plan.topology.architecture.value,
        "resources": len(plan.registrations),
        "protected": sum(1 for r in plan.registrations if r.protect),
        "by_type": dict(sorted(by_type.items())),
        "by_region": {r: dict(sorted(c.items())) for r, c in sorted(by_region.items())},
        "flows": [f"{p.source} -> {p.target}" for p in variants.engine(plan.topology).flows(plan.topology)],
        **({"tenants": tenants(plan)} if plan.topology.tenants else {}),
    }


def tenant_of(reg: Registration, topology: Topology) -> str | None:
    """The tenant a topic, a user or a user's password Secret belongs to (None for shared resources)."""
    kind = reg.type.rsplit(":", 1)[-1]
    meta = reg.inputs.get("metadata") or {}
    name = str(meta.get("name", ""))
    if kind == "KafkaTopic":
        return topology.tenant_of(str((reg.inputs.get("spec") or {}).get("topicName", name)))
    user = name.removesuffix("-scram-password") if kind == "Secret" else name
    if kind in ("KafkaUser", "Secret") and user in topology.users:
        return topology.users[user].tenant
    return None


def tenants(plan: Plan) -> dict[str, Any]:
    """Per tenant: its prefix, regions, topics, users and how many resources it accounts for."""
    t = plan.topology
    counts = Counter(tenant_of(reg, t) for reg in plan.registrations)
    return {
        name: {
            "prefix": tenant.prefix,
            "regions": sorted(t.tenant_regions(name)),
            "topics": sorted(topic for topic in t.topics if t.tenant_of(topic) == name),
            "users": sorted(u for u, user in t.users.items() if user.tenant == name),
            "resources": counts[name],
        }
        for name, tenant in sorted(t.tenants.items())
    }


def tree(plan: Plan) -> list[str]:
    children: dict[str, list[Registration]] = defaultdict(list)
    for reg in plan.registrations:
        children[reg.parent].append(reg)
    lines: list[str] = []

    def walk(parent: str, depth: int) -> None:
        for reg in sorted(children.get(parent, []), key=lambda r: (r.custom, r.type, r.name)):
            flags = (" [protected]" if reg.protect else "") + (" [read]" if reg.read else "")
            lines.append(f"{'  ' * depth}{reg.type}  {reg.name}{flags}")
            walk(reg.urn, depth + 1)

    urns = {r.urn for r in plan.registrations}
    roots = [p for p in children if p not in urns]
    for root in sorted(roots):
        walk(root, 0)
    return lines


def mermaid(plan: Plan) -> str:
    """Regions, replication flows (labelled by policy) and the shared DNS names (labelled by routing)."""
    t = plan.topology
    lines = ["flowchart LR"]
    for region in t.region_names:
        role = t.region(region).role.value + (", decommissioning" if t.region(region).decommission else "")
        lines.append(f'  {_node(region)}["{region}<br/>{role}"]')
    edges = [f"  {_node(p.source)} -- {p.policy} --> {_node(p.target)}" for p in variants.engine(t).flows(t)]
    names: dict[str, str] = {}
    for rec in dns_records.records(t):
        if rec.name.startswith(tuple(f"{r}." for r in t.region_names)) or rec.name.startswith("broker-"):
            continue  # a region's own names point at that region only
        node = names.setdefault(rec.name, f"dns{len(names)}")
        label = (
            rec.failover
            or (f"latency {rec.latency_region}" if rec.latency_region else None)
            or (f"geo {rec.geolocation}" if rec.geolocation else None)
        )
        tgt = rec.target
        target = names.setdefault(tgt.name, f"dns{len(names)}") if isinstance(tgt, dns_records.DnsName) else _node(tgt.region)
        edges.append(f"  {node} -. {label} .-> {target}" if label else f"  {node} -.-> {target}")
    lines += [f'  {node}(["{name}"])' for name, node in names.items()]
    for name, tenant in (tenants(plan) if t.tenants else {}).items():
        node = f"tenant_{_node(name)}"
        lines += [
            f'  subgraph {node}_group["tenant {name}"]',
            f'    {node}[/"{tenant["prefix"]}*<br/>{len(tenant["topics"])} topics, {len(tenant["users"])} users"/]',
            "  end",
        ]
        edges += [f"  {node} --- {_node(r)}" for r in tenant["regions"]]
    return "\n".join(lines + edges) + "\n"


def _node(region: str) -> str:
    return region.replace("-", "_")


class OutRefusedError(Exception):
    """``--out`` names a folder the tool did not write: replacing it would delete someone's files."""


def check_out(out: Path, *, force: bool = False) -> None:
    """Raise ``OutRefusedError`` unless ``out`` is absent, empty, or a plan folder this tool wrote (or ``force``).

    A folder from before the marker existed is recognised by holding nothing but the tool's own parts.
    """
    if force or not out.exists():
        return
    if not out.is_dir():
        raise OutRefusedError(f"--out {out}: it is a file, not a plan folder; choose another path")
    entries = {p.name for p in out.iterdir()}
    if not entries or OUT_MARKER in entries or (entries <= OUT_PARTS and "plan.json" in entries):
        return
    raise OutRefusedError(
        f"--out {out}: the folder exists and was not written by tools.plan (no {OUT_MARKER} in it); "
        "writing the plan replaces the folder, so choose a new or empty one, or pass --force to replace it"
    )


def write_plan(plan: Plan, out: Path, *, force: bool = False) -> None:
    check_out(out, force=force)
    if out.is_dir():
        shutil.rmtree(out)
    elif out.exists():
        out.unlink()
    (out / "manifests").mkdir(parents=True)
    (out / OUT_MARKER).write_text("written by python -m tools.plan; the next --out here replaces this folder\n")
    for reg in plan.registrations:
        body = manifest_of(reg)
        region = region_of(reg, plan.topology)
        if body is not None:
            folder = out / "manifests" / region
            folder.mkdir(parents=True, exist_ok=True)
            meta = body.get("metadata", {})
            fname = f"{body['kind']}-{meta.get('name', reg.name)}.yaml".lower()
            (folder / fname).write_text(yaml.safe_dump(body, sort_keys=False))
        elif reg.type == "kubernetes:helm.sh/v3:Release":
            folder = out / "helm" / region
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{reg.name}.yaml").write_text(yaml.safe_dump(redact(reg.inputs), sort_keys=True))
    mm2_dir = out / "mm2"
    mm2_dir.mkdir()
    for fname, text in variants.engine(plan.topology).rendered_files(plan.topology).items():
        (mm2_dir / fname).write_text(text)
    state = [
        {
            "urn": r.urn,
            "type": r.type,
            "parent": r.parent,
            "provider": r.provider.split("::")[3] if r.provider.count("::") >= 3 else "",
            "protect": r.protect,
            "retain_on_delete": r.retain_on_delete,
            "inputs": redact(r.inputs),
        }
        for r in plan.registrations
    ]
    (out / "plan.json").write_text(json.dumps(state, indent=1, sort_keys=True) + "\n")
    (out / "outputs.json").write_text(json.dumps(redact(plan.recording.outputs), indent=1, sort_keys=True) + "\n")
    (out / "summary.json").write_text(json.dumps(summary(plan), indent=1, sort_keys=True) + "\n")
    (out / "tree.txt").write_text("\n".join(tree(plan)) + "\n")
    (out / "plan.md").write_text(render(plan, "markdown"))


def render(plan: Plan, fmt: str) -> str:
    s = summary(plan)
    if fmt == "json":
        return json.dumps({"summary": s, "tree": tree(plan)}, indent=1, sort_keys=True) + "\n"
    md = fmt == "markdown"
    out: list[str] = []
    head = f"Plan for {s['environment']} ({s['architecture']}): {s['resources']} resources, {s['protected']} protected"
    out.append(f"## {head}\n" if md else head + "\n")
    out.append("### Resources by region\n" if md else "Resources by region:")
    for region, counts in s["by_region"].items():
        out.append(f"- {region}: " + ", ".join(f"{n} {t.rsplit(':', 1)[1]}" for t, n in counts.items()))
    out.append("\n### Replication flows\n" if md else "\nReplication flows:")
    out += [f"- {f}" for f in s["flows"]] or ["- none"]
    if md:
        out.append("\n### Topology\n\n```mermaid\n" + mermaid(plan) + "```")
        out.append("\n<details><summary>Resource tree</summary>\n\n```\n" + "\n".join(tree(plan)) + "\n```\n</details>")
    return "\n".join(out) + "\n"


NO_BASE = "/dev/null"  # as OLD: the stack is new, so everything in NEW is a create


def _side(spec: str, workdir: Path) -> Plan:
    """A stack file planned with today's code, or GIT_REF:path planned with that ref's code."""
    if ":" in spec and not Path(spec).exists():
        recording = refplan.recording_at(spec, workdir)
        return Plan(recording.topology, recording)
    return make_plan(spec)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("stack", nargs="?", help="stack file to plan")
    parser.add_argument("--out", type=Path, help="folder to write the plan into (replaced only if tools.plan wrote it)")
    parser.add_argument("--force", action="store_true", help="with --out: replace the folder even if tools.plan did not write it")
    parser.add_argument("--format", choices=("text", "markdown", "json", "review"), default="text")
    parser.add_argument("--diff", nargs=2, metavar=("OLD", "NEW"), help="compare two stack files or GIT_REF:path")
    parser.add_argument("--fail-on-destructive", action="store_true", help="exit 3 when the diff deletes or replaces data")
    review_args = parser.add_argument_group("the review (--diff with --format review; OLD may be /dev/null for a new stack)")
    review_args.add_argument("--json", type=Path, metavar="FILE", help="also write the review's sections as JSON to FILE")
    review_args.add_argument("--label", help="the stack's name in the review (default: NEW)")
    review_args.add_argument(
        "--stack-config", type=Path, metavar="FILE", help="settings file to check (default: Pulumi.<environment>.yaml)"
    )
    review_args.add_argument("--max-chars", type=int, default=review.MAX_CHARS, help="cap on the Markdown (0: none)")
    review_args.add_argument("--full", type=Path, metavar="FILE", help="also write the review uncapped to FILE")
    review_args.add_argument("--artifact", default="the workflow artifact offline-plan", help="where the full review is")
    args = parser.parse_args(argv)
    if args.format == "review" and not args.diff:
        parser.error("--format review needs --diff OLD NEW")
    if args.max_chars < 0:
        parser.error("--max-chars: give a number of characters, or 0 for no cap")
    if args.stack_config is not None and not args.stack_config.is_file():
        parser.error(f"--stack-config {args.stack_config}: no such file (a stack's settings are in Pulumi.<stack>.yaml)")
    try:
        if args.diff:
            with tempfile.TemporaryDirectory() as tmp:
                new = _side(args.diff[1], Path(tmp))
                fresh = args.diff[0] == NO_BASE
                old = Plan(new.topology, Recording(new.topology, [], {}, set())) if fresh else _side(args.diff[0], Path(tmp))
                check_removals(old.topology, new.topology, args.diff[1])
            changes = diff(old, new)
            if args.format == "review" or args.json or args.full:
                label = args.label or args.diff[1].rpartition(":")[2]
                r = review.review(old, new, changes, stack=label, stack_config=args.stack_config, new_stack=fresh)
                # The JSON also carries the URN-level changes, so the artifact holds everything the diff knows.
                urns = json.loads(render_diff(changes, "json"))
                extra: list[tuple[Path, str]] = []
                if args.json:
                    extra.append((args.json, review.as_json(r | {"changes": urns})))
                if args.full:
                    extra.append((args.full, review.markdown(r, max_chars=0)))
                for target, text in extra:
                    try:
                        target.write_text(text)
                    except OSError as exc:
                        print(f"{target}: cannot write it ({exc.strerror})", file=sys.stderr)
                        return 2
            if args.format == "review":
                sys.stdout.write(review.markdown(r, max_chars=args.max_chars, artifact=args.artifact))
            else:
                sys.stdout.write(render_diff(changes, args.format))
            return 3 if args.fail_on_destructive and any(c.destructive for c in changes) else 0
        if not args.stack:
            parser.error("give a stack file, or --diff OLD NEW")
        if args.out:
            check_out(args.out, force=args.force)  # before planning: a refused folder costs nothing
        plan = make_plan(args.stack)
    except OutRefusedError as exc:
        print(exc, file=sys.stderr)
        return 2
    except TopologyError as exc:
        print(exc, file=sys.stderr)
        return 2
    except InvariantError as exc:
        print(exc, file=sys.stderr)
        return 4
    if args.out:
        write_plan(plan, args.out, force=args.force)
    sys.stdout.write(render(plan, args.format))
    return 0


if __name__ == "__main__":
    sys.exit(main())
