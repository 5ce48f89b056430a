"""Run one Pulumi operation on the real engine, in its own process: ``python -m tests.realk8s.drive SPEC.json``.

Owns: the Automation API call (the program is ``__main__.py`` as an inline program: no Python language host
binary exists here), the engine's environment (file backend, passphrase, no plugin downloads, no ambient
plugins, the tests' own Pulumi home), the steps the engine reports, and the outcome as one JSON line on stdout.
One process per operation because the Pulumi SDK's runtime settings are process-global (the mock tests in the
pytest process set them too).

Deliberately not here: clusters, the stand-in, and judging the outcome (the tests do).

SPEC: {"op": "preview" | "up" | "destroy" | "export", "work": DIR, "state": DIR, "stack": NAME,
       "config": {KEY: [VALUE, SECRET?]}, "pulumi_root": DIR, "pulumi_home": DIR, "kubeconfig": FILE,
       "expect_no_changes": BOOL, "export_to": FILE (export only: the deployment with secrets shown)}
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pulumi import automation as auto

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "kafka-multiregion"
# A test passphrase for a throwaway file backend: the secrets in it are encrypted with it, as in production.
PASSPHRASE = "realk8s-test-passphrase"


def engine_env(spec: dict[str, Any]) -> dict[str, str]:
    return {
        "PULUMI_BACKEND_URL": f"file://{spec['state']}",
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_HOME": spec["pulumi_home"],
        # Plugins come from engine/build.sh only: never downloaded, never found on PATH.
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_SKIP_CONFIRMATIONS": "true",
        # Regions with `kind: kubeconfig` get theirs from the stack config; `kind: context` regions name a context
        # of this file (the operator's own kubeconfig in production), which the tests write. Nothing ambient.
        "KUBECONFIG": spec.get("kubeconfig") or os.devnull,
    }


def program() -> None:
    main = ROOT / "__main__.py"
    exec(compile(main.read_text(encoding="utf-8"), str(main), "exec"), {"__name__": "__main__", "__file__": str(main)})


def stack_of(spec: dict[str, Any]) -> auto.Stack:
    env = engine_env(spec)
    os.environ.update(env)  # the inline program's own process (the providers inherit nothing from it)
    opts = auto.LocalWorkspaceOptions(
        work_dir=spec["work"],
        pulumi_home=spec["pulumi_home"],
        pulumi_command=auto.PulumiCommand(root=spec["pulumi_root"]),
        env_vars=env,
        project_settings=auto.ProjectSettings(
            name=PROJECT, runtime="python", backend=auto.ProjectBackend(url=env["PULUMI_BACKEND_URL"])
        ),
        secrets_provider="passphrase",
    )
    stack = auto.create_or_select_stack(stack_name=spec["stack"], project_name=PROJECT, program=program, opts=opts)
    stack.set_all_config({k: auto.ConfigValue(value=v, secret=bool(s)) for k, (v, s) in spec["config"].items()})
    return stack


def run(spec: dict[str, Any]) -> dict[str, Any]:
    stack = stack_of(spec)
    steps: list[list[str]] = []
    # The engine's own error diagnostics, whole and per resource: the CommandError text is the tail of the
    # run's output, and on a large stack the outputs push the cause out of it.
    diagnostics: list[dict[str, str]] = []

    def on_event(event: auto.EngineEvent) -> None:
        diag = event.diagnostic_event
        if diag is not None and diag.severity == "error":
            diagnostics.append({"urn": diag.urn or "", "message": diag.message})
        pre = event.resource_pre_event
        if pre is not None and pre.metadata.op not in (auto.OpType.SAME, auto.OpType.READ):
            steps.append([pre.metadata.op.value, pre.metadata.urn])

    op, started = spec["op"], time.monotonic()
    out: dict[str, Any] = {"op": op, "ok": True}
    try:
        if op == "preview":
            result: Any = stack.preview(on_event=on_event, expect_no_changes=bool(spec.get("expect_no_changes")))
            out["summary"] = {k.value if hasattr(k, "value") else str(k): v for k, v in result.change_summary.items()}
        elif op == "up":
            result = stack.up(on_event=on_event)
            out["summary"] = dict(result.summary.resource_changes or {})
        elif op == "destroy":
            result = stack.destroy(on_event=on_event)
            out["summary"] = dict(result.summary.resource_changes or {})
        elif op == "export":
            # The deployment with every secret decrypted, into a 0600 file the test reads (never printed).
            env = {**os.environ, **engine_env(spec)}
            target = Path(spec["export_to"])
            target.touch(mode=0o600)
            subprocess.run(
                [f"{spec['pulumi_root']}/bin/pulumi", "stack", "export", "--show-secrets", "--stack", spec["stack"],
                 "--file", str(target)],
                cwd=spec["work"], env=env, check=True, capture_output=True,
            )  # fmt: skip
        else:
            raise ValueError(f"unknown op {op!r}")
    except auto.CommandError as exc:
        out["ok"] = False
        out["error"] = str(exc)[-6000:]
    out["steps"] = sorted(steps)
    out["diagnostics"] = diagnostics
    out["seconds"] = round(time.monotonic() - started, 1)
    return out


if __name__ == "__main__":
    print(json.dumps(run(json.loads(Path(sys.argv[1]).read_text()))))
