"""Benchmarks: ``python -m tools.bench`` (``make bench``).

Owns: planning synthetic topologies of growing size (regions 2-12, topics 10-2000, users 10-500, one dimension
at a time from a small base), each in a fresh process for a clean peak-memory reading, next to two trivial
programs under the same mocks and runtime: the baseline, registering the same number of minimal KafkaTopics,
and a replay, registering our resources' types with the same inputs as plain data (no components, no Outputs,
no dependencies). Prints a table with both ratios and the cost per added region, topic and user, and checks the
targets (dev stack under 3 s, ratio ours/baseline under 1.5, growth linear in topics and users). The replay
ratio separates what our program adds from what the SDK costs for payloads of that size.

Deliberately not here: correctness (the tests). Timings are wall-clock on this machine; compare runs, not
absolute numbers across machines.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
REGIONS = ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-1", "ap-northeast-1",
           "sa-east-1", "ca-central-1", "eu-north-1", "ap-south-1", "us-east-2", "eu-west-2")  # fmt: skip


def synthetic(regions: int, topics: int, users: int) -> dict[str, Any]:
    """An active-active topology: every region mirrors every other, so flows grow as regions squared."""
    names = REGIONS[:regions]
    return {
        "environment": "bench",
        "architecture": "active-active",
        "protect": False,
        "regions": [
            {
                "name": n,
                "role": "active",
                "kubernetes": {"kind": "context", "context": n},
                "kafka": {"brokers": 3, "controllers": 3},
            }
            for n in names
        ],
        "topics": {f"topic-{i:04d}": {"partitions": 3, "replication_factor": 3} for i in range(topics)},
        "users": {
            f"app-{i:03d}": {
                "groups": [f"app-{i:03d}"],
                "acls": [
                    {"resource": {"type": "topic", "name": f"topic-{i % topics:04d}"}, "operations": ["Read", "Describe"]},
                    {"resource": {"type": "group", "name": f"app-{i:03d}"}, "operations": ["Read"]},
                ],
            }
            for i in range(users)
        },
        "dns": {"zone": "kafka.example.com"},
    }


# Every side imports what it uses before the clock starts, so the ratio compares planning, not imports, and every
# side runs through ``harness.run_under_mocks``, so all pay the same runtime costs (mocks, recording, collector).
CHILD = """
import json, resource, sys, time
mode, path, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
import components.estate, components.providers, stacks.loader
import pulumi, pulumi_kubernetes as k8s
import pulumi_aws.route53, pulumi_aws.cloudwatch, pulumi_kubernetes.core.v1, pulumi_kubernetes.helm.v3, pulumi_tls, pulumi_random
from tools.plan.harness import EstateMocks, RecordingMonitor, run_program, run_under_mocks, unwrap
shapes = json.load(open(path)) if mode == "replay" else []
start = time.perf_counter()
if mode == "ours":
    rec = run_program(path, stacks.loader.load_topology(path))
    registrations = rec.registrations
else:
    def program():
        if mode == "baseline":
            for i in range(count):
                k8s.apiextensions.CustomResource(f"r{i}", api_version="kafka.strimzi.io/v1", kind="KafkaTopic",
                    metadata={"name": f"t{i}"}, spec={"partitions": 3, "replicas": 3})
        for i, (typ, custom, inputs) in enumerate(shapes):
            if custom:
                pulumi.CustomResource(typ, f"r{i}", inputs)
            else:
                pulumi.ComponentResource(typ, f"r{i}")
    monitor = RecordingMonitor(EstateMocks())
    run_under_mocks(program, monitor.mocks, monitor, stack=mode)
    registrations = monitor.registrations
result = {"seconds": time.perf_counter() - start, "resources": len(registrations),
          "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
if mode == "ours" and count:
    # What the replay baseline registers: the same types with the same inputs, as plain data.
    json.dump([(r.type, r.custom, unwrap(r.inputs)) for r in registrations], open(path + ".shapes.json", "w"))
print(json.dumps(result))
"""


def measure(mode: str, path: str, count: int = 0) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, mode, path, str(count)], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def slope(points: list[tuple[int, float]]) -> float:
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    den = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def linear(points: list[tuple[int, float]]) -> bool:
    """Cost per unit at the largest size is within 2x of the cost per unit at the smallest step."""
    (x0, y0), (x1, y1), (x2, y2) = points[0], points[1], points[-1]
    first = (y1 - y0) / (x1 - x0)
    last = (y2 - y1) / (x2 - x1)
    return last <= 2 * max(first, 1e-9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    args = parser.parse_args(argv)
    sweeps: dict[str, list[tuple[int, int, int]]] = {
        "regions": [(r, 10, 10) for r in ((2, 4) if args.quick else (2, 4, 8, 12))],
        "topics": [(2, t, 10) for t in ((10, 200) if args.quick else (10, 200, 2000))],
        "users": [(2, 10, u) for u in ((10, 100) if args.quick else (10, 100, 500))],
    }
    fails = []
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "tools.plan", "stacks/dev.yaml"], cwd=ROOT, check=True, capture_output=True)
    whole = time.perf_counter() - start
    dev = measure("ours", str(ROOT / "stacks/dev.yaml"))
    print(
        f"dev stack: `python -m tools.plan stacks/dev.yaml` takes {whole:.2f} s in all (target < 3 s); "
        f"planning {dev['resources']} resources {dev['seconds']:.2f} s, peak {dev['peak_mib']:.0f} MiB"
    )
    if whole >= 3:
        fails.append(f"dev stack took {whole:.2f} s")
    header = (
        f"{'sweep':<8} {'R':>3} {'T':>5} {'U':>4} {'resources':>9} {'ours s':>7} {'base s':>7} {'ratio':>6} "
        f"{'replay s':>8} {'ratio':>6} {'ours MiB':>9} {'base MiB':>9}"
    )
    print(header)
    print("-" * len(header))
    growth: dict[str, list[tuple[int, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for sweep, cases in sweeps.items():
            for r, t, u in cases:
                path = Path(tmp) / f"r{r}-t{t}-u{u}.yaml"
                path.write_text(yaml.safe_dump(synthetic(r, t, u)))
                ours = measure("ours", str(path), 1)  # 1: also write the shapes the replay registers
                base = measure("baseline", str(path), ours["resources"])
                replay = measure("replay", f"{path}.shapes.json")
                ratio = ours["seconds"] / base["seconds"]
                size = {"regions": r, "topics": t, "users": u}[sweep]
                growth.setdefault(sweep, []).append((size, ours["seconds"]))
                print(
                    f"{sweep:<8} {r:>3} {t:>5} {u:>4} {ours['resources']:>9} {ours['seconds']:>7.2f} {base['seconds']:>7.2f} "
                    f"{ratio:>6.2f} {replay['seconds']:>8.2f} {ours['seconds'] / replay['seconds']:>6.2f} "
                    f"{ours['peak_mib']:>9.0f} {base['peak_mib']:>9.0f}"
                )
                if ratio >= 1.5 and ours["resources"] >= 500:
                    fails.append(f"{path.name}: ratio {ratio:.2f}")
    print(
        "base: the same number of minimal KafkaTopics (the target's baseline); replay: a loop registering our "
        "resources' types and inputs as plain data (what the SDK costs for the same payloads)\n"
    )
    for sweep, points in growth.items():
        unit = sweep[:-1]
        print(f"growth per {unit}: {slope(points) * 1000:.1f} ms")
        if sweep != "regions" and len(points) >= 3 and not linear(points):
            fails.append(f"growth in {sweep} is not linear: {points}")
    print(f"peak memory of this driver: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    if fails:
        print("targets missed: " + "; ".join(fails))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    start = time.perf_counter()
    code = main()
    print(f"bench took {time.perf_counter() - start:.0f} s")
    sys.exit(code)
