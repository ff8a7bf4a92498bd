"""The dependency arrows: core packages never load Qt; --help loads neither torch nor music21."""

import subprocess
import sys

import pytest

CORE_MODULES = ["app.music", "app.cli", "model"]


def _loaded_after(statement: str) -> set[str]:
    code = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("package", CORE_MODULES)
def test_core_package_does_not_load_qt(package):
    import importlib
    import pkgutil

    names = [package]
    mod = importlib.import_module(package)
    if hasattr(mod, "__path__"):
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules(mod.__path__)]
    statement = "\n".join(f"import {n}" for n in names)
    assert not any(m.startswith("PySide6") for m in _loaded_after(statement))


def test_help_imports_neither_torch_nor_music21():
    loaded = _loaded_after("import app.cli\napp.cli.build_parser()")
    assert "torch" not in loaded
    assert "music21" not in loaded


# ---------------------------------------------------------------- the import graph

def _import_graph() -> dict[str, set[str]]:
    """Map each module of app/ and model/ to the Ceol modules it imports (late imports too)."""
    import ast
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    modules = {}
    for top in ("app", "model"):
        for path in (root / top).rglob("*.py"):
            name = ".".join(path.relative_to(root).with_suffix("").parts)
            modules[name.removesuffix(".__init__")] = path

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                targets.update(f"{base}.{alias.name}" for alias in node.names)
                targets.add(base)
        resolved = {resolve(t) for t in targets}
        # A package's own __init__ is not an import of the package by its modules.
        graph[name] = {r for r in resolved if r and r != name and not name.startswith(r + ".")}
    return graph


def _layer(module: str) -> str:
    if module.startswith("model"):
        return "model"
    if module.startswith("app.music"):
        return "music"
    if module.startswith("app.ui") or module == "app.workers":
        return "ui"
    if module.startswith("app.cli"):
        return "cli"
    return "services"   # app.generation, app.library, app.settings, ...


# Who may import whom: the front ends (ui, cli) -> services -> music / model, never back;
# music and model do not know each other.
ALLOWED = {
    "model": {"model"},
    "music": {"music"},
    "services": {"services", "music", "model"},
    "cli": {"cli", "services", "music", "model"},
    "ui": {"ui", "services", "music", "model"},
}


def test_no_import_cycles_even_through_late_imports():
    graph = _import_graph()
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v: str) -> None:   # Tarjan's strongly connected components
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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
                cycles.append(sorted(component))

    for module in graph:
        if module not in index:
            visit(module)
    assert not cycles, f"import cycles: {cycles}"


def test_imports_point_one_way():
    wrong = sorted(f"{a} -> {b}" for a, targets in _import_graph().items() for b in targets
                   if _layer(b) not in ALLOWED[_layer(a)] and b != "app")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)
