"""What each part of app/ may import, checked on the source.

The rule, from the top down (a module may import its own group and anything in a lower row,
never a higher row nor another group of its own row):

    app.asgi | app.cli                        the processes' entry points
    app.main | app.backup                     the app factory; backups
    app.api                                   HTTP: routes, dependencies, problem details
    app.export                                the evidence pack (may use the services)
    app.services                              the domain: rules, queries, audit
    app.keys | app.throttle | app.migrations
    app.db | app.models | app.storage         tables; blobs and their encryption
    app.config | app.errors | app.logs
    app                                       the package itself (its version)

and, whatever the layers:
- no import circle between modules of app/;
- the web framework (fastapi, starlette) is imported only in app.api and app.main (the app
  factory wires the routers and middleware into the FastAPI app);
- `cryptography` and `hmac` only in app.storage.crypto, so every primitive is in one file
  (plain SHA-256 digests of content, tokens and the audit chain use hashlib where they are);

Every import statement counts: those inside functions (the app imports heavy modules on first
use, for memory) and those under TYPE_CHECKING are as much a dependency as any other.

Why a short ast walk rather than import-linter or grimp: the rule fits in a table, the check
needs no dependency (and no lock change), it reads every import wherever it is, and it can say
exactly which line breaks the rule.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("app.asgi", "app.cli"),
    ("app.main", "app.backup"),
    ("app.api",),
    ("app.export",),
    ("app.services",),
    ("app.keys", "app.throttle", "app.migrations"),
    ("app.db", "app.models", "app.storage"),
    ("app.config", "app.errors", "app.logs"),
    ("app",),
)

# Third-party (and standard library) packages only some groups may import.
RESTRICTED: dict[str, tuple[str, ...]] = {
    "fastapi": ("app.api", "app.main"),
    "starlette": ("app.api", "app.main"),
    "cryptography": ("app.storage.crypto",),
    "hmac": ("app.storage.crypto",),
}

# Circles being taken apart by work in progress elsewhere; each entry must still be a circle
# (the test says when one can go).
ALLOWED_CIRCLES: tuple[frozenset[str], ...] = ()


@dataclass(frozen=True)
class Import:
    importer: str
    imported: str  # a module of app/, or a top-level package outside it
    line: int


def _module_name(path: Path) -> str:
    parts = path.relative_to(APP.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(APP.rglob("*.py"))}


def _imports(modules: dict[str, Path]) -> Iterator[Import]:
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    yield _resolved(name, alias.name, node.lineno, modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                for alias in node.names:
                    # `from app.services import audit` imports the module app.services.audit.
                    submodule = f"{base}.{alias.name}"
                    target = submodule if submodule in modules else base
                    yield _resolved(name, target, node.lineno, modules)


def _resolved(importer: str, target: str, line: int, modules: dict[str, Path]) -> Import:
    if target.split(".")[0] != "app":
        return Import(importer, target.split(".")[0], line)
    while target not in modules:  # `import app.storage.crypto as x` names a module already
        target = target.rpartition(".")[0]
    return Import(importer, target, line)


def _group(module: str) -> tuple[int, str]:
    """The row and the group a module of app/ belongs to (the longest matching prefix)."""
    best: tuple[int, str] | None = None
    for row, groups in enumerate(LAYERS):
        for group in groups:
            if (module == group or module.startswith(group + ".")) and (
                best is None or len(group) > len(best[1])
            ):
                best = (row, group)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def _in(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _edges() -> dict[str, set[str]]:
    modules = _modules()
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for found in _imports(modules):
        if found.imported in modules and found.imported != found.importer:
            edges[found.importer].add(found.imported)
    return edges


def _circles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The graph's strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(edges[node]):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.add(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer() -> None:
    for module in _modules():
        _group(module)


def test_no_module_imports_a_higher_layer_or_a_sibling_group() -> None:
    broken = []
    for found in _imports(_modules()):
        if found.imported.split(".")[0] != "app":
            continue
        row, group = _group(found.importer)
        target_row, target_group = _group(found.imported)
        if target_row < row or (target_row == row and target_group != group):
            broken.append(f"{found.importer}:{found.line} imports {found.imported}")
    assert not broken, "imports against the layers (see this file's docstring):\n" + "\n".join(
        broken
    )


def test_restricted_packages_are_imported_only_where_allowed() -> None:
    broken = [
        f"{found.importer}:{found.line} imports {found.imported} "
        f"(only {', '.join(RESTRICTED[found.imported])} may)"
        for found in _imports(_modules())
        if found.imported in RESTRICTED and not _in(found.importer, RESTRICTED[found.imported])
    ]
    assert not broken, "\n".join(broken)


def test_no_import_circles() -> None:
    circles = _circles(_edges())
    unexpected = [sorted(circle) for circle in circles if circle not in ALLOWED_CIRCLES]
    assert not unexpected, f"import circles in app/: {unexpected}"
    gone = [sorted(allowed) for allowed in ALLOWED_CIRCLES if allowed not in circles]
    assert not gone, f"no longer circles, take them out of ALLOWED_CIRCLES: {gone}"


def test_the_circle_check_finds_a_circle() -> None:
    """The check itself: a made-up graph with one circle of three and a tail."""
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set()}
    assert _circles(edges) == [frozenset({"a", "b", "c"})]
