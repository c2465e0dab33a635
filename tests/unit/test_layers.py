"""The import contract: the layers of docs/architecture.md, held against the code.

Every import counts, those inside functions and under ``TYPE_CHECKING`` too: a cycle hidden
behind a lazy import is still a cycle to whoever reads the code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "qmpshell"

# Each layer may import the layers before it in this list, and itself; the base modules
# (collector, errors, escape, limits, patterns, records) are below every layer.
LAYERS = ["protocol", "language", "session", "ui", "modes", "cli"]
BASE = {"collector", "errors", "escape", "limits", "patterns", "records"}
# What a layer may import besides the layers below it: language is pure, and knows
# nothing of the protocol.
FORBIDDEN = {"language": {"protocol"}}
TERMINAL_LIBRARIES = {"prompt_toolkit", "pygments"}


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def imports(name: str, path: Path) -> Iterator[tuple[str, int]]:
    """Every module ``name`` imports, absolute, with the line of the import."""
    is_package = path.name == "__init__.py"
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                stem = ".".join(base + ([node.module] if node.module else []))
            else:
                stem = node.module or ""
            yield stem, node.lineno
            for alias in node.names:  # from . import x: x may be a module
                yield f"{stem}.{alias.name}", node.lineno


def graph() -> dict[str, set[str]]:
    known = {name for name, _ in modules()}
    edges: dict[str, set[str]] = {}
    for name, path in modules():
        edges[name] = {dep for dep, _ in imports(name, path) if dep in known and dep != name}
    return edges


def layer_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return None


def test_every_module_is_in_a_layer_or_the_base() -> None:
    for name, _ in modules():
        parts = name.split(".")
        assert len(parts) == 1 or parts[1] in LAYERS or parts[1] in BASE | {"__main__"}, name


def test_no_import_cycles() -> None:
    edges = graph()
    # Packages import their own modules (re-exports), which is not a cycle through them.
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(edges[node]):
            if dep.startswith(node + "."):
                continue
            if state.get(dep) == 1:
                cycle = [*stack[stack.index(dep) :], dep]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if dep not in state:
                visit(dep)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)


@pytest.mark.parametrize(
    "name,path", list(modules()), ids=lambda v: v if isinstance(v, str) else ""
)
def test_imports_go_down_the_layers(name: str, path: Path) -> None:
    own = layer_of(name)
    if own is None:  # the package, the base modules, __main__
        allowed = set(LAYERS) if name in ("qmpshell", "qmpshell.__main__") else set()
    else:
        allowed = set(LAYERS[: LAYERS.index(own) + 1]) - FORBIDDEN.get(own, set())
    for dep, line in imports(name, path):
        top, _, rest = dep.partition(".")
        if top in TERMINAL_LIBRARIES:
            assert own == "ui", f"{path.name}:{line}: {top} outside the UI layer"
        if top == "libvirt":
            assert name == "qmpshell.protocol.libvirt_transport", f"{path.name}:{line}: libvirt"
        if top != "qmpshell" or not rest:
            continue
        target = rest.split(".")[0]
        if target in BASE or target == "__main__":
            continue
        assert target in allowed, f"{name} (line {line}) imports {dep}: against the layers"


def _private_names(tree: ast.AST) -> set[str]:
    """The private names a module defines: functions, classes, attributes, variables."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            found.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            found.add(node.id)
    return {name for name in found if name.startswith("_") and not name.startswith("__")}


# argparse lists its options only in a private attribute; one function reads it.
FOREIGN_PRIVATE = {("qmpshell.cli.options", "parser._actions")}


def test_no_private_name_crosses_a_module() -> None:
    """A module uses only its own private names: what another module offers, it offers
    by a public name (the transports report to a Sink, not to the client's insides)."""
    trees = {name: ast.parse(path.read_text(), str(path)) for name, path in modules()}
    own = {name: _private_names(tree) for name, tree in trees.items()}
    everyone = set().union(*own.values())
    crossings = []
    for name, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or node.module == "qmpshell"):
                crossings += [
                    f"{name}:{node.lineno} imports {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in everyone - own[name]
                and (name, ast.unparse(node)) not in FOREIGN_PRIVATE
            ):
                crossings.append(f"{name}:{node.lineno} uses {ast.unparse(node)}")
    assert not crossings, "\n".join(crossings)
