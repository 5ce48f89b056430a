"""The pull-request workflow: valid for GitHub (actionlint), runs the suite, posts the offline review as one
comment per stack (updated in place on the next push), and runs `pulumi preview --diff` per stack only when
credentials exist."""

from __future__ import annotations

import json
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
    steps = jobs["offline-diff"]["steps"]
    diff = "\n".join(step.get("run", "") for step in steps)
    assert "tools.plan --diff" in diff and "--format review" in diff and "origin/${BASE_REF}" in diff
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "offline-plan" and "offline-plan" in diff, "the capped comment names the artifact"
    assert not any("sticky-pull-request-comment" in step.get("uses", "") for step in steps), "one comment for every stack"
    preview = jobs["pulumi-preview"]
    assert preview["strategy"]["matrix"]["stack"] == ["dev", "prod"]
    pulumi = next(s for s in preview["steps"] if s.get("uses", "").startswith("pulumi/actions@"))
    assert pulumi["with"]["command"] == "preview" and pulumi["with"]["diff"] is True
    assert pulumi["if"] == "steps.creds.outputs.available == 'true'"


def test_the_workflow_posts_one_comment_per_changed_stack_and_updates_its_own_in_place(tmp_path: Path):
    """The posting step, run as GitHub runs it (bash -e -o pipefail), against a stand-in `gh` recording its calls."""
    step = next(s for s in yaml.safe_load(WORKFLOW.read_text())["jobs"]["offline-diff"]["steps"] if "gh api" in s.get("run", ""))
    reviews = tmp_path / "review"
    reviews.mkdir()
    stacks = {"stacks/dev.yaml": 3, "stacks/prod.yaml": 5, "examples/a.yaml": 0, "examples/b.yaml": 0}  # changes per stack
    for stack, changes in stacks.items():
        (tmp_path / stack).parent.mkdir(exist_ok=True)
        (tmp_path / stack).write_text("environment: x\n")
        slug = stack.replace("/", "-").removesuffix(".yaml")
        (reviews / f"{slug}.md").write_text(f"<!-- kafka-multiregion review: {stack} -->\nbody of {stack}\n")
        (reviews / f"{slug}.json").write_text(json.dumps({"totals": {"create": changes, "delete": 0}}))
    # Earlier pushes left comments for dev (changed then and now), examples/b (changed then, not now) and
    # examples/old (a stack file this pull request has since removed), among others' comments.
    existing = (
        "11\t<!-- kafka-multiregion review: stacks/dev.yaml -->\n12\tLooks good to me\n"
        "14\t<!-- kafka-multiregion review: examples/b.yaml -->\n15\t<!-- kafka-multiregion review: examples/old.yaml -->\n"
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(
        "#!/bin/bash\n"
        'printf \'%s\\n\' "$*" >> "$GH_LOG"\n'
        'if [[ "$*" == *--paginate* ]]; then printf "$EXISTING"; fi\n'
        'for a in "$@"; do [[ "$a" == body=@* ]] && cat "${a#body=@}" >> "$GH_LOG"; done\n'
        "exit 0\n"
    )
    (bin_dir / "gh").chmod(0o755)
    log = tmp_path / "gh.log"
    env = {**os.environ, **step["env"], "PATH": f"{bin_dir}:{os.environ['PATH']}", "GH_LOG": str(log), "EXISTING": existing}
    env |= {"GH_TOKEN": "t", "PR": "7", "REPO": "o/r"}
    result = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    calls = log.read_text().splitlines()[1:]  # after the listing of existing comments
    assert calls == [
        "api --method PATCH repos/o/r/issues/comments/14 -F body=@review/examples-b.md",
        "<!-- kafka-multiregion review: examples/b.yaml -->",
        "body of examples/b.yaml",
        "api --method PATCH repos/o/r/issues/comments/11 -F body=@review/stacks-dev.md",
        "<!-- kafka-multiregion review: stacks/dev.yaml -->",
        "body of stacks/dev.yaml",
        "api --method POST repos/o/r/issues/7/comments -F body=@review/stacks-prod.md",
        "<!-- kafka-multiregion review: stacks/prod.yaml -->",
        "body of stacks/prod.yaml",
        "api --method PATCH repos/o/r/issues/comments/15 -F body=@gone.md",
        "<!-- kafka-multiregion review: examples/old.yaml -->",
        "**examples/old.yaml** is no longer in this branch: nothing is planned for it (its Pulumi stack is not destroyed by that).",
    ], "examples/a is unchanged and had no comment: none is added"
