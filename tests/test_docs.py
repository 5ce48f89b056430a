"""The documentation cannot go stale: README.md and docs/ are held to what the code does.

Every fenced block names its language; every YAML block is checked as the comment on the line before it says
(``<!-- check: topology -->``, ``<!-- check: stack settings -->``, or ``<!-- check: same as FILE -->``, which
any block may say); every command of an ``sh`` block that needs no cloud is run, in order, in a scratch copy of
the stack files, and must succeed (``make`` targets that are the test suites themselves, or that write into the
repository, are checked with ``make -n``; programs that need a cloud account, a Pulumi backend or the network are
never run); every ``pulumi config set`` names a setting the program reads; every relative link, and its anchor,
exists. docs/testing.md describes these conventions for writers.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
import yaml

from components.providers import AWS_SETTINGS
from stacks.loader import load_topology, parse_yaml, validate_data
from stacks.model import ContextAccess
from tests.conftest import ROOT, STACK_FILES

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
DOC_IDS = [str(p.relative_to(ROOT)) for p in DOCS]
MARKER = re.compile(r"^<!-- check: (.+) -->$")
STACK_SETTINGS_FILE_KEYS = {"config", "encryptionsalt", "secretsprovider", "encryptedkey"}
# make targets run for real: quick, and they write only out/ (ignored by git).
MAKE_RUN = {"preview", "validate"}
# Programs that need a cloud account, a Pulumi backend or the network (registries): checked, never run.
NEEDS_CLOUD = {"pulumi", "curl", "aws", "kubectl", "helm", "git", "go", "npm", "npx", "pip"}


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence, 1-based
    language: str
    text: str
    marker: str | None

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}"


def blocks(doc: Path) -> list[Block]:
    lines = doc.read_text().splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            start, language = i, lines[i][3:].strip()
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            found = MARKER.match(lines[start - 1]) if start > 0 else None
            out.append(Block(doc, start + 1, language, "\n".join(lines[start + 1 : end]) + "\n", found[1] if found else None))
            i = end + 1
        else:
            i += 1
    return out


ALL_BLOCKS = [b for doc in DOCS for b in blocks(doc)]
YAML_BLOCKS = [b for b in ALL_BLOCKS if b.language == "yaml"]


def test_every_fenced_block_says_what_it_holds():
    # An unnamed block could hide YAML or commands from the checks below; `text` is for output.
    unnamed = [b.where for b in ALL_BLOCKS if not b.language]
    assert not unnamed, f"name each block's language (yaml, sh, text, json, python...): {unnamed}"


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if (b.marker or "").startswith("same as ")], ids=lambda b: b.where)
def test_a_block_that_says_it_is_a_file_is_that_file(block):
    path = ROOT / str(block.marker).removeprefix("same as ")
    assert block.text == path.read_text(), f"{block.where} is not {path.relative_to(ROOT)} as it is now"


def test_the_readme_starts_with_the_two_commands():
    first = blocks(ROOT / "README.md")[0]
    commands = [line.split("#")[0].strip() for line in first.text.splitlines() if line.split("#")[0].strip()]
    assert first.line == 3 and commands == ["make preview", "make test"]


# ----------------------------------------------------------------------------------------- YAML


@pytest.mark.parametrize("block", YAML_BLOCKS, ids=[b.where for b in YAML_BLOCKS])
def test_every_yaml_block_is_what_its_marker_says(block):
    assert block.marker is not None, (
        f"{block.where}: say what the block is: <!-- check: topology --> (or same as FILE, stack settings)"
    )
    if block.marker == "topology":
        topology = validate_data(parse_yaml(block.text.encode(), block.where), block.where)  # raises with every problem
        assert topology.regions
        schema = json.loads((ROOT / "stacks/topology.schema.json").read_text())
        problems = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(yaml.safe_load(block.text))]
        assert not problems, f"{block.where}: the editor's schema refuses what the validator takes: {problems}"
    elif block.marker.startswith("same as "):
        pass  # test_a_block_that_says_it_is_a_file_is_that_file
    elif block.marker == "stack settings":
        _check_stack_settings(block)
    else:
        pytest.fail(f"{block.where}: unknown check {block.marker!r}")


def _declared_settings() -> set[str]:
    return set(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"])


def _check_stack_settings(block: Block) -> None:
    data = yaml.safe_load(block.text)
    assert set(data) <= STACK_SETTINGS_FILE_KEYS, f"{block.where}: not a Pulumi.<stack>.yaml: {sorted(data)}"
    config = data["config"]
    topology = load_topology(ROOT / config["kafka-multiregion:topology"])
    kubeconfigs = {r.kubernetes.secret_key for r in topology.regions if not isinstance(r.kubernetes, ContextAccess)}
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace == "aws":
            assert name in AWS_SETTINGS, f"{block.where}: {key} is not an aws: setting the program's providers take"
        else:
            assert namespace == "kafka-multiregion" and name in _declared_settings() | kubeconfigs, f"{block.where}: {key}"
        if name in kubeconfigs:
            assert isinstance(value, dict) and set(value) == {"secure"}, f"{block.where}: {key} must be shown encrypted"
    assert {f"kafka-multiregion:{k}" for k in kubeconfigs} <= set(config), f"{block.where}: a region's kubeconfig is missing"


def test_every_json_block_parses():
    for block in (b for b in ALL_BLOCKS if b.language == "json"):
        json.loads(block.text)


# ----------------------------------------------------------------------------------------- commands


def commands(doc: Path) -> list[tuple[str, str]]:
    """(where, command) for every line of the doc's sh blocks, continuations joined, comments dropped."""
    out = []
    for block in (b for b in blocks(doc) if b.language == "sh"):
        pending = ""
        for offset, raw in enumerate(block.text.splitlines()):
            line = pending + raw
            if line.endswith("\\"):
                pending = line[:-1]
                continue
            pending = ""
            if shlex.split(line, comments=True):
                out.append((f"{block.where}+{offset + 1}", line.strip()))
    return out


def needs_cloud(words: list[str]) -> bool:
    if words[0] in NEEDS_CLOUD:
        return True
    if words[:3] == ["python", "-m", "tools.failover"]:
        # Route53 and Kafka, except --offline and --help, which read only the stack.
        return "--offline" not in words and "--help" not in words
    return False


def _sandbox(tmp: Path) -> Path:
    """The repository's stack files, copied: a command may write next to them (cp, --out) without touching ours."""
    for folder in ("stacks", "examples"):
        shutil.copytree(ROOT / folder, tmp / folder)
    for settings in ROOT.glob("Pulumi*.yaml"):
        shutil.copy(settings, tmp / settings.name)
    return tmp


COMMAND_DOCS = [doc for doc in DOCS if commands(doc)]


@pytest.mark.parametrize("doc", COMMAND_DOCS, ids=[str(p.relative_to(ROOT)) for p in COMMAND_DOCS])
def test_every_command_that_needs_no_cloud_runs(doc, tmp_path):
    found = commands(doc)
    sandbox = _sandbox(tmp_path)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(ROOT),
    }
    for where, command in found:
        words = shlex.split(command, comments=True)
        if needs_cloud(words):
            if words[:3] == ["pulumi", "config", "set"]:
                _check_config_set(where, words)
            continue
        if words[0] == "make":
            targets = words[1:]
            run_it = set(targets) <= MAKE_RUN
            argv = ["make", "-C", str(ROOT), *([] if run_it else ["-n"]), *targets]
            result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
        elif words[:2] == ["python", "-m"] or words[0] == "cp":
            result = subprocess.run(
                ["bash", "-c", command], cwd=sandbox, env=env, capture_output=True, text=True, timeout=300, check=False
            )
        else:
            pytest.fail(f"{where}: `{command}`: say whether it needs the cloud (NEEDS_CLOUD) or how to run it here")
        assert result.returncode == 0, f"{where}: `{command}` exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
        assert "Traceback" not in result.stderr, f"{where}: `{command}`:\n{result.stderr}"


def _check_config_set(where: str, words: list[str]) -> None:
    """A documented `pulumi config set` names a setting the program reads, and a secret one with --secret."""
    args = [w for w in words[3:] if w not in ("--secret", "--path") and not w.startswith("--stack")]
    key = re.split(r"[.\[]", args[0], maxsplit=1)[0]
    kubeconfigs = {
        r.kubernetes.secret_key
        for path in STACK_FILES
        for r in load_topology(path).regions
        if not isinstance(r.kubernetes, ContextAccess)
    }
    namespace, _, name = key.rpartition(":")
    if namespace == "aws":
        assert name in AWS_SETTINGS, f"{where}: {key} is not an aws: setting the program's providers take"
        return
    assert name in _declared_settings() | kubeconfigs, f"{where}: {key} is not a setting the program reads"
    if name in kubeconfigs or name == "registryClientSecrets":
        assert "--secret" in words, f"{where}: {key} is a secret: set it with --secret"


# ----------------------------------------------------------------------------------------- links

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchors(doc: Path) -> set[str]:
    """GitHub's heading anchors: lowercase, punctuation but '-' and '_' dropped, spaces to '-'."""
    out = set()
    for line in doc.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            out.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return out


@pytest.mark.parametrize("doc", DOCS, ids=DOC_IDS)
def test_every_relative_link_and_anchor_exists(doc):
    text = re.sub(r"```.*?```|`[^`\n]*`", "", doc.read_text(), flags=re.DOTALL)  # code is not a link
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # a URL
        path, _, anchor = target.partition("#")
        linked = (doc.parent / path).resolve() if path else doc
        assert linked.exists(), f"{doc.name}: link to {target}: no such file"
        if anchor:
            assert anchor in _anchors(linked), f"{doc.name}: link to {target}: no such heading in {linked.name}"
