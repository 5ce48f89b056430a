"""The pull-request workflow: valid for GitHub (actionlint), runs the suite, posts the offline diff, and runs
`pulumi preview --diff` per stack only when credentials exist."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "preview.yml"


def _actionlint() -> str:
    local = ROOT / ".venv" / "bin" / "actionlint"
    found = str(local) if local.exists() else shutil.which("actionlint")
    if not found:
        if os.environ.get("KMR_REQUIRE_E2E"):
            pytest.fail("actionlint is missing: `make test` installs it with `go install`; is Go on this machine?")
        pytest.skip("actionlint not installed (needs Go): run `make test`")
    return found


def test_actionlint_finds_nothing_wrong_with_the_workflow():
    result = subprocess.run([_actionlint(), str(WORKFLOW)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path: Path):
    broken = WORKFLOW.read_text().replace("runs-on: ubuntu-latest", "runs-on: ${{ matrix.nope }}", 1)
    path = tmp_path / "broken.yml"
    path.write_text(broken)
    result = subprocess.run([_actionlint(), str(path)], capture_output=True, text=True, check=False)
    assert result.returncode != 0


def test_the_workflow_tests_diffs_offline_and_previews_only_with_credentials():
    wf = yaml.safe_load(WORKFLOW.read_text())
    assert "pull_request" in wf[True]  # YAML reads the key `on` as True
    jobs = wf["jobs"]
    assert any(step.get("run") == "make test" for step in jobs["test"]["steps"])
    diff = "\n".join(step.get("run", "") for step in jobs["offline-diff"]["steps"])
    assert "tools.plan --diff" in diff and "origin/${BASE_REF}" in diff
    assert any("sticky-pull-request-comment" in step.get("uses", "") for step in jobs["offline-diff"]["steps"])
    preview = jobs["pulumi-preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    pulumi = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["diff"] is True
    assert pulumi["if"] == "steps.creds.outputs.available == 'true'"
