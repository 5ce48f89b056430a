"""The layout's two promises, checked on the source: no import cycles, and flavor-neutral code that reaches a
flavor or an engine only through ``components.variants``.

Owns: a graph of every ``import``/``from … import`` in ``components``, ``stacks``, ``tools`` and ``provider``
(function-level imports too: a cycle hidden in a function is still a cycle; ``if TYPE_CHECKING:`` imports are not
edges, since they never run), its strongly connected components, and the list of modules that must stay neutral.

Deliberately not here: what the variants do (their own tests) and the toy engine that shows the registry works
(``tests/test_variants.py``).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("components", "stacks", "tools", "provider")
# The composition's edges, which declare every variant's stack settings and package inputs by name
# (strimziChart, cfkChart: the Pulumi config and the package schema list them statically).
COMPOSITION_EDGES = {"components.settings", "components.package", "components.variants"}
VARIANT_FOLDERS = ("components.flavors", "components.engines")
SEAMS = {"components.flavors.base", "components.engines.base", "components.flavors", "components.engines"}


def _modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            out[name.removesuffix(".__init__")] = path
    return out


MODULES = _modules()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in MODULES}


GRAPH = {name: _imports(path) - {name} for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_cycle_through_a_function_level_import():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_imports_itself_back_through_others():
    assert _cycles(GRAPH) == [], "import cycles (break them by moving the shared piece to the module that owns it)"


def _neutral(name: str) -> bool:
    return (
        name.startswith("components.")
        and not name.startswith(tuple(f"{folder}." for folder in VARIANT_FOLDERS))
        and name not in SEAMS | COMPOSITION_EDGES
    )


def _variant_module(name: str) -> bool:
    return name.startswith(tuple(f"{folder}." for folder in VARIANT_FOLDERS)) and name not in SEAMS


def test_flavor_neutral_modules_reach_flavors_and_engines_only_through_the_registry():
    neutral = [name for name in GRAPH if _neutral(name)]
    assert "components.registry" in neutral and "components.pki" in neutral  # the list is the one meant
    reaching = {name: sorted(d for d in GRAPH[name] if _variant_module(d)) for name in neutral}
    assert {name: deps for name, deps in reaching.items() if deps} == {}


def test_a_flavor_never_imports_another_flavor():
    flavors = {name.split(".")[2] for name in GRAPH if name.startswith("components.flavors.") and name not in SEAMS}
    crossing = {
        name: sorted(d for d in GRAPH[name] if d.startswith("components.flavors.") and d.split(".")[2] != name.split(".")[2])
        for name in GRAPH
        if name.startswith("components.flavors.") and name not in SEAMS
    }
    assert flavors >= {"strimzi", "confluent"}
    assert {n: d for n, d in crossing.items() if [x for x in d if x not in SEAMS]} == {}


def test_the_tree_in_docs_layout_names_files_that_exist():
    tree = (ROOT / "docs" / "layout.md").read_text().split("```text\n", 1)[1].split("```", 1)[0]
    named: list[Path] = []
    top = ROOT
    for line in tree.splitlines():
        nested = line.startswith(" ")
        words = line.strip().split("  ")[0].split()  # what a line names; two spaces start its comment
        if not nested:
            top = ROOT / words[0] if words[0].endswith("/") else ROOT
            named += [ROOT / w for w in words]
            continue
        folder = top / words[0] if words[0].endswith("/") else top
        named += [folder] + [folder / w for w in words if not w.endswith("/")]
    missing = sorted(str(n.relative_to(ROOT)) for n in named if not n.exists())
    assert len(named) > 40 and missing == []
