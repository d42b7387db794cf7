"""The import graph of the package and the dependencies dvc.yaml declares, checked statically.

Dependencies point one way: no import cycles (function-level imports included: they are cycles
too, only deferred), the library never imports the CLI, and each DVC stage lists as deps every
part of ``lce`` its script reaches, so editing any code a stage runs re-runs that stage.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


@cache
def modules() -> dict[str, Path]:
    found = {}
    for path in sorted((ROOT / "lce").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _resolve(name: str) -> str | None:
    while name and name not in modules():
        name = name.rpartition(".")[0]
    return name or None


def imports_of(path: Path) -> set[str]:
    """The ``lce`` modules a file imports, at any depth of the file (lazy imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {_resolve(a.name) for a in node.names if a.name.split(".")[0] == "lce"}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "lce":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                found.add(full if full in modules() else _resolve(node.module))
    return found - {None}


@cache
def graph() -> dict[str, frozenset[str]]:
    return {name: frozenset(imports_of(path) - {name}) for name, path in modules().items()}


def reachable(start: set[str]) -> set[str]:
    seen, todo = set(), list(start)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += graph()[name]
    return seen


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph()[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while (w := stack.pop()) != v:
                on_stack.discard(w)
                component.append(w)
            on_stack.discard(v)
            if component:
                found.append(sorted([v, *component]))

    for name in sorted(graph()):
        if name not in index:
            visit(name)
    return found


def test_the_package_has_no_import_cycle():
    assert cycles() == []


def test_the_library_never_imports_the_cli():
    offenders = {name: sorted(d for d in deps if d.split(".")[:2] == ["lce", "cli"])
                 for name, deps in graph().items()
                 if name.split(".")[:2] != ["lce", "cli"] and name != "lce.__main__"}
    assert {k: v for k, v in offenders.items() if v} == {}


def _covered(module: str, deps: list[str]) -> bool:
    path = modules()[module].relative_to(ROOT).as_posix()
    return any(path == dep or path.startswith(dep.rstrip("/") + "/") for dep in deps)


def test_each_stage_depends_on_all_the_code_it_runs():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    missing = {}
    for name, stage in stages.items():
        body = stage.get("do", stage)
        script = ROOT / body["cmd"].split()[1]
        deps = [d for d in body.get("deps", []) if not d.startswith("${")]
        assert script.relative_to(ROOT).as_posix() in deps, f"{name}: its own script"
        nested = [d for d in deps if any(d != o and d.startswith(o.rstrip("/") + "/")
                                         for o in deps)]
        assert nested == [], f"{name}: deps inside other deps"
        code = {m for m in reachable(imports_of(script)) if m != "lce"}
        if lacking := sorted(modules()[m].relative_to(ROOT).as_posix()
                             for m in code if not _covered(m, deps)):
            missing[name] = lacking
    assert missing == {}
