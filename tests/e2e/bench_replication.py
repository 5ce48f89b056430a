"""Replication benchmark (issue 30): MirrorMaker 2 as the program renders it, against a bare copier, on the same
brokers in the same run. ``python -m tests.e2e.bench_replication`` (``make bench-replication``); not a test.

Owns: two real single-node brokers (``tests.e2e.cluster``, SASL_SSL as in the e2e suite, on free ports of
127.0.0.1) standing for two regions; for every cell of the grid (partitions x tasks) a fresh topic, provisioned
as rendered for a one-topic active-passive stack, and, on it:

- **saturation**: ``--records`` values preloaded into the source, then a copier started on a backlog of at least
  that; its rate is the records (and value bytes) appended to the target between the 30 % and 95 % marks of
  ``--records`` over the time between: the same slice of work for both, past start-up and JIT warm-up, before
  the tail. The bare copier (``BareCopier.java``, tasks = its consumer -> producer loops) reads from the
  preload's first timestamp; MirrorMaker 2 (the rendered ``mm2.properties``, ``tasks.max`` = the cell's tasks)
  starts later on the same fresh topic from the earliest offset, as a new flow does (its backlog also holds
  the bare copier's latency load). CPU seconds of the copier's JVM (by thread) and of each broker over the same interval say
  where the time went.
- **latency**: with the copier caught up, ``BenchProbe.java latency`` produces at a steady 50 % of the bare
  copier's saturation rate of that cell and times every record from its creation on the source to its arrival
  on the target: p50/p99/max.
- **variants** (``--variant bare|mm2:NAME:K=V,...``): after the cell, each further copier on a fresh topic of its
  own, preloaded the same way, measured over the same slice and at the same load as the cell's copiers: a
  before/after comparison within one run. Keys ``jvm.gc``/``jvm.young``/``jvm.heap`` set its JVM (Serial GC,
  ``-Xmn``, ``-Xmx``; defaults ``--copier-jvm``/``--bare-jvm``), with ``--mm2-heap`` (4 GiB); the cell's own MirrorMaker
  runs with the JVM options the program renders (``jvmOptions``: heap, young generation, Serial GC).
  A cell's topics are deleted once measured.

Prints a table and writes every figure, with the machine (cores, load average before and after each phase), to
``--out`` (JSON). Judge ratios within one run: the machine may be shared.

Deliberately not here: assertions on time (a benchmark reports; nothing here passes or fails on speed), changing
the rendered configuration (``components.engines.mirrormaker2.bodies`` owns it; ``--mm2`` only adds overrides to try a proposal),
Strimzi's KafkaMirrorMaker2 runtime (the same Connect workers and connectors as dedicated mode; the
``mm2.properties`` here is rendered from the same plan).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from confluent_kafka import TopicPartition
from confluent_kafka.admin import AdminClient, OffsetSpec

from components.access import all_principals
from components.engines.mirrormaker2 import plan as mirror_plan
from stacks.loader import validate_data
from tests.e2e.cluster import (
    ADMIN,
    CACHE,
    HERE,
    Broker,
    MirrorMaker,
    Pki,
    client_config,
    fetch_libs,
    java,
    provision,
    stop_process,
)

SOURCE, TARGET = "us-east-1", "us-west-2"
CLASSES = CACHE / "bench-classes"
DEFAULT_OUT = CACHE / "bench-replication.json"
JFR_DIR = CACHE / "jfr"
TICK = os.sysconf("SC_CLK_TCK")
WARMUP = 5  # seconds of steady load before the latency window opens


def stack(topic: str, partitions: int) -> dict[str, Any]:
    """One topic, two single-broker regions, active-passive: the e2e estate's flow with the cell's partitions."""
    kafka = {"brokers": 1, "controllers": 1, "combined": True}
    return {
        "environment": "bench",
        "architecture": "active-passive",
        "protect": False,
        "regions": [
            {"name": r, "role": role, "kubernetes": {"kind": "context", "context": f"bench-{r}"}, "kafka": kafka}
            for r, role in ((SOURCE, "primary"), (TARGET, "secondary"))
        ],
        "topics": {topic: {"partitions": partitions, "replication_factor": 1}},
        "replication": {"rpo_seconds": 8, "rto_seconds": 180},
        "dns": {"zone": "kafka.example.com"},
    }


def machine() -> dict[str, Any]:
    return {"cores": os.cpu_count(), "load": [round(x, 2) for x in os.getloadavg()]}


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / TICK


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds by thread name (digits dropped, so a pool is one line), from /proc/PID/task."""
    out: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")].rstrip("0123456789-# ") or "?"
        fields = stat.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return out


@dataclasses.dataclass
class Bench:
    libs: Path
    tmp: Path
    pki: Pki
    admin_password: str
    brokers: dict[str, Broker]
    passwords: dict[str, str]
    size: int
    records: int
    latency_seconds: float
    mm2_overrides: dict[str, str]
    bare_overrides: list[str]
    mm2_heap: str = "4g"
    mm2_jfr: bool = False
    variants: list[tuple[str, str, dict[str, str]]] = dataclasses.field(default_factory=list)
    copier_jvm: dict[str, str] = dataclasses.field(default_factory=dict)
    bare_jvm: dict[str, str] = dataclasses.field(default_factory=dict)
    admins: dict[str, AdminClient] = dataclasses.field(default_factory=dict)

    # ------------------------------------------------------------------ processes

    def props(self, region: str) -> Path:
        path = self.tmp / f"{region}-client.properties"
        if not path.exists():
            path.write_text(
                f"bootstrap.servers={self.brokers[region].bootstrap}\nsecurity.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
                f'username="{ADMIN}" password="{self.admin_password}";\n'
                f"ssl.truststore.type=PEM\nssl.truststore.location={self.pki.ca_file}\n"
            )
        return path

    def java(self, main: str, args: list[str], heap: str = "256m", jvm: tuple[str, ...] = ("-XX:+UseSerialGC",)) -> list[str]:
        # The JVM flags MirrorMaker gets from tests.e2e.cluster (heap aside), so neither copier has a better JVM.
        log = self.tmp / "log4j2.properties"
        if not log.exists():
            log.write_text("status = error\nrootLogger.level = WARN\nrootLogger.appenderRef.c.ref = C\n"
                           "appender.c.type = Console\nappender.c.name = C\nappender.c.target = SYSTEM_ERR\n"
                           "appender.c.layout.type = PatternLayout\nappender.c.layout.pattern = %d %p %m (%c)%n\n")  # fmt: skip
        return [
            java() or "java", f"-Xmx{heap}", *jvm, "-Djava.net.preferIPv4Stack=true",
            f"-Dlog4j2.configurationFile={log}", "-cp", f"{CLASSES}:{self.libs}/*", main, *args,
        ]  # fmt: skip

    def probe(self, args: list[str], timeout: float) -> dict[str, Any]:
        result = subprocess.run(
            self.java("BenchProbe", args, "512m"), capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"BenchProbe {args[0]} failed:\n{result.stderr[-3000:]}")
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))

    def admin(self, region: str) -> AdminClient:
        if region not in self.admins:
            self.admins[region] = AdminClient(client_config(self.brokers[region], ADMIN, self.admin_password, self.pki.ca_file))
        return self.admins[region]

    def ends(self, region: str, topic: str, partitions: int) -> int:
        admin = self.admin(region)
        futures = admin.list_offsets(
            {TopicPartition(topic, p): OffsetSpec.latest() for p in range(partitions)}, request_timeout=30
        )
        return sum(f.result().offset for f in futures.values())

    def drop(self, source: str, target: str) -> None:
        """Delete a cell's topics on both brokers once measured: a cell writes gigabytes."""
        for region, topic in ((SOURCE, source), (TARGET, target)):
            try:
                for f in self.admin(region).delete_topics([topic], request_timeout=30).values():
                    f.result()
            except Exception as exc:
                print(f"[bench-replication] could not delete {topic} on {region}: {exc}", file=sys.stderr)

    # ------------------------------------------------------------------ measurements

    def saturation(self, pid_of: Any, topic: str, partitions: int, total: int, base: int) -> dict[str, Any]:
        """Watch the target grow by ``total`` records. The rate and CPU are taken over the same slice of every
        copier's work, records 30 % to 95 % of ``--records``: the first 30 % warm the JVM (JIT compilation is most
        of a cold copier's CPU), the last 5 % are the tail where some partitions are done."""
        admin = self.admin(TARGET)
        specs = {TopicPartition(topic, p): OffsetSpec.latest() for p in range(partitions)}
        marks: dict[str, tuple[float, int, dict[str, float], dict[str, float]]] = {}
        start = last_growth = time.monotonic()
        copied = last = 0
        while copied < total:
            alive = pid_of()
            if alive is None:
                raise RuntimeError("the copier exited during the saturation phase")
            time.sleep(0.25)
            futures = admin.list_offsets(specs, request_timeout=30)
            copied = sum(f.result().offset for f in futures.values()) - base
            now = time.monotonic()
            if copied > last:
                last, last_growth = copied, now
            for name, frac in (("p10", 0.3), ("p90", 0.95)):
                if name not in marks and copied >= frac * self.records:
                    brokers = {r: cpu_seconds(b.process.pid) for r, b in self.brokers.items() if b.process}
                    marks[name] = (now, copied, thread_cpu(alive), brokers)
            if now - last_growth > 90 or now - start > 900:
                break
        if "p10" not in marks or "p90" not in marks:
            return {"complete": False, "copied": copied, "of": total}
        (t0, c0, th0, b0), (t1, c1, th1, b1) = marks["p10"], marks["p90"]
        seconds = t1 - t0
        threads = {k: round(v - th0.get(k, 0.0), 2) for k, v in th1.items() if v - th0.get(k, 0.0) >= 0.05}
        copier_cpu = sum(threads.values())
        # JIT compilation is warm-up, not copying: left out of the steady-state cost per record.
        steady_cpu = sum(v for k, v in threads.items() if "CompilerThre" not in k)
        return {
            "complete": copied >= total,
            "records_per_second": round((c1 - c0) / seconds),
            "bytes_per_second": round((c1 - c0) * self.size / seconds),
            "seconds_measured": round(seconds, 2),
            "copier_cpu_cores": round(copier_cpu / seconds, 2),
            "records_per_copier_cpu_second": round((c1 - c0) / copier_cpu) if copier_cpu else None,
            "records_per_copier_cpu_second_without_jit": round((c1 - c0) / steady_cpu) if steady_cpu else None,
            "broker_cpu_cores": {r: round((b1[r] - b0[r]) / seconds, 2) for r in b1},
            "copier_cpu_by_thread": dict(sorted(threads.items(), key=lambda kv: -kv[1])[:8]),
        }

    def latency(self, source: str, target: str, rate: int) -> dict[str, Any]:
        args = [
            "latency",
            str(self.props(SOURCE)),
            str(self.props(TARGET)),
            source,
            target,
            str(rate),
            str(self.latency_seconds),
            str(self.size),
            str(WARMUP),
        ]
        try:
            return self.probe(args, timeout=self.latency_seconds + WARMUP + 300)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:  # one cell's figure missing, not the run
            return {"error": str(exc)[-500:]}

    # ------------------------------------------------------------------ copiers

    def bare(
        self, topic: str, target: str, loops: int, start: str, stop: Path, jvm: tuple[str, ...] | None = None
    ) -> subprocess.Popen[bytes]:
        stop.unlink(missing_ok=True)
        args = [
            str(self.props(SOURCE)),
            str(self.props(TARGET)),
            topic,
            target,
            str(loops),
            start,
            str(stop),
            *self.bare_overrides,
        ]
        log = (self.tmp / "bare-copier.log").open("ab")
        return subprocess.Popen(
            self.java("BareCopier", args, self.mm2_heap, jvm or self.jvm_flags({}, bare=True)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop_bare(self, process: subprocess.Popen[bytes], stop: Path) -> None:
        stop.touch()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stop_process(process, hard=True)
        if process.returncode not in (0, None):
            raise RuntimeError(f"the bare copier failed (exit {process.returncode}); see {self.tmp / 'bare-copier.log'}")

    # ------------------------------------------------------------------ MirrorMaker

    @staticmethod
    def with_overrides(plan: Any, overrides: dict[str, str]) -> Any:
        """``producer.*`` on the worker (the target's producer), ``worker.*`` on the worker without the prefix
        (e.g. ``worker.offset.flush.interval.ms``), everything else on the flow's connectors."""
        if not overrides:
            return plan
        worker = {k: v for k, v in overrides.items() if k.startswith("producer.")}
        worker |= {k.removeprefix("worker."): v for k, v in overrides.items() if k.startswith("worker.")}
        connector = {k: v for k, v in overrides.items() if not k.startswith(("producer.", "worker."))}
        return dataclasses.replace(
            plan, target_config={**plan.target_config, **worker}, source_config={**plan.source_config, **connector}
        )

    def jvm_flags(self, overrides: dict[str, str], bare: bool = False) -> tuple[str, ...]:
        """A copier JVM's flags besides the heap: ``jvm.gc`` (Serial, the suite's default, Parallel or G1) and
        ``jvm.young`` (-Xmn, the young generation) and ``jvm.heap`` (-Xmx), from ``--copier-jvm`` (``--bare-jvm`` for the bare copier) then
        the variant's own ``jvm.*``."""
        o = {**(self.bare_jvm if bare else self.copier_jvm), **{k: v for k, v in overrides.items() if k.startswith("jvm.")}}
        flags = [f"-XX:+Use{o.get('jvm.gc', 'Serial')}GC"]
        if o.get("jvm.young"):
            flags.append(f"-Xmn{o['jvm.young']}")
        if o.get("jvm.heap"):  # after -Xmx{--mm2-heap}: the last -Xmx wins
            flags.append(f"-Xmx{o['jvm.heap']}")
        return tuple(flags)

    def start_mm2(self, plan: Any, t: Any, topic: str, jvm: tuple[str, ...] | None = None) -> MirrorMaker:
        """MirrorMaker from the rendered ``mm2.properties`` (``tests.e2e.cluster.MirrorMaker.write``) with the JVM
        flags of ``tests.e2e.cluster`` except the heap (``--mm2-heap``: the suite's 768 MiB starves it) and the
        ``jvm.*`` options; with ``--mm2-jfr``, a flight recording."""
        mm = MirrorMaker(plan, self.tmp / f"mm-{topic}")
        props = mm.write(t, self.brokers, self.pki.ca_file, self.passwords[plan.name])
        jfr: list[str] = []
        if self.mm2_jfr:
            JFR_DIR.mkdir(parents=True, exist_ok=True)
            jfr = [f"-XX:StartFlightRecording=filename={JFR_DIR / f'mm-{topic}.jfr'},settings=profile,dumponexit=true"]
        # The cell's MirrorMaker runs with the JVM options the program renders for its workers (jvmOptions) unless
        # --copier-jvm or a variant's jvm.* say otherwise; those run with --mm2-heap.
        rendered = jvm is None and not self.copier_jvm
        heap = [] if rendered else [f"-Xmx{self.mm2_heap}"]
        flags = mirror_plan.jvm_flags(plan) if rendered else (jvm or self.jvm_flags({}))
        cmd = [java() or "java", "-Dsun.net.inetaddr.ttl=0", *heap, *flags, *jfr,
               f"-Dlog4j2.configurationFile={mm.workdir / 'log4j2.properties'}", "-Djava.net.preferIPv4Stack=true",
               "-cp", f"{self.libs}/*", "org.apache.kafka.connect.mirror.MirrorMaker", str(props)]  # fmt: skip
        out = (mm.workdir / "stdout.log").open("ab")
        mm.process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return mm

    def variant(self, kind: str, name: str, overrides: dict[str, str], partitions: int, tasks: int, rate: int) -> dict[str, Any]:
        """One more copier on a fresh topic of its own, preloaded with ``--records`` as the cell's: its saturation
        over the same slice and its latency at the cell's load (50 % of the cell's bare rate), in the same run."""
        topic = f"bench-p{partitions}-t{tasks}-{name}"
        t = validate_data(stack(topic, partitions), "bench")
        for region, broker in self.brokers.items():
            provision(t, region, broker, self.pki.ca_file, self.passwords)
        (plan,) = mirror_plan.flow_plans(t)
        target = plan.remote_topics[0]
        out: dict[str, Any] = {"kind": kind, "overrides": overrides, "topic": topic, "machine_before": machine()}
        jvm = self.jvm_flags(overrides, bare=kind == "bare")
        out["jvm"] = list(jvm)
        overrides = {k: v for k, v in overrides.items() if not k.startswith("jvm.")}
        first_ms = str(int(time.time() * 1000) - 1)
        out["preload"] = self.probe(["preload", str(self.props(SOURCE)), topic, str(self.records), str(self.size)], timeout=900)
        base = self.ends(TARGET, target, partitions)
        if kind == "bare":
            stop = self.tmp / "bare.stop"
            extra = [f"{k}={v}" for k, v in overrides.items()]
            saved, self.bare_overrides = self.bare_overrides, [*self.bare_overrides, *extra]
            try:
                copier = self.bare(topic, target, tasks, first_ms, stop, jvm)
            finally:
                self.bare_overrides = saved
            try:
                out["saturation"] = self.saturation(
                    lambda: copier.pid if copier.poll() is None else None, target, partitions, self.records, base
                )
                if rate and out["saturation"].get("complete"):
                    out["latency"] = self.latency(topic, target, rate)
            finally:
                self.stop_bare(copier, stop)
        else:
            plan = self.with_overrides(dataclasses.replace(plan, tasks_max=tasks), {**self.mm2_overrides, **overrides})
            mm = self.start_mm2(plan, t, topic, jvm)
            try:
                proc = mm.process
                assert proc is not None
                out["saturation"] = self.saturation(
                    lambda: proc.pid if proc.poll() is None else None, target, partitions, self.records, base
                )
                if rate and out["saturation"].get("complete"):
                    out["latency"] = self.latency(topic, target, rate)
            except RuntimeError as exc:
                out["error"] = f"{exc}; see {mm.workdir / 'mm2.log'}"
            finally:
                mm.stop()
        out["machine_after"] = machine()
        self.drop(topic, target)
        return out

    # ------------------------------------------------------------------ one cell

    def cell(self, partitions: int, tasks: int) -> dict[str, Any]:
        topic = f"bench-p{partitions}-t{tasks}"
        t = validate_data(stack(topic, partitions), "bench")
        for region, broker in self.brokers.items():
            provision(t, region, broker, self.pki.ca_file, self.passwords)
        (plan,) = mirror_plan.flow_plans(t)
        target = plan.remote_topics[0]
        out: dict[str, Any] = {"partitions": partitions, "tasks": tasks, "topic": topic, "rendered_tasks_max": plan.tasks_max}
        plan = dataclasses.replace(plan, tasks_max=tasks)
        plan = self.with_overrides(plan, self.mm2_overrides)

        first_ms = str(int(time.time() * 1000) - 1)
        out["machine_before"] = machine()
        out["preload"] = self.probe(["preload", str(self.props(SOURCE)), topic, str(self.records), str(self.size)], timeout=900)

        # The bare copier starts at the preload's first record, copies the backlog and, caught up, the steady load:
        # one JVM for both phases, as MirrorMaker's (a fresh JVM would time its own JIT warm-up as latency).
        stop = self.tmp / "bare.stop"
        base = self.ends(TARGET, target, partitions)
        copier = self.bare(topic, target, tasks, first_ms, stop)
        try:
            out["bare"] = {
                "saturation": self.saturation(
                    lambda: copier.pid if copier.poll() is None else None, target, partitions, self.records, base
                )
            }
            rate = int(out["bare"]["saturation"].get("records_per_second", 0) * 0.5)
            out["latency_rate"] = rate
            if rate and out["bare"]["saturation"]["complete"]:
                out["bare"]["latency"] = self.latency(topic, target, rate)
        finally:
            self.stop_bare(copier, stop)
        out["bare"]["machine_after"] = machine()

        # MirrorMaker starts on the fresh topic from the earliest offset: everything in it is its backlog.
        total = self.ends(SOURCE, topic, partitions)
        base = self.ends(TARGET, target, partitions)
        mm = self.start_mm2(plan, t, topic)
        try:
            proc = mm.process
            assert proc is not None
            out["mm2"] = {
                "saturation": self.saturation(lambda: proc.pid if proc.poll() is None else None, target, partitions, total, base)
            }
            if rate and out["mm2"]["saturation"]["complete"]:
                out["mm2"]["latency"] = self.latency(topic, target, rate)
        except RuntimeError as exc:
            out["mm2"] = {"error": f"{exc}; see {mm.workdir / 'mm2.log'}"}
        finally:
            mm.stop()
        out["mm2"]["machine_after"] = machine()
        b, m = out["bare"]["saturation"], out["mm2"].get("saturation", {})
        if b.get("records_per_second") and m.get("records_per_second"):
            out["throughput_ratio"] = round(m["records_per_second"] / b["records_per_second"], 3)
            # On a shared machine each copier gets what CPU the neighbours leave it: records per CPU-second of the
            # copier's own JVM (JIT left out) compares the copiers' work, not their luck with the scheduler.
            bs, ms = b.get("records_per_copier_cpu_second_without_jit"), m.get("records_per_copier_cpu_second_without_jit")
            if bs and ms:
                out["cpu_efficiency_ratio"] = round(ms / bs, 3)
        bl, ml = out["bare"].get("latency", {}), out["mm2"].get("latency", {})
        if bl.get("p99_ms", 0) > 0 and ml.get("p99_ms", -1) >= 0:
            out["p99_ratio"] = round(ml["p99_ms"] / bl["p99_ms"], 2)
        self.drop(topic, target)
        if self.variants:
            out["variants"] = {}
        for kind, name, overrides in self.variants:
            print(f"[bench-replication]   variant {name} ({kind}) load={os.getloadavg()[0]:.2f}", flush=True)
            v = self.variant(kind, name, overrides, partitions, tasks, rate)
            vs, vl = v.get("saturation", {}), v.get("latency", {})
            if b.get("records_per_second") and vs.get("records_per_second"):
                v["throughput_ratio"] = round(vs["records_per_second"] / b["records_per_second"], 3)
                bs, xs = b.get("records_per_copier_cpu_second_without_jit"), vs.get("records_per_copier_cpu_second_without_jit")
                if bs and xs:
                    v["cpu_efficiency_ratio"] = round(xs / bs, 3)
            if bl.get("p99_ms", 0) > 0 and vl.get("p99_ms", -1) >= 0:
                v["p99_ratio"] = round(vl["p99_ms"] / bl["p99_ms"], 2)
            out["variants"][name] = v
        return out


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _ints(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"expected positive whole numbers, got {text!r}")
    return values


def _override(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value


def table(cells: list[dict[str, Any]]) -> str:
    head = f"{'parts':>5} {'tasks':>5} | {'bare rec/s':>10} {'MB/s':>6} | {'mm2 rec/s':>10} {'MB/s':>6} | {'ratio':>5} {'/cpu':>5} | {'load rec/s':>10} | {'bare p50/p99/max ms':>19} | {'mm2 p50/p99/max ms':>19} | {'load avg':>8}"
    lines = [head, "-" * len(head)]
    for c in cells:
        b, m = c["bare"]["saturation"], c["mm2"].get("saturation", {})

        def lat(x: dict[str, Any]) -> str:
            return f"{x['p50_ms']}/{x['p99_ms']}/{x['max_ms']}" if "p50_ms" in x else "-"

        lines.append(
            f"{c['partitions']:>5} {c['tasks']:>5} | {b.get('records_per_second', '-'):>10} {b.get('bytes_per_second', 0) / 1e6:>6.1f} | "
            f"{m.get('records_per_second', '-'):>10} {m.get('bytes_per_second', 0) / 1e6:>6.1f} | {c.get('throughput_ratio', '-'):>5} {c.get('cpu_efficiency_ratio', '-'):>5} | "
            f"{c.get('latency_rate', '-'):>10} | {lat(c['bare'].get('latency', {})):>19} | {lat(c['mm2'].get('latency', {})):>19} | "
            f"{c['mm2']['machine_after']['load'][0]:>8}"
        )
    rows = [(c, n, v) for c in cells for n, v in c.get("variants", {}).items()]
    if rows:
        lines += [
            "",
            f"{'parts':>5} {'tasks':>5} | {'variant':<14} | {'rec/s':>10} {'MB/s':>6} | {'ratio':>5} {'/cpu':>5} | {'p50/p99/max ms':>19} | {'p99 x':>5} | {'load':>5}",
        ]
        for c, n, v in rows:
            s, lt = v.get("saturation", {}), lat(v.get("latency", {}))
            lines.append(
                f"{c['partitions']:>5} {c['tasks']:>5} | {n:<14} | {s.get('records_per_second', '-'):>10} {s.get('bytes_per_second', 0) / 1e6:>6.1f} | "
                f"{v.get('throughput_ratio', '-'):>5} {v.get('cpu_efficiency_ratio', '-'):>5} | {lt:>19} | {v.get('p99_ratio', '-'):>5} | {v['machine_after']['load'][0]:>5}"
            )
    return "\n".join(lines)


def _variant(text: str) -> tuple[str, str, dict[str, str]]:
    kind, _, rest = text.partition(":")
    name, _, items = rest.partition(":")
    if kind not in ("bare", "mm2") or not name or not all(c.isalnum() or c == "-" for c in name):
        raise argparse.ArgumentTypeError(f"expected bare|mm2:NAME:K=V,K=V (NAME letters, digits, '-'), got {text!r}")
    overrides = dict(_override(x) for x in items.split(",") if x)
    if kind == "bare" and not all(k.startswith(("consumer.", "producer.", "jvm.")) for k in overrides):
        raise argparse.ArgumentTypeError(f"bare overrides must start with consumer. or producer.: {text!r}")
    return kind, name, overrides


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.e2e.bench_replication", description=__doc__.split("\n\n")[0])
    parser.add_argument("--partitions", type=_ints, default=[6, 24, 96], help="partition counts (default 6,24,96)")
    parser.add_argument("--tasks", type=_ints, default=[1, 2, 4], help="tasks.max / bare copier loops (default 1,2,4)")
    parser.add_argument("--records", type=int, default=1_000_000, help="backlog per saturation run (default 1,000,000)")
    parser.add_argument("--size", type=int, default=200, help="value bytes per record (default 200, as the sustained-load test)")
    parser.add_argument("--latency-seconds", type=float, default=20, help="steady-load window (default 20 s)")
    parser.add_argument("--mm2", type=_override, action="append", default=[], metavar="KEY=VALUE",
                        help="extra MirrorMaker override to try (producer.* and worker.* on the worker, others on the connectors)")  # fmt: skip
    parser.add_argument("--bare", action="append", default=[], metavar="consumer.K=V|producer.K=V", help="bare copier override")
    parser.add_argument("--variant", type=_variant, action="append", default=[], metavar="bare|mm2:NAME:K=V,K=V",
                        help="one more copier per cell, on a fresh topic of its own, in the same run (mm2: on top of --mm2; bare: on top of --bare)")  # fmt: skip
    parser.add_argument("--copier-jvm", type=_override, action="append", default=[], metavar="jvm.gc=G1|jvm.young=SIZE",
                        help="JVM options of MirrorMaker (its variants too; a variant's jvm.* wins)")  # fmt: skip
    parser.add_argument("--bare-jvm", type=_override, action="append", default=[], metavar="jvm.gc=G1|jvm.young=SIZE",
                        help="JVM options of the bare copier (its variants too; a variant's jvm.* wins)")  # fmt: skip
    parser.add_argument("--mm2-heap", default="4g", help="JVM heap of both copiers, MirrorMaker and the bare one (default 4g)")
    parser.add_argument(
        "--mm2-jfr", action="store_true", help="record MirrorMaker with Java Flight Recorder (tests/e2e/.cache/jfr)"
    )
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="JSON report (default tests/e2e/.cache/bench-replication.json)"
    )
    args = parser.parse_args(argv)
    names = [n for _, n, _ in args.variant]
    if len(set(names)) != len(names) or {"bare", "mm2"} & set(names):
        parser.error(f"--variant names must be unique and neither bare nor mm2: {names}")
    # A background run (make bench-replication &) ignores SIGINT; SIGTERM then still stops what it started.
    signal.signal(signal.SIGTERM, _interrupt)
    if args.records < 1000 or args.size < 1 or args.latency_seconds <= 0:
        parser.error("--records must be at least 1000, --size and --latency-seconds positive")
    for item in args.bare:
        if not item.startswith(("consumer.", "producer.")) or "=" not in item:
            parser.error(f"--bare {item!r}: expected consumer.KEY=VALUE or producer.KEY=VALUE")
    missing = [tool for tool in ("java", "javac", "mvn") if shutil.which(tool) is None]
    if missing:
        print(f"bench-replication needs {', '.join(missing)} on PATH (Java 17+ and Maven, as the e2e tests)", file=sys.stderr)
        return 2

    try:
        libs = fetch_libs()
    except RuntimeError as exc:
        print(f"bench-replication: {exc}", file=sys.stderr)
        return 2
    CLASSES.mkdir(parents=True, exist_ok=True)
    sources = [str(HERE / "BareCopier.java"), str(HERE / "BenchProbe.java")]
    compiled = subprocess.run(
        ["javac", "-d", str(CLASSES), "-cp", f"{libs}/*", *sources], capture_output=True, text=True, check=False
    )
    if compiled.returncode != 0:
        print(f"javac failed:\n{compiled.stderr}", file=sys.stderr)
        return 2

    tmp = Path(tempfile.mkdtemp(prefix="bench-replication-"))
    report: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "grid": {"partitions": args.partitions, "tasks": args.tasks},
        "records": args.records,
        "value_bytes": args.size,
        "latency_seconds": args.latency_seconds,
        "mm2_overrides": dict(args.mm2),
        "bare_overrides": args.bare,
        "variants": [{"kind": k, "name": n, "overrides": o} for k, n, o in args.variant],
        "mm2_heap": args.mm2_heap,
        "copier_jvm": dict(args.copier_jvm),
        "bare_jvm": dict(args.bare_jvm),
        "cells": [],
    }
    brokers: dict[str, Broker] = {}
    try:
        pki = Pki(tmp)
        admin_password = secrets.token_urlsafe(18)
        first = validate_data(stack("bench-p1-t1", 1), "bench")
        for region in (SOURCE, TARGET):
            broker = Broker(region, tmp / region, pki.listener_keystore(first, region), admin_password)
            brokers[region] = broker
            broker.start(libs)
        passwords = {p: secrets.token_urlsafe(18) for p in all_principals(first)}
        bench = Bench(
            libs,
            tmp,
            pki,
            admin_password,
            brokers,
            passwords,
            args.size,
            args.records,
            args.latency_seconds,
            dict(args.mm2),
            args.bare,
            args.mm2_heap,
            args.mm2_jfr,
            args.variant,
            dict(args.copier_jvm),
            dict(args.bare_jvm),
        )
        for partitions in args.partitions:
            for tasks in args.tasks:
                print(f"[bench-replication] partitions={partitions} tasks={tasks} load={os.getloadavg()[0]:.2f}", flush=True)
                report["cells"].append(bench.cell(partitions, tasks))
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(
                    json.dumps(report, indent=1) + "\n"
                )  # after every cell: an interrupted run keeps what it measured
    except KeyboardInterrupt:
        print("interrupted; keeping the cells measured so far", file=sys.stderr)
    except RuntimeError as exc:
        print(f"bench-replication: {exc}", file=sys.stderr)
        return 1
    finally:
        for broker in brokers.values():
            broker.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    report["machine_after"] = machine()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nreplication benchmark {report['date']}, {report['machine']['cores']} cores, load at start {report['machine']['load']}, "
          f"{args.records:,} records of {args.size} B per saturation run; load = 50 % of the bare copier's rate")  # fmt: skip
    print(table(report["cells"]))
    print(f"report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
